//! read/write family: `read`, `readv`, `pread`, `write`, `writev`, `pwrite`
//! (and the `_FORTIFY_SOURCE` entry points `__read_chk`, `__pread_chk`,
//! which glibc's fortified headers call instead of `read` and `pread`).
//!
//! Each becomes an [`io::Call`]: tried with `RWF_NOWAIT` (sockets, pipes,
//! and regular files whose data is cached), waited on the reactor when it
//! would block, handed to the blocking pool when epoll cannot watch the fd.
//! Writes to a blocking fd write everything, as libc's do.

use libc::{c_int, c_void, iovec, off_t, size_t, ssize_t};

use crate::hooks::{hooks, P};
use crate::reactor::io::{self, Call};
use crate::reactor::{self, Dir};

hooks! {
    co fn read(fd: c_int, buf: *mut c_void, n: size_t) -> ssize_t => on_read, cancel;
    co fn __read_chk(fd: c_int, buf: *mut c_void, n: size_t, buflen: size_t) -> ssize_t => on_read_chk, cancel;
    co fn readv(fd: c_int, iov: *const iovec, cnt: c_int) -> ssize_t => on_readv, cancel;
    co fn pread(fd: c_int, buf: *mut c_void, n: size_t, off: off_t) -> ssize_t => on_pread, cancel;
    co fn pread64(fd: c_int, buf: *mut c_void, n: size_t, off: off_t) -> ssize_t => on_pread, cancel;
    co fn __pread_chk(fd: c_int, buf: *mut c_void, n: size_t, off: off_t, buflen: size_t) -> ssize_t => on_pread_chk, cancel;
    co fn __pread64_chk(fd: c_int, buf: *mut c_void, n: size_t, off: off_t, buflen: size_t) -> ssize_t => on_pread_chk, cancel;
    co fn write(fd: c_int, buf: *const c_void, n: size_t) -> ssize_t => on_write, cancel;
    co fn writev(fd: c_int, iov: *const iovec, cnt: c_int) -> ssize_t => on_writev, cancel;
    co fn pwrite(fd: c_int, buf: *const c_void, n: size_t, off: off_t) -> ssize_t => on_pwrite, cancel;
    co fn pwrite64(fd: c_int, buf: *const c_void, n: size_t, off: off_t) -> ssize_t => on_pwrite, cancel;
}

/// `preadv2` offset meaning "the current file position" (plain read).
const AT_POSITION: off_t = -1;

/// Reads into `iov` with `preadv2(.., RWF_NOWAIT)`.
fn read_nowait(fd: c_int, iov: *const iovec, cnt: c_int, off: off_t) -> isize {
    // SAFETY: the caller's buffers, as for the call being hooked.
    unsafe { nowait_raw(libc::SYS_preadv2, fd, iov, cnt, off) }
}

/// Writes `iov` with `pwritev2(.., RWF_NOWAIT)`.
fn write_nowait(fd: c_int, iov: *const iovec, cnt: c_int, off: off_t) -> isize {
    // SAFETY: the caller's buffers, as for the call being hooked.
    unsafe { nowait_raw(libc::SYS_pwritev2, fd, iov, cnt, off) }
}

/// `preadv2`/`pwritev2` with `RWF_NOWAIT` as a raw system call, as libc
/// passes it (the offset split in two words), with libc's return
/// convention. Not libc's wrapper, a cancellation point: a pending cancel
/// must not act under the hook's frames (their unwinding aborts; the hook
/// table acts on it in the hook's outer frame), and the wrapper's two
/// atomic updates of the thread's cancel word cost a thread-per-connection
/// echo server at 10,000 connections 2.4% of its CPU.
///
/// # Safety
/// `iov` must describe `cnt` buffers valid for the call.
unsafe fn nowait_raw(nr: libc::c_long, fd: c_int, iov: *const iovec, cnt: c_int, off: off_t) -> isize {
    let (lo, hi) = (off as usize, ((off as u64) >> 32) as usize);
    // SAFETY: per the contract; the arguments are the kernel's for `nr`.
    let r = unsafe { crate::sys::syscall6(nr, fd as usize, iov as usize, cnt as usize, lo, hi, libc::RWF_NOWAIT as usize) };
    if r < 0 {
        return io::fail(-r as i32);
    }
    r
}

fn one(buf: *const c_void, n: size_t) -> iovec {
    iovec { iov_base: buf as *mut c_void, iov_len: n }
}

