//! The worker loop: find a task, run it until it suspends, act on what it
//! asked for; when there is nothing to run, fire timers and sleep.
//!
//! The loop runs on the worker's own OS-thread stack and never migrates, so
//! it may keep thread-local addresses; coroutines may not (see `coro`).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_deque::{Steal, Worker};

use super::Runtime;
use crate::coro::{self, Request, Task};
use crate::reactor::timer::NEVER;

/// Every this many ticks a worker looks at the injector first and checks
/// timers even while busy (Go checks its global run queue every 61 ticks).
const FAIRNESS_TICKS: u32 = 61;

/// Stacks an idle worker returns to the kernel before it checks again for
/// work (bounds the delay trimming adds to a wake-up).
const TRIM_BATCH: usize = 64;

/// State owned by one worker thread.
pub(crate) struct Local {
    index: usize,
    deque: Worker<Arc<Task>>,
    tick: Cell<u32>,
    rng: Cell<u64>,
    /// Woken from sleep and not yet found work (see `idle`).
    searching: Cell<bool>,
    /// Pinned tasks this worker made runnable itself (see `sched` glossary).
    /// Borrowed only for a push or a pop, never across a resume.
    own: RefCell<VecDeque<Arc<Task>>>,
    /// Whose turn is next: pinned work (true) or new work (false).
    pinned_turn: Cell<bool>,
    /// Buffers for the poller: raw epoll events, and what they mean.
    events: RefCell<(Vec<libc::epoll_event>, Vec<crate::reactor::poller::Ready>)>,
    /// This thread's CURRENT slot (see `coro::current_slot`).
    current: *const Cell<*const Task>,
    /// This thread's errno and C++ exception state.
    slots: coro::ThreadSlots,
    /// The task just run was preempted (it ran a whole slice): time to look
    /// at timers and fds, and it goes behind the others (`run_task`).
    preempted: Cell<bool>,
    /// When this worker last left the CPU to the kernel (slept or yielded).
    kernel_turn: Cell<u64>,
    /// A spare slot with no blocked worker to stand in for: it runs
    /// nothing and hands whatever it wakes to the injector.
    dormant: Cell<bool>,
}

/// The worker loop running on this thread, or null: set for the loop's
/// duration; the `Local` lives on the loop's stack frame. It is
/// glibc::tls's worker-loop slot (green threads get the worker that runs
/// them written into their own copy): `Cell<*const ()>` and
/// `Cell<*const Local>` have one layout, and only a `Local` is stored in it.
#[inline]
fn local_cell() -> *const Cell<*const Local> {
    crate::glibc::tls::local_slot() as *const Cell<*const Local>
}

/// This thread's worker loop, or null.
#[inline]
fn local_ptr() -> *const Local {
    // SAFETY: this thread's slot, alive as long as the thread.
    unsafe { (*local_cell()).get() }
}

/// Sets (or, with null, clears) this thread's worker loop.
#[inline]
fn set_local_ptr(l: *const Local) {
    // SAFETY: as in local_ptr.
    unsafe { (*local_cell()).set(l) }
}

/// Pushes onto the calling worker's local queue. Returns false when the
/// caller is not a worker. Never inlined: may be called from a coroutine.
#[inline(never)]
pub(crate) fn push_local(t: Arc<Task>) -> Option<usize> {
    let l = local_ptr();
    // SAFETY: LOCAL points to the Local of the loop running on this very
    // thread (it outlives every coroutine it resumes); Worker::push takes &self.
    match unsafe { l.as_ref() } {
        Some(local) if !local.dormant.get() => {
            local.deque.push(t);
            Some(local.deque.len())
        }
        _ => None,
    }
}

