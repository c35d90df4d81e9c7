//! fd bookkeeping: `close`, `close_range`, `closefrom`, `dup2`, `dup3` (the
//! replaced fd is closed:
//! its waiters wake with EBADF and its registrations go, before the fd
//! number can be reused), `fclose` (glibc closes inside without calling
//! `close`), the creators `dup`, `pipe`, `pipe2` (a new fd number forgets an
//! old file's state; likewise `eventfd`, `timerfd_create`, `signalfd`,
//! `epoll_create`, `epoll_create1`, `inotify_init`, `inotify_init1`), and
//! `fcntl`/`ioctl`, whose `F_SETFL` and `FIONBIO` make the reactor re-read
//! the program's own `O_NONBLOCK`.
//!
//! These run on every thread (`any`): a plain thread may close an fd a
//! coroutine waits on. The calls themselves go to libc unchanged; the
//! runtime never changes an fd's flags, so `F_GETFL` needs no lie.

use libc::{c_int, c_uint, c_ulong, FILE};

use crate::hooks::{hooks, Guard};
use crate::reactor;

hooks! {
    any fn close(fd: c_int) -> c_int => on_close;
    any fn fclose(f: *mut FILE) -> c_int => on_fclose;
    any fn dup(fd: c_int) -> c_int => on_dup;
    any fn dup2(old: c_int, new: c_int) -> c_int => on_dup2;
    any fn dup3(old: c_int, new: c_int, flags: c_int) -> c_int => on_dup3;
    any fn eventfd(init: c_uint, flags: c_int) -> c_int => on_eventfd;
    any fn timerfd_create(clock: c_int, flags: c_int) -> c_int => on_timerfd_create;
    any fn signalfd(fd: c_int, mask: *const libc::sigset_t, flags: c_int) -> c_int => on_signalfd;
    any fn epoll_create(size: c_int) -> c_int => on_epoll_create;
    any fn epoll_create1(flags: c_int) -> c_int => on_epoll_create;
    any fn inotify_init() -> c_int => on_inotify_init;
    any fn inotify_init1(flags: c_int) -> c_int => on_epoll_create;
    any fn pipe(fds: *mut c_int) -> c_int => on_pipe;
    any fn pipe2(fds: *mut c_int, flags: c_int) -> c_int => on_pipe2;
    any fn close_range(first: c_uint, last: c_uint, flags: c_int) -> c_int => on_close_range;
    any fn closefrom(first: c_int) -> () => on_closefrom;
    any fn fcntl(fd: c_int, cmd: c_int, arg: usize) -> c_int => on_fcntl;
    any fn fcntl64(fd: c_int, cmd: c_int, arg: usize) -> c_int => on_fcntl;
    any fn ioctl(fd: c_int, req: c_ulong, arg: usize) -> c_int => on_ioctl;
}

/// The runtime's own fds (its pollers) are not the program's to close or
/// replace: to the program they are not open (EBADF), as without the
/// library. (Not in a forked child: hooks pass straight through there.)
fn runtime_fd(fd: c_int) -> bool {
    crate::reactor::poller::runtime_fd(fd)
}

fn ebadf() -> c_int {
    crate::sys::set_errno(libc::EBADF);
    -1
}

unsafe fn on_close(_g: &Guard, real: unsafe extern "C" fn(c_int) -> c_int, fd: c_int) -> c_int {
    if runtime_fd(fd) {
        return ebadf();
    }
    reactor::closed(fd);
    // SAFETY: a straight call with the caller's argument.
    unsafe { real(fd) }
}

unsafe fn on_close_range(_g: &Guard, real: unsafe extern "C" fn(c_uint, c_uint, c_int) -> c_int, first: c_uint, last: c_uint, flags: c_int) -> c_int {
    if flags & libc::CLOSE_RANGE_CLOEXEC as c_int == 0 && first <= last {
        reactor::closed_range(first, last);
    }
    // SAFETY: the caller's range, split around our fds.
    close_range_except_ours(first, last, |a, b| unsafe { real(a, b, flags) })
}

/// Runs `close(a, b)` over `first..=last` minus the runtime's fds; stops
/// at the first failure.
fn close_range_except_ours(first: c_uint, last: c_uint, close: impl Fn(c_uint, c_uint) -> c_int) -> c_int {
    if first > last {
        return close(first, last); // the kernel's EINVAL
    }
    let mut from = first;
    for fd in crate::reactor::poller::runtime_fds_in(first, last) {
        let fd = fd as c_uint;
        if fd > from {
            let r = close(from, fd - 1);
            if r != 0 {
                return r;
            }
        }
        match fd.checked_add(1) {
            Some(next) => from = next,
            None => return 0,
        }
    }
    if from > last {
        return 0;
    }
    close(from, last)
}

