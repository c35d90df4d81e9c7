//! Preemption: the SIGURG handler that suspends a coroutine at a safe point.
//!
//! The handler runs on the interrupted coroutine's own stack. It suspends
//! the coroutine (a yield) only when that is safe (a switch inside libc
//! could leave a lock of libc's held by a suspended coroutine): the interrupted instruction lies outside libc, the dynamic
//! loader, libgcc and this library (ranges collected once, when the
//! handler is installed: no `dladdr` in the handler), the stack pointer
//! lies on the coroutine's stack, and no hook of the runtime is running on
//! it. Otherwise it marks the coroutine, which yields at its next hooked
//! call, and the monitor keeps retrying. SIGURG is unblocked before the
//! switch, so the next coroutine on that worker stays preemptible.
//!
//! SIGURGs the runtime did not send go to the program's own handler, which
//! `sigaction`/`signal` record instead of installing (see `signal::program`).

use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

use libc::{c_int, c_void, siginfo_t};

use crate::coro::{self, Request};

/// Executable ranges where a coroutine must not be suspended.
const MAX_RANGES: usize = 64;
static RANGES: [(AtomicUsize, AtomicUsize); MAX_RANGES] = [const { (AtomicUsize::new(0), AtomicUsize::new(0)) }; MAX_RANGES];
static NRANGES: AtomicUsize = AtomicUsize::new(0);

/// The program's own SIGURG disposition: handler address (0 = SIG_DFL,
/// 1 = SIG_IGN) and flags.
static PROGRAM_HANDLER: AtomicUsize = AtomicUsize::new(0);
static PROGRAM_FLAGS: AtomicI32 = AtomicI32::new(0);

/// Objects whose code a coroutine must not be stopped in.
fn unsafe_object(name: &[u8]) -> bool {
    let base = name.rsplit(|&b| b == b'/').next().unwrap_or(name);
    [&b"libc.so"[..], b"ld-linux", b"libopencoro", b"libgcc_s", b"libpthread", b"libdl.so", b"linux-vdso"]
        .iter()
        .any(|p| base.windows(p.len()).any(|w| w == *p))
}

fn collect_ranges() {
    unsafe extern "C" fn each(info: *mut libc::dl_phdr_info, _size: usize, _data: *mut c_void) -> c_int {
        // SAFETY: dl_iterate_phdr passes a valid info.
        let info = unsafe { &*info };
        let name = if info.dlpi_name.is_null() {
            &b""[..]
        } else {
            // SAFETY: a NUL-terminated name from the loader.
            unsafe { std::ffi::CStr::from_ptr(info.dlpi_name) }.to_bytes()
        };
        // Our own code, in case we are linked into the program (tests).
        let ours = {
            let me = collect_ranges as *const () as usize;
            (0..info.dlpi_phnum as usize).any(|i| {
                // SAFETY: dlpi_phdr has dlpi_phnum entries.
                let ph = unsafe { &*info.dlpi_phdr.add(i) };
                let start = info.dlpi_addr as usize + ph.p_vaddr as usize;
                ph.p_type == libc::PT_LOAD && (start..start + ph.p_memsz as usize).contains(&me)
            })
        };
        if !unsafe_object(name) && !ours {
            return 0;
        }
        for i in 0..info.dlpi_phnum as usize {
            // SAFETY: as above.
            let ph = unsafe { &*info.dlpi_phdr.add(i) };
            if ph.p_type != libc::PT_LOAD || ph.p_flags & libc::PF_X == 0 {
                continue;
            }
            let n = NRANGES.load(Ordering::Relaxed);
            if n >= MAX_RANGES {
                return 1;
            }
            let start = info.dlpi_addr as usize + ph.p_vaddr as usize;
            RANGES[n].0.store(start, Ordering::Relaxed);
            RANGES[n].1.store(start + ph.p_memsz as usize, Ordering::Relaxed);
            NRANGES.store(n + 1, Ordering::Release);
        }
        0
    }
    // SAFETY: the callback matches dl_iterate_phdr's contract.
    unsafe { libc::dl_iterate_phdr(Some(each), std::ptr::null_mut()) };
}

fn in_unsafe_code(ip: usize) -> bool {
    let n = NRANGES.load(Ordering::Acquire);
    RANGES[..n].iter().any(|(s, e)| (s.load(Ordering::Relaxed)..e.load(Ordering::Relaxed)).contains(&ip))
}

