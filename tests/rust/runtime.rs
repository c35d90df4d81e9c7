//! The runtime's own parts driven through the Rust API, in a process where the
//! library was not preloaded (like `dlopen`): workers are plain threads, the
//! test thread is a plain thread spawning and joining coroutines.
//!
//! Built without the `preload` feature, so the test harness's own libc calls
//! are not interposed. Every test is bounded: a watchdog aborts the process
//! if the whole file runs for more than 60 s.

extern crate opencoro_runtime as opencoro;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use opencoro::coro::{self, stack};
use opencoro::sched;

fn watchdog() {
    static W: Once = Once::new();
    W.call_once(|| {
        std::thread::spawn(|| {
            std::thread::sleep(Duration::from_secs(60));
            eprintln!("runtime tests: watchdog fired (a test hangs)");
            std::process::abort();
        });
    });
}

fn spawn(f: impl FnOnce() -> usize + Send + 'static) -> Arc<coro::Task> {
    watchdog();
    sched::spawn(Box::new(f), 0)
}

#[test]
fn spawn_and_join_from_a_plain_thread() {
    let t = spawn(|| 42);
    assert_eq!(t.join(), Ok(42));
    assert_eq!(t.join(), Err(libc::EINVAL), "a second join is refused");
}

#[test]
fn every_coroutine_runs_exactly_once() {
    const N: usize = 20_000;
    let seen: Arc<Vec<AtomicUsize>> = Arc::new((0..N).map(|_| AtomicUsize::new(0)).collect());
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let seen = seen.clone();
            spawn(move || {
                seen[i].fetch_add(1, Ordering::Relaxed);
                coro::yield_now();
                i
            })
        })
        .collect();
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.join(), Ok(i));
    }
    assert!(seen.iter().all(|c| c.load(Ordering::Relaxed) == 1));
}

#[test]
fn coroutines_join_coroutines() {
    let outer = spawn(|| {
        let inner: Vec<_> = (0..100).map(|i| sched::spawn(Box::new(move || i * 2), 0)).collect();
        inner.into_iter().map(|t| t.join().unwrap()).sum()
    });
    assert_eq!(outer.join(), Ok((0..100).map(|i| i * 2).sum()));
}

#[test]
fn sleeps_end_in_deadline_order_and_not_early() {
    let order = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let tasks: Vec<_> = [50u64, 10, 30, 20, 40]
        .into_iter()
        .map(|ms| {
            let order = order.clone();
            spawn(move || {
                let t0 = Instant::now();
                coro::sleep_until(opencoro::sys::now_ns() + ms * 1_000_000);
                assert!(t0.elapsed() >= Duration::from_millis(ms), "woke early");
                order.lock().unwrap().push(ms);
                0
            })
        })
        .collect();
    for t in tasks {
        t.join().unwrap();
    }
    assert_eq!(*order.lock().unwrap(), vec![10, 20, 30, 40, 50]);
    assert!(start.elapsed() >= Duration::from_millis(50));
}

#[test]
fn many_pending_timers_all_fire() {
    const N: usize = 20_000;
    let done = Arc::new(AtomicUsize::new(0));
    let base = opencoro::sys::now_ns();
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let done = done.clone();
            spawn(move || {
                coro::sleep_until(base + 1_000_000 + (i as u64 % 97) * 100_000);
                done.fetch_add(1, Ordering::Relaxed);
                0
            })
        })
        .collect();
    for t in tasks {
        t.join().unwrap();
    }
    assert_eq!(done.load(Ordering::Relaxed), N);
}

#[test]
fn stack_pool_reuses_stacks() {
    let p = stack::Pool::new(Some(4));
    let a = p.take(64 * 1024).unwrap();
    let (bottom, guarded) = (a.bottom(), a.guarded());
    assert!(guarded, "within the guard budget stacks are guarded");
    p.give(a);
    let b = p.take(64 * 1024).unwrap();
    assert_eq!(b.bottom(), bottom, "the warm stack is handed out again");
}

#[test]
fn stack_pool_carves_unguarded_stacks_past_the_budget() {
    let p = stack::Pool::new(Some(2));
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(p.take(32 * 1024).unwrap());
    }
    assert!(held.iter().all(|s| s.guarded()));
    assert_eq!(p.guarded_live(), 2);
    let c = p.take(32 * 1024).unwrap();
    assert!(!c.guarded(), "past the budget stacks are carved");
    assert!(stack::canary_intact(c.bottom()), "a fresh canary is intact");
    assert_eq!(p.guarded_live(), 2);
}

