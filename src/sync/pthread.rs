//! The pthread objects the lock hooks (`hooks::lock`) serve: mutexes,
//! condition variables, read-write locks, barriers, spin locks, unnamed
//! semaphores and `pthread_once`.
//!
//! A green thread that would block suspends in the parking lot
//! ([`crate::sync::lot`]) under the object's address instead of sleeping in
//! the kernel; every release (from a green thread or an OS thread: the
//! release hooks run on every thread) wakes the lot after libc's own
//! release, which still wakes OS threads sleeping in libc. Acquiring is
//! always libc's own try-operation, so the object's state stays glibc's and
//! OS threads may share it. Condition variables and barriers are the
//! exception: their waiters all queue in the lot (glibc's would sleep in the
//! kernel), and barriers keep a state of their own in the object.
//!
//! A coroutine alone in the process takes libc's blocking path. So did PI,
//! robust and priority-protected mutexes, but libc's path names the owner
//! by its thread id in the kernel's futex calls (FUTEX_LOCK_PI: ESRCH for a
//! green thread's made-up id, then a hang) or blocks the worker the owner
//! needs: their trylock is all in user space, so they wait in the lot too
//! (`mutex_pi_robust`). What the kernel does for them at an owner's death
//! (EOWNERDEAD, priority boosts) it cannot do for a green thread.

use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use libc::{c_int, c_void, clockid_t, pthread_cond_t, pthread_mutex_t, pthread_rwlock_t, sem_t, timespec};

use crate::hooks::{Guard, RealSym};
use crate::sched::worker::has_company;
use crate::sync::lot::{self, ALL, ANY};
use crate::sync::{deadline_from_abs, spin::SpinLock};
use crate::reactor::timer::NEVER;


type MutexFn = unsafe extern "C" fn(*mut pthread_mutex_t) -> c_int;
type CondFn = unsafe extern "C" fn(*mut pthread_cond_t) -> c_int;
type RwFn = unsafe extern "C" fn(*mut pthread_rwlock_t) -> c_int;

static REAL_MUTEX_LOCK: RealSym = RealSym::new("pthread_mutex_lock\0");
static REAL_MUTEX_UNLOCK: RealSym = RealSym::new("pthread_mutex_unlock\0");

// Layout of glibc's objects (x86_64, stable ABI of the initializers).
/// `__data.__owner` and `__data.__kind` of a mutex (ints).
const MUTEX_OWNER: usize = 2;
const MUTEX_KIND: usize = 4;
/// `__data.__cur_writer` of a rwlock (int).
const RWLOCK_CUR_WRITER: usize = 6;
/// `__data.__wrefs` of a cond (int): bit 1 = CLOCK_MONOTONIC.
const COND_WREFS: usize = 9;
/// `private` of a semaphore (int): glibc's LLL_SHARED (FUTEX_PRIVATE_FLAG,
/// 128) when process-shared (sem_open, or sem_init with pshared), 0 when not.
const SEM_PRIVATE: usize = 2;
const SEM_SHARED: i32 = 128;

fn word(p: *const c_void, i: usize) -> i32 {
    // SAFETY: callers pass a glibc object with at least i+1 ints.
    unsafe { (*(p as *const AtomicI32).add(i)).load(Ordering::Relaxed) }
}

/// The calling thread's id as glibc records lock owners (a green
/// thread's own made-up id).
fn self_tid() -> i32 {
    crate::glibc::tls::self_tid()
}

/// Queues under `addr` while `attempt()` says busy (EBUSY / EAGAIN), until
/// it succeeds or fails otherwise (its result) or `deadline` passes.
fn acquire(addr: usize, busy: c_int, deadline: u64, attempt: impl FnMut() -> c_int) -> c_int {
    acquire_or(addr, busy, deadline, false, attempt)
}

