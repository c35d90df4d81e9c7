// The reactor is polled even when the worker never goes idle: a spinner
// coroutine that only yields (sched_yield) shares the worker with main,
// which waits in read on a pipe, in recv on a socket and in poll, each fed
// by a plain thread 100 ms later. Each call must return the data soon after
// it is written (well within a second) while the spinner keeps spinning.
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 20
#include "io_common.h"
#include <poll.h>
#include <sys/socket.h>

static void expect_soon(double written_at_ms, const char *what) {
    double late = io_now_ms() - written_at_ms;
    CHECKF(late < 1000, "%s returned %.0f ms after the data was written", what, late);
}

int main(void) {
    int p[2], sv[2];
    char buf[16];
    CHECK(pipe(p) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    io_spinner_start();

    double at = io_now_ms() + 100;
    pthread_t t = io_write_after(100, p[1], "pipe", 4);
    long s0 = io_spins();
    io_watchdog(3000, "read while a spinner spins");
    ssize_t n = read(p[0], buf, sizeof buf);
    io_watchdog_cancel();
    CHECK(n == 4 && memcmp(buf, "pipe", 4) == 0);
    expect_soon(at, "read");
    CHECKF(io_spins() - s0 > 10, "the spinner spun %ld times while read waited", io_spins() - s0);
    io_wait(t);
    printf("read while a spinner spins: got the data\n");

    at = io_now_ms() + 100;
    t = io_write_after(100, sv[1], "sock", 4);
    io_watchdog(3000, "recv while a spinner spins");
    n = recv(sv[0], buf, sizeof buf, 0);
    io_watchdog_cancel();
    CHECK(n == 4 && memcmp(buf, "sock", 4) == 0);
    expect_soon(at, "recv");
    io_wait(t);
    printf("recv while a spinner spins: got the data\n");

    at = io_now_ms() + 100;
    t = io_write_after(100, p[1], "poll", 4);
    struct pollfd pf = {p[0], POLLIN, 0};
    io_watchdog(3000, "poll while a spinner spins");
    int r = poll(&pf, 1, 5000);
    io_watchdog_cancel();
    CHECK(r == 1 && pf.revents == POLLIN);
    expect_soon(at, "poll");
    io_wait(t);
    CHECK(read(p[0], buf, sizeof buf) == 4);
    printf("poll while a spinner spins: POLLIN\n");

    io_spinner_stop();
    return 0;
}
