//! The scheduler: worker threads, run queues, stealing, parking.
//!
//! ## Glossary
//!
//! - **task**: one coroutine ([`crate::coro::Task`]).
//! - **worker**: an OS thread running the loop in [`worker`]. With
//!   `LD_PRELOAD`, once the process has company, the main thread is worker
//!   0 and runs the program's `main` as a task pinned to it (taken over
//!   where it stood: [`adopt`]); workers 1..N are threads we start.
//!   When the library was `dlopen`ed, all N workers are our threads.
//! - **pinned**: a task that has started running stays on its worker for
//!   good (C code keeps `&errno` and `__thread` addresses across calls that
//!   suspend: gcc computes `&errno` once per function). `main` is pinned to worker 0
//!   from its adoption: its thread-locals are the main thread's. So only tasks that have
//!   never run are balanced between workers.
//! - **local queue**: each worker's crossbeam-deque `Worker` (FIFO) of new
//!   tasks it spawned; idle workers steal half of a random victim's queue.
//! - **injector**: the global queue for new tasks spawned by threads that are
//!   not workers. Every 61st tick a worker looks there first (Go's rule), so
//!   it is never starved by busy local queues.
//! - **ready queue**: the global FIFO of green threads whose fds became
//!   ready, whichever worker's poller saw it. Every other pick of a worker
//!   comes from there first, so a woken thread waits neither behind busy
//!   ones nor behind those woken after it (per-worker queues, each fed by
//!   its own poller, served connections unevenly: see `worker::wake_ready`).
//! - **own queue**: per-worker, unsynchronised FIFO of its pinned tasks that
//!   it made runnable itself (a yield, a wake-up by a coroutine or a timer on
//!   that worker).
//! - **inbox**: per-worker MPMC queue of its pinned tasks made runnable by
//!   other threads.
//!
//! A worker alternates between pinned work (own queue, inbox) and new work
//! (local queue), so neither starves the other.
//! - **poller, timers**: each worker has its own poller (epoll
//!   set) and its own timer heap, for the coroutines pinned to it: a
//!   coroutine's fd readiness and deadlines are delivered to the thread that
//!   runs it, with no hop through another thread. An idle worker sleeps in
//!   its own poller with its earliest timer as timeout; see [`idle`] for the
//!   wake-up protocol.
//!
//! ## Lifetime
//!
//! The runtime is built on first use (the wrapped `main`, or the first
//! `opencoro_spawn` when the library was `dlopen`ed) and never torn down: the
//! process exits through `exit()` as usual, with workers still parked.
//! Nothing waits for a thread it started, so start-up cannot deadlock on the
//! loader lock.

mod adopt;
pub mod idle;
mod inbox;
pub mod watch;
pub mod worker;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock};

use crossbeam_deque::{Injector, Stealer, Worker};

use crate::coro::Task;
use idle::Idle;
pub use adopt::{main_awaits_company, main_entered, main_returns};

/// Stack size of the worker threads we start: they run only the scheduler
/// loop and signal handlers; coroutines have stacks of their own.
const WORKER_THREAD_STACK: usize = 256 * 1024;

/// What one slot (a worker, or a spare that may stand in for blocked ones)
/// owns. Aligned to two cache lines so that neighbours' counters and
/// queue ends do not share one.
#[repr(align(128))]
pub(crate) struct Slot {
    /// The thief's end of the slot's local queue.
    pub(crate) stealer: Stealer<Arc<Task>>,
    /// Pinned tasks woken from other threads (and `main`).
    pub(crate) inbox: inbox::Inbox,
    /// Green threads whose timer fired while the worker was busy; they go
    /// before its queue (a thread that slept is behind in CPU time, as the
    /// kernel's scheduler sees it) and may be stolen.
    pub(crate) woken: inbox::Inbox,
    /// Fd readiness of its coroutines, and where it sleeps when idle. A
    /// spare's is made when the slot is first used (each costs the process
    /// three fds).
    poller: OnceLock<crate::reactor::poller::Poller>,
    /// What it runs, for the monitor.
    pub(crate) watch: watch::Watch,
    /// The deadlines of the coroutines that slept there. Behind a lock so
    /// that a spare can fire a blocked worker's timers.
    pub(crate) timers: Mutex<crate::reactor::timer::TimerHeap<Arc<Task>>>,
    /// Its counters (`OPENCORO_STATS`, `opencoro_stats`).
    pub(crate) stats: crate::stats::WorkerStats,
    /// Coroutines waiting for fds on its poller (see `reactor`).
    pub(crate) fd_waiters: AtomicUsize,
}

