//! What depends on the processor. Only x86_64 Linux is supported: the
//! runtime relies on its system call ABI, its thread pointer (`%fs`) and
//! glibc's x86_64 layouts (`glibc/`).

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
compile_error!("opencoro runs on x86_64 Linux only (its assembly, signal contexts and glibc layouts are x86_64's)");

#[cfg(all(target_os = "linux", not(target_env = "gnu")))]
compile_error!("opencoro needs glibc (target_env = \"gnu\"): it interposes __libc_start_main and gives green threads glibc's own thread descriptors");

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod x86_64;
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
pub use x86_64::*;
