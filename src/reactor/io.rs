//! Blocking I/O calls made the coroutine way: the shared loop behind the
//! read/write, socket and file hooks.
//!
//! A hook hands over two forms of its call: `nowait`, the same call made
//! non-blocking for this one attempt (`RWF_NOWAIT`, `MSG_DONTWAIT`), and
//! `blocking`, the plain libc call. [`Call::run`] then:
//!
//! - makes the plain call when the caller is the process's only coroutine
//!   (nothing else could run meanwhile, so blocking the worker costs nothing
//!   and the program behaves exactly as without the library);
//! - otherwise tries `nowait`; on EAGAIN it returns EAGAIN if the program
//!   made the fd non-blocking itself, else waits on the reactor (with the
//!   socket's SO_RCVTIMEO/SO_SNDTIMEO as deadline, which ends in EAGAIN as
//!   libc's would) and tries again;
//! - when the call cannot be made non-blocking (EOPNOTSUPP: a FIFO opened
//!   by path, a tty, some character devices): a read waits until `poll`
//!   says the fd is readable (data, end of file or an error: the plain read
//!   then cannot block) and makes the plain call; a write, which could block
//!   whatever poll says (more bytes than the pipe has room for), runs on the
//!   blocking pool; when epoll cannot watch the fd (a regular file whose
//!   data is not cached) the plain call runs on the blocking pool too.
//!
//! No EINTR is introduced: a wait is never interrupted.

use crate::reactor::{self, Dir, Wait};
use crate::sched::worker;
use crate::sys::{errno, set_errno};
use crate::reactor::timer::NEVER;

/// One blocking call on `fd`.
pub struct Call {
    pub fd: i32,
    pub dir: Dir,
    /// Deadline from the socket timeout, computed at the first wait and
    /// kept for the whole hooked call (a write that loops over partial
    /// writes times out once, as libc's does).
    deadline: Option<u64>,
}

impl Call {
    pub fn new(fd: i32, dir: Dir) -> Self {
        Call { fd, dir, deadline: None }
    }

    fn deadline(&mut self) -> u64 {
        *self.deadline.get_or_insert_with(|| reactor::timeout_deadline(self.fd, self.dir))
    }

    /// Runs the call; see the module doc.
    pub fn run(
        &mut self,
        nowait: &mut dyn FnMut() -> isize,
        blocking: &mut (dyn FnMut() -> isize + Send),
    ) -> isize {
        if !worker::has_company() {
            return blocking();
        }
        let me = crate::coro::current_ptr();
        if !me.is_null() {
            // SAFETY: non-null CURRENT is the running task.
            unsafe { (*me).signals().clear_interrupt() };
        }
        loop {
            if crate::glibc::tls::cancel_acts_now() {
                // Cancelled since the hook's entry (while it waited, its
                // interruption taken by an earlier wait, or just now): the
                // hook acts on it (see `hooks!`), before `nowait` could be
                // libc's wrapper acting on it under our frames.
                return fail(libc::EINTR);
            }
            let Some(tok) = reactor::token(self.fd) else { return blocking() };
            let r = nowait();
            if r >= 0 {
                return r; // errno: the hook table puts the caller's back
            }
            match errno() {
                libc::EAGAIN => {}
                libc::EOPNOTSUPP => return self.without_nowait(tok, blocking),
                _ => return r,
            }
            if reactor::user_nonblocking(self.fd) {
                return fail(libc::EAGAIN);
            }
            let deadline = self.deadline();
            let w = reactor::wait(tok, self.dir, deadline);
            // SAFETY: as above (we are on the task again).
            if !me.is_null() && unsafe { (*me).signals().take_interrupt() } == Some(false) {
                // A handler without SA_RESTART ran while we waited, or a
                // pthread_cancel interrupted the wait.
                return fail(libc::EINTR);
            }
            match w {
                Wait::Ready => continue,
                Wait::TimedOut => return fail(libc::EAGAIN),
                Wait::Closed => return fail(libc::EBADF),
                Wait::Unpollable => return crate::reactor::blocking::run(blocking),
            }
        }
    }
}

impl Call {
    /// The fd does not take `RWF_NOWAIT` (see the module doc).
    fn without_nowait(&mut self, mut tok: reactor::Token, blocking: &mut (dyn FnMut() -> isize + Send)) -> isize {
        if reactor::user_nonblocking(self.fd) {
            return blocking();
        }
        if self.dir == Dir::Write {
            return crate::reactor::blocking::run(blocking);
        }
        loop {
            if crate::glibc::tls::cancel_acts_now() {
                return fail(libc::EINTR); // as in `run`
            }
            if readable_now(self.fd) {
                return blocking();
            }
            match reactor::wait(tok, Dir::Read, NEVER) {
                Wait::Closed => return fail(libc::EBADF),
                Wait::Unpollable => return crate::reactor::blocking::run(blocking),
                Wait::Ready | Wait::TimedOut => {}
            }
            let Some(t) = reactor::token(self.fd) else { return blocking() };
            tok = t;
        }
    }
}

/// Would a read of `fd` return at once (data, end of file, an error)?
pub fn readable_now(fd: i32) -> bool {
    ready_now(fd, libc::POLLIN)
}

/// Does `poll` report any of `events` (or an error, a hang-up) on `fd` now?
pub fn ready_now(fd: i32, events: i16) -> bool {
    let mut p = libc::pollfd { fd, events, revents: 0 };
    // SAFETY: one valid pollfd; a raw call (poll is our own hook).
    let r = unsafe { crate::sys::syscall6(libc::SYS_poll, &mut p as *mut libc::pollfd as usize, 1, 0, 0, 0, 0) };
    r > 0
}

/// Returns -1 with errno `e`.
pub fn fail(e: i32) -> isize {
    set_errno(e);
    -1
}

/// Runs a call that may block on a disk (open, fsync) on the blocking pool
/// when other coroutines exist, else directly.
pub fn offload(call: &mut (dyn FnMut() -> isize + Send)) -> isize {
    if worker::has_company() {
        crate::reactor::blocking::run(call)
    } else {
        call()
    }
}

/// Writes all of a blocking write, as libc's blocking write/send does:
/// `step(done)` writes from offset `done` and returns the call's result.
/// Stops at the first error (returning the bytes written so far, if any), at
/// end of input, or after one attempt when the program made the fd
/// non-blocking itself.
pub fn write_all(total: usize, fd: i32, mut step: impl FnMut(usize) -> isize) -> isize {
    let mut done = 0usize;
    loop {
        let r = step(done);
        if r < 0 {
            return if done > 0 { done as isize } else { r };
        }
        done += r as usize;
        if done >= total || r == 0 || reactor::user_nonblocking(fd) {
            return done as isize;
        }
    }
}