unsafe fn on_read(real: unsafe extern "C" fn(c_int, *mut c_void, size_t) -> ssize_t, fd: c_int, buf: *mut c_void, n: size_t) -> ssize_t {
    read_whole(fd, || n, |call, done| {
        // SAFETY: within the caller's buffer (done < n).
        let rest = P(unsafe { buf.byte_add(done) });
        let v = one(rest.0, n - done);
        // SAFETY: the caller's buffer, as for read itself.
        call.run(&mut || read_nowait(fd, &v, 1, AT_POSITION), &mut move || unsafe { real(fd, { rest }.0, n - done) })
    })
}

unsafe fn on_read_chk(
    real: unsafe extern "C" fn(c_int, *mut c_void, size_t, size_t) -> ssize_t,
    fd: c_int,
    buf: *mut c_void,
    n: size_t,
    buflen: size_t,
) -> ssize_t {
    if n > buflen {
        // SAFETY: libc reports the overflow (and aborts) as it would.
        return unsafe { real(fd, buf, n, buflen) };
    }
    read_whole(fd, || n, |call, done| {
        // SAFETY: within the caller's buffer (done < n <= buflen).
        let rest = P(unsafe { buf.byte_add(done) });
        let v = one(rest.0, n - done);
        // SAFETY: the caller's buffer, checked against buflen above.
        call.run(&mut || read_nowait(fd, &v, 1, AT_POSITION), &mut move || unsafe { real(fd, { rest }.0, n - done, buflen - done) })
    })
}

unsafe fn on_readv(real: unsafe extern "C" fn(c_int, *const iovec, c_int) -> ssize_t, fd: c_int, iov: *const iovec, cnt: c_int) -> ssize_t {
    if cnt <= 0 || cnt > libc::UIO_MAXIOV || iov.is_null() {
        // SAFETY: libc rejects these at once.
        return unsafe { real(fd, iov, cnt) };
    }
    // The vector is read only after a first call succeeded with it (the
    // kernel answers EFAULT for one it cannot read).
    // SAFETY: the caller's vector of `cnt` entries, read by that call.
    let orig = || unsafe { std::slice::from_raw_parts(iov, cnt as usize) };
    let mut rest: Vec<iovec> = Vec::new();
    read_whole(fd, || total_len(orig()), |call, done| {
        let (p, n) = if done == 0 {
            (P(iov), cnt)
        } else {
            advance(orig(), done, &mut rest);
            (P(rest.as_ptr()), rest.len() as c_int)
        };
        // SAFETY: the caller's vectors (re-described from `done` on), as for readv itself.
        call.run(&mut || read_nowait(fd, { p }.0, n, AT_POSITION), &mut move || unsafe { real(fd, { p }.0, n) })
    })
}

unsafe fn on_pread(
    real: unsafe extern "C" fn(c_int, *mut c_void, size_t, off_t) -> ssize_t,
    fd: c_int,
    buf: *mut c_void,
    n: size_t,
    off: off_t,
) -> ssize_t {
    if off < 0 {
        // SAFETY: libc rejects it (EINVAL) at once.
        return unsafe { real(fd, buf, n, off) };
    }
    read_whole(fd, || n, |call, done| {
        // SAFETY: within the caller's buffer (done < n).
        let rest = P(unsafe { buf.byte_add(done) });
        let v = one(rest.0, n - done);
        let at = off + done as off_t;
        // SAFETY: the caller's buffer, as for pread itself.
        call.run(&mut || read_nowait(fd, &v, 1, at), &mut move || unsafe { real(fd, { rest }.0, n - done, at) })
    })
}

unsafe fn on_pread_chk(
    real: unsafe extern "C" fn(c_int, *mut c_void, size_t, off_t, size_t) -> ssize_t,
    fd: c_int,
    buf: *mut c_void,
    n: size_t,
    off: off_t,
    buflen: size_t,
) -> ssize_t {
    if n > buflen || off < 0 {
        // SAFETY: libc reports the overflow or rejects the offset at once.
        return unsafe { real(fd, buf, n, off, buflen) };
    }
    read_whole(fd, || n, |call, done| {
        // SAFETY: within the caller's buffer (done < n <= buflen).
        let rest = P(unsafe { buf.byte_add(done) });
        let v = one(rest.0, n - done);
        let at = off + done as off_t;
        // SAFETY: the caller's buffer, checked against buflen above.
        call.run(&mut || read_nowait(fd, &v, 1, at), &mut move || unsafe { real(fd, { rest }.0, n - done, at, buflen - done) })
    })
}

