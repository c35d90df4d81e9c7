//! A worker's poller: an epoll set for fd registrations and an eventfd that
//! wakes it, both at high fd numbers.
//!
//! A worker waits with one `epoll_pwait2` (nanosecond timeout; `epoll_wait`
//! with the timeout rounded up to whole milliseconds where the kernel lacks
//! it) and is woken through its eventfd, registered edge-triggered so a
//! wake-up costs one `write` and, when seen, one `read`.
//!
//! The `polling` crate served here until its fds had to move: it keeps the
//! numbers the kernel hands out (the lowest free ones, 3, 4, ...), where a
//! shell's `exec 3>file` or a daemon's `dup2` lands on them; and its own
//! wait re-arms a timerfd and its notifier on every call (three system calls
//! per wait). These fds are moved to the top of the fd range
//! ([`runtime_fd`] tells them apart) and are close-on-exec.

use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::time::Duration;

use crate::sys::syscall6;

/// The key of the wake-up eventfd.
const WAKE_KEY: usize = usize::MAX - 1;
const MAX_EVENTS: usize = 1024;
/// Readable (with peer hang-up and urgent data) and writable, edge-triggered.
const ALL_EDGE: u32 = (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLPRI | libc::EPOLLOUT | libc::EPOLLET) as u32;

/// One readiness event, as the reactor needs it.
#[derive(Debug, Clone, Copy)]
pub struct Ready {
    pub key: usize,
    pub readable: bool,
    pub writable: bool,
}

pub struct Poller {
    epfd: i32,
    wake_fd: i32,
}

/// The runtime's own fds: at most this many, in `RUNTIME_FDS`.
const MAX_RUNTIME_FDS: usize = 256;
static RUNTIME_FDS: [AtomicI32; MAX_RUNTIME_FDS] = [const { AtomicI32::new(-1) }; MAX_RUNTIME_FDS];
static NRUNTIME: AtomicUsize = AtomicUsize::new(0);
/// Lowest and highest runtime fd (a fast range test in the fd hooks).
static LOW: AtomicI32 = AtomicI32::new(i32::MAX);
static HIGH: AtomicI32 = AtomicI32::new(-1);

/// Is `fd` one of the runtime's own (a poller's epoll fd or eventfd, the
/// monitor's views of its workers' `/proc` stat files)?
#[inline]
pub fn runtime_fd(fd: i32) -> bool {
    if fd < LOW.load(Ordering::Relaxed) || fd > HIGH.load(Ordering::Relaxed) {
        return false;
    }
    let n = NRUNTIME.load(Ordering::Acquire).min(MAX_RUNTIME_FDS);
    RUNTIME_FDS[..n].iter().any(|f| f.load(Ordering::Relaxed) == fd)
}

/// The runtime fds within `first..=last`, ascending.
pub fn runtime_fds_in(first: u32, last: u32) -> Vec<i32> {
    let n = NRUNTIME.load(Ordering::Acquire).min(MAX_RUNTIME_FDS);
    let mut v: Vec<i32> = RUNTIME_FDS[..n]
        .iter()
        .map(|f| f.load(Ordering::Relaxed))
        .filter(|&f| f >= 0 && (first..=last).contains(&(f as u32)))
        .collect();
    v.sort_unstable();
    v
}

/// In a forked child: closes the child's copies of the parent's runtime fds
/// (the epoll sets are shared with the parent: the child must not touch
/// them) and forgets them; the child's pollers take the same numbers.
pub(crate) fn forget_after_fork() {
    let n = NRUNTIME.swap(0, Ordering::AcqRel).min(MAX_RUNTIME_FDS);
    for f in &RUNTIME_FDS[..n] {
        let fd = f.swap(-1, Ordering::AcqRel);
        if fd >= 0 {
            // (our own fd; the parent's copy stays open)
            crate::sys::close_own(fd);
        }
    }
    LOW.store(i32::MAX, Ordering::Release);
    HIGH.store(-1, Ordering::Release);
}

