//! What the runtime relies on of glibc's private layout, in one place, each
//! part checked against the running process at start-up (green threads are
//! off when a check fails):
//!
//! - [`tls`]: `struct pthread` and static TLS (a descriptor and TLS block
//!   for each green thread, light ones for C API coroutines), learned from
//!   glibc's debugger descriptors; the runtime's own thread slots, whose
//!   copies every descriptor carries; the thread ids handed to green threads.
//! - [`setxid`]: `setuid` and friends, glibc's SIGSETXID round over every
//!   descriptor it knows.
//!
//! The pthread objects' layouts (mutex, condition variable, rwlock, once)
//! are read in `sync::pthread`.

pub mod setxid;
pub mod tls;
