//! The reactor: fd readiness turned into coroutine wake-ups.
//!
//! ## How a blocking call becomes a suspension
//!
//! The hooks never change an fd's flags. They make each *call* non-blocking
//! (`preadv2`/`pwritev2` with `RWF_NOWAIT`, `MSG_DONTWAIT` for the socket
//! calls) so that an fd shared with another process (a shell's pipe, an
//! inherited socket) keeps its blocking mode for everyone else, and
//! `F_GETFL` needs no lie. When such a call says EAGAIN and the program did
//! not ask for non-blocking I/O itself, the coroutine waits here:
//!
//! 1. Before the attempt the hook takes a [`Token`]: the fd's generation and
//!    its readiness sequence number for the direction it needs.
//! 2. The attempt fails with EAGAIN.
//! 3. [`wait`] locks the fd's entry. If the generation changed, the fd was
//!    closed meanwhile (EBADF). If the sequence number moved, readiness
//!    arrived between 1 and 3: retry at once. Otherwise it registers the fd
//!    (edge-triggered, read and write) in the poller of the calling worker,
//!    once per fd and worker, adds itself as a waiter and suspends.
//! 4. A readiness event, on whatever worker polls it, bumps the sequence
//!    numbers and wakes the matching waiters; a close wakes them all.
//!
//! Edge-triggered registration costs one `epoll_ctl` per fd and worker for
//! the fd's life instead of one per wait; the sequence numbers are what makes
//! edges safe to use (Go's netpoller does the same with its `pollDesc`).
//!
//! ## The fd table
//!
//! Owner: this module. Entries are created on first use and live for the
//! process (chunks of 1024, up to [`MAX_FD`]); each has its own mutex. The
//! close, dup2 and dup3 hooks call [`closed`] *before* the real call, so
//! that the registrations are removed while the fd still names the file and
//! waiters wake with EBADF; the generation in every poller key makes any
//! event still in flight for the old file harmless.
//!
//! Alongside, the entry caches what the program set and the hooks need on
//! every wait: its own `O_NONBLOCK` and the socket timeouts. Any `F_SETFL`,
//! `FIONBIO` or socket-timeout change (on any fd: dup'ed fds share them)
//! bumps a global epoch that invalidates every cached value; every hook that
//! creates an fd resets that fd's entry.
//!
//! Closes we cannot see (a raw `close` system call, a library's own
//! syscalls) leave a stale registration list behind; an fd whose number was
//! not last created by a call we saw is therefore re-checked (one
//! `epoll_ctl` modify) at every wait.

//!
//! ## The folder
//!
//! This file is the fd table and the wait; beside it: [`poller`] (each
//! worker's epoll set and wake-up eventfd), [`io`] (the loop that turns a
//! blocking call into a suspension), [`blocking`] (the thread pool for
//! calls epoll cannot make non-blocking) and [`timer`] (the deadline heap).

pub mod blocking;
pub mod io;
pub mod poller;
pub mod timer;

use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::coro::{self, Request, Task};
use crate::sched;

/// Fds at or above this are not managed (their calls block the worker).
pub const MAX_FD: usize = 1 << 20;
const CHUNK: usize = 1024;

/// A direction of readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Read,
    Write,
}

/// Outcome of a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Readiness (or a spurious wake-up): try the call again.
    Ready,
    /// The deadline passed.
    TimedOut,
    /// The fd was closed (or replaced by dup2) while waiting.
    Closed,
    /// epoll cannot watch this fd (a regular file, a directory): block.
    Unpollable,
}

/// What the hook saw before its attempt (step 1 of the module doc).
#[derive(Debug, Clone, Copy)]
pub struct Token {
    fd: i32,
    gen: u32,
    rseq: u64,
    wseq: u64,
}

struct Waiter {
    id: u64,
    task: Arc<Task>,
    read: bool,
    write: bool,
}

