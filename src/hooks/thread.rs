//! The thread family: `pthread_create` makes green threads, and every call
//! that takes a `pthread_t` answers for green threads itself (glibc would
//! read fields of their descriptors that only its own thread start fills
//! in, or use their made-up thread ids with the kernel). For OS threads
//! these calls go to libc.
//!
//! `pthread_getattr_np` on the calling coroutine reports the coroutine's
//! stack, whether or not it is a green thread.

use libc::{c_char, c_int, c_void, pthread_attr_t, pthread_t, size_t, timespec};

use crate::coro::{self, Task};
use crate::green;
use crate::hooks::{hooks, Guard, RealSym};

hooks! {
    company fn pthread_create(thread: *mut pthread_t, attr: *const pthread_attr_t, start: usize, arg: *mut c_void) -> c_int => on_create;
    any fn pthread_join(t: pthread_t, ret: *mut *mut c_void) -> c_int => on_join, cancel_locked;
    any fn pthread_tryjoin_np(t: pthread_t, ret: *mut *mut c_void) -> c_int => on_tryjoin;
    any fn pthread_timedjoin_np(t: pthread_t, ret: *mut *mut c_void, abstime: *const timespec) -> c_int => on_timedjoin;
    any fn pthread_clockjoin_np(t: pthread_t, ret: *mut *mut c_void, clock: libc::clockid_t, abstime: *const timespec) -> c_int => on_clockjoin;
    any fn pthread_detach(t: pthread_t) -> c_int => on_detach;
    any fn pthread_getattr_np(t: pthread_t, attr: *mut pthread_attr_t) -> c_int => on_getattr;
    any fn pthread_setname_np(t: pthread_t, name: *const c_char) -> c_int => on_setname;
    any fn pthread_getname_np(t: pthread_t, buf: *mut c_char, len: size_t) -> c_int => on_getname;
    any fn pthread_kill(t: pthread_t, sig: c_int) -> c_int => on_kill;
    any fn pthread_cancel(t: pthread_t) -> c_int => on_cancel;
    any fn pthread_getschedparam(t: pthread_t, policy: *mut c_int, param: *mut libc::sched_param) -> c_int => on_getschedparam;
    any fn pthread_setschedparam(t: pthread_t, policy: c_int, param: *const libc::sched_param) -> c_int => on_setschedparam;
    any fn pthread_getcpuclockid(t: pthread_t, clock: *mut libc::clockid_t) -> c_int => on_getcpuclockid;
    co fn pthread_sigmask(how: c_int, set: *const libc::sigset_t, old: *mut libc::sigset_t) -> c_int => on_pthread_sigmask;
    co fn sigprocmask(how: c_int, set: *const libc::sigset_t, old: *mut libc::sigset_t) -> c_int => on_sigprocmask;
    always fn pthread_key_create(key: *mut libc::pthread_key_t, dtor: usize) -> c_int => on_key_create;
    always fn pthread_key_delete(key: libc::pthread_key_t) -> c_int => on_key_delete;
}

extern "C" {
    fn pthread_getattr_default_np(attr: *mut pthread_attr_t) -> c_int;
    fn pthread_attr_getdetachstate(attr: *const pthread_attr_t, state: *mut c_int) -> c_int;
    fn pthread_attr_getstackaddr(attr: *const pthread_attr_t, addr: *mut *mut c_void) -> c_int;
    fn pthread_attr_getinheritsched(attr: *const pthread_attr_t, inherit: *mut c_int) -> c_int;
    fn pthread_attr_getschedpolicy(attr: *const pthread_attr_t, policy: *mut c_int) -> c_int;
    fn pthread_attr_getschedparam(attr: *const pthread_attr_t, param: *mut libc::sched_param) -> c_int;
    /// 0 and the mask, or `PTHREAD_ATTR_NO_SIGMASK_NP` when none was set
    /// (glibc 2.32 and later).
    fn pthread_attr_getsigmask_np(attr: *const pthread_attr_t, set: *mut libc::sigset_t) -> c_int;
}

type JoinFn = unsafe extern "C" fn(pthread_t, *mut *mut c_void) -> c_int;

