//! `setuid` and friends with green threads.
//!
//! glibc changes the credentials of every thread it knows: it marks each
//! descriptor on its thread list (`cancelhandling` gets SETXID), sends
//! SIGSETXID to the descriptor's `tid`, and waits until each handler has
//! cleared the mark on `THREAD_SELF`. Under the runtime, the thread
//! pointer of a worker is often not the descriptor glibc signalled it for:
//! a green thread's own is current, or `main`'s (the main thread's
//! descriptor) while `main` runs on a worker that is not the main thread,
//! or the loop's own on the main thread. glibc's handler would clear the
//! mark of the wrong descriptor and the caller would wait forever.
//!
//! So SIGSETXID gets a wrapper: it finds the marked descriptor among those
//! this OS thread can stand for (the current one, the worker's own, the
//! main thread's) and runs glibc's handler with that one current.

use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

use crate::sys::syscall6;

const SIGSETXID: usize = 33;
/// glibc 2.36's SETXID_BITMASK in `cancelhandling`.
const SETXID_BIT: i32 = 0x40;
const MAX_THREADS: usize = 256;

/// The descriptor glibc knows each runtime thread by: (kernel tid, tp).
static OWN: [(AtomicI32, AtomicUsize); MAX_THREADS] = [const { (AtomicI32::new(0), AtomicUsize::new(0)) }; MAX_THREADS];
static GLIBC_HANDLER: AtomicUsize = AtomicUsize::new(0);

/// Records that the calling OS thread (a worker) is known to glibc by
/// descriptor `tp`.
pub(crate) fn register(tp: usize) {
    let tid = crate::sys::gettid();
    for (t, p) in &OWN {
        let cur = t.load(Ordering::Acquire);
        if cur == tid || (cur == 0 && t.compare_exchange(0, tid, Ordering::AcqRel, Ordering::Acquire).is_ok()) {
            p.store(tp, Ordering::Release);
            return;
        }
    }
}

/// In a forked child: the parent's threads are gone.
pub(crate) fn forget_after_fork() {
    for (t, p) in &OWN {
        t.store(0, Ordering::Relaxed);
        p.store(0, Ordering::Relaxed);
    }
}

/// The kernel's `struct sigaction` (rt_sigaction).
#[repr(C)]
#[derive(Clone, Copy)]
struct KSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

/// Puts the wrapper in front of glibc's SIGSETXID handler, which glibc
/// installs at the process's first `pthread_create`: called after the
/// runtime starts a thread (`sched::start_thread`; cheap once done). glibc's `sigaction` refuses
/// this signal; the system call does not. Only when preloaded: a
/// `dlopen`ed library has no green threads (the caller's check).
pub(crate) fn install() {
    if GLIBC_HANDLER.load(Ordering::Acquire) != 0 || super::tls::layout().is_none() {
        return;
    }
    let mut old = KSigaction { handler: 0, flags: 0, restorer: 0, mask: 0 };
    // SAFETY: reads the current action into `old`.
    let r = unsafe { syscall6(libc::SYS_rt_sigaction, SIGSETXID, 0, &mut old as *mut KSigaction as usize, 8, 0, 0) };
    if r != 0 || old.handler <= 1 {
        return;
    }
    GLIBC_HANDLER.store(old.handler, Ordering::Release);
    let new = KSigaction { handler: handler as *const () as usize, ..old };
    // SAFETY: the same action (flags, restorer, mask) with our handler.
    unsafe { syscall6(libc::SYS_rt_sigaction, SIGSETXID, &new as *const KSigaction as usize, 0, 8, 0, 0) };
}

/// The main thread's descriptor (`main` keeps it wherever it runs), as
/// the scheduler recorded it (0: none yet).
static MAIN_THREAD: AtomicUsize = AtomicUsize::new(0);

/// Records the main thread's descriptor (see `MAIN_THREAD`).
pub(crate) fn set_main_thread(tp: usize) {
    MAIN_THREAD.store(tp, Ordering::Release);
}

extern "C" fn handler(sig: i32, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let glibc = GLIBC_HANDLER.load(Ordering::Acquire);
    // SAFETY: glibc's SA_SIGINFO handler, saved by `install`.
    let glibc: extern "C" fn(i32, *mut libc::siginfo_t, *mut libc::c_void) = unsafe { std::mem::transmute(glibc) };
    let Some(l) = super::tls::layout() else { return glibc(sig, info, ctx) };
    let me = crate::sys::thread_pointer();
    let tid = crate::sys::gettid();
    let own = OWN.iter().find(|(t, _)| t.load(Ordering::Acquire) == tid).map_or(0, |(_, p)| p.load(Ordering::Acquire));
    let marked = |tp: usize| {
        // SAFETY: live descriptors of this process; fields checked in `learn`.
        tp != 0 && unsafe { l.tid_of(tp) == tid && *((tp + l.off_cancelhandling) as *const i32) & SETXID_BIT != 0 }
    };
    let target = [me, own, MAIN_THREAD.load(Ordering::Acquire)].into_iter().find(|&tp| marked(tp));
    match target {
        Some(tp) if tp != me => {
            // SAFETY: a live descriptor; put back before returning to the
            // interrupted code.
            unsafe { crate::sys::set_thread_pointer(tp, l.fast_fs) };
            glibc(sig, info, ctx);
            // SAFETY: as above.
            unsafe { crate::sys::set_thread_pointer(me, l.fast_fs) };
        }
        _ => glibc(sig, info, ctx),
    }
}
