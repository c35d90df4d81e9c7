//! Raw system calls and thread-state helpers that never re-enter our hooks.
//!
//! Code inside this library that calls `libc::write` or `libc::syscall` binds to
//! the library's *own* exported symbols (the interposed ones). Diagnostics and
//! the runtime's own fd calls therefore issue the system call instruction directly.

pub use crate::arch::{set_thread_pointer, stack_pointer, syscall6, thread_pointer};

/// Writes all of `buf` to `fd` with the raw `write` system call (retrying on
/// partial writes and EINTR). Async-signal-safe.
pub fn raw_write_all(fd: i32, mut buf: &[u8]) {
    while !buf.is_empty() {
        // SAFETY: buf is a valid readable slice for its length.
        let n = unsafe { syscall6(libc::SYS_write, fd as usize, buf.as_ptr() as usize, buf.len(), 0, 0, 0) };
        if n == -(libc::EINTR as isize) {
            continue;
        }
        if n <= 0 {
            return;
        }
        buf = &buf[n as usize..];
    }
}

/// The load address of the object (library or program) that `addr` lies
/// in, if any (`dladdr`: it takes the loader's lock, not for signal
/// handlers).
pub fn object_base(addr: usize) -> Option<usize> {
    // SAFETY: dladdr only reads the loader's tables; info is a valid out-pointer.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    (unsafe { libc::dladdr(addr as *const libc::c_void, &mut info) } != 0).then_some(info.dli_fbase as usize)
}

/// The runtime library's own load address.
pub fn own_base() -> usize {
    object_base(own_base as *const () as usize).unwrap_or(0)
}

/// `fstat(fd)` as a raw system call (the symbol may be hooked, and the
/// runtime calls it inside hooks); None on error.
pub fn fstat(fd: i32) -> Option<libc::stat> {
    // SAFETY: a zeroed stat is a valid out-buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a valid out-pointer of the right type.
    let r = unsafe { syscall6(libc::SYS_fstat, fd as usize, &mut st as *mut libc::stat as usize, 0, 0, 0, 0) };
    (r == 0).then_some(st)
}

/// Closes one of the runtime's own fds with a raw `close` (the symbol is
/// a hook, which would do the reactor's bookkeeping for a program's fd).
pub fn close_own(fd: i32) {
    // SAFETY: close has no memory-safety preconditions; the caller owns fd.
    unsafe { syscall6(libc::SYS_close, fd as usize, 0, 0, 0, 0, 0) };
}

/// Nanoseconds on CLOCK_MONOTONIC (vDSO; never hooked).
#[inline]
pub fn now_ns() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC)
}

/// Nanoseconds on the given clock.
#[inline]
pub fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid out-pointer; clock_gettime is not interposed by us.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Reads the calling OS thread's errno. Not inlined into callers' TLS caches:
/// `__errno_location` is an opaque external call every time.
#[inline]
pub fn errno() -> i32 {
    // SAFETY: __errno_location always returns the calling thread's errno slot.
    unsafe { *libc::__errno_location() }
}

/// Sets the calling OS thread's errno.
#[inline]
pub fn set_errno(v: i32) {
    // SAFETY: as in `errno`.
    unsafe { *libc::__errno_location() = v };
}

/// The system page size.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 { p as usize } else { 4096 }
}

/// `AT_HWCAP2` bit saying user space may write the FS base itself.
const HWCAP2_FSGSBASE: u64 = 1 << 1;

/// Can this CPU and kernel switch the FS base without a system call?
pub fn has_fsgsbase() -> bool {
    // SAFETY: getauxval has no preconditions.
    unsafe { libc::getauxval(libc::AT_HWCAP2) & HWCAP2_FSGSBASE != 0 }
}

/// The soft and hard `RLIMIT_NOFILE` (`usize::MAX` for unlimited), with a
/// raw call (the runtime reads it inside its hooks and before they serve);
/// None if the call fails.
pub fn nofile() -> Option<(usize, usize)> {
    let mut rl = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: prlimit64 of our own process into a valid struct.
    let r = unsafe { syscall6(libc::SYS_prlimit64, 0, libc::RLIMIT_NOFILE as usize, 0, &mut rl as *mut libc::rlimit as usize, 0, 0) };
    let cap = |v: libc::rlim_t| if v == libc::RLIM_INFINITY { usize::MAX } else { v as usize };
    (r == 0).then(|| (cap(rl.rlim_cur), cap(rl.rlim_max)))
}

