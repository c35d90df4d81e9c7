//! `fork`: the child gets a runtime of its own.
//!
//! In the child only the forking thread exists: the workers, the monitor,
//! spares and blocking threads are gone, every lock they held stays held,
//! the run queues and fd waiters name coroutines that will never run, and
//! the epoll sets are shared with the parent. The atfork child handler
//! (registered at load time, so it runs before the program's own child
//! handlers) rebuilds, on the forking coroutine (the *survivor*):
//!
//! 1. glibc's thread list: a coroutine with a descriptor of its own (green
//!    thread, `main`) was current, so glibc took the worker's descriptor
//!    for a dead thread's and linked the coroutine's (see `green::tls`);
//! 2. fresh state wherever the parent's threads left theirs (pollers and
//!    their fds, the fd table, the parking lot, stack and block pools,
//!    blocking pool, green-thread registry, the runtime's queues and
//!    timers; [`crate::sync::PerProcess`]). The parent's contents are
//!    leaked, never dropped: dropping a suspended coroutine would run it;
//! 3. then suspends with [`Request::Forked`]: the worker loop (still the
//!    parent's, on this thread) leaves for good, and the thread carries on
//!    as the same slot of the child's runtime, starts the other workers and
//!    the monitor, and resumes the survivor, which returns from `fork`.
//!
//! The survivor becomes the child's main coroutine (signals sent to the
//! process go to it); when it ends, the child ends, as a process forked by
//! a thread ends with that thread. A fork outside a coroutine (a plain
//! thread of the program) and the `fork` behind our `vfork` (the child only
//! execs or exits) leave the child without a runtime: hooks call straight
//! through there, as without the library.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::coro::{self, Request};

/// The coroutine inside our `vfork`, or 0.
static VFORKING: AtomicUsize = AtomicUsize::new(0);

/// Runs `fork` for a `vfork` of the calling coroutine: its child gets no
/// runtime (it may only exec or `_exit`).
pub(crate) fn fork_for_vfork() -> libc::pid_t {
    VFORKING.store(coro::current_ptr() as usize, Ordering::Relaxed);
    // SAFETY: fork has no preconditions; it returns in parent and child.
    let pid = unsafe { libc::fork() };
    VFORKING.store(0, Ordering::Relaxed);
    pid
}

/// The atfork child handler.
pub(crate) extern "C" fn after_fork_child() {
    let t = coro::current_ptr();
    if crate::hooks::serving() && !crate::sched::started() && (!t.is_null() || crate::sched::main_awaits_company()) {
        // Before the runtime started, `main` forked (a plain function, or
        // a task not yet running on the runtime) and no thread of the
        // runtime existed: the child's copy is whole (a shell forks for
        // every command it runs; renewing would cost each child what it
        // never needs), and the child's `main` is as its parent's, taken
        // over at its own first company (stress-ng's instances, children
        // of a lone parent, made OS threads when such a child was left
        // without a runtime). Only the parking lot may be held by a plain
        // thread of the program that did not come along.
        crate::sync::lot::forget_after_fork();
        return;
    }
    let vfork = VFORKING.load(Ordering::Relaxed) == t as usize;
    if t.is_null() || vfork || !crate::hooks::serving() || crate::sched::try_runtime().is_none() {
        crate::hooks::mark_forked();
        return;
    }
    let Some(task) = coro::current_task() else { return };
    if crate::signal::overflow::check_depth(&task, 0) == crate::signal::overflow::Depth::Foreign {
        // Not the coroutine's stack: a thread made with a raw clone that
        // shares the worker's thread pointer forked. No runtime here.
        crate::hooks::mark_forked();
        return;
    }
    let Some(slot) = crate::sched::worker::current_worker() else {
        crate::hooks::mark_forked();
        return;
    };
    let in_hook = task.in_hook();
    // Our own calls below (thread names, allocations) go straight to libc.
    task.set_in_hook(true);
    if let Some(l) = crate::glibc::tls::layout() {
        let me = crate::sys::thread_pointer();
        if let Some(own) = crate::sched::worker::loop_thread_pointer().filter(|&tp| tp != me) {
            // SAFETY: the worker's descriptor, which its loop goes on using.
            let tid = unsafe { l.tid_of(own) };
            crate::debug!("forked child: keeping the worker's own descriptor (glibc left tid {tid})");
            // SAFETY: as above.
            unsafe { l.reclaim_after_fork(own) };
        }
        if task.is_green() {
            // SAFETY: the running green thread's descriptor, on the only thread.
            unsafe { l.unlink_after_fork(me) };
        }
    }
    let was_main = crate::sched::is_main_task(std::sync::Arc::as_ptr(&task));
    crate::reactor::poller::forget_after_fork();
    crate::reactor::forget_after_fork();
    crate::reactor::blocking::forget_after_fork();
    crate::sync::lot::forget_after_fork();
    crate::coro::stack::forget_after_fork();
    task.forget_joiners_after_fork();
    crate::green::after_fork(&task, was_main);
    crate::glibc::setxid::forget_after_fork();
    coro::set_live_after_fork();
    // SAFETY: the atfork child handler: this is the only thread.
    unsafe { coro::debug::after_fork(task.debug_node()) };
    let coro::stack::Bounds { bottom, top, .. } = task.stack_bounds();
    crate::stats::forget_after_fork(top.saturating_sub(bottom));
    crate::sched::renew_after_fork(&task, slot);
    crate::debug!("forked child: worker {slot} goes on with the forking coroutine");
    drop(task);
    coro::suspend(Request::Forked);
    // SAFETY: t is the running task (we are on its stack again).
    unsafe { (*t).set_in_hook(in_hook) };
}
