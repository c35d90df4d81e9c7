//! Runtime statistics (`OPENCORO_STATS=1`, `opencoro_stats`) and the
//! listener of the C API (`opencoro_set_listener`).
//!
//! Counters are per worker slot ([`WorkerStats`], in the runtime, so a
//! forked child starts from zero) and bumped by the thread that owns the
//! slot, except hand-offs (the monitor) — all relaxed atomics, read
//! whenever someone asks. Switches are the monitor's own counter
//! (`Watch::switches`). Process-wide: live coroutines and their peak, stack
//! bytes in use and their peak.
//!
//! The listener is one pointer: while none is set, each event costs one
//! relaxed load and a predictable branch.

use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};

/// One slot's counters.
#[derive(Default)]
pub struct WorkerStats {
    /// Coroutines that started on this worker.
    pub started: AtomicU64,
    /// Batches stolen from other workers' queues.
    pub steals: AtomicU64,
    /// Coroutines preempted here (SIGURG from the monitor).
    pub preemptions: AtomicU64,
    /// Times the monitor found this worker stuck in a call and handed its
    /// work to a spare.
    pub handoffs: AtomicU64,
    /// Waits for fd readiness registered on this worker's poller.
    pub reactor_waits: AtomicU64,
    /// Sleeps and timeouts that ended by their deadline here.
    pub timers_fired: AtomicU64,
}

/// Adds one (relaxed: a statistic).
#[inline]
pub fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

static PEAK_LIVE: AtomicUsize = AtomicUsize::new(0);
static STACK_BYTES: AtomicUsize = AtomicUsize::new(0);
static PEAK_STACK_BYTES: AtomicUsize = AtomicUsize::new(0);

/// A coroutine was created; `live` is the count including it.
#[inline]
pub fn created(live: usize) {
    if live > PEAK_LIVE.load(Ordering::Relaxed) {
        PEAK_LIVE.fetch_max(live, Ordering::Relaxed);
    }
}

/// A coroutine took a stack of `bytes` (positive) or gave it back.
#[inline]
pub fn stack_taken(bytes: usize) {
    let now = STACK_BYTES.fetch_add(bytes, Ordering::Relaxed) + bytes;
    if now > PEAK_STACK_BYTES.load(Ordering::Relaxed) {
        PEAK_STACK_BYTES.fetch_max(now, Ordering::Relaxed);
    }
}

#[inline]
pub fn stack_given(bytes: usize) {
    STACK_BYTES.fetch_sub(bytes, Ordering::Relaxed);
}

/// In a forked child: only the forking coroutine (on a stack of
/// `stack` bytes) lives.
pub(crate) fn forget_after_fork(stack: usize) {
    PEAK_LIVE.store(1, Ordering::Relaxed);
    STACK_BYTES.store(stack, Ordering::Relaxed);
    PEAK_STACK_BYTES.store(stack, Ordering::Relaxed);
}

/// The C API's per-worker record (`opencoro_worker_stats` in opencoro.h).
#[repr(C)]
#[derive(Default, Clone, Copy, Debug)]
pub struct CWorkerStats {
    pub coroutines_run: u64,
    pub switches: u64,
    pub steals: u64,
    pub preemptions: u64,
    pub handoffs: u64,
    pub reactor_waits: u64,
    pub timers_fired: u64,
}

/// The C API's process-wide record (`opencoro_stats` in opencoro.h).
#[repr(C)]
#[derive(Default, Clone, Copy, Debug)]
pub struct CTotals {
    pub workers: u64,
    pub slots: u64,
    pub live_coroutines: u64,
    pub peak_live_coroutines: u64,
    pub stack_bytes: u64,
    pub peak_stack_bytes: u64,
}

/// Slot `i`'s counters now (zeros before the runtime starts).
pub fn worker(i: usize) -> CWorkerStats {
    let Some(rt) = crate::sched::try_runtime() else { return CWorkerStats::default() };
    let (Some(s), Some(w)) = (rt.slot.get(i).map(|s| &s.stats), rt.slot.get(i).map(|s| &s.watch)) else { return CWorkerStats::default() };
    let r = |c: &AtomicU64| c.load(Ordering::Relaxed);
    CWorkerStats {
        coroutines_run: r(&s.started),
        switches: r(&w.switches),
        steals: r(&s.steals),
        preemptions: r(&s.preemptions),
        handoffs: r(&s.handoffs),
        reactor_waits: r(&s.reactor_waits),
        timers_fired: r(&s.timers_fired),
    }
}

