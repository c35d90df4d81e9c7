// An fd the program made non-blocking keeps returning EAGAIN (the runtime
// does not wait for it), whichever way the program asked: pipe2 O_NONBLOCK,
// fcntl F_SETFL, ioctl FIONBIO, socket/accept4 SOCK_NONBLOCK, or
// MSG_DONTWAIT on one call. F_GETFL reports exactly what the
// program set, also after the runtime waited on the fd while it was
// blocking, and after a blocking connect (which the runtime makes
// non-blocking for its own wait). Turning O_NONBLOCK off again makes reads
// wait again; a new fd that reuses a non-blocking fd's number is blocking.
// (FIFOs opened with open O_NONBLOCK: io_fifo_nonblock.)
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 20
#include "io_common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* The call must fail with EAGAIN at once (well under the 150 ms after which
 * a thread would have given it something). */
#define EXPECT_EAGAIN(call, what)                                                                 \
    do {                                                                                          \
        double s_ = io_now_ms();                                                                  \
        io_watchdog(2000, what);                                                                  \
        errno = 0;                                                                                \
        ssize_t r_ = (call);                                                                      \
        int e_ = errno;                                                                           \
        io_watchdog_cancel();                                                                     \
        double took_ = io_now_ms() - s_;                                                          \
        CHECKF(r_ == -1 && e_ == EAGAIN, "%s: returned %zd, errno %s", what, r_, ERRNAME(e_));    \
        CHECKF(took_ < 100, "%s: EAGAIN took %.0f ms", what, took_);                              \
        printf("%s: EAGAIN\n", what);                                                             \
    } while (0)

static void show_flags(const char *what, int fd, int want) {
    int fl = fcntl(fd, F_GETFL);
    CHECKF(fl == want, "%s: F_GETFL 0x%x, expected 0x%x", what, fl, want);
    printf("%s: F_GETFL %s%s\n", what,
           (fl & O_ACCMODE) == O_RDONLY ? "O_RDONLY" : (fl & O_ACCMODE) == O_WRONLY ? "O_WRONLY" : "O_RDWR",
           fl & O_NONBLOCK ? "|O_NONBLOCK" : "");
}

/* A blocking read that must wait for a thread's write (after 80 ms). */
static void read_waits(int rfd, int wfd, const char *what) {
    pthread_t w = io_write_after(80, wfd, "late", 4);
    char buf[16];
    long t0 = io_ticks();
    double s = io_now_ms();
    ssize_t n = read(rfd, buf, sizeof buf);
    double waited = io_now_ms() - s;
    CHECKF(n == 4 && memcmp(buf, "late", 4) == 0, "%s: read returned %zd (%s)", what, n, n < 0 ? ERRNAME(errno) : "");
    CHECKF(waited >= 50, "%s: read returned after %.0f ms", what, waited);
    CHECKF(io_ticks() - t0 >= 2, "%s: ticker ticked %ld times while read waited", what, io_ticks() - t0);
    io_wait(w);
    printf("%s: read waited for the data\n", what);
}

static int listener(struct sockaddr_in *addr, int type_flags) {
    int l = socket(AF_INET, SOCK_STREAM | type_flags, 0);
    CHECK(l >= 0);
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof *addr;
    CHECK(bind(l, (struct sockaddr *)addr, sizeof *addr) == 0);
    CHECK(listen(l, 16) == 0);
    CHECK(getsockname(l, (struct sockaddr *)addr, &len) == 0);
    return l;
}

static void do_connect(void *p) {
    struct sockaddr_in *a = p;
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(c >= 0);
    CHECK(connect(c, (struct sockaddr *)a, sizeof *a) == 0);
    /* Leaks c: it lives until the process ends, so the accepted end stays open. */
}

