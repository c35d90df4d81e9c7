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
use crate::reactor::{self, Dir, Wait};
use crate::sys::{set_errno, syscall6};
use crate::timer::NEVER;

hooks! {
    co fn sigwait(set: *const libc::sigset_t, sig: *mut c_int) -> c_int => on_sigwait;
    co fn sigwaitinfo(set: *const libc::sigset_t, info: *mut siginfo_t) -> c_int => on_sigwaitinfo;
    co fn sigtimedwait(set: *const libc::sigset_t, info: *mut siginfo_t, timeout: *const timespec) -> c_int => on_sigtimedwait;
}

type Timed = unsafe extern "C" fn(*const libc::sigset_t, *mut siginfo_t, *const timespec) -> c_int;

/// Waits for a signal of `set` until `deadline`; returns its number, or -1
/// with errno (EAGAIN at the deadline). None: make the plain call.
fn wait_signal(timed: Timed, set: *const libc::sigset_t, info: *mut siginfo_t, deadline: u64) -> Option<c_int> {
    if set.is_null() || !crate::sched::worker::has_company() {
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
        if let Some(sig) = task.take_pending_in(bits) {
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
    // SAFETY: our own signalfd.
    unsafe { syscall6(libc::SYS_close, fd as usize, 0, 0, 0, 0, 0) };
    set_errno(e);
    Some(r)
}

fn real_timed() -> Timed {
    static REAL: crate::hooks::RealSym = crate::hooks::RealSym::new("sigtimedwait\0");
    // SAFETY: libc's sigtimedwait has this type.
    unsafe { std::mem::transmute::<*mut libc::c_void, Timed>(REAL.get()) }
}

unsafe fn on_sigwait(real: unsafe extern "C" fn(*const libc::sigset_t, *mut c_int) -> c_int, set: *const libc::sigset_t, sig: *mut c_int) -> c_int {
    let e = crate::sys::errno();
    match wait_signal(real_timed(), set, std::ptr::null_mut(), NEVER) {
        Some(r) if r > 0 => {
            if !sig.is_null() {
                // SAFETY: the caller's int.
                unsafe { *sig = r };
            }
            set_errno(e);
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