/// Pushes a task pinned to worker `w` onto `w`'s own queue if the caller is
/// worker `w` (in its loop or on one of its coroutines); gives it back
/// otherwise. Never inlined: may be called from a coroutine.
#[inline(never)]
pub(crate) fn push_own(w: usize, t: Arc<Task>) -> Result<(), Arc<Task>> {
    let l = local_ptr();
    // SAFETY: as in push_local; `own` is borrowed only for single pushes and
    // pops on this thread, never across a resume, so this borrow is free.
    match unsafe { l.as_ref() } {
        Some(local) if local.index == w && in_own_queue(&t) => {
            local.own.borrow_mut().push_back(t);
            Ok(())
        }
        _ => Err(t),
    }
}

/// May pinned task `t` wait in its worker's own queue? Not `main` (the only
/// pinned task with thread-locals of its own): it always goes to the inbox,
/// where a spare can take it should the next coroutine this worker runs
/// block it in a call (the own queue is this thread's alone), whether a
/// coroutine or the loop itself (a timer, an fd event) woke it, or it
/// yielded or was preempted (`handoff_main_woken`, `handoff_main_timer`,
/// `handoff_main_requeued`).
fn in_own_queue(t: &Task) -> bool {
    t.own_tp() == 0
}

/// Could another coroutine want to run while the caller blocks? False only
/// when the caller is the process's one and only coroutine (an unmodified
/// single-threaded program): then it may simply block in the system call,
/// exactly as without the library. As soon as there are two, every blocking
/// call suspends instead: a worker blocked in a system call can neither run
/// the coroutines pinned to it nor steal new ones.
pub fn has_company() -> bool {
    crate::coro::live() > 1
}

/// A thread the runtime starts blocks the signals a program handles until it
/// runs a coroutine (whose mask it then takes): a signal sent to the
/// process then goes to a thread that runs the program's code, such as a
/// lone `main` on the main thread, in the order the kernel picks, rather
/// than to an idle worker (from where it would be forwarded, after others).
/// Faults, SIGURG and the signals glibc keeps for itself stay open (32,
/// SIGCANCEL, and 33, SIGSETXID: `setuid` and friends signal every thread
/// glibc knows and wait until each has answered).
pub(crate) fn block_async_signals() {
    const SIGCANCEL: i32 = 32;
    const SIGSETXID: i32 = 33;
    let keep = [
        libc::SIGURG,
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
        libc::SIGTRAP,
        libc::SIGSYS,
        libc::SIGABRT,
        SIGCANCEL,
        SIGSETXID,
    ];
    let mut m: u64 = !0;
    for s in keep {
        m &= !(1u64 << (s - 1));
    }
    crate::sys::sigmask(libc::SIG_BLOCK, Some(m));
}

/// Called by the preemption handler on the worker it preempts.
pub(crate) fn note_preempted() {
    let l = local_ptr();
    // SAFETY: as in push_local (the handler runs on the worker's thread).
    if let Some(local) = unsafe { l.as_ref() } {
        local.preempted.set(true);
        if let Some(rt) = super::try_runtime() {
            crate::stats::bump(&rt.slot[local.index].stats.preemptions);
        }
    }
}

/// The index of the worker running on this thread, if any.
#[inline(never)]
pub fn current_worker() -> Option<usize> {
    let l = local_ptr();
    // SAFETY: as in push_local.
    (!l.is_null()).then(|| unsafe { (*l).index })
}

/// Runs worker `index` until `until` (if given) has finished.
pub(crate) fn run(rt: &'static Runtime, index: usize, deque: Worker<Arc<Task>>, until: Option<&Arc<Task>>) {
    let mut forked = run_loop(rt, index, deque, until, None);
    // A coroutine of this worker forked and this is the child: the thread
    // goes on as the same slot of the child's runtime, with the survivor.
    while let Some(survivor) = forked {
        let rt = super::start_after_fork(index);
        let Some(deque) = rt.take_deque(index) else {
            crate::diag!("forked child: no queue for worker {index}; aborting");
            std::process::abort();
        };
        forked = run_loop(rt, index, deque, until, Some(survivor));
    }
}

