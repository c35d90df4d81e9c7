//! A worker's poller: the `polling` crate's epoll set for fd registrations,
//! waited on directly.
//!
//! `polling::Poller::wait` arms a timerfd and re-arms its notifier on every
//! call (three extra system calls per wait, measured with strace), which is
//! most of the cost of a wake-up on an idle runtime. A worker instead waits
//! on the same epoll fd with one `epoll_pwait2` (nanosecond timeout;
//! `epoll_wait` with the timeout rounded up to whole milliseconds where the
//! kernel lacks it) and is woken through an eventfd of its own, registered
//! edge-triggered so a wake-up costs one `write` and, when seen, one `read`.
//! Registrations still go through `polling` (`add`, `modify`, `delete`).

use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::sys::syscall6;

/// The key of the wake-up eventfd (polling reserves `usize::MAX` itself).
const WAKE_KEY: usize = usize::MAX - 1;
const MAX_EVENTS: usize = 1024;

/// One readiness event, as the reactor needs it.
#[derive(Debug, Clone, Copy)]
pub struct Ready {
    pub key: usize,
    pub readable: bool,
    pub writable: bool,
}

pub struct Poller {
    poller: polling::Poller,
    wake_fd: i32,
}

/// The kernel lacks `epoll_pwait2` (before Linux 5.11): use `epoll_wait`.
static NO_PWAIT2: AtomicBool = AtomicBool::new(false);

impl Poller {
    pub fn new() -> std::io::Result<Poller> {
        let poller = polling::Poller::new()?;
        // SAFETY: eventfd2 creates a new fd; raw (not through our hooks).
        let fd = unsafe { syscall6(libc::SYS_eventfd2, 0, (libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) as usize, 0, 0, 0, 0) };
        if fd < 0 {
            return Err(std::io::Error::from_raw_os_error(-fd as i32));
        }
        let wake_fd = fd as i32;
        // SAFETY: wake_fd is ours and lives as long as the poller (never
        // closed: the runtime lives until the process exits).
        unsafe { poller.add_with_mode(wake_fd, polling::Event::readable(WAKE_KEY), polling::PollMode::Edge)? };
        Ok(Poller { poller, wake_fd })
    }

    /// Wakes the worker sleeping in [`Poller::wait`], or makes its next wait
    /// return at once.
    pub fn notify(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a local to our own eventfd.
        unsafe { syscall6(libc::SYS_write, self.wake_fd as usize, &one as *const u64 as usize, 8, 0, 0, 0) };
    }

    /// Waits up to `timeout` (None: forever) for events; fills `out` with
    /// fd readiness (wake-ups are consumed here and not reported).
    pub fn wait(&self, buf: &mut Vec<libc::epoll_event>, timeout: Option<Duration>, out: &mut Vec<Ready>) {
        out.clear();
        if buf.capacity() < MAX_EVENTS {
            buf.reserve(MAX_EVENTS - buf.len());
        }
        let epfd = self.poller.as_raw_fd() as usize;
        let ptr = buf.as_mut_ptr() as usize;
        let cap = buf.capacity().min(MAX_EVENTS);
        let mut n = -(libc::ENOSYS as isize);
        if !NO_PWAIT2.load(Ordering::Relaxed) {
            let ts = timeout.map(|t| libc::timespec { tv_sec: t.as_secs() as _, tv_nsec: t.subsec_nanos() as _ });
            let tsp = ts.as_ref().map_or(0, |t| t as *const libc::timespec as usize);
            // SAFETY: buf has room for `cap` events; ts lives on this frame.
            n = unsafe { syscall6(libc::SYS_epoll_pwait2, epfd, ptr, cap, tsp, 0, 8) };
            if n == -(libc::ENOSYS as isize) {
                NO_PWAIT2.store(true, Ordering::Relaxed);
            }
        }
        if n == -(libc::ENOSYS as isize) {
            let ms = timeout.map_or(-1, |t| t.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32);
            // SAFETY: as above.
            n = unsafe { syscall6(libc::SYS_epoll_wait, epfd, ptr, cap, ms as usize, 0, 0) };
        }
        if n <= 0 {
            return;
        }
        // SAFETY: the kernel initialised the first n entries.
        unsafe { buf.set_len(n as usize) };
        for ev in buf.drain(..) {
            let key = ev.u64 as usize;
            if key == WAKE_KEY {
                let mut v: u64 = 0;
                // SAFETY: reads 8 bytes into a local from our own eventfd.
                unsafe { syscall6(libc::SYS_read, self.wake_fd as usize, &mut v as *mut u64 as usize, 8, 0, 0, 0) };
                continue;
            }
            let f = ev.events as i32;
            // The same flag sets as `polling`'s own epoll backend.
            let readable = f & (libc::EPOLLIN | libc::EPOLLHUP | libc::EPOLLERR | libc::EPOLLPRI) != 0;
            let writable = f & (libc::EPOLLOUT | libc::EPOLLHUP | libc::EPOLLERR) != 0;
            out.push(Ready { key, readable, writable });
        }
    }

    /// Registers `fd` (edge-triggered, read and write) under `key`.
    ///
    /// # Safety
    /// `fd` must be open, and deleted (or closed) before it is reused.
    pub unsafe fn add(&self, fd: i32, key: usize) -> std::io::Result<()> {
        // SAFETY: per the contract.
        unsafe { self.poller.add_with_mode(fd, polling::Event::all(key), polling::PollMode::Edge) }
    }

    /// Re-registers `fd` under a new key.
    pub fn modify(&self, fd: BorrowedFd<'_>, key: usize) -> std::io::Result<()> {
        self.poller.modify_with_mode(fd, polling::Event::all(key), polling::PollMode::Edge)
    }

    /// Drops `fd`'s registration.
    pub fn delete(&self, fd: BorrowedFd<'_>) -> std::io::Result<()> {
        self.poller.delete(fd)
    }
}
