//! Coordinates idling workers: who sleeps, who drives the poller, whom to wake.
//!
//! Pure bookkeeping under one mutex; the caller performs the actual wake-up
//! (parker or poller notify) outside the lock.
//!
//! ## The wake-up protocol (no lost wake-ups)
//!
//! - A worker about to sleep: (1) registers in `sleeping` and increments
//!   `num_sleeping` (SeqCst), (2) full fence, (3) re-checks every queue and
//!   backs out if it finds work.
//! - A thread that queues work: (1) pushes, (2) full fence, (3) reads
//!   `num_sleeping`; if non-zero it takes the lock and wakes one sleeper.
//!
//! Either the sleeper's re-check sees the work or the pusher sees the sleeper
//! (Dekker: both sides store, fence, then load). Waking a *specific* worker
//! (its pinned inbox) is decided under the lock, which orders it against the
//! sleeper's registration.
//!
//! The first worker to sleep becomes the *driver*: it waits on the poller
//! with the earliest timer as timeout; the others park. When the driver gets
//! up it hands the role on by waking one parked worker, so timers are always
//! watched while anyone sleeps.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// How the chosen sleeper must be woken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// Unpark worker `i`'s parker.
    Parker(usize),
    /// Notify the poller (worker `i` drives it).
    Driver(usize),
}

#[derive(Default)]
struct Inner {
    /// Sleeping workers, including the driver while it sleeps.
    sleeping: Vec<usize>,
    driver: Option<usize>,
}

#[derive(Default)]
pub struct Idle {
    inner: Mutex<Inner>,
    num_sleeping: AtomicUsize,
    /// Workers just woken that have not yet found work. While one searches,
    /// queuing more work wakes nobody else (it will find it, and wake the
    /// next one when it does): no thundering herd on every push.
    num_searching: AtomicUsize,
}

impl Idle {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Worker `i` is going to sleep. Returns true if it is to drive the
    /// poller. The caller must then fence and re-check its queues.
    pub fn begin_sleep(&self, i: usize) -> bool {
        let mut g = self.lock();
        g.sleeping.push(i);
        self.num_sleeping.fetch_add(1, Ordering::SeqCst);
        let drive = g.driver.is_none();
        if drive {
            g.driver = Some(i);
        }
        drive
    }

    /// Worker `i` is awake again (woken, or backing out). Returns a parked
    /// worker to wake so that it takes over driving, if `i` was the driver
    /// and someone still sleeps.
    pub fn end_sleep(&self, i: usize, was_driver: bool) -> Option<Wake> {
        let mut g = self.lock();
        if let Some(pos) = g.sleeping.iter().position(|&w| w == i) {
            g.sleeping.swap_remove(pos);
            self.num_sleeping.fetch_sub(1, Ordering::SeqCst);
        }
        if was_driver {
            g.driver = None;
            if let Some(w) = g.sleeping.pop() {
                self.num_sleeping.fetch_sub(1, Ordering::SeqCst);
                return Some(Wake::Parker(w));
            }
        }
        None
    }

    /// Work was queued for anyone: picks a sleeper to wake, preferring a
    /// parked worker over the driver (which is watching timers).
    pub fn wake_any(&self) -> Option<Wake> {
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.num_searching.load(Ordering::SeqCst) > 0 || self.num_sleeping.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let mut g = self.lock();
        let driver = g.driver;
        let pos = g.sleeping.iter().position(|&w| Some(w) != driver).or(if g.sleeping.is_empty() { None } else { Some(0) })?;
        let w = g.sleeping.swap_remove(pos);
        self.num_sleeping.fetch_sub(1, Ordering::SeqCst);
        Some(if Some(w) == driver { Wake::Driver(w) } else { Wake::Parker(w) })
    }

    /// Work was queued for worker `i` only: wakes it if it sleeps.
    pub fn wake_worker(&self, i: usize) -> Option<Wake> {
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.num_sleeping.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let mut g = self.lock();
        let pos = g.sleeping.iter().position(|&w| w == i)?;
        g.sleeping.swap_remove(pos);
        self.num_sleeping.fetch_sub(1, Ordering::SeqCst);
        Some(if g.driver == Some(i) { Wake::Driver(i) } else { Wake::Parker(i) })
    }

    /// A woken worker starts searching for work.
    pub fn start_searching(&self) {
        self.num_searching.fetch_add(1, Ordering::SeqCst);
    }

    /// A searching worker found work or goes back to sleep. Returns true if
    /// it was the last searcher.
    pub fn stop_searching(&self) -> bool {
        self.num_searching.fetch_sub(1, Ordering::SeqCst) == 1
    }

    /// Number of sleeping workers.
    pub fn sleeping(&self) -> usize {
        self.num_sleeping.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_sleeper_drives_and_parked_workers_are_woken_first() {
        let idle = Idle::new();
        assert!(idle.begin_sleep(0));
        assert!(!idle.begin_sleep(1));
        assert_eq!(idle.wake_any(), Some(Wake::Parker(1)));
        assert_eq!(idle.wake_any(), Some(Wake::Driver(0)));
        assert_eq!(idle.wake_any(), None);
        assert_eq!(idle.end_sleep(0, true), None);
        assert_eq!(idle.end_sleep(1, false), None);
        assert_eq!(idle.sleeping(), 0);
    }

    #[test]
    fn driver_hands_its_role_to_a_parked_worker() {
        let idle = Idle::new();
        assert!(idle.begin_sleep(2));
        assert!(!idle.begin_sleep(3));
        assert_eq!(idle.end_sleep(2, true), Some(Wake::Parker(3)));
        assert_eq!(idle.sleeping(), 0);
        // 3 wakes, finds nothing, sleeps again and now drives.
        assert_eq!(idle.end_sleep(3, false), None);
        assert!(idle.begin_sleep(3));
    }

    #[test]
    fn waking_a_specific_worker() {
        let idle = Idle::new();
        idle.begin_sleep(0);
        idle.begin_sleep(1);
        assert_eq!(idle.wake_worker(1), Some(Wake::Parker(1)));
        assert_eq!(idle.wake_worker(1), None);
        assert_eq!(idle.wake_worker(0), Some(Wake::Driver(0)));
    }
}
