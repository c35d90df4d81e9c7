//! Stack overflow detection and its one-line report.
//!
//! Guarded stacks fault in their guard region; the SIGSEGV/SIGBUS handler
//! below runs on a per-worker alternate signal stack, recognises a fault in
//! (or a stack pointer below) the current coroutine's stack, prints
//! `opencoro: coroutine stack overflow (N KiB stack); raise OPENCORO_STACK_SIZE`
//! and aborts. Any other fault goes to the handler that was installed before
//! ours, or to the default action.
//!
//! The handler may touch only: the CURRENT thread-local (initialised before
//! any coroutine runs on the thread), the task's stack-bound cells (written
//! before the coroutine first runs), the saved previous `sigaction` (written
//! once before the handler is installed), raw `write`, `sigaction` and
//! `abort`. No allocation, no locks.

use std::cell::UnsafeCell;
use std::sync::Once;

use crate::sys::raw_write_all;

/// How far below a stack's lowest mapped byte a fault address still counts
/// as that stack's overflow (a large frame can skip the guard entirely).
const FAR_BELOW: usize = 1 << 20;
/// How far below a stack's bottom the stack pointer may be for the fault to
/// count as its overflow. Far, because a carved stack's recursion may run
/// through many neighbouring stacks before it hits unmapped memory; bounded,
/// because code that switches to a stack of its own (`swapcontext`) can
/// fault there for other reasons.
const SP_FAR_BELOW: usize = 256 << 20;
/// Alternate signal stack per worker thread.
const ALTSTACK_BYTES: usize = 64 * 1024;

struct Saved(UnsafeCell<[libc::sigaction; 2]>);
// SAFETY: written once inside `INSTALL.call_once` before the handler that reads
// it is installed; read-only afterwards.
unsafe impl Sync for Saved {}

static OLD: Saved = Saved(UnsafeCell::new(
    // SAFETY: sigaction is plain data; all-zero is SIG_DFL with an empty mask.
    unsafe { std::mem::zeroed() },
));
static INSTALL: Once = Once::new();
const SIGNALS: [i32; 2] = [libc::SIGSEGV, libc::SIGBUS];

/// Installs the fault handler process-wide (once), when the runtime starts,
/// for each signal the program has no handler of its own for (a handler
/// the program installed earlier stays its own, as it would be if it had
/// installed it later).
pub fn install() {
    INSTALL.call_once(|| {
        for (i, &sig) in SIGNALS.iter().enumerate() {
            // SAFETY: sigaction is plain data; we fill the fields the kernel reads.
            unsafe {
                let mut cur: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, std::ptr::null(), &mut cur) == 0 && cur.sa_sigaction != libc::SIG_DFL {
                    continue;
                }
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = handler as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut sa.sa_mask);
                let old = &mut (*OLD.0.get())[i];
                libc::sigaction(sig, &sa, old);
            }
        }
    });
}

/// Gives the calling thread an alternate signal stack, unless it has one.
pub fn ensure_altstack() {
    // SAFETY: sigaltstack with a null new stack only reads the current one.
    unsafe {
        let mut cur: libc::stack_t = std::mem::zeroed();
        if libc::sigaltstack(std::ptr::null(), &mut cur) == 0 && cur.ss_flags & libc::SS_DISABLE == 0 {
            return;
        }
        let p = libc::mmap(
            std::ptr::null_mut(),
            ALTSTACK_BYTES,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return;
        }
        let st = libc::stack_t { ss_sp: p, ss_flags: 0, ss_size: ALTSTACK_BYTES };
        libc::sigaltstack(&st, std::ptr::null_mut());
    }
}

/// Prints the overflow line for a stack of `size` bytes and aborts.
/// Async-signal-safe.
pub fn report_and_abort(b: &crate::coro::stack::Bounds) -> ! {
    use core::fmt::Write;
    let mut line = crate::log::LineBuf::new();
    crate::log::prefix(&mut line);
    let knob = if b.thread_stack { "ulimit -s" } else { "OPENCORO_STACK_SIZE" };
    let _ = writeln!(line, "coroutine stack overflow ({} KiB stack); raise {knob}", b.class / 1024);
    raw_write_all(2, line.as_bytes());
    // SAFETY: abort is async-signal-safe and never returns.
    unsafe { libc::abort() }
}

/// How far below a coroutine's usable bottom a stack pointer still counts
/// as that coroutine's (overflowed) stack at a hook's entry; farther, it is
/// another stack altogether.
const HOOK_SP_BELOW: usize = 64 << 10;

/// Where the caller's stack pointer lies relative to task `t`'s stack.
#[derive(PartialEq, Eq)]
pub enum Depth {
    /// On the stack, with room.
    Ok,
    /// Not on this stack at all: a thread the runtime did not start that
    /// shares the worker's thread pointer (a raw `clone`), or a handler on
    /// an alternate signal stack.
    Foreign,
}

/// Aborts with the overflow report if the calling coroutine's stack pointer
/// is within `reserve` bytes of (or just below) its usable bottom.
#[inline]
pub fn check_depth(t: &crate::coro::Task, reserve: usize) -> Depth {
    let b = t.stack_bounds();
    let crate::coro::stack::Bounds { bottom, top, .. } = b;
    let sp = crate::sys::stack_pointer();
    if bottom == 0 {
        return Depth::Ok;
    }
    if sp > top || sp < bottom.saturating_sub(HOOK_SP_BELOW) {
        return Depth::Foreign;
    }
    if sp < bottom + reserve {
        report_and_abort(&b);
    }
    Depth::Ok
}

extern "C" fn handler(sig: i32, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let t = crate::coro::current_ptr();
    if !t.is_null() {
        // SAFETY: t is this thread's running task; its bound cells are only
        // written before it first runs.
        let b = unsafe { (*t).stack_bounds() };
        let crate::coro::stack::Bounds { map_start: start, bottom, .. } = b;
        // SAFETY: info is the siginfo the kernel passed to this SA_SIGINFO handler.
        let fault = unsafe { (*info).si_addr() } as usize;
        // SAFETY: ctx is the ucontext the kernel passed to this handler.
        let sp = unsafe { crate::arch::context_ip_sp(ctx) }.1;
        let fault_low = start.saturating_sub(FAR_BELOW);
        let sp_low = bottom.saturating_sub(SP_FAR_BELOW);
        if bottom != 0 && ((fault >= fault_low && fault < bottom) || (sp >= sp_low && sp < bottom)) {
            report_and_abort(&b);
        }
    }
    chain(sig, info, ctx);
}

/// Passes a fault that is not a coroutine overflow to the previous handler,
/// or restores the default action so that the faulting instruction re-faults
/// and the process dies as it would have without us.
fn chain(sig: i32, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let i = SIGNALS.iter().position(|&s| s == sig).unwrap_or(0);
    // SAFETY: OLD is read-only once the handler is installed (see `Saved`).
    let old = unsafe { &(*OLD.0.get())[i] };
    let h = old.sa_sigaction;
    if h == libc::SIG_DFL || h == libc::SIG_IGN {
        // SAFETY: resetting the disposition is async-signal-safe.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
        return;
    }
    if old.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous owner installed h as a three-argument handler.
        let f: extern "C" fn(i32, *mut libc::siginfo_t, *mut libc::c_void) = unsafe { std::mem::transmute(h) };
        f(sig, info, ctx);
    } else {
        // SAFETY: the previous owner installed h as a one-argument handler.
        let f: extern "C" fn(i32) = unsafe { std::mem::transmute(h) };
        f(sig);
    }
}
