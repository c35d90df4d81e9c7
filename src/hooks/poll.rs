//! Readiness calls: `poll`, `ppoll`, `select`, `pselect`, `epoll_wait`,
//! `epoll_pwait` (and the fortified `__poll_chk`, `__ppoll_chk`).
//!
//! Each asks libc first with a zero timeout; if nothing is ready and the
//! caller would wait, the coroutine waits on the reactor for any of the fds
//! (a program's own epoll fd is itself pollable) until its deadline, then
//! asks libc again with a zero timeout, so results, revents and fd sets are
//! always libc's own. Readiness tokens are taken before each zero-timeout
//! check, so an event between the check and the wait is never lost. An fd
//! epoll cannot watch is always ready to poll, so never needs a wait.

use libc::{c_int, epoll_event, fd_set, nfds_t, pollfd, sigset_t, timespec, timeval};

use crate::hooks::hooks;
use crate::reactor::{self, Token, Wait};
use crate::sched::worker;
use crate::sys::now_ns;
use crate::reactor::timer::NEVER;

hooks! {
    co fn poll(fds: *mut pollfd, n: nfds_t, timeout: c_int) -> c_int => on_poll, cancel;
    co fn __poll_chk(fds: *mut pollfd, n: nfds_t, timeout: c_int, fdslen: usize) -> c_int => on_poll_chk, cancel;
    co fn ppoll(fds: *mut pollfd, n: nfds_t, tmo: *const timespec, mask: *const sigset_t) -> c_int => on_ppoll, cancel;
    co fn __ppoll_chk(fds: *mut pollfd, n: nfds_t, tmo: *const timespec, mask: *const sigset_t, fdslen: usize) -> c_int => on_ppoll_chk, cancel;
    co fn select(nfds: c_int, r: *mut fd_set, w: *mut fd_set, e: *mut fd_set, tmo: *mut timeval) -> c_int => on_select, cancel;
    co fn pselect(nfds: c_int, r: *mut fd_set, w: *mut fd_set, e: *mut fd_set, tmo: *const timespec, mask: *const sigset_t) -> c_int => on_pselect, cancel;
    co fn epoll_wait(epfd: c_int, events: *mut epoll_event, max: c_int, timeout: c_int) -> c_int => on_epoll_wait, cancel;
    co fn epoll_pwait(epfd: c_int, events: *mut epoll_event, max: c_int, timeout: c_int, mask: *const sigset_t) -> c_int => on_epoll_pwait, cancel;
}

const MS: u64 = 1_000_000;

/// Deadline from a poll-style timeout in ms (negative: none).
fn ms_deadline(timeout: c_int) -> u64 {
    if timeout < 0 { NEVER } else { now_ns().saturating_add(timeout as u64 * MS) }
}