/// [`acquire`]; `cancellable`: a `pthread_cancel` of the waiting coroutine
/// ends the wait with EINTR (a semaphore wait is a cancellation point; the
/// hook then acts on it), passing on a wake-up it had taken.
fn acquire_or(addr: usize, busy: c_int, deadline: u64, cancellable: bool, mut attempt: impl FnMut() -> c_int) -> c_int {
    loop {
        let mut r = 0;
        let Some(t) = lot::enqueue_if(addr, ANY, || {
            r = attempt();
            r == busy
        }) else {
            return r;
        };
        let woken = if cancellable { t.wait_cancellable(deadline) } else { t.wait(deadline) };
        if cancellable && crate::glibc::tls::cancel_acts_now() {
            if woken {
                // A post woke this waiter, which will not take its count.
                lot::wake(addr, 1, ANY);
            }
            return libc::EINTR;
        }
        if !woken && deadline != NEVER {
            // One last try, as glibc's timed waits make.
            let r = attempt();
            return if r == busy { libc::ETIMEDOUT } else { r };
        }
    }
}

fn abs_deadline(clock: clockid_t, abstime: *const timespec) -> Result<u64, c_int> {
    if abstime.is_null() {
        return Err(libc::EINVAL);
    }
    // SAFETY: non-null timespec from the caller.
    deadline_from_abs(clock, unsafe { &*abstime }).ok_or(libc::EINVAL)
}

// ---- mutexes ----

fn mutex_lock(real_lock: MutexFn, m: *mut pthread_mutex_t, deadline: Result<u64, c_int>) -> c_int {
    // SAFETY: the caller's mutex.
    let r = unsafe { libc::pthread_mutex_trylock(m) };
    if r != libc::EBUSY {
        return r;
    }
    let kind = word(m.cast(), MUTEX_KIND);
    if kind & 3 == libc::PTHREAD_MUTEX_ERRORCHECK && word(m.cast(), MUTEX_OWNER) == self_tid() {
        return libc::EDEADLK;
    }
    let deadline = match deadline {
        Ok(d) => d,
        Err(e) => return e,
    };
    if !has_company() {
        if deadline == NEVER {
            // SAFETY: the caller's mutex.
            return unsafe { real_lock(m) };
        }
        // SAFETY: the caller's mutex.
        return spin_until(deadline, || unsafe { libc::pthread_mutex_trylock(m) });
    }
    // SAFETY: the caller's mutex.
    acquire(m as usize, libc::EBUSY, deadline, || unsafe { libc::pthread_mutex_trylock(m) })
}

/// A timed acquisition without the lot (a lone coroutine):
/// tries every 100 µs.
fn spin_until(deadline: u64, mut attempt: impl FnMut() -> c_int) -> c_int {
    loop {
        let r = attempt();
        if r != libc::EBUSY {
            return r;
        }
        let now = crate::sys::now_ns();
        if now >= deadline {
            return libc::ETIMEDOUT;
        }
        crate::coro::sleep_until(now + (deadline - now).min(100_000));
    }
}

pub(crate) unsafe fn on_mutex_lock(real: MutexFn, m: *mut pthread_mutex_t) -> c_int {
    mutex_lock(real, m, Ok(NEVER))
}

pub(crate) unsafe fn on_mutex_timedlock(_real: unsafe extern "C" fn(*mut pthread_mutex_t, *const timespec) -> c_int, m: *mut pthread_mutex_t, abstime: *const timespec) -> c_int {
    mutex_lock(real_lock(), m, abs_deadline(libc::CLOCK_REALTIME, abstime))
}

pub(crate) unsafe fn on_mutex_clocklock(
    _real: unsafe extern "C" fn(*mut pthread_mutex_t, clockid_t, *const timespec) -> c_int,
    m: *mut pthread_mutex_t,
    clock: clockid_t,
    abstime: *const timespec,
) -> c_int {
    let d = if clock == libc::CLOCK_REALTIME || clock == libc::CLOCK_MONOTONIC { abs_deadline(clock, abstime) } else { Err(libc::EINVAL) };
    mutex_lock(real_lock(), m, d)
}

fn real_lock() -> MutexFn {
    // SAFETY: libc's pthread_mutex_lock has this type.
    unsafe { std::mem::transmute::<*mut c_void, MutexFn>(REAL_MUTEX_LOCK.get()) }
}