/// State shared across all workers.
pub struct Runtime {
    pub(crate) injector: Injector<Arc<Task>>,
    /// Green threads woken by fd readiness (see the glossary).
    pub(crate) ready: inbox::Inbox,
    /// One per worker and spare, side by side (see [`Slot`]).
    pub(crate) slot: Box<[Slot]>,
    pub(crate) idle: Idle,
    /// Workers proper; the slots past them are spares (see `monitor`).
    /// Lowered once, when the threads start, to the cgroup's CPU quota.
    primaries: AtomicUsize,
    /// Local queues not yet claimed by their worker thread.
    deques: Mutex<Vec<Option<Worker<Arc<Task>>>>>,
    /// The main thread is (or will be) worker 0.
    main_mode: bool,
}

static RT: crate::sync::PerProcess<Runtime> = crate::sync::PerProcess::new();
static THREADS: Once = Once::new();
/// Set by the `__libc_start_main` hook before the program's constructors
/// run: the main thread will become worker 0.
static MAIN_MODE: AtomicBool = AtomicBool::new(false);

/// The task running the program's `main` (0 until it exists).
static MAIN_TASK: AtomicUsize = AtomicUsize::new(0);
static MAIN: crate::sync::PerProcess<(Arc<Task>, usize)> = crate::sync::PerProcess::new();

/// The task running the program's `main`, once it exists.
pub fn main_task() -> Option<Arc<Task>> {
    MAIN.get().map(|m| m.0.clone())
}

/// A signal handler forwarded a signal to `main` (see
/// `signal::program::forward_to_main`): the next worker loop to look makes
/// it runnable. A handler may interrupt a worker anywhere, in the middle of
/// its queues or locks, so it only sets this and writes to worker 0's
/// eventfd (async-signal-safe); the loop does the rest.
static MAIN_SIGNALLED: AtomicBool = AtomicBool::new(false);

/// A forwarded signal waits for `main` to run its handler: set with
/// [`MAIN_SIGNALLED`], cleared when `main` next runs. The monitor gives
/// `main`'s worker to it at once (see `main_signal_waits`).
static MAIN_URGENT: AtomicBool = AtomicBool::new(false);

/// From a signal handler: `main` has a signal to run. Async-signal-safe
/// (atomics and one `write`).
pub(crate) fn wake_main_from_signal() {
    // Release pairs with the Acquire swap in `take_main_signal`: the
    // pending bit the handler set on main is visible to whoever takes this.
    MAIN_URGENT.store(true, Ordering::Relaxed);
    MAIN_SIGNALLED.store(true, Ordering::Release);
    if let Some(p) = RT.get().and_then(|rt| rt.slot[0].poller.get()) {
        p.notify();
    }
}

/// In a worker loop: makes `main` runnable if a handler asked. True when
/// it did.
#[inline]
pub(crate) fn take_main_signal() -> bool {
    if MAIN_SIGNALLED.load(Ordering::Relaxed) && MAIN_SIGNALLED.swap(false, Ordering::Acquire) {
        if let Some(m) = main_task() {
            crate::coro::unpark(&m);
            return true;
        }
    }
    false
}

/// The worker `main` is pinned to, while a forwarded signal waits for it
/// to run. Natively the kernel runs the handler on some thread at once; a
/// program's 1 ms timer signal kept 35-40% of its native rate beside busy
/// threads while `main` waited for a busy worker's slice.
pub(crate) fn main_signal_waits() -> Option<usize> {
    if !MAIN_URGENT.load(Ordering::Relaxed) {
        return None;
    }
    MAIN.get().and_then(|m| m.0.pinned())
}

/// `t` is about to run: if it is `main`, no signal waits for it any more.
#[inline]
pub(crate) fn main_runs(t: *const Task) {
    if MAIN_URGENT.load(Ordering::Relaxed) && is_main_task(t) {
        MAIN_URGENT.store(false, Ordering::Relaxed);
    }
}