/// The loop of [`run`]; returns the survivor of a fork (in the child).
fn run_loop(
    rt: &'static Runtime,
    index: usize,
    deque: Worker<Arc<Task>>,
    until: Option<&Arc<Task>>,
    survivor: Option<Arc<Task>>,
) -> Option<Arc<Task>> {
    if until.is_none() {
        block_async_signals();
    }
    let local = Local {
        index,
        deque,
        tick: Cell::new(0),
        rng: Cell::new(0x9E37_79B9_7F4A_7C15 ^ (index as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9)),
        searching: Cell::new(false),
        own: RefCell::new(VecDeque::new()),
        pinned_turn: Cell::new(true),
        events: RefCell::new((Vec::new(), Vec::new())),
        current: coro::current_slot(),
        slots: coro::ThreadSlots::current(),
        preempted: Cell::new(false),
        kernel_turn: Cell::new(0),
        dormant: Cell::new(index >= rt.workers()),
    };
    if super::started() {
        // (worker 0's loop on the main thread begins before the start,
        // which then gives it its stack: see `sched::start`)
        crate::signal::overflow::ensure_altstack();
    }
    set_local_ptr(&local);
    local.slots.set_local(&local as *const Local as usize);
    rt.slot[index].watch.tid.store(crate::sys::gettid(), std::sync::atomic::Ordering::Release);
    if index >= rt.workers() {
        // A spare, started while the program runs (the workers' are opened
        // by the start, before the program goes on).
        super::watch::watch_thread(&rt.slot[index].watch, crate::sys::gettid());
    }
    // glibc knows the main thread by `main`'s descriptor (worker 0's loop
    // runs on one of its own, see `sched::adopt_main`), every other worker
    // by its own.
    crate::glibc::setxid::register(if until.is_some() { super::main_thread() } else { local.slots.thread_pointer() });
    crate::debug!("worker {index} starts");
    if let Some(t) = survivor {
        t.repin(index);
        requeue(rt, &local, t);
    }
    loop {
        if until.is_some_and(|t| t.state() == coro::DONE) {
            break;
        }
        if super::take_main_signal() {
            local.pinned_turn.set(true);
        }
        let tick = local.tick.get().wrapping_add(1);
        local.tick.set(tick);
        let adopted = if index >= rt.workers() { spare_duties(rt, &local) } else { None };
        if local.dormant.get() {
            // No new work; only what is pinned here (coroutines that
            // first ran here while it stood in).
            if let Some(t) = take_pinned(rt, &local, tick) {
                if let Some(s) = run_watched(rt, &local, t) {
                    return leave_for_child(local, s);
                }
                continue;
            }
            if fire_timers(rt, index) == 0 {
                sleep_dormant(rt, &local);
            }
            continue;
        }
        if tick.is_multiple_of(KERNEL_TURN_TICKS) {
            give_kernel_turn(&local);
        }
        if tick.is_multiple_of(FAIRNESS_TICKS) {
            fire_timers(rt, index);
            poll_now(rt, &local, index);
        } else {
            let watch = &rt.slot[index].watch;
            if watch.timers_due.load(std::sync::atomic::Ordering::Relaxed) {
                fire_timers_first(rt, &local);
            }
            if watch.fds_ready.load(std::sync::atomic::Ordering::Relaxed) {
                // The monitor saw events in this busy worker's poller: take
                // them now (it would otherwise look only every
                // `FAIRNESS_TICKS` switches).
                wait_poller(rt, &local, index, Some(Duration::ZERO));
            }
        }
        if let Some(t) = adopted.or_else(|| find_task(rt, &local, tick)) {
            found_work(rt, &local);
            if let Some(s) = run_watched(rt, &local, t) {
                return leave_for_child(local, s);
            }
            continue;
        }
        if fire_timers(rt, index) > 0 {
            continue;
        }
        if crate::coro::stack::pool().trim(TRIM_BATCH) > 0 {
            continue;
        }
        sleep(rt, &local);
    }
    if local.searching.replace(false) {
        rt.idle.stop_searching();
    }
    set_local_ptr(std::ptr::null());
    crate::debug!("worker {index} leaves");
    // `main` has returned: what this loop holds goes back to the slot, for
    // the thread that takes it over while `exit` runs (`main_returns`).
    for t in local.own.borrow_mut().drain(..) {
        rt.slot[index].inbox.push(t);
    }
    rt.give_back_deque(index, local.deque);
    None
}

