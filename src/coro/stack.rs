//! Coroutine stacks: allocation, the guard-page budget, overflow canaries and
//! the pool that reuses stacks.
//!
//! Two kinds of stack, chosen by the mapping budget (each guarded stack costs
//! two kernel mappings, and `vm.max_map_count` is 65530 by default):
//!
//! ```text
//!  guarded (2 VMAs each)                carved (no VMA of their own)
//!  +----------------+ <- top            |  canary k+1    |  CANARY_BYTES
//!  |  usable stack  |                   +----------------+ <- top k
//!  +----------------+ <- bottom         |  usable k      |
//!  |  guard, PROT_  |                   +----------------+ <- bottom k
//!  |  NONE (64 KiB) |                   |  canary k      |  must stay zero;
//!  +----------------+ <- map start      +----------------+  checked at every
//!                                       |  usable k-1    |  switch of k
//! ```
//!
//! A carved stack's canary sits just above the top of the stack below it,
//! in a page that stack already touches: checking it at every switch costs
//! no page fault and no memory.
//!
//! While fewer than `OPENCORO_GUARDED_STACKS` guarded stacks exist, every new
//! stack gets its own mapping and guard: an overflow faults in the guard and the
//! SIGSEGV handler ([`super::overflow`]) reports it. Past that budget stacks are
//! carved from chunk mappings with no guard; an overflow is caught when the
//! coroutine next switches (its canary is no longer zero) or enters a hook
//! below its stack bottom. That catch comes *after* the damage: a carved stack
//! that overflows past its canary has already written into the top of its
//! neighbour. The README states this trade-off.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::sys::page_size;

/// Guard region below a guarded stack. 64 KiB rather than one page, so that a
/// frame of up to 64 KiB that skips past the usable bottom still lands in it.
pub const GUARD_BYTES: usize = 64 * 1024;
/// Canary below a carved stack, checked at every switch.
pub const CANARY_BYTES: usize = 256;
/// How long a pooled stack stays warm before idle workers may trim it.
pub const TRIM_AGE_NS: u64 = 1_000_000_000;
/// Bytes of carved stacks per chunk mapping.
const CHUNK_BYTES: usize = 64 << 20;
/// Pooled stacks kept warm per size; idle workers return the pages of the
/// rest to the kernel (`MADV_DONTNEED`).
const POOL_WARM: usize = 1024;

/// Where a running coroutine's stack lies, published in its task for the
/// SIGSEGV handler, depth checks and `pthread_getattr_np` (all zero until
/// it first runs).
#[derive(Debug, Clone, Copy, Default)]
pub struct Bounds {
    /// Lowest address of the region (guard or canary included).
    pub map_start: usize,
    /// Lowest usable address.
    pub bottom: usize,
    /// Highest address (exclusive).
    pub top: usize,
    /// A guard page lies below (else a canary).
    pub guarded: bool,
    /// The size as requested (page-rounded): what an overflow report names.
    pub class: usize,
    /// The main thread's own stack (`main`'s), whose size `ulimit -s`
    /// sets, not `OPENCORO_STACK_SIZE`: what an overflow report advises.
    pub thread_stack: bool,
}

/// One coroutine stack. Owned by exactly one coroutine or by the pool.
#[derive(Debug)]
pub struct Stack {
    /// Lowest address of the region (guard or canary included).
    map_start: usize,
    /// Lowest usable address.
    bottom: usize,
    /// Highest address (exclusive); the stack grows down from here.
    top: usize,
    guarded: bool,
    /// The page-rounded size it was requested with (its pool class); a carved
    /// stack's usable size is `CANARY_BYTES` less.
    class: usize,
    /// When the pool last got it back (CLOCK_MONOTONIC ns).
    pooled_at: u64,
    /// Bytes at the top set aside for something else (a green thread's
    /// descriptor and TLS); `top` is already below them.
    reserved: usize,
}

// SAFETY: a Stack is plain ownership of a memory range; any thread may own it.
unsafe impl Send for Stack {}

