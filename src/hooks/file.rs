//! Calls that may wait on a disk, or move data between fds with no way to
//! make them non-blocking for one call: `open`, `open64`, `openat`,
//! `openat64`, `fsync`, `fdatasync`, `sendfile`, `sendfile64`, `splice`,
//! `copy_file_range`. When other coroutines exist they run on the blocking
//! pool while the coroutine suspends; the process's only coroutine simply
//! makes them. An open whose path the kernel resolves from its caches, of
//! a regular file or directory on a local file system, is made on the
//! coroutine ([`cannot_block`]). A new fd number forgets an old file's
//! reactor state, on every thread.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use libc::{c_char, c_int, c_uint, loff_t, mode_t, off_t, size_t, ssize_t};

use crate::hooks::{hooks, Guard, P};
use crate::reactor::io;
use crate::reactor;

hooks! {
    any fn open(path: *const c_char, flags: c_int, mode: mode_t) -> c_int => on_open, cancel;
    any fn open64(path: *const c_char, flags: c_int, mode: mode_t) -> c_int => on_open, cancel;
    any fn openat(dir: c_int, path: *const c_char, flags: c_int, mode: mode_t) -> c_int => on_openat, cancel;
    any fn openat64(dir: c_int, path: *const c_char, flags: c_int, mode: mode_t) -> c_int => on_openat, cancel;
    co fn fsync(fd: c_int) -> c_int => on_fsync, cancel;
    co fn fdatasync(fd: c_int) -> c_int => on_fsync, cancel;
    co fn sendfile(out: c_int, inp: c_int, off: *mut off_t, n: size_t) -> ssize_t => on_sendfile;
    co fn sendfile64(out: c_int, inp: c_int, off: *mut off_t, n: size_t) -> ssize_t => on_sendfile;
    co fn splice(inp: c_int, off_in: *mut loff_t, out: c_int, off_out: *mut loff_t, n: size_t, flags: c_uint) -> ssize_t => on_splice;
    co fn copy_file_range(inp: c_int, off_in: *mut loff_t, out: c_int, off_out: *mut loff_t, n: size_t, flags: c_uint) -> ssize_t => on_splice;
}

fn opened(g: &Guard, dir: c_int, path: *const c_char, flags: c_int, mut call: impl FnMut() -> isize + Send) -> c_int {
    // (The probe first: `in_memory` reads the path with a system call.)
    let inline = if !g.on_coroutine() { Some(None) } else { cannot_block(dir, path, flags).or_else(|| in_memory(path).then_some(None)) };
    let Some(regular) = inline else {
        return reactor::fresh(io::offload(&mut call) as c_int);
    };
    if crate::glibc::tls::cancel_acts_now() {
        // Cancelled since the hook's entry: acted on in its outer frame.
        return io::fail(libc::EINTR) as c_int;
    }
    let fd = reactor::fresh(call() as c_int);
    if let Some(regular) = regular {
        // What the probe saw, for the reads' short-count rule (`is_file`).
        reactor::kind_known(fd, regular);
    }
    fd
}

/// `struct open_how` of `openat2`.
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// `RESOLVE_CACHED` (Linux 5.12): fail with EAGAIN rather than do I/O to
/// look the path up.
const RESOLVE_CACHED: u64 = 0x20;

/// Set once `openat2` with `RESOLVE_CACHED` is found missing (an older
/// kernel, a seccomp filter): every open then goes to the blocking pool.
static NO_CACHED_LOOKUP: AtomicBool = AtomicBool::new(false);