unsafe fn on_create(
    real: unsafe extern "C" fn(*mut pthread_t, *const pthread_attr_t, usize, *mut c_void) -> c_int,
    thread: *mut pthread_t,
    attr: *const pthread_attr_t,
    start: usize,
    arg: *mut c_void,
) -> c_int {
    if thread.is_null() || start == 0 {
        // SAFETY: the caller's own arguments (libc answers them).
        return unsafe { real(thread, attr, start, arg) };
    }
    if !green::enabled() {
        os_thread(if crate::config::get().green_threads { "green threads are unavailable with this glibc" } else { "OPENCORO_THREADS=os" });
        // SAFETY: the caller's own arguments.
        return unsafe { real(thread, attr, start, arg) };
    }
    // SAFETY: attr is NULL or an initialised attribute object (the caller's
    // contract).
    let a = match unsafe { GreenAttrs::read(attr) } {
        Ok(a) => a,
        Err(why) => {
            os_thread(why);
            // SAFETY: the caller's own arguments.
            return unsafe { real(thread, attr, start, arg) };
        }
    };
    match green::create(start, arg as usize, a.stack_size, a.detached, a.sigmask) {
        Ok(t) => {
            // SAFETY: non-null out-pointer from the caller.
            unsafe { *thread = t };
            0
        }
        Err(e) => {
            crate::debug!("pthread_create: no green thread ({e})");
            libc::EAGAIN
        }
    }
}

/// What a green thread takes from `pthread_create`'s attributes. The
/// README's green-thread section lists what happens to each attribute.
struct GreenAttrs {
    stack_size: usize,
    detached: bool,
    /// The mask the thread starts with (`pthread_attr_setsigmask_np`);
    /// `None`: its creator's, as for any thread.
    sigmask: Option<u64>,
}

/// `pthread_attr_getsigmask_np`'s answer when no mask was set.
const PTHREAD_ATTR_NO_SIGMASK_NP: c_int = 1;

impl GreenAttrs {
    /// Reads `attr` (NULL: the process's defaults). An error (why) when
    /// the attributes ask for what only a kernel thread gives: a stack of
    /// the program's own, a real-time policy or a priority set explicitly,
    /// or a CPU affinity.
    ///
    /// # Safety
    /// `attr` is NULL or an initialised attribute object.
    unsafe fn read(attr: *const pthread_attr_t) -> Result<GreenAttrs, &'static str> {
        let mut a = GreenAttrs { stack_size: 0, detached: false, sigmask: None };
        // SAFETY: the caller's contract; the default attributes are copied
        // into a local object and destroyed after use.
        unsafe {
            if attr.is_null() {
                let mut d: pthread_attr_t = std::mem::zeroed();
                if pthread_getattr_default_np(&mut d) == 0 {
                    libc::pthread_attr_getstacksize(&d, &mut a.stack_size);
                    libc::pthread_attr_destroy(&mut d);
                }
            } else {
                // Only a stack address means a stack of the program's own:
                // `pthread_attr_getstack` reports one computed from the size
                // alone when just the size was set.
                let mut addr: *mut c_void = std::ptr::null_mut();
                pthread_attr_getstackaddr(attr, &mut addr);
                if !addr.is_null() {
                    return Err("a stack of the program's own");
                }
                if explicit_sched(attr) {
                    return Err("an explicit scheduling policy or priority");
                }
                if has_affinity(attr) {
                    return Err("a CPU affinity");
                }
                libc::pthread_attr_getstacksize(attr, &mut a.stack_size);
                let mut detach = libc::PTHREAD_CREATE_JOINABLE;
                pthread_attr_getdetachstate(attr, &mut detach);
                a.detached = detach == libc::PTHREAD_CREATE_DETACHED;
                let mut set: libc::sigset_t = std::mem::zeroed();
                if pthread_attr_getsigmask_np(attr, &mut set) != PTHREAD_ATTR_NO_SIGMASK_NP {
                    a.sigmask = Some(crate::sys::sigset_bits(&set));
                }
            }
        }
        a.stack_size = if a.stack_size == 0 { 8 << 20 } else { a.stack_size.max(crate::config::MIN_STACK_SIZE) };
        Ok(a)
    }
}

/// A coroutine's `pthread_create` makes an OS thread: says why when
/// `OPENCORO_WARN_OS_THREADS=1`.
fn os_thread(why: &str) {
    if crate::config::get().warn_os_threads {
        crate::diag!("pthread_create makes an OS thread, not a green thread: {why}");
    }
}