impl Stack {
    pub fn bounds(&self) -> Bounds {
        Bounds { map_start: self.map_start, bottom: self.bottom, top: self.top, guarded: self.guarded, class: self.class, thread_stack: false }
    }
    pub fn bottom(&self) -> usize {
        self.bottom
    }
    pub fn top(&self) -> usize {
        self.top
    }
    pub fn map_start(&self) -> usize {
        self.map_start
    }
    pub fn size(&self) -> usize {
        self.top - self.bottom
    }
    pub fn guarded(&self) -> bool {
        self.guarded
    }
    /// The page-rounded size this stack was requested with (a carved
    /// stack's usable size is `CANARY_BYTES` less).
    pub fn class(&self) -> usize {
        self.class
    }
    /// Sets aside `bytes` at the top (rounded up to 64); returns the new,
    /// 64-byte aligned top. The pool gives them back to the stack.
    pub fn reserve_top(&mut self, bytes: usize) -> usize {
        let new_top = (self.top - bytes) & !63;
        self.reserved += self.top - new_top;
        self.top = new_top;
        new_top
    }
    /// The top before any reservation.
    pub fn full_top(&self) -> usize {
        self.top + self.reserved
    }
}

// SAFETY: base() and limit() describe a mapped, 16-byte aligned region owned by
// this Stack. Guarded stacks have a guard page below `bottom`. Carved stacks do
// not; their overflow is detected by the runtime (canary + depth checks), a
// documented deviation from corosensei's guard-page contract.
unsafe impl corosensei::stack::Stack for Stack {
    fn base(&self) -> corosensei::stack::StackPointer {
        corosensei::stack::StackPointer::new(self.top).expect("stack top is non-null")
    }
    fn limit(&self) -> corosensei::stack::StackPointer {
        corosensei::stack::StackPointer::new(self.map_start).expect("stack start is non-null")
    }
}

/// Is a carved stack's canary (the `CANARY_BYTES` just below `bottom`) still
/// all zero? Only valid for carved stacks, whose canary is mapped read/write.
#[inline]
pub fn canary_intact(bottom: usize) -> bool {
    let p = (bottom - CANARY_BYTES) as *const u64;
    // SAFETY: per the contract, [bottom - CANARY_BYTES, bottom) is this stack's
    // mapped canary; volatile so the check is never folded away.
    (0..CANARY_BYTES / 8).all(|i| unsafe { p.add(i).read_volatile() } == 0)
}

/// How many bytes of `s` have ever been written: the distance from its top
/// to the lowest non-zero word (a scan; for diagnostics only).
pub fn used_bytes(s: &Stack) -> usize {
    let words = (s.top - s.bottom) / 8;
    let p = s.bottom as *const u64;
    // SAFETY: [bottom, top) is mapped read/write; reading untouched pages maps
    // the shared zero page and costs no memory.
    let lowest = (0..words).find(|&i| unsafe { p.add(i).read_volatile() } != 0).unwrap_or(words);
    (words - lowest) * 8
}

/// Error from stack allocation.
#[derive(Debug, Clone, Copy)]
pub struct AllocError(pub i32);

/// Reads what stack allocation needs from the system, so that no file is
/// opened later at an awkward time: the runtime calls this when it starts
/// its threads (the program's first `pthread_create`), not at every
/// process start, which a process that never makes a thread would pay for.
pub fn init() {
    let p = pool();
    if p.guarded_limit.is_none() {
        // Read now, not at the second chunk: an open takes the lowest free
        // fd number for a moment, which a program that just closed one may
        // expect its own next open to get (`fd_lowest_free`).
        p.default_limit.get_or_init(crate::config::default_guarded_stacks);
    }
}

fn mmap_anon(len: usize) -> Result<usize, AllocError> {
    // SAFETY: anonymous private mapping; no existing memory is affected.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(AllocError(crate::sys::errno()));
    }
    // Stacks opt out of transparent huge pages (in mode `always` the one
    // touched page per stack could become 2 MiB). Always advised rather
    // than after reading the mode from /sys: one system call per mapping
    // against a file read at every process start.
    // SAFETY: advice on the mapping we just created; failure only loses it.
    unsafe { libc::madvise(p, len, libc::MADV_NOHUGEPAGE) };
    Ok(p as usize)
}

/// Rounds a requested size up to whole pages, at least the configured minimum.
pub fn round_size(size: usize) -> usize {
    let ps = page_size();
    size.max(crate::config::MIN_STACK_SIZE).div_ceil(ps) * ps
}

