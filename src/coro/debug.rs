//! What a debugger or a dump needs to see every coroutine: a list of the
//! live tasks in C layout, each with where it last suspended and what it
//! waits for.
//!
//! `opencoro_debug_head` (exported) heads a doubly linked list of
//! [`Node`]s, one inside each live task, linked under a spin lock when the
//! task is made and unlinked when it finishes. A node records the program
//! counter, stack pointer and frame pointer of the task's last suspension
//! (in `suspend_task`, where the unwind tables of every frame above hold):
//! `preload/opencoro-gdb.py` unwinds a backtrace from them, in a live
//! process or a core file, and the dump on `OPENCORO_DUMP_SIGNAL`
//! (`stats::dump`) lists the list. The layout is versioned by
//! `opencoro_debug_version`; change both together with the gdb script.

use std::cell::Cell;
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};

use crate::sync::spin::SpinLock;

/// What a parked task waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum WaitKind {
    /// Nothing recorded yet (it never parked).
    Nothing = 0,
    /// An fd's readiness (`arg`: the fd).
    Fd = 1,
    /// A lock, condition variable, semaphore or futex (`arg`: its address).
    Lock = 2,
    /// A sleep (`arg`: the CLOCK_MONOTONIC deadline in ns).
    Timer = 3,
    /// Another coroutine's end (`arg`: its task).
    Join = 4,
    /// A call running on the blocking pool.
    Pool = 5,
    /// Nothing more: `main` called `pthread_exit` and waits for the others.
    Exited = 6,
}

/// One task's entry (C layout: read by the gdb script).
#[repr(C)]
pub struct Node {
    next: AtomicPtr<Node>,
    prev: AtomicPtr<Node>,
    /// The task (its address: the id the listener's events use).
    task: AtomicUsize,
    /// The task's run state (`coro::SCHEDULED`...), read through this
    /// pointer by the gdb script.
    state: AtomicPtr<AtomicU8>,
    /// The kernel id of the worker thread that runs it or ran it last.
    tid: AtomicPtr<AtomicI32>,
    /// pc, sp, fp at its last suspension (0 before it first suspends).
    ctx: [Cell<usize>; 3],
    /// What it waits for ([`WaitKind`]) and about what: set before every
    /// park, and meaningful only while the task is parked (not cleared when
    /// it runs again: that would cost the switch path two stores).
    wait_kind: AtomicU8,
    wait_arg: AtomicU64,
    /// 1 for a green thread, 2 for `main`, 0 for a C API coroutine.
    kind: AtomicU32,
}

// SAFETY: the cells are written only by the thread running the task (and
// read racily, as plain words, by dumps); everything else is atomic.
unsafe impl Send for Node {}
// SAFETY: as above.
unsafe impl Sync for Node {}

/// Version of the layout of [`Node`] and the list, for the gdb script.
#[no_mangle]
pub static opencoro_debug_version: u32 = 1;

/// The first node of the list (null: no live task).
#[no_mangle]
pub static opencoro_debug_head: AtomicPtr<Node> = AtomicPtr::new(std::ptr::null_mut());

static LOCK: SpinLock<()> = SpinLock::new(());

impl Node {
    pub(super) fn new() -> Node {
        Node {
            next: AtomicPtr::new(std::ptr::null_mut()),
            prev: AtomicPtr::new(std::ptr::null_mut()),
            task: AtomicUsize::new(0),
            state: AtomicPtr::new(std::ptr::null_mut()),
            tid: AtomicPtr::new(std::ptr::null_mut()),
            ctx: [Cell::new(0), Cell::new(0), Cell::new(0)],
            wait_kind: AtomicU8::new(0),
            wait_arg: AtomicU64::new(0),
            kind: AtomicU32::new(0),
        }
    }

    /// Names the task the node belongs to (its address, and those of its
    /// run state and worker tid), then links the node in: the task is at
    /// its final address.
    pub(super) fn bind(&self, task: usize, state: &AtomicU8, tid: &AtomicI32, kind: u32) {
        self.task.store(task, Ordering::Relaxed);
        self.state.store(state as *const AtomicU8 as *mut AtomicU8, Ordering::Relaxed);
        self.tid.store(tid as *const AtomicI32 as *mut AtomicI32, Ordering::Relaxed);
        self.kind.store(kind, Ordering::Relaxed);
        self.link();
    }

    /// Marks the node as `main`'s.
    pub fn set_main(&self) {
        self.kind.store(2, Ordering::Relaxed);
    }

    /// The task's address.
    pub fn task(&self) -> usize {
        self.task.load(Ordering::Relaxed)
    }

    /// 1 green thread, 2 `main`, 0 C API coroutine.
    pub fn kind(&self) -> u32 {
        self.kind.load(Ordering::Relaxed)
    }

