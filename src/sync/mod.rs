//! Waiting on memory words: the parking lot behind the futex hook and the
//! pthread synchronisation hooks.
//!
//! Green threads cannot sleep in the kernel's futex (that would block their
//! worker), so they queue in [`lot`] under the word's address and suspend;
//! whoever releases the word wakes them there. Plain OS threads (the
//! program's own under `OPENCORO_THREADS=os`, threads started before the
//! runtime) queue in the same lot and sleep on a futex of their own, so a
//! lock shared between both kinds works whichever side waits.
//!
//! [`pthread`]: the pthread objects (mutexes, condition variables, rwlocks,
//! barriers, semaphores, `pthread_once`) behind the lock hooks' table
//! (`hooks::lock`).

pub mod lot;
pub mod per_process;
pub mod pthread;
pub mod spin;

pub use per_process::PerProcess;

/// A deadline, in CLOCK_MONOTONIC ns, from a `timespec` on `clock` (an
/// absolute time, as pthread and futex timeouts are). None: the timespec is
/// invalid (EINVAL).
pub fn deadline_from_abs(clock: libc::clockid_t, ts: &libc::timespec) -> Option<u64> {
    if !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return None;
    }
    let target = (ts.tv_sec.max(0) as u64).saturating_mul(1_000_000_000).saturating_add(ts.tv_nsec as u64);
    let now_mono = crate::sys::now_ns();
    if clock == libc::CLOCK_MONOTONIC {
        return Some(target);
    }
    let now = crate::sys::clock_ns(clock);
    Some(now_mono.saturating_add(target.saturating_sub(now)))
}

/// A deadline from a relative `timespec` (futex FUTEX_WAIT).
pub fn deadline_from_rel(ts: &libc::timespec) -> Option<u64> {
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return None;
    }
    Some(crate::sys::now_ns().saturating_add((ts.tv_sec as u64).saturating_mul(1_000_000_000)).saturating_add(ts.tv_nsec as u64))
}
