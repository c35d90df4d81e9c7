//! The program's signal handlers: what `sigaction` recorded for each
//! signal, the trampoline installed in their place, and the forwarding of a
//! signal sent to the process to `main` (see `crate::signal`).

use std::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering};

use libc::{c_int, c_void, siginfo_t};

use crate::hooks::RealSym;

static REAL_SIGACTION: RealSym = RealSym::new("sigaction\0");

pub(crate) type SigactionFn = unsafe extern "C" fn(c_int, *const libc::sigaction, *mut libc::sigaction) -> c_int;

/// libc's own `sigaction` (the runtime's own handlers use it).
///
/// # Safety
/// As for `sigaction`.
pub unsafe fn real_sigaction(sig: c_int, act: *const libc::sigaction, old: *mut libc::sigaction) -> c_int {
    // SAFETY: libc's sigaction has this type.
    let real: SigactionFn = unsafe { std::mem::transmute::<*mut c_void, SigactionFn>(REAL_SIGACTION.get()) };
    // SAFETY: the caller's contract.
    unsafe { real(sig, act, old) }
}

/// The program's handlers installed behind the trampoline: handler address,
/// flags, and the first 64 signals of its mask, per signal (0 = none).
struct Action {
    handler: AtomicUsize,
    flags: AtomicI32,
    mask: AtomicU64,
}
static ACTIONS: [Action; 65] =
    [const { Action { handler: AtomicUsize::new(0), flags: AtomicI32::new(0), mask: AtomicU64::new(0) } }; 65];

/// Signals the trampoline never takes over.
fn own_or_untouchable(sig: c_int) -> bool {
    matches!(sig, libc::SIGSEGV | libc::SIGBUS | libc::SIGKILL | libc::SIGSTOP) || !(1..=64).contains(&sig)
}

/// Did the program ask for `SA_RESTART` on `sig`'s handler?
pub fn restarts(sig: c_int) -> bool {
    super::state::restarts(sig)
}

/// libc's own `sigaction`, as a function pointer.
pub(crate) fn real_sigaction_fn() -> SigactionFn {
    // SAFETY: libc's sigaction has this type.
    unsafe { std::mem::transmute::<*mut c_void, SigactionFn>(REAL_SIGACTION.get()) }
}

/// `sigaction` for the program (not SIGURG while preemption is on): a
/// handler is recorded and the trampoline installed in its place.
///
/// # Safety
/// As for `sigaction`; `real` is libc's.
pub(crate) unsafe fn install(real: SigactionFn, sig: c_int, act: *const libc::sigaction, old: *mut libc::sigaction) -> c_int {
    if own_or_untouchable(sig) || !crate::hooks::serving() {
        // SAFETY: the caller's own arguments.
        return unsafe { real(sig, act, old) };
    }
    let a = &ACTIONS[sig as usize];
    // SAFETY: act/old are NULL or valid (the caller's contract); what we
    // install is a sigaction we filled in.
    unsafe {
        let mut prev: libc::sigaction = std::mem::zeroed();
        let r = if act.is_null() {
            real(sig, std::ptr::null(), &mut prev)
        } else {
            let new = *act;
            let h = new.sa_sigaction;
            if h == libc::SIG_DFL || h == libc::SIG_IGN {
                let r = real(sig, &new, &mut prev);
                if r == 0 {
                    a.handler.store(0, Ordering::Release);
                }
                r
            } else {
                let mut ours = new;
                ours.sa_sigaction = trampoline as *const () as usize;
                ours.sa_flags = (new.sa_flags | libc::SA_SIGINFO) & !libc::SA_RESETHAND;
                a.flags.store(new.sa_flags, Ordering::Release);
                super::state::set_restarts(sig, new.sa_flags & libc::SA_RESTART != 0);
                a.mask.store(*(&new.sa_mask as *const libc::sigset_t as *const u64), Ordering::Release);
                let before = a.handler.swap(h, Ordering::AcqRel);
                let r = real(sig, &ours, &mut prev);
                if r != 0 {
                    a.handler.store(before, Ordering::Release);
                }
                r
            }
        };
        if r == 0 && !old.is_null() {
            *old = prev;
            if prev.sa_sigaction == trampoline as *const () as usize {
                // What the program set before, not our trampoline.
                report(sig, &mut *old);
            }
        }
        r
    }
}

/// Takes over the handlers the program installed before the runtime was
/// loaded (`crate::front`): each goes behind the trampoline, as if the
/// program installed it now. The runtime's own (the dump's, installed by
/// its constructor when `OPENCORO_DUMP_SIGNAL` loaded it at start-up) are
/// left as they are.
pub(crate) fn adopt_installed() {
    let real = real_sigaction_fn();
    let own = crate::sys::own_base();
    for sig in 1..=64 {
        if own_or_untouchable(sig) || sig == libc::SIGURG {
            continue;
        }
        // SAFETY: sigaction is plain data; a query, then the same action
        // installed again through `install`.
        unsafe {
            let mut cur: libc::sigaction = std::mem::zeroed();
            if real(sig, std::ptr::null(), &mut cur) != 0 {
                continue;
            }
            let h = cur.sa_sigaction;
            if h != libc::SIG_DFL && h != libc::SIG_IGN && crate::sys::object_base(h) != Some(own) {
                install(real, sig, &cur, std::ptr::null_mut());
            }
        }
    }
}

