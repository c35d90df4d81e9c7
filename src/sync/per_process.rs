//! A global that a forked child builds anew.
//!
//! After `fork` the child has one thread; any lock another thread held in
//! the parent stays locked in the child for good, and queues hold work of
//! threads that no longer exist. Runtime state that must be fresh in the
//! child lives in a [`PerProcess`]: built on first use like a `OnceLock`,
//! and [`PerProcess::renew`]ed by the fork handler, which leaks the
//! parent's copy (its contents belong to coroutines that do not exist in
//! the child: dropping them could run their code).

use std::sync::atomic::{AtomicPtr, Ordering};

pub struct PerProcess<T> {
    p: AtomicPtr<T>,
}

impl<T> PerProcess<T> {
    pub const fn new() -> Self {
        PerProcess { p: AtomicPtr::new(std::ptr::null_mut()) }
    }

    /// The value, if it has been built.
    #[inline]
    pub fn get(&self) -> Option<&T> {
        // SAFETY: a published pointer comes from Box::into_raw and is never
        // freed (renew leaks the old value).
        unsafe { self.p.load(Ordering::Acquire).as_ref() }
    }

    /// The value, built with `f` on first use (if two threads race, one
    /// value wins and the other is dropped unseen).
    #[inline]
    pub fn get_or_init(&self, f: impl FnOnce() -> T) -> &T {
        match self.get() {
            Some(v) => v,
            None => self.init(f),
        }
    }

    #[cold]
    fn init(&self, f: impl FnOnce() -> T) -> &T {
        let fresh = Box::into_raw(Box::new(f()));
        match self.p.compare_exchange(std::ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
            // SAFETY: just published, never freed.
            Ok(_) => unsafe { &*fresh },
            Err(other) => {
                // SAFETY: `fresh` was never published.
                drop(unsafe { Box::from_raw(fresh) });
                // SAFETY: as in `get`.
                unsafe { &*other }
            }
        }
    }

    /// In a forked child: replaces the value with `v` (or with nothing, to
    /// be built on next use), leaking the parent's.
    pub fn renew(&self, v: Option<T>) {
        let p = v.map_or(std::ptr::null_mut(), |v| Box::into_raw(Box::new(v)));
        self.p.store(p, Ordering::Release);
    }
}

impl<T> Default for PerProcess<T> {
    fn default() -> Self {
        Self::new()
    }
}
