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
    let cfg = crate::config::get();
    CTotals {
        // Before the process has company there is no runtime yet: the
        // configured counts, with nothing run on them.
        workers: rt.map_or(cfg.workers, |r| r.workers()) as u64,
        slots: rt.map_or(cfg.max_threads, |r| r.slots()) as u64,
        live_coroutines: crate::coro::live() as u64,
        peak_live_coroutines: peak_live as u64,
        stack_bytes: stack_bytes as u64,
        peak_stack_bytes: peak_stack_bytes as u64,
    }
}

/// Where the reports go: a private duplicate of stderr made at start-up
/// (coreutils and many programs close stderr before they exit, and the
/// report at exit then went nowhere), or stderr itself.
static OUT: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(2);

/// `OPENCORO_STATS`: reports at exit, and every `stats_every_ms` if set
/// (from a thread of its own, `opencoro-stats`). Called by the library's
/// constructor, before the hooks serve (so the thread is a plain one).
pub(crate) fn start(cfg: &crate::config::Config) {
    // SAFETY: F_DUPFD_CLOEXEC of stderr; the copy is moved up among the
    // runtime's own fds, which the program's close cannot take.
    let dup = unsafe { crate::sys::syscall6(libc::SYS_fcntl, 2, libc::F_DUPFD_CLOEXEC as usize, 3, 0, 0, 0) };
    if dup >= 0 {
        if let Ok(fd) = crate::reactor::poller::place_high(dup as i32) {
            OUT.store(fd, Ordering::Relaxed);
        }
    }
    extern "C" fn at_exit() {
        print();
    }
    // SAFETY: registers a plain function.
    unsafe { libc::atexit(at_exit) };
    let every = cfg.stats_every_ms;
    if every > 0 {
        let spawned = std::thread::Builder::new().name("opencoro-stats".into()).spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_millis(every));
            print();
        });
        if spawned.is_err() {
            crate::diag!("cannot start the thread for OPENCORO_STATS={every}ms; the statistics come at exit only");
        }
    }
}

/// Where reports and dumps go (see `OUT`).
pub(crate) fn out_fd() -> i32 {
    OUT.load(Ordering::Relaxed)
}

/// One line to the report's fd.
fn line(text: &str) {
    let mut s = String::with_capacity(text.len() + 1);
    s.push_str(text);
    s.push('\n');
    crate::sys::raw_write_all(OUT.load(Ordering::Relaxed), s.as_bytes());
}

/// A JSON string literal.
fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn print() {
    let t = totals();
    let pid = std::process::id();
    let prog = crate::log::program();
    let slots: Vec<(usize, CWorkerStats)> =
        (0..t.slots as usize).map(|i| (i, worker(i))).filter(|(i, w)| *i < t.workers as usize || w.switches != 0).collect();
    if crate::config::get().stats_json {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        let per: Vec<String> = slots
            .iter()
            .map(|(i, w)| {
                format!(
                    "{{\"slot\":{i},\"kind\":\"{}\",\"coroutines_run\":{},\"switches\":{},\"steals\":{},\"preemptions\":{},\"handoffs\":{},\"reactor_waits\":{},\"timers_fired\":{}}}",
                    if *i < t.workers as usize { "worker" } else { "spare" },
                    w.coroutines_run, w.switches, w.steals, w.preemptions, w.handoffs, w.reactor_waits, w.timers_fired
                )
            })
            .collect();
        line(&format!(
            "{{\"pid\":{pid},\"program\":{},\"time\":{now:.3},\"workers\":{},\"live_coroutines\":{},\"peak_live_coroutines\":{},\"stack_bytes\":{},\"peak_stack_bytes\":{},\"blocking_pool_calls\":{},\"slots\":[{}]}}",
            json_str(prog),
            t.workers,
            t.live_coroutines,
            t.peak_live_coroutines,
            t.stack_bytes,
            t.peak_stack_bytes,
            super::blocking_calls(),
            per.join(",")
        ));
        return;
    }
    line(&format!(
        "opencoro: stats: pid {pid} ({prog}): {} workers; coroutines live {}, peak {}; stack memory reserved {} KiB, peak {} KiB; calls sent to the blocking pool {}",
        t.workers,
        t.live_coroutines,
        t.peak_live_coroutines,
        t.stack_bytes / 1024,
        t.peak_stack_bytes / 1024,
        super::blocking_calls()
    ));
    for (i, w) in slots {
        let kind = if i < t.workers as usize { "worker" } else { "spare" };
        line(&format!(
            "opencoro: stats: pid {pid}: {kind} {i}: coroutines run {}, switches {}, steals {}, preemptions {}, hand-offs {}, reactor waits {}, timers fired {}",
            w.coroutines_run, w.switches, w.steals, w.preemptions, w.handoffs, w.reactor_waits, w.timers_fired
        ));
    }
}