fn real_unlock() -> MutexFn {
    // SAFETY: libc's pthread_mutex_unlock has this type.
    unsafe { std::mem::transmute::<*mut c_void, MutexFn>(REAL_MUTEX_UNLOCK.get()) }
}

fn mutex_unlock(real: MutexFn, m: *mut pthread_mutex_t) -> c_int {
    // SAFETY: the caller's mutex.
    let r = unsafe { real(m) };
    if r == 0 {
        lot::wake(m as usize, 1, ANY);
    }
    r
}

pub(crate) unsafe fn on_mutex_unlock(_g: &Guard, real: MutexFn, m: *mut pthread_mutex_t) -> c_int {
    mutex_unlock(real, m)
}

// ---- condition variables ----

fn cond_wait(g: &Guard, c: *mut pthread_cond_t, m: *mut pthread_mutex_t, deadline: u64) -> c_int {
    let t = lot::enqueue(c as usize);
    let r = mutex_unlock(real_unlock(), m);
    if r != 0 {
        t.cancel();
        return r;
    }
    // A cancel ends the wait (not woken); the hook acts on it once the
    // mutex is held again (ECANCELED, see `hooks!`). A waiter a signal woke
    // keeps it, cancel or not (POSIX: a cancelled waiter consumes no
    // signal).
    let woken = t.wait_cancellable(deadline);
    let r = if g.on_coroutine() {
        mutex_lock(real_lock(), m, Ok(NEVER))
    } else {
        // SAFETY: the caller's mutex, which it held.
        unsafe { real_lock()(m) }
    };
    if r != 0 {
        return r;
    }
    if woken {
        0
    } else if crate::glibc::tls::cancel_acts_now() {
        libc::ECANCELED
    } else {
        libc::ETIMEDOUT
    }
}

pub(crate) unsafe fn on_cond_wait(g: &Guard, _real: unsafe extern "C" fn(*mut pthread_cond_t, *mut pthread_mutex_t) -> c_int, c: *mut pthread_cond_t, m: *mut pthread_mutex_t) -> c_int {
    cond_wait(g, c, m, NEVER)
}

pub(crate) unsafe fn on_cond_timedwait(
    g: &Guard,
    _real: unsafe extern "C" fn(*mut pthread_cond_t, *mut pthread_mutex_t, *const timespec) -> c_int,
    c: *mut pthread_cond_t,
    m: *mut pthread_mutex_t,
    abstime: *const timespec,
) -> c_int {
    let clock = if word(c.cast(), COND_WREFS) & 2 != 0 { libc::CLOCK_MONOTONIC } else { libc::CLOCK_REALTIME };
    match abs_deadline(clock, abstime) {
        Ok(d) => cond_wait(g, c, m, d),
        Err(e) => e,
    }
}

pub(crate) unsafe fn on_cond_clockwait(
    g: &Guard,
    _real: unsafe extern "C" fn(*mut pthread_cond_t, *mut pthread_mutex_t, clockid_t, *const timespec) -> c_int,
    c: *mut pthread_cond_t,
    m: *mut pthread_mutex_t,
    clock: clockid_t,
    abstime: *const timespec,
) -> c_int {
    if clock != libc::CLOCK_REALTIME && clock != libc::CLOCK_MONOTONIC {
        return libc::EINVAL;
    }
    match abs_deadline(clock, abstime) {
        Ok(d) => cond_wait(g, c, m, d),
        Err(e) => e,
    }
}

pub(crate) unsafe fn on_cond_signal(_g: &Guard, real: CondFn, c: *mut pthread_cond_t) -> c_int {
    if lot::wake(c as usize, 1, ANY) > 0 {
        return 0;
    }
    // SAFETY: the caller's cond (waiters that began before the runtime).
    unsafe { real(c) }
}

pub(crate) unsafe fn on_cond_broadcast(_g: &Guard, real: CondFn, c: *mut pthread_cond_t) -> c_int {
    lot::wake(c as usize, ALL, ANY);
    // SAFETY: as above.
    unsafe { real(c) }
}

