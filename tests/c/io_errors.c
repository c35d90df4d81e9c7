// Errors from the hooked calls are libc's own, with a ticker on the same
// worker so the hooks take their coroutine path: EPIPE with SIGPIPE ignored
// (at once, after a wait, and a partial count when some was written),
// ECONNREFUSED, ECONNRESET (the peer closes with SO_LINGER 0 while data is
// unread and a recv waits), EBADF, ENOTSOCK, EINVAL, ESPIPE, EFAULT,
// EISDIR, ENOTCONN, EMSGSIZE. Each call is bounded by a watchdog: an error
// must not turn into a wait.
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 30
#include "io_common.h"
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Prints "WHAT: RESULT" or "WHAT: -1 ENAME". */
#define TRY(call, what)                                                       \
    do {                                                                      \
        io_watchdog(3000, what);                                              \
        errno = 0;                                                            \
        long r_ = (long)(call);                                               \
        int e_ = errno;                                                       \
        io_watchdog_cancel();                                                 \
        if (r_ < 0) printf("%s: %ld %s\n", what, r_, ERRNAME(e_));            \
        else printf("%s: %ld\n", what, r_);                                   \
    } while (0)

static struct sockaddr_in loopback(void) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int bound_tcp(struct sockaddr_in *a) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s >= 0);
    *a = loopback();
    socklen_t len = sizeof *a;
    CHECK(bind(s, (struct sockaddr *)a, sizeof *a) == 0);
    CHECK(getsockname(s, (struct sockaddr *)a, &len) == 0);
    return s;
}