/// Deadline from a timespec (NULL: none); None when it is invalid (libc
/// rejects it).
fn ts_deadline(tmo: *const timespec) -> Option<u64> {
    if tmo.is_null() {
        return Some(NEVER);
    }
    // Unreadable: None, and libc's call answers EFAULT.
    let t = crate::sys::copy_in(tmo)?;
    if t.tv_sec < 0 || !(0..1_000_000_000).contains(&t.tv_nsec) {
        return None;
    }
    Some(now_ns().saturating_add((t.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(t.tv_nsec as u64)))
}

/// The generic loop: `check()` asks libc with a zero timeout; `interest()`
/// lists (token, read, write) to wait for. Returns libc's answer, or 0 at
/// the deadline. `block(deadline)` is the plain call, for fds the reactor
/// cannot manage.
fn wait_loop(
    deadline: u64,
    mut interest: impl FnMut() -> Option<Vec<(Token, bool, bool)>>,
    mut check: impl FnMut() -> c_int,
    mut block: impl FnMut(u64) -> c_int,
) -> c_int {
    if !worker::has_company() {
        return block(deadline);
    }
    // First ask libc as it is: bad arguments (EFAULT, EINVAL) come back
    // before we read the caller's fds, and a ready fd costs no token.
    let r = check();
    if r != 0 || now_ns() >= deadline {
        return r;
    }
    let me = crate::coro::current_ptr();
    // SAFETY: inside a hook, CURRENT is the running task.
    unsafe { (*me).signals().clear_interrupt() };
    loop {
        let Some(list) = interest() else { return block(deadline) };
        let r = check();
        if r != 0 || now_ns() >= deadline {
            return r;
        }
        let w = reactor::wait_many(&list, deadline);
        // SAFETY: as above. poll, select and epoll_wait are never restarted.
        if unsafe { (*me).signals().take_interrupt() }.is_some() {
            crate::sys::set_errno(libc::EINTR);
            return -1;
        }
        match w {
            Wait::Unpollable => return block(deadline),
            Wait::TimedOut => return check(),
            Wait::Ready | Wait::Closed => {}
        }
    }
}

/// Milliseconds left until `deadline`, for a plain poll (-1: none).
fn ms_left(deadline: u64) -> c_int {
    if deadline == NEVER { -1 } else { (deadline.saturating_sub(now_ns()).div_ceil(MS)).min(c_int::MAX as u64) as c_int }
}

fn ts_left(deadline: u64) -> timespec {
    let left = deadline.saturating_sub(now_ns());
    timespec { tv_sec: (left / 1_000_000_000) as _, tv_nsec: (left % 1_000_000_000) as _ }
}

fn pollfd_interest(fds: *mut pollfd, n: nfds_t) -> Option<Vec<(Token, bool, bool)>> {
    // SAFETY: the caller's array of n pollfds.
    let fds = unsafe { std::slice::from_raw_parts(fds, n as usize) };
    let mut v = Vec::with_capacity(fds.len());
    for p in fds.iter().filter(|p| p.fd >= 0) {
        let tok = reactor::token(p.fd)?;
        let write = p.events & libc::POLLOUT != 0;
        // Errors and hang-ups are reported whatever was asked: wait for
        // "readable", which includes them, when nothing else is asked.
        let read = p.events & (libc::POLLIN | libc::POLLPRI | libc::POLLRDHUP) != 0 || !write;
        v.push((tok, read, write));
    }
    Some(v)
}

unsafe fn on_poll(real: unsafe extern "C" fn(*mut pollfd, nfds_t, c_int) -> c_int, fds: *mut pollfd, n: nfds_t, timeout: c_int) -> c_int {
    if timeout == 0 || fds.is_null() && n > 0 {
        // SAFETY: straight call.
        return unsafe { real(fds, n, timeout) };
    }
    wait_loop(
        ms_deadline(timeout),
        || pollfd_interest(fds, n),
        // SAFETY: the caller's array, as for poll itself.
        || unsafe { real(fds, n, 0) },
        // SAFETY: as above.
        |d| unsafe { real(fds, n, ms_left(d)) },
    )
}

unsafe fn on_poll_chk(
    real: unsafe extern "C" fn(*mut pollfd, nfds_t, c_int, usize) -> c_int,
    fds: *mut pollfd,
    n: nfds_t,
    timeout: c_int,
    fdslen: usize,
) -> c_int {
    if timeout == 0 || (n as usize).saturating_mul(std::mem::size_of::<pollfd>()) > fdslen || fds.is_null() {
        // SAFETY: straight call (libc reports the overflow as it would).
        return unsafe { real(fds, n, timeout, fdslen) };
    }
    wait_loop(
        ms_deadline(timeout),
        || pollfd_interest(fds, n),
        // SAFETY: the caller's array, checked against fdslen above.
        || unsafe { real(fds, n, 0, fdslen) },
        // SAFETY: as above.
        |d| unsafe { real(fds, n, ms_left(d), fdslen) },
    )
}

const ZERO_TS: timespec = timespec { tv_sec: 0, tv_nsec: 0 };

unsafe fn on_ppoll(
    real: unsafe extern "C" fn(*mut pollfd, nfds_t, *const timespec, *const sigset_t) -> c_int,
    fds: *mut pollfd,
    n: nfds_t,
    tmo: *const timespec,
    mask: *const sigset_t,
) -> c_int {
    let Some(deadline) = ts_deadline(tmo).filter(|_| !(fds.is_null() && n > 0)) else {
        // SAFETY: straight call; libc rejects the arguments.
        return unsafe { real(fds, n, tmo, mask) };
    };
    wait_loop(
        deadline,
        || pollfd_interest(fds, n),
        // SAFETY: the caller's array and mask, as for ppoll itself.
        || unsafe { real(fds, n, &ZERO_TS, mask) },
        |d| {
            // The timespec must outlive the call (a temporary in the `if`
            // would not).
            let ts = ts_left(d);
            // SAFETY: as above.
            unsafe { real(fds, n, if d == NEVER { std::ptr::null() } else { &ts }, mask) }
        },
    )
}

unsafe fn on_ppoll_chk(
    real: unsafe extern "C" fn(*mut pollfd, nfds_t, *const timespec, *const sigset_t, usize) -> c_int,
    fds: *mut pollfd,
    n: nfds_t,
    tmo: *const timespec,
    mask: *const sigset_t,
    fdslen: usize,
) -> c_int {
    let fits = (n as usize).saturating_mul(std::mem::size_of::<pollfd>()) <= fdslen && !fds.is_null();
    let Some(deadline) = ts_deadline(tmo).filter(|_| fits) else {
        // SAFETY: straight call; libc rejects the arguments.
        return unsafe { real(fds, n, tmo, mask, fdslen) };
    };
    wait_loop(
        deadline,
        || pollfd_interest(fds, n),
        // SAFETY: the caller's array, checked against fdslen above.
        || unsafe { real(fds, n, &ZERO_TS, mask, fdslen) },
        |d| {
            let ts = ts_left(d);
            // SAFETY: as above.
            unsafe { real(fds, n, if d == NEVER { std::ptr::null() } else { &ts }, mask, fdslen) }
        },
    )
}

/// Copies of the caller's fd sets, so each zero-timeout check starts from
/// what the caller asked (select overwrites them with the answer).
struct Sets {
    nfds: c_int,
    ptrs: [*mut fd_set; 3],
    saved: [Option<fd_set>; 3],
}

impl Sets {
    /// None when a set the caller passed cannot be read (libc's call then
    /// answers EFAULT).
    fn new(nfds: c_int, r: *mut fd_set, w: *mut fd_set, e: *mut fd_set) -> Option<Sets> {
        let ptrs = [r, w, e];
        let mut saved = [None; 3];
        for (s, &p) in saved.iter_mut().zip(ptrs.iter()) {
            if !p.is_null() {
                *s = Some(crate::sys::copy_in(p)?);
            }
        }
        Some(Sets { nfds, ptrs, saved })
    }

    fn restore(&self) {
        for (p, s) in self.ptrs.iter().zip(self.saved.iter()) {
            if let Some(s) = s {
                // SAFETY: the caller's writable set.
                unsafe { **p = *s };
            }
        }
    }

    fn interest(&self) -> Option<Vec<(Token, bool, bool)>> {
        let mut v = Vec::new();
        for fd in 0..self.nfds.clamp(0, libc::FD_SETSIZE as c_int) {
            // SAFETY: FD_ISSET on our own copies, fd < FD_SETSIZE.
            let has = |i: usize| self.saved[i].as_ref().is_some_and(|s| unsafe { libc::FD_ISSET(fd, s) });
            let (r, w, e) = (has(0), has(1), has(2));
            if r || w || e {
                v.push((reactor::token(fd)?, r || e, w));
            }
        }
        Some(v)
    }
}

unsafe fn on_select(
    real: unsafe extern "C" fn(c_int, *mut fd_set, *mut fd_set, *mut fd_set, *mut timeval) -> c_int,
    nfds: c_int,
    r: *mut fd_set,
    w: *mut fd_set,
    e: *mut fd_set,
    tmo: *mut timeval,
) -> c_int {
    let deadline = if tmo.is_null() {
        NEVER
    } else {
        let Some(t) = crate::sys::copy_in(tmo) else {
            // SAFETY: straight call: libc answers EFAULT.
            return unsafe { real(nfds, r, w, e, tmo) };
        };
        if t.tv_sec < 0 || !(0..1_000_000).contains(&t.tv_usec) || (t.tv_sec == 0 && t.tv_usec == 0) {
            // SAFETY: straight call (libc rejects it, or it does not wait).
            return unsafe { real(nfds, r, w, e, tmo) };
        }
        now_ns().saturating_add(t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1000)
    };
    if !(0..=libc::FD_SETSIZE as c_int).contains(&nfds) {
        // SAFETY: straight call; libc rejects it.
        return unsafe { real(nfds, r, w, e, tmo) };
    }
    let Some(sets) = Sets::new(nfds, r, w, e) else {
        // SAFETY: straight call: libc answers EFAULT.
        return unsafe { real(nfds, r, w, e, tmo) };
    };
    let res = wait_loop(
        deadline,
        || sets.interest(),
        || {
            sets.restore();
            let mut zero = timeval { tv_sec: 0, tv_usec: 0 };
            // SAFETY: the caller's sets, restored to what it asked.
            unsafe { real(nfds, r, w, e, &mut zero) }
        },
        |d| {
            sets.restore();
            let left = d.saturating_sub(now_ns());
            let mut t = timeval { tv_sec: (left / 1_000_000_000) as _, tv_usec: ((left % 1_000_000_000) / 1000) as _ };
            // SAFETY: as above.
            unsafe { real(nfds, r, w, e, if d == NEVER { std::ptr::null_mut() } else { &mut t }) }
        },
    );
    if !tmo.is_null() {
        // Linux's select reports the time left.
        let left = deadline.saturating_sub(now_ns());
        // SAFETY: the caller's writable timeval.
        unsafe { *tmo = timeval { tv_sec: (left / 1_000_000_000) as _, tv_usec: ((left % 1_000_000_000) / 1000) as _ } };
    }
    res
}

unsafe fn on_pselect(
    real: unsafe extern "C" fn(c_int, *mut fd_set, *mut fd_set, *mut fd_set, *const timespec, *const sigset_t) -> c_int,
    nfds: c_int,
    r: *mut fd_set,
    w: *mut fd_set,
    e: *mut fd_set,
    tmo: *const timespec,
    mask: *const sigset_t,
) -> c_int {
    let deadline = ts_deadline(tmo).filter(|_| (0..=libc::FD_SETSIZE as c_int).contains(&nfds));
    let Some(deadline) = deadline.filter(|&d| d > now_ns()) else {
        // SAFETY: straight call (libc rejects it, or it does not wait).
        return unsafe { real(nfds, r, w, e, tmo, mask) };
    };
    let Some(sets) = Sets::new(nfds, r, w, e) else {
        // SAFETY: straight call: libc answers EFAULT.
        return unsafe { real(nfds, r, w, e, tmo, mask) };
    };
    wait_loop(
        deadline,
        || sets.interest(),
        || {
            sets.restore();
            // SAFETY: the caller's sets and mask, restored to what it asked.
            unsafe { real(nfds, r, w, e, &ZERO_TS, mask) }
        },
        |d| {
            sets.restore();
            let ts = ts_left(d);
            // SAFETY: as above.
            unsafe { real(nfds, r, w, e, if d == NEVER { std::ptr::null() } else { &ts }, mask) }
        },
    )
}

unsafe fn on_epoll_wait(
    real: unsafe extern "C" fn(c_int, *mut epoll_event, c_int, c_int) -> c_int,
    epfd: c_int,
    events: *mut epoll_event,
    max: c_int,
    timeout: c_int,
) -> c_int {
    if timeout == 0 || max <= 0 || events.is_null() {
        // SAFETY: straight call.
        return unsafe { real(epfd, events, max, timeout) };
    }
    wait_loop(
        ms_deadline(timeout),
        || Some(vec![(reactor::token(epfd)?, true, false)]),
        // SAFETY: the caller's event array, as for epoll_wait itself.
        || unsafe { real(epfd, events, max, 0) },
        // SAFETY: as above.
        |d| unsafe { real(epfd, events, max, ms_left(d)) },
    )
}

unsafe fn on_epoll_pwait(
    real: unsafe extern "C" fn(c_int, *mut epoll_event, c_int, c_int, *const sigset_t) -> c_int,
    epfd: c_int,
    events: *mut epoll_event,
    max: c_int,
    timeout: c_int,
    mask: *const sigset_t,
) -> c_int {
    if timeout == 0 || max <= 0 || events.is_null() {
        // SAFETY: straight call.
        return unsafe { real(epfd, events, max, timeout, mask) };
    }
    wait_loop(
        ms_deadline(timeout),
        || Some(vec![(reactor::token(epfd)?, true, false)]),
        // SAFETY: the caller's event array and mask, as for epoll_pwait itself.
        || unsafe { real(epfd, events, max, 0, mask) },
        // SAFETY: as above.
        |d| unsafe { real(epfd, events, max, ms_left(d), mask) },
    )
}
