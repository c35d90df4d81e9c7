//! A small pool of plain threads that run calls epoll cannot make
//! non-blocking (regular-file reads that miss the page cache, `fsync`,
//! `open`) while the calling coroutine suspends, so the other coroutines of
//! its worker keep running. errno travels back with the result.
//!
//! Owner: this module. A call never waits for a busy thread while fewer
//! than `OPENCORO_BLOCKING_THREADS` exist: calls may depend on each other
//! (an `open` of a FIFO for writing waits for the `open` for reading), so a
//! small fixed pool could deadlock where threads would not. Idle threads
//! leave after `IDLE_EXIT`. They are plain threads: our hooks call straight
//! through on them. At the bound, calls queue until a thread is free.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use crate::coro::{self, Request, Task};

/// A call handed to the pool. Lives on the suspended coroutine's stack.
struct Job {
    call: *mut (dyn FnMut() -> isize + Send),
    result: isize,
    errno: i32,
    task: Arc<Task>,
    done: AtomicBool,
}

struct JobPtr(*mut Job);
// SAFETY: the job is only touched by the one pool thread that took it, until
// `done` is set; the coroutine that owns it waits for that.
unsafe impl Send for JobPtr {}

/// How long an idle pool thread waits for work before it exits.
const IDLE_EXIT: std::time::Duration = std::time::Duration::from_secs(10);

struct Pool {
    queue: Mutex<(VecDeque<JobPtr>, usize /* idle threads */, usize /* threads */)>,
    cv: Condvar,
    max: usize,
}

static POOL: crate::sync::PerProcess<Pool> = crate::sync::PerProcess::new();

/// In a forked child: the pool's threads are gone and its queue holds
/// calls of the parent's coroutines.
pub(crate) fn forget_after_fork() {
    POOL.renew(None);
}

fn pool() -> &'static Pool {
    POOL.get_or_init(|| Pool {
        queue: Mutex::new((VecDeque::new(), 0, 0)),
        cv: Condvar::new(),
        max: crate::config::get().blocking_threads,
    })
}

/// Runs `call` on a pool thread while the calling coroutine suspends;
/// returns its result with errno set as the call left it. Must be called on
/// a coroutine.
pub fn run(call: &mut (dyn FnMut() -> isize + Send)) -> isize {
    let Some(task) = coro::current_task() else { return call() };
    crate::stats::blocking_call();
    crate::stats::emit(crate::stats::Event::Blocking, Arc::as_ptr(&task).cast());
    // SAFETY: erases the borrow's lifetime; the job (and so the pointer) is
    // used only until `done`, and we do not return before that.
    let call: *mut (dyn FnMut() -> isize + Send) = unsafe { std::mem::transmute(call) };
    let mut job = Job { call, result: -1, errno: 0, task, done: AtomicBool::new(false) };
    let p = pool();
    {
        let mut q = p.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.0.push_back(JobPtr(&mut job));
        // Idle threads are counted until they take a job: spawn when fewer
        // idle threads than queued jobs remain.
        if q.1 < q.0.len() && q.2 < p.max {
            q.2 += 1;
            let n = q.2;
            drop(q);
            if crate::sched::start_thread(format!("opencoro-io{n}"), 256 * 1024, move || serve(pool())).is_err() {
                p.queue.lock().unwrap_or_else(|e| e.into_inner()).2 -= 1;
            }
        } else {
            drop(q);
        }
    }
    p.cv.notify_one();
    // Acquire pairs with the Release store in `serve`: result and errno are
    // visible once done is.
    while !job.done.load(Ordering::Acquire) {
        coro::waits_for(coro::debug::WaitKind::Pool, 0);
        coro::suspend(Request::Park);
    }
    crate::sys::set_errno(job.errno);
    job.result
}

fn serve(p: &'static Pool) {
    crate::sched::worker::block_async_signals();
    loop {
        let job = {
            let mut q = p.queue.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if let Some(j) = q.0.pop_front() {
                    break j;
                }
                q.1 += 1;
                let (g, t) = p.cv.wait_timeout(q, IDLE_EXIT).unwrap_or_else(|e| e.into_inner());
                q = g;
                q.1 -= 1;
                if t.timed_out() && q.0.is_empty() {
                    q.2 -= 1;
                    return;
                }
            }
        };
        // SAFETY: the job stays alive until we set `done` (see `run`).
        let job = unsafe { &mut *job.0 };
        crate::sys::set_errno(0);
        // SAFETY: the call's borrow is alive while its coroutine waits.
        job.result = unsafe { (*job.call)() };
        job.errno = crate::sys::errno();
        let task = job.task.clone();
        // After this store the coroutine may return and free the job: touch
        // it no more.
        job.done.store(true, Ordering::Release);
        coro::unpark(&task);
    }
}
