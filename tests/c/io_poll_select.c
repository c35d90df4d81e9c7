// poll, ppoll, select and pselect in a coroutine that shares its worker
// with a ticker: timeouts are honoured (0 after >= the timeout, and the
// ticker ticks meanwhile), an empty set with a timeout sleeps, negative fds
// are ignored, a closed fd gets POLLNVAL at once, a regular file is always
// ready, eventfd/pipe/socket readiness caused by a plain thread wakes the
// caller, mixed ready and not-ready sets report exactly the ready ones,
// POLLHUP after the writer closes. select reports the time left in its
// timeval (Linux), clears the sets of fds that are not ready and sleeps
// with empty sets; ppoll and pselect leave their timespec alone (glibc).
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 30
#include "io_common.h"
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>

static const char *ev(short r) {
    static char s[8][80];
    static int k;
    char *b = s[k++ % 8];
    b[0] = 0;
    if (r & POLLIN) strcat(b, "|IN");
    if (r & POLLOUT) strcat(b, "|OUT");
    if (r & POLLERR) strcat(b, "|ERR");
    if (r & POLLHUP) strcat(b, "|HUP");
    if (r & POLLNVAL) strcat(b, "|NVAL");
    if (r & ~(POLLIN | POLLOUT | POLLERR | POLLHUP | POLLNVAL)) strcat(b, "|other");
    return b[0] ? b + 1 : "0";
}

/* Measures a call: ms taken and ticks seen. */
static double t_start;
static long k_start;
static void begin(const char *what) {
    io_watchdog(5000, what);
    t_start = io_now_ms();
    k_start = io_ticks();
}
static double took(void) {
    io_watchdog_cancel();
    return io_now_ms() - t_start;
}
static void expect_slept(double ms, int timeout, const char *what) {
    CHECKF(ms >= timeout && ms < timeout + 1000, "%s: returned after %.1f ms (timeout %d ms)", what, ms, timeout);
    CHECKF(io_ticks() - k_start >= 3, "%s: ticker ticked %ld times in %.0f ms", what, io_ticks() - k_start, ms);
}
static void expect_prompt(double ms, const char *what) {
    CHECKF(ms < 500, "%s: took %.0f ms", what, ms);
}

static void eventfd_add(void *p) {
    uint64_t one = 1;
    CHECK(write((int)(intptr_t)p, &one, 8) == 8);
}

static char drainbuf[1 << 17];
static void drain_some(void *p) { CHECK(read((int)(intptr_t)p, drainbuf, 8192) == 8192); }

