//! A tiny spin lock for the parking lot's buckets.
//!
//! The lot cannot use `std::sync::Mutex`: inside this library std's mutex
//! calls our own `syscall` hook for its futex, whose wake side looks into
//! the lot. Critical sections here are a few loads and stores.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, Ordering};

pub struct SpinLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the value is only reached through a guard, which the lock makes
// exclusive.
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for SpinLock<T> {}

pub struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> SpinLock<T> {
    pub const fn new(v: T) -> Self {
        SpinLock { locked: AtomicBool::new(false), value: UnsafeCell::new(v) }
    }

    pub fn lock(&self) -> SpinGuard<'_, T> {
        let mut spins = 0u32;
        while self.locked.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            spins += 1;
            if spins < 100 {
                std::hint::spin_loop();
            } else {
                // The holder may have been descheduled: give it the CPU.
                // SAFETY: sched_yield has no arguments.
                unsafe { crate::sys::syscall6(libc::SYS_sched_yield, 0, 0, 0, 0, 0, 0) };
            }
        }
        SpinGuard { lock: self }
    }
}

impl<T> SpinLock<T> {
    /// In a forked child: unlocks (a thread of the parent may have held
    /// it) and gives the value.
    ///
    /// # Safety
    /// Only one thread exists (the atfork child handler).
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn reset_after_fork(&self) -> &mut T {
        self.locked.store(false, Ordering::Release);
        // SAFETY: the only thread, per the contract.
        unsafe { &mut *self.value.get() }
    }
}

impl<T> std::ops::Deref for SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves exclusive access.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> std::ops::DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard proves exclusive access.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}