static void reset_close(void *p) {
    int fd = (int)(intptr_t)p;
    struct linger lg = {1, 0};
    CHECK(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    CHECK(close(fd) == 0);
}

/* An fd number that is not open, within the process's fd table (select
 * ignores fds beyond it), and high enough not to be reused by the test. */
static int closed_fd(void) {
    CHECK(dup2(0, 200) == 200 && close(200) == 0);
    return 200;
}

int main(void) {
    static char buf[1 << 17];
    int p[2], sv[2];
    signal(SIGPIPE, SIG_IGN);
    io_ticker_start(2000);

    /* EPIPE at once */
    CHECK(pipe(p) == 0);
    CHECK(close(p[0]) == 0);
    TRY(write(p[1], "x", 1), "write to a pipe without readers");
    struct iovec iov[2] = {{buf, 10}, {buf, 10}};
    TRY(writev(p[1], iov, 2), "writev to a pipe without readers");
    CHECK(close(p[1]) == 0);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK(close(sv[1]) == 0);
    TRY(send(sv[0], "x", 1, 0), "send to a closed peer");
    TRY(send(sv[0], "x", 1, MSG_NOSIGNAL), "send MSG_NOSIGNAL to a closed peer");
    TRY(recv(sv[0], buf, 10, 0), "recv from a closed peer");
    CHECK(close(sv[0]) == 0);

    /* EPIPE after a wait: the pipe is full, its reader closes 100 ms later. */
    CHECK(pipe(p) == 0);
    int cap = fcntl(p[1], F_GETPIPE_SZ);
    CHECK(cap > 0 && cap <= (int)sizeof buf);
    CHECK(write(p[1], buf, cap) == cap);
    pthread_t t = io_close_after(100, p[0]);
    long t0 = io_ticks();
    TRY(write(p[1], buf, 1000), "write to a full pipe whose reader closes while it waits");
    CHECKF(io_ticks() - t0 >= 2, "ticker ticked %ld times while write waited", io_ticks() - t0);
    io_wait(t);
    CHECK(close(p[1]) == 0);
    /* ... and a write larger than the pipe: the count written before. */
    CHECK(pipe(p) == 0);
    CHECK(fcntl(p[1], F_GETPIPE_SZ) == cap);
    t = io_close_after(100, p[0]);
    io_watchdog(3000, "write larger than the pipe");
    errno = 0;
    ssize_t n = write(p[1], buf, cap + 1000);
    io_watchdog_cancel();
    CHECKF(n == cap, "write of %d bytes returned %zd (%s)", cap + 1000, n, n < 0 ? ERRNAME(errno) : "");
    printf("write larger than a pipe whose reader closes: returned the pipe's capacity\n");
    io_wait(t);
    CHECK(close(p[1]) == 0);

    /* ECONNREFUSED: a bound socket that does not listen. */
    struct sockaddr_in addr;
    int quiet = bound_tcp(&addr);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(c >= 0);
    TRY(connect(c, (struct sockaddr *)&addr, sizeof addr), "connect to a port nobody listens on");
    TRY(fcntl(c, F_GETFL) & O_NONBLOCK, "O_NONBLOCK after the refused connect");
    CHECK(close(c) == 0);

    /* ENOTCONN, EINVAL on sockets */
    c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(c >= 0);
    TRY(recv(c, buf, 10, 0), "recv on an unconnected TCP socket");
    TRY(send(c, "x", 1, 0), "send on an unconnected TCP socket");
    TRY(accept(quiet, NULL, NULL), "accept on a socket that does not listen");
    TRY(connect(c, (struct sockaddr *)&addr, 1), "connect with an address length of 1");
    CHECK(close(c) == 0);

    /* ECONNRESET: the peer resets while our recv waits. */
    CHECK(listen(quiet, 4) == 0);
    c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(c >= 0 && connect(c, (struct sockaddr *)&addr, sizeof addr) == 0);
    int a = accept(quiet, NULL, NULL);
    CHECK(a >= 0);
    CHECK(send(c, "unread", 6, 0) == 6);
    t = io_after(100, reset_close, (void *)(intptr_t)a);
    t0 = io_ticks();
    TRY(recv(c, buf, 10, 0), "recv while the peer resets");
    CHECKF(io_ticks() - t0 >= 2, "ticker ticked %ld times while recv waited", io_ticks() - t0);
    io_wait(t);
    TRY(recv(c, buf, 10, 0), "recv after the reset");
    TRY(send(c, "x", 1, 0), "send after the reset");
    CHECK(close(c) == 0 && close(quiet) == 0);

    /* EMSGSIZE: a UDP datagram larger than the maximum. */
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(u >= 0);
    struct sockaddr_in ua = loopback();
    ua.sin_port = htons(9); /* never reached: too large to be sent */
    TRY(sendto(u, buf, 70000, 0, (struct sockaddr *)&ua, sizeof ua), "sendto of a 70000-byte UDP datagram");
    CHECK(close(u) == 0);

    /* EBADF */
    int dead = closed_fd();
    TRY(read(dead, buf, 10), "read on a closed fd");
    TRY(write(dead, "x", 1), "write on a closed fd");
    TRY(readv(dead, iov, 2), "readv on a closed fd");
    TRY(recv(dead, buf, 10, 0), "recv on a closed fd");
    TRY(send(dead, "x", 1, 0), "send on a closed fd");
    TRY(accept(dead, NULL, NULL), "accept on a closed fd");
    TRY(connect(dead, (struct sockaddr *)&addr, sizeof addr), "connect on a closed fd");
    TRY(close(dead), "close of a closed fd");
    TRY(fsync(dead), "fsync of a closed fd");
    TRY(read(-1, buf, 10), "read on fd -1");
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(dead, &rs);
    struct timeval tv = {1, 0};
    TRY(select(dead + 1, &rs, NULL, NULL, &tv), "select on a closed fd");
    struct epoll_event ev[4];
    TRY(epoll_wait(dead, ev, 4, 1000), "epoll_wait on a closed fd");
    CHECK(pipe(p) == 0);
    TRY(write(p[0], "x", 1), "write on a pipe's read end");
    TRY(read(p[1], buf, 10), "read on a pipe's write end");

    /* ENOTSOCK, ESPIPE, EINVAL, EFAULT on a pipe */
    TRY(recv(p[0], buf, 10, 0), "recv on a pipe");
    TRY(send(p[1], "x", 1, 0), "send on a pipe");
    TRY(connect(p[0], (struct sockaddr *)&addr, sizeof addr), "connect on a pipe");
    TRY(pread(p[0], buf, 10, 0), "pread on a pipe");
    TRY(pwrite(p[1], "x", 1, 0), "pwrite on a pipe");
    TRY(pread(p[0], buf, 10, -1), "pread with offset -1");
    TRY(readv(p[0], iov, -1), "readv with iovcnt -1");
    TRY(writev(p[1], iov, IOV_MAX + 1), "writev with iovcnt IOV_MAX+1");
    TRY(writev(p[1], iov, 0), "writev with iovcnt 0");
    CHECK(write(p[1], "abc", 3) == 3);
    TRY(read(p[0], NULL, 3), "read into NULL with data waiting");
    TRY(write(p[1], NULL, 3), "write from NULL");
    TRY(read(p[0], buf, 10), "read what is left");
    CHECK(close(p[0]) == 0 && close(p[1]) == 0);

    /* Readiness calls */
    FD_ZERO(&rs);
    tv.tv_sec = 1;
    TRY(select(-1, &rs, NULL, NULL, &tv), "select with nfds -1");
    struct timespec bad = {0, 2000000000L};
    struct pollfd pf = {0, POLLIN, 0};
    TRY(ppoll(&pf, 1, &bad, NULL), "ppoll with tv_nsec 2e9");
    int ep = epoll_create1(0);
    CHECK(ep >= 0);
    TRY(epoll_wait(ep, ev, 0, 1000), "epoll_wait with maxevents 0");
    CHECK(close(ep) == 0);

    /* EISDIR */
    int d = open(".", O_RDONLY);
    CHECK(d >= 0);
    TRY(read(d, buf, 10), "read on a directory");
    CHECK(close(d) == 0);

    /* Last, as the calls most likely to go wrong badly: poll with more fds
     * than RLIMIT_NOFILE (EINVAL; the array is not even read), and accept
     * on a non-socket that is not readable (ENOTSOCK, not a wait). */
    TRY(poll(&pf, (nfds_t)1 << 30, 1000), "poll with 2^30 fds");
    CHECK(pipe(p) == 0);
    TRY(accept(p[0], NULL, NULL), "accept on an empty pipe");
    CHECK(close(p[0]) == 0 && close(p[1]) == 0);

    io_ticker_stop();
    return 0;
}
