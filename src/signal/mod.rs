//! Signals: the one home of the runtime's signal handling.
//!
//! - [`program`]: the program's handlers. `sigaction` records them and
//!   installs a trampoline in their place; the trampoline runs a handler on
//!   the thread it came to, forwards a signal sent to the process to `main`
//!   (async-signal-safe: atomics and an eventfd write; the worker loop
//!   makes `main` runnable, see `sched::take_main_signal`), defers one that
//!   lands inside a hook until the hook ends, and lets synchronous faults
//!   run at once on the thread that faulted.
//! - [`preempt`]: SIGURG, the monitor's preemption signal: its handler
//!   suspends the interrupted coroutine at a safe point, restarts a system
//!   call it cut short, and passes other SIGURGs to the program's handler.
//! - [`overflow`]: SIGSEGV and SIGBUS on a coroutine's guard page: the
//!   one-line stack-overflow report; other faults go to the handler the
//!   program had installed before.
//! - [`wait`]: `sigwait` and its siblings on a coroutine (a `signalfd` on
//!   the reactor).
//! - [`state`]: what the coroutine core must know of the above (restarting
//!   handlers, preemption on), kept below it.
//!
//! Elsewhere, each next to the state it works on: the hooks themselves
//! (`hooks::signal`: `sigaction`, `signal`, `sigsuspend`; `hooks::sigwait`;
//! `hooks::thread`: `pthread_sigmask`, `pthread_kill`), the signals held for
//! a green thread and its mask (`coro::Task`: `post_signal`,
//! `deliver_pending`), and `main`'s forwarding flags in the scheduler
//! (`sched::wake_main_from_signal`).

pub mod overflow;
pub mod preempt;
pub mod program;
pub mod state;
pub mod wait;
