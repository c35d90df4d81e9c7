//! Coordinates idling workers: who sleeps, and whom to wake.
//!
//! Every worker sleeps in its own poller (its own epoll set, with its own
//! earliest timer as timeout), so waking worker `i` is `pollers[i].notify()`,
//! which is sticky: a notify that comes before the wait makes the wait return
//! at once. This module is the bookkeeping, under one mutex; the caller
//! performs the notify outside the lock.
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
//! (work for its inbox) is decided the same way; the notify being sticky, it
//! is harmless when the worker was already on its way up.
//!
//! ## Searching workers
//!
//! A woken worker is *searching* until it finds work or sleeps again. While
//! one searches, queuing new work wakes nobody else (the searcher will find
//! it, and wakes the next sleeper when it does): no thundering herd on every
//! spawn.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

#[derive(Default)]
pub struct Idle {
    sleeping: Mutex<Vec<usize>>,
    num_sleeping: AtomicUsize,
    num_searching: AtomicUsize,
}

impl Idle {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<usize>> {
        self.sleeping.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Worker `i` is going to sleep. The caller must then fence and re-check
    /// its queues.
    pub fn begin_sleep(&self, i: usize) {
        let mut g = self.lock();
        g.push(i);
        self.num_sleeping.fetch_add(1, Ordering::SeqCst);
    }

    /// Worker `i` is awake again (woken, timed out, or backing out).
    pub fn end_sleep(&self, i: usize) {
        let mut g = self.lock();
        if let Some(pos) = g.iter().position(|&w| w == i) {
            g.swap_remove(pos);
            self.num_sleeping.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// New work was queued for anyone: picks a sleeper to wake, unless a
    /// worker is already searching.
    pub fn wake_any(&self) -> Option<usize> {
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.num_searching.load(Ordering::SeqCst) > 0 || self.num_sleeping.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let mut g = self.lock();
        let w = g.pop()?;
        self.num_sleeping.fetch_sub(1, Ordering::SeqCst);
        Some(w)
    }

    /// Work was queued for worker `i` only: returns true if it sleeps (and
    /// must be notified).
    pub fn wake_worker(&self, i: usize) -> bool {
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.num_sleeping.load(Ordering::SeqCst) == 0 {
            return false;
        }
        let mut g = self.lock();
        let Some(pos) = g.iter().position(|&w| w == i) else { return false };
        g.swap_remove(pos);
        self.num_sleeping.fetch_sub(1, Ordering::SeqCst);
        true
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
    fn sleepers_are_woken_once_each() {
        let idle = Idle::new();
        idle.begin_sleep(0);
        idle.begin_sleep(1);
        let a = idle.wake_any().unwrap();
        let b = idle.wake_any().unwrap();
        assert_ne!(a, b);
        assert_eq!(idle.wake_any(), None);
        idle.end_sleep(a);
        idle.end_sleep(b);
        assert_eq!(idle.sleeping(), 0);
    }

    #[test]
    fn a_searching_worker_suppresses_more_wakeups() {
        let idle = Idle::new();
        idle.begin_sleep(0);
        idle.start_searching();
        assert_eq!(idle.wake_any(), None);
        assert!(idle.stop_searching());
        assert_eq!(idle.wake_any(), Some(0));
    }

    #[test]
    fn waking_a_specific_worker() {
        let idle = Idle::new();
        idle.begin_sleep(0);
        idle.begin_sleep(1);
        assert!(idle.wake_worker(1));
        assert!(!idle.wake_worker(1));
        assert!(idle.wake_worker(0));
        assert_eq!(idle.sleeping(), 0);
    }
}
