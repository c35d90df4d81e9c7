//! The process family: `vfork` and the `wait` calls.
//!
//! A vfork child shares the parent's memory and runs on the parent's stack
//! until it execs, and glibc runs no fork handlers for it: under the
//! runtime it would believe it is the parent's coroutine and run hooks
//! (even suspend into the parent's scheduler) in the parent's memory.
//! `vfork` therefore makes a full `fork`, which the vfork contract allows
//! (the child may only exec or `_exit` either way, and with fork its hooks
//! know they are in a child; it gets no runtime of its own, see
//! `crate::fork`).
//!
//! `wait`, `waitpid`, `wait3`, `wait4` and `waitid` that may block run on
//! the blocking pool while other coroutines exist (any thread of the
//! process may reap its children): a worker blocked there could hold up
//! coroutines queued on it, such as the one that feeds the child's stdin.
//! With `WNOHANG`, or as the process's only coroutine, the call is made
//! directly, so a lone `main` waits (and is interrupted by signals) exactly
//! as without the library.

use libc::{c_int, id_t, idtype_t, pid_t, rusage, siginfo_t};

use crate::hooks::{hooks, P};
use crate::io;

hooks! {
    always fn vfork() -> pid_t => on_vfork;
    co fn wait(status: *mut c_int) -> pid_t => on_wait;
    co fn waitpid(pid: pid_t, status: *mut c_int, options: c_int) -> pid_t => on_waitpid;
    co fn wait3(status: *mut c_int, options: c_int, usage: *mut rusage) -> pid_t => on_wait3;
    co fn wait4(pid: pid_t, status: *mut c_int, options: c_int, usage: *mut rusage) -> pid_t => on_wait4;
    co fn waitid(idtype: idtype_t, id: id_t, info: *mut siginfo_t, options: c_int) -> c_int => on_waitid;
}

unsafe fn on_vfork(real: unsafe extern "C" fn() -> pid_t) -> pid_t {
    if !crate::hooks::serving() {
        // SAFETY: a plain vfork where no runtime runs (a child already).
        return unsafe { real() };
    }
    crate::fork::fork_for_vfork()
}

/// Makes a wait call: directly when it cannot block, else through
/// [`io::offload`].
fn waiting(options: c_int, mut call: impl FnMut() -> isize + Send) -> isize {
    if options & libc::WNOHANG != 0 {
        return call();
    }
    io::offload(&mut call)
}

unsafe fn on_wait(real: unsafe extern "C" fn(*mut c_int) -> pid_t, status: *mut c_int) -> pid_t {
    let s = P(status);
    // SAFETY: the caller's own argument, valid while it waits for the call.
    waiting(0, move || unsafe { real({ s }.0) } as isize) as pid_t
}

unsafe fn on_waitpid(real: unsafe extern "C" fn(pid_t, *mut c_int, c_int) -> pid_t, pid: pid_t, status: *mut c_int, options: c_int) -> pid_t {
    let s = P(status);
    // SAFETY: as in on_wait.
    waiting(options, move || unsafe { real(pid, { s }.0, options) } as isize) as pid_t
}

unsafe fn on_wait3(real: unsafe extern "C" fn(*mut c_int, c_int, *mut rusage) -> pid_t, status: *mut c_int, options: c_int, usage: *mut rusage) -> pid_t {
    let (s, u) = (P(status), P(usage));
    // SAFETY: as in on_wait.
    waiting(options, move || unsafe { real({ s }.0, options, { u }.0) } as isize) as pid_t
}

unsafe fn on_wait4(
    real: unsafe extern "C" fn(pid_t, *mut c_int, c_int, *mut rusage) -> pid_t,
    pid: pid_t,
    status: *mut c_int,
    options: c_int,
    usage: *mut rusage,
) -> pid_t {
    let (s, u) = (P(status), P(usage));
    // SAFETY: as in on_wait.
    waiting(options, move || unsafe { real(pid, { s }.0, options, { u }.0) } as isize) as pid_t
}

unsafe fn on_waitid(real: unsafe extern "C" fn(idtype_t, id_t, *mut siginfo_t, c_int) -> c_int, idtype: idtype_t, id: id_t, info: *mut siginfo_t, options: c_int) -> c_int {
    let i = P(info);
    // SAFETY: as in on_wait.
    waiting(options, move || unsafe { real(idtype, id, { i }.0, options) } as isize) as c_int
}
