//! Waiting for signals: `sigwait`, `sigwaitinfo`, `sigtimedwait`.
//!
//! While other coroutines exist, the wait suspends only the caller: it
//! takes a signal of the set that is already pending (the kernel's, for
//! the worker thread or the process, with a zero-timeout `sigtimedwait`;
//! or one the runtime holds for the coroutine), and otherwise waits on the
//! reactor for a `signalfd` of the set to become readable, then tries
//! again. The process's only coroutine makes the plain call.
//!
//! As natively, the program blocks the signals it waits for; a signal that
//! some other thread does not block may go to that thread instead.

use libc::{c_int, siginfo_t, timespec};

use crate::hooks::hooks;
use crate::signal::wait::{wait_signal, Timed};
use crate::reactor::timer::NEVER;

hooks! {
    shared fn sigwait(set: *const libc::sigset_t, sig: *mut c_int) -> c_int => on_sigwait;
    shared fn sigwaitinfo(set: *const libc::sigset_t, info: *mut siginfo_t) -> c_int => on_sigwaitinfo;
    shared fn sigtimedwait(set: *const libc::sigset_t, info: *mut siginfo_t, timeout: *const timespec) -> c_int => on_sigtimedwait;
}

fn real_timed() -> Timed {
    static REAL: crate::hooks::RealSym = crate::hooks::RealSym::new("sigtimedwait\0");
    // SAFETY: libc's sigtimedwait has this type.
    unsafe { std::mem::transmute::<*mut libc::c_void, Timed>(REAL.get()) }
}

unsafe fn on_sigwait(real: unsafe extern "C" fn(*const libc::sigset_t, *mut c_int) -> c_int, set: *const libc::sigset_t, sig: *mut c_int) -> c_int {
    match wait_signal(real_timed(), set, std::ptr::null_mut(), NEVER) {
        Some(r) if r > 0 => {
            if !sig.is_null() {
                // SAFETY: the caller's int.
                unsafe { *sig = r };
            }
            0
        }
        Some(_) => crate::sys::errno(),
        // SAFETY: the caller's own arguments.
        None => unsafe { real(set, sig) },
    }
}

unsafe fn on_sigwaitinfo(real: unsafe extern "C" fn(*const libc::sigset_t, *mut siginfo_t) -> c_int, set: *const libc::sigset_t, info: *mut siginfo_t) -> c_int {
    // SAFETY: the caller's own arguments in the fallback.
    wait_signal(real_timed(), set, info, NEVER).unwrap_or_else(|| unsafe { real(set, info) })
}

unsafe fn on_sigtimedwait(real: Timed, set: *const libc::sigset_t, info: *mut siginfo_t, timeout: *const timespec) -> c_int {
    let deadline = if timeout.is_null() {
        NEVER
    } else {
        let Some(ts) = crate::sys::copy_in(timeout) else {
            // SAFETY: the caller's own arguments: libc answers EFAULT.
            return unsafe { real(set, info, timeout) };
        };
        match crate::sync::deadline_from_rel(&ts) {
            Some(d) => d,
            // SAFETY: the caller's own arguments: libc answers EINVAL.
            None => return unsafe { real(set, info, timeout) },
        }
    };
    // SAFETY: as above.
    wait_signal(real, set, info, deadline).unwrap_or_else(|| unsafe { real(set, info, timeout) })
}
