//! Process entry: `__libc_start_main` is interposed so that the program's
//! `main` runs as the first coroutine, on the main thread as worker 0.
//!
//! glibc calls the program's own constructors inside `__libc_start_main`,
//! before `main`; they still run natively. Then our trampoline starts the
//! runtime and runs `main` on a coroutine whose stack is as large as the
//! main thread's would be (the soft `RLIMIT_STACK`, 8 MiB when unlimited, or
//! `OPENCORO_STACK_SIZE` if larger). When `main` returns, glibc calls
//! `exit` with its result, as it always does, whatever other coroutines
//! still run.

use std::sync::atomic::{AtomicUsize, Ordering};

use libc::{c_char, c_int, c_void};

use crate::hooks::RealSym;

type MainFn = unsafe extern "C" fn(c_int, *mut *mut c_char, *mut *mut c_char) -> c_int;
type Hook = Option<unsafe extern "C" fn()>;
type StartFn = unsafe extern "C" fn(MainFn, c_int, *mut *mut c_char, Hook, Hook, Hook, *mut c_void) -> c_int;

/// The program's `main`, stored by the hook for the trampoline (written
/// once, on the main thread, before the trampoline can run).
static MAIN: AtomicUsize = AtomicUsize::new(0);
static REAL: RealSym = RealSym::new("__libc_start_main\0");

/// Interposed `__libc_start_main`.
///
/// # Safety
/// Called by the C runtime's `_start` with the C runtime's arguments.
#[cfg_attr(feature = "preload", no_mangle)]
pub unsafe extern "C" fn __libc_start_main(
    main: MainFn,
    argc: c_int,
    argv: *mut *mut c_char,
    init: Hook,
    fini: Hook,
    rtld_fini: Hook,
    stack_end: *mut c_void,
) -> c_int {
    // SAFETY: REAL is glibc's __libc_start_main, whose type is StartFn.
    let real: StartFn = unsafe { std::mem::transmute::<*mut c_void, StartFn>(REAL.get()) };
    if !crate::config::get().enabled || !crate::hooks::serving() {
        // SAFETY: a straight call with the C runtime's own arguments.
        return unsafe { real(main, argc, argv, init, fini, rtld_fini, stack_end) };
    }
    MAIN.store(main as usize, Ordering::Relaxed);
    crate::sched::announce_main_worker();
    // SAFETY: as above, with our trampoline in place of main.
    unsafe { real(trampoline, argc, argv, init, fini, rtld_fini, stack_end) }
}

unsafe extern "C" fn trampoline(argc: c_int, argv: *mut *mut c_char, envp: *mut *mut c_char) -> c_int {
    let main_addr = MAIN.load(Ordering::Relaxed);
    // pthread_exit in main unwinds up to this frame (see green), armed when
    // it is called (`main_frame_sp`).
    main_entered(crate::sys::thread_pointer(), crate::sys::stack_pointer() - 8);
    let r = call_main(main_addr, argc, argv as usize, envp as usize);
    crate::sched::main_returns(r) as u32 as c_int
}

/// The stack pointer `pthread_exit` in `main` unwinds to (see
/// `green::arm_main_exit`), or 0 before `main` runs.
static MAIN_SP: AtomicUsize = AtomicUsize::new(0);

/// `main` now runs on the thread whose pointer is `tp`, inside a frame
/// (ours, or the front library's) whose stack pointer `sp` is where
/// `pthread_exit` in `main` unwinds to.
pub fn main_entered(tp: usize, sp: usize) {
    MAIN_SP.store(sp, Ordering::Relaxed);
    crate::sched::main_entered(tp);
}

/// Where `pthread_exit` in `main` unwinds to, once `main` runs.
pub fn main_frame_sp() -> Option<usize> {
    Some(MAIN_SP.load(Ordering::Relaxed)).filter(|&sp| sp != 0)
}

/// Calls the program's `main`; a frame of its own, so that `pthread_exit`'s
/// unwinding stops right above `main`'s frame.
#[inline(never)]
fn call_main(main_addr: usize, argc: c_int, argv: usize, envp: usize) -> usize {
    type UnwindMain = unsafe extern "C-unwind" fn(c_int, *mut *mut c_char, *mut *mut c_char) -> c_int;
    // SAFETY: MAIN holds the program's main, stored by the hook above.
    let main: UnwindMain = unsafe { std::mem::transmute::<usize, UnwindMain>(main_addr) };
    // SAFETY: the arguments glibc prepared for main.
    unsafe { main(argc, argv as *mut *mut c_char, envp as *mut *mut c_char) as u32 as usize }
}
