// An fd number closed behind the runtime's back (close_range, or the raw
// close system call: neither goes through the close hook) and then reused
// by an fd the hooks did not create (eventfd): the new fd must behave as a
// new file. A read on it waits for its data (a thread writes 100 ms later)
// and gets it, whether the old fd was blocking and had been waited on (so
// was registered with the runtime's poller) or was non-blocking (so the
// runtime had noted the program's O_NONBLOCK).
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 20
#include "io_common.h"
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>

static void read_eventfd(int fd, const char *what) {
    uint64_t v = 7;
    pthread_t t = io_write_after(100, fd, &v, sizeof v);
    long t0 = io_ticks();
    io_watchdog(1500, what);
    uint64_t got = 0;
    errno = 0;
    ssize_t n = read(fd, &got, sizeof got);
    int e = errno;
    io_watchdog_cancel();
    CHECKF(n == 8 && got == 7, "%s: read returned %zd (%s), value %llu", what, n, n < 0 ? ERRNAME(e) : "",
           (unsigned long long)got);
    CHECKF(io_ticks() - t0 >= 2, "%s: ticker ticked %ld times while read waited", what, io_ticks() - t0);
    io_wait(t);
    printf("%s: read waited and got 7\n", what);
}

int main(void) {
    char buf[16];
    int p[2], old, e;
    pthread_t t;
    io_ticker_start(2000);

    /* 1. A blocking pipe the runtime waited on, closed with close_range. */
    CHECK(pipe(p) == 0);
    t = io_write_after(80, p[1], "x", 1);
    CHECK(read(p[0], buf, sizeof buf) == 1);
    io_wait(t);
    old = p[0];
    CHECK(close_range(old, old, 0) == 0);
    e = eventfd(0, 0);
    CHECKF(e == old, "eventfd got %d, not the closed %d", e, old);
    read_eventfd(e, "eventfd on the number of a waited-on pipe closed by close_range");
    CHECK(close(e) == 0 && close(p[1]) == 0);

    /* 2. The same with the raw close system call. */
    CHECK(pipe(p) == 0);
    t = io_write_after(80, p[1], "x", 1);
    CHECK(read(p[0], buf, sizeof buf) == 1);
    io_wait(t);
    old = p[0];
    CHECK(syscall(SYS_close, old) == 0);
    e = eventfd(0, 0);
    CHECKF(e == old, "eventfd got %d, not the closed %d", e, old);
    read_eventfd(e, "eventfd on the number of a waited-on pipe closed by SYS_close");
    CHECK(close(e) == 0 && close(p[1]) == 0);

    /* 3. A non-blocking pipe (EAGAIN seen), closed with close_range. */
    CHECK(pipe2(p, O_NONBLOCK) == 0);
    errno = 0;
    CHECK(read(p[0], buf, sizeof buf) == -1 && errno == EAGAIN);
    old = p[0];
    CHECK(close_range(old, old, 0) == 0);
    e = eventfd(0, 0);
    CHECKF(e == old, "eventfd got %d, not the closed %d", e, old);
    read_eventfd(e, "eventfd on the number of a non-blocking pipe closed by close_range");
    CHECK(close(e) == 0 && close(p[1]) == 0);

    io_ticker_stop();
    return 0;
}
