//! Diagnostics on stderr with the fixed `opencoro:` prefix.
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

/// Writes `opencoro: <args>\n` to stderr.
pub fn emit(args: fmt::Arguments<'_>) {
    let mut line = LineBuf::new();
    let _ = line.write_str("opencoro: ");
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

/// Prints a diagnostic line: `opencoro: ...`.
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