/// One fd's state. The counters are atomics so that the hot path (a token
/// before every attempt, the cached flags) takes no lock; they change only
/// under `inner`'s lock, which `wait` also holds while it compares them, so
/// step 3 of the module doc is race-free.
#[derive(Default)]
struct Entry {
    /// Bumped by every close of the fd number.
    gen: AtomicU32,
    /// Readiness events seen, per direction.
    rseq: AtomicU64,
    wseq: AtomicU64,
    /// The program's own O_NONBLOCK, once read: `(epoch << 8) | (1 + bool)`,
    /// valid while `EPOCH` is unchanged (0: unknown).
    nonblock: AtomicU64,
    /// SO_RCVTIMEO / SO_SNDTIMEO in ns (0: none); valid when
    /// `timeouts_epoch` equals `EPOCH`.
    rcvtimeo: AtomicU64,
    sndtimeo: AtomicU64,
    timeouts_epoch: AtomicU64,
    /// The fd number was last (re)created by a call we saw, so the
    /// `registered` list is exact. Otherwise (an fd of unknown origin, or one
    /// whose close we may have missed) each wait re-checks its registration.
    trusted: AtomicBool,
    /// What kind of file it is, once asked: `(gen << 2) | k`, k 1 = a
    /// regular file or block device, 2 = anything else; valid while `gen`
    /// is unchanged and the fd is trusted (0: unknown).
    kind: AtomicU64,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Workers whose poller has this fd registered.
    registered: Vec<usize>,
    waiters: Vec<Waiter>,
}

/// Bumped by every `F_SETFL`, `FIONBIO` and socket-timeout change on *any*
/// fd: flags live in the open file description, which dup'ed fds share, so
/// a change through one fd invalidates what every fd cached. Starts at 1 so
/// that 0 means "never read".
static EPOCH: AtomicU64 = AtomicU64::new(1);

type Chunk = [Entry; CHUNK];

struct Table {
    chunks: Box<[AtomicPtr<Chunk>]>,
}

static TABLE: crate::sync::PerProcess<Table> = crate::sync::PerProcess::new();

/// In a forked child: the fd table describes the parent's registrations
/// (in epoll sets the child does not use) and waiters; start afresh.
pub(crate) fn forget_after_fork() {
    TABLE.renew(None);
}

fn table() -> &'static Table {
    TABLE.get_or_init(|| Table {
        chunks: (0..MAX_FD / CHUNK).map(|_| AtomicPtr::new(std::ptr::null_mut())).collect(),
    })
}

/// The entry of `fd`, created on first use; None for fds out of range.
#[inline]
fn entry(fd: i32) -> Option<&'static Entry> {
    let fd = usize::try_from(fd).ok().filter(|&f| f < MAX_FD)?;
    let slot = &table().chunks[fd / CHUNK];
    let mut p = slot.load(Ordering::Acquire);
    if p.is_null() {
        p = new_chunk(slot);
    }
    // SAFETY: chunks are never freed once published.
    Some(unsafe { &(*p)[fd % CHUNK] })
}

/// Allocates and publishes a chunk of entries (or returns the one another
/// thread published first). Out of line and built on the heap: a chunk is
/// ~100 KiB, which on the caller's frame would cost a stack probe of every
/// page on every lookup, on a coroutine's small stack.
#[cold]
#[inline(never)]
fn new_chunk(slot: &AtomicPtr<Chunk>) -> *mut Chunk {
    let v: Vec<Entry> = (0..CHUNK).map(|_| Entry::default()).collect();
    let fresh: Box<Chunk> = v.into_boxed_slice().try_into().unwrap_or_else(|_| unreachable!("CHUNK entries"));
    let fresh = Box::into_raw(fresh);
    // Release pairs with the Acquire loads: the chunk is initialised before
    // anyone can see it.
    match slot.compare_exchange(std::ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => fresh,
        Err(other) => {
            // SAFETY: we allocated `fresh` above and nobody else saw it.
            drop(unsafe { Box::from_raw(fresh) });
            other
        }
    }
}

/// The entry of `fd` if it was ever created (no allocation).
fn existing(fd: i32) -> Option<&'static Entry> {
    let fd = usize::try_from(fd).ok().filter(|&f| f < MAX_FD)?;
    let p = TABLE.get()?.chunks[fd / CHUNK].load(Ordering::Acquire);
    // SAFETY: as in `entry`.
    (!p.is_null()).then(|| unsafe { &(*p)[fd % CHUNK] })
}