// ---- read-write locks ----

fn rw_lock(real: RwFn, rw: *mut pthread_rwlock_t, write: bool, deadline: Result<u64, c_int>) -> c_int {
    // An invalid timeout first, even for a lock that is free, then a lock
    // the caller holds for writing: glibc's order.
    let deadline = match deadline {
        Ok(d) => d,
        Err(e) => return e,
    };
    // SAFETY: the caller's rwlock.
    let attempt = || unsafe { if write { libc::pthread_rwlock_trywrlock(rw) } else { libc::pthread_rwlock_tryrdlock(rw) } };
    let r = attempt();
    if r != libc::EBUSY {
        return r;
    }
    if word(rw.cast(), RWLOCK_CUR_WRITER) == self_tid() {
        return libc::EDEADLK;
    }
    if !has_company() {
        if deadline == NEVER {
            // SAFETY: the caller's rwlock.
            return unsafe { real(rw) };
        }
        return spin_until(deadline, attempt);
    }
    acquire(rw as usize, libc::EBUSY, deadline, attempt)
}

pub(crate) unsafe fn on_rdlock(real: RwFn, rw: *mut pthread_rwlock_t) -> c_int {
    rw_lock(real, rw, false, Ok(NEVER))
}

pub(crate) unsafe fn on_wrlock(real: RwFn, rw: *mut pthread_rwlock_t) -> c_int {
    rw_lock(real, rw, true, Ok(NEVER))
}

type RwTimedFn = unsafe extern "C" fn(*mut pthread_rwlock_t, *const timespec) -> c_int;
type RwClockFn = unsafe extern "C" fn(*mut pthread_rwlock_t, clockid_t, *const timespec) -> c_int;

pub(crate) unsafe fn on_timedrdlock(_real: RwTimedFn, rw: *mut pthread_rwlock_t, abstime: *const timespec) -> c_int {
    rw_lock(no_rw, rw, false, abs_deadline(libc::CLOCK_REALTIME, abstime))
}

pub(crate) unsafe fn on_timedwrlock(_real: RwTimedFn, rw: *mut pthread_rwlock_t, abstime: *const timespec) -> c_int {
    rw_lock(no_rw, rw, true, abs_deadline(libc::CLOCK_REALTIME, abstime))
}

pub(crate) unsafe fn on_clockrdlock(_real: RwClockFn, rw: *mut pthread_rwlock_t, clock: clockid_t, abstime: *const timespec) -> c_int {
    rw_lock(no_rw, rw, false, abs_deadline(clock, abstime))
}

pub(crate) unsafe fn on_clockwrlock(_real: RwClockFn, rw: *mut pthread_rwlock_t, clock: clockid_t, abstime: *const timespec) -> c_int {
    rw_lock(no_rw, rw, true, abs_deadline(clock, abstime))
}

/// Never called: timed rwlock waits always have a deadline.
unsafe extern "C" fn no_rw(_rw: *mut pthread_rwlock_t) -> c_int {
    libc::EINVAL
}

pub(crate) unsafe fn on_rwlock_unlock(_g: &Guard, real: RwFn, rw: *mut pthread_rwlock_t) -> c_int {
    // SAFETY: the caller's rwlock.
    let r = unsafe { real(rw) };
    if r == 0 {
        lot::wake(rw as usize, ALL, ANY);
    }
    r
}

// ---- spin locks ----

pub(crate) unsafe fn on_spin_lock(real: unsafe extern "C" fn(*mut libc::pthread_spinlock_t) -> c_int, s: *mut libc::pthread_spinlock_t) -> c_int {
    if !has_company() {
        // SAFETY: the caller's spin lock.
        return unsafe { real(s) };
    }
    loop {
        // SAFETY: as above.
        if unsafe { libc::pthread_spin_trylock(s) } == 0 {
            return 0;
        }
        // The holder may be a coroutine waiting for this worker.
        crate::coro::yield_now();
    }
}

// ---- semaphores ----

