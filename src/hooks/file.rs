//! Calls that may wait on a disk, or move data between fds with no way to
//! make them non-blocking for one call: `open`, `open64`, `openat`,
//! `openat64`, `fsync`, `fdatasync`, `sendfile`, `sendfile64`, `splice`,
//! `copy_file_range`. When other coroutines exist they run on the blocking
//! pool while the coroutine suspends; the process's only coroutine simply
//! makes them. A new fd number forgets an old file's reactor state, on
//! every thread.

use libc::{c_char, c_int, c_uint, loff_t, mode_t, off_t, size_t, ssize_t};

use crate::hooks::{hooks, Guard, P};
use crate::reactor::io;
use crate::reactor;

hooks! {
    any fn open(path: *const c_char, flags: c_int, mode: mode_t) -> c_int => on_open;
    any fn open64(path: *const c_char, flags: c_int, mode: mode_t) -> c_int => on_open;
    any fn openat(dir: c_int, path: *const c_char, flags: c_int, mode: mode_t) -> c_int => on_openat;
    any fn openat64(dir: c_int, path: *const c_char, flags: c_int, mode: mode_t) -> c_int => on_openat;
    co fn fsync(fd: c_int) -> c_int => on_fsync, cancel;
    co fn fdatasync(fd: c_int) -> c_int => on_fsync, cancel;
    co fn sendfile(out: c_int, inp: c_int, off: *mut off_t, n: size_t) -> ssize_t => on_sendfile;
    co fn sendfile64(out: c_int, inp: c_int, off: *mut off_t, n: size_t) -> ssize_t => on_sendfile;
    co fn splice(inp: c_int, off_in: *mut loff_t, out: c_int, off_out: *mut loff_t, n: size_t, flags: c_uint) -> ssize_t => on_splice;
    co fn copy_file_range(inp: c_int, off_in: *mut loff_t, out: c_int, off_out: *mut loff_t, n: size_t, flags: c_uint) -> ssize_t => on_splice;
}

fn opened(g: &Guard, path: *const c_char, mut call: impl FnMut() -> isize + Send) -> c_int {
    let fd = if g.on_coroutine() && !in_memory(path) { io::offload(&mut call) } else { call() } as c_int;
    reactor::fresh(fd)
}

/// Is `path` on a file system the kernel answers from memory (`/proc`,
/// `/sys`)? Its opens are made inline, not on the blocking pool: a program
/// whose many threads read `/proc/self/...` at once (stress-ng's pthread
/// stressor) grew the pool to ~90 threads. Best-effort: an unreadable
/// prefix counts as no.
fn in_memory(path: *const c_char) -> bool {
    crate::sys::copy_in(path as *const [u8; 6]).is_some_and(|p| p.starts_with(b"/proc/") || p.starts_with(b"/sys/"))
}

unsafe fn on_open(g: &Guard, real: unsafe extern "C" fn(*const c_char, c_int, mode_t) -> c_int, path: *const c_char, flags: c_int, mode: mode_t) -> c_int {
    let p = P(path);
    // SAFETY: the caller's path, as for open itself; `mode` is
    // passed on as received (libc reads it only with O_CREAT/O_TMPFILE).
    opened(g, path, move || unsafe { real({ p }.0, flags, mode) } as isize)
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
    opened(g, path, move || unsafe { real(dir, { p }.0, flags, mode) } as isize)
}

unsafe fn on_fsync(real: unsafe extern "C" fn(c_int) -> c_int, fd: c_int) -> c_int {
    // SAFETY: a straight call with the caller's argument.
    io::offload(&mut move || unsafe { real(fd) } as isize) as c_int
}

unsafe fn on_sendfile(
    real: unsafe extern "C" fn(c_int, c_int, *mut off_t, size_t) -> ssize_t,
    out: c_int,
    inp: c_int,
    off: *mut off_t,
    n: size_t,
) -> ssize_t {
    let o = P(off);
    // SAFETY: a straight call with the caller's arguments (its offset
    // pointer stays valid while it waits for the call).
    io::offload(&mut move || unsafe { real(out, inp, { o }.0, n) })
}

/// `splice` and `copy_file_range` (the same signature).
unsafe fn on_splice(
    real: unsafe extern "C" fn(c_int, *mut loff_t, c_int, *mut loff_t, size_t, c_uint) -> ssize_t,
    inp: c_int,
    off_in: *mut loff_t,
    out: c_int,
    off_out: *mut loff_t,
    n: size_t,
    flags: c_uint,
) -> ssize_t {
    let (a, b) = (P(off_in), P(off_out));
    // SAFETY: as for sendfile.
    io::offload(&mut move || unsafe { real(inp, { a }.0, out, { b }.0, n, flags) })
}