/// Moves a new fd of ours to the top of the fd range (close-on-exec) and
/// records it. The top is the soft `RLIMIT_NOFILE` (at most 2^20); under a
/// soft limit below [`LOW_LIMIT`] (`ulimit -n 64`, or a program that
/// lowers its own) it is the hard limit up to `LOW_LIMIT`: the soft limit
/// is raised for the one `F_DUPFD` and put back, so that our fds stay out
/// of the small numbers the program uses (an fd above the soft limit stays
/// valid). With both limits low, just below the soft one.
pub(crate) fn place_high(fd: i32) -> std::io::Result<i32> {
    let (soft, hard) = nofile();
    let top = if soft < LOW_LIMIT { hard.min(LOW_LIMIT).max(soft) } else { soft.min(1 << 20) };
    let raise = top > soft;
    let n = NRUNTIME.load(Ordering::Relaxed);
    // Below the top, leaving room for the other runtime fds (a quarter of
    // a very low limit at most).
    let room = (MAX_RUNTIME_FDS / 4).min(top / 4);
    let want = top.saturating_sub(room + n + 1).max(3);
    if raise {
        set_nofile_soft(top);
    }
    // SAFETY: F_DUPFD_CLOEXEC of our own fd, then closing the original.
    let high = unsafe { syscall6(libc::SYS_fcntl, fd as usize, libc::F_DUPFD_CLOEXEC as usize, want, 0, 0, 0) };
    if raise {
        set_nofile_soft(soft);
    }
    let placed = if high >= 0 {
        crate::sys::close_own(fd);
        high as i32
    } else {
        fd // no room up there: keep it where it is
    };
    let i = NRUNTIME.fetch_add(1, Ordering::AcqRel);
    if i < MAX_RUNTIME_FDS {
        RUNTIME_FDS[i].store(placed, Ordering::Release);
        LOW.fetch_min(placed, Ordering::AcqRel);
        HIGH.fetch_max(placed, Ordering::AcqRel);
    }
    Ok(placed)
}

/// A soft fd limit below this counts as low (see `place_high`); the usual
/// default. Placing fds higher still would grow the kernel's fd table for
/// nothing (8 bytes per number).
const LOW_LIMIT: usize = 1024;

/// The soft and hard `RLIMIT_NOFILE` (1024 each should the call fail).
fn nofile() -> (usize, usize) {
    crate::sys::nofile().unwrap_or((1024, 1024))
}

/// Sets the soft `RLIMIT_NOFILE`, keeping the hard one.
fn set_nofile_soft(soft: usize) {
    let (_, hard) = nofile();
    let rl = libc::rlimit { rlim_cur: soft as libc::rlim_t, rlim_max: if hard == usize::MAX { libc::RLIM_INFINITY } else { hard as libc::rlim_t } };
    // SAFETY: prlimit64 of our own process from a valid struct.
    unsafe { syscall6(libc::SYS_prlimit64, 0, libc::RLIMIT_NOFILE as usize, &rl as *const libc::rlimit as usize, 0, 0, 0) };
}

fn check(r: isize) -> std::io::Result<isize> {
    if r < 0 {
        Err(std::io::Error::from_raw_os_error(-r as i32))
    } else {
        Ok(r)
    }
}

/// The kernel lacks `epoll_pwait2` (before Linux 5.11): use `epoll_wait`.
static NO_PWAIT2: AtomicBool = AtomicBool::new(false);

impl Poller {
    pub fn new() -> std::io::Result<Poller> {
        // SAFETY: epoll_create1 and eventfd2 create new fds; raw system
        // calls, not through our hooks.
        let epfd = place_high(check(unsafe { syscall6(libc::SYS_epoll_create1, libc::EPOLL_CLOEXEC as usize, 0, 0, 0, 0, 0) })? as i32)?;
        // SAFETY: as above.
        let fd = check(unsafe { syscall6(libc::SYS_eventfd2, 0, (libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) as usize, 0, 0, 0, 0) })?;
        let wake_fd = place_high(fd as i32)?;
        let p = Poller { epfd, wake_fd };
        // Both fds live as long as the process (the runtime is never torn
        // down).
        p.ctl(libc::EPOLL_CTL_ADD, wake_fd, (libc::EPOLLIN | libc::EPOLLET) as u32, WAKE_KEY)?;
        Ok(p)
    }

    /// The epoll fd, for the monitor to wait on (readable while events
    /// wait in it).
    pub fn fd(&self) -> i32 {
        self.epfd
    }

    fn ctl(&self, op: i32, fd: i32, events: u32, key: usize) -> std::io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: key as u64 };
        // SAFETY: epoll_ctl on our epoll fd with a valid event struct.
        check(unsafe { syscall6(libc::SYS_epoll_ctl, self.epfd as usize, op as usize, fd as usize, &mut ev as *mut _ as usize, 0, 0) })
            .map(|_| ())
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
        let epfd = self.epfd as usize;
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
            // Errors and hang-ups count as both (a call will report them).
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
        self.ctl(libc::EPOLL_CTL_ADD, fd, ALL_EDGE, key)
    }

    /// Re-registers `fd` under a new key.
    pub fn modify(&self, fd: BorrowedFd<'_>, key: usize) -> std::io::Result<()> {
        use std::os::fd::AsRawFd;
        self.ctl(libc::EPOLL_CTL_MOD, fd.as_raw_fd(), ALL_EDGE, key)
    }

    /// Drops `fd`'s registration.
    pub fn delete(&self, fd: BorrowedFd<'_>) -> std::io::Result<()> {
        use std::os::fd::AsRawFd;
        self.ctl(libc::EPOLL_CTL_DEL, fd.as_raw_fd(), 0, 0)
    }
}
