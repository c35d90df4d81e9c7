//! Timers: deadlines on CLOCK_MONOTONIC for sleeps (and, later, timeouts).
//!
//! A binary min-heap under one mutex: insertion and expiry are O(log n), so
//! 100k pending sleeps cost ~17 comparisons each. Entries are never removed
//! early; a timer whose wait already ended fires as a stale wake-up, which the
//! wake-up protocol tolerates (see `coro` module doc, step 4).
//!
//! Owner: the runtime. Any worker inserts (when a coroutine suspends with
//! `Sleep`) and fires (the driving worker after its wait, busy workers every
//! 61 ticks, any worker before it parks). `armed` is the deadline the driving
//! worker is sleeping until; an insert earlier than it wakes the driver.

use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// No deadline.
pub const NEVER: u64 = u64::MAX;
/// `armed` when no worker is sleeping on the poller (nobody to wake).
const NOT_ARMED: u64 = 0;

struct Entry<T> {
    deadline: u64,
    seq: u64,
    item: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, o: &Self) -> bool {
        (self.deadline, self.seq) == (o.deadline, o.seq)
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, o: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(o))
    }
}
impl<T> Ord for Entry<T> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest first;
    /// `seq` keeps equal deadlines in insertion order.
    fn cmp(&self, o: &Self) -> CmpOrdering {
        (o.deadline, o.seq).cmp(&(self.deadline, self.seq))
    }
}

/// A min-heap of deadlines with payloads. Not synchronised.
pub struct TimerHeap<T> {
    heap: BinaryHeap<Entry<T>>,
    seq: u64,
}

impl<T> Default for TimerHeap<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> TimerHeap<T> {
    pub fn new() -> Self {
        TimerHeap { heap: BinaryHeap::new(), seq: 0 }
    }
    pub fn insert(&mut self, deadline: u64, item: T) {
        self.seq += 1;
        self.heap.push(Entry { deadline, seq: self.seq, item });
    }
    /// Earliest deadline, or [`NEVER`].
    pub fn next(&self) -> u64 {
        self.heap.peek().map_or(NEVER, |e| e.deadline)
    }
    /// Removes and returns one entry due at `now`, earliest first.
    pub fn pop_due(&mut self, now: u64) -> Option<T> {
        if self.next() <= now {
            self.heap.pop().map(|e| e.item)
        } else {
            None
        }
    }
    pub fn len(&self) -> usize {
        self.heap.len()
    }
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

/// The runtime's shared timers.
pub struct Timers<T> {
    heap: Mutex<TimerHeap<T>>,
    /// Earliest pending deadline (a hint for the cheap "anything due?" check).
    next: AtomicU64,
    /// Deadline the driving worker currently sleeps until (NEVER: no timeout),
    /// or [`NOT_ARMED`] when no worker drives.
    armed: AtomicU64,
}

impl<T> Default for Timers<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Timers<T> {
    pub fn new() -> Self {
        Timers { heap: Mutex::new(TimerHeap::new()), next: AtomicU64::new(NEVER), armed: AtomicU64::new(NOT_ARMED) }
    }

    /// Adds a deadline. Returns true if the driving worker sleeps past it and
    /// must be woken to re-arm.
    pub fn insert(&self, deadline: u64, item: T) -> bool {
        let mut h = self.heap.lock().unwrap_or_else(|e| e.into_inner());
        h.insert(deadline, item);
        self.next.store(h.next(), Ordering::Relaxed);
        let armed = self.armed.load(Ordering::Relaxed);
        armed != NOT_ARMED && deadline < armed
    }

    /// Is anything due at `now`? (Relaxed hint; `fire` decides under the lock.)
    #[inline]
    pub fn maybe_due(&self, now: u64) -> bool {
        self.next.load(Ordering::Relaxed) <= now
    }

    /// Takes every entry due at `now`; returns them for the caller to act on
    /// outside the lock.
    pub fn take_due(&self, now: u64, out: &mut Vec<T>) {
        if !self.maybe_due(now) {
            return;
        }
        let mut h = self.heap.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(item) = h.pop_due(now) {
            out.push(item);
        }
        self.next.store(h.next(), Ordering::Relaxed);
    }

    /// The driving worker is about to sleep: records and returns the deadline
    /// it will sleep until. Under the heap lock, so that an insert either is
    /// seen here or sees `armed` (and wakes the driver).
    pub fn arm(&self) -> u64 {
        let h = self.heap.lock().unwrap_or_else(|e| e.into_inner());
        let d = h.next();
        self.armed.store(d, Ordering::Relaxed);
        d
    }

    /// The driving worker woke up.
    pub fn disarm(&self) {
        self.armed.store(NOT_ARMED, Ordering::Relaxed);
    }

    pub fn len(&self) -> usize {
        self.heap.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_deadline_then_insertion_order() {
        let mut h = TimerHeap::new();
        h.insert(30, "c");
        h.insert(10, "a");
        h.insert(10, "b");
        h.insert(20, "x");
        assert_eq!(h.next(), 10);
        assert_eq!(h.pop_due(5), None);
        assert_eq!(h.pop_due(25), Some("a"));
        assert_eq!(h.pop_due(25), Some("b"));
        assert_eq!(h.pop_due(25), Some("x"));
        assert_eq!(h.pop_due(25), None);
        assert_eq!(h.next(), 30);
    }

    #[test]
    fn insert_reports_when_driver_sleeps_past_it() {
        let t: Timers<u32> = Timers::new();
        assert!(!t.insert(100, 1), "no driver armed: nobody to wake");
        assert_eq!(t.arm(), 100);
        assert!(!t.insert(200, 2));
        assert!(t.insert(50, 3), "earlier than the armed deadline");
        let mut out = vec![];
        t.take_due(150, &mut out);
        assert_eq!(out, vec![3, 1]);
        assert_eq!(t.len(), 1);
        t.disarm();
        assert!(!t.insert(10, 4), "driver gone: nobody to wake");
        t.take_due(1000, &mut out);
        assert_eq!(t.arm(), NEVER);
        assert!(t.insert(5000, 5), "a driver sleeping without timeout must be woken");
    }
}
