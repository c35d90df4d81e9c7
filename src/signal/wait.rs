//! The wait behind `sigwait`, `sigwaitinfo` and `sigtimedwait` (their
//! hooks are in `hooks::sigwait`).
//!
//! While other coroutines exist, the wait suspends only the caller: it
//! takes a signal of the set that is already pending (the kernel's, for
//! the worker thread or the process, with a zero-timeout `sigtimedwait`;
//! or one the runtime holds for the coroutine), and otherwise waits on the
//! reactor for a `signalfd` of the set to become readable, then tries
//! again.

use libc::{c_int, siginfo_t, timespec};

use crate::reactor::{self, Dir, Wait};
use crate::sys::{set_errno, syscall6};

pub(crate) type Timed = unsafe extern "C" fn(*const libc::sigset_t, *mut siginfo_t, *const timespec) -> c_int;

/// Waits for a signal of `set` until `deadline`; returns its number, or -1
/// with errno (EAGAIN at the deadline). None: make the plain call. For the
/// `sigwait` hooks, which the process's only coroutine never reaches
/// (`shared` hooks: it makes the plain call).
pub(crate) fn wait_signal(timed: Timed, set: *const libc::sigset_t, info: *mut siginfo_t, deadline: u64) -> Option<c_int> {
    if set.is_null() {
        return None;
    }
    let task = crate::coro::current_task()?;
    // The first 8 bytes of the caller's sigset hold signals 1..=64;
    // unreadable: the plain call answers EFAULT.
    let bits = crate::sys::copy_in(set as *const u64)?;
    // SAFETY: signalfd4 of the caller's set, non-blocking, close-on-exec.
    let fd = unsafe { syscall6(libc::SYS_signalfd4, usize::MAX, set as usize, 8, (libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) as usize, 0, 0) };
    if fd < 0 {
        return None;
    }
    let fd = fd as i32;
    reactor::created(fd);
    let zero = timespec { tv_sec: 0, tv_nsec: 0 };
    let r = loop {
        if let Some(sig) = task.signals().take_pending_in(bits) {
            if !info.is_null() {
                // SAFETY: the caller's siginfo; a signal the runtime held
                // (sent to the process or to this thread) has no details.
                unsafe {
                    std::ptr::write_bytes(info, 0, 1);
                    (*info).si_signo = sig;
                    (*info).si_code = libc::SI_USER;
                }
            }
            break sig;
        }
        // SAFETY: libc's sigtimedwait with the caller's set and siginfo.
        let r = unsafe { timed(set, info, &zero) };
        if r > 0 || crate::sys::errno() != libc::EAGAIN {
            break r;
        }
        let Some(tok) = reactor::token(fd) else { break -1 };
        match reactor::wait(tok, Dir::Read, deadline) {
            Wait::Ready => continue,
            Wait::TimedOut => {
                set_errno(libc::EAGAIN);
                break -1;
            }
            Wait::Closed | Wait::Unpollable => {
                // SAFETY: as above, now blocking until the deadline.
                break unsafe { timed(set, info, std::ptr::null()) };
            }
        }
    };
    let e = crate::sys::errno();
    reactor::closed(fd);
    crate::sys::close_own(fd); // our own signalfd
    set_errno(e);
    Some(r)
}