fn sem_acquire(real_wait: Option<unsafe extern "C" fn(*mut sem_t) -> c_int>, s: *mut sem_t, deadline: Result<u64, c_int>) -> c_int {
    // SAFETY: the caller's semaphore.
    let attempt = || unsafe {
        if libc::sem_trywait(s) == 0 {
            0
        } else {
            crate::sys::errno()
        }
    };
    let r = attempt();
    if r != libc::EAGAIN {
        return fail(r);
    }
    let deadline = match deadline {
        Ok(d) => d,
        Err(e) => return fail(e),
    };
    let shared = word(s.cast(), SEM_PRIVATE) == SEM_SHARED;
    if shared || !has_company() {
        // A process-shared semaphore (sem_open, or sem_init with pshared)
        // is posted in other processes, whose wake-ups never reach our
        // lot: wait in the kernel, on the blocking pool when others could
        // run meanwhile.
        return match real_wait {
            Some(w) if deadline == NEVER => {
                let sp = crate::hooks::P(s);
                // SAFETY: the caller's semaphore; the caller is suspended
                // (or blocked) until the call returns.
                crate::reactor::io::offload(&mut move || unsafe { w({ sp }.0) as isize }) as c_int
            }
            _ => fail(spin_until(deadline, || if attempt() == libc::EAGAIN { libc::EBUSY } else { 0 })),
        };
    }
    fail(acquire_or(s as usize, libc::EAGAIN, deadline, true, attempt))
}

/// The semaphore calls' convention: 0, or -1 with errno.
fn fail(e: c_int) -> c_int {
    if e == 0 {
        return 0;
    }
    crate::sys::set_errno(e);
    -1
}

pub(crate) unsafe fn on_sem_wait(real: unsafe extern "C" fn(*mut sem_t) -> c_int, s: *mut sem_t) -> c_int {
    sem_acquire(Some(real), s, Ok(NEVER))
}

pub(crate) unsafe fn on_sem_timedwait(_real: unsafe extern "C" fn(*mut sem_t, *const timespec) -> c_int, s: *mut sem_t, abstime: *const timespec) -> c_int {
    sem_acquire(None, s, abs_deadline(libc::CLOCK_REALTIME, abstime))
}

pub(crate) unsafe fn on_sem_clockwait(_real: unsafe extern "C" fn(*mut sem_t, clockid_t, *const timespec) -> c_int, s: *mut sem_t, clock: clockid_t, abstime: *const timespec) -> c_int {
    let d = if clock == libc::CLOCK_REALTIME || clock == libc::CLOCK_MONOTONIC { abs_deadline(clock, abstime) } else { Err(libc::EINVAL) };
    sem_acquire(None, s, d)
}

pub(crate) unsafe fn on_sem_post(_g: &Guard, real: unsafe extern "C" fn(*mut sem_t) -> c_int, s: *mut sem_t) -> c_int {
    // SAFETY: the caller's semaphore.
    let r = unsafe { real(s) };
    if r == 0 {
        lot::wake(s as usize, 1, ANY);
    }
    r
}

// ---- pthread_once ----

/// glibc's once states: bit 0 in progress, bit 1 done (a fork generation
/// in the other bits, 0 in a process that has not forked).
const ONCE_IN_PROGRESS: i32 = 1;
const ONCE_DONE: i32 = 2;

