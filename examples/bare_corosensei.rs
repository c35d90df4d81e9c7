//! Baseline for `make bench`: the cost of one bare corosensei resume+suspend
//! pair, with no scheduler around it. Does not use the opencoro crate.
//!
//! usage: bare_corosensei [N]   (N resume+suspend pairs, default 10,000,000)
//! Prints one line: `RESULT mode=corosensei n=N total_ns=T ns_per_switch_pair=X`.
//!
//! The crate is built without corosensei's `default-stack` feature, so the
//! stack is a small mmap of our own with a guard page, as the `Stack` trait
//! requires.

use std::hint::black_box;
use std::time::Instant;

use corosensei::stack::{Stack, StackPointer};
use corosensei::{Coroutine, CoroutineResult};

/// An mmap'ed stack with a PROT_NONE guard page at its low end.
struct MmapStack {
    base: usize,
    len: usize,
}

impl MmapStack {
    fn new(size: usize) -> MmapStack {
        let page = 4096;
        let len = size.div_ceil(page) * page + page;
        // SAFETY: an anonymous private mapping; no existing memory is touched.
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
        assert!(p != libc::MAP_FAILED, "mmap failed");
        // SAFETY: the first page of the mapping we just made.
        let r = unsafe { libc::mprotect(p, page, libc::PROT_NONE) };
        assert_eq!(r, 0, "mprotect failed");
        MmapStack { base: p as usize, len }
    }
}

impl Drop for MmapStack {
    fn drop(&mut self) {
        // SAFETY: the mapping made in new, unmapped once.
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.len) };
    }
}

// SAFETY: the stack has a guard page below its usable part and far more than
// MIN_STACK_SIZE bytes; both addresses are page-aligned.
unsafe impl Stack for MmapStack {
    fn base(&self) -> StackPointer {
        StackPointer::new(self.base + self.len).unwrap()
    }
    fn limit(&self) -> StackPointer {
        StackPointer::new(self.base).unwrap()
    }
}

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(10_000_000);
    let mut co = Coroutine::with_stack(MmapStack::new(256 * 1024), |y, mut x: u64| loop {
        x = y.suspend(black_box(x));
    });
    // Warm-up: first resume starts the coroutine and faults its stack in.
    for i in 0..n / 100 + 1 {
        black_box(co.resume(i));
    }
    let t0 = Instant::now();
    for i in 0..n {
        match co.resume(black_box(i)) {
            CoroutineResult::Yield(v) => {
                black_box(v);
            }
            CoroutineResult::Return(()) => unreachable!(),
        }
    }
    let dt = t0.elapsed().as_nanos();
    println!(
        "RESULT mode=corosensei n={n} total_ns={dt} ns_per_switch_pair={:.2}",
        dt as f64 / n as f64
    );
    // The coroutine never returns; force_unwind on drop would unwind its
    // stack, which is fine, but skip the work: leak it.
    std::mem::forget(co);
}