/// In a forked child, out of the parent's loop: its queues hold coroutines
/// that exist only in the parent, so they are leaked, never dropped
/// (dropping a suspended coroutine would unwind it, running its code here).
fn leave_for_child(local: Local, survivor: Arc<Task>) -> Option<Arc<Task>> {
    set_local_ptr(std::ptr::null());
    std::mem::forget(local);
    Some(survivor)
}

/// The worker's own thread pointer, from a coroutine it runs (None off a
/// worker).
pub(crate) fn loop_thread_pointer() -> Option<usize> {
    let l = local_ptr();
    // SAFETY: as in push_local.
    unsafe { l.as_ref() }.map(|l| l.slots.thread_pointer())
}

/// A searching worker found work: if it was the last searcher and new
/// (stealable) work is still queued here or in the injector, wake one more
/// sleeper so that work keeps spreading (Go's `wakep` rule; pushes skip the
/// wake-up while someone searches). Pinned work, which no one else may run,
/// wakes nobody.
fn found_work(rt: &Runtime, local: &Local) {
    if local.searching.replace(false) && rt.idle.stop_searching() && (!local.deque.is_empty() || !rt.injector.is_empty() || !rt.ready.is_empty()) {
        rt.wake_any();
    }
}

fn find_task(rt: &Runtime, local: &Local, tick: u32) -> Option<Arc<Task>> {
    if tick.is_multiple_of(FAIRNESS_TICKS) {
        if let Some(t) = steal_into(&rt.injector, local) {
            return Some(t);
        }
    }
    if let Some(t) = rt.slot[local.index].woken.take() {
        return Some(t);
    }
    // Every other pick, those woken by their fds first (see `wake_ready`),
    // one at a time, oldest first (not a batch into the local queue: its
    // order is what makes it fair).
    if tick & 1 == 0 {
        if let Some(t) = rt.ready.take() {
            return Some(t);
        }
    }
    // Alternation between pinned and new work, so neither starves the other;
    // after a yield, new work goes first (see `run_task`), so a coroutine
    // that yields lets every task runnable before its yield run first.
    let pinned_first = local.pinned_turn.get();
    let t = if pinned_first {
        take_pinned(rt, local, tick).or_else(|| local.deque.pop())
    } else {
        local.deque.pop().or_else(|| take_pinned(rt, local, tick))
    };
    if let Some(t) = t {
        local.pinned_turn.set(t.pinned().is_none());
        return Some(t);
    }
    if let Some(t) = rt.ready.take() {
        return Some(t);
    }
    if let Some(t) = steal_into(&rt.injector, local) {
        return Some(t);
    }
    steal_from_peers(rt, local)
}

/// Pinned work: the own queue and the inbox, each first on alternate ticks.
fn take_pinned(rt: &Runtime, local: &Local, tick: u32) -> Option<Arc<Task>> {
    let inbox = &rt.slot[local.index].inbox;
    let own = || local.own.borrow_mut().pop_front();
    if tick & 2 == 0 {
        own().or_else(|| inbox.take())
    } else {
        inbox.take().or_else(own)
    }
}

fn steal_into(q: &crossbeam_deque::Injector<Arc<Task>>, local: &Local) -> Option<Arc<Task>> {
    loop {
        match q.steal_batch_and_pop(&local.deque) {
            Steal::Success(t) => return Some(t),
            Steal::Empty => return None,
            Steal::Retry => continue,
        }
    }
}

