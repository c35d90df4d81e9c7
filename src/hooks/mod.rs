//! Interposed libc symbols, grouped by family.
//!
//! Every hook is declared once, as one line of a [`hooks!`] table. The macro
//! owns what every hook must do the same way:
//!
//! 1. export the symbol under libc's name (feature `preload`);
//! 2. resolve the real function lazily with `dlsym(RTLD_NEXT, name)`;
//! 3. call straight through when the caller is not a runtime coroutine, the
//!    runtime is off or not started, the process is a forked child, or the
//!    runtime itself is the caller (a hook already runs on this coroutine);
//! 4. otherwise run the family's handler with the real function at hand,
//!    catching any panic (a bug of the runtime: one line, then an abort;
//!    no unwinding ever crosses the C boundary);
//! 5. keep the caller's errno when the call succeeds (see [`Outcome`]): the
//!    attempts the runtime makes before a wait (a `sem_trywait`, a read
//!    with `RWF_NOWAIT`) and its bookkeeping fail or set errno, and a call
//!    of libc's that succeeds leaves errno as it was.
//!
//! Handlers set errno themselves where they produce a failure without libc.

pub mod fd;
pub mod file;
pub mod poll;
pub mod process;
pub mod rw;
pub mod signal;
pub mod sigwait;
pub mod sleep;
pub mod socket;
pub mod futex;
pub mod lock;
pub mod start;
pub mod thread;

use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

use crate::coro::{self, Task};

/// Bytes a hook needs below the caller's stack pointer; a coroutine that
/// calls a hook with less left has overflowed (carved stacks have no guard).
const HOOK_STACK_RESERVE: usize = 2048;

/// Set in a child after `fork`: the runtime's threads do not exist there, so
/// hooks call straight through (full support for fork comes later).
static FORKED: AtomicBool = AtomicBool::new(false);

/// Is the runtime on (`config::active`: until the configuration has been
/// read every hook calls straight through; the `any` hooks must not read
/// the configuration themselves) and this process not a forked child?
pub(crate) fn serving() -> bool {
    crate::config::active() && !FORKED.load(Ordering::Relaxed)
}

pub(crate) fn mark_forked() {
    FORKED.store(true, Ordering::Relaxed);
}

/// A raw pointer (or a value holding one) that may travel with its call to
/// a blocking-pool thread: the coroutine that owns the memory is suspended
/// until the call returns, so one thread at a time uses it. Closures take it
/// whole as `{ p }.0`.
#[derive(Clone, Copy)]
pub(crate) struct P<T>(pub T);
// SAFETY: see the type doc: the memory is used by one thread at a time.
unsafe impl<T> Send for P<T> {}

/// A lazily resolved libc symbol (the next definition after ours).
pub struct RealSym {
    name: &'static str,
    ptr: AtomicPtr<libc::c_void>,
}

impl RealSym {
    /// `name` must end with a NUL byte.
    pub const fn new(name: &'static str) -> Self {
        RealSym { name, ptr: AtomicPtr::new(std::ptr::null_mut()) }
    }

    /// The real function's address; aborts with a diagnostic if libc lacks it.
    #[inline]
    pub fn get(&self) -> *mut libc::c_void {
        let p = self.ptr.load(Ordering::Relaxed);
        if !p.is_null() {
            return p;
        }
        self.resolve()
    }

    #[cold]
    fn resolve(&self) -> *mut libc::c_void {
        // SAFETY: name is NUL-terminated (constructor contract); dlsym has no
        // other precondition and is not interposed by us.
        let p = unsafe { libc::dlsym(libc::RTLD_NEXT, self.name.as_ptr().cast()) };
        if p.is_null() {
            crate::diag!("cannot find the real {} in the libraries after opencoro", self.name.trim_end_matches('\0'));
            std::process::abort();
        }
        self.ptr.store(p, Ordering::Relaxed);
        p
    }
}

