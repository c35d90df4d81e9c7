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
use crate::reactor::io;

hooks! {
    always fn vfork() -> pid_t => on_vfork;
    co fn wait(status: *mut c_int) -> pid_t => on_wait, cancel;
    co fn waitpid(pid: pid_t, status: *mut c_int, options: c_int) -> pid_t => on_waitpid, cancel;
    co fn wait3(status: *mut c_int, options: c_int, usage: *mut rusage) -> pid_t => on_wait3, cancel;
    co fn wait4(pid: pid_t, status: *mut c_int, options: c_int, usage: *mut rusage) -> pid_t => on_wait4, cancel;
    co fn waitid(idtype: idtype_t, id: id_t, info: *mut siginfo_t, options: c_int) -> c_int => on_waitid, cancel;
}

static REAL_CLONE: crate::hooks::RealSym = crate::hooks::RealSym::new("clone\0");

type CloneFn = extern "C" fn(*mut libc::c_void) -> c_int;
type RealClone = unsafe extern "C" fn(CloneFn, *mut libc::c_void, c_int, *mut libc::c_void, ...) -> c_int;

/// Interposed `clone` (variadic in C: the three optional arguments are read
/// from their registers, as for `syscall`). A child without CLONE_VM is a
/// new process that glibc's fork handlers never see: it starts in a
/// trampoline that tells the hooks they are in a child (no runtime there),
/// then runs `f(arg)`. Threads (CLONE_VM) are left alone.
///
/// # Safety
/// The same contract as libc's `clone`.
#[cfg_attr(feature = "preload", no_mangle)]
pub unsafe extern "C" fn clone(
    f: CloneFn,
    stack: *mut libc::c_void,
    flags: c_int,
    arg: *mut libc::c_void,
    ptid: *mut pid_t,
    tls: *mut libc::c_void,
    ctid: *mut pid_t,
) -> c_int {
    // SAFETY: REAL_CLONE is libc's clone, whose type is RealClone.
    let real: RealClone = unsafe { std::mem::transmute::<*mut libc::c_void, RealClone>(REAL_CLONE.get()) };
    if !crate::hooks::serving() || flags & libc::CLONE_VM != 0 {
        // SAFETY: a straight call with the caller's own arguments.
        return unsafe { real(f, stack, flags, arg, ptid, tls, ctid) };
    }
    let boxed = Box::into_raw(Box::new((f, arg as usize)));
    // SAFETY: as above, with our trampoline and its boxed arguments (the
    // child has its own copy of the box; the parent frees its own).
    let r = unsafe { real(child_start, stack, flags, boxed.cast(), ptid, tls, ctid) };
    // SAFETY: allocated above; the child, if any, runs on a copy.
    drop(unsafe { Box::from_raw(boxed) });
    r
}

extern "C" fn child_start(p: *mut libc::c_void) -> c_int {
    crate::hooks::mark_forked();
    // SAFETY: the box `clone` made, copied into this process.
    let (f, arg) = unsafe { *(p as *const (CloneFn, usize)) };
    f(arg as *mut libc::c_void)
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