fn lock(e: &Entry) -> MutexGuard<'_, Inner> {
    e.inner.lock().unwrap_or_else(|p| p.into_inner())
}

fn key(fd: i32, gen: u32) -> usize {
    ((gen as usize) << 32) | fd as u32 as usize
}

/// Step 1: the state to compare against after a failed attempt. None for
/// fds the reactor does not manage.
pub fn token(fd: i32) -> Option<Token> {
    let e = entry(fd)?;
    // Acquire pairs with the Release updates in `dispatch`/`closed`.
    Some(Token {
        fd,
        gen: e.gen.load(Ordering::Acquire),
        rseq: e.rseq.load(Ordering::Acquire),
        wseq: e.wseq.load(Ordering::Acquire),
    })
}

/// Did the program itself make `fd` non-blocking? (cached `F_GETFL`)
pub fn user_nonblocking(fd: i32) -> bool {
    let Some(e) = entry(fd) else { return fd_nonblocking(fd) };
    // Acquire pairs with the Release bump in `flags_changed`.
    let epoch = EPOCH.load(Ordering::Acquire);
    let v = e.nonblock.load(Ordering::Relaxed);
    if v >> 8 == epoch {
        return v & 0xff == 2;
    }
    let nb = fd_nonblocking(fd);
    e.nonblock.store((epoch << 8) | (1 + u64::from(nb)), Ordering::Relaxed);
    nb
}

/// Is `fd` a regular file or a block device? Cached for a
/// trusted fd: a read that returns less than asked asks this every time,
/// and on a socket that was one `fstat` per read.
pub fn is_file(fd: i32) -> bool {
    let Some(e) = entry(fd).filter(|e| e.trusted.load(Ordering::Relaxed)) else { return fstat_is_file(fd) };
    let gen = u64::from(e.gen.load(Ordering::Acquire));
    let v = e.kind.load(Ordering::Relaxed);
    if v != 0 && v >> 2 == gen {
        return v & 3 == 1;
    }
    let file = fstat_is_file(fd);
    keep_kind(e, gen, file);
    file
}

/// Records in `e` (of generation `gen`) whether its fd is a file ([`is_file`]).
fn keep_kind(e: &Entry, gen: u64, file: bool) {
    e.kind.store((gen << 2) | if file { 1 } else { 2 }, Ordering::Relaxed);
}

/// `fd`, just opened by a call we saw, is a regular file or not (the open
/// hook's probe looked): kept as [`is_file`] would keep it, which then asks
/// no `fstat` at the first short read.
pub fn kind_known(fd: i32, file: bool) {
    let Some(e) = existing(fd).filter(|e| e.trusted.load(Ordering::Relaxed)) else { return };
    keep_kind(e, u64::from(e.gen.load(Ordering::Acquire)), file);
}

/// Is `fd` a regular file or a block device (which read short only at
/// their end)? A raw `fstat`: the symbol may be hooked, and this runs inside
/// a hook.
fn fstat_is_file(fd: i32) -> bool {
    crate::sys::fstat(fd).is_some_and(|st| matches!(st.st_mode & libc::S_IFMT, libc::S_IFREG | libc::S_IFBLK))
}

fn fd_nonblocking(fd: i32) -> bool {
    // SAFETY: F_GETFL only reads the flags (a raw call: the fcntl symbol is
    // our own hook).
    let fl = unsafe { crate::sys::syscall6(libc::SYS_fcntl, fd as usize, libc::F_GETFL as usize, 0, 0, 0, 0) };
    fl >= 0 && (fl as i32) & libc::O_NONBLOCK != 0
}