/// The program's recorded action for `sig`, as `sigaction` reports it.
fn report(sig: c_int, out: &mut libc::sigaction) {
    let a = &ACTIONS[sig as usize];
    out.sa_sigaction = a.handler.load(Ordering::Acquire);
    out.sa_flags = a.flags.load(Ordering::Acquire);
    // SAFETY: the first 8 bytes of a sigset_t hold signals 1..=64.
    unsafe { *(&mut out.sa_mask as *mut libc::sigset_t as *mut u64) = a.mask.load(Ordering::Acquire) };
}

const SI_TKILL: c_int = -6;

/// Runs the program's handler, or forwards a signal sent to the process to
/// `main` (see the module doc).
extern "C" fn trampoline(sig: c_int, info: *mut siginfo_t, ctx: *mut c_void) {
    // SAFETY: the kernel passes a valid siginfo.
    let code = unsafe { (*info).si_code };
    // (In a forked child the runtime's threads are gone: run it here.)
    // A fault made by the instruction that ran (SIGSEGV, SIGBUS, SIGFPE,
    // SIGILL, SIGTRAP, SIGSYS with a kernel code above 0) belongs to the
    // thread that faulted: its handler runs here, at once.
    let fault = code > 0 && matches!(sig, libc::SIGSEGV | libc::SIGBUS | libc::SIGFPE | libc::SIGILL | libc::SIGTRAP | libc::SIGSYS);
    if !fault && code != SI_TKILL && crate::hooks::serving() && forward_to_main(sig) {
        return;
    }
    // The coroutine this thread runs is inside one of the runtime's hooks
    // (perhaps holding one of its locks): the handler, whose own calls must
    // reach the hooks (a `sem_post` that wakes a green thread), runs when
    // the hook ends (`Guard`'s drop delivers it).
    let t = crate::coro::current_ptr();
    // SAFETY: non-null CURRENT is the task this thread runs.
    if !fault && !t.is_null() && unsafe { (*t).in_hook() } && crate::hooks::serving() {
        // SAFETY: as above.
        unsafe { (*t).signals().post(sig) };
        if crate::sched::is_main_task(t) {
            // Should main suspend before the hook ends, the loop wakes it
            // at once (its handler then runs and the wait is cut short).
            crate::sched::wake_main_from_signal();
        }
        return;
    }
    let a = &ACTIONS[sig as usize];
    let h = a.handler.load(Ordering::Acquire);
    let flags = a.flags.load(Ordering::Acquire);
    if flags & libc::SA_RESETHAND != 0 {
        a.handler.store(0, Ordering::Release);
        // SAFETY: back to the default action, as SA_RESETHAND asks.
        unsafe {
            let mut dfl: libc::sigaction = std::mem::zeroed();
            dfl.sa_sigaction = libc::SIG_DFL;
            real_sigaction(sig, &dfl, std::ptr::null_mut());
        }
    }
    if h == 0 || h == libc::SIG_DFL || h == libc::SIG_IGN {
        return;
    }
    // SAFETY: the program installed this handler for `sig`.
    unsafe {
        if flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(c_int, *mut siginfo_t, *mut c_void) = std::mem::transmute(h);
            f(sig, info, ctx);
        } else {
            let f: extern "C" fn(c_int) = std::mem::transmute(h);
            f(sig);
        }
    }
}

/// Queues `sig` on `main` if it exists, is not what this thread runs now,
/// and does not block `sig`. True if it did.
fn forward_to_main(sig: c_int) -> bool {
    let Some(main) = crate::sched::main_task() else { return false };
    if main.state() == crate::coro::DONE || std::ptr::eq(crate::coro::current_ptr(), std::sync::Arc::as_ptr(&main)) {
        return false;
    }
    if main.signals().mask() & (1 << (sig - 1)) != 0 {
        // main blocks it (as a lone main would, natively keeping it
        // pending): it waits on main until main unblocks it, rather than
        // running now on a worker thread that does not block it.
        main.signals().post(sig);
        return true;
    }
    if main.state() == crate::coro::RUNNING {
        // main runs on another worker, perhaps in a plain blocking call
        // (it may be the process's only coroutine): signal that thread, so
        // the kernel interrupts the call as it would have.
        let tid = main.on_tid();
        if tid > 0 {
            // SAFETY: tgkill to a worker thread of this process.
            unsafe { crate::sys::syscall6(libc::SYS_tgkill, std::process::id() as usize, tid as usize, sig as usize, 0, 0, 0) };
            return true;
        }
    }
    main.signals().post(sig);
    // Not unpark: this handler may have interrupted the runtime inside its
    // queues or locks on this very thread.
    crate::sched::wake_main_from_signal();
    true
}
