//! The C API declared in `preload/opencoro.h`.
//!
//! Exported always (also when the library is `dlopen`ed). Each function
//! catches panics at the boundary and reports failure the C way, and runs
//! as a hook does (a [`Guard`]): the runtime's own locks it takes then wait
//! in the kernel, never in the parking lot (a coroutine parked there on a
//! runtime lock whose other waiter is its own worker, blocked in the
//! kernel on the same lock, would never run again).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use libc::{c_int, c_void};

use crate::coro::{self, Task};
use crate::hooks::Guard;

/// Opaque handle returned by `opencoro_spawn`.
pub type OpencoroTask = c_void;

type StartRoutine = extern "C" fn(*mut c_void) -> *mut c_void;

/// Spawns a coroutine running `f(arg)` with a stack of `stack_size` bytes
/// (0: `OPENCORO_STACK_SIZE`). Returns a handle to join, or NULL with errno
/// set (EINVAL for a NULL function).
///
/// # Safety
/// `f` must be safe to call with `arg` on any thread.
#[no_mangle]
pub unsafe extern "C" fn opencoro_spawn(f: Option<StartRoutine>, arg: *mut c_void, stack_size: usize) -> *mut OpencoroTask {
    let Some(f) = f else {
        crate::sys::set_errno(libc::EINVAL);
        return std::ptr::null_mut();
    };
    let arg = arg as usize;
    let _g = Guard::enter();
    let r = catch_unwind(AssertUnwindSafe(|| {
        crate::sched::spawn(Box::new(move || f(arg as *mut c_void) as usize), stack_size)
    }));
    match r {
        Ok(t) => Arc::into_raw(t) as *mut OpencoroTask,
        Err(_) => {
            crate::sys::set_errno(libc::ENOMEM);
            std::ptr::null_mut()
        }
    }
}

/// Waits for the coroutine to finish; stores its return value in `*result`
/// if `result` is not NULL. Returns 0, or EINVAL (NULL, or another join is in
/// progress), EDEADLK (joining oneself). Suspends a coroutine; blocks a plain
/// thread. A successful join releases the handle, like `pthread_join`.
///
/// # Safety
/// `t` must come from `opencoro_spawn` and not have been joined already.
#[no_mangle]
pub unsafe extern "C" fn opencoro_join(t: *mut OpencoroTask, result: *mut *mut c_void) -> c_int {
    if t.is_null() {
        return libc::EINVAL;
    }
    let t = t as *const Task;
    // SAFETY: t came from Arc::into_raw in opencoro_spawn and is still owned by
    // the handle; we borrow it here and release the handle only on success.
    let task = unsafe {
        Arc::increment_strong_count(t);
        Arc::from_raw(t)
    };
    let g = Guard::enter();
    let r = catch_unwind(AssertUnwindSafe(|| task.join())).unwrap_or(Err(libc::EINVAL));
    drop(g);
    match r {
        Ok(v) => {
            if !result.is_null() {
                // SAFETY: caller passes a writable pointer or NULL.
                unsafe { *result = v as *mut c_void };
            }
            // SAFETY: the handle's own reference, released once on success.
            unsafe { Arc::decrement_strong_count(t) };
            0
        }
        Err(e) => e,
    }
}

/// Lets the other coroutines run; on a plain thread, `sched_yield()`.
#[no_mangle]
pub extern "C" fn opencoro_yield() {
    let _g = Guard::enter();
    let _ = catch_unwind(|| {
        if !coro::yield_now() {
            // SAFETY: no preconditions; not our hook (we are not on a coroutine).
            unsafe { libc::sched_yield() };
        }
    });
}

/// 1 when the runtime serves the caller: a runtime coroutine, or `main`
/// while it is still a plain function that the first spawn or thread makes
/// a coroutine (see `sched::adopt_main`); 0 otherwise.
#[no_mangle]
pub extern "C" fn opencoro_active() -> c_int {
    c_int::from(coro::in_coroutine() || crate::sched::main_awaits_company())
}

/// The library's version and commit, as `"0.1.0 (commit abc1234)"`: a
/// static string (`OPENCORO_VERSION_*` in the header name the version a
/// program was compiled against).
#[no_mangle]
pub extern "C" fn opencoro_version() -> *const std::ffi::c_char {
    crate::config::VERSION_NUL.as_ptr().cast()
}

/// Copies the process-wide figures into `*totals` (if not NULL) and the
/// counters of the first `n` worker slots into `workers[0..n]` (if not
/// NULL). Returns the number of slots (workers, then spares); 0 before the
/// runtime has started.
///
/// # Safety
/// `totals` is NULL or writable; `workers` is NULL or has room for `n`.
#[no_mangle]
pub unsafe extern "C" fn opencoro_stats(totals: *mut crate::stats::report::CTotals, workers: *mut crate::stats::report::CWorkerStats, n: c_int) -> c_int {
    let t = crate::stats::report::totals();
    if !totals.is_null() {
        // SAFETY: per the contract.
        unsafe { *totals = t };
    }
    if !workers.is_null() {
        for i in 0..(n.max(0) as usize).min(t.slots as usize) {
            // SAFETY: per the contract, i < n.
            unsafe { *workers.add(i) = crate::stats::report::worker(i) };
        }
    }
    t.slots as c_int
}

/// Sets the listener (its callbacks are copied; each may be NULL) with
/// `user` passed to every call; NULL removes it.
///
/// # Safety
/// `l` is NULL or points to a valid listener; the callbacks stay callable
/// from any thread for the rest of the process.
#[no_mangle]
pub unsafe extern "C" fn opencoro_set_listener(l: *const crate::stats::Listener, user: *mut c_void) {
    // SAFETY: per the contract.
    crate::stats::set_listener(unsafe { l.as_ref() }.copied(), user);
}
