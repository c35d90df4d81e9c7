//! opencoro: runs unmodified Linux programs on stackful coroutines.
//!
//! `LD_PRELOAD=libopencoro.so ./app` makes the program's `main` the first
//! coroutine and turns its blocking calls into suspensions of that coroutine
//! only. See `DESIGN` in the README for the parts:
//!
//! - [`config`]: `OPENCORO_*` switches, read once.
//! - [`coro`]: tasks, stacks, overflow detection, suspend points.
//! - [`green`]: green threads (`pthread_create`), each with its own glibc
//!   descriptor and TLS.
//! - [`monitor`]: the monitor thread and SIGURG preemption.
//! - [`sync`]: the parking lot behind the futex and pthread lock hooks.
//! - [`sched`]: workers, queues, stealing, idle/park protocol.
//! - [`timer`]: deadlines for sleeps and I/O timeouts.
//! - [`fork`]: the forked child's own runtime.
//! - [`reactor`]: fd readiness (per-worker epoll pollers) and the fd table.
//! - [`io`]: the shared loop that turns a blocking call into a suspension.
//! - [`blocking`]: the thread pool for calls epoll cannot make non-blocking.
//! - [`hooks`]: interposed libc symbols, one table per family.
//! - [`capi`]: the C API of `opencoro.h`.
//! - [`front`]: what the front library (`libopencoro.so`, which loads this
//!   runtime at the process's first company) tells the runtime.
//! - [`stats`]: counters (`OPENCORO_STATS`) and the C API's listener.
//! - [`sys`], [`log`]: raw system calls and diagnostics that never re-enter
//!   our own hooks.

pub mod log;
pub mod arch;

pub mod capi;
pub mod config;
pub mod coro;
pub mod fork;
pub mod front;
mod foreign;
pub mod glibc;
pub mod green;
pub mod hooks;
pub mod monitor;
mod preload_env;
pub mod reactor;
pub mod sched;
pub mod signal;
pub mod stats;
pub mod sync;
pub mod sys;

/// Library constructor: wires the layers (the scheduler is handed the
/// monitor and the reactor's dispatch, which sit above it), reads the
/// configuration, registers the fork handler, and only then turns the
/// hooks on. Starts no thread and waits for none, so it is safe under the
/// loader lock when the library is `dlopen`ed.
#[ctor::ctor(unsafe)]
fn opencoro_init() {
    // The layers above the scheduler that it starts (it imports none).
    sched::set_monitor(sched::Monitor { start: monitor::start, restart_after_fork: monitor::restart_after_fork });
    sched::set_dispatch(reactor::dispatch);
    let cfg = config::init();
    if !cfg.inherit {
        preload_env::remove(None);
    }
    let old_glibc = cfg.enabled && !glibc_supported();
    let go = cfg.enabled && !old_glibc && foreign::go_program();
    if go {
        diag!("this is a Go program: Go runs its own threads and signals (SIGURG), so opencoro stays out of the way, as with OPENCORO=0");
    }
    let on = cfg.enabled && !go && !old_glibc;
    // Their threads are started now, before the hooks serve: plain threads.
    if on && cfg.dump_signal != 0 {
        stats::dump::install(cfg.dump_signal);
    }
    if on && cfg.stats {
        stats::report::start(cfg);
    }
    // The hooks start serving only now, with the layers wired above.
    config::set_active(on);
    // SAFETY: registering a plain function; it only stores to an atomic.
    unsafe { libc::pthread_atfork(None, None, Some(fork::after_fork_child)) };
}

/// glibc 2.34 or newer (pthreads inside libc, which the hooks' `dlsym`
/// relies on); older ones get one line and the runtime stays off.
fn glibc_supported() -> bool {
    // SAFETY: gnu_get_libc_version returns a static C string.
    let v = unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) }.to_string_lossy();
    let mut n = v.split('.').map(|x| x.parse::<u32>().unwrap_or(0));
    let (major, minor) = (n.next().unwrap_or(0), n.next().unwrap_or(0));
    let ok = (major, minor) >= (2, 34);
    if !ok {
        diag!("glibc {v} is older than 2.34, which opencoro needs; the runtime stays off (as with OPENCORO=0)");
    }
    ok
}
