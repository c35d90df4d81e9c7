//! `main` taken over as a task where it stands.
//!
//! Until the process first has company `main` is a plain function on the
//! main thread and nothing of the runtime exists. Its first
//! `pthread_create` or `opencoro_spawn` ([`super::start`]) takes it over:
//! [`crate::arch::switch`] suspends it, on the main thread's own stack,
//! into a new context where worker 0's loop runs on a stack and descriptor
//! of its own ([`main_loop`]); the loop continues `main` from its queue
//! like any task (`coro::Body::Adopted`). When `main` returns
//! ([`main_returns`]) it suspends for good, the loop ends and switches the
//! main thread back to it, as a plain thread, for `exit`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam_deque::Worker;

use super::{main_task, main_thread, own_descriptors, runtime, schedule, start_workers, started, worker, Runtime, MAIN, MAIN_TASK};
use crate::coro::Task;

/// `main` was taken over as a task (see [`adopt_main`]).
static ADOPTED: AtomicBool = AtomicBool::new(false);

/// The thread descriptor the program's `main` runs on, once the preload's
/// trampoline called it (0 before): the process's first company may take
/// `main` over. A forked child's only thread keeps its descriptor, so a
/// child of a lone `main` knows it is one.
static MAIN_ENTERED: AtomicUsize = AtomicUsize::new(0);

/// Says that the program's `main` now runs on the main thread, as a plain
/// function: nothing of the runtime runs until the process has company.
pub fn main_entered(tp: usize) {
    MAIN_ENTERED.store(tp, Ordering::Relaxed);
}

/// Has `main` been taken over as a task?
fn main_adopted() -> bool {
    ADOPTED.load(Ordering::Relaxed)
}

/// Is the caller `main`, still a plain function (on the main thread's
/// descriptor, outside any coroutine), that the process's first company
/// ([`start`]) would take over as a task?
pub fn main_awaits_company() -> bool {
    let tp = MAIN_ENTERED.load(Ordering::Relaxed);
    tp != 0 && !started() && tp == crate::sys::thread_pointer() && !crate::coro::in_coroutine()
}

/// Size of the stack worker 0's loop runs on once `main` is a task: the
/// loop, and the program's signal handlers when they interrupt it (the
/// main thread's own stack stays `main`'s). Pages are used as touched.
const MAIN_LOOP_STACK: usize = 8 << 20;

/// What worker 0's loop starts with ([`main_loop`]).
struct LoopStart {
    rt: &'static Runtime,
    deque: Worker<Arc<Task>>,
    main: Arc<Task>,
    main_tp: usize,
    loop_tp: Option<(&'static crate::glibc::tls::Layout, usize)>,
}

/// Takes the running `main` over as a task, in place, on the main thread's
/// own stack, when the process first has company: the main thread becomes
/// worker 0, whose loop gets a stack (and a descriptor) of its own, and
/// `main` from here on suspends in its calls like any coroutine and may be
/// continued by whichever thread runs worker 0's queue. Until now `main`
/// was a plain function and the process paid nothing for the runtime: no
/// task, no loop, no second stack (a shell script of short programs runs
/// as natively). The caller is `main` ([`main_awaits_company`]). Returns
/// false where `main` cannot be taken over (no room for the loop's stack,
/// glibc's view of the main thread's stack unreadable; the last step that
/// can fail comes before anything is changed): then every worker is a
/// thread of ours and `main` stays a plain thread, as when the process's
/// first company is not `main`'s (a constructor, another thread).
pub(super) fn adopt_main(rt: &'static Runtime) -> bool {
    let Some(bounds) = main_thread_stack() else { return false };
    let Some(loop_stack) = crate::coro::stack::pool().take(MAIN_LOOP_STACK).ok() else { return false };
    let Some(deque) = rt.take_deque(0) else { return false };
    let t = Task::adopted(bounds, 0);
    t.debug_node().set_main();
    MAIN_TASK.store(Arc::as_ptr(&t) as usize, Ordering::Relaxed);
    let main_tp = crate::sys::thread_pointer();
    MAIN.get_or_init(|| (t.clone(), main_tp));
    crate::glibc::setxid::set_main_thread(main_thread());
    // Worker 0's loop runs on a descriptor of its own and `main` keeps the
    // main thread's: then `main`, like a green thread, has TLS that does
    // not depend on which OS thread runs it.
    let layout = own_descriptors();
    let loop_tp = layout.and_then(|l| l.thread_descriptor(crate::glibc::tls::fresh_tid()).map(|tp| (l, tp)));
    // What the loop would look up first, done here: on a fresh descriptor
    // a failed `dlsym` allocates, and the first `malloc` creates a malloc
    // arena (a 64 MiB reservation and its first pages).
    crate::coro::prime_cxa_lookup();
    if let Some((l, _)) = loop_tp {
        t.set_own_tp(main_tp);
        l.set_current(main_tp, Arc::as_ptr(&t) as usize);
    }
    schedule(t.clone());
    ADOPTED.store(true, Ordering::Relaxed);
    // The loop's stack lives as long as the process (the loop is left for
    // good only when `main` returns, on the way to `exit`): a `Stack` is a
    // handle, and its mapping stays when the handle goes.
    let top = loop_stack.top();
    let start = Box::into_raw(Box::new(LoopStart { rt, deque, main: t.clone(), main_tp, loop_tp }));
    // SAFETY: a fresh stack of ours; main_loop never returns.
    let to = unsafe { crate::arch::new_context(top, main_loop, start as usize) };
    // SAFETY: `t` is adopted, queued above, and this is its context; the
    // loop resumes it from its queue.
    unsafe { t.adopt_suspend(to) };
    t.deliver_pending();
    crate::debug!("main is a task now: the process has company");
    true
}

/// The main thread's stack as glibc describes it (top from the maps, size
/// from the soft `RLIMIT_STACK`), for the adopted `main`'s bounds: what
/// `pthread_getattr_np` reports for it, and where an overflow is recognised.
fn main_thread_stack() -> Option<crate::coro::stack::Bounds> {
    // SAFETY: attr is initialised by pthread_getattr_np and destroyed here.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let (mut addr, mut size) = (std::ptr::null_mut(), 0usize);
        let r = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        if r != 0 || addr.is_null() {
            return None;
        }
        let bottom = addr as usize;
        // An overflow report names the limit the program set (`ulimit -s`).
        let mut rl: libc::rlimit = std::mem::zeroed();
        let limit = if libc::getrlimit(libc::RLIMIT_STACK, &mut rl) == 0 && rl.rlim_cur != libc::RLIM_INFINITY { rl.rlim_cur as usize } else { size };
        Some(crate::coro::stack::Bounds { map_start: bottom, bottom, top: bottom + size, guarded: true, class: limit, thread_stack: true })
    }
}