/// How a hook's result says that the call failed, by C's convention: -1
/// (any negative value) or `SIG_ERR`, with errno set. Every other result is
/// a success, after which the hook table puts the caller's errno back;
/// results that are error numbers (the `pthread_*` calls, `sigwait`,
/// `clock_nanosleep`) count as successes, since libc's calls that return
/// them leave errno alone.
pub trait Outcome {
    fn failed(&self) -> bool;
    /// ECANCELED, which a `cancel_locked` hook's handler returns when a
    /// cancel ended its wait (see `hooks!`).
    fn cancelled(&self) -> bool {
        false
    }
}

macro_rules! signed_outcome {
    ($($t:ty),*) => {$(
        impl Outcome for $t {
            fn failed(&self) -> bool {
                *self < 0
            }
            fn cancelled(&self) -> bool {
                *self == libc::ECANCELED as $t
            }
        }
    )*};
}
signed_outcome!(i32, i64, isize);

impl Outcome for u32 {
    fn failed(&self) -> bool {
        false
    }
}

/// `sighandler_t`: `SIG_ERR` is all ones.
impl Outcome for usize {
    fn failed(&self) -> bool {
        *self == libc::SIG_ERR
    }
}

impl Outcome for () {
    fn failed(&self) -> bool {
        false
    }
}

/// Runs a handler and puts the caller's errno back unless it failed
/// ([`Outcome`]). errno goes through `__errno_location` each time: the
/// coroutine may resume on another worker, whose errno is then its own.
#[inline(always)]
pub fn keeping_errno<R: Outcome>(f: impl FnOnce() -> R) -> R {
    let e = crate::sys::errno();
    let r = f();
    if !r.failed() {
        crate::sys::set_errno(e);
    }
    r
}

/// Proof that the caller is a runtime coroutine inside a hook. While it
/// lives, nested hook calls on this coroutine go straight to libc.
pub struct Guard {
    task: *const Task,
}

impl Guard {
    /// Enters a hook that keeps the runtime's books (fd bookkeeping) on any
    /// thread: None only for a nested call from the runtime itself (or the
    /// runtime off, or a forked child). The guard's task is null outside a
    /// coroutine.
    #[inline]
    pub fn enter_any() -> Option<Guard> {
        if FORKED.load(Ordering::Relaxed) || !crate::config::active() {
            return None;
        }
        let t = coro::current_ptr();
        if t.is_null() {
            return Some(Guard { task: t });
        }
        Self::enter()
    }

    /// [`Guard::enter`] for a `company` hook (`pthread_create`): a `main`
    /// that is still a plain function becomes a task first, as the runtime
    /// starts (with green threads only: an OS thread needs no runtime).
    #[inline]
    pub fn enter_company() -> Option<Guard> {
        if !FORKED.load(Ordering::Relaxed) && crate::config::active() && crate::green::enabled() && crate::sched::main_awaits_company() {
            crate::sched::start();
        }
        Self::enter()
    }

    /// [`Guard::enter`] for a `shared` hook: None also while the caller is
    /// the process's only coroutine (see `sched::worker::has_company`).
    #[inline]
    pub fn enter_shared() -> Option<Guard> {
        if !crate::sched::worker::has_company() {
            return None;
        }
        Self::enter()
    }

    /// A guard that marks nothing: for `always` hooks, which keep books
    /// from the very first call, whoever calls and whether or not the
    /// runtime is on.
    pub fn plain() -> Guard {
        Guard { task: std::ptr::null() }
    }

    /// Is the caller a runtime coroutine? (False for `enter_any` guards
    /// taken on plain threads.)
    pub fn on_coroutine(&self) -> bool {
        !self.task.is_null()
    }

    /// Enters a hook, or returns None if the call must go straight to libc.
    #[inline]
    pub fn enter() -> Option<Guard> {
        let t = coro::current_ptr();
        if t.is_null() || FORKED.load(Ordering::Relaxed) {
            return None;
        }
        // SAFETY: non-null CURRENT is the task this thread is running; the
        // worker holds a reference to it for the whole run.
        let task = unsafe { &*t };
        if task.in_hook() {
            return None;
        }
        if crate::signal::overflow::check_depth(task, HOOK_STACK_RESERVE) == crate::signal::overflow::Depth::Foreign {
            // Another thread or stack (raw clone, sigaltstack) that sees
            // this worker's thread-locals: not the coroutine; libc serves it.
            return None;
        }
        if task.signals().take_preempt() {
            // The monitor asked while this coroutine was somewhere unsafe:
            // this call is a safe point.
            crate::sched::worker::note_preempted();
            coro::yield_now();
        }
        task.set_in_hook(true);
        Some(Guard { task: t })
    }
}

