//! Calls that may wait on a disk: `open`, `open64`, `openat`, `openat64`,
//! `fsync`, `fdatasync`. On a coroutine that shares its worker they run on
//! the blocking pool while the coroutine suspends; alone on its worker a
//! coroutine simply makes them (nothing else could run meanwhile). A new fd
//! number forgets an old file's reactor state, on every thread.

use libc::{c_char, c_int, mode_t};

use crate::hooks::{hooks, Guard, P};
use crate::io;
use crate::reactor;
use crate::sys::{errno, set_errno};

hooks! {
    any fn open(path: *const c_char, flags: c_int, mode: mode_t) -> c_int => on_open;
    any fn open64(path: *const c_char, flags: c_int, mode: mode_t) -> c_int => on_open;
    any fn openat(dir: c_int, path: *const c_char, flags: c_int, mode: mode_t) -> c_int => on_openat;
    any fn openat64(dir: c_int, path: *const c_char, flags: c_int, mode: mode_t) -> c_int => on_openat;
    co fn fsync(fd: c_int) -> c_int => on_fsync;
    co fn fdatasync(fd: c_int) -> c_int => on_fsync;
}

fn opened(g: &Guard, mut call: impl FnMut() -> isize + Send) -> c_int {
    let fd = if g.on_coroutine() { io::offload(&mut call) } else { call() } as c_int;
    if fd >= 0 {
        let e = errno();
        reactor::created(fd);
        set_errno(e);
    }
    fd
}

unsafe fn on_open(g: &Guard, real: unsafe extern "C" fn(*const c_char, c_int, mode_t) -> c_int, path: *const c_char, flags: c_int, mode: mode_t) -> c_int {
    let p = P(path);
    // SAFETY: the caller's path, as for open itself; `mode` is
    // passed on as received (libc reads it only with O_CREAT/O_TMPFILE).
    opened(g, move || unsafe { real({ p }.0, flags, mode) } as isize)
}

unsafe fn on_openat(
    g: &Guard,
    real: unsafe extern "C" fn(c_int, *const c_char, c_int, mode_t) -> c_int,
    dir: c_int,
    path: *const c_char,
    flags: c_int,
    mode: mode_t,
) -> c_int {
    let p = P(path);
    // SAFETY: as in on_open.
    opened(g, move || unsafe { real(dir, { p }.0, flags, mode) } as isize)
}

unsafe fn on_fsync(real: unsafe extern "C" fn(c_int) -> c_int, fd: c_int) -> c_int {
    // SAFETY: a straight call with the caller's argument.
    io::offload(&mut move || unsafe { real(fd) } as isize) as c_int
}