int main(void) {
    char buf[65536];
    io_ticker_start(2000);

    /* 1. pipe2(O_NONBLOCK) */
    int p[2];
    CHECK(pipe2(p, O_NONBLOCK) == 0);
    show_flags("pipe2 O_NONBLOCK read end", p[0], O_RDONLY | O_NONBLOCK);
    show_flags("pipe2 O_NONBLOCK write end", p[1], O_WRONLY | O_NONBLOCK);
    EXPECT_EAGAIN(read(p[0], buf, 10), "read on an empty O_NONBLOCK pipe");
    EXPECT_EAGAIN(read(p[0], buf, 10), "read on it again");
    int cap = fcntl(p[1], F_GETPIPE_SZ);
    CHECK(cap > 0);
    long filled = 0;
    for (;;) {
        ssize_t n = write(p[1], buf, 4096);
        if (n < 0) {
            CHECKF(errno == EAGAIN, "write to a full O_NONBLOCK pipe: %s", ERRNAME(errno));
            break;
        }
        CHECK(n == 4096);
        filled += n;
        CHECK(filled <= cap);
    }
    CHECKF(filled == cap, "filled %ld of a %d-byte pipe", filled, cap);
    printf("4096-byte writes filled the O_NONBLOCK pipe to its capacity, then EAGAIN\n");
    EXPECT_EAGAIN(write(p[1], buf, 1), "write to the full O_NONBLOCK pipe");
    CHECK(read(p[0], buf, 4096) == 4096);
    ssize_t n = write(p[1], buf, 10000);
    CHECKF(n == 4096, "write of 10000 bytes with 4096 free returned %zd (%s)", n, n < 0 ? ERRNAME(errno) : "");
    printf("write of 10000 bytes with 4096 free: partial write of 4096\n");
    CHECK(close(p[0]) == 0 && close(p[1]) == 0);

    /* 2. A new pipe that gets the same numbers is blocking: reads wait. */
    int q[2];
    CHECK(pipe(q) == 0);
    CHECKF(q[0] == p[0] && q[1] == p[1], "fd numbers %d,%d not reused (%d,%d)", q[0], q[1], p[0], p[1]);
    show_flags("blocking pipe on the same fd numbers", q[0], O_RDONLY);
    read_waits(q[0], q[1], "blocking pipe on the same fd numbers");

    /* 3. fcntl F_SETFL on the pipe the runtime has just waited on. */
    show_flags("after the runtime waited on it", q[0], O_RDONLY);
    CHECK(fcntl(q[0], F_SETFL, O_NONBLOCK) == 0);
    show_flags("after F_SETFL O_NONBLOCK", q[0], O_RDONLY | O_NONBLOCK);
    EXPECT_EAGAIN(read(q[0], buf, 10), "read after F_SETFL O_NONBLOCK");
    CHECK(fcntl(q[0], F_SETFL, 0) == 0);
    show_flags("after F_SETFL 0", q[0], O_RDONLY);
    read_waits(q[0], q[1], "read after F_SETFL 0");
    int fl = fcntl(q[1], F_GETFL);
    CHECK(fcntl(q[1], F_SETFL, fl | O_NONBLOCK) == 0);
    CHECK(fcntl(q[1], F_GETFL) == (O_WRONLY | O_NONBLOCK));
    CHECK(fcntl(q[1], F_SETFL, fl) == 0);
    CHECK(close(q[0]) == 0 && close(q[1]) == 0);

    /* 4. ioctl FIONBIO on a socketpair. */
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    int on = 1, off = 0;
    CHECK(ioctl(sv[0], FIONBIO, &on) == 0);
    show_flags("after ioctl FIONBIO 1", sv[0], O_RDWR | O_NONBLOCK);
    EXPECT_EAGAIN(recv(sv[0], buf, 10, 0), "recv after FIONBIO 1");
    EXPECT_EAGAIN(read(sv[0], buf, 10), "read after FIONBIO 1");
    CHECK(ioctl(sv[0], FIONBIO, &off) == 0);
    show_flags("after ioctl FIONBIO 0", sv[0], O_RDWR);
    read_waits(sv[0], sv[1], "read after FIONBIO 0");
    /* MSG_DONTWAIT on one call of a blocking socket. */
    EXPECT_EAGAIN(recv(sv[0], buf, 10, MSG_DONTWAIT), "recv with MSG_DONTWAIT on a blocking socket");
    show_flags("after recv MSG_DONTWAIT", sv[0], O_RDWR);
    CHECK(close(sv[0]) == 0 && close(sv[1]) == 0);

    /* 5. socketpair SOCK_NONBLOCK */
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
    show_flags("socketpair SOCK_NONBLOCK", sv[0], O_RDWR | O_NONBLOCK);
    EXPECT_EAGAIN(recv(sv[0], buf, 10, 0), "recv on a SOCK_NONBLOCK socketpair");
    long sent = 0;
    for (;;) {
        n = send(sv[1], buf, sizeof buf, 0);
        if (n < 0) break;
        sent += n;
        CHECK(sent < (1L << 30));
    }
    CHECKF(errno == EAGAIN && sent > 0, "send on a full SOCK_NONBLOCK socket: %s after %ld bytes", ERRNAME(errno), sent);
    EXPECT_EAGAIN(send(sv[1], buf, 1, 0), "send on a full SOCK_NONBLOCK socket");
    CHECK(close(sv[0]) == 0 && close(sv[1]) == 0);

    /* 6. accept4 SOCK_NONBLOCK, socket SOCK_NONBLOCK, and a blocking connect. */
    struct sockaddr_in addr;
    int l = listener(&addr, SOCK_NONBLOCK);
    show_flags("listener socket SOCK_NONBLOCK", l, O_RDWR | O_NONBLOCK);
    EXPECT_EAGAIN(accept(l, NULL, NULL), "accept on a SOCK_NONBLOCK listener with no connection");
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(c >= 0);
    CHECKF(connect(c, (struct sockaddr *)&addr, sizeof addr) == 0, "connect: %s", ERRNAME(errno));
    show_flags("after a blocking connect", c, O_RDWR);
    struct pollfd pl = {l, POLLIN, 0};
    CHECK(poll(&pl, 1, 5000) == 1);
    int a = accept4(l, NULL, NULL, SOCK_NONBLOCK);
    CHECKF(a >= 0, "accept4: %s", ERRNAME(errno));
    show_flags("accept4 SOCK_NONBLOCK", a, O_RDWR | O_NONBLOCK);
    EXPECT_EAGAIN(read(a, buf, 10), "read on an accept4 SOCK_NONBLOCK socket");
    EXPECT_EAGAIN(recv(a, buf, 10, 0), "recv on it");
    CHECK(close(a) == 0);
    /* accept4 without SOCK_NONBLOCK on that non-blocking listener: the new
     * socket is blocking (Linux does not inherit O_NONBLOCK). */
    int c2 = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(c2 >= 0 && connect(c2, (struct sockaddr *)&addr, sizeof addr) == 0);
    CHECK(poll(&pl, 1, 5000) == 1);
    a = accept4(l, NULL, NULL, 0);
    CHECK(a >= 0);
    show_flags("accept4 without flags on a non-blocking listener", a, O_RDWR);
    read_waits(a, c2, "read on that accepted socket");
    CHECK(close(a) == 0 && close(c2) == 0 && close(c) == 0 && close(l) == 0);

    /* 7. A blocking listener: accept waits for the connection (a thread
     * connects 80 ms later) while the ticker ticks. */
    l = listener(&addr, 0);
    pthread_t ct = io_after(80, do_connect, &addr);
    long t0 = io_ticks();
    a = accept(l, NULL, NULL);
    CHECKF(a >= 0, "accept: %s", ERRNAME(errno));
    CHECKF(io_ticks() - t0 >= 2, "ticker ticked %ld times while accept waited", io_ticks() - t0);
    io_wait(ct);
    show_flags("accepted by a blocking accept", a, O_RDWR);
    printf("blocking accept waited for the connection\n");
    CHECK(close(a) == 0 && close(l) == 0);

    io_ticker_stop();
    return 0;
}
