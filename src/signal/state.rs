//! What the coroutine core must know of the signal layer, kept below it
//! (`coro` raises a green thread's held signals after each switch and sets
//! its mask on the worker): which handlers asked for restarts, and whether
//! the preemption signal is in use. Written by `program` and `preempt`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

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
