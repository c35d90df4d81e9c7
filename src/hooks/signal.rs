//! The signal family, for SIGURG only: the runtime's preemption signal.
//!
//! While the runtime's SIGURG handler is installed, `sigaction` and
//! `signal` for SIGURG record the program's action (and report it back)
//! instead of replacing the runtime's handler, which passes every SIGURG it
//! did not send itself on to the program's. Every other signal is libc's.

use libc::{c_int, sighandler_t};

use crate::hooks::{hooks, RealSym};
use crate::monitor::preempt;

hooks! {
    always fn sigaction(sig: c_int, act: *const libc::sigaction, old: *mut libc::sigaction) -> c_int => on_sigaction;
    always fn signal(sig: c_int, handler: sighandler_t) -> sighandler_t => on_signal;
    always fn bsd_signal(sig: c_int, handler: sighandler_t) -> sighandler_t => on_signal;
}

static REAL_SIGACTION: RealSym = RealSym::new("sigaction\0");

/// libc's own `sigaction` (the runtime's own handlers use it).
///
/// # Safety
/// As for `sigaction`.
pub unsafe fn real_sigaction(sig: c_int, act: *const libc::sigaction, old: *mut libc::sigaction) -> c_int {
    type Real = unsafe extern "C" fn(c_int, *const libc::sigaction, *mut libc::sigaction) -> c_int;
    // SAFETY: libc's sigaction has this type.
    let real: Real = unsafe { std::mem::transmute::<*mut libc::c_void, Real>(REAL_SIGACTION.get()) };
    // SAFETY: the caller's contract.
    unsafe { real(sig, act, old) }
}

unsafe fn on_sigaction(
    real: unsafe extern "C" fn(c_int, *const libc::sigaction, *mut libc::sigaction) -> c_int,
    sig: c_int,
    act: *const libc::sigaction,
    old: *mut libc::sigaction,
) -> c_int {
    if sig != libc::SIGURG || !preempt::active() {
        // SAFETY: the caller's own arguments.
        return unsafe { real(sig, act, old) };
    }
    // SAFETY: old and act are NULL or valid, as for libc.
    unsafe {
        if !old.is_null() {
            *old = std::mem::zeroed();
            preempt::program(&mut *old);
        }
        if !act.is_null() {
            preempt::set_program(&*act);
        }
    }
    0
}

unsafe fn on_signal(real: unsafe extern "C" fn(c_int, sighandler_t) -> sighandler_t, sig: c_int, handler: sighandler_t) -> sighandler_t {
    if sig != libc::SIGURG || !preempt::active() {
        // SAFETY: the caller's own arguments.
        return unsafe { real(sig, handler) };
    }
    // SAFETY: sigaction is plain data.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    preempt::program(&mut old);
    // SAFETY: as above.
    let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
    new.sa_sigaction = handler;
    new.sa_flags = libc::SA_RESTART;
    preempt::set_program(&new);
    old.sa_sigaction
}
