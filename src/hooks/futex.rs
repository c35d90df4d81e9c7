//! `syscall(SYS_futex, ...)`: the futex waits and wakes of Rust std (its
//! Mutex, Condvar, RwLock, Once and thread parking) and of other programs
//! that use futexes directly.
//!
//! A green thread's FUTEX_WAIT queues in the parking lot and suspends; every
//! FUTEX_WAKE, from any thread, wakes the lot first and the kernel's
//! waiters (OS threads) with what is left. Other system calls, and other
//! futex operations, go to libc.

use libc::{c_long, timespec};

use crate::hooks::{Guard, RealSym};

use crate::sched::worker::has_company;
use crate::sync::lot;
use crate::reactor::timer::NEVER;

const FUTEX_WAIT: c_long = 0;
const FUTEX_WAKE: c_long = 1;
const FUTEX_WAIT_BITSET: c_long = 9;
const FUTEX_WAKE_BITSET: c_long = 10;
const FUTEX_PRIVATE_FLAG: c_long = 128;
const FUTEX_CLOCK_REALTIME: c_long = 256;

static REAL: RealSym = RealSym::new("syscall\0");

type Real = unsafe extern "C" fn(c_long, ...) -> c_long;

/// Interposed `syscall`. C declares it variadic; on x86_64 a variadic
/// caller passes the integer arguments in the same registers, so six fixed
/// arguments read them all (those not passed are ignored by the kernel).
///
/// # Safety
/// The same contract as libc's `syscall`.
#[cfg_attr(feature = "preload", no_mangle)]
pub unsafe extern "C" fn syscall(n: c_long, a1: c_long, a2: c_long, a3: c_long, a4: c_long, a5: c_long, a6: c_long) -> c_long {
    // SAFETY: REAL is libc's syscall, variadic.
    let real: Real = unsafe { std::mem::transmute::<*mut libc::c_void, Real>(REAL.get()) };
    if crate::hooks::serving() {
        if let Some(r) = fd_syscall(n, a1, a2, a3) {
            return r;
        }
    }
    if n == libc::SYS_futex {
        let r = std::panic::catch_unwind(|| {
            // SAFETY: the caller's futex arguments.
            unsafe { futex(a1, a2, a3, a4, a6) }
        });
        match r {
            Ok(Some(v)) => return v,
            Ok(None) => {}
            Err(_) => crate::hooks::internal_error("syscall(SYS_futex)"),
        }
    }
    let fork_like = is_fork_like(n, a1, a2);
    // SAFETY: a straight call with the caller's own arguments.
    let r = unsafe { real(n, a1, a2, a3, a4, a5, a6) };
    if r == 0 && fork_like {
        // A child made without glibc's fork (no fork handlers): it has no
        // runtime; its hooks go straight to libc.
        crate::hooks::mark_forked();
    }
    r
}

/// A raw `fork`, `vfork`, or `clone`/`clone3` without CLONE_VM (a new
/// process on the same stack, when no new stack is given)?
fn is_fork_like(n: c_long, a1: c_long, a2: c_long) -> bool {
    match n {
        libc::SYS_fork | libc::SYS_vfork => true,
        libc::SYS_clone => a1 as u64 & libc::CLONE_VM as u64 == 0 && a2 == 0,
        libc::SYS_clone3 if a1 != 0 => {
            // SAFETY: struct clone_args: flags is its first u64, stack its
            // sixth; the kernel reads the same memory.
            let (flags, stack) = unsafe { (*(a1 as *const u64), *((a1 as *const u64).add(5))) };
            // stack 0: the child goes on on this stack.
            flags & libc::CLONE_VM as u64 == 0 && stack == 0
        }
        _ => false,
    }
}

/// Raw `close`, `close_range`, `dup2`, `dup3` must spare the runtime's fds
/// as the libc functions do (see hooks/fd.rs). None: not one of those.
fn fd_syscall(n: c_long, a1: c_long, a2: c_long, a3: c_long) -> Option<c_long> {
    use crate::reactor::poller::runtime_fd;
    let r = match n {
        libc::SYS_close if runtime_fd(a1 as i32) => fail(libc::EBADF),
        libc::SYS_close => {
            crate::reactor::closed(a1 as i32);
            return None;
        }
        libc::SYS_dup2 | libc::SYS_dup3 if runtime_fd(a1 as i32) || runtime_fd(a2 as i32) => fail(libc::EBADF),
        libc::SYS_close_range => {
            // SAFETY: our own close_range hook, with the caller's arguments.
            unsafe { crate::hooks::fd::close_range(a1 as u32, a2 as u32, a3 as i32) as c_long }
        }
        _ => return None,
    };
    Some(r)
}

/// Handles the futex operations we serve; None: leave it to the kernel.
unsafe fn futex(uaddr: c_long, op: c_long, val: c_long, timeout: c_long, val3: c_long) -> Option<c_long> {
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let g = Guard::enter()?;
            if !has_company() {
                return None;
            }
            let bitset = if cmd == FUTEX_WAIT_BITSET { val3 as u32 } else { lot::ANY };
            if bitset == 0 || uaddr == 0 || uaddr % 4 != 0 {
                return None; // the kernel's EINVAL / EFAULT
            }
            let deadline = if timeout == 0 {
                NEVER
            } else {
                // Unreadable: the kernel's EFAULT.
                let ts = &crate::sys::copy_in(timeout as *const timespec)?;
                let d = if cmd == FUTEX_WAIT {
                    crate::sync::deadline_from_rel(ts)
                } else {
                    let clock = if op & FUTEX_CLOCK_REALTIME != 0 { libc::CLOCK_REALTIME } else { libc::CLOCK_MONOTONIC };
                    crate::sync::deadline_from_abs(clock, ts)
                };
                match d {
                    Some(d) => d,
                    None => return Some(fail(libc::EINVAL)),
                }
            };
            // An unreadable word: the kernel's EFAULT.
            crate::sys::copy_in(uaddr as *const u32)?;
            let word = uaddr as *const std::sync::atomic::AtomicU32;
            // SAFETY: an aligned futex word of the caller's.
            let holds = || unsafe { (*word).load(std::sync::atomic::Ordering::SeqCst) } == val as u32;
            let r = match lot::enqueue_if(uaddr as usize, bitset, holds) {
                None => fail(libc::EAGAIN),
                Some(t) => {
                    if t.wait(deadline) {
                        0
                    } else {
                        fail(libc::ETIMEDOUT)
                    }
                }
            };
            drop(g);
            Some(r)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            // Every wake looks into the lot, the runtime's own included: a
            // coroutine may wait there on a lock of the runtime's that it
            // took outside a hook.
            if !crate::hooks::serving() {
                return None;
            }
            let bitset = if cmd == FUTEX_WAKE_BITSET { val3 as u32 } else { lot::ANY };
            if bitset == 0 || val < 0 {
                return None;
            }
            let n = val as usize;
            let woke = lot::wake(uaddr as usize, n, bitset);
            if woke >= n {
                return Some(woke as c_long);
            }
            // The rest may be OS threads sleeping in the kernel.
            // SAFETY: the caller's futex word and operation.
            let k = unsafe { crate::sys::syscall6(libc::SYS_futex, uaddr as usize, op as usize, n - woke, 0, 0, val3 as usize) };
            if k < 0 {
                return Some(if woke > 0 { woke as c_long } else { fail(-k as i32) });
            }
            Some((woke + k as usize) as c_long)
        }
        _ => None,
    }
}

fn fail(e: i32) -> c_long {
    crate::sys::set_errno(e);
    -1
}
