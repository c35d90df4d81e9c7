//! How an idle worker thread blocks: a futex parker with a wake-up token.
//!
//! Raw futex calls (not std's `thread::park`, which goes through libc's
//! `syscall` and so, later, through our own hook).

use std::sync::atomic::{AtomicU32, Ordering};

use crate::sys::{futex_wait, futex_wake};

const EMPTY: u32 = 0;
const NOTIFIED: u32 = 1;
const PARKED: u32 = 2;

/// A one-token parker: `unpark` before `park` makes `park` return at once.
#[derive(Default)]
pub struct Parker {
    state: AtomicU32,
}

impl Parker {
    pub const fn new() -> Self {
        Parker { state: AtomicU32::new(EMPTY) }
    }

    /// Blocks until `unpark` (consuming its token).
    pub fn park(&self) {
        // Fast path: a token is waiting. Acquire pairs with the Release in unpark.
        if self.state.compare_exchange(NOTIFIED, EMPTY, Ordering::Acquire, Ordering::Acquire).is_ok() {
            return;
        }
        if self.state.compare_exchange(EMPTY, PARKED, Ordering::Acquire, Ordering::Acquire).is_err() {
            // It became NOTIFIED in between.
            self.state.store(EMPTY, Ordering::Relaxed);
            return;
        }
        loop {
            futex_wait(&self.state, PARKED, None);
            if self.state.compare_exchange(NOTIFIED, EMPTY, Ordering::Acquire, Ordering::Acquire).is_ok() {
                return;
            }
        }
    }

    /// Wakes the parked thread or leaves a token for its next `park`.
    pub fn unpark(&self) {
        // Release pairs with the Acquire in park: what the waker wrote before
        // unpark is visible to the woken thread.
        if self.state.swap(NOTIFIED, Ordering::Release) == PARKED {
            futex_wake(&self.state, 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn token_before_park_returns_at_once() {
        let p = Parker::new();
        p.unpark();
        p.park();
    }

    #[test]
    fn unpark_wakes_a_parked_thread() {
        for _ in 0..200 {
            let p = Arc::new(Parker::new());
            let q = p.clone();
            let h = std::thread::spawn(move || q.park());
            p.unpark();
            h.join().unwrap();
        }
    }
}
