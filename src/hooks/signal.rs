//! The signal family: `sigaction`, `signal` and `bsd_signal`.
//!
//! - SIGURG is the runtime's preemption signal: while its handler is
//!   installed, the program's SIGURG action is recorded (and reported back)
//!   instead of installed, and gets every SIGURG the runtime did not send.
//! - A program's handler for another signal is installed behind a
//!   trampoline. A signal sent to the process (kill, a timer, the terminal)
//!   lands on whichever worker the kernel picks; the trampoline forwards it
//!   to `main`, as the kernel would prefer the main thread: main raises it
//!   on itself the next time it runs (at once if it waits), so the handler
//!   runs on main's own stack and thread-locals, and main's hooked wait is
//!   cut short as the kernel would cut it: sleeps always, other waits with
//!   EINTR unless the handler asked for `SA_RESTART`. Signals sent to one
//!   thread run their handler on that thread.
//! - SIGSEGV and SIGBUS stay libc's (the runtime's overflow handler chains
//!   to what the program installs before it; see `signal::overflow`).

use libc::{c_int, sighandler_t};

use crate::hooks::hooks;
use crate::signal::program::{self, SigactionFn};

hooks! {
    always fn sigaction(sig: c_int, act: *const libc::sigaction, old: *mut libc::sigaction) -> c_int => on_sigaction;
    always fn signal(sig: c_int, handler: sighandler_t) -> sighandler_t => on_signal;
    always fn bsd_signal(sig: c_int, handler: sighandler_t) -> sighandler_t => on_signal;
    co fn sigsuspend(mask: *const libc::sigset_t) -> c_int => on_sigsuspend;
}

/// `sigsuspend` on a coroutine: signals held for it (it blocked them when
/// they came) that the suspend mask lets through run now and end the call
/// with EINTR, as the kernel's pending signals would. Otherwise the real
/// call, with the suspend mask recorded meanwhile, so that a signal sent to
/// the process is forwarded to the thread that waits in it.
unsafe fn on_sigsuspend(real: unsafe extern "C" fn(*const libc::sigset_t) -> c_int, mask: *const libc::sigset_t) -> c_int {
    let Some(t) = crate::coro::current_task() else {
        // SAFETY: the caller's own argument.
        return unsafe { real(mask) };
    };
    if mask.is_null() {
        // SAFETY: as above (libc answers EFAULT).
        return unsafe { real(mask) };
    }
    // The first 8 bytes of the caller's sigset hold 1..=64; unreadable:
    // libc's EFAULT.
    let Some(new) = crate::sys::copy_in(mask as *const u64) else {
        // SAFETY: the caller's own argument.
        return unsafe { real(mask) };
    };
    let old = t.signals().mask();
    t.signals().set_mask(new);
    if t.signals().has_pending_unblocked() {
        crate::sys::sigmask(libc::SIG_SETMASK, Some(new));
        t.deliver_pending();
        crate::sys::sigmask(libc::SIG_SETMASK, Some(old));
        t.signals().set_mask(old);
        crate::sys::set_errno(libc::EINTR);
        return -1;
    }
    // SAFETY: as above.
    let r = unsafe { real(mask) };
    t.signals().set_mask(old);
    r
}

unsafe fn on_sigaction(real: SigactionFn, sig: c_int, act: *const libc::sigaction, old: *mut libc::sigaction) -> c_int {
    if sig == libc::SIGURG && crate::signal::preempt::active() {
        // SAFETY: old and act are NULL or valid, as for libc.
        unsafe {
            if !old.is_null() {
                *old = std::mem::zeroed();
                crate::signal::preempt::program(&mut *old);
            }
            if !act.is_null() {
                crate::signal::preempt::set_program(&*act);
            }
        }
        return 0;
    }
    // SAFETY: the caller's contract.
    unsafe { program::install(real, sig, act, old) }
}

unsafe fn on_signal(_real: unsafe extern "C" fn(c_int, sighandler_t) -> sighandler_t, sig: c_int, handler: sighandler_t) -> sighandler_t {
    // glibc's signal(): BSD semantics, a persistent handler with SA_RESTART.
    // SAFETY: sigaction is plain data; on_sigaction gets valid pointers.
    unsafe {
        let mut new: libc::sigaction = std::mem::zeroed();
        new.sa_sigaction = handler;
        new.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut new.sa_mask);
        libc::sigaddset(&mut new.sa_mask, sig);
        let mut old: libc::sigaction = std::mem::zeroed();
        if on_sigaction(program::real_sigaction_fn(), sig, &new, &mut old) != 0 {
            return libc::SIG_ERR;
        }
        old.sa_sigaction
    }
}