pub(crate) unsafe fn on_once(
    g: &Guard,
    real: unsafe extern "C" fn(*mut libc::pthread_once_t, Option<unsafe extern "C" fn()>) -> c_int,
    once: *mut libc::pthread_once_t,
    init: Option<unsafe extern "C" fn()>,
) -> c_int {
    // SAFETY: pthread_once_t is an int.
    let a = unsafe { &*(once as *const AtomicI32) };
    if a.load(Ordering::Acquire) & ONCE_DONE != 0 {
        return 0;
    }
    if !has_company() {
        // SAFETY: the caller's arguments.
        return g.call_user(|| unsafe { real(once, init) });
    }
    loop {
        let v = a.load(Ordering::Acquire);
        if v & ONCE_DONE != 0 {
            return 0;
        }
        if v == 0 {
            if a.compare_exchange(0, ONCE_IN_PROGRESS, Ordering::Acquire, Ordering::Acquire).is_ok() {
                // A routine that throws (a C++ exception unwinds through
                // here) leaves the once not done, and its waiters try again,
                // as glibc's cleanup handler does for `std::call_once`.
                let mut undo = OnceEnd { word: a, to: 0 };
                if let Some(f) = init {
                    // SAFETY: the program's routine may unwind: call it as
                    // such (same ABI otherwise).
                    let f = unsafe { std::mem::transmute::<unsafe extern "C" fn(), unsafe extern "C-unwind" fn()>(f) };
                    // SAFETY: the program's init routine.
                    g.call_user(|| unsafe { f() });
                }
                undo.to = ONCE_DONE;
                return 0;
            }
            continue;
        }
        // Another thread runs the routine. It may be an OS thread inside
        // libc, whose wake-up bypasses the lot: look again every ms.
        if let Some(t) = lot::enqueue_if(once as usize, ANY, || a.load(Ordering::Acquire) == v) {
            t.wait(crate::sys::now_ns() + 1_000_000);
        }
    }
}

/// Ends a `pthread_once` run when dropped: publishes `to` (done, or 0 when
/// the routine unwound) and wakes the waiters.
struct OnceEnd<'a> {
    word: &'a AtomicI32,
    to: i32,
}

impl Drop for OnceEnd<'_> {
    fn drop(&mut self) {
        self.word.store(self.to, Ordering::Release);
        let once = self.word.as_ptr() as usize;
        lot::wake(once, ALL, ANY);
        crate::sys::futex_wake(once as *const u32, usize::MAX);
    }
}

// ---- barriers ----
//
// Our own state in the object (glibc's waits would block the worker):
// a spin lock, the count, the arrivals of this round, the round number.

#[repr(C)]
struct Barrier {
    lock: SpinLock<(u32, u32)>,
    round: AtomicU32,
}

const _: () = assert!(std::mem::size_of::<Barrier>() <= std::mem::size_of::<libc::pthread_barrier_t>());

pub(crate) unsafe fn on_barrier_init(
    _real: unsafe extern "C" fn(*mut libc::pthread_barrier_t, *const libc::pthread_barrierattr_t, libc::c_uint) -> c_int,
    b: *mut libc::pthread_barrier_t,
    _attr: *const libc::pthread_barrierattr_t,
    count: libc::c_uint,
) -> c_int {
    if count == 0 {
        return libc::EINVAL;
    }
    // SAFETY: the object is the caller's and large enough (asserted above).
    unsafe { (b as *mut Barrier).write(Barrier { lock: SpinLock::new((count, 0)), round: AtomicU32::new(0) }) };
    0
}

pub(crate) unsafe fn on_barrier_wait(_real: unsafe extern "C" fn(*mut libc::pthread_barrier_t) -> c_int, b: *mut libc::pthread_barrier_t) -> c_int {
    // SAFETY: initialised by our pthread_barrier_init.
    let bar = unsafe { &*(b as *const Barrier) };
    let round = {
        let mut st = bar.lock.lock();
        st.1 += 1;
        if st.1 == st.0 {
            st.1 = 0;
            bar.round.fetch_add(1, Ordering::Release);
            drop(st);
            lot::wake(&bar.round as *const AtomicU32 as usize, ALL, ANY);
            return libc::PTHREAD_BARRIER_SERIAL_THREAD;
        }
        bar.round.load(Ordering::Relaxed)
    };
    let addr = &bar.round as *const AtomicU32 as usize;
    while bar.round.load(Ordering::Acquire) == round {
        if let Some(t) = lot::enqueue_if(addr, ANY, || bar.round.load(Ordering::Acquire) == round) {
            t.wait(NEVER);
        }
    }
    0
}

pub(crate) unsafe fn on_barrier_destroy(_real: unsafe extern "C" fn(*mut libc::pthread_barrier_t) -> c_int, _b: *mut libc::pthread_barrier_t) -> c_int {
    0
}