/// The program's SO_RCVTIMEO (`Dir::Read`) or SO_SNDTIMEO (`Dir::Write`) on
/// `fd` in ns, 0 for none or for non-sockets (cached).
pub fn socket_timeout(fd: i32, dir: Dir) -> u64 {
    let read_both = || (sockopt_timeout(fd, libc::SO_RCVTIMEO), sockopt_timeout(fd, libc::SO_SNDTIMEO));
    let epoch = EPOCH.load(Ordering::Acquire);
    let (r, w) = match entry(fd) {
        None => read_both(),
        // Acquire pairs with the Release below: the values before the epoch.
        Some(e) if e.timeouts_epoch.load(Ordering::Acquire) == epoch => {
            (e.rcvtimeo.load(Ordering::Relaxed), e.sndtimeo.load(Ordering::Relaxed))
        }
        Some(e) => {
            let (r, w) = read_both();
            e.rcvtimeo.store(r, Ordering::Relaxed);
            e.sndtimeo.store(w, Ordering::Relaxed);
            e.timeouts_epoch.store(epoch, Ordering::Release);
            (r, w)
        }
    };
    if dir == Dir::Read { r } else { w }
}

/// The deadline a blocking call on `fd` waiting for `dir` has from now: the
/// socket timeout, or `NEVER`.
pub fn timeout_deadline(fd: i32, dir: Dir) -> u64 {
    match socket_timeout(fd, dir) {
        0 => crate::reactor::timer::NEVER,
        t => crate::sys::now_ns().saturating_add(t),
    }
}

fn sockopt_timeout(fd: i32, opt: i32) -> u64 {
    let mut tv = libc::timeval { tv_sec: 0, tv_usec: 0 };
    let mut len = std::mem::size_of::<libc::timeval>() as libc::socklen_t;
    // SAFETY: tv/len are valid out-parameters of the right size.
    let r = unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, opt, (&mut tv as *mut libc::timeval).cast(), &mut len) };
    if r != 0 {
        return 0;
    }
    tv.tv_sec as u64 * 1_000_000_000 + tv.tv_usec as u64 * 1000
}

/// The program changed an fd's flags or socket timeouts: every cached value
/// is stale (dup'ed fds share them).
pub fn flags_changed() {
    EPOCH.fetch_add(1, Ordering::Release);
}

fn forget_cache(e: &Entry) {
    e.kind.store(0, Ordering::Relaxed);
    e.nonblock.store(0, Ordering::Relaxed);
    e.timeouts_epoch.store(0, Ordering::Release);
}

/// A call we saw just created `fd`: forget any old file's state, and trust
/// the registration list and the kept file kind from now on. Once the table
/// exists, the entry is made if its chunk is not: an fd of a new chunk (the
/// 1,025th connection) stayed untrusted for life, and a server with 10,000
/// connections paid an `fstat` per short read and an `epoll_ctl` per wait
/// on most of them. Before the table exists nothing is kept (a process
/// whose hooks never waited allocates none).
pub fn created(fd: i32) {
    let e = if TABLE.get().is_some() { entry(fd) } else { None };
    if let Some(e) = e {
        drop_fd(fd, e);
        e.trusted.store(true, Ordering::Relaxed);
    }
}

/// A call returned `fd`: if that is a new fd (not -1), it was [`created`].
/// Returns `fd`.
pub fn fresh(fd: i32) -> i32 {
    if fd >= 0 {
        created(fd);
    }
    fd
}

/// `fd` is about to be closed (or replaced by dup2/dup3): drop its
/// registrations, wake its waiters (they return EBADF) and forget the cache.
/// Call before the real close.
pub fn closed(fd: i32) {
    if let Some(e) = existing(fd) {
        drop_fd(fd, e);
        e.trusted.store(false, Ordering::Relaxed);
    }
}

/// `closed` for every fd from `first` to `last` that the reactor knows.
pub fn closed_range(first: u32, last: u32) {
    let Some(t) = TABLE.get() else { return };
    let last = (last as usize).min(MAX_FD - 1);
    let mut fd = first as usize;
    while fd <= last {
        if t.chunks[fd / CHUNK].load(Ordering::Acquire).is_null() {
            fd = (fd / CHUNK + 1) * CHUNK;
            continue;
        }
        closed(fd as i32);
        fd += 1;
    }
}

