//! The parking lot: waiters queued under the address of the word they wait
//! on, woken by address (what the kernel's futex does, in user space).
//!
//! A waiter enqueues under its bucket's lock only if its condition still
//! holds (checked under that lock), so a waker that changes the word and
//! then wakes through the lot cannot miss it. A coroutine waiter suspends;
//! a plain thread sleeps on a futex word of its own. Wake-ups may be stale
//! (a task woken for an earlier wait): [`Ticket::wait`] loops on its flag.

use std::sync::atomic::{fence, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use super::spin::SpinLock;
use crate::coro::{self, Request, Task};
use crate::reactor::timer::NEVER;

/// Wake every waiter.
pub const ALL: usize = usize::MAX;
/// A bitset that matches every waiter.
pub const ANY: u32 = u32::MAX;

const BUCKET_BITS: u32 = 9;
/// Waiters woken per pass (their wake-ups happen outside the bucket lock).
const BATCH: usize = 16;

enum Who {
    Task(Arc<Task>),
    /// A plain thread's futex word (its thread-local flag).
    Thread(*const AtomicU32),
}

struct Waiter {
    addr: usize,
    bitset: u32,
    id: u64,
    flag: *const AtomicU32,
    who: Who,
}

// SAFETY: the raw pointers are flags that outlive the waiter's entry (a
// task's field, or a thread-local of a thread blocked until the entry is
// gone); they are only used for atomic stores and futex wakes.
unsafe impl Send for Waiter {}

static BUCKETS: [SpinLock<Vec<Waiter>>; 1 << BUCKET_BITS] = [const { SpinLock::new(Vec::new()) }; 1 << BUCKET_BITS];
/// Waiters in the lot, for wakers' fast path.
static PARKED: AtomicUsize = AtomicUsize::new(0);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// A plain thread's wake-up flag (a thread waits on one word at a time).
    static THREAD_FLAG: AtomicU32 = const { AtomicU32::new(0) };
}

/// In a forked child: every waiter is a coroutine or thread of the parent.
/// Leaked, not dropped (see `sync::per_process`).
pub(crate) fn forget_after_fork() {
    for b in &BUCKETS {
        // SAFETY: called by the fork handler, the child's only thread.
        let v = unsafe { b.reset_after_fork() };
        std::mem::forget(std::mem::take(v));
    }
    PARKED.store(0, Ordering::Relaxed);
}

fn bucket(addr: usize) -> &'static SpinLock<Vec<Waiter>> {
    let h = ((addr >> 2) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - BUCKET_BITS);
    &BUCKETS[h as usize]
}

/// A queued waiter; [`Ticket::wait`] or [`Ticket::cancel`] consumes it.
pub struct Ticket {
    addr: usize,
    id: u64,
    flag: *const AtomicU32,
    task: Option<Arc<Task>>,
}

/// Queues the caller under `addr` if `cond()` (run under the bucket lock)
/// is true; None otherwise.
pub fn enqueue_if(addr: usize, bitset: u32, cond: impl FnOnce() -> bool) -> Option<Ticket> {
    let task = coro::current_task();
    let flag: *const AtomicU32 = match &task {
        Some(t) => t.lot_flag(),
        None => THREAD_FLAG.with(|f| f as *const AtomicU32),
    };
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let mut b = bucket(addr).lock();
    // Counted before the condition is read: pairs with the fence in `wake`
    // (a waker that changed the word either sees us counted or we see its
    // change).
    PARKED.fetch_add(1, Ordering::SeqCst);
    if !cond() {
        PARKED.fetch_sub(1, Ordering::Relaxed);
        return None;
    }
    // SAFETY: flag is the caller's own flag (see `Waiter`).
    unsafe { (*flag).store(0, Ordering::Relaxed) };
    let who = match &task {
        Some(t) => Who::Task(t.clone()),
        None => Who::Thread(flag),
    };
    b.push(Waiter { addr, bitset, id, flag, who });
    Some(Ticket { addr, id, flag, task })
}

/// Queues the caller under `addr` unconditionally.
pub fn enqueue(addr: usize) -> Ticket {
    enqueue_if(addr, ANY, || true).expect("unconditional")
}

impl Ticket {
    fn woken(&self) -> bool {
        // SAFETY: the flag outlives the ticket (see `Waiter`).
        unsafe { (*self.flag).load(Ordering::Acquire) == 1 }
    }

    /// Waits until woken through the lot (true) or until CLOCK_MONOTONIC
    /// `deadline` (false; `NEVER`: no deadline).
    pub fn wait(self, deadline: u64) -> bool {
        self.wait_until(deadline, false)
    }

    /// [`Ticket::wait`] that a `pthread_cancel` of the waiting coroutine also
    /// ends (it wakes the coroutine: `hooks::thread`), as not woken; for a
    /// condition wait, a cancellation point.
    pub fn wait_cancellable(self, deadline: u64) -> bool {
        self.wait_until(deadline, true)
    }

    fn wait_until(self, deadline: u64, cancellable: bool) -> bool {
        loop {
            if self.woken() {
                return true;
            }
            if cancellable && self.task.is_some() && crate::glibc::tls::cancel_acts_now() {
                return self.cancel();
            }
            if deadline != NEVER && crate::sys::now_ns() >= deadline {
                return self.cancel();
            }
            match &self.task {
                Some(_) if deadline == NEVER => {
                    coro::waits_for(coro::debug::WaitKind::Lock, self.addr as u64);
                    coro::suspend(Request::Park);
                }
                Some(_) => {
                    coro::waits_for(coro::debug::WaitKind::Lock, self.addr as u64);
                    coro::suspend(Request::Sleep(deadline));
                }
                None => {
                    crate::sys::futex_wait(self.flag as *const u32, 0, deadline);
                }
            }
        }
    }

    /// Leaves the queue; true if a waker had already taken us out (woken).
    pub fn cancel(self) -> bool {
        let mut b = bucket(self.addr).lock();
        if self.woken() {
            return true;
        }
        if let Some(i) = b.iter().position(|w| w.id == self.id) {
            b.swap_remove(i);
            PARKED.fetch_sub(1, Ordering::Relaxed);
        }
        false
    }
}

/// Wakes up to `n` waiters queued under `addr` whose bitset meets
/// `bitset`, oldest first. Returns how many were woken.
pub fn wake(addr: usize, n: usize, bitset: u32) -> usize {
    fence(Ordering::SeqCst);
    if n == 0 || PARKED.load(Ordering::Relaxed) == 0 {
        return 0;
    }
    let mut total = 0;
    loop {
        let mut batch: [Option<Who>; BATCH] = Default::default();
        let mut got = 0;
        {
            let mut b = bucket(addr).lock();
            let mut i = 0;
            while i < b.len() && got < BATCH && total + got < n {
                if b[i].addr == addr && b[i].bitset & bitset != 0 {
                    let w = b.remove(i);
                    // SAFETY: the flag outlives the entry (see `Waiter`).
                    unsafe { (*w.flag).store(1, Ordering::Release) };
                    batch[got] = Some(w.who);
                    got += 1;
                } else {
                    i += 1;
                }
            }
            PARKED.fetch_sub(got, Ordering::Relaxed);
        }
        for who in batch.iter_mut().take(got) {
            match who.take() {
                Some(Who::Task(t)) => coro::unpark(&t),
                Some(Who::Thread(f)) => {
                    crate::sys::futex_wake(f as *const u32, 1);
                }
                None => {}
            }
        }
        total += got;
        if got < BATCH || total >= n {
            return total;
        }
    }
}