/// Worker 0's loop, on its own stack, once `main` is a task: runs until
/// `main` returns, then gives the main thread back to it, on its own
/// descriptor, for `exit` ([`main_returns`]).
extern "C" fn main_loop(start: usize) -> ! {
    // SAFETY: adopt_main passed a leaked Box<LoopStart>.
    let LoopStart { rt, deque, main, main_tp, loop_tp } = *unsafe { Box::from_raw(start as *mut LoopStart) };
    if let Some((l, tp)) = loop_tp {
        // SAFETY: a fully initialised descriptor; from here this thread's
        // thread-locals are the loop's own.
        unsafe { crate::sys::set_thread_pointer(tp, l.fast_fs) };
        l.thread_start(false);
    }
    let body = std::panic::AssertUnwindSafe(|| worker::run(rt, 0, deque, Some(&main)));
    if std::panic::catch_unwind(body).is_err() {
        crate::diag!("internal error in worker 0's loop (a bug of opencoro, please report it); aborting");
        std::process::abort();
    }
    if let Some((l, _)) = loop_tp {
        // SAFETY: back to the main thread's own descriptor, for glibc's exit.
        unsafe { crate::sys::set_thread_pointer(main_tp, l.fast_fs) };
        // glibc's exit runs outside any coroutine and outside any worker:
        // its copy of the loop pointer would name worker 0's `Local`, gone
        // with the loop (an exit-time destructor that wakes a thread pushed
        // onto it and crashed; `exit_destructor_wakes`).
        l.set_current(main_tp, 0);
        l.set_local(main_tp, 0);
    }
    let sp = main.adopted_sp();
    drop(main);
    let mut gone = 0usize;
    // SAFETY: `main` suspended for good (Exit) with this stack pointer and
    // nothing else continues it; this loop's stack is never used again.
    unsafe { crate::arch::switch(&mut gone, sp) };
    unreachable!("worker 0's loop is never continued after main returns")
}

/// `main` has returned `result`: where it was taken over as a task, it
/// ends as one (its joiners are woken), worker 0's loop ends, and the
/// main thread comes back here, as a plain thread, for `exit`. Other
/// coroutines live on while `exit` runs, as threads do natively, and an
/// exit-time destructor may wait for one (libuv's thread-pool clean-up
/// signals its threads and joins them): a thread of ours takes over worker
/// 0's slot, its queues, timers and poller.
pub fn main_returns(result: usize) -> usize {
    let Some(t) = main_task().filter(|_| main_adopted()) else { return result };
    t.set_result(result);
    drop(t);
    // Its worker finishes it; worker 0's loop, seeing it done, ends and
    // switches the main thread back here (`main_loop`).
    crate::coro::suspend(crate::coro::Request::Exit);
    if crate::coro::live() > 0 {
        start_workers(runtime(), None);
    }
    result
}