fn drop_fd(fd: i32, e: &Entry) {
    forget_cache(e);
    let (waiters, registered) = {
        let mut g = lock(e);
        e.gen.fetch_add(1, Ordering::AcqRel);
        (std::mem::take(&mut g.waiters), std::mem::take(&mut g.registered))
    };
    if let Some(rt) = sched::try_runtime() {
        for w in registered {
            // SAFETY: the fd is still open (we run before the real close);
            // the borrow lasts for this call only.
            let _ = rt.poller(w).delete(unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) });
        }
    }
    for w in waiters {
        coro::unpark(&w.task);
    }
}

/// Steps 3-4: waits on the calling coroutine until `fd` may be ready for
/// `dir`, the deadline passes (`NEVER`: none), or the fd is closed.
pub fn wait(tok: Token, dir: Dir, deadline: u64) -> Wait {
    wait_many(&[(tok, dir == Dir::Read, dir == Dir::Write)], deadline)
}

/// Waits until any of the fds may be ready for its directions (poll and
/// select). Each token comes with (read, write) interest.
pub fn wait_many(list: &[(Token, bool, bool)], deadline: u64) -> Wait {
    let Some(worker) = sched::worker::current_worker() else { return Wait::Unpollable };
    let Some(task) = coro::current_task() else { return Wait::Unpollable };
    // A task waits in one `wait_many` at a time and leaves no waiter behind
    // when it returns (dispatch or `remove_waiter` took them), so its
    // address names its waiters (a global counter was a cache line that
    // both workers wrote at every wait).
    let id = Arc::as_ptr(&task) as u64;
    let mut added = 0;
    for &(tok, read, write) in list {
        let Some(ent) = entry(tok.fd) else { continue };
        let mut e = lock(ent);
        if ent.gen.load(Ordering::Acquire) != tok.gen {
            drop(e);
            remove_waiter(list, id);
            return Wait::Closed;
        }
        if (read && ent.rseq.load(Ordering::Acquire) != tok.rseq) || (write && ent.wseq.load(Ordering::Acquire) != tok.wseq) {
            drop(e);
            remove_waiter(list, id);
            return Wait::Ready;
        }
        let known = e.registered.contains(&worker);
        if !known || !ent.trusted.load(Ordering::Relaxed) {
            match register(worker, tok.fd, tok.gen, known) {
                Ok(()) if !known => e.registered.push(worker),
                Ok(()) => {}
                Err(_) if list.len() == 1 => return Wait::Unpollable,
                // poll/select: an fd epoll cannot watch is always ready, so
                // the caller's check already returned; skip it.
                Err(_) => continue,
            }
        }
        e.waiters.push(Waiter { id, task: task.clone(), read, write });
        added += 1;
    }
    if added == 0 && deadline == crate::reactor::timer::NEVER {
        return Wait::Unpollable;
    }
    // Counted on the slot where it registered (worth a non-blocking poll
    // there while busy); the runtime exists: a coroutine runs.
    let slot = crate::sched::try_runtime().and_then(|rt| rt.slot.get(worker));
    if let Some(s) = slot {
        s.fd_waiters.fetch_add(1, Ordering::Relaxed);
        crate::stats::bump(&s.stats.reactor_waits);
    }
    coro::waits_for(coro::debug::WaitKind::Fd, list.first().map_or(0, |(t, _, _)| t.fd as u64));
    if deadline == crate::reactor::timer::NEVER {
        coro::suspend(Request::Park);
    } else {
        coro::suspend(Request::Sleep(deadline));
    }
    if let Some(s) = slot {
        s.fd_waiters.fetch_sub(1, Ordering::Relaxed);
    }
    // Still listed: not woken by readiness (a timeout or a stale wake-up).
    // A single fd whose sequence number moved for a direction we waited for
    // is not: the dispatch that moved it, holding the lock under which we
    // had seen it unmoved, took every waiter of that direction, us
    // included (a second lock of the entry per wait saved).
    let still_waiting = if list.len() == 1 && moved(&list[0]) { false } else { remove_waiter(list, id) };
    let closed = list.iter().any(|&(tok, _, _)| existing(tok.fd).is_some_and(|e| e.gen.load(Ordering::Acquire) != tok.gen));
    if closed {
        Wait::Closed
    } else if still_waiting && deadline != crate::reactor::timer::NEVER && crate::sys::now_ns() >= deadline {
        Wait::TimedOut
    } else {
        Wait::Ready
    }
}