impl Guard {
    /// Runs the program's own code (a callback such as `pthread_once`'s
    /// init routine) from inside a hook: its calls must reach our hooks.
    pub fn call_user<R>(&self, f: impl FnOnce() -> R) -> R {
        if self.task.is_null() {
            return f();
        }
        // SAFETY: the task outlives the hook call it is running.
        unsafe { (*self.task).set_in_hook(false) };
        let r = f();
        // SAFETY: as above.
        unsafe { (*self.task).set_in_hook(true) };
        r
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.task.is_null() {
            return;
        }
        // SAFETY: the task outlives the hook call it is running.
        let t = unsafe { &*self.task };
        t.set_in_hook(false);
        // Handlers of signals that came while the hook ran (see
        // `signal::program::trampoline`) run now, outside it.
        if t.signals().has_pending_unblocked() {
            t.deliver_pending();
        }
    }
}

/// Makes the library's own copy of libgcc's unwinder (linked in statically,
/// see `build.rs`) ready for a C++ exception that the program throws
/// through a `co_unwind` hook. The program's unwinder (libgcc_s) walks our
/// frames and calls our personality routine, which calls our copy's
/// `_Unwind_SetGR`: that copy fills its register-size table only at its own
/// first use and aborts while the table is empty. A one-frame backtrace
/// fills it, once.
pub fn unwinder_ready() {
    extern "C" {
        fn _Unwind_Backtrace(trace: extern "C" fn(*mut libc::c_void, *mut libc::c_void) -> libc::c_int, arg: *mut libc::c_void) -> libc::c_int;
    }
    /// Stops the walk at its first frame (any code but `_URC_NO_REASON`).
    extern "C" fn stop(_ctx: *mut libc::c_void, _arg: *mut libc::c_void) -> libc::c_int {
        5 // _URC_END_OF_STACK
    }
    static READY: std::sync::Once = std::sync::Once::new();
    // SAFETY: libgcc's documented entry point; the callback touches nothing.
    READY.call_once(|| unsafe {
        _Unwind_Backtrace(stop, std::ptr::null_mut());
    });
}

/// Acts on the calling thread's pending cancel (it does not return): from
/// a hook's outer frame, whose unwinding drops nothing, as libc's
/// cancellation point would have.
pub fn act_on_cancel() {
    extern "C-unwind" {
        fn pthread_testcancel();
    }
    // SAFETY: no preconditions; it unwinds the calling thread (forced
    // unwinding through frames that hold nothing to drop).
    unsafe { pthread_testcancel() };
}

/// A panic inside hook `name` (a bug of the runtime): one line, then an
/// abort. Going on could repeat a side effect the hook had begun (falling
/// back to libc's call sent a partly done write twice) or leave a
/// coroutine half switched.
#[cold]
pub(crate) fn internal_error(name: &str) -> ! {
    crate::diag!("internal error in the {name} hook (a bug of opencoro, please report it); aborting");
    std::process::abort();
}