/// Carves `count` stacks of `size` bytes (page-rounded) from one new mapping,
/// each with a guard below it (`guarded`, two VMAs per stack) or a canary
/// (no VMA of its own; see the module doc for the layout). `mprotect` on
/// never-touched pages needs no TLB shootdown, so carving guarded stacks in
/// bulk costs one cheap call per guard.
pub fn carve(size: usize, count: usize, guarded: bool) -> Result<Vec<Stack>, AllocError> {
    let size = round_size(size);
    let (pad, slot) = if guarded { (0, GUARD_BYTES + size) } else { (page_size(), size) };
    let len = pad + slot * count;
    let start = mmap_anon(len)?;
    let mut out = Vec::with_capacity(count);
    // Highest first: the pool pops from the end, so stacks of a fresh chunk
    // are handed out lowest first. A carved stack's canary is then read only
    // after the stack below it has written its top page; reading it earlier
    // would map the shared zero page there, and that stack's first write
    // would cost a copy-on-write fault with a TLB flush on every core.
    for i in (0..count).rev() {
        let s = start + pad + i * slot;
        let stack = if guarded {
            // SAFETY: the guard lies inside the mapping we just created.
            if unsafe { libc::mprotect(s as *mut _, GUARD_BYTES, libc::PROT_NONE) } != 0 {
                let e = crate::sys::errno();
                // SAFETY: unmapping our own fresh mapping, no stack of it handed out.
                unsafe { libc::munmap(start as *mut _, len) };
                return Err(AllocError(e));
            }
            Stack { map_start: s, bottom: s + GUARD_BYTES, top: s + slot, guarded, class: size, pooled_at: 0, reserved: 0 }
        } else {
            // The top CANARY_BYTES of each slot are the canary of the stack
            // above; the first canary lives in the pad page.
            Stack { map_start: s - CANARY_BYTES, bottom: s, top: s + size - CANARY_BYTES, guarded, class: size, pooled_at: 0, reserved: 0 }
        };
        out.push(stack);
    }
    Ok(out)
}

#[derive(Default)]
struct SizeClass {
    /// Recently used stacks, pages still resident: the newest is handed out
    /// first, the oldest trimmed first.
    warm: VecDeque<Stack>,
    /// Stacks whose pages were returned to the kernel by `trim`.
    cold: Vec<Stack>,
    /// Chunks carved for this size so far.
    chunks: u32,
}

/// The process-wide stack pool.
///
/// Owner: this module. Any worker (or a plain thread spawning a coroutine)
/// takes and returns stacks under the one mutex. Stacks are never unmapped
/// (unmapping costs a TLB shootdown on every core and the budget is in
/// mappings, not bytes); idle workers [`Pool::trim`] the warm lists beyond
/// `POOL_WARM` so a burst's memory is given back off the hot path.
pub struct Pool {
    /// Per stack size, few of them (most processes use one or two): a
    /// scanned list, where a hash map cost a SipHash per take and per give
    /// (4% of a spawn and join) and a `getrandom` per process for its keys.
    classes: Mutex<Vec<(usize, SizeClass)>>,
    /// Guarded stacks in existence; changed only under the mutex.
    guarded_live: AtomicUsize,
    /// `OPENCORO_GUARDED_STACKS`, or (None) its default, read from the
    /// kernel once more than one stack is wanted: a process that makes only
    /// `main`'s stack does not pay for the read.
    guarded_limit: Option<usize>,
    default_limit: OnceLock<usize>,
    /// Some warm list is longer than `POOL_WARM` (a hint for `trim`).
    over: AtomicBool,
}

