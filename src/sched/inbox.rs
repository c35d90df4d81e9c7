//! An MPMC queue of tasks (a slot's inbox and its woken sleepers, the
//! runtime's ready queue), whose storage is allocated by the first push.
//!
//! A crossbeam `Injector` allocates a block (about 1 KiB, zeroed) when it is
//! made; a runtime has two per slot, spares included, and a process whose
//! `main` never has company never pushes to any of them. Built lazily they
//! cost a pointer each until used. The pointer is set once with a CAS (no
//! lock: a fork cannot leave it half-built) and never freed (the runtime
//! lives as long as the process).

use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Arc;

use crossbeam_deque::{Injector, Steal};

use crate::coro::Task;

pub(crate) struct Inbox {
    queue: AtomicPtr<Injector<Arc<Task>>>,
}

impl Inbox {
    pub(crate) const fn new() -> Self {
        Inbox { queue: AtomicPtr::new(std::ptr::null_mut()) }
    }

    fn get(&self) -> Option<&Injector<Arc<Task>>> {
        // SAFETY: non-null only once it points at a leaked Box (below).
        unsafe { self.queue.load(Ordering::Acquire).as_ref() }
    }

    pub(crate) fn push(&self, t: Arc<Task>) {
        let q = match self.get() {
            Some(q) => q,
            None => {
                let fresh = Box::into_raw(Box::new(Injector::new()));
                match self.queue.compare_exchange(std::ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
                    // SAFETY: just published, never freed.
                    Ok(_) => unsafe { &*fresh },
                    Err(won) => {
                        // SAFETY: ours, never published.
                        drop(unsafe { Box::from_raw(fresh) });
                        // SAFETY: the winner's, never freed.
                        unsafe { &*won }
                    }
                }
            }
        };
        q.push(t);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.get().is_none_or(|q| q.is_empty())
    }

    /// One task, or none when the queue is empty.
    pub(crate) fn take(&self) -> Option<Arc<Task>> {
        let q = self.get()?;
        if q.is_empty() {
            return None;
        }
        loop {
            match q.steal() {
                Steal::Success(t) => return Some(t),
                Steal::Empty => return None,
                Steal::Retry => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Inbox;

    #[test]
    fn empty_until_pushed() {
        let q = Inbox::new();
        assert!(q.is_empty());
        assert!(q.take().is_none());
        assert!(q.queue.load(std::sync::atomic::Ordering::Relaxed).is_null(), "no storage before the first push");
    }
}
