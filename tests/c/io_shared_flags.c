// O_NONBLOCK and socket timeouts belong to the open file (shared by dup'ed
// fds), not to one fd number: after the runtime has waited on fd A, the
// program sets O_NONBLOCK (fcntl F_SETFL, or ioctl FIONBIO) or SO_RCVTIMEO
// through a dup B of A. A read on A must then behave as the file now says:
// EAGAIN at once, or EAGAIN after the 100 ms timeout, as without the
// library (which a watchdog bounds).
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 20
#include "io_common.h"
#include <sys/ioctl.h>
#include <sys/socket.h>

/* A blocking read on fd that waits for a thread's write: the runtime has
 * then looked at fd's flags and timeouts. */
static void waited_read(int fd, int wfd) {
    char buf[8];
    pthread_t t = io_write_after(50, wfd, "w", 1);
    CHECK(read(fd, buf, sizeof buf) == 1);
    io_wait(t);
}

static void expect(int fd, int min_ms, const char *what) {
    char buf[8];
    double s = io_now_ms();
    io_watchdog(1500, what);
    errno = 0;
    ssize_t n = read(fd, buf, sizeof buf);
    int e = errno;
    io_watchdog_cancel();
    double ms = io_now_ms() - s;
    CHECKF(n == -1 && e == EAGAIN, "%s: read returned %zd (%s)", what, n, ERRNAME(e));
    CHECKF(ms >= min_ms && ms < min_ms + 1000, "%s: EAGAIN after %.0f ms", what, ms);
    printf("%s: EAGAIN\n", what);
}

int main(void) {
    int p[2], sv[2], on = 1;
    io_ticker_start(2000);

    CHECK(pipe(p) == 0);
    int d = dup(p[0]);
    CHECK(d >= 0);
    waited_read(p[0], p[1]);
    CHECK(fcntl(d, F_SETFL, O_NONBLOCK) == 0);
    CHECK(fcntl(p[0], F_GETFL) & O_NONBLOCK);
    expect(p[0], 0, "read on A after F_SETFL O_NONBLOCK through its dup B");
    CHECK(close(d) == 0 && close(p[0]) == 0 && close(p[1]) == 0);

    CHECK(pipe(p) == 0);
    d = dup(p[0]);
    CHECK(d >= 0);
    waited_read(p[0], p[1]);
    CHECK(ioctl(d, FIONBIO, &on) == 0);
    expect(p[0], 0, "read on A after ioctl FIONBIO through its dup B");
    CHECK(close(d) == 0 && close(p[0]) == 0 && close(p[1]) == 0);

    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    d = dup(sv[0]);
    CHECK(d >= 0);
    waited_read(sv[0], sv[1]);
    struct timeval tv = {0, 100000};
    CHECK(setsockopt(d, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
    expect(sv[0], 100, "read on A after SO_RCVTIMEO 100 ms through its dup B");
    CHECK(close(d) == 0 && close(sv[0]) == 0 && close(sv[1]) == 0);

    io_ticker_stop();
    return 0;
}