/// A policy or priority set explicitly (`PTHREAD_EXPLICIT_SCHED` with
/// anything but `SCHED_OTHER` at priority 0): the kernel must schedule it.
///
/// # Safety
/// `attr` is an initialised attribute object.
unsafe fn explicit_sched(attr: *const pthread_attr_t) -> bool {
    let mut inherit = libc::PTHREAD_INHERIT_SCHED;
    let mut policy = libc::SCHED_OTHER;
    // SAFETY: sched_param is plain data; all zeroes is a valid value.
    let mut param: libc::sched_param = unsafe { std::mem::zeroed() };
    // SAFETY: the caller's contract; out-pointers to locals.
    unsafe {
        pthread_attr_getinheritsched(attr, &mut inherit);
        pthread_attr_getschedpolicy(attr, &mut policy);
        pthread_attr_getschedparam(attr, &mut param);
    }
    inherit == libc::PTHREAD_EXPLICIT_SCHED && (policy != libc::SCHED_OTHER || param.sched_priority != 0)
}

/// A CPU affinity set on the attributes. glibc reports every CPU when none
/// was set, so a set that leaves any CPU out is one the program chose.
///
/// # Safety
/// `attr` is an initialised attribute object.
unsafe fn has_affinity(attr: *const pthread_attr_t) -> bool {
    // SAFETY: out-pointer to a local set of the size passed.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above; the caller's contract for attr.
    if unsafe { libc::pthread_attr_getaffinity_np(attr, std::mem::size_of::<libc::cpu_set_t>(), &mut set) } != 0 {
        return false;
    }
    // SAFETY: cpu_set_t is plain bytes.
    let bytes: &[u8; std::mem::size_of::<libc::cpu_set_t>()] = unsafe { std::mem::transmute(&set) };
    bytes.iter().any(|&b| b != 0xff)
}

/// Joins a green thread: suspends a coroutine, blocks a plain thread.
fn join_green(task: &std::sync::Arc<Task>, ret: *mut *mut c_void) -> c_int {
    join_result(task, task.join(), ret)
}

/// The end of a join of green thread `task` that returned `r`.
fn join_result(task: &std::sync::Arc<Task>, r: Result<usize, i32>, ret: *mut *mut c_void) -> c_int {
    match r {
        Ok(v) => {
            green::release(task);
            if !ret.is_null() {
                // SAFETY: the caller's out-pointer.
                unsafe { *ret = v as *mut c_void };
            }
            0
        }
        Err(e) => e,
    }
}

unsafe fn on_join(g: &Guard, real: JoinFn, t: pthread_t, ret: *mut *mut c_void) -> c_int {
    // SAFETY: pthread_self has no preconditions.
    if t == unsafe { libc::pthread_self() } {
        // As glibc answers it (`main` joining itself would otherwise wait
        // on the blocking pool for good).
        return libc::EDEADLK;
    }
    if let Some(task) = green::lookup(t) {
        // A cancel ends the wait (the hook then acts on it; the thread
        // stays joinable).
        return join_result(&task, task.join_cancellable(), ret);
    }
    if !g.on_coroutine() {
        // SAFETY: the caller's own arguments.
        return unsafe { real(t, ret) };
    }
    // An OS thread: wait for it on the blocking pool, not on the worker.
    let args = crate::hooks::P((t, ret));
    let mut call = move || {
        let (t, ret) = { args }.0;
        // SAFETY: as above; the caller is suspended until we return.
        unsafe { real(t, ret) as isize }
    };
    crate::reactor::io::offload(&mut call) as c_int
}

unsafe fn on_tryjoin(_g: &Guard, real: JoinFn, t: pthread_t, ret: *mut *mut c_void) -> c_int {
    match green::lookup(t) {
        Some(task) if !task.is_done() => libc::EBUSY,
        Some(task) => join_green(&task, ret),
        // SAFETY: the caller's own arguments.
        None => unsafe { real(t, ret) },
    }
}

/// A timed join of a green thread: polls its end until the deadline.
fn timed_join(task: &std::sync::Arc<Task>, ret: *mut *mut c_void, deadline: u64) -> c_int {
    loop {
        if task.is_done() {
            return join_green(task, ret);
        }
        let now = crate::sys::now_ns();
        if now >= deadline {
            return libc::ETIMEDOUT;
        }
        let step = (deadline - now).min(1_000_000);
        if coro::in_coroutine() {
            coro::sleep_until(now + step);
        } else {
            std::thread::sleep(std::time::Duration::from_nanos(step));
        }
    }
}