/// Has readiness been dispatched for `tok`'s fd, in a direction asked for,
/// since the token was taken?
fn moved(&(tok, read, write): &(Token, bool, bool)) -> bool {
    // Acquire pairs with the Release bumps in `dispatch`.
    existing(tok.fd).is_some_and(|e| (read && e.rseq.load(Ordering::Acquire) != tok.rseq) || (write && e.wseq.load(Ordering::Acquire) != tok.wseq))
}

/// Removes waiter `id` from the entries of `list`; true if it was found.
fn remove_waiter(list: &[(Token, bool, bool)], id: u64) -> bool {
    let mut found = false;
    for &(tok, _, _) in list {
        if let Some(e) = existing(tok.fd) {
            let mut e = lock(e);
            let before = e.waiters.len();
            e.waiters.retain(|w| w.id != id);
            found |= e.waiters.len() != before;
        }
    }
    found
}

/// Registers `fd` in `worker`'s poller. When we believe it is registered
/// already (`known`) but cannot be sure the file behind the number is still
/// the one registered, a modify checks it (ENOENT: a close we did not see
/// dropped it; add again).
fn register(worker: usize, fd: i32, gen: u32, known: bool) -> std::io::Result<()> {
    let rt = sched::runtime();
    let k = key(fd, gen);
    // SAFETY: the fd is open (the caller just got EAGAIN from it); the
    // borrow lasts for this call.
    let modify = || rt.poller(worker).modify(unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }, k);
    if known {
        match modify() {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            r => return r,
        }
    }
    // SAFETY: as above; `closed` deletes the registration before any close
    // we see.
    unsafe { rt.poller(worker).add(fd, k) }.or_else(|e| {
        if e.raw_os_error() == Some(libc::EEXIST) {
            // Registered under an fd number whose close we did not see: take
            // it over with the current generation.
            modify()
        } else {
            Err(e)
        }
    })
}

/// Acts on the events a worker's poller returned: bumps the readiness
/// sequence numbers and wakes the matching waiters with `wake`. The
/// scheduler, below the reactor, is handed it (`sched::set_dispatch`).
pub fn dispatch(events: &[poller::Ready], wake: &mut dyn FnMut(&Arc<Task>)) {
    for ev in events {
        let fd = (ev.key & 0xffff_ffff) as i32;
        let gen = (ev.key >> 32) as u32;
        let Some(ent) = existing(fd) else { continue };
        // Woken after the lock is dropped: the first waiter in hand, any
        // others (poll on a shared fd) in a list (an allocation per event
        // cost the echo server at 10,000 connections 2% of its CPU).
        let (first, rest): (Option<Arc<Task>>, Vec<Arc<Task>>) = {
            let mut e = lock(ent);
            if ent.gen.load(Ordering::Acquire) != gen {
                continue;
            }
            // Release pairs with the Acquire loads in `token` and `wait`.
            // Only dispatch writes them, under the lock: a load and a store,
            // not a locked increment.
            if ev.readable {
                ent.rseq.store(ent.rseq.load(Ordering::Relaxed).wrapping_add(1), Ordering::Release);
            }
            if ev.writable {
                ent.wseq.store(ent.wseq.load(Ordering::Relaxed).wrapping_add(1), Ordering::Release);
            }
            let (mut first, mut rest) = (None, Vec::new());
            e.waiters.retain(|w| {
                let hit = (ev.readable && w.read) || (ev.writable && w.write);
                if hit {
                    match first {
                        None => first = Some(w.task.clone()),
                        Some(_) => rest.push(w.task.clone()),
                    }
                }
                !hit
            });
            (first, rest)
        };
        for t in first.iter().chain(&rest) {
            wake(t);
        }
    }
}
