//! The process family: `vfork`.
//!
//! A vfork child shares the parent's memory and runs on the parent's stack
//! until it execs, and glibc runs no fork handlers for it: under the
//! runtime it would believe it is the parent's coroutine and run hooks
//! (even suspend into the parent's scheduler) in the parent's memory.
//! `vfork` therefore makes a full `fork`, which the vfork contract allows
//! (the child may only exec or `_exit` either way, and with fork its hooks
//! know they are in a child).

use libc::pid_t;

use crate::hooks::hooks;

hooks! {
    always fn vfork() -> pid_t => on_vfork;
}

unsafe fn on_vfork(real: unsafe extern "C" fn() -> pid_t) -> pid_t {
    if !crate::hooks::serving() {
        // SAFETY: a plain vfork where no runtime runs (a child already).
        return unsafe { real() };
    }
    // SAFETY: fork has no preconditions; it returns in parent and child.
    unsafe { libc::fork() }
}