/// Reads as the plain call reads. `step(call, done)` reads into the
/// caller's buffers from byte `done` on (at the file position, or at the
/// call's offset + `done`).
///
/// A regular file or block device reads short only at its end, and
/// programs rely on it (a JVM parses class bytes from one `pread`). But
/// `RWF_NOWAIT` returns just the part that is in the page cache: a read
/// whose range is partly cached comes back short. So after a short read of
/// such a file the rest is read on (cached: at once; not cached: on the
/// blocking pool) until the count is complete, the file ends (0), or an
/// error comes after data (the data counts, as the kernel's own read
/// reports it). Sockets, pipes and ttys return what they have, as natively.
fn read_whole(fd: c_int, total: impl FnOnce() -> usize, mut step: impl FnMut(&mut Call, usize) -> isize) -> isize {
    let mut call = Call::new(fd, Dir::Read);
    let r = step(&mut call, 0);
    if r <= 0 {
        return r;
    }
    let total = total();
    if r as usize >= total || !reactor::is_file(fd) {
        return r;
    }
    let mut done = r as usize;
    while done < total {
        let r = step(&mut call, done);
        if r <= 0 {
            break;
        }
        done += r as usize;
    }
    done as isize
}

unsafe fn on_write(real: unsafe extern "C" fn(c_int, *const c_void, size_t) -> ssize_t, fd: c_int, buf: *const c_void, n: size_t) -> ssize_t {
    let mut call = Call::new(fd, Dir::Write);
    io::write_all(n, fd, |done| {
        // SAFETY: within the caller's buffer (done < n).
        let rest = P(unsafe { buf.byte_add(done) });
        let v = one(rest.0, n - done);
        // SAFETY: the caller's buffer, as for write itself.
        call.run(&mut || write_nowait(fd, &v, 1, AT_POSITION), &mut move || unsafe { real(fd, { rest }.0, n - done) })
    })
}

unsafe fn on_pwrite(
    real: unsafe extern "C" fn(c_int, *const c_void, size_t, off_t) -> ssize_t,
    fd: c_int,
    buf: *const c_void,
    n: size_t,
    off: off_t,
) -> ssize_t {
    if off < 0 {
        // SAFETY: libc rejects it (EINVAL) at once.
        return unsafe { real(fd, buf, n, off) };
    }
    let mut call = Call::new(fd, Dir::Write);
    io::write_all(n, fd, |done| {
        // SAFETY: within the caller's buffer (done < n).
        let rest = P(unsafe { buf.byte_add(done) });
        let v = one(rest.0, n - done);
        let at = off + done as off_t;
        // SAFETY: the caller's buffer, as for pwrite itself.
        call.run(&mut || write_nowait(fd, &v, 1, at), &mut move || unsafe { real(fd, { rest }.0, n - done, at) })
    })
}

unsafe fn on_writev(real: unsafe extern "C" fn(c_int, *const iovec, c_int) -> ssize_t, fd: c_int, iov: *const iovec, cnt: c_int) -> ssize_t {
    if cnt <= 0 || cnt > libc::UIO_MAXIOV || iov.is_null() {
        // SAFETY: libc rejects these at once.
        return unsafe { real(fd, iov, cnt) };
    }
    let mut call = Call::new(fd, Dir::Write);
    let p = P(iov);
    // SAFETY: the caller's vector, as for writev itself.
    let first = call.run(&mut || write_nowait(fd, iov, cnt, AT_POSITION), &mut move || unsafe { real(fd, { p }.0, cnt) });
    if first <= 0 {
        return first;
    }
    // The kernel read the vector for that call (it answers EFAULT for one
    // it cannot read).
    // SAFETY: the caller's vector of `cnt` entries.
    let orig = unsafe { std::slice::from_raw_parts(iov, cnt as usize) };
    let total = total_len(orig);
    if first as usize >= total || crate::reactor::user_nonblocking(fd) {
        return first;
    }
    let first = first as usize;
    let mut rest: Vec<iovec> = Vec::with_capacity(orig.len());
    let more = io::write_all(total - first, fd, |done| {
        advance(orig, first + done, &mut rest);
        let p = P(rest.as_ptr());
        let n = rest.len() as c_int;
        // SAFETY: the caller's buffers, re-described from `first + done` on.
        call.run(&mut || write_nowait(fd, { p }.0, n, AT_POSITION), &mut move || unsafe { real(fd, { p }.0, n) })
    });
    (first + more.max(0) as usize) as isize
}

/// The bytes a vector describes.
fn total_len(iov: &[iovec]) -> usize {
    iov.iter().fold(0usize, |t, v| t.saturating_add(v.iov_len))
}

/// The part of `iov` after its first `skip` bytes, into `out`.
pub(crate) fn advance(iov: &[iovec], mut skip: usize, out: &mut Vec<iovec>) {
    out.clear();
    for v in iov {
        if skip >= v.iov_len {
            skip -= v.iov_len;
            continue;
        }
        // SAFETY: skip < iov_len, within the caller's buffer.
        out.push(iovec { iov_base: unsafe { v.iov_base.byte_add(skip) }, iov_len: v.iov_len - skip });
        skip = 0;
    }
}