/// The main thread's `pthread_t` (0 before `main` runs).
pub fn main_thread() -> usize {
    MAIN.get().map_or(0, |m| m.1)
}

/// Is `t` the task running the program's `main`?
pub fn is_main_task(t: *const Task) -> bool {
    MAIN_TASK.load(Ordering::Relaxed) == t as usize
}

/// Was the library preloaded (the main thread is worker 0), rather than
/// `dlopen`ed?
pub fn preloaded() -> bool {
    MAIN_MODE.load(Ordering::Relaxed)
}

/// Declares that the main thread will become worker 0 (preload mode).
pub fn announce_main_worker() {
    MAIN_MODE.store(true, Ordering::Relaxed);
}

/// The monitor's entry points (`crate::monitor`, above the scheduler):
/// started with the workers, restarted in a forked child.
pub struct Monitor {
    pub start: fn(&'static Runtime),
    pub restart_after_fork: fn(&'static Runtime),
}

static MONITOR: OnceLock<Monitor> = OnceLock::new();

/// Gives the scheduler the monitor to start (once, at load: `lib.rs`).
pub fn set_monitor(m: Monitor) {
    let _ = MONITOR.set(m);
}

/// What acts on a poller's events (`reactor::dispatch`, above the
/// scheduler): the fd table's waiters are the reactor's.
pub type Dispatch = fn(&[crate::reactor::poller::Ready], &mut dyn FnMut(&Arc<Task>));

static DISPATCH: OnceLock<Dispatch> = OnceLock::new();

/// Gives the scheduler the reactor's dispatch (once, at load: `lib.rs`).
pub fn set_dispatch(d: Dispatch) {
    let _ = DISPATCH.set(d);
}

/// Wakes the waiters of `events` with `wake` (none before a dispatch is
/// registered: nothing can wait on an fd before then).
pub(crate) fn dispatch(events: &[crate::reactor::poller::Ready], wake: &mut dyn FnMut(&Arc<Task>)) {
    if let Some(d) = DISPATCH.get() {
        d(events, wake);
    }
}

/// The runtime, if it has been started.
#[inline]
pub fn try_runtime() -> Option<&'static Runtime> {
    RT.get()
}

/// The runtime's structures, built on first use. Building makes no
/// thread, fd or signal handler: a program that never has a second
/// coroutine never meets more of the runtime than this (see [`start`]).
pub fn runtime() -> &'static Runtime {
    RT.get_or_init(build)
}

/// The process is about to have company (its first green thread or C API
/// coroutine): starts what only company needs, once: the workers' pollers
/// (their fds), the other workers, the monitor and its preemption signal,
/// the overflow handlers. Until then `main` is the only coroutine and
/// every hook calls libc as it would without the library, so nothing of
/// the runtime is visible (`/proc/self/fd`, `Threads:`, signal handlers)
/// and a short program pays nothing for it.
pub fn start() -> &'static Runtime {
    let rt = runtime();
    THREADS.call_once(|| {
        if rt.main_mode && main_awaits_company() && adopt::adopt_main(rt) {
            // `main`, a task from now on, is inside the runtime until the
            // start is over: the start's own calls (its threads'
            // `pthread_create`) go straight to libc, as they do from a hook.
            let t = main_task().expect("adopted");
            t.set_in_hook(true);
            start_threads(rt, true);
            t.set_in_hook(false);
        } else {
            start_threads(rt, false);
        }
    });
    rt
}

/// Has [`start`] run (in this process or the parent it was forked from)?
pub fn started() -> bool {
    THREADS.is_completed()
}

