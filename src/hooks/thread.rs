//! Thread queries that must describe the coroutine rather than the worker:
//! `pthread_getattr_np` on the calling thread reports the coroutine's stack.

use libc::{c_int, pthread_attr_t, pthread_t};

use crate::coro;
use crate::hooks::hooks;

hooks! {
    co fn pthread_getattr_np(thread: pthread_t, attr: *mut pthread_attr_t) -> c_int => on_getattr;
}

unsafe fn on_getattr(
    real: unsafe extern "C" fn(pthread_t, *mut pthread_attr_t) -> c_int,
    thread: pthread_t,
    attr: *mut pthread_attr_t,
) -> c_int {
    // SAFETY: the caller passes a valid attr to initialise, as for libc.
    let r = unsafe { real(thread, attr) };
    // SAFETY: pthread_self has no preconditions.
    if r != 0 || unsafe { libc::pthread_self() } != thread {
        return r;
    }
    let t = coro::current_ptr();
    // SAFETY: we are inside a hook, so t is the running task.
    let (start, bottom, top, guarded) = unsafe { (*t).stack_bounds() };
    // SAFETY: attr was initialised by the real call above.
    unsafe {
        libc::pthread_attr_setstack(attr, bottom as *mut _, top - bottom);
        libc::pthread_attr_setguardsize(attr, if guarded { bottom - start } else { 0 });
    }
    0
}