/// Declares a family of hooks, one line each:
/// `co fn name(arg: Type, ...) -> Ret => handler;` or the same with `any`,
/// `always` or `co_guard` (a `co` hook whose handler gets the guard, to run
/// program callbacks through [`Guard::call_user`]), or `co_unwind` (a
/// `co_guard` hook whose callback may throw a C++ exception through it:
/// no panic containment, so its handler must not panic).
/// `handler(real, arg, ...) -> Ret` is an `unsafe fn` and `real` is libc's
/// function of the same name. A `co` hook runs its handler only on a
/// runtime coroutine (a `company` hook too, which first takes a lone `main`
/// over as a task: the call gives the process company, see
/// `sched::adopt_main`), a `shared` hook only on a runtime coroutine that is
/// not alone in the process (the alone rule: the process's only coroutine,
/// an unmodified single-threaded program's `main`, makes libc's call as
/// without the library: nothing else could run meanwhile); an `any` hook on
/// every thread (for bookkeeping that
/// must see every call, such as `close`), with a guard that says which; an
/// `always` hook on every thread even before the runtime is on or after a
/// fork (bookkeeping such as pthread key destructors).
///
/// A line that ends `=> handler, cancel;` is a cancellation point of libc's
/// that blocks: with a `pthread_cancel` pending at its entry it makes
/// libc's call, which acts on it, and when its handler failed with one
/// pending (a cancel interrupts a waiting coroutine, see `on_cancel`) it
/// acts on it before returning. libc must never act on a cancel under a
/// handler's frames: the unwinding would meet their landing pads and abort
/// the process (a green thread cancelled in `read` did, at f698618).
/// `cancel_locked` marks the calls the runtime implements itself, the
/// condition waits and `pthread_join`: they act on a cancel at their entry,
/// and on their return when their handler says ECANCELED, i.e. the cancel
/// ended the wait (a condition wait with the mutex held again, as libc's
/// does, for the program's cleanup handler to unlock; a join leaving its
/// target joinable). A condition waiter a signal woke first returns 0 and
/// keeps the signal (POSIX); the cancel acts at its next cancellation
/// point.
macro_rules! hooks {
    ($( $kind:ident fn $name:ident ( $($arg:ident : $ty:ty),* $(,)? ) -> $ret:ty => $handler:path $(, $cancel:ident)? ; )*) => {
        $(
            #[cfg_attr(feature = "preload", no_mangle)]
            #[doc = concat!("Interposed `", stringify!($name), "`.")]
            ///
            /// # Safety
            /// The same contract as the libc function of this name.
            pub unsafe extern "C-unwind" fn $name($($arg: $ty),*) -> $ret {
                type Real = unsafe extern "C" fn($($ty),*) -> $ret;
                // The same function for a straight call, which may unwind:
                // a cancellation point acting on a cancel unwinds through
                // this frame, which then holds nothing to drop.
                type Straight = unsafe extern "C-unwind" fn($($ty),*) -> $ret;
                static REAL: $crate::hooks::RealSym = $crate::hooks::RealSym::new(concat!(stringify!($name), "\0"));
                let sym = REAL.get();
                // SAFETY: REAL is libc's symbol of this very name, whose C type is `Real`.
                let straight: Straight = unsafe { core::mem::transmute::<*mut libc::c_void, Straight>(sym) };
                let cancels = $crate::hooks::hooks!(@cancels $($cancel)?);
                if cancels != 0 && $crate::glibc::tls::cancel_acts_now() {
                    if cancels == 2 {
                        $crate::hooks::act_on_cancel();
                    } else {
                        // A cancellation point with a cancel pending: libc's
                        // call acts on it at once, as without the library.
                        // SAFETY: a straight call with the caller's own arguments.
                        return unsafe { straight($($arg),*) };
                    }
                }
                // SAFETY: as above.
                let real: Real = unsafe { core::mem::transmute::<*mut libc::c_void, Real>(sym) };
                let Some(guard) = $crate::hooks::hooks!(@enter $kind) else {
                    // SAFETY: a straight call with the caller's own arguments.
                    return unsafe { straight($($arg),*) };
                };
                let r = {
                    let guard = guard;
                    $crate::hooks::hooks!(@run $kind, $name, $handler, guard, real, $($arg),*)
                };
                let ended = if cancels == 2 { $crate::hooks::Outcome::cancelled(&r) } else { $crate::hooks::Outcome::failed(&r) };
                if cancels != 0 && ended && $crate::glibc::tls::cancel_acts_now() {
                    // Cancelled while it waited (see `on_cancel`): acted on
                    // here, out of the handler's frames.
                    $crate::hooks::act_on_cancel();
                }
                r
            }
        )*
    };
    (@cancels cancel) => { 1 };
    (@cancels cancel_locked) => { 2 };
    (@cancels) => { 0 };
    // A handler that runs the program's code, which may throw a C++
    // exception through it (pthread_once): no catch_unwind (Rust aborts on
    // a foreign exception it catches); its own code must not panic.
    (@run co_unwind, $name:ident, $handler:path, $guard:ident, $real:ident, $($arg:ident),*) => {{
        $crate::hooks::unwinder_ready();
        // SAFETY: the handler honours the libc contract the caller relies on.
        $crate::hooks::keeping_errno(|| unsafe { $handler(&$guard, $real, $($arg),*) })
    }};
    (@run $kind:ident, $name:ident, $handler:path, $guard:ident, $real:ident, $($arg:ident),*) => {{
        let r = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
            // SAFETY: the handler honours the libc contract the caller relies on.
            $crate::hooks::keeping_errno(|| unsafe { $crate::hooks::hooks!(@call $kind, $handler, $guard, $real, $($arg),*) })
        }));
        match r {
            Ok(v) => v,
            // Calling libc now could repeat what the hook had already done
            // (a write half sent): say so and stop.
            Err(_) => $crate::hooks::internal_error(stringify!($name)),
        }
    }};
    (@enter co) => { $crate::hooks::Guard::enter() };
    (@enter company) => { $crate::hooks::Guard::enter_company() };
    (@enter shared) => { $crate::hooks::Guard::enter_shared() };
    (@enter co_guard) => { $crate::hooks::Guard::enter() };
    (@enter co_unwind) => { $crate::hooks::Guard::enter() };
    (@enter any) => { $crate::hooks::Guard::enter_any() };
    (@enter always) => { Some($crate::hooks::Guard::plain()) };
    (@call co, $handler:path, $guard:ident, $real:ident, $($arg:ident),*) => {{ let _g = &$guard; $handler($real, $($arg),*) }};
    (@call company, $handler:path, $guard:ident, $real:ident, $($arg:ident),*) => { $crate::hooks::hooks!(@call co, $handler, $guard, $real, $($arg),*) };
    (@call shared, $handler:path, $guard:ident, $real:ident, $($arg:ident),*) => {{ let _g = &$guard; $handler($real, $($arg),*) }};
    (@call co_guard, $handler:path, $guard:ident, $real:ident, $($arg:ident),*) => { $handler(&$guard, $real, $($arg),*) };
    (@call any, $handler:path, $guard:ident, $real:ident, $($arg:ident),*) => { $handler(&$guard, $real, $($arg),*) };
    (@call always, $handler:path, $guard:ident, $real:ident, $($arg:ident),*) => {{ let _g = &$guard; $handler($real, $($arg),*) }};
}
pub(crate) use hooks;

