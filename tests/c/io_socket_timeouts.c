// SO_RCVTIMEO and SO_SNDTIMEO end a blocking socket call with EAGAIN after
// the set time, as libc's do: recv, read and accept with no data (EAGAIN
// after >= 100 ms, well under 2 s, while the ticker on the same worker
// keeps ticking); data that comes in time is returned; a send on a full
// buffer returns the bytes it could write, and -1/EAGAIN when it could
// write none; a connect to a listener whose backlog is full ends with
// EINPROGRESS; a timeout set back to 0 waits for ever again. (A full
// backlog needs the program's own: OPENCORO_LISTEN_BACKLOG=0.)
// env: OPENCORO_WORKERS=1 OPENCORO_LISTEN_BACKLOG=0
// native: same
// link: no
// timeout: 30
#include "io_common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

static void set_timeout(int fd, int opt, int ms) {
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    CHECKF(setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv) == 0, "setsockopt: %s", ERRNAME(errno));
}

/* Runs `call`, which must fail with EAGAIN (or, for connect, EINPROGRESS)
 * after the 100 ms timeout; returns nothing, prints the outcome. */
#define EXPECT_TIMEOUT(call, want, what)                                                               \
    do {                                                                                               \
        long t0_ = io_ticks();                                                                         \
        double s_ = io_now_ms();                                                                       \
        io_watchdog(3000, what);                                                                       \
        errno = 0;                                                                                     \
        long r_ = (long)(call);                                                                        \
        int e_ = errno;                                                                                \
        io_watchdog_cancel();                                                                          \
        double took_ = io_now_ms() - s_;                                                               \
        CHECKF(r_ == -1 && e_ == want, "%s: returned %ld, errno %s", what, r_, ERRNAME(e_));           \
        CHECKF(took_ >= 100 && took_ < 2000, "%s: %s after %.1f ms (timeout 100 ms)", what, ERRNAME(e_), took_); \
        CHECKF(io_ticks() - t0_ >= 3, "%s: ticker ticked %ld times in %.0f ms", what, io_ticks() - t0_, took_); \
        printf("%s: %s after the timeout\n", what, ERRNAME(e_));                                       \
    } while (0)

static int tcp_listener(struct sockaddr_in *a, int backlog) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(l >= 0);
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof *a;
    CHECK(bind(l, (struct sockaddr *)a, sizeof *a) == 0);
    CHECK(listen(l, backlog) == 0);
    CHECK(getsockname(l, (struct sockaddr *)a, &len) == 0);
    return l;
}

int main(void) {
    static char big[4 << 20];
    char buf[64];
    int sv[2];
    io_ticker_start(2000);

    /* 1. SO_RCVTIMEO on a socketpair with no data: recv, read. */
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    set_timeout(sv[0], SO_RCVTIMEO, 100);
    EXPECT_TIMEOUT(recv(sv[0], buf, sizeof buf, 0), EAGAIN, "recv with SO_RCVTIMEO 100 ms");
    EXPECT_TIMEOUT(read(sv[0], buf, sizeof buf), EAGAIN, "read with SO_RCVTIMEO 100 ms");
    EXPECT_TIMEOUT(recvfrom(sv[0], buf, sizeof buf, 0, NULL, NULL), EAGAIN, "recvfrom with SO_RCVTIMEO 100 ms");

    /* 2. Data that comes before the timeout is returned. */
    set_timeout(sv[0], SO_RCVTIMEO, 2000);
    pthread_t t = io_write_after(100, sv[1], "in time", 7);
    ssize_t n = recv(sv[0], buf, sizeof buf, 0);
    CHECKF(n == 7 && memcmp(buf, "in time", 7) == 0, "recv returned %zd (%s)", n, n < 0 ? ERRNAME(errno) : "");
    io_wait(t);
    printf("recv with SO_RCVTIMEO 2 s: data that came after 100 ms\n");

    /* 3. Timeout back to 0: waits for ever (here: 300 ms, for a thread). */
    set_timeout(sv[0], SO_RCVTIMEO, 0);
    t = io_write_after(300, sv[1], "late", 4);
    io_watchdog(3000, "recv with SO_RCVTIMEO 0");
    n = recv(sv[0], buf, sizeof buf, 0);
    io_watchdog_cancel();
    CHECKF(n == 4, "recv returned %zd (%s)", n, n < 0 ? ERRNAME(errno) : "");
    io_wait(t);
    printf("recv with SO_RCVTIMEO set back to 0 waited for the data\n");

    /* 4. SO_SNDTIMEO on a full buffer: the first send writes what fits and
     * returns that count after the timeout, the next one gets EAGAIN. */
    set_timeout(sv[1], SO_SNDTIMEO, 100);
    long t0 = io_ticks();
    double s = io_now_ms();
    io_watchdog(3000, "send of 4 MiB with SO_SNDTIMEO 100 ms");
    n = send(sv[1], big, sizeof big, 0);
    io_watchdog_cancel();
    double took = io_now_ms() - s;
    CHECKF(n > 0 && n < (ssize_t)sizeof big, "send of 4 MiB returned %zd (%s)", n, n < 0 ? ERRNAME(errno) : "");
    CHECKF(took >= 100 && took < 2000, "send returned after %.1f ms", took);
    CHECKF(io_ticks() - t0 >= 3, "ticker ticked %ld times while send waited", io_ticks() - t0);
    printf("send of 4 MiB with SO_SNDTIMEO 100 ms: a partial count after the timeout\n");
    EXPECT_TIMEOUT(send(sv[1], big, 1000, 0), EAGAIN, "send on the full buffer");
    EXPECT_TIMEOUT(write(sv[1], big, 1000), EAGAIN, "write on the full buffer");
    CHECK(close(sv[0]) == 0 && close(sv[1]) == 0);

    /* 5. TCP: recv on a connected socket, accept on a listener. */
    struct sockaddr_in addr;
    int l = tcp_listener(&addr, 0);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(c >= 0 && connect(c, (struct sockaddr *)&addr, sizeof addr) == 0);
    set_timeout(c, SO_RCVTIMEO, 100);
    EXPECT_TIMEOUT(recv(c, buf, sizeof buf, 0), EAGAIN, "TCP recv with SO_RCVTIMEO 100 ms");
    /* Once the connection is in the listener's accept queue (readable), its
     * backlog (0: one connection) is full: a second connect's SYN is
     * dropped and it times out with EINPROGRESS. */
    struct pollfd lp = {l, POLLIN, 0};
    CHECK(poll(&lp, 1, 3000) == 1);
    int c2 = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(c2 >= 0);
    set_timeout(c2, SO_SNDTIMEO, 100);
    EXPECT_TIMEOUT(connect(c2, (struct sockaddr *)&addr, sizeof addr), EINPROGRESS,
                   "connect to a full backlog with SO_SNDTIMEO 100 ms");
    CHECK(close(c2) == 0);
    int a = accept(l, NULL, NULL);
    CHECK(a >= 0);
    CHECK(close(a) == 0 && close(c) == 0);
    set_timeout(l, SO_RCVTIMEO, 100);
    EXPECT_TIMEOUT(accept(l, NULL, NULL), EAGAIN, "accept with SO_RCVTIMEO 100 ms");
    CHECK(close(l) == 0);

    io_ticker_stop();
    return 0;
}