unsafe fn on_closefrom(_g: &Guard, real: unsafe extern "C" fn(c_int), first: c_int) {
    if first >= 0 {
        reactor::closed_range(first as c_uint, c_uint::MAX);
        // closefrom is close_range(first, ~0, 0): split around our fds too.
        let r = close_range_except_ours(first as c_uint, c_uint::MAX, |a, b| {
            // SAFETY: the close_range system call over the caller's fds.
            unsafe { crate::sys::syscall6(libc::SYS_close_range, a as usize, b as usize, 0, 0, 0, 0) as c_int }
        });
        if r == 0 {
            return;
        }
    }
    // SAFETY: a straight call with the caller's argument.
    unsafe { real(first) }
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
    reactor::fresh(unsafe { real(fd) })
}

unsafe fn on_dup2(_g: &Guard, real: unsafe extern "C" fn(c_int, c_int) -> c_int, old: c_int, new: c_int) -> c_int {
    if runtime_fd(new) || runtime_fd(old) {
        return ebadf();
    }
    if old != new {
        reactor::closed(new);
    }
    // SAFETY: a straight call with the caller's arguments.
    unsafe { real(old, new) }
}

unsafe fn on_dup3(_g: &Guard, real: unsafe extern "C" fn(c_int, c_int, c_int) -> c_int, old: c_int, new: c_int, flags: c_int) -> c_int {
    if runtime_fd(new) || runtime_fd(old) {
        return ebadf();
    }
    if old != new {
        reactor::closed(new);
    }
    // SAFETY: a straight call with the caller's arguments.
    unsafe { real(old, new, flags) }
}

unsafe fn on_eventfd(_g: &Guard, real: unsafe extern "C" fn(c_uint, c_int) -> c_int, init: c_uint, flags: c_int) -> c_int {
    // SAFETY: a straight call with the caller's arguments.
    reactor::fresh(unsafe { real(init, flags) })
}

unsafe fn on_timerfd_create(_g: &Guard, real: unsafe extern "C" fn(c_int, c_int) -> c_int, clock: c_int, flags: c_int) -> c_int {
    // SAFETY: a straight call with the caller's arguments.
    reactor::fresh(unsafe { real(clock, flags) })
}

unsafe fn on_signalfd(
    _g: &Guard,
    real: unsafe extern "C" fn(c_int, *const libc::sigset_t, c_int) -> c_int,
    fd: c_int,
    mask: *const libc::sigset_t,
    flags: c_int,
) -> c_int {
    // SAFETY: a straight call with the caller's arguments.
    let r = unsafe { real(fd, mask, flags) };
    if fd == -1 { reactor::fresh(r) } else { r }
}

/// Creators with one int argument (epoll_create, epoll_create1, inotify_init1).
unsafe fn on_epoll_create(_g: &Guard, real: unsafe extern "C" fn(c_int) -> c_int, arg: c_int) -> c_int {
    // SAFETY: a straight call with the caller's argument.
    reactor::fresh(unsafe { real(arg) })
}

unsafe fn on_inotify_init(_g: &Guard, real: unsafe extern "C" fn() -> c_int) -> c_int {
    // SAFETY: a straight call.
    reactor::fresh(unsafe { real() })
}

/// `pipe`'s or `socketpair`'s result `r`: on success both fds in `fds` are new.
pub(crate) unsafe fn forget_pair(r: c_int, fds: *mut c_int) -> c_int {
    if r == 0 {
        // SAFETY: on success libc filled both entries.
        unsafe {
            reactor::fresh(*fds);
            reactor::fresh(*fds.add(1));
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
        libc::F_SETFL => reactor::flags_changed(),
        libc::F_DUPFD | libc::F_DUPFD_CLOEXEC => {
            reactor::fresh(r);
        }
        _ => {}
    }
    r
}

unsafe fn on_ioctl(_g: &Guard, real: unsafe extern "C" fn(c_int, c_ulong, usize) -> c_int, fd: c_int, req: c_ulong, arg: usize) -> c_int {
    // SAFETY: as for fcntl.
    let r = unsafe { real(fd, req, arg) };
    if req == libc::FIONBIO as c_ulong {
        reactor::flags_changed();
    }
    r
}