fn build() -> Runtime {
    crate::coro::set_scheduler(schedule);
    let cfg = crate::config::get();
    let primaries = cfg.workers;
    // Every slot, spares included, has its queues, poller and timers.
    let n = cfg.max_threads.max(primaries);
    let deques: Vec<Worker<Arc<Task>>> = (0..n).map(|_| Worker::new_fifo()).collect();
    let stealers: Vec<Stealer<Arc<Task>>> = deques.iter().map(|d| d.stealer()).collect();
    // crossbeam's epoch collector is built on first use behind a Once: a
    // fork while another thread builds it would leave it half-built in the
    // child for good. Build it now, before any thread of ours exists.
    let _ = stealers[0].steal();
    let main_mode = MAIN_MODE.load(Ordering::Relaxed);
    crate::debug!("runtime: {primaries} workers, {} spares, main thread is worker 0: {main_mode}", n - primaries);
    Runtime {
        injector: Injector::new(),
        ready: inbox::Inbox::new(),
        slot: stealers
            .into_iter()
            .map(|stealer| Slot {
                stealer,
                inbox: inbox::Inbox::new(),
                woken: inbox::Inbox::new(),
                poller: OnceLock::new(),
                watch: watch::Watch::default(),
                timers: Mutex::new(crate::reactor::timer::TimerHeap::new()),
                stats: crate::stats::WorkerStats::default(),
                fd_waiters: AtomicUsize::new(0),
            })
            .collect(),
        idle: Idle::new(),
        primaries: AtomicUsize::new(primaries),
        deques: Mutex::new(deques.into_iter().map(Some).collect()),
        main_mode,
    }
}

fn start_threads(rt: &'static Runtime, main_is_worker0: bool) {
    crate::debug!("runtime starts: the process has company");
    // No more workers than the cgroup's CPU quota allows (read only now: a
    // process that never has company reads no cgroup file). The slots past
    // the new count are spares; none of their threads exists yet.
    if !crate::config::get().workers_explicit {
        if let Some(q) = crate::config::cgroup_workers() {
            if q < rt.workers() {
                crate::debug!("cgroup CPU quota: {q} workers");
                rt.primaries.store(q.max(1), Ordering::Relaxed);
            }
        }
    }
    // The workers' fds first, while the program's own are fewest, and the
    // first spare's: a server at its fd limit (EMFILE is normal under load)
    // still gets one spare when a worker blocks (`start_spare`).
    for i in 0..(rt.workers() + 1).min(rt.slots()) {
        rt.poller(i);
    }
    crate::coro::stack::init();
    crate::signal::overflow::install();
    if worker::current_worker().is_some() {
        // Worker 0's loop, on the main thread, began before the start.
        crate::signal::overflow::ensure_altstack();
    }
    start_workers(rt, main_is_worker0.then_some(0));
    // The monitor's views of the workers' threads, opened here, before the
    // program goes on: an open takes the lowest free fd number for a moment.
    for i in 0..rt.workers() {
        let w = &rt.slot[i].watch;
        let deadline = crate::sys::now_ns() + 1_000_000_000;
        while w.tid.load(Ordering::Acquire) <= 0 && crate::sys::now_ns() < deadline {
            // SAFETY: sched_yield has no arguments (raw: not our hook, which
            // would switch coroutines in the middle of the start).
            unsafe { crate::sys::syscall6(libc::SYS_sched_yield, 0, 0, 0, 0, 0, 0) };
        }
        watch::watch_thread(w, w.tid.load(Ordering::Acquire));
    }
    match MONITOR.get() {
        Some(m) => (m.start)(rt),
        None => crate::debug!("no monitor registered: coroutines will not be preempted"),
    }
}

/// Starts the threads of the workers proper, but for `skip` (the calling
/// thread's own slot).
fn start_workers(rt: &'static Runtime, skip: Option<usize>) {
    for i in 0..rt.workers() {
        if Some(i) == skip {
            continue;
        }
        let Some(deque) = rt.take_deque(i) else { continue };
        let r = start_thread(format!("opencoro-w{i}"), WORKER_THREAD_STACK, move || worker::run(rt, i, deque, None));
        if let Err(e) = r {
            crate::diag!("cannot start worker thread {i} ({e}); running with fewer workers");
        }
    }
}

/// Starts one of the runtime's own threads (workers, spares, the monitor,
/// the blocking pool). glibc installs its SIGSETXID handler at the
/// process's first thread: the runtime's wrapper goes in front of it after
/// each start (a no-op once done; see `green::setxid`).
pub(crate) fn start_thread(name: String, stack_size: usize, f: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    let what = name.clone();
    let body = move || {
        // A runtime thread that panicked would end quietly and strand the
        // coroutines it holds: one line and an abort instead.
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err() {
            crate::diag!("internal error on the runtime's thread {what} (a bug of opencoro, please report it); aborting");
            std::process::abort();
        }
    };
    std::thread::Builder::new().name(name).stack_size(stack_size).spawn(body)?;
    if preloaded() {
        crate::glibc::setxid::install();
    }
    Ok(())
}