unsafe fn on_timedjoin(
    g: &Guard,
    real: unsafe extern "C" fn(pthread_t, *mut *mut c_void, *const timespec) -> c_int,
    t: pthread_t,
    ret: *mut *mut c_void,
    abstime: *const timespec,
) -> c_int {
    // SAFETY: forwarded with the caller's arguments, clock REALTIME.
    unsafe { clockjoin(g, t, ret, libc::CLOCK_REALTIME, abstime, &mut || real(t, ret, abstime)) }
}

unsafe fn on_clockjoin(
    g: &Guard,
    real: unsafe extern "C" fn(pthread_t, *mut *mut c_void, libc::clockid_t, *const timespec) -> c_int,
    t: pthread_t,
    ret: *mut *mut c_void,
    clock: libc::clockid_t,
    abstime: *const timespec,
) -> c_int {
    // SAFETY: as above.
    unsafe { clockjoin(g, t, ret, clock, abstime, &mut || real(t, ret, clock, abstime)) }
}

unsafe fn clockjoin(
    _g: &Guard,
    t: pthread_t,
    ret: *mut *mut c_void,
    clock: libc::clockid_t,
    abstime: *const timespec,
    real: &mut dyn FnMut() -> c_int,
) -> c_int {
    let Some(task) = green::lookup(t) else { return real() };
    if abstime.is_null() {
        return join_green(&task, ret);
    }
    // SAFETY: non-null timespec from the caller.
    match crate::sync::deadline_from_abs(clock, unsafe { &*abstime }) {
        Some(d) => timed_join(&task, ret, d),
        None => libc::EINVAL,
    }
}

unsafe fn on_detach(_g: &Guard, real: unsafe extern "C" fn(pthread_t) -> c_int, t: pthread_t) -> c_int {
    let Some(task) = green::lookup(t) else {
        // SAFETY: the caller's own argument.
        return unsafe { real(t) };
    };
    match task.detach() {
        Ok(true) => {
            green::release(&task);
            0
        }
        Ok(false) => 0,
        Err(e) => e,
    }
}

unsafe fn on_getattr(
    _g: &Guard,
    real: unsafe extern "C" fn(pthread_t, *mut pthread_attr_t) -> c_int,
    thread: pthread_t,
    attr: *mut pthread_attr_t,
) -> c_int {
    let task = green::lookup(thread).or_else(|| {
        // SAFETY: pthread_self has no preconditions.
        let own = unsafe { libc::pthread_self() } == thread;
        own.then(coro::current_task).flatten()
    });
    let Some(task) = task else {
        // SAFETY: the caller's own arguments.
        return unsafe { real(thread, attr) };
    };
    let crate::coro::stack::Bounds { map_start: start, bottom, top, guarded, .. } = task.stack_bounds();
    // SAFETY: the caller passes attr to initialise, as for libc. The
    // attributes are made from scratch: glibc would read the descriptor's
    // stack fields, which describe the worker's (or no) stack.
    unsafe {
        let r = libc::pthread_attr_init(attr);
        if r != 0 {
            return r;
        }
        if bottom != 0 {
            libc::pthread_attr_setstack(attr, bottom as *mut _, top - bottom);
            libc::pthread_attr_setguardsize(attr, if guarded { bottom - start } else { 0 });
        }
        if task.is_detached() {
            libc::pthread_attr_setdetachstate(attr, libc::PTHREAD_CREATE_DETACHED);
        }
    }
    0
}

unsafe fn on_setname(_g: &Guard, real: unsafe extern "C" fn(pthread_t, *const c_char) -> c_int, t: pthread_t, name: *const c_char) -> c_int {
    let Some(task) = green::lookup(t) else {
        // SAFETY: the caller's own arguments.
        return unsafe { real(t, name) };
    };
    // SAFETY: a NUL-terminated string from the caller.
    let bytes = unsafe { std::ffi::CStr::from_ptr(name) }.to_bytes();
    if bytes.len() > 15 {
        return libc::ERANGE;
    }
    let mut n = [0u8; 16];
    n[..bytes.len()].copy_from_slice(bytes);
    crate::green::of(&task).expect("registered green thread").set_name(n);
    0
}