/// Can this open be made on the coroutine without blocking its worker? Yes
/// when the kernel resolves `path` from its caches alone (`openat2` with
/// `RESOLVE_CACHED` and `O_PATH`, which runs no file's open: a FIFO or a
/// device would block or act on it), it names a regular file or a
/// directory, on a local file system, and the open neither creates nor
/// truncates. A path the cache does not hold (a cold tree, a network file
/// system's revalidation) goes to the blocking pool as before. A program
/// that opens many cached files (ripgrep over a source tree) sent every
/// open to the pool: 55,885 pool calls and 2x its native wall time. (A
/// path replaced by a FIFO between the probe and the open would block the
/// worker until the monitor's hand-off.)
///
/// None: it may block. `Some(kind)`: it cannot, and the path names a
/// regular file (`Some(true)`), something else (`Some(false)`), or nothing
/// the lookup could tell (`None`: the open fails as the lookup did).
fn cannot_block(dir: c_int, path: *const c_char, flags: c_int) -> Option<Option<bool>> {
    if flags & (libc::O_CREAT | libc::O_TRUNC | libc::O_TMPFILE) != 0 || NO_CACHED_LOOKUP.load(Ordering::Relaxed) {
        return None;
    }
    let how = OpenHow { flags: (libc::O_PATH | libc::O_CLOEXEC | (flags & libc::O_NOFOLLOW)) as u64, mode: 0, resolve: RESOLVE_CACHED };
    // SAFETY: the caller's path (the kernel checks it), a valid open_how of its size.
    let fd = unsafe {
        crate::sys::syscall6(libc::SYS_openat2, dir as isize as usize, path as usize, &how as *const OpenHow as usize, std::mem::size_of::<OpenHow>(), 0, 0)
    };
    if fd < 0 {
        let e = -fd as i32;
        let unsupported = matches!(e, libc::ENOSYS | libc::EINVAL | libc::E2BIG | libc::EPERM);
        if unsupported {
            NO_CACHED_LOOKUP.store(true, Ordering::Relaxed);
        }
        // A cached lookup that fails otherwise (no such file, not a
        // directory, a loop) fails the same way for the open, without I/O.
        return (e != libc::EAGAIN && !unsupported).then_some(None);
    }
    let fd = fd as i32;
    let kind = crate::sys::fstat(fd)
        .filter(|st| matches!(st.st_mode & libc::S_IFMT, libc::S_IFREG | libc::S_IFDIR) && local_device(fd, st.st_dev))
        .map(|st| st.st_mode & libc::S_IFMT == libc::S_IFREG);
    // Closed before the real open, which then gets the same, lowest free
    // number the program expects.
    crate::sys::close_own(fd);
    kind.map(Some)
}

/// Devices (`st_dev`) last found local or not, `(dev << 1) | local`, 0 for
/// none: a program opens file after file on the same few file systems.
static DEVICES: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];

/// Is the file system of `fd` (on device `dev`) one of [`local_fs`]?
/// Asked of the kernel once per device (a raw `fstatfs`), then cached.
fn local_device(fd: c_int, dev: u64) -> bool {
    let slot = &DEVICES[(dev as usize ^ (dev >> 8) as usize) % DEVICES.len()];
    let v = slot.load(Ordering::Relaxed);
    if v != 0 && v >> 1 == dev {
        return v & 1 == 1;
    }
    // SAFETY: a zeroed statfs is a valid out-buffer.
    let mut sf: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: our own fd and a valid out-pointer.
    let local = unsafe { crate::sys::syscall6(libc::SYS_fstatfs, fd as usize, &mut sf as *mut libc::statfs as usize, 0, 0, 0, 0) } == 0
        && local_fs(sf.f_type as i64);
    slot.store((dev << 1) | u64::from(local), Ordering::Relaxed);
    local
}

/// File systems whose open of a cached regular file or directory does no
/// I/O: the kernel's own and the common local disk ones. A network or FUSE
/// file system (NFS revalidates at open) is not among them.
fn local_fs(magic: i64) -> bool {
    const LOCAL: [i64; 12] = [
        0xEF53,      // ext2, ext3, ext4
        0x5846_5342, // xfs
        0x9123_683E, // btrfs
        0x0102_1994, // tmpfs, devtmpfs
        0x794C_7630, // overlayfs
        0xF2F5_2010, // f2fs
        0x8584_58F6, // ramfs
        0x7371_7368, // squashfs
        0x2FC1_2FC1, // zfs
        0x9FA0,      // proc (also opened inline when its lookup is not cached: `in_memory`)
        0x6265_6572, // sysfs
        0x6367_7270, // cgroup2
    ];
    LOCAL.contains(&magic)
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
    opened(g, libc::AT_FDCWD, path, flags, move || unsafe { real({ p }.0, flags, mode) } as isize)
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
    opened(g, dir, path, flags, move || unsafe { real(dir, { p }.0, flags, mode) } as isize)
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
