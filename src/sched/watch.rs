//! What each worker publishes for the monitor ([`Watch`]: its switch
//! counter, whether it runs a coroutine, the monitor's requests to it) and
//! how a worker wakes an idle monitor. Owned by the scheduler, read by the
//! monitor above it (`crate::monitor`), which the scheduler starts through
//! the entry points it is given ([`super::set_monitor`]).

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering};

/// What one worker publishes for the monitor.
#[derive(Default)]
pub struct Watch {
    /// The worker's kernel thread id (0 until it starts).
    pub tid: AtomicI32,
    /// Bumped at every resume.
    pub switches: AtomicU64,
    /// Running a coroutine now.
    pub running: AtomicBool,
    /// A SIGURG from the monitor is on its way (tells it from others').
    pub preempt_sent: AtomicBool,
    /// Stuck in one call for longer than the hand-off time.
    pub blocked: AtomicBool,
    /// A spare: standing in for the blocked workers.
    pub active: AtomicBool,
    /// The thread's `/proc` stat file, for the monitor (0: not open).
    pub stat_fd: AtomicI32,
    /// A timer of this worker is due while it is busy: its loop fires its
    /// timers at the next switch (it otherwise looks only every
    /// `FAIRNESS_TICKS` switches, or when a coroutine is preempted).
    pub timers_due: AtomicBool,
    /// Events wait in this busy worker's poller: its loop takes them at the
    /// next switch (see [`watch_pollers`]).
    pub fds_ready: AtomicBool,
    /// Sleeping in its own poller (the monitor does not watch it then).
    pub asleep: AtomicBool,
}

impl Watch {
    #[inline]
    pub fn enter(&self) {
        // The slot's worker is the one writer: a plain increment, not a
        // locked one (the monitor only compares the count with its last).
        let n = self.switches.load(Ordering::Relaxed);
        self.switches.store(n.wrapping_add(1), Ordering::Relaxed);
        self.running.store(true, Ordering::Relaxed);
        if MONITOR_IDLE.load(Ordering::Relaxed) {
            wake_monitor();
        }
    }
    #[inline]
    pub fn leave(&self) {
        self.running.store(false, Ordering::Relaxed);
        if self.blocked.load(Ordering::Relaxed) {
            self.blocked.store(false, Ordering::Release);
        }
    }
}

/// The monitor sleeps until woken (no worker was busy).
pub(crate) static MONITOR_IDLE: AtomicBool = AtomicBool::new(false);
pub(crate) static WAKE: AtomicU32 = AtomicU32::new(0);

#[cold]
fn wake_monitor() {
    if MONITOR_IDLE.swap(false, Ordering::AcqRel) {
        WAKE.fetch_add(1, Ordering::Release);
        crate::sys::futex_wake(WAKE.as_ptr(), 1);
    }
}

/// Opens worker `w`'s stat file for the monitor, when its thread starts
/// (`tid` is its kernel thread id).
pub(crate) fn watch_thread(w: &Watch, tid: i32) {
    if tid > 0 && w.stat_fd.load(Ordering::Acquire) <= 0 {
        let fd = open_stat(tid);
        if fd > 0 {
            w.stat_fd.store(fd, Ordering::Release);
        }
    }
}

/// Opens `/proc/self/task/<tid>/stat` and moves it up among the runtime's
/// fds; -1 when it cannot.
fn open_stat(tid: i32) -> i32 {
    let path = format!("/proc/self/task/{tid}/stat\0");
    // SAFETY: a NUL-terminated path; a raw openat (never our hook).
    let fd = unsafe {
        crate::sys::syscall6(libc::SYS_openat, libc::AT_FDCWD as usize, path.as_ptr() as usize, (libc::O_RDONLY | libc::O_CLOEXEC) as usize, 0, 0, 0)
    };
    if fd < 0 {
        return -1;
    }
    crate::reactor::poller::place_high(fd as i32).unwrap_or(fd as i32)
}