#[cfg(test)]
mod tests {
    use libc::c_int;

    // Not exported in the test build (no `preload` feature): only this
    // module calls it; `real` is libc's getppid. (On one line: it is not a
    // hook of the library, and scripts/check-exports.sh reads the tables.)
    hooks! { always fn getppid() -> c_int => boom; }

    unsafe fn boom(_real: unsafe extern "C" fn() -> c_int) -> c_int {
        panic!("a bug in a hook");
    }

    /// A panic in a hook aborts the process with one `opencoro:` line
    /// (it fell back to calling libc before, which could repeat a side
    /// effect). The hook runs in a child process of this test binary.
    #[test]
    fn panic_in_hook_aborts() {
        if std::env::var_os("OPENCORO_TEST_HOOK_PANIC").is_some() {
            // SAFETY: the test's own hook, libc's contract.
            unsafe { getppid() };
            std::process::exit(0);
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "hooks::tests::panic_in_hook_aborts", "--nocapture", "--test-threads=1"])
            .env("OPENCORO_TEST_HOOK_PANIC", "1")
            .output()
            .unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(out.status.signal(), Some(libc::SIGABRT), "status {:?}", out.status);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.lines().any(|l| l.starts_with("opencoro: pid ") && l.contains("): internal error in the getppid hook")), "stderr: {err}");
    }
}
