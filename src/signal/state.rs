//! What the coroutine core must know of the signal layer, kept below it
//! (`coro` raises a green thread's held signals after each switch and sets
//! its mask on the worker): which handlers asked for restarts, whether the
//! preemption signal is in use (written by `program` and `preempt`), and
//! each task's own signal state ([`TaskSignals`], which the task holds).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};

/// Signals (bits of 1..=64) whose program handler asked for `SA_RESTART`.
static RESTARTING: AtomicU64 = AtomicU64::new(0);

/// The runtime's SIGURG handler is installed.
static PREEMPTING: AtomicBool = AtomicBool::new(false);

/// Records whether `sig`'s handler asked for restarts.
pub(crate) fn set_restarts(sig: i32, on: bool) {
    if (1..=64).contains(&sig) {
        let bit = 1u64 << (sig - 1);
        if on {
            RESTARTING.fetch_or(bit, Ordering::Release);
        } else {
            RESTARTING.fetch_and(!bit, Ordering::Release);
        }
    }
}

/// Did the program ask for `SA_RESTART` on `sig`'s handler?
pub fn restarts(sig: i32) -> bool {
    (1..=64).contains(&sig) && RESTARTING.load(Ordering::Relaxed) & (1 << (sig - 1)) != 0
}

/// The preemption signal's handler is installed (for good).
pub(crate) fn set_preempting() {
    PREEMPTING.store(true, Ordering::Release);
}

/// Is the runtime's SIGURG handler installed?
#[inline]
pub fn preempting() -> bool {
    PREEMPTING.load(Ordering::Acquire)
}

/// A task's signal state: its mask, the signals held for it, whether a
/// handler interrupted its wait, and the monitor's preemption request. The
/// task holds it (`Task::signals`); the signal layer and the hooks read and
/// write it; nothing of it is the coroutine core's.
pub struct TaskSignals {
    /// Blocked signals (1..=64) while it runs; the worker applies them.
    mask: AtomicU64,
    /// Signals sent to it with `pthread_kill`, raised when it next runs.
    pending: AtomicU64,
    /// A signal handler ran on it while it waited: 1 = the handler asked
    /// for restarts (SA_RESTART), 2 = it did not (see `take_interrupt`).
    interrupted: AtomicU8,
    /// The monitor asked it to yield while it was at an unsafe point.
    preempt: AtomicBool,
}

impl TaskSignals {
    pub fn new(mask: u64) -> Self {
        TaskSignals { mask: AtomicU64::new(mask), pending: AtomicU64::new(0), interrupted: AtomicU8::new(0), preempt: AtomicBool::new(false) }
    }

    /// The signal mask (signals 1..=64) the task runs with.
    #[inline]
    pub fn mask(&self) -> u64 {
        self.mask.load(Ordering::Relaxed)
    }

    /// Records the mask the task has just set on its worker.
    pub fn set_mask(&self, m: u64) {
        self.mask.store(m, Ordering::Relaxed)
    }

    /// Queues signal `sig` (1..=64) for delivery on the task, which raises
    /// it on its worker when it next runs (so the handler runs on the task,
    /// with its TLS and stack).
    pub fn post(&self, sig: i32) {
        self.pending.fetch_or(1 << (sig - 1), Ordering::AcqRel);
    }

    /// Takes one signal of `set` (bits of signals 1..=64) held for the task,
    /// if any (`sigwait` consumes it instead of a handler running).
    pub fn take_pending_in(&self, set: u64) -> Option<i32> {
        let mut cur = self.pending.load(Ordering::Acquire);
        loop {
            let hit = cur & set;
            if hit == 0 {
                return None;
            }
            let bit = hit & hit.wrapping_neg();
            match self.pending.compare_exchange(cur, cur & !bit, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Some(bit.trailing_zeros() as i32 + 1),
                Err(now) => cur = now,
            }
        }
    }

    /// Are signals held for the task that its mask lets through?
    #[inline]
    pub fn has_pending_unblocked(&self) -> bool {
        self.pending.load(Ordering::Acquire) & !self.mask() != 0
    }

    /// Raises on the calling thread, which runs the task, the signals held
    /// for it that its mask lets through (their handlers run here), and
    /// records that its wait was interrupted. errno is kept.
    pub fn raise_pending(&self) {
        // Signals the task blocks stay pending until it unblocks them.
        let mut bits = self.pending.fetch_and(self.mask(), Ordering::AcqRel) & !self.mask();
        let (pid, tid) = (std::process::id() as usize, crate::sys::gettid() as usize);
        let e = crate::sys::errno();
        while bits != 0 {
            let sig = bits.trailing_zeros() as usize + 1;
            bits &= bits - 1;
            // SAFETY: tgkill to our own thread with a valid signal number.
            unsafe { crate::sys::syscall6(libc::SYS_tgkill, pid, tid, sig, 0, 0, 0) };
            let how = if restarts(sig as i32) { 1 } else { 2 };
            self.interrupted.fetch_max(how, Ordering::Relaxed);
        }
        crate::sys::set_errno(e);
    }

    /// Takes the interruption of the task's current wait: None, or whether
    /// the handler asked for restarts (true) or not.
    pub fn take_interrupt(&self) -> Option<bool> {
        match self.interrupted.swap(0, Ordering::Relaxed) {
            0 => None,
            1 => Some(true),
            _ => Some(false),
        }
    }

    /// Interrupts the task's current wait as a handler without
    /// `SA_RESTART` would (a `pthread_cancel` of it: see `hooks::thread`);
    /// callable from any thread, the waker then unparks the task.
    pub fn interrupt(&self) {
        self.interrupted.fetch_max(2, Ordering::Relaxed);
    }

    /// Forgets an interruption left from before the current wait.
    pub fn clear_interrupt(&self) {
        self.interrupted.store(0, Ordering::Relaxed);
    }

    /// Asks the task to yield at its next hooked call.
    pub fn request_preempt(&self) {
        self.preempt.store(true, Ordering::Relaxed);
    }

    /// Takes a pending preemption request.
    #[inline]
    pub fn take_preempt(&self) -> bool {
        self.preempt.load(Ordering::Relaxed) && self.preempt.swap(false, Ordering::Relaxed)
    }
}
