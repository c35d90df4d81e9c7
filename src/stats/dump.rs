//! `OPENCORO_DUMP_SIGNAL`: a dump of every coroutine to stderr when the
//! process gets that signal, without a debugger (as the JVM and Go do on
//! SIGQUIT). Off by default: the signal is otherwise the program's.
//!
//! The handler only writes a byte to a pipe (async-signal-safe); a thread
//! of the runtime's own (`opencoro-dump`) reads it and prints, for each
//! live coroutine, its kind, state and what it waits for, and the code
//! addresses found on its stack above where it last suspended, named with
//! `dladdr` (a scan, not an unwind: stale return addresses appear too, and
//! functions that are not exported show as an offset into their file, for
//! `addr2line -e FILE OFFSET`). `opencoro bt` in gdb unwinds exactly.

use std::fmt::Write;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::coro::debug::{self, Node};

/// The pipe's write end, for the handler.
static PIPE_W: AtomicI32 = AtomicI32::new(-1);

/// Code addresses shown per coroutine.
const MAX_FRAMES: usize = 24;

/// Installs the handler for `sig` and starts the thread that prints.
/// Called by the library's constructor (before the hooks serve: the
/// thread is a plain one, the pipe the runtime's own).
pub(crate) fn install(sig: i32) {
    let mut fds = [0i32; 2];
    // SAFETY: a valid array for pipe2.
    if unsafe { crate::sys::syscall6(libc::SYS_pipe2, fds.as_mut_ptr() as usize, libc::O_CLOEXEC as usize, 0, 0, 0, 0) } != 0 {
        crate::diag!("OPENCORO_DUMP_SIGNAL: cannot make a pipe; no dumps");
        return;
    }
    let r = crate::reactor::poller::place_high(fds[0]).unwrap_or(fds[0]);
    let w = crate::reactor::poller::place_high(fds[1]).unwrap_or(fds[1]);
    PIPE_W.store(w, Ordering::Release);
    let spawned = std::thread::Builder::new().name("opencoro-dump".into()).spawn(move || {
        let mut b = [0u8; 16];
        loop {
            // SAFETY: reads into our buffer; a raw call, the hooks stay out.
            let n = unsafe { crate::sys::syscall6(libc::SYS_read, r as usize, b.as_mut_ptr() as usize, b.len(), 0, 0, 0) };
            if n > 0 {
                print();
            } else if n != -(libc::EINTR as isize) {
                return;
            }
        }
    });
    if spawned.is_err() {
        crate::diag!("OPENCORO_DUMP_SIGNAL: cannot start the thread that prints; no dumps");
        return;
    }
    // SAFETY: sigaction is plain data; the handler is async-signal-safe.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = handler as *const () as usize;
        sa.sa_flags = libc::SA_RESTART;
        let mut old: libc::sigaction = std::mem::zeroed();
        if crate::signal::program::real_sigaction(sig, &sa, &mut old) != 0 {
            crate::diag!("OPENCORO_DUMP_SIGNAL: cannot handle signal {sig}; no dumps");
        }
    }
}

extern "C" fn handler(_sig: i32) {
    let w = PIPE_W.load(Ordering::Acquire);
    if w >= 0 {
        let e = crate::sys::errno();
        // SAFETY: one byte from a static to our pipe (async-signal-safe).
        unsafe { crate::sys::syscall6(libc::SYS_write, w as usize, b"d".as_ptr() as usize, 1, 0, 0, 0) };
        crate::sys::set_errno(e);
    }
}

/// What the dump shows of one coroutine: its line, and the words of its
/// stack above where it last suspended (named after the list's lock is
/// released: naming takes the loader's lock).
struct Seen {
    line: String,
    words: Vec<usize>,
}

/// Words read from a suspended coroutine's stack, at most.
const MAX_WORDS: usize = 2048;