/// In a forked child (see `crate::fork`): a fresh runtime replaces the
/// parent's copy, whose queues hold coroutines that do not exist here.
/// `survivor`, the coroutine that forked, becomes the child's main
/// coroutine unless it is `main` already. No thread starts yet: the worker
/// that ran the survivor does that once it is back in its loop.
pub(crate) fn renew_after_fork(survivor: &Arc<Task>, slot: usize) {
    RT.renew(Some(build()));
    let ptr = Arc::as_ptr(survivor);
    let was_main = is_main_task(ptr);
    if !was_main {
        MAIN.renew(Some((survivor.clone(), crate::sys::thread_pointer())));
        crate::glibc::setxid::set_main_thread(crate::sys::thread_pointer());
        MAIN_TASK.store(ptr as usize, Ordering::Relaxed);
    }
    // Where the program's `main` was the survivor and its worker 0 loop
    // (on the main thread) will see it end, that loop ends the process;
    // otherwise whoever finishes the survivor does.
    EXIT_AT_END.store(!(survivor.is_green() || was_main && slot == 0), Ordering::Relaxed);
}

/// The forking thread, back in its worker loop in the child: starts the
/// child's other workers and its monitor; returns the child's runtime.
pub(crate) fn start_after_fork(slot: usize) -> &'static Runtime {
    let rt = runtime();
    if started() {
        start_workers(rt, Some(slot));
        if let Some(m) = MONITOR.get() {
            (m.restart_after_fork)(rt);
        }
    }
    rt
}

/// Set in a forked child whose main coroutine is not on the loop that
/// waits for it (worker 0's, `main_loop`): its end ends the process.
static EXIT_AT_END: AtomicBool = AtomicBool::new(false);

/// A task has finished on a worker: if it was a forked child's main
/// coroutine, ends the process with its result as `main`'s return would.
/// If it was `main`, worker 0's loop (which waits for it, `main_loop`) is
/// woken: `main` may have ended on a spare (it went there in a hand-off and
/// yielded into the spare's own queue) while worker 0 slept without a
/// timeout, and the process hung at `main`'s return
/// (`handoff_main_returns`).
pub(crate) fn finished(t: &Task) {
    if is_main_task(t) {
        if EXIT_AT_END.load(Ordering::Relaxed) {
            // SAFETY: what returning from main does.
            unsafe { libc::exit(t.result() as i32) };
        }
        runtime().notify(0);
    }
}

fn new_poller() -> crate::reactor::poller::Poller {
    match crate::reactor::poller::Poller::new() {
        Ok(p) => p,
        Err(e) => {
            crate::diag!("cannot create a poller ({e}); aborting");
            std::process::abort();
        }
    }
}

impl Runtime {
    /// Slot `i`'s poller: fd readiness of its coroutines, and where it
    /// sleeps when idle.
    #[inline]
    pub(crate) fn poller(&self, i: usize) -> &crate::reactor::poller::Poller {
        self.slot[i].poller.get_or_init(new_poller)
    }

    /// Slot `i`'s poller if it has one already (never makes one).
    pub(crate) fn poller_made(&self, i: usize) -> Option<&crate::reactor::poller::Poller> {
        self.slot[i].poller.get()
    }

    /// Workers proper (spare slots not counted).
    pub fn workers(&self) -> usize {
        self.primaries.load(Ordering::Relaxed)
    }

    /// Worker and spare slots.
    pub fn slots(&self) -> usize {
        self.slot.len()
    }