impl Pool {
    pub fn new(guarded_limit: Option<usize>) -> Self {
        Pool {
            classes: Mutex::new(Vec::new()),
            guarded_live: AtomicUsize::new(0),
            guarded_limit,
            default_limit: OnceLock::new(),
            over: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(usize, SizeClass)>> {
        self.classes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a stack of at least `size` bytes: a pooled one of that size, or
    /// a freshly carved chunk's worth, guarded while the budget allows.
    pub fn take(&self, size: usize) -> Result<Stack, AllocError> {
        let size = round_size(size);
        let mut classes = self.lock();
        let class = class_of(&mut classes, size);
        if let Some(s) = class.warm.pop_back().or_else(|| class.cold.pop()) {
            return Ok(s);
        }
        // A size's first chunk holds one stack, the next ones twice as many
        // each, up to a whole chunk: a process that makes a single stack of a
        // size (main's, most often) maps one, not a chunk's worth.
        let per_chunk = (CHUNK_BYTES / (size + GUARD_BYTES)).clamp(1, 256).min(1 << class.chunks.min(16));
        class.chunks += 1;
        let live = self.guarded_live.load(Ordering::Relaxed);
        let limit = match self.guarded_limit {
            Some(n) => n,
            None if live == 0 => 1,
            None => *self.default_limit.get_or_init(crate::config::default_guarded_stacks),
        };
        let budget = limit.saturating_sub(live);
        let mut chunk = if budget > 0 {
            let n = per_chunk.min(budget);
            let c = carve(size, n, true)?;
            self.guarded_live.fetch_add(n, Ordering::Relaxed);
            c
        } else {
            let c = carve(size, per_chunk, false)?;
            crate::debug!("stack pool: guard budget spent; carved {per_chunk} unguarded {} KiB stacks", size / 1024);
            c
        };
        let s = chunk.pop().expect("a chunk holds at least one stack");
        class.cold.extend(chunk);
        Ok(s)
    }

    /// Returns a stack whose coroutine has finished.
    pub fn give(&self, mut s: Stack) {
        s.top += std::mem::take(&mut s.reserved);
        s.pooled_at = pool_clock();
        let mut classes = self.lock();
        let class = class_of(&mut classes, s.class);
        class.warm.push_back(s);
        if class.warm.len() > POOL_WARM {
            self.over.store(true, Ordering::Relaxed);
        }
    }

    /// Returns the pages of up to `max` warm stacks beyond `POOL_WARM` per
    /// size, pooled for longer than `TRIM_AGE`, to the kernel. Called by idle
    /// workers. Returns how many. (Every `MADV_DONTNEED` interrupts all
    /// cores for a TLB flush, so a burst's stacks are left alone until the
    /// burst is over.)
    pub fn trim(&self, max: usize) -> usize {
        if !self.over.load(Ordering::Relaxed) {
            return 0;
        }
        let mut batch = Vec::new();
        {
            let mut classes = self.lock();
            let mut still_over = false;
            let old = pool_clock().saturating_sub(TRIM_AGE_NS);
            for (_, class) in classes.iter_mut() {
                while class.warm.len() > POOL_WARM
                    && batch.len() < max
                    && class.warm.front().is_some_and(|s| s.pooled_at < old)
                {
                    batch.extend(class.warm.pop_front());
                }
                still_over |= class.warm.len() > POOL_WARM;
            }
            self.over.store(still_over, Ordering::Relaxed);
        }
        let n = batch.len();
        let ps = page_size();
        for s in &batch {
            // Whole pages only, and never the top page of a carved stack,
            // which holds the canary of the stack above it.
            let (lo, hi) = (s.bottom.div_ceil(ps) * ps, (s.top / ps) * ps);
            if hi > lo {
                // SAFETY: the stack is out of the pool and unused: no coroutine
                // runs on it; the range stays mapped and reads as zero again.
                unsafe { libc::madvise(lo as *mut _, hi - lo, libc::MADV_DONTNEED) };
            }
        }
        let mut classes = self.lock();
        for s in batch {
            class_of(&mut classes, s.class).cold.push(s);
        }
        n
    }

    /// Is there anything `trim` may have to do (now or after `TRIM_AGE_NS`)?
    pub fn wants_trim(&self) -> bool {
        self.over.load(Ordering::Relaxed)
    }

    /// Guarded stacks currently in existence.
    pub fn guarded_live(&self) -> usize {
        self.guarded_live.load(Ordering::Relaxed)
    }
}

/// The pool's size class for `size`, made on first use. Its warm list has
/// room from the start: `main`'s stack comes back on worker 0's loop, whose
/// first `malloc` would create a malloc arena.
fn class_of(classes: &mut Vec<(usize, SizeClass)>, size: usize) -> &mut SizeClass {
    let i = match classes.iter().position(|(s, _)| *s == size) {
        Some(i) => i,
        None => {
            classes.push((size, SizeClass { warm: VecDeque::with_capacity(4), ..Default::default() }));
            classes.len() - 1
        }
    };
    &mut classes[i].1
}

/// When a stack came back, for `trim`'s age test: the coarse clock (a
/// tick's resolution, a quarter of the full clock's cost on every give).
fn pool_clock() -> u64 {
    crate::sys::clock_ns(libc::CLOCK_MONOTONIC_COARSE)
}

static POOL: crate::sync::PerProcess<Pool> = crate::sync::PerProcess::new();

/// In a forked child: another thread of the parent may have held the
/// pool's lock; the parent's pooled stacks are left where they are.
pub(crate) fn forget_after_fork() {
    POOL.renew(None);
}

/// The process-wide pool, sized from the configuration.
pub fn pool() -> &'static Pool {
    POOL.get_or_init(|| Pool::new(crate::config::get().guarded_stacks))
}