/// The process-wide figures now.
pub fn totals() -> CTotals {
    let rt = crate::sched::try_runtime();
    CTotals {
        workers: rt.map_or(0, |r| r.workers()) as u64,
        slots: rt.map_or(0, |r| r.slots()) as u64,
        live_coroutines: crate::coro::live() as u64,
        peak_live_coroutines: PEAK_LIVE.load(Ordering::Relaxed) as u64,
        stack_bytes: STACK_BYTES.load(Ordering::Relaxed) as u64,
        peak_stack_bytes: PEAK_STACK_BYTES.load(Ordering::Relaxed) as u64,
    }
}

/// `OPENCORO_STATS=1`: prints the figures when the process exits.
pub(crate) fn print_at_exit() {
    extern "C" fn at_exit() {
        print();
    }
    // SAFETY: registers a plain function.
    unsafe { libc::atexit(at_exit) };
}

fn print() {
    let t = totals();
    crate::log::emit(format_args!(
        "stats: {} workers; coroutines live {}, peak {}; stack memory reserved {} KiB, peak {} KiB",
        t.workers,
        t.live_coroutines,
        t.peak_live_coroutines,
        t.stack_bytes / 1024,
        t.peak_stack_bytes / 1024
    ));
    for i in 0..t.slots as usize {
        let w = worker(i);
        if i >= t.workers as usize && w.switches == 0 {
            continue; // a spare never used
        }
        let kind = if i < t.workers as usize { "worker" } else { "spare" };
        crate::log::emit(format_args!(
            "stats: {kind} {i}: coroutines run {}, switches {}, steals {}, preemptions {}, hand-offs {}, reactor waits {}, timers fired {}",
            w.coroutines_run, w.switches, w.steals, w.preemptions, w.handoffs, w.reactor_waits, w.timers_fired
        ));
    }
}

// ---- the listener ----

/// `opencoro_listener` in opencoro.h: each callback may be NULL.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Listener {
    pub on_create: Option<Callback>,
    pub on_suspend: Option<Callback>,
    pub on_resume: Option<Callback>,
    pub on_blocking: Option<Callback>,
    pub on_complete: Option<Callback>,
}

pub type Callback = extern "C" fn(user: *mut libc::c_void, task: u64);

struct Installed {
    l: Listener,
    user: *mut libc::c_void,
}

static LISTENER: AtomicPtr<Installed> = AtomicPtr::new(std::ptr::null_mut());

/// Sets (or, with None, removes) the listener. A replaced one is leaked: a
/// worker may be calling it right now.
pub fn set_listener(l: Option<Listener>, user: *mut libc::c_void) {
    let p = l.map_or(std::ptr::null_mut(), |l| Box::into_raw(Box::new(Installed { l, user })));
    LISTENER.store(p, Ordering::Release);
}

/// What happened to a coroutine.
#[derive(Clone, Copy)]
pub enum Event {
    Create,
    Suspend,
    Resume,
    Blocking,
    Complete,
}

/// Tells the listener, if one is set, that `event` happened to `task`.
#[inline]
pub fn emit(event: Event, task: *const crate::coro::Task) {
    let p = LISTENER.load(Ordering::Relaxed);
    if !p.is_null() {
        emit_slow(p, event, task);
    }
}

#[cold]
#[inline(never)]
fn emit_slow(p: *mut Installed, event: Event, task: *const crate::coro::Task) {
    std::sync::atomic::fence(Ordering::Acquire);
    // SAFETY: installed listeners are never freed.
    let i = unsafe { &*p };
    let f = match event {
        Event::Create => i.l.on_create,
        Event::Suspend => i.l.on_suspend,
        Event::Resume => i.l.on_resume,
        Event::Blocking => i.l.on_blocking,
        Event::Complete => i.l.on_complete,
    };
    if let Some(f) = f {
        f(i.user, task as u64);
    }
}