unsafe fn on_getname(
    _g: &Guard,
    real: unsafe extern "C" fn(pthread_t, *mut c_char, size_t) -> c_int,
    t: pthread_t,
    buf: *mut c_char,
    len: size_t,
) -> c_int {
    let Some(task) = green::lookup(t) else {
        // SAFETY: the caller's own arguments.
        return unsafe { real(t, buf, len) };
    };
    let n = crate::green::of(&task).expect("registered green thread").name();
    let l = n.iter().position(|&b| b == 0).unwrap_or(15);
    // glibc wants room for any name (TASK_COMM_LEN), whatever this one is.
    if len < 16 {
        return libc::ERANGE;
    }
    // SAFETY: buf has room for len >= l + 1 bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(n.as_ptr(), buf as *mut u8, l);
        *buf.add(l) = 0;
    }
    0
}

unsafe fn on_kill(_g: &Guard, real: unsafe extern "C" fn(pthread_t, c_int) -> c_int, t: pthread_t, sig: c_int) -> c_int {
    // SAFETY: pthread_self has no preconditions.
    let own = unsafe { libc::pthread_self() } == t;
    let Some(task) = green::lookup_thread(t).filter(|_| !own) else {
        // An OS thread, or the caller itself (glibc signals the calling OS
        // thread, which is running the caller).
        // SAFETY: the caller's own arguments.
        return unsafe { real(t, sig) };
    };
    if !(0..=64).contains(&sig) {
        return libc::EINVAL;
    }
    if sig == 0 || task.is_done() {
        return 0;
    }
    // SAFETY: reading the disposition only.
    let handler = unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, std::ptr::null(), &mut old);
        old.sa_sigaction
    };
    match handler {
        libc::SIG_IGN => 0,
        // The default action is the process's (end, stop, ignore): any
        // thread may take it.
        // SAFETY: as in the straight call.
        libc::SIG_DFL => unsafe { libc::raise(sig) },
        _ => {
            task.signals().post(sig);
            // Runs it now if it waits (every wait tolerates a spurious wake).
            coro::unpark(&task);
            0
        }
    }
}

/// `pthread_cancel`: libc's, which marks `t` cancelled (it signals only a
/// thread whose cancel type is asynchronous at that moment, such as one in
/// libc's own cancellation point; a green thread's made-up thread id takes
/// no signal). A coroutine target that waits in a hooked cancellation point
/// is then woken with its wait interrupted: the hook returns and acts on
/// the cancel (see `hooks!`), where natively the cancel's signal would
/// have interrupted the system call.
unsafe fn on_cancel(_g: &Guard, real: unsafe extern "C" fn(pthread_t) -> c_int, t: pthread_t) -> c_int {
    // SAFETY: the caller's own argument.
    let r = unsafe { real(t) };
    // SAFETY: pthread_self has no preconditions.
    if r == 0 && unsafe { libc::pthread_self() } != t {
        if let Some(task) = green::lookup_thread(t) {
            task.signals().interrupt();
            // Every wait tolerates a spurious wake.
            coro::unpark(&task);
        }
    }
    r
}

unsafe fn on_getschedparam(
    _g: &Guard,
    real: unsafe extern "C" fn(pthread_t, *mut c_int, *mut libc::sched_param) -> c_int,
    t: pthread_t,
    policy: *mut c_int,
    param: *mut libc::sched_param,
) -> c_int {
    if green::lookup(t).is_none() {
        // SAFETY: the caller's own arguments.
        return unsafe { real(t, policy, param) };
    }
    // SAFETY: the caller's out-pointers. A green thread has the worker's
    // (default) scheduling.
    unsafe {
        *policy = libc::SCHED_OTHER;
        (*param).sched_priority = 0;
    }
    0
}

unsafe fn on_setschedparam(
    _g: &Guard,
    real: unsafe extern "C" fn(pthread_t, c_int, *const libc::sched_param) -> c_int,
    t: pthread_t,
    policy: c_int,
    param: *const libc::sched_param,
) -> c_int {
    if green::lookup(t).is_none() {
        // SAFETY: the caller's own arguments.
        return unsafe { real(t, policy, param) };
    }
    // Workers are shared: a green thread cannot have a policy of its own.
    if policy == libc::SCHED_OTHER { 0 } else { libc::EPERM }
}