int main(void) {
    int p[2], q[2], sv[2];
    char buf[64];
    double ms;
    int r;
    io_ticker_start(2000);
    CHECK(pipe(p) == 0 && pipe(q) == 0);
    CHECK(dup2(0, 200) == 200 && close(200) == 0);
    const int dead = 200; /* closed, inside the fd table */

    /* --- poll */
    begin("poll(NULL, 0, 100)");
    r = poll(NULL, 0, 100);
    ms = took();
    CHECK(r == 0);
    expect_slept(ms, 100, "poll with no fds");
    printf("poll with no fds and a 100 ms timeout: 0, slept\n");

    struct pollfd a[4];
    a[0] = (struct pollfd){p[0], POLLIN, 0x55};
    begin("poll on an empty pipe");
    r = poll(a, 1, 100);
    ms = took();
    expect_slept(ms, 100, "poll on an empty pipe");
    printf("poll on an empty pipe, 100 ms: %d, revents %s\n", r, ev(a[0].revents));

    CHECK(write(q[1], "x", 1) == 1);
    a[0] = (struct pollfd){-1, POLLIN, 0x55};
    a[1] = (struct pollfd){q[0], POLLIN, 0};
    a[2] = (struct pollfd){-p[0], POLLIN, 0x55};
    begin("poll with negative fds");
    r = poll(a, 3, 1000);
    ms = took();
    expect_prompt(ms, "poll with negative fds");
    printf("poll with negative fds and a readable pipe: %d, revents %s %s %s\n", r, ev(a[0].revents),
           ev(a[1].revents), ev(a[2].revents));
    CHECK(read(q[0], buf, 1) == 1);

    a[0] = (struct pollfd){dead, POLLIN, 0};
    begin("poll on a closed fd");
    r = poll(a, 1, 1000);
    ms = took();
    expect_prompt(ms, "poll on a closed fd");
    printf("poll on a closed fd: %d, revents %s\n", r, ev(a[0].revents));

    char name[256];
    int f = io_tempfile(name, sizeof name, "poll");
    a[0] = (struct pollfd){f, POLLIN | POLLOUT, 0};
    begin("poll on a regular file");
    r = poll(a, 1, -1);
    ms = took();
    expect_prompt(ms, "poll on a regular file");
    printf("poll on a regular file: %d, revents %s\n", r, ev(a[0].revents));

    int e = eventfd(0, 0);
    CHECK(e >= 0);
    pthread_t t = io_after(100, eventfd_add, (void *)(intptr_t)e);
    a[0] = (struct pollfd){e, POLLIN, 0};
    begin("poll on an eventfd");
    r = poll(a, 1, 3000);
    ms = took();
    CHECKF(io_ticks() - k_start >= 3, "ticker ticked %ld times while poll waited for the eventfd", io_ticks() - k_start);
    io_wait(t);
    printf("poll on an eventfd a thread adds to after 100 ms: %d, revents %s\n", r, ev(a[0].revents));
    uint64_t v;
    CHECK(read(e, &v, 8) == 8 && v == 1);

    CHECK(write(q[1], "y", 1) == 1);
    a[0] = (struct pollfd){p[0], POLLIN, 0};
    a[1] = (struct pollfd){q[0], POLLIN, 0};
    a[2] = (struct pollfd){p[1], POLLOUT, 0};
    a[3] = (struct pollfd){dead, POLLIN, 0};
    begin("poll on a mixed set");
    r = poll(a, 4, 1000);
    ms = took();
    expect_prompt(ms, "poll on a mixed set");
    printf("poll on empty pipe, readable pipe, writable pipe, closed fd: %d, revents %s %s %s %s\n", r,
           ev(a[0].revents), ev(a[1].revents), ev(a[2].revents), ev(a[3].revents));
    CHECK(read(q[0], buf, 1) == 1);

    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    t = io_write_after(100, sv[1], "sock", 4);
    a[0] = (struct pollfd){sv[0], POLLIN, 0};
    begin("poll with no timeout on a socket");
    r = poll(a, 1, -1);
    ms = took();
    CHECKF(io_ticks() - k_start >= 3, "ticker ticked %ld times while poll waited", io_ticks() - k_start);
    io_wait(t);
    printf("poll with no timeout, a thread writes to the socket: %d, revents %s\n", r, ev(a[0].revents));
    CHECK(read(sv[0], buf, 4) == 4);

    int cap = fcntl(q[1], F_GETPIPE_SZ);
    CHECK(cap > 0 && cap <= (int)sizeof drainbuf);
    CHECK(write(q[1], drainbuf, cap) == cap);
    t = io_after(100, drain_some, (void *)(intptr_t)q[0]);
    a[0] = (struct pollfd){q[1], POLLOUT, 0};
    begin("poll POLLOUT on a full pipe");
    r = poll(a, 1, 3000);
    ms = took();
    CHECKF(io_ticks() - k_start >= 3, "ticker ticked %ld times while poll waited for POLLOUT", io_ticks() - k_start);
    io_wait(t);
    printf("poll POLLOUT on a full pipe a thread drains: %d, revents %s\n", r, ev(a[0].revents));
    while (poll(&(struct pollfd){q[0], POLLIN, 0}, 1, 0) == 1) CHECK(read(q[0], drainbuf, sizeof drainbuf) > 0);

    int h[2];
    CHECK(pipe(h) == 0);
    t = io_close_after(100, h[1]);
    a[0] = (struct pollfd){h[0], POLLIN, 0};
    begin("poll while the writer closes");
    r = poll(a, 1, 3000);
    ms = took();
    io_wait(t);
    printf("poll on a pipe whose writer closes: %d, revents %s\n", r, ev(a[0].revents));
    CHECK(close(h[0]) == 0);

    /* --- ppoll */
    struct timespec ts = {0, 100 * 1000000L};
    begin("ppoll with no fds");
    r = ppoll(NULL, 0, &ts, NULL);
    ms = took();
    CHECK(r == 0);
    expect_slept(ms, 100, "ppoll with no fds");
    printf("ppoll with no fds, 100 ms: 0, timespec %s\n", ts.tv_sec == 0 && ts.tv_nsec == 100000000L ? "unchanged" : "changed");

    a[0] = (struct pollfd){p[0], POLLIN, 0};
    begin("ppoll on an empty pipe");
    r = ppoll(a, 1, &ts, NULL);
    ms = took();
    expect_slept(ms, 100, "ppoll on an empty pipe");
    printf("ppoll on an empty pipe, 100 ms: %d, revents %s\n", r, ev(a[0].revents));

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    t = io_write_after(100, p[1], "z", 1);
    a[0] = (struct pollfd){p[0], POLLIN, 0};
    a[1] = (struct pollfd){dead, 0, 0};
    begin("ppoll with no timeout");
    r = ppoll(a, 1, NULL, &mask);
    ms = took();
    CHECKF(io_ticks() - k_start >= 3, "ticker ticked %ld times while ppoll waited", io_ticks() - k_start);
    io_wait(t);
    printf("ppoll with no timeout and a mask, a thread writes: %d, revents %s\n", r, ev(a[0].revents));
    CHECK(read(p[0], buf, 1) == 1);

    /* --- select */
    struct timeval tv = {0, 100000};
    begin("select with empty sets");
    r = select(0, NULL, NULL, NULL, &tv);
    ms = took();
    CHECK(r == 0);
    expect_slept(ms, 100, "select with empty sets");
    printf("select with empty sets, 100 ms: 0, timeval left %ld.%06ld\n", (long)tv.tv_sec, (long)tv.tv_usec);

    fd_set rs, ws;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    tv = (struct timeval){0, 100000};
    begin("select on an empty pipe");
    r = select(p[0] + 1, &rs, NULL, NULL, &tv);
    ms = took();
    expect_slept(ms, 100, "select on an empty pipe");
    printf("select on an empty pipe, 100 ms: %d, fd still set %d, timeval left %ld.%06ld\n", r, FD_ISSET(p[0], &rs),
           (long)tv.tv_sec, (long)tv.tv_usec);

    t = io_write_after(100, p[1], "s", 1);
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    FD_SET(q[0], &rs);
    tv = (struct timeval){2, 0};
    begin("select until a thread writes");
    r = select((p[0] > q[0] ? p[0] : q[0]) + 1, &rs, NULL, NULL, &tv);
    ms = took();
    CHECKF(io_ticks() - k_start >= 3, "ticker ticked %ld times while select waited", io_ticks() - k_start);
    io_wait(t);
    double left = tv.tv_sec * 1e3 + tv.tv_usec / 1e3;
    CHECKF(left > 500 && left < 2000 && left <= 2000 - ms + 50, "select left %.1f ms of 2000 after %.1f ms", left, ms);
    printf("select, 2 s, a thread writes after 100 ms: %d, readable: p %d q %d, timeval shows the time left\n", r,
           FD_ISSET(p[0], &rs), FD_ISSET(q[0], &rs));
    CHECK(read(p[0], buf, 1) == 1);

    FD_ZERO(&rs);
    FD_ZERO(&ws);
    FD_SET(p[0], &rs);
    FD_SET(p[1], &ws);
    FD_SET(f, &rs);
    tv = (struct timeval){1, 0};
    begin("select on a mixed set");
    r = select(200, &rs, &ws, NULL, &tv);
    ms = took();
    expect_prompt(ms, "select on a mixed set");
    printf("select on empty pipe, writable pipe, regular file: %d, set: %d %d %d\n", r, FD_ISSET(p[0], &rs),
           FD_ISSET(p[1], &ws), FD_ISSET(f, &rs));

    /* --- pselect */
    ts = (struct timespec){0, 100 * 1000000L};
    begin("pselect with empty sets");
    r = pselect(0, NULL, NULL, NULL, &ts, NULL);
    ms = took();
    CHECK(r == 0);
    expect_slept(ms, 100, "pselect with empty sets");
    printf("pselect with empty sets, 100 ms: 0, timespec %s\n", ts.tv_sec == 0 && ts.tv_nsec == 100000000L ? "unchanged" : "changed");

    t = io_write_after(100, p[1], "u", 1);
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    ts = (struct timespec){2, 0};
    begin("pselect until a thread writes");
    r = pselect(p[0] + 1, &rs, NULL, NULL, &ts, &mask);
    ms = took();
    CHECKF(io_ticks() - k_start >= 3, "ticker ticked %ld times while pselect waited", io_ticks() - k_start);
    io_wait(t);
    printf("pselect with a mask, a thread writes: %d, readable %d, timespec %s\n", r, FD_ISSET(p[0], &rs),
           ts.tv_sec == 2 && ts.tv_nsec == 0 ? "unchanged" : "changed");
    CHECK(read(p[0], buf, 1) == 1);

    CHECK(close(f) == 0 && unlink(name) == 0);
    io_ticker_stop();
    return 0;
}
