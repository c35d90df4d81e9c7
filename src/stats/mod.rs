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

pub mod dump;
pub mod report;

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

/// Calls sent to the blocking pool (`reactor::blocking`).
static BLOCKING_CALLS: AtomicU64 = AtomicU64::new(0);

/// A call went to the blocking pool.
pub fn blocking_call() {
    BLOCKING_CALLS.fetch_add(1, Ordering::Relaxed);
}

/// Calls sent to the blocking pool so far.
pub fn blocking_calls() -> u64 {
    BLOCKING_CALLS.load(Ordering::Relaxed)
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

/// The peak of live coroutines, and the stack bytes in use and their peak.
pub(crate) fn process_figures() -> (usize, usize, usize) {
    (PEAK_LIVE.load(Ordering::Relaxed), STACK_BYTES.load(Ordering::Relaxed), PEAK_STACK_BYTES.load(Ordering::Relaxed))
}

/// In a forked child: only the forking coroutine (on a stack of
/// `stack` bytes) lives.
pub(crate) fn forget_after_fork(stack: usize) {
    PEAK_LIVE.store(1, Ordering::Relaxed);
    STACK_BYTES.store(stack, Ordering::Relaxed);
    PEAK_STACK_BYTES.store(stack, Ordering::Relaxed);
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
pub fn emit(event: Event, task: *const ()) {
    let p = LISTENER.load(Ordering::Relaxed);
    if !p.is_null() {
        emit_slow(p, event, task);
    }
}

#[cold]
#[inline(never)]
fn emit_slow(p: *mut Installed, event: Event, task: *const ()) {
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