unsafe fn on_getcpuclockid(
    _g: &Guard,
    real: unsafe extern "C" fn(pthread_t, *mut libc::clockid_t) -> c_int,
    t: pthread_t,
    clock: *mut libc::clockid_t,
) -> c_int {
    if green::lookup(t).is_none() {
        // SAFETY: the caller's own arguments.
        return unsafe { real(t, clock) };
    }
    libc::ENOENT
}

unsafe fn on_pthread_sigmask(
    real: unsafe extern "C" fn(c_int, *const libc::sigset_t, *mut libc::sigset_t) -> c_int,
    how: c_int,
    set: *const libc::sigset_t,
    old: *mut libc::sigset_t,
) -> c_int {
    // SAFETY: the caller's own arguments.
    let r = unsafe { real(how, set, old) };
    record_mask();
    r
}

unsafe fn on_sigprocmask(
    real: unsafe extern "C" fn(c_int, *const libc::sigset_t, *mut libc::sigset_t) -> c_int,
    how: c_int,
    set: *const libc::sigset_t,
    old: *mut libc::sigset_t,
) -> c_int {
    // SAFETY: the caller's own arguments.
    let r = unsafe { real(how, set, old) };
    record_mask(); // raw calls only: a failure's errno stays
    r
}

/// The running coroutine changed its worker's mask: it is now the
/// coroutine's own, which its worker applies whenever it runs it.
fn record_mask() {
    if let Some(t) = coro::current_task() {
        let m = coro::thread_sigmask();
        t.signals().set_mask(m);
        // Signals kept for it while it blocked them run now, as the kernel
        // delivers a pending signal when it is unblocked.
        t.deliver_pending();
        let urg: u64 = 1 << (libc::SIGURG - 1);
        if m & urg != 0 && crate::signal::preempt::active() {
            // SIGURG stays deliverable: it is how the monitor preempts.
            crate::sys::sigmask(libc::SIG_UNBLOCK, Some(urg));
        }
    }
}

unsafe fn on_key_create(real: unsafe extern "C" fn(*mut libc::pthread_key_t, usize) -> c_int, key: *mut libc::pthread_key_t, dtor: usize) -> c_int {
    // SAFETY: the caller's own arguments.
    let r = unsafe { real(key, dtor) };
    if r == 0 {
        // SAFETY: filled in by the successful call.
        green::keys::created(unsafe { *key }, dtor);
    }
    r
}

unsafe fn on_key_delete(real: unsafe extern "C" fn(libc::pthread_key_t) -> c_int, key: libc::pthread_key_t) -> c_int {
    // SAFETY: the caller's own argument.
    let r = unsafe { real(key) };
    if r == 0 {
        green::keys::deleted(key);
    }
    r
}

static REAL_EXIT: RealSym = RealSym::new("pthread_exit\0");

/// Interposed `pthread_exit`.
///
/// On a green thread, glibc's own `pthread_exit` does the work: it runs the
/// cleanup handlers and unwinds the frames (C++ destructors) up to the
/// thread's start, where `green` takes over. On `main`, the process goes on
/// until the last thread ends. Elsewhere, libc's.
///
/// # Safety
/// The same contract as libc's `pthread_exit`.
#[cfg_attr(feature = "preload", no_mangle)]
pub unsafe extern "C-unwind" fn pthread_exit(value: *mut c_void) -> ! {
    type Real = unsafe extern "C-unwind" fn(*mut c_void) -> !;
    // SAFETY: REAL_EXIT is libc's pthread_exit, of type Real.
    let real: Real = unsafe { std::mem::transmute::<*mut c_void, Real>(REAL_EXIT.get()) };
    if let Some(g) = Guard::enter() {
        let t = coro::current_ptr();
        drop(g);
        // SAFETY: inside a coroutine t is the running task; no reference
        // to it is kept on this frame (it is unwound or abandoned).
        let (green, is_main) = unsafe { ((*t).is_green(), (*t).pinned() == Some(0) && crate::sched::is_main_task(t)) };
        if green {
            // SAFETY: as above.
            unsafe {
                (*t).set_result(value as usize);
                crate::green::of(&*t).expect("green").mark_exiting();
            }
        } else if is_main {
            // (`main` as a plain function, alone, ends as natively: glibc's
            // own unwind buffer around `main`.)
            green::arm_main_exit(crate::hooks::start::main_frame_sp());
        }
    }
    // SAFETY: libc's pthread_exit with the caller's value.
    unsafe { real(value) }
}
