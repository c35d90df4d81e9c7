//! fd bookkeeping: `close`, `dup2`, `dup3` (the replaced fd is closed:
//! its waiters wake with EBADF and its registrations go, before the fd
//! number can be reused), `fclose` (glibc closes inside without calling
//! `close`), the creators `dup`, `pipe`, `pipe2` (a new fd number forgets an
//! old file's state), and `fcntl`/`ioctl`, whose `F_SETFL` and `FIONBIO`
//! make the reactor re-read the program's own `O_NONBLOCK`.
//!
//! These run on every thread (`any`): a plain thread may close an fd a
//! coroutine waits on. The calls themselves go to libc unchanged; the
//! runtime never changes an fd's flags, so `F_GETFL` needs no lie.

use libc::{c_int, c_ulong, FILE};

use crate::hooks::{hooks, Guard};
use crate::reactor;
use crate::sys::{errno, set_errno};

hooks! {
    any fn close(fd: c_int) -> c_int => on_close;
    any fn fclose(f: *mut FILE) -> c_int => on_fclose;
    any fn dup(fd: c_int) -> c_int => on_dup;
    any fn dup2(old: c_int, new: c_int) -> c_int => on_dup2;
    any fn dup3(old: c_int, new: c_int, flags: c_int) -> c_int => on_dup3;
    any fn pipe(fds: *mut c_int) -> c_int => on_pipe;
    any fn pipe2(fds: *mut c_int, flags: c_int) -> c_int => on_pipe2;
    any fn fcntl(fd: c_int, cmd: c_int, arg: usize) -> c_int => on_fcntl;
    any fn fcntl64(fd: c_int, cmd: c_int, arg: usize) -> c_int => on_fcntl;
    any fn ioctl(fd: c_int, req: c_ulong, arg: usize) -> c_int => on_ioctl;
}

/// Runs `f` without letting the bookkeeping change errno.
fn keep_errno(f: impl FnOnce()) {
    let e = errno();
    f();
    set_errno(e);
}

fn forget_new(fd: c_int) -> c_int {
    if fd >= 0 {
        keep_errno(|| reactor::closed(fd));
    }
    fd
}

unsafe fn on_close(_g: &Guard, real: unsafe extern "C" fn(c_int) -> c_int, fd: c_int) -> c_int {
    reactor::closed(fd);
    // SAFETY: a straight call with the caller's argument.
    unsafe { real(fd) }
}

unsafe fn on_fclose(_g: &Guard, real: unsafe extern "C" fn(*mut FILE) -> c_int, f: *mut FILE) -> c_int {
    if !f.is_null() {
        // SAFETY: the caller passes an open stream, as fclose requires.
        let fd = unsafe { libc::fileno(f) };
        if fd >= 0 {
            reactor::closed(fd);
        }
    }
    // SAFETY: a straight call with the caller's argument.
    unsafe { real(f) }
}

unsafe fn on_dup(_g: &Guard, real: unsafe extern "C" fn(c_int) -> c_int, fd: c_int) -> c_int {
    // SAFETY: a straight call with the caller's argument.
    forget_new(unsafe { real(fd) })
}

unsafe fn on_dup2(_g: &Guard, real: unsafe extern "C" fn(c_int, c_int) -> c_int, old: c_int, new: c_int) -> c_int {
    if old != new {
        reactor::closed(new);
    }
    // SAFETY: a straight call with the caller's arguments.
    unsafe { real(old, new) }
}

unsafe fn on_dup3(_g: &Guard, real: unsafe extern "C" fn(c_int, c_int, c_int) -> c_int, old: c_int, new: c_int, flags: c_int) -> c_int {
    if old != new {
        reactor::closed(new);
    }
    // SAFETY: a straight call with the caller's arguments.
    unsafe { real(old, new, flags) }
}

unsafe fn forget_pair(r: c_int, fds: *mut c_int) -> c_int {
    if r == 0 {
        // SAFETY: on success libc filled both entries.
        unsafe {
            forget_new(*fds);
            forget_new(*fds.add(1));
        }
    }
    r
}

unsafe fn on_pipe(_g: &Guard, real: unsafe extern "C" fn(*mut c_int) -> c_int, fds: *mut c_int) -> c_int {
    // SAFETY: a straight call; then libc's own output.
    unsafe { forget_pair(real(fds), fds) }
}

unsafe fn on_pipe2(_g: &Guard, real: unsafe extern "C" fn(*mut c_int, c_int) -> c_int, fds: *mut c_int, flags: c_int) -> c_int {
    // SAFETY: a straight call; then libc's own output.
    unsafe { forget_pair(real(fds, flags), fds) }
}

unsafe fn on_fcntl(_g: &Guard, real: unsafe extern "C" fn(c_int, c_int, usize) -> c_int, fd: c_int, cmd: c_int, arg: usize) -> c_int {
    // SAFETY: a straight call with the caller's arguments (on x86_64 the
    // variadic argument travels in the same register as a fixed one).
    let r = unsafe { real(fd, cmd, arg) };
    match cmd {
        libc::F_SETFL => keep_errno(|| reactor::forget(fd)),
        libc::F_DUPFD | libc::F_DUPFD_CLOEXEC => {
            forget_new(r);
        }
        _ => {}
    }
    r
}

unsafe fn on_ioctl(_g: &Guard, real: unsafe extern "C" fn(c_int, c_ulong, usize) -> c_int, fd: c_int, req: c_ulong, arg: usize) -> c_int {
    // SAFETY: as for fcntl.
    let r = unsafe { real(fd, req, arg) };
    if req == libc::FIONBIO as c_ulong {
        keep_errno(|| reactor::forget(fd));
    }
    r
}
