//! Timers: deadlines on CLOCK_MONOTONIC for sleeps and I/O timeouts.
//!
//! A binary min-heap: insertion and expiry are O(log n), so 100k pending
//! sleeps cost ~17 comparisons each. Entries are never removed early; a
//! timer whose wait already ended fires as a stale wake-up, which the wake-up
//! protocol tolerates (see `coro` module doc, step 4).
//!
//! Owner: each worker has its own heap (in its `Local`), for the coroutines
//! pinned to it: only that worker inserts (when one of its coroutines
//! suspends with `Sleep`) and fires (every 61 ticks while busy, before it
//! sleeps, and when its poller wait times out). No lock.

use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;

/// No deadline.
pub const NEVER: u64 = u64::MAX;

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
}