/// Installs the SIGURG handler (keeping any handler the program already
/// had as its own) and collects the unsafe code ranges.
pub fn install() {
    collect_ranges();
    // SAFETY: sigaction is plain data; we fill the fields the kernel reads.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = handler as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        let mut old: libc::sigaction = std::mem::zeroed();
        if crate::signal::program::real_sigaction(libc::SIGURG, &sa, &mut old) == 0 {
            set_program(&old);
            super::state::set_preempting();
        }
    }
}

/// Is the runtime's SIGURG handler installed?
pub fn active() -> bool {
    super::state::preempting()
}

/// The program's SIGURG action as `sigaction` would report it.
pub fn program(out: &mut libc::sigaction) {
    out.sa_sigaction = PROGRAM_HANDLER.load(Ordering::Acquire);
    out.sa_flags = PROGRAM_FLAGS.load(Ordering::Acquire);
}

/// Records the program's new SIGURG action.
pub fn set_program(sa: &libc::sigaction) {
    PROGRAM_FLAGS.store(sa.sa_flags, Ordering::Release);
    PROGRAM_HANDLER.store(sa.sa_sigaction, Ordering::Release);
}

const SI_TKILL: c_int = -6;

extern "C" fn handler(sig: c_int, info: *mut siginfo_t, ctx: *mut c_void) {
    let errno = crate::sys::errno();
    // SAFETY: the kernel passes a valid siginfo.
    let (code, pid) = unsafe { ((*info).si_code, (*info).si_pid()) };
    let ours = code == SI_TKILL && pid as u32 == std::process::id() && take_sent();
    if ours {
        restart_interrupted_call(ctx);
        try_preempt(ctx);
    } else {
        chain(sig, info, ctx);
    }
    crate::sys::set_errno(errno);
}

/// The monitor's signal may land just as the thread enters a system call
/// (the monitor saw it running, then signalled): calls that a handler cuts
/// short whatever `SA_RESTART` says (`select`, `poll`, `nanosleep`,
/// `semtimedop`, `msgrcv`, `epoll_wait`, ...) would then return EINTR,
/// which natively never happens. When the saved context shows such a call,
/// it is made to start again on return (`arch::restart_interrupted_syscall`);
/// where it cannot tell, the EINTR stays. A call that restarts waits its
/// whole timeout again (the kernel's own restart would count the time
/// already waited).
fn restart_interrupted_call(ctx: *mut c_void) {
    // SAFETY: the kernel passes a valid, writable ucontext.
    unsafe { crate::arch::restart_interrupted_syscall(ctx) };
}

/// Consumes the monitor's mark on this worker.
fn take_sent() -> bool {
    let Some(i) = crate::sched::worker::current_worker() else { return false };
    crate::sched::try_runtime().is_some_and(|rt| rt.slot[i].watch.preempt_sent.swap(false, Ordering::AcqRel))
}

fn chain(sig: c_int, info: *mut siginfo_t, ctx: *mut c_void) {
    let h = PROGRAM_HANDLER.load(Ordering::Acquire);
    if h == libc::SIG_DFL || h == libc::SIG_IGN {
        return; // SIGURG's default action is to ignore it
    }
    // SAFETY: the program installed this handler for SIGURG.
    unsafe {
        if PROGRAM_FLAGS.load(Ordering::Acquire) & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(c_int, *mut siginfo_t, *mut c_void) = std::mem::transmute(h);
            f(sig, info, ctx);
        } else {
            let f: extern "C" fn(c_int) = std::mem::transmute(h);
            f(sig);
        }
    }
}

fn try_preempt(ctx: *mut c_void) {
    let t = coro::current_ptr();
    if t.is_null() {
        return;
    }
    // SAFETY: non-null CURRENT is the task this thread runs.
    let task = unsafe { &*t };
    // SAFETY: the kernel passes a valid ucontext.
    let (ip, sp) = unsafe { crate::arch::context_ip_sp(ctx) };
    let crate::coro::stack::Bounds { bottom, top, .. } = task.stack_bounds();
    if !(bottom..top).contains(&sp) {
        return; // the worker loop, not the coroutine
    }
    if task.in_hook() || in_unsafe_code(ip) {
        task.signals().request_preempt();
        return;
    }
    let urg: u64 = 1 << (libc::SIGURG - 1);
    // The handler runs with SIGURG blocked: unblock it, so the next
    // coroutine on this worker can be preempted.
    crate::sys::sigmask(libc::SIG_UNBLOCK, Some(urg));
    crate::sched::worker::note_preempted();
    coro::suspend(Request::Yield);
}
