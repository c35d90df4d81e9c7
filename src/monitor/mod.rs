//! The monitor: one thread per process that watches what each worker runs
//! and since when (Go's sysmon), and preempts a coroutine that has run
//! longer than its slice by sending SIGURG to its worker (`signal::preempt`).
//!
//! Each worker publishes a `Watch` (`sched::watch`): a switch counter it
//! bumps at every resume and whether it is running a coroutine now. The
//! monitor samples them every quarter slice (sleeping meanwhile on the
//! pollers of busy workers: `watch_pollers`); a worker whose counter has
//! not moved for a whole slice while it runs a coroutine, and whose thread
//! the kernel reports running (not blocked in a system call: a signal
//! there could surface as an EINTR), gets a SIGURG. While no worker runs
//! anything the monitor sleeps until a worker wakes it, so an idle process
//! stays idle.

use std::sync::atomic::Ordering;

use crate::sched::watch::{watch_thread, Watch, MONITOR_IDLE, WAKE};
use crate::sched::Runtime;

/// How long a coroutine runs on at most while another one that was woken
/// (by a timer, a lock, an fd) waits for its worker, against a whole slice
/// while none does. The kernel's scheduler lets a woken thread preempt a
/// running one that is ahead of it by its wake-up granularity (1 ms at
/// base, `sched_wakeup_granularity_ns`) at once; the monitor only sees it
/// at its next tick (half of this), hence half the kernel's figure.
/// Without it a background thread that sleeps often waited a whole slice of
/// a busy one at each wake-up (`fair_share_sleeper`). A coroutine whose
/// timer is due does not wait even that long (see `run`), and the
/// monitor wakes at a busy worker's next timer: a 1 ms sleeper beside 4 busy
/// threads keeps ~0.9 of its native pace (`make bench-preempt`).
const WAKEUP_GRANULARITY_NS: u64 = 500_000;

/// Does a coroutine wait in worker `w`'s queues, or for the events its
/// poller holds (`fd_wakes_busy_worker`)? Best-effort: the queues are read
/// without a lock.
fn others_wait(rt: &Runtime, w: usize) -> bool {
    !rt.slot[w].stealer.is_empty()
        || !rt.slot[w].inbox.is_empty()
        || !rt.ready.is_empty()
        || rt.slot[w].watch.fds_ready.load(Ordering::Relaxed)
}

/// Worker `w`'s earliest deadline, if its timer heap is free to look at
/// (one the worker holds right now counts as none). A due one is flagged
/// for the worker to fire at its next switch: a busy worker whose
/// coroutines park and wake each other (a contended lock) switches often
/// but is never preempted, and its sleepers waited for the periodic check,
/// 61 switches apart (`fair_share_sleeper`).
fn next_timer(rt: &Runtime, w: usize, now: u64) -> Option<u64> {
    let next = rt.slot[w].timers.try_lock().ok().map(|h| h.next())?;
    if next <= now && !rt.slot[w].watch.timers_due.load(Ordering::Relaxed) {
        rt.slot[w].watch.timers_due.store(true, Ordering::Release);
    }
    Some(next)
}

/// The monitor sleeps at least this long between two looks (a due timer
/// of a busy worker brings the next look forward, down to this).
const MIN_TICK_NS: u64 = 20_000;

/// How long an idle monitor sleeps at most.
const IDLE_RECHECK_NS: u64 = 100_000_000;

/// Starts the monitor thread (without waiting for it).
pub fn start(rt: &'static Runtime) {
    let cfg = crate::config::get();
    if cfg.preempt {
        crate::signal::preempt::install();
    }
    spawn(rt);
}

/// In a forked child, on the child's runtime: the parent's monitor thread
/// is gone (the SIGURG handler stays installed).
pub fn restart_after_fork(rt: &'static Runtime) {
    MONITOR_IDLE.store(false, Ordering::Relaxed);
    spawn(rt);
}

fn spawn(rt: &'static Runtime) {
    if !crate::config::get().preempt && rt.slots() == rt.workers() {
        return; // nothing to watch for
    }
    if let Err(e) = crate::sched::start_thread("opencoro-mon".into(), 128 * 1024, move || run(rt)) {
        crate::diag!("cannot start the monitor thread ({e}); coroutines will not be preempted");
    }
}

