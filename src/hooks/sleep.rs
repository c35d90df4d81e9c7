//! The sleep family: `sleep`, `usleep`, `nanosleep`, `clock_nanosleep`,
//! `sched_yield`. Inside a coroutine they suspend only that coroutine.
//!
//! Invalid arguments (NULL, negative seconds, `tv_nsec` outside 0..1e9) and
//! clocks other than CLOCK_REALTIME / CLOCK_MONOTONIC are handed to libc,
//! which answers them at once with its own result and errno. A sleep of zero
//! yields once, so that busy `usleep(0)` loops let the others run. The
//! process's only coroutine sleeps (or yields) as it would without the
//! library (`shared` hooks): nothing else could run meanwhile, and the
//! runtime stays unstarted (see `sched::start`).

use libc::{c_int, c_uint, clockid_t, timespec, useconds_t};

use crate::coro;
use crate::hooks::hooks;
use crate::sys::{clock_ns, now_ns};

hooks! {
    shared fn sleep(secs: c_uint) -> c_uint => on_sleep, cancel;
    shared fn usleep(usec: useconds_t) -> c_int => on_usleep, cancel;
    shared fn nanosleep(req: *const timespec, rem: *mut timespec) -> c_int => on_nanosleep, cancel;
    shared fn clock_nanosleep(clock: clockid_t, flags: c_int, req: *const timespec, rem: *mut timespec) -> c_int => on_clock_nanosleep, cancel;
    shared fn sched_yield() -> c_int => on_sched_yield;
}

const NS: u64 = 1_000_000_000;

/// Sleeps the current coroutine for `ns` nanoseconds (yielding once for
/// 0). Returns the nanoseconds left when a signal handler cut it short.
fn sleep_for(ns: u64) -> Option<u64> {
    if ns == 0 {
        coro::yield_now();
        return None;
    }
    let deadline = now_ns().saturating_add(ns);
    if coro::sleep_until(deadline) {
        None
    } else {
        Some(deadline.saturating_sub(now_ns()))
    }
}

/// EINTR, with the time left in `rem` (if given).
fn interrupted(left: u64, rem: *mut timespec) {
    if !rem.is_null() {
        // SAFETY: a writable timespec from the caller, as for libc.
        unsafe { *rem = timespec { tv_sec: (left / NS) as i64, tv_nsec: (left % NS) as i64 } };
    }
}

/// A valid relative or absolute time as nanoseconds, or None for what the
/// kernel rejects with EINVAL / EFAULT.
fn valid_ns(req: *const timespec) -> Option<u64> {
    // Unreadable: None, and libc's call answers EFAULT.
    let ts = crate::sys::copy_in(req)?;
    if ts.tv_sec < 0 || !(0..NS as i64).contains(&ts.tv_nsec) {
        return None;
    }
    Some((ts.tv_sec as u64).saturating_mul(NS).saturating_add(ts.tv_nsec as u64))
}

unsafe fn on_sleep(_real: unsafe extern "C" fn(c_uint) -> c_uint, secs: c_uint) -> c_uint {
    // glibc's sleep returns the whole seconds left.
    sleep_for(secs as u64 * NS).map_or(0, |left| (left / NS) as c_uint)
}

unsafe fn on_usleep(_real: unsafe extern "C" fn(useconds_t) -> c_int, usec: useconds_t) -> c_int {
    match sleep_for(usec as u64 * 1000) {
        None => 0,
        Some(_) => {
            crate::sys::set_errno(libc::EINTR);
            -1
        }
    }
}

unsafe fn on_nanosleep(
    real: unsafe extern "C" fn(*const timespec, *mut timespec) -> c_int,
    req: *const timespec,
    rem: *mut timespec,
) -> c_int {
    match valid_ns(req) {
        Some(ns) => match sleep_for(ns) {
            None => 0,
            Some(left) => {
                interrupted(left, rem);
                crate::sys::set_errno(libc::EINTR);
                -1
            }
        },
        // SAFETY: libc rejects these at once without blocking.
        None => unsafe { real(req, rem) },
    }
}

unsafe fn on_clock_nanosleep(
    real: unsafe extern "C" fn(clockid_t, c_int, *const timespec, *mut timespec) -> c_int,
    clock: clockid_t,
    flags: c_int,
    req: *const timespec,
    rem: *mut timespec,
) -> c_int {
    let supported = matches!(clock, libc::CLOCK_MONOTONIC | libc::CLOCK_REALTIME) && flags & !libc::TIMER_ABSTIME == 0;
    let ns = match valid_ns(req) {
        Some(ns) if supported => ns,
        // SAFETY: other clocks and flags keep libc's behaviour (they may block
        // this worker); invalid arguments are rejected by libc at once.
        _ => return unsafe { real(clock, flags, req, rem) },
    };
    if flags & libc::TIMER_ABSTIME == 0 {
        if let Some(left) = sleep_for(ns) {
            interrupted(left, rem);
            return libc::EINTR;
        }
    } else {
        // An absolute deadline on `clock`, converted to CLOCK_MONOTONIC now.
        // A deadline already past returns at once, as the kernel's does
        // (a ticker that is late catches up without queueing behind
        // coroutines that use their whole slice).
        let now = clock_ns(clock);
        if ns > now && !coro::sleep_until(now_ns().saturating_add(ns - now)) {
            return libc::EINTR;
        }
    }
    0
}

unsafe fn on_sched_yield(_real: unsafe extern "C" fn() -> c_int) -> c_int {
    coro::yield_now();
    0
}