/// The calling OS thread's kernel thread id.
pub fn gettid() -> i32 {
    // SAFETY: gettid has no arguments.
    unsafe { syscall6(libc::SYS_gettid, 0, 0, 0, 0, 0, 0) as i32 }
}

/// FUTEX_WAIT (private) on `addr` while it holds `val`, until `deadline_ns`
/// on CLOCK_MONOTONIC (`u64::MAX`: none). Returns the raw result.
pub fn futex_wait(addr: *const u32, val: u32, deadline_ns: u64) -> isize {
    const FUTEX_WAIT_BITSET_PRIVATE: usize = 9 | 128;
    let ts;
    let tsp = if deadline_ns == u64::MAX {
        std::ptr::null()
    } else {
        ts = libc::timespec { tv_sec: (deadline_ns / 1_000_000_000) as i64, tv_nsec: (deadline_ns % 1_000_000_000) as i64 };
        &ts as *const libc::timespec
    };
    // SAFETY: addr is a valid u32 the caller waits on; tsp is null or valid.
    unsafe { syscall6(libc::SYS_futex, addr as usize, FUTEX_WAIT_BITSET_PRIVATE, val as usize, tsp as usize, 0, u32::MAX as usize) }
}

/// FUTEX_WAKE (private) of up to `n` waiters on `addr`.
pub fn futex_wake(addr: *const u32, n: usize) -> isize {
    const FUTEX_WAKE_PRIVATE: usize = 1 | 128;
    // SAFETY: the kernel only hashes the address; it need not be mapped.
    unsafe { syscall6(libc::SYS_futex, addr as usize, FUTEX_WAKE_PRIVATE, n.min(i32::MAX as usize), 0, 0, 0) }
}

/// A word of the calling thread's descriptor header (`%fs:off`).
#[inline(always)]
pub fn thread_pointer_word(off: usize) -> usize {
    // SAFETY: the header words below 0x40 exist in every glibc TCB.
    unsafe { *((thread_pointer() + off) as *const usize) }
}

/// `rt_sigprocmask(how, set)` on the calling thread for signals 1..=64
/// (`set` None: only read); returns the mask before the call.
pub fn sigmask(how: libc::c_int, set: Option<u64>) -> u64 {
    let mut old = 0u64;
    let setp = set.as_ref().map_or(0, |m| m as *const u64 as usize);
    // SAFETY: valid 8-byte sets (or none); affects only the calling thread.
    unsafe { syscall6(libc::SYS_rt_sigprocmask, how as usize, setp, &mut old as *mut u64 as usize, 8, 0, 0) };
    old
}

/// Signals 1..=64 of a glibc `sigset_t` (its first word: bit `n - 1` is
/// signal `n`), in the form [`sigmask`] takes.
pub fn sigset_bits(set: &libc::sigset_t) -> u64 {
    // SAFETY: glibc's sigset_t is an array of unsigned longs, at least 8 bytes.
    unsafe { *(set as *const libc::sigset_t as *const u64) }
}

/// Reads a `T` from the program's memory at `p` as the kernel would: None
/// where the kernel answers EFAULT (null, unmapped, unreadable), instead of
/// a fault in the hook. One `process_vm_readv` on ourselves (a process may
/// always read itself).
pub fn copy_in<T: Copy>(p: *const T) -> Option<T> {
    if p.is_null() {
        return None;
    }
    let mut v = std::mem::MaybeUninit::<T>::uninit();
    let n = std::mem::size_of::<T>();
    let local = libc::iovec { iov_base: v.as_mut_ptr().cast(), iov_len: n };
    let remote = libc::iovec { iov_base: p as *mut libc::c_void, iov_len: n };
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { syscall6(libc::SYS_getpid, 0, 0, 0, 0, 0, 0) };
    // SAFETY: one local iovec over `v`, one remote over the program's
    // pointer, which the kernel checks.
    let r = unsafe { syscall6(libc::SYS_process_vm_readv, pid as usize, &local as *const _ as usize, 1, &remote as *const _ as usize, 1, 0) };
    // SAFETY: the kernel filled all n bytes (T is Copy, any bytes it read
    // are a value the program stored there).
    (r == n as isize).then(|| unsafe { v.assume_init() })
}
