//! Socket calls: `recv`, `recvfrom`, `recvmsg`, `send`, `sendto`, `sendmsg`
//! (made non-blocking per call with `MSG_DONTWAIT`), `accept`, `accept4`
//! (accepted only once the listener is readable, one coroutine at a time),
//! `connect` (its EINPROGRESS path waited on the reactor, then `SO_ERROR`),
//! `listen` (a backlog of at least `OPENCORO_LISTEN_BACKLOG`), and the
//! bookkeeping hooks `socket`, `socketpair`, `setsockopt`.

use std::sync::Mutex;

use libc::{c_int, c_void, msghdr, size_t, sockaddr, socklen_t, ssize_t};

use crate::hooks::{hooks, Guard, P};
use crate::reactor::io::{self, Call};
use crate::reactor::{self, Dir, Wait};
use crate::sched::worker;
use crate::sys::{errno, syscall6};

hooks! {
    co fn recv(fd: c_int, buf: *mut c_void, n: size_t, flags: c_int) -> ssize_t => on_recv, cancel;
    co fn __recv_chk(fd: c_int, buf: *mut c_void, n: size_t, buflen: size_t, flags: c_int) -> ssize_t => on_recv_chk, cancel;
    co fn recvfrom(fd: c_int, buf: *mut c_void, n: size_t, flags: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> ssize_t => on_recvfrom, cancel;
    co fn __recvfrom_chk(fd: c_int, buf: *mut c_void, n: size_t, buflen: size_t, flags: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> ssize_t => on_recvfrom_chk, cancel;
    co fn recvmsg(fd: c_int, msg: *mut msghdr, flags: c_int) -> ssize_t => on_recvmsg, cancel;
    co fn send(fd: c_int, buf: *const c_void, n: size_t, flags: c_int) -> ssize_t => on_send, cancel;
    co fn sendto(fd: c_int, buf: *const c_void, n: size_t, flags: c_int, addr: *const sockaddr, len: socklen_t) -> ssize_t => on_sendto, cancel;
    co fn sendmsg(fd: c_int, msg: *const msghdr, flags: c_int) -> ssize_t => on_sendmsg, cancel;
    any fn accept(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int => on_accept, cancel;
    any fn accept4(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t, flags: c_int) -> c_int => on_accept4, cancel;
    shared fn connect(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int => on_connect, cancel;
    any fn listen(fd: c_int, backlog: c_int) -> c_int => on_listen;
    any fn socket(domain: c_int, ty: c_int, proto: c_int) -> c_int => on_socket;
    any fn socketpair(domain: c_int, ty: c_int, proto: c_int, sv: *mut c_int) -> c_int => on_socketpair;
    any fn setsockopt(fd: c_int, level: c_int, opt: c_int, val: *const c_void, len: socklen_t) -> c_int => on_setsockopt;
}

unsafe fn on_recv(real: unsafe extern "C" fn(c_int, *mut c_void, size_t, c_int) -> ssize_t, fd: c_int, buf: *mut c_void, n: size_t, flags: c_int) -> ssize_t {
    let b = P(buf);
    // SAFETY: within the caller's buffer (done < n), as for recv itself.
    recv_waitall(fd, flags, n, move |done, fl| unsafe { real(fd, { b }.0.byte_add(done), n - done, fl) })
}

unsafe fn on_recv_chk(
    real: unsafe extern "C" fn(c_int, *mut c_void, size_t, size_t, c_int) -> ssize_t,
    fd: c_int,
    buf: *mut c_void,
    n: size_t,
    buflen: size_t,
    flags: c_int,
) -> ssize_t {
    let b = P(buf);
    if n > buflen {
        // SAFETY: libc reports the overflow as it would.
        return unsafe { real(fd, buf, n, buflen, flags) };
    }
    // SAFETY: within the caller's buffer, checked against buflen above.
    recv_waitall(fd, flags, n, move |done, fl| unsafe { real(fd, { b }.0.byte_add(done), n - done, buflen - done, fl) })
}

unsafe fn on_recvfrom(
    real: unsafe extern "C" fn(c_int, *mut c_void, size_t, c_int, *mut sockaddr, *mut socklen_t) -> ssize_t,
    fd: c_int,
    buf: *mut c_void,
    n: size_t,
    flags: c_int,
    addr: *mut sockaddr,
    len: *mut socklen_t,
) -> ssize_t {
    let (b, a, l) = (P(buf), P(addr), P(len));
    // SAFETY: within the caller's buffers, as for recvfrom itself.
    recv_waitall(fd, flags, n, move |done, fl| unsafe { real(fd, { b }.0.byte_add(done), n - done, fl, { a }.0, { l }.0) })
}

#[allow(clippy::too_many_arguments)] // the C signature, plus `real`
unsafe fn on_recvfrom_chk(
    real: unsafe extern "C" fn(c_int, *mut c_void, size_t, size_t, c_int, *mut sockaddr, *mut socklen_t) -> ssize_t,
    fd: c_int,
    buf: *mut c_void,
    n: size_t,
    buflen: size_t,
    flags: c_int,
    addr: *mut sockaddr,
    len: *mut socklen_t,
) -> ssize_t {
    if n > buflen {
        // SAFETY: libc reports the overflow as it would.
        return unsafe { real(fd, buf, n, buflen, flags, addr, len) };
    }
    let (b, a, l) = (P(buf), P(addr), P(len));
    // SAFETY: within the caller's buffers, checked against buflen above.
    recv_waitall(fd, flags, n, move |done, fl| unsafe { real(fd, { b }.0.byte_add(done), n - done, buflen - done, fl, { a }.0, { l }.0) })
}

unsafe fn on_recvmsg(real: unsafe extern "C" fn(c_int, *mut msghdr, c_int) -> ssize_t, fd: c_int, msg: *mut msghdr, flags: c_int) -> ssize_t {
    let m = P(msg);
    if msg.is_null() || flags & libc::MSG_WAITALL == 0 {
        // SAFETY: the caller's message, as for recvmsg itself.
        return recv_like(fd, flags, move |fl| unsafe { real(fd, { m }.0, fl) });
    }
    // MSG_WAITALL: receive into the rest of the vector until it is full.
    // SAFETY: the caller's message header and vector.
    let iov: Vec<libc::iovec> = unsafe { std::slice::from_raw_parts((*msg).msg_iov, (*msg).msg_iovlen).to_vec() };
    let total: usize = iov.iter().map(|v| v.iov_len).sum();
    let rest = std::sync::Mutex::new(Vec::new());
    let (iov_p, rest_p) = (P(&iov as *const Vec<libc::iovec>), P(&rest as *const std::sync::Mutex<Vec<libc::iovec>>));
    let r = recv_waitall(fd, flags, total, move |done, fl| {
        if done == 0 {
            // SAFETY: the caller's message, as for recvmsg itself.
            return unsafe { real(fd, { m }.0, fl) };
        }
        // SAFETY: `iov` and `rest` outlive this call (the hook waits for it).
        let (iov, rest) = unsafe { (&*{ iov_p }.0, &*{ rest_p }.0) };
        let mut rest = rest.lock().unwrap_or_else(|e| e.into_inner());
        crate::hooks::rw::advance(iov, done, &mut rest);
        // SAFETY: the caller's header, copied; its vector re-described from `done`.
        let mut part = unsafe { *{ m }.0 };
        part.msg_iov = rest.as_mut_ptr();
        part.msg_iovlen = rest.len();
        // SAFETY: as above.
        unsafe { real(fd, &mut part, fl) }
    });
    r
}

/// A receive with `raw(flags)`: non-blocking attempts add MSG_DONTWAIT.
fn recv_like(fd: c_int, flags: c_int, raw: impl Fn(c_int) -> isize + Send + Copy) -> isize {
    if flags & libc::MSG_DONTWAIT != 0 {
        return raw(flags);
    }
    Call::new(fd, Dir::Read).run(&mut || raw(flags | libc::MSG_DONTWAIT), &mut move || raw(flags))
}

/// A receive of up to `total` bytes with `raw(done, flags)` (receiving from
/// offset `done`). With MSG_WAITALL on a blocking socket it receives until
/// all `total` bytes have come, the peer closes, or an error, as the kernel
/// does for a blocking call (MSG_DONTWAIT makes each attempt return what is
/// there).
fn recv_waitall(fd: c_int, flags: c_int, total: usize, raw: impl Fn(usize, c_int) -> isize + Send + Copy) -> isize {
    if flags & libc::MSG_WAITALL == 0 || flags & libc::MSG_DONTWAIT != 0 || !worker::has_company() || !stream(fd) {
        // (The kernel ignores MSG_WAITALL on datagram and seqpacket sockets.)
        return recv_like(fd, flags, move |fl| raw(0, fl));
    }
    if flags & libc::MSG_PEEK != 0 {
        if sockopt(fd, libc::SO_DOMAIN) == Some(libc::AF_UNIX) {
            // AF_UNIX peeks return what is queued, MSG_WAITALL or not.
            return recv_like(fd, flags, move |fl| raw(0, fl));
        }
        return peek_waitall(fd, flags, total, raw);
    }
    let mut call = Call::new(fd, Dir::Read);
    let mut done = 0usize;
    loop {
        let r = call.run(&mut || raw(done, flags | libc::MSG_DONTWAIT), &mut move || raw(done, flags));
        if r < 0 {
            return if done > 0 { done as isize } else { r };
        }
        done += r as usize;
        if r == 0 || done >= total || reactor::user_nonblocking(fd) {
            return done as isize;
        }
    }
}

/// MSG_PEEK | MSG_WAITALL: a peek looks at the queue from its start each
/// time, so wait until `total` bytes are queued (or the peer closes) and
/// then copy them all at once. The token is taken before each peek, so data
/// that comes after it wakes the wait.
fn peek_waitall(fd: c_int, flags: c_int, total: usize, raw: impl Fn(usize, c_int) -> isize) -> isize {
    let deadline = reactor::timeout_deadline(fd, Dir::Read);
    loop {
        let Some(tok) = reactor::token(fd) else { return raw(0, flags) };
        let r = raw(0, flags | libc::MSG_DONTWAIT);
        if r < 0 && errno() != libc::EAGAIN {
            return r;
        }
        if r == 0 || r as usize >= total || reactor::user_nonblocking(fd) {
            return r;
        }
        match reactor::wait(tok, Dir::Read, deadline) {
            Wait::Ready => {}
            Wait::TimedOut => return if r > 0 { r } else { io::fail(libc::EAGAIN) },
            Wait::Closed => return io::fail(libc::EBADF),
            Wait::Unpollable => return raw(0, flags),
        }
    }
}

/// Is `fd` a stream socket (where MSG_WAITALL waits for all the bytes)?
fn stream(fd: c_int) -> bool {
    sockopt(fd, libc::SO_TYPE) == Some(libc::SOCK_STREAM)
}

/// An integer SOL_SOCKET option of `fd`, if it is a socket.
fn sockopt(fd: c_int, opt: c_int) -> Option<c_int> {
    let mut v: c_int = 0;
    let mut l = std::mem::size_of::<c_int>() as socklen_t;
    // SAFETY: valid out-parameters of the right size.
    let r = unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, opt, (&mut v as *mut c_int).cast(), &mut l) };
    (r == 0).then_some(v)
}

/// A send of `total` bytes with `raw(done, flags)`: everything is sent on a
/// blocking socket, as libc's blocking send does.
fn send_like(fd: c_int, flags: c_int, total: usize, raw: impl Fn(usize, c_int) -> isize + Send + Copy) -> isize {
    if flags & libc::MSG_DONTWAIT != 0 {
        return raw(0, flags);
    }
    let mut call = Call::new(fd, Dir::Write);
    io::write_all(total, fd, |done| call.run(&mut || raw(done, flags | libc::MSG_DONTWAIT), &mut move || raw(done, flags)))
}

unsafe fn on_send(real: unsafe extern "C" fn(c_int, *const c_void, size_t, c_int) -> ssize_t, fd: c_int, buf: *const c_void, n: size_t, flags: c_int) -> ssize_t {
    let b = P(buf);
    // SAFETY: within the caller's buffer (done < n).
    send_like(fd, flags, n, move |done, fl| unsafe { real(fd, { b }.0.byte_add(done), n - done, fl) })
}

unsafe fn on_sendto(
    real: unsafe extern "C" fn(c_int, *const c_void, size_t, c_int, *const sockaddr, socklen_t) -> ssize_t,
    fd: c_int,
    buf: *const c_void,
    n: size_t,
    flags: c_int,
    addr: *const sockaddr,
    len: socklen_t,
) -> ssize_t {
    let (b, a) = (P(buf), P(addr));
    // SAFETY: within the caller's buffer (done < n).
    send_like(fd, flags, n, move |done, fl| unsafe { real(fd, { b }.0.byte_add(done), n - done, fl, { a }.0, len) })
}

unsafe fn on_sendmsg(real: unsafe extern "C" fn(c_int, *const msghdr, c_int) -> ssize_t, fd: c_int, msg: *const msghdr, flags: c_int) -> ssize_t {
    if msg.is_null() || flags & libc::MSG_DONTWAIT != 0 {
        // SAFETY: straight call (libc reports EFAULT, or the program asked
        // for a non-blocking send).
        return unsafe { real(fd, msg, flags) };
    }
    // SAFETY: the caller's message header and vector.
    let (orig, iov) = unsafe { (*msg, std::slice::from_raw_parts((*msg).msg_iov, (*msg).msg_iovlen)) };
    let total: usize = iov.iter().map(|v| v.iov_len).sum();
    let mut rest = Vec::new();
    let mut call = Call::new(fd, Dir::Write);
    io::write_all(total, fd, |done| {
        let mut m = orig;
        if done > 0 {
            // The rest of a partly sent message; ancillary data went with
            // its first part.
            crate::hooks::rw::advance(iov, done, &mut rest);
            m.msg_iov = rest.as_mut_ptr();
            m.msg_iovlen = rest.len();
            m.msg_control = std::ptr::null_mut();
            m.msg_controllen = 0;
        }
        let m = P(m);
        // SAFETY: the caller's buffers, re-described from `done` on.
        call.run(&mut || unsafe { real(fd, &{ m }.0, flags | libc::MSG_DONTWAIT) }, &mut move || unsafe { real(fd, &{ m }.0, flags) })
    })
}

/// One accept at a time in this process: the listener is checked readable
/// and accepted from under this lock, so two coroutines woken by the same
/// connection cannot both block in accept.
static ACCEPT: Mutex<()> = Mutex::new(());

/// Is `fd` a listening socket? (Anything else makes accept fail at once,
/// with libc's own error.)
fn listening(fd: c_int) -> bool {
    sockopt(fd, libc::SO_ACCEPTCONN).is_some_and(|v| v != 0)
}

fn accept_like(g: &Guard, fd: c_int, raw: impl Fn() -> c_int + Send + Copy) -> c_int {
    if !g.on_coroutine() || !worker::has_company() || reactor::user_nonblocking(fd) || !listening(fd) {
        return reactor::fresh(raw());
    }
    let nowait = || {
        let _one = ACCEPT.lock().unwrap_or_else(|e| e.into_inner());
        if io::readable_now(fd) {
            raw() as isize
        } else {
            io::fail(libc::EAGAIN)
        }
    };
    let r = Call::new(fd, Dir::Read).run(&mut { nowait }, &mut move || raw() as isize);
    reactor::fresh(r as c_int)
}


unsafe fn on_accept(g: &Guard, real: unsafe extern "C" fn(c_int, *mut sockaddr, *mut socklen_t) -> c_int, fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int {
    let (a, l) = (P(addr), P(len));
    // SAFETY: the caller's address buffers, as for accept itself.
    accept_like(g, fd, move || unsafe { real(fd, { a }.0, { l }.0) })
}

unsafe fn on_accept4(
    g: &Guard,
    real: unsafe extern "C" fn(c_int, *mut sockaddr, *mut socklen_t, c_int) -> c_int,
    fd: c_int,
    addr: *mut sockaddr,
    len: *mut socklen_t,
    flags: c_int,
) -> c_int {
    let (a, l) = (P(addr), P(len));
    // SAFETY: the caller's address buffers, as for accept4 itself.
    accept_like(g, fd, move || unsafe { real(fd, { a }.0, { l }.0, flags) })
}

/// `listen` with a backlog of at least `OPENCORO_LISTEN_BACKLOG` (128):
/// while the accept queue is full the kernel drops handshakes, and the
/// clients wait for its retransmissions (1 s, then doubling). An accepting
/// green thread shares its worker with the program's other threads, so it
/// drains the queue later than an OS thread that runs beside them: with a
/// backlog of 5 (Python's `socketserver`) and 50 threads of the process
/// connecting at once beside a busy process, a server took 14 s where it
/// takes 1.4 s natively (`make bench-accept`). The backlog is a hint
/// (POSIX), capped by the kernel at `net.core.somaxconn`; Go always passes
/// the cap.
unsafe fn on_listen(_g: &Guard, real: unsafe extern "C" fn(c_int, c_int) -> c_int, fd: c_int, backlog: c_int) -> c_int {
    let least = crate::config::get().listen_backlog;
    // A negative backlog already means the kernel's cap.
    let backlog = if backlog >= 0 && backlog < least { least } else { backlog };
    // SAFETY: the caller's call, with at least the runtime's backlog.
    unsafe { real(fd, backlog) }
}

unsafe fn on_connect(real: unsafe extern "C" fn(c_int, *const sockaddr, socklen_t) -> c_int, fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int {
    if reactor::user_nonblocking(fd) {
        // SAFETY: a straight call with the caller's arguments.
        return unsafe { real(fd, addr, len) };
    }
    let Some(tok) = reactor::token(fd) else {
        // SAFETY: as above.
        return unsafe { real(fd, addr, len) };
    };
    // The one place the runtime sets O_NONBLOCK: around this connect call
    // only, on a socket being connected (not yet shared with anyone).
    let fcntl = |cmd: c_int, arg: usize| -> isize {
        // SAFETY: F_GETFL/F_SETFL on the caller's fd; raw (fcntl is our hook).
        unsafe { syscall6(libc::SYS_fcntl, fd as usize, cmd as usize, arg, 0, 0, 0) }
    };
    let fl = fcntl(libc::F_GETFL, 0);
    if fl < 0 {
        return io::fail(-fl as c_int) as c_int;
    }
    fcntl(libc::F_SETFL, (fl as usize) | libc::O_NONBLOCK as usize);
    // SAFETY: the caller's address, as for connect itself.
    let r = unsafe { real(fd, addr, len) };
    fcntl(libc::F_SETFL, fl as usize); // raw: errno stays the connect's
    if r == 0 || errno() != libc::EINPROGRESS {
        return r;
    }
    let deadline = reactor::timeout_deadline(fd, Dir::Write);
    loop {
        match reactor::wait(tok, Dir::Write, deadline) {
            Wait::TimedOut => return io::fail(libc::EINPROGRESS) as c_int,
            Wait::Closed => return io::fail(libc::EBADF) as c_int,
            Wait::Ready | Wait::Unpollable => {}
        }
        if io::ready_now(fd, libc::POLLOUT) {
            break;
        }
    }
    let mut err: c_int = 0;
    let mut l = std::mem::size_of::<c_int>() as socklen_t;
    // SAFETY: valid out-parameters of the right size.
    unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_ERROR, (&mut err as *mut c_int).cast(), &mut l) };
    if err != 0 {
        return io::fail(err) as c_int;
    }
    // Connect once more, now that it has completed: the kernel marks the
    // socket connected only inside a connect call, as a blocking connect
    // would have (else the program's next connect returns 0, not EISCONN).
    // SAFETY: the caller's address, as for connect itself.
    let again = unsafe { real(fd, addr, len) };
    if again == 0 || errno() == libc::EISCONN {
        return 0;
    }
    -1
}

unsafe fn on_socket(_g: &Guard, real: unsafe extern "C" fn(c_int, c_int, c_int) -> c_int, domain: c_int, ty: c_int, proto: c_int) -> c_int {
    // SAFETY: a straight call with the caller's arguments.
    reactor::fresh(unsafe { real(domain, ty, proto) })
}

unsafe fn on_socketpair(
    _g: &Guard,
    real: unsafe extern "C" fn(c_int, c_int, c_int, *mut c_int) -> c_int,
    domain: c_int,
    ty: c_int,
    proto: c_int,
    sv: *mut c_int,
) -> c_int {
    // SAFETY: a straight call with the caller's arguments.
    // SAFETY: a straight call with the caller's arguments; then libc's own output.
    unsafe { crate::hooks::fd::forget_pair(real(domain, ty, proto, sv), sv) }
}

unsafe fn on_setsockopt(
    _g: &Guard,
    real: unsafe extern "C" fn(c_int, c_int, c_int, *const c_void, socklen_t) -> c_int,
    fd: c_int,
    level: c_int,
    opt: c_int,
    val: *const c_void,
    len: socklen_t,
) -> c_int {
    // SAFETY: a straight call with the caller's arguments.
    let r = unsafe { real(fd, level, opt, val, len) };
    if level == libc::SOL_SOCKET && (opt == libc::SO_RCVTIMEO || opt == libc::SO_SNDTIMEO) {
        reactor::flags_changed();
    }
    r
}