/// Steals half of a random peer's queue (then tries the others in order).
fn steal_from_peers(rt: &Runtime, local: &Local) -> Option<Arc<Task>> {
    let n = rt.slot.len();
    if n <= 1 {
        return None;
    }
    // xorshift64*: cheap, per-worker, good enough to pick a victim.
    let mut x = local.rng.get();
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    local.rng.set(x);
    let start = (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as usize % n;
    for k in 0..n {
        let v = (start + k) % n;
        if v == local.index {
            continue;
        }
        if let Some(t) = rt.slot[v].woken.take() {
            return Some(t);
        }
        loop {
            match rt.slot[v].stealer.steal_batch_and_pop(&local.deque) {
                Steal::Success(t) => {
                    crate::debug!("worker {} stole from worker {v}", local.index);
                    crate::stats::bump(&rt.slot[local.index].stats.steals);
                    return Some(t);
                }
                Steal::Empty => break,
                Steal::Retry => continue,
            }
        }
    }
    None
}

fn has_work(rt: &Runtime, local: &Local) -> bool {
    !local.own.borrow().is_empty()
        || !local.deque.is_empty()
        || !rt.slot[local.index].inbox.is_empty()
        || !rt.slot[local.index].woken.is_empty()
        || !rt.injector.is_empty()
        || !rt.ready.is_empty()
        || rt.slot.iter().any(|s| !s.stealer.is_empty())
}

/// [`run_task`], published to the monitor (see `Watch`).
fn run_watched(rt: &Runtime, local: &Local, t: Arc<Task>) -> Option<Arc<Task>> {
    let w = &rt.slot[local.index].watch;
    w.enter();
    let forked = run_task(rt, local, t);
    if forked.is_none() {
        // (A forked child leaves the parent's runtime: nothing to publish.)
        w.leave();
    }
    forked
}

/// Runs one task until it suspends or finishes, then carries out its
/// request. Returns the task if it forked and this is the child.
fn run_task(rt: &Runtime, local: &Local, t: Arc<Task>) -> Option<Arc<Task>> {
    if !t.started() {
        // SAFETY: we took `t` off a queue, so we own it.
        unsafe { t.prepare() };
        crate::stats::bump(&rt.slot[local.index].stats.started);
    }
    // After `prepare`, which gives a C API coroutine its descriptor: with
    // one it may run anywhere (pinned before, it could never be stolen
    // again, and each of its yields went through the slot's inbox).
    t.pin_to(local.index);
    crate::stats::emit(crate::stats::Event::Resume, Arc::as_ptr(&t).cast());
    t.begin_run();
    super::main_runs(Arc::as_ptr(&t));
    // SAFETY: `current` is this thread's CURRENT slot, valid for the thread's
    // lifetime; only this loop writes it.
    let current = unsafe { &*local.current };
    current.set(Arc::as_ptr(&t));
    // SAFETY: we took `t` off a queue, so we own it; CURRENT is set.
    let req = unsafe { t.resume(local.index, &local.slots) };
    current.set(std::ptr::null());
    if !t.stack_ok() {
        crate::signal::overflow::report_and_abort(&t.stack_bounds());
    }
    let event = if req.is_some() { crate::stats::Event::Suspend } else { crate::stats::Event::Complete };
    crate::stats::emit(event, Arc::as_ptr(&t).cast());
    match req {
        Some(Request::Yield) => {
            t.settle_yield();
            if local.preempted.get() {
                // Those whose time came during its slice go first.
                fire_timers_first(rt, local);
                poll_now(rt, local, local.index);
            }
            // After a pinned task's yield, new work goes first (see
            // find_task); a green thread's yield went to the local queue,
            // and the alternation stays as it is (else pinned work would
            // starve behind green threads that keep yielding).
            if t.pinned().is_some() {
                local.pinned_turn.set(false);
            }
            if local.preempted.replace(false) && t.pinned().is_none() && !local.dormant.get() {
                // It ran a whole slice: behind every task that waited
                // meanwhile, on any worker (what the kernel's scheduler
                // does for a thread that used its slice, against one that
                // slept). In the local queue, a thread woken by a timer,
                // a lock or an fd would wait behind every busy thread's
                // next slice: a server's background thread fell far
                // behind (`fair_share_sleeper`).
                rt.injector.push(t);
                rt.wake_any();
            } else {
                requeue(rt, local, t);
            }
        }
        Some(Request::Park) => {
            if t.settle_park() {
                requeue(rt, local, t);
            }
        }
        Some(Request::Sleep(deadline)) => {
            lock_timers(rt, local.index).insert(deadline, t.clone());
            if t.settle_park() {
                requeue(rt, local, t);
            }
        }
        Some(Request::Forked) => {
            t.settle_yield();
            return Some(t);
        }
        // `resume` turns Exit into None (the coroutine has ended).
        Some(Request::Exit) => unreachable!("Exit is handled by resume"),
        None => {
            // SAFETY: we ran it to completion and own it.
            unsafe { t.finish() };
            super::finished(&t);
        }
    }
    None
}

/// Puts a task that just ran here back in line: a green thread (it may
/// run anywhere) at the back of the local queue, where idle workers (and a
/// spare, should this worker block) may steal it; a pinned task in the
/// own queue or the inbox ([`in_own_queue`]; none is woken: this worker
/// takes it).
fn requeue(rt: &Runtime, local: &Local, t: Arc<Task>) {
    if t.pinned().is_none() {
        if local.dormant.get() {
            crate::sched::schedule(t);
        } else {
            local.deque.push(t);
        }
    } else if in_own_queue(&t) {
        local.own.borrow_mut().push_back(t);
    } else {
        rt.slot[local.index].inbox.push(t);
    }
}

fn lock_timers(rt: &Runtime, w: usize) -> std::sync::MutexGuard<'_, crate::reactor::timer::TimerHeap<Arc<Task>>> {
    rt.slot[w].timers.lock().unwrap_or_else(|e| e.into_inner())
}