fn seen(n: &Node) -> Seen {
    let (state, tid) = n.state_and_tid();
    let kind = match n.kind() {
        1 => "green thread",
        2 => "main",
        _ => "C API coroutine",
    };
    let state_text = match state {
        crate::coro::SCHEDULED | crate::coro::NOTIFIED => "runnable".to_string(),
        crate::coro::RUNNING => format!("running on thread {tid}"),
        crate::coro::PARKED => {
            let (w, arg) = n.wait();
            match w {
                x if x == debug::WaitKind::Fd as u8 => format!("waiting on fd {arg}"),
                x if x == debug::WaitKind::Lock as u8 => format!("waiting on a lock or condition at {arg:#x}"),
                x if x == debug::WaitKind::Timer as u8 => "sleeping".to_string(),
                x if x == debug::WaitKind::Join as u8 => format!("joining coroutine {arg:#x}"),
                x if x == debug::WaitKind::Pool as u8 => "in a call on the blocking pool".to_string(),
                x if x == debug::WaitKind::Exited as u8 => "exited (main called pthread_exit)".to_string(),
                _ => "waiting".to_string(),
            }
        }
        _ => "done".to_string(),
    };
    let line = format!("coroutine {:#x} ({kind}): {state_text}", n.task());
    let mut words = Vec::new();
    if matches!(state, crate::coro::PARKED | crate::coro::SCHEDULED | crate::coro::NOTIFIED) {
        // SAFETY: the node's task is alive while `debug::each` holds the list.
        let bounds = unsafe { (*(n.task() as *const crate::coro::Task)).stack_bounds() };
        let sp = n.context()[1];
        if sp != 0 && (bounds.bottom..bounds.top).contains(&sp) {
            let mut a = sp & !7;
            while a + 8 <= bounds.top && words.len() < MAX_WORDS {
                // SAFETY: within the coroutine's own stack, which stays
                // mapped while its task lives (a racy read of a word).
                words.push(unsafe { std::ptr::read_volatile(a as *const usize) });
                a += 8;
            }
        }
    }
    Seen { line, words }
}

/// `addr` named, when it lies in the code of a loaded object other than
/// this library (whose own frames are the runtime's): `symbol+off (file)`,
/// or `file+off` when no exported symbol covers it.
fn code_name(addr: usize) -> Option<String> {
    if addr < 4096 {
        return None;
    }
    // SAFETY: dladdr only reads the loader's tables.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: as above; info is a valid out-pointer.
    if unsafe { libc::dladdr(addr as *const libc::c_void, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    if info.dli_fbase as usize == crate::sys::own_base() || !in_code(addr) {
        return None;
    }
    // SAFETY: dladdr's names are NUL-terminated strings of the loader's.
    let file = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) }.to_string_lossy();
    if !info.dli_sname.is_null() && !info.dli_saddr.is_null() {
        // SAFETY: as above.
        let sym = unsafe { std::ffi::CStr::from_ptr(info.dli_sname) }.to_string_lossy();
        return Some(format!("{sym}+{:#x} ({file})", addr - info.dli_saddr as usize));
    }
    Some(format!("{file}+{:#x}", addr - info.dli_fbase as usize))
}

/// Does `addr` lie in an executable segment of a loaded object?
fn in_code(addr: usize) -> bool {
    struct Find {
        addr: usize,
        found: bool,
    }
    unsafe extern "C" fn each(info: *mut libc::dl_phdr_info, _size: libc::size_t, data: *mut libc::c_void) -> libc::c_int {
        // SAFETY: the loader passes a valid info; data is our Find.
        let (info, f) = unsafe { (&*info, &mut *(data as *mut Find)) };
        for i in 0..info.dlpi_phnum as usize {
            // SAFETY: dlpi_phdr has dlpi_phnum entries.
            let ph = unsafe { &*info.dlpi_phdr.add(i) };
            if ph.p_type == libc::PT_LOAD && ph.p_flags & libc::PF_X != 0 {
                let start = info.dlpi_addr as usize + ph.p_vaddr as usize;
                if (start..start + ph.p_memsz as usize).contains(&f.addr) {
                    f.found = true;
                    return 1;
                }
            }
        }
        0
    }
    let mut f = Find { addr, found: false };
    // SAFETY: the callback above, with our Find.
    unsafe { libc::dl_iterate_phdr(Some(each), &mut f as *mut Find as *mut libc::c_void) };
    f.found
}

fn print() {
    let mut all = Vec::new();
    debug::each(|n| all.push(seen(n)));
    let mut text = format!(
        "opencoro: dump: pid {} ({}): {} coroutines (for each suspended one, the code addresses found on its stack, newest first)\n",
        std::process::id(),
        crate::log::program(),
        all.len()
    );
    for s in all {
        let _ = writeln!(text, "{}", s.line);
        for name in s.words.into_iter().filter_map(|w| code_name(w).map(|n| (w, n))).take(MAX_FRAMES) {
            let _ = writeln!(text, "    {:#x} {}", name.0, name.1);
        }
    }
    crate::sys::raw_write_all(super::report::out_fd(), text.as_bytes());
}
