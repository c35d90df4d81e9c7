//! The runtime's side of the front library.
//!
//! Programs preload `libopencoro.so`, a small library of jumps
//! (`stub/opencoro_stub.c`) that loads this runtime,
//! `libopencoro_runtime.so`, only when the process first needs it: its
//! first company (`pthread_create`, the C API), a call whose books must
//! start at the first call (`sigaction`, `pthread_key_create`, ...), or at
//! once when an `OPENCORO_*` switch is set. Until then the front library's
//! jumps go to libc, and a process that never has company never maps the
//! runtime. The front library owns `__libc_start_main`: `main` runs inside
//! a frame of its own, and it tells the runtime, once loaded, where (the
//! functions below). Preloaded by itself, the runtime serves as before
//! (`hooks::start`).

use libc::{c_char, c_int};

/// What the front library tells the runtime when it attaches it (the C
/// side, `struct oc_front`, has the same layout).
#[repr(C)]
pub struct Front {
    version: u32,
    /// 0: before `__libc_start_main`; 1: `main` announced; 2: `main` runs.
    main_state: u32,
    main_tp: usize,
    main_sp: usize,
    /// The front library's file as loaded (for `OPENCORO_INHERIT=0`).
    path: *const c_char,
}

/// Attaches the runtime, just loaded by the front library: returns 1 when
/// it serves (the front library then points every hook at it), 0 when it
/// is off (`OPENCORO=0`, a Go program, an old glibc).
///
/// # Safety
/// `front` points to the front library's `struct oc_front`.
#[no_mangle]
pub unsafe extern "C" fn opencoro_rt_attach(front: *const Front) -> c_int {
    // SAFETY: the caller's contract.
    let f = unsafe { &*front };
    let r = std::panic::catch_unwind(|| {
        if f.version != 1 {
            crate::diag!("the front library libopencoro.so does not match this runtime (interface {}, not 1); the runtime stays off", f.version);
            return 0;
        }
        if !f.path.is_null() && !crate::config::get().inherit {
            // SAFETY: a NUL-terminated path from dladdr.
            crate::preload_env::remove(unsafe { std::ffi::CStr::from_ptr(f.path) }.to_str().ok());
        }
        if !crate::hooks::serving() {
            return 0;
        }
        // The books that the hooks keep from a process's first call, for
        // the calls made before the runtime was loaded (build.rs lets
        // these go to libc until then).
        crate::signal::program::adopt_installed();
        crate::green::keys::adopt_existing();
        if f.main_state >= 1 {
            crate::sched::announce_main_worker();
        }
        if f.main_state == 2 {
            crate::hooks::start::main_entered(f.main_tp, f.main_sp);
        }
        1
    });
    r.unwrap_or_else(|_| crate::hooks::internal_error("opencoro_rt_attach"))
}

/// The front library's `__libc_start_main` ran, the runtime loaded.
#[no_mangle]
pub extern "C" fn opencoro_rt_main_mode() {
    crate::sched::announce_main_worker();
}

/// `main` begins, on the thread `tp`, in the front library's frame whose
/// stack pointer `sp` is where `pthread_exit` in `main` unwinds to.
#[no_mangle]
pub extern "C" fn opencoro_rt_main_entered(tp: usize, sp: usize) {
    crate::hooks::start::main_entered(tp, sp);
}

/// `main` returned `result`: the runtime finishes the other coroutines'
/// business as after its own trampoline; returns the exit status.
#[no_mangle]
pub extern "C" fn opencoro_rt_main_returns(result: c_int) -> c_int {
    crate::sched::main_returns(result as u32 as usize) as u32 as c_int
}