#[test]
fn carved_stack_overflow_damages_the_canary() {
    let p = stack::Pool::new(Some(0));
    let s = p.take(32 * 1024).unwrap();
    assert!(stack::canary_intact(s.bottom()));
    // SAFETY: the canary lies just below the stack, inside the pool's mapping.
    unsafe { ((s.bottom() - 8) as *mut u64).write_volatile(0xdead) };
    assert!(!stack::canary_intact(s.bottom()));
}

/// A read that returns less than it asked for asks whether the fd is a
/// regular file (which reads short only at its end). The answer is kept
/// in the fd's entry while the fd is one whose creation the reactor saw:
/// on a socket that question was one `fstat` per read. Shown here by an
/// fd number that a raw `dup2` (which the reactor cannot see) turns from a
/// file into a pipe: the kept answer stands until the reactor hears of a
/// new fd of that number; an fd of unknown origin is asked every time.
/// An fd created in a chunk of the fd table that no fd had used yet (the
/// 1,025th connection of a server) is trusted like any other: before, its
/// kind was asked with an `fstat` at every short read, for life.
#[test]
fn fd_kind_is_kept_in_a_new_chunk() {
    use opencoro::reactor;
    const HIGH: i32 = 2100;
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: a valid out-pointer.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    if lim.rlim_max <= HIGH as libc::rlim_t {
        eprintln!("fd_kind_is_kept_in_a_new_chunk: skipped (RLIMIT_NOFILE hard limit {})", lim.rlim_max);
        return;
    }
    lim.rlim_cur = lim.rlim_cur.max(HIGH as libc::rlim_t + 1);
    // SAFETY: a valid rlimit, within the hard limit.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
    let file = std::fs::File::open("/proc/self/exe").unwrap();
    let mut p = [0; 2];
    // SAFETY: a valid array for the two fds.
    assert_eq!(unsafe { libc::pipe(p.as_mut_ptr()) }, 0);
    let raw_dup2 = |from: i32, to: i32| {
        // SAFETY: the fds are this test's own (HIGH is far above any other test's).
        assert_eq!(unsafe { libc::syscall(libc::SYS_dup2, from, to) }, to as libc::c_long);
    };
    // The table exists (an entry of a low fd).
    assert!(!reactor::is_file(p[0]));
    raw_dup2(std::os::fd::AsRawFd::as_raw_fd(&file), HIGH);
    reactor::created(HIGH);
    assert!(reactor::is_file(HIGH), "a regular file");
    raw_dup2(p[0], HIGH);
    assert!(reactor::is_file(HIGH), "kept: a created fd of a new chunk is trusted");
    // SAFETY: the test's own fds.
    unsafe {
        libc::close(HIGH);
        libc::close(p[0]);
        libc::close(p[1]);
    }
}

#[test]
fn fd_kind_is_kept_for_known_fds() {
    use opencoro::reactor;
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open("/proc/self/exe").unwrap();
    let fd = file.as_raw_fd();
    let mut p = [0; 2];
    // SAFETY: a valid array for the two fds.
    assert_eq!(unsafe { libc::pipe(p.as_mut_ptr()) }, 0);
    let raw_dup2 = |from: i32, to: i32| {
        // SAFETY: both fds are this test's own.
        assert_eq!(unsafe { libc::syscall(libc::SYS_dup2, from, to) }, to as libc::c_long);
    };
    let file2 = std::fs::File::open("/proc/self/exe").unwrap();
    assert!(reactor::is_file(fd), "a regular file (its entry exists from here)");
    reactor::created(fd);
    assert!(reactor::is_file(fd), "a regular file");
    raw_dup2(p[0], fd);
    assert!(reactor::is_file(fd), "kept: no fstat for a known fd");
    reactor::created(fd);
    assert!(!reactor::is_file(fd), "a new fd of that number is asked again");
    // Of unknown origin (its close was not seen): asked every time.
    reactor::closed(fd);
    raw_dup2(file2.as_raw_fd(), fd);
    assert!(reactor::is_file(fd));
    raw_dup2(p[1], fd);
    assert!(!reactor::is_file(fd));
    // SAFETY: the pipe's fds are this test's own.
    unsafe {
        libc::close(p[0]);
        libc::close(p[1]);
    }
}