fn run(rt: &'static Runtime) {
    crate::sched::worker::block_async_signals();
    let cfg = crate::config::get();
    let slice = cfg.slice_ms * 1_000_000;
    let handoff = cfg.handoff_ms * 1_000_000;
    let preempting = crate::signal::preempt::active();
    let mut tick = (slice.min(handoff) / 4).max(250_000);
    if preempting {
        tick = tick.min(WAKEUP_GRANULARITY_NS / 2);
    }
    let n = rt.slot.len();
    // Per worker: the switch count last seen and when it was first seen.
    let mut seen: Vec<(u64, u64)> = vec![(u64::MAX, 0); n];
    let pid = std::process::id() as usize;
    let mut idle_ticks = 0u32;
    let mut pollfds = Vec::with_capacity(n);
    loop {
        let now = crate::sys::now_ns();
        let mut busy = false;
        // The next tick, or sooner the earliest timer of a busy worker.
        let mut wake_at = now + tick;
        for (i, w) in rt.slot.iter().map(|s| &s.watch).enumerate() {
            if !w.running.load(Ordering::Relaxed) {
                seen[i] = (u64::MAX, 0);
                continue;
            }
            busy = true;
            let sw = w.switches.load(Ordering::Relaxed);
            let next = next_timer(rt, i, now);
            if let Some(d) = next.filter(|&d| d > now) {
                // (One already due is the tick's business: no faster retries.)
                wake_at = wake_at.min(d);
            }
            // A coroutine that slept waits for this worker: its timer is
            // due, or it woke and waits in line, or it is `main` with a
            // signal to run.
            let sleeper = preempting
                && (next.is_some_and(|d| d <= now) || !rt.slot[i].woken.is_empty() || crate::sched::main_signal_waits() == Some(i));
            if seen[i].0 != sw {
                seen[i] = (sw, now);
                if !sleeper {
                    continue;
                }
            }
            let ran = now - seen[i].1;
            // A coroutine woken meanwhile waits for this worker: its running
            // coroutine has had its turn after the wake-up granularity.
            let limit = if !preempting {
                slice
            } else if sleeper {
                // A sleeper woke: at once, as the kernel lets a thread
                // that slept preempt a busy one (a 1 ms ticker beside busy
                // threads kept ~65% of its native pace with the granularity).
                0
            } else if ran >= WAKEUP_GRANULARITY_NS && others_wait(rt, i) {
                WAKEUP_GRANULARITY_NS.min(slice)
            } else {
                slice
            };
            if ran < limit.min(handoff) || !crate::sched::worker::has_company() {
                continue;
            }
            let tid = w.tid.load(Ordering::Relaxed);
            if tid <= 0 {
                continue;
            }
            if thread_running(w, tid) {
                // One SIGURG at a time: a second one sent before the handler
                // took the mark of the first would find no mark and go to
                // the program's own SIGURG handler (likelier since the tick
                // is 0.25 ms; preempt_program_sigurg saw 5 of 4).
                if preempting && ran >= limit && !w.preempt_sent.swap(true, Ordering::AcqRel) {
                    // SAFETY: tgkill to a worker thread of this process.
                    unsafe { crate::sys::syscall6(libc::SYS_tgkill, pid, tid as usize, libc::SIGURG as usize, 0, 0, 0) };
                }
            } else if ran >= handoff && !w.blocked.load(Ordering::Relaxed) {
                hand_off(rt, i);
            }
        }
        if busy {
            idle_ticks = 0;
        } else {
            idle_ticks += 1;
        }
        if idle_ticks >= 4 {
            // Nothing ran for two slices: sleep until a worker starts a run.
            let seq = WAKE.load(Ordering::Acquire);
            MONITOR_IDLE.store(true, Ordering::SeqCst);
            if !rt.slot.iter().any(|s| s.watch.running.load(Ordering::SeqCst)) {
                // Workers check the flag without a fence (it is on every
                // switch): a run that starts in that window is seen at the
                // latest after this timeout.
                crate::sys::futex_wait(WAKE.as_ptr(), seq, crate::sys::now_ns() + IDLE_RECHECK_NS);
            }
            MONITOR_IDLE.store(false, Ordering::Relaxed);
            idle_ticks = 0;
            continue;
        }
        watch_pollers(rt, wake_at.max(crate::sys::now_ns() + MIN_TICK_NS), &mut pollfds);
    }
}

