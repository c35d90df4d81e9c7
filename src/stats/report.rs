//! Reading the statistics: the C API's records (`opencoro_stats`) and the
//! report printed at exit (`OPENCORO_STATS=1`). Above the runtime (it reads
//! the worker slots), where the counters themselves (`stats`) sit below it.

use std::sync::atomic::{AtomicU64, Ordering};

/// The C API's per-worker record (`opencoro_worker_stats` in opencoro.h).
#[repr(C)]
#[derive(Default, Clone, Copy, Debug)]
pub struct CWorkerStats {
    pub coroutines_run: u64,
    pub switches: u64,
    pub steals: u64,
    pub preemptions: u64,
    pub handoffs: u64,
    pub reactor_waits: u64,
    pub timers_fired: u64,
}

/// The C API's process-wide record (`opencoro_stats` in opencoro.h).
#[repr(C)]
#[derive(Default, Clone, Copy, Debug)]
pub struct CTotals {
    pub workers: u64,
    pub slots: u64,
    pub live_coroutines: u64,
    pub peak_live_coroutines: u64,
    pub stack_bytes: u64,
    pub peak_stack_bytes: u64,
}

/// Slot `i`'s counters now (zeros before the runtime starts).
pub fn worker(i: usize) -> CWorkerStats {
    let Some(rt) = crate::sched::try_runtime() else { return CWorkerStats::default() };
    let (Some(s), Some(w)) = (rt.slot.get(i).map(|s| &s.stats), rt.slot.get(i).map(|s| &s.watch)) else { return CWorkerStats::default() };
    let r = |c: &AtomicU64| c.load(Ordering::Relaxed);
    CWorkerStats {
        coroutines_run: r(&s.started),
        switches: r(&w.switches),
        steals: r(&s.steals),
        preemptions: r(&s.preemptions),
        handoffs: r(&s.handoffs),
        reactor_waits: r(&s.reactor_waits),
        timers_fired: r(&s.timers_fired),
    }
}

/// The process-wide figures now.
pub fn totals() -> CTotals {
    let rt = crate::sched::try_runtime();
    let (peak_live, stack_bytes, peak_stack_bytes) = super::process_figures();
    CTotals {
        workers: rt.map_or(0, |r| r.workers()) as u64,
        slots: rt.map_or(0, |r| r.slots()) as u64,
        live_coroutines: crate::coro::live() as u64,
        peak_live_coroutines: peak_live as u64,
        stack_bytes: stack_bytes as u64,
        peak_stack_bytes: peak_stack_bytes as u64,
    }
}

/// `OPENCORO_STATS=1`: prints the figures when the process exits.
pub(crate) fn print_at_exit() {
    extern "C" fn at_exit() {
        print();
    }
    // SAFETY: registers a plain function.
    unsafe { libc::atexit(at_exit) };
}

fn print() {
    if crate::sched::try_runtime().is_none() {
        return; // nothing ran on the runtime
    }
    let t = totals();
    crate::log::emit(format_args!(
        "stats: {} workers; coroutines live {}, peak {}; stack memory reserved {} KiB, peak {} KiB",
        t.workers,
        t.live_coroutines,
        t.peak_live_coroutines,
        t.stack_bytes / 1024,
        t.peak_stack_bytes / 1024
    ));
    for i in 0..t.slots as usize {
        let w = worker(i);
        if i >= t.workers as usize && w.switches == 0 {
            continue; // a spare never used
        }
        let kind = if i < t.workers as usize { "worker" } else { "spare" };
        crate::log::emit(format_args!(
            "stats: {kind} {i}: coroutines run {}, switches {}, steals {}, preemptions {}, hand-offs {}, reactor waits {}, timers fired {}",
            w.coroutines_run, w.switches, w.steals, w.preemptions, w.handoffs, w.reactor_waits, w.timers_fired
        ));
    }
}