    /// Its run state and the worker thread it runs or ran on.
    pub fn state_and_tid(&self) -> (u8, i32) {
        let (s, t) = (self.state.load(Ordering::Relaxed), self.tid.load(Ordering::Relaxed));
        // SAFETY: bound to the live task's own atomics (see `bind`).
        unsafe { (if s.is_null() { 0 } else { (*s).load(Ordering::Relaxed) }, if t.is_null() { 0 } else { (*t).load(Ordering::Relaxed) }) }
    }

    fn link(&self) {
        let me = self as *const Node as *mut Node;
        let _g = LOCK.lock();
        let head = opencoro_debug_head.load(Ordering::Relaxed);
        self.next.store(head, Ordering::Relaxed);
        if !head.is_null() {
            // SAFETY: linked nodes are alive (unlinked before their task ends).
            unsafe { (*head).prev.store(me, Ordering::Relaxed) };
        }
        opencoro_debug_head.store(me, Ordering::Release);
    }

    /// Unlinks the node (its task has finished).
    pub(super) fn unlink(&self) {
        let _g = LOCK.lock();
        let (next, prev) = (self.next.load(Ordering::Relaxed), self.prev.load(Ordering::Relaxed));
        if !next.is_null() {
            // SAFETY: as in `link`.
            unsafe { (*next).prev.store(prev, Ordering::Relaxed) };
        }
        if prev.is_null() {
            if std::ptr::eq(opencoro_debug_head.load(Ordering::Relaxed), self) {
                opencoro_debug_head.store(next, Ordering::Release);
            }
        } else {
            // SAFETY: as in `link`.
            unsafe { (*prev).next.store(next, Ordering::Relaxed) };
        }
        self.next.store(std::ptr::null_mut(), Ordering::Relaxed);
        self.prev.store(std::ptr::null_mut(), Ordering::Relaxed);
    }

    /// Records where the task suspends (called on the task, by
    /// `suspend_task`).
    #[inline(always)]
    pub(super) fn suspending(&self, ctx: [usize; 3]) {
        for (c, v) in self.ctx.iter().zip(ctx) {
            c.set(v);
        }
    }

    /// Records what the task is about to wait for.
    #[inline]
    pub(super) fn waits(&self, kind: WaitKind, arg: u64) {
        self.wait_kind.store(kind as u8, Ordering::Relaxed);
        self.wait_arg.store(arg, Ordering::Relaxed);
    }

    /// What it waits for, and about what.
    pub fn wait(&self) -> (u8, u64) {
        (self.wait_kind.load(Ordering::Relaxed), self.wait_arg.load(Ordering::Relaxed))
    }

    /// pc, sp, fp of its last suspension.
    pub fn context(&self) -> [usize; 3] {
        [self.ctx[0].get(), self.ctx[1].get(), self.ctx[2].get()]
    }
}

/// Calls `f` on every live task's node, holding the list's lock (tasks
/// cannot finish meanwhile: a finishing one waits for the lock).
pub fn each(mut f: impl FnMut(&Node)) {
    let _g = LOCK.lock();
    let mut p = opencoro_debug_head.load(Ordering::Acquire);
    while !p.is_null() {
        // SAFETY: linked nodes are alive while the lock is held.
        let n = unsafe { &*p };
        f(n);
        p = n.next.load(Ordering::Relaxed);
    }
}

/// In a forked child: the list holds only `survivor`'s node (the parent's
/// other tasks are not running here), and the lock is free.
///
/// # Safety
/// Called once, in the child, before any other thread exists.
pub(crate) unsafe fn after_fork(survivor: &Node) {
    // SAFETY: per the contract, nobody else uses the lock now.
    unsafe { LOCK.reset_after_fork() };
    survivor.next.store(std::ptr::null_mut(), Ordering::Relaxed);
    survivor.prev.store(std::ptr::null_mut(), Ordering::Relaxed);
    opencoro_debug_head.store(survivor as *const Node as *mut Node, Ordering::Release);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The offsets `preload/opencoro-gdb.py` reads (layout version 1).
    #[test]
    fn node_layout_is_the_gdb_scripts() {
        use std::mem::offset_of;
        let offs = [
            offset_of!(Node, next),
            offset_of!(Node, prev),
            offset_of!(Node, task),
            offset_of!(Node, state),
            offset_of!(Node, tid),
            offset_of!(Node, ctx),
            offset_of!(Node, wait_kind),
            offset_of!(Node, wait_arg),
            offset_of!(Node, kind),
        ];
        assert_eq!(offs, [0, 8, 16, 24, 32, 40, 64, 72, 80]);
        assert_eq!(opencoro_debug_version, 1);
    }
}