/// Sleeps until `wake_at`, or until events arrive in the poller of a busy
/// worker, which is then told to take them at its next switch
/// (`Watch::fds_ready`). A busy worker otherwise looks at its poller only
/// every `FAIRNESS_TICKS` switches, and a coroutine woken by an fd waited
/// behind whatever ran meanwhile: a server thread accepting with a small
/// listen backlog beside 50 connecting threads took its connections so late
/// that the kernel dropped handshakes and the clients waited for
/// retransmissions (1-14 s for what takes 1-3 s natively; a `poll` every
/// 250 us was not enough, every 50 us was). The kernel wakes the monitor
/// within microseconds, and a worker's switch costs one more flag load. The
/// poller of a worker asleep in it is not watched, nor one already told
/// (its events stay until it takes them).
fn watch_pollers(rt: &Runtime, wake_at: u64, fds: &mut Vec<libc::pollfd>) {
    fds.clear();
    for (i, s) in rt.slot.iter().enumerate() {
        let w = &s.watch;
        let fd = match rt.poller_made(i) {
            Some(p) if !w.asleep.load(Ordering::Relaxed) && !w.fds_ready.load(Ordering::Acquire) => p.fd(),
            _ => -1,
        };
        fds.push(libc::pollfd { fd, events: libc::POLLIN, revents: 0 });
    }
    let left = wake_at.saturating_sub(crate::sys::now_ns());
    let ts = libc::timespec { tv_sec: (left / 1_000_000_000) as i64, tv_nsec: (left % 1_000_000_000) as i64 };
    // SAFETY: a raw ppoll (never our hook) on a valid array and timespec,
    // without a signal mask.
    let n = unsafe { crate::sys::syscall6(libc::SYS_ppoll, fds.as_mut_ptr() as usize, fds.len(), &ts as *const _ as usize, 0, 8, 0) };
    if n <= 0 {
        return;
    }
    for (i, p) in fds.iter().enumerate() {
        if p.revents & libc::POLLIN != 0 {
            rt.slot[i].watch.fds_ready.store(true, Ordering::Release);
        }
    }
}

/// Worker (or spare) `w` has sat in one call for the hand-off time: mark
/// it blocked and make sure one spare that is not blocked itself stands in
/// for the blocked ones (their queues, timers and pollers). With every
/// spare started and blocked, their coroutines wait (OPENCORO_MAX_THREADS).
fn hand_off(rt: &'static Runtime, w: usize) {
    rt.slot[w].watch.blocked.store(true, Ordering::Release);
    crate::stats::bump(&rt.slot[w].stats.handoffs);
    let spares = rt.workers()..rt.slots();
    if spares.clone().any(|s| rt.slot[s].watch.active.load(Ordering::Acquire) && !rt.slot[s].watch.blocked.load(Ordering::Acquire)) {
        // One already stands in; it picks up this one too.
        return;
    }
    for s in spares {
        let sw = &rt.slot[s].watch;
        if sw.active.swap(true, Ordering::AcqRel) {
            continue;
        }
        crate::debug!("monitor: worker {w} is blocked in a call; spare {s} stands in");
        if sw.tid.load(Ordering::Relaxed) == 0 && !rt.start_spare(s) {
            sw.active.store(false, Ordering::Release);
            return;
        }
        rt.notify(s);
        return;
    }
    crate::debug!("monitor: worker {w} is blocked and every spare is busy");
}

/// Is the kernel running worker `w`'s thread (state R), rather than
/// blocking it in a system call? Reads its `/proc` stat file through an fd
/// kept open among the runtime's, high up: opening the file at every look
/// took the lowest free fd number for a moment, at any time, and a program
/// that closed an fd and expected its next open (or eventfd, or dup) to
/// get that number got another (`fd_lowest_free`; `io_fd_reuse` failed 1
/// run in ~30).
fn thread_running(w: &Watch, tid: i32) -> bool {
    // (Opened here only for a thread whose own start did not open it.)
    watch_thread(w, tid);
    let fd = w.stat_fd.load(Ordering::Acquire);
    if fd <= 0 {
        return false;
    }
    let mut buf = [0u8; 512];
    // SAFETY: pread into our own buffer from our own fd.
    let n = unsafe { crate::sys::syscall6(libc::SYS_pread64, fd as usize, buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0) };
    let Ok(n) = usize::try_from(n) else { return false };
    // "pid (comm) S ...": the state follows the last ')'.
    let s = &buf[..n];
    s.iter().rposition(|&b| b == b')').and_then(|i| s[i + 1..].iter().find(|b| !b.is_ascii_whitespace())) == Some(&b'R')
}
