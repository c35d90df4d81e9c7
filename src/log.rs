//! Diagnostics on stderr, each line `opencoro: pid N (program): ...`.
//!
//! Messages are formatted into a fixed buffer on the stack and written with a
//! raw system call: no allocation, no lock and no trip through our own `write`
//! hook, so they are usable from any context except a signal handler (which
//! uses [`crate::sys::raw_write_all`] directly).

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

/// Set once from `OPENCORO_LOG=debug` by the configuration; read everywhere.
pub static DEBUG: AtomicBool = AtomicBool::new(false);

/// A fixed-size line buffer; overlong messages are truncated, never allocated.
pub struct LineBuf {
    buf: [u8; 512],
    len: usize,
}

impl LineBuf {
    pub const fn new() -> Self {
        LineBuf { buf: [0; 512], len: 0 }
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Default for LineBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.buf.len() - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Writes the prefix of every line: `opencoro: pid N (program): `, so that
/// the lines of a process tree can be told apart. Async-signal-safe (a raw
/// `getpid`, glibc's `program_invocation_short_name`, no allocation).
pub fn prefix(line: &mut LineBuf) {
    // SAFETY: getpid has no arguments and cannot fail.
    let pid = unsafe { crate::sys::syscall6(libc::SYS_getpid, 0, 0, 0, 0, 0, 0) };
    let _ = write!(line, "opencoro: pid {pid} ({}): ", program());
}

/// The program's short name (glibc's `program_invocation_short_name`, at
/// most 64 bytes; "?" if it is not UTF-8). Async-signal-safe.
pub fn program() -> &'static str {
    extern "C" {
        static program_invocation_short_name: *const core::ffi::c_char;
    }
    // SAFETY: glibc sets it before any constructor runs: a C string (or
    // null) that lives as long as the process.
    let name = unsafe { program_invocation_short_name };
    if name.is_null() {
        return "";
    }
    // SAFETY: as above; read up to its NUL, at most 64 bytes.
    let bytes = unsafe { core::slice::from_raw_parts(name as *const u8, (0..64).find(|&i| *name.add(i) == 0).unwrap_or(64)) };
    core::str::from_utf8(bytes).unwrap_or("?")
}

/// Writes `opencoro: pid N (program): <args>\n` to stderr.
pub fn emit(args: fmt::Arguments<'_>) {
    let mut line = LineBuf::new();
    prefix(&mut line);
    let _ = line.write_fmt(args);
    if line.len == line.buf.len() {
        line.len -= 1;
    }
    let _ = line.write_str("\n");
    crate::sys::raw_write_all(2, line.as_bytes());
}

/// Whether `OPENCORO_LOG=debug` is on.
#[inline]
pub fn debug_enabled() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

/// Prints a diagnostic line: `opencoro: pid N (program): ...`.
#[macro_export]
macro_rules! diag {
    ($($arg:tt)*) => { $crate::log::emit(format_args!($($arg)*)) };
}

/// Prints a trace line when `OPENCORO_LOG=debug`.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::log::debug_enabled() {
            $crate::log::emit(format_args!("debug: {}", format_args!($($arg)*)))
        }
    };
}