    /// Starts the thread of spare slot `i` (the monitor's first hand-off
    /// to it). False if it cannot.
    pub(crate) fn start_spare(&'static self, i: usize) -> bool {
        if self.slot[i].poller.get().is_none() {
            match crate::reactor::poller::Poller::new() {
                Ok(p) => {
                    let _ = self.slot[i].poller.set(p);
                }
                Err(e) => {
                    static SAID: std::sync::Once = std::sync::Once::new();
                    SAID.call_once(|| crate::diag!("cannot create a poller for spare {i} ({e}); blocked workers keep their coroutines until their calls return"));
                    return false;
                }
            }
        }
        let Some(deque) = self.take_deque(i) else { return true };
        let r = start_thread(format!("opencoro-s{i}"), WORKER_THREAD_STACK, move || worker::run(self, i, deque, None));
        if let Err(e) = r {
            crate::diag!("cannot start spare thread {i} ({e}); blocked workers keep their coroutines");
            return false;
        }
        true
    }

    fn take_deque(&self, i: usize) -> Option<Worker<Arc<Task>>> {
        self.deques.lock().unwrap_or_else(|e| e.into_inner())[i].take()
    }

    /// Returns worker `i`'s local queue for another thread to claim.
    pub(crate) fn give_back_deque(&self, i: usize, deque: Worker<Arc<Task>>) {
        self.deques.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(deque);
    }

    /// Wakes worker `i` out of its poller wait (or makes its next wait
    /// return at once).
    pub(crate) fn notify(&self, i: usize) {
        crate::debug!("wake worker {i}");
        self.poller(i).notify();
    }

    /// New work was queued: wakes a sleeping worker if one is needed.
    pub(crate) fn wake_any(&self) {
        if let Some(i) = self.idle.wake_any() {
            self.notify(i);
        }
    }
}

/// Queues a runnable task: a pinned task to its worker (its own queue when
/// that is the calling worker, else its inbox, waking that worker); a new
/// task to the calling worker's local queue or, from a plain thread, to the
/// injector, waking a sleeping worker if one is needed.
#[inline(never)]
pub fn schedule(t: Arc<Task>) {
    queue(t, false)
}

/// Queues a coroutine just made with the C API (see [`schedule`]): when it
/// is the only one queued on the calling worker, no idle worker is woken
/// for it: this worker runs it as soon as the caller suspends, and an idle
/// worker woken to search would cost both sides system calls (tokio's
/// LIFO-slot rule; a spawn followed by a join is 1.7x faster). Work that
/// piles up (a second one queued) wakes a helper as usual. Not for green
/// threads: a program may spin until a thread it just made runs, which a
/// thread does at once natively (here it would wait for a preemption).
pub fn schedule_new(t: Arc<Task>) {
    queue(t, true)
}

fn queue(t: Arc<Task>, new: bool) {
    let rt = runtime();
    if let Some(w) = t.pinned() {
        if let Err(t) = worker::push_own(w, t) {
            rt.slot[w].inbox.push(t);
            // A dormant spare is not among the idle workers: always wake it.
            if rt.idle.wake_worker(w) || w >= rt.workers() {
                rt.notify(w);
            }
        }
        return;
    }
    match worker::push_local(t.clone()) {
        Some(1) if new => {}
        Some(_) => rt.wake_any(),
        None => {
            rt.injector.push(t);
            rt.wake_any();
        }
    }
}

/// glibc's layout, when coroutines that are not green threads (C API
/// coroutines, and `main` against worker 0's loop) get descriptors of
/// their own (`OPENCORO_SPAWN_OWN_TLS`). A library `dlopen`ed by the
/// program has its thread-locals outside static TLS: no own descriptors
/// there, and no notice about it.
fn own_descriptors() -> Option<&'static crate::glibc::tls::Layout> {
    let want = MAIN_MODE.load(Ordering::Relaxed) && crate::config::get().spawn_own_tls;
    if want { crate::glibc::tls::layout().filter(|_| crate::config::get().green_threads) } else { None }
}

/// Creates a task running `entry` and queues it. With green threads
/// available it gets a stack with a descriptor of its own at the top (see
/// `glibc::tls::Layout::light_block`): it can then run on any worker,
/// and a spare can take it from a blocked one; otherwise it shares the
/// worker's thread-locals and stays on the first worker that runs it.
pub fn spawn(entry: Box<dyn FnOnce() -> usize + Send>, stack_size: usize) -> Arc<Task> {
    let size = if stack_size == 0 { crate::config::get().stack_size } else { stack_size };
    start();
    let t = Task::new(entry, size);
    if let Some(l) = own_descriptors() {
        t.want_light_block(l);
    }
    schedule_new(t.clone());
    t
}