/// [`fire_timers`] while the worker is busy (the monitor saw a timer due,
/// or a coroutine used its slice): the green threads it wakes go before
/// the worker's queue, as a thread woken from a sleep preempts a busy one
/// natively; otherwise a 1 ms sleeper beside busy threads waited behind
/// each of their slices (`fair_share_sleeper`).
fn fire_timers_first(rt: &Runtime, local: &Local) {
    if fire(rt, local.index, true) > 0 {
        // Green threads it woke are taken first (`woken`); a pinned one,
        // such as `main`, went to its own queue: pinned work next.
        local.pinned_turn.set(true);
    }
}

/// Wakes every task that slept on worker `w` and whose deadline has
/// passed. Returns how many.
fn fire_timers(rt: &Runtime, w: usize) -> usize {
    fire(rt, w, false)
}

fn fire(rt: &Runtime, w: usize, first: bool) -> usize {
    if rt.slot[w].watch.timers_due.load(std::sync::atomic::Ordering::Relaxed) {
        rt.slot[w].watch.timers_due.store(false, std::sync::atomic::Ordering::Relaxed);
    }
    let mut n = 0;
    let now = crate::sys::now_ns();
    loop {
        // One at a time: `unpark` never takes the timer lock, but keep no
        // lock across it all the same.
        let Some(t) = lock_timers(rt, w).pop_due(now) else { break };
        if first {
            wake_first(rt, w, &t);
        } else {
            coro::unpark(&t);
        }
        n += 1;
    }
    if n > 0 {
        rt.slot[w].stats.timers_fired.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
    }
    n
}

/// Wakes `t`, which slept on busy worker `w`: a green thread into `w`'s
/// `woken` queue, taken before the others (and stealable), as the kernel
/// lets a thread that slept preempt a busy one; a pinned one (`main`) as
/// usual (it goes to its own worker's queue).
fn wake_first(rt: &Runtime, w: usize, t: &Arc<Task>) {
    if w < rt.workers() && t.pinned().is_none() {
        if coro::claim(t) {
            rt.slot[w].woken.push(t.clone());
            rt.wake_any();
        }
    } else {
        coro::unpark(t);
    }
}

/// While busy: collects fd events of worker `w`'s waiting coroutines
/// without blocking (idle workers get them in `sleep`).
fn poll_now(rt: &Runtime, local: &Local, w: usize) {
    if rt.slot[w].fd_waiters.load(std::sync::atomic::Ordering::Relaxed) == 0 {
        return;
    }
    wait_poller(rt, local, w, Some(Duration::ZERO));
}

/// Waits in worker `w`'s poller (at most `timeout`) and wakes the
/// coroutines whose fds became ready ([`wake_ready`]).
fn wait_poller(rt: &Runtime, local: &Local, w: usize, timeout: Option<Duration>) {
    let mut ev = local.events.borrow_mut();
    let (raw, ready) = &mut *ev;
    let watch = &rt.slot[w].watch;
    let asleep = w == local.index && timeout != Some(Duration::ZERO);
    if asleep {
        // Its own wait: the monitor need not watch this poller meanwhile.
        watch.asleep.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    rt.poller(w).wait(raw, timeout, ready);
    if asleep {
        watch.asleep.store(false, std::sync::atomic::Ordering::Relaxed);
    }
    // Drained first, then the flag cleared: the monitor watches this
    // poller again from here on, for new events only.
    if watch.fds_ready.load(std::sync::atomic::Ordering::Relaxed) {
        watch.fds_ready.store(false, std::sync::atomic::Ordering::Release);
    }
    let mut queued = false;
    super::dispatch(ready, &mut |t| queued |= wake_ready(rt, t));
    if queued {
        rt.wake_any();
    }
}

/// Wakes `t`, whose fd became ready: a green thread into the global ready
/// queue, in the order the pollers saw the events (true: queued there); a
/// pinned one (`main`) and a coroutine of the C API as usual (the waking
/// worker's own queue, where others may steal it). Per-worker queues, each
/// fed by its own poller and the busy one's events first in line, served a
/// thread-per-connection echo server's 1,000 connections unevenly: 1.3-1.6x
/// more round trips for some than others, and a p99 round trip 1.5-3x the
/// native one. A C API server keeps its locality: through the global queue
/// its echo at 10,000 connections lost 7% (4 alternating runs).
fn wake_ready(rt: &Runtime, t: &Arc<Task>) -> bool {
    if t.pinned().is_some() || !t.is_green() {
        coro::unpark(t);
        return false;
    }
    if coro::claim(t) {
        rt.ready.push(t.clone());
        return true;
    }
    false
}

/// Time left until worker `w`'s earliest timer, if it has one.
fn next_timer(rt: &Runtime, w: usize) -> Option<Duration> {
    let deadline = lock_timers(rt, w).next();
    (deadline != NEVER).then(|| Duration::from_nanos(deadline.saturating_sub(crate::sys::now_ns())))
}

/// A spare's turn: while some worker stays blocked in a call, does its part
/// of the waiting (its timers, its fds) and takes its pinned tasks that
/// carry their own descriptor (main); returns one to run. When no worker is
/// blocked any more, the spare goes dormant.
fn spare_duties(rt: &Runtime, local: &Local) -> Option<Arc<Task>> {
    use std::sync::atomic::Ordering::{AcqRel, Acquire};
    let me = &rt.slot[local.index].watch;
    let blocked: Vec<usize> = (0..rt.slots()).filter(|&w| w != local.index && rt.slot[w].watch.blocked.load(Acquire)).collect();
    if blocked.is_empty() || !me.active.load(Acquire) {
        if !local.dormant.replace(true) {
            crate::debug!("spare {} goes dormant", local.index);
            // A searcher that stops searching for good must say so, or
            // pushers would keep waiting for it to find their work.
            if local.searching.replace(false) {
                rt.idle.stop_searching();
            }
            // What it holds goes where anyone can take it.
            while let Some(t) = local.deque.pop() {
                rt.injector.push(t);
            }
            rt.wake_any();
        }
        me.active.swap(false, AcqRel);
        return None;
    }
    local.dormant.set(false);
    let mut found = None;
    for w in blocked {
        fire_timers(rt, w);
        poll_now(rt, local, w);
        if found.is_none() {
            found = rt.slot[w].woken.take();
        }
        if found.is_none() {
            if let Some(t) = rt.slot[w].inbox.take() {
                if t.own_tp() != 0 {
                    found = Some(t);
                } else {
                    // It shares the blocked worker's thread-locals: only
                    // that worker may run it.
                    rt.slot[w].inbox.push(t);
                }
            }
        }
    }
    found
}

/// A dormant spare sleeps in its poller until its own timers are due or it
/// is given a worker to stand in for (it is not among the idle workers that
/// new work wakes).
fn sleep_dormant(rt: &Runtime, local: &Local) {
    wait_poller(rt, local, local.index, next_timer(rt, local.index));
}

/// Switches between two looks at the clock for [`give_kernel_turn`].
const KERNEL_TURN_TICKS: u32 = 16;

/// How long a worker runs coroutines at most before it lets the kernel run
/// another thread that waits for its CPU.
const KERNEL_TURN_NS: u64 = 100_000;

/// A busy worker is, to the kernel, one thread that never sleeps, where the
/// same program natively is many that block every few microseconds: a
/// process beside it that wakes (a load generator, a database's client)
/// waited on the run queue for a whole kernel slice of the worker. A
/// thread-per-connection echo server at 1,000 connections kept its
/// same-machine client waiting 1.2 s of 3 (0.45 s natively), and its p99
/// round trip was 1.5-2x native. A `sched_yield` every 100 us of busy time
/// costs a system call when nobody waits.
fn give_kernel_turn(local: &Local) {
    let now = crate::sys::now_ns();
    if now.saturating_sub(local.kernel_turn.get()) >= KERNEL_TURN_NS {
        local.kernel_turn.set(now);
        // SAFETY: sched_yield takes no arguments (raw: the symbol is our hook).
        unsafe { crate::sys::syscall6(libc::SYS_sched_yield, 0, 0, 0, 0, 0, 0) };
    }
}

/// Nothing to run: sleep in this worker's poller until work, an fd event or
/// the earliest timer arrives.
fn sleep(rt: &Runtime, local: &Local) {
    if local.searching.replace(false) {
        rt.idle.stop_searching();
    }
    let i = local.index;
    rt.idle.begin_sleep(i);
    // Dekker with the pushers (see `idle`): registration, fence, re-check.
    std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
    if has_work(rt, local) {
        rt.idle.end_sleep(i);
        return;
    }
    let mut timeout = next_timer(rt, i);
    if i >= rt.workers() {
        // Standing in for a blocked worker: look at its timers and fds often.
        let ms = Duration::from_millis(1);
        timeout = Some(timeout.map_or(ms, |t| t.min(ms)));
    }
    if crate::coro::stack::pool().wants_trim() {
        // Come back to trim the pool once the burst's stacks have aged.
        let age = Duration::from_nanos(crate::coro::stack::TRIM_AGE_NS);
        timeout = Some(timeout.map_or(age, |t| t.min(age)));
    }
    crate::debug!("worker {i} sleeps, timeout {timeout:?}");
    wait_poller(rt, local, i, timeout);
    local.kernel_turn.set(crate::sys::now_ns());
    rt.idle.end_sleep(i);
    rt.idle.start_searching();
    local.searching.set(true);
}
