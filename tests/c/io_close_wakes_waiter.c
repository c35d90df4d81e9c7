// Closing an fd while another coroutine waits on it wakes that waiter at
// once with -1/EBADF (without the library a blocked read would go on
// waiting, so this runs only under it): a close from main, from a plain
// thread, an fclose, a close while a write waits on a full pipe and while
// an accept waits. The fd number is free at once: a new pipe gets it, and
// a reader of the new pipe is not disturbed by anything the old file does
// (its data arrives through a dup'ed fd) and gets exactly its own data. A
// poll waiting on an fd that is closed returns POLLNVAL for it.
// env: OPENCORO_WORKERS=1
// link: yes
// timeout: 20
#include "io_common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <opencoro.h>

struct waiter {
    int fd;
    int kind; /* 0 read, 1 write 256 KiB, 2 accept, 3 poll */
    atomic_int done;
    long r;
    int err;
    short revents;
    double at;
    char buf[64];
};

static void *wait_on(void *p) {
    struct waiter *w = p;
    static char big[1 << 18];
    errno = 0;
    switch (w->kind) {
    case 0: w->r = read(w->fd, w->buf, sizeof w->buf); break;
    case 1: w->r = write(w->fd, big, sizeof big); break;
    case 2: w->r = accept(w->fd, NULL, NULL); break;
    case 3: {
        struct pollfd pf = {w->fd, POLLIN, 0};
        w->r = poll(&pf, 1, 5000);
        w->revents = pf.revents;
        break;
    }
    }
    w->err = errno;
    w->at = io_now_ms();
    atomic_store(&w->done, 1);
    return NULL;
}

static opencoro_task *start(struct waiter *w, int fd, int kind) {
    memset(w, 0, sizeof *w);
    w->fd = fd;
    w->kind = kind;
    unsigned long long base = fd_waits_registered();
    opencoro_task *t = opencoro_spawn(wait_on, w, 0);
    CHECK(t != NULL);
    wait_fd_waits(base, 1); /* the waiter is now inside its call */
    CHECKF(!atomic_load(&w->done), "the waiter on fd %d returned before anything happened: %ld (%s)", fd, w->r,
           ERRNAME(w->err));
    return t;
}

/* The waiter must have returned -1/EBADF within 500 ms of `closed_at`. */
static void expect_ebadf(struct waiter *w, opencoro_task *t, double closed_at, const char *what) {
    io_watchdog(3000, what);
    CHECK(opencoro_join(t, NULL) == 0);
    io_watchdog_cancel();
    CHECKF(w->r == -1 && w->err == EBADF, "%s: the waiter got %ld (%s)", what, w->r, ERRNAME(w->err));
    CHECKF(w->at - closed_at < 500, "%s: the waiter woke %.0f ms after the close", what, w->at - closed_at);
    printf("%s: the waiter got EBADF\n", what);
}

int main(void) {
    struct waiter w;
    opencoro_task *t;
    int p[2], q[2];
    signal(SIGPIPE, SIG_IGN);
    io_ticker_start(2000);

    /* 1. close from main; the old file lives on through a dup. */
    CHECK(pipe(p) == 0);
    int keep = dup(p[0]);
    CHECK(keep >= 0);
    int num = p[0];
    t = start(&w, num, 0);
    double at = io_now_ms();
    CHECK(close(num) == 0);
    expect_ebadf(&w, t, at, "close from another coroutine");

    /* The number is reused at once by a new pipe, whose reader waits. */
    CHECK(pipe(q) == 0);
    CHECKF(q[0] == num, "the new pipe got fd %d, not the closed %d", q[0], num);
    t = start(&w, q[0], 0);
    /* The old file becomes readable (through keep): no effect on the reader. */
    CHECK(write(p[1], "stale", 5) == 5);
    usleep(100 * 1000);
    CHECKF(!atomic_load(&w.done), "the new reader returned %ld (%s) after a write to the old pipe", w.r,
           ERRNAME(w.err));
    char buf[16];
    CHECK(read(keep, buf, sizeof buf) == 5 && memcmp(buf, "stale", 5) == 0);
    CHECK(write(q[1], "fresh", 5) == 5);
    io_watchdog(3000, "the new reader");
    CHECK(opencoro_join(t, NULL) == 0);
    io_watchdog_cancel();
    CHECKF(w.r == 5 && memcmp(w.buf, "fresh", 5) == 0, "the new reader got %ld (%s)", w.r, ERRNAME(w.err));
    printf("the reused fd number: its reader waited, undisturbed, and got its own data\n");
    CHECK(close(keep) == 0 && close(p[1]) == 0 && close(q[0]) == 0 && close(q[1]) == 0);

    /* 2. close from a plain thread. */
    CHECK(pipe(p) == 0);
    t = start(&w, p[0], 0);
    at = io_now_ms();
    io_wait(io_close_after(0, p[0]));
    expect_ebadf(&w, t, at, "close from a plain thread");
    CHECK(close(p[1]) == 0);

    /* 3. fclose of a stream on the fd. */
    CHECK(pipe(p) == 0);
    FILE *f = fdopen(p[0], "r");
    CHECK(f != NULL);
    t = start(&w, p[0], 0);
    at = io_now_ms();
    CHECK(fclose(f) == 0);
    expect_ebadf(&w, t, at, "fclose");
    CHECK(close(p[1]) == 0);

    /* 4. A write waiting on a full pipe. */
    CHECK(pipe(p) == 0);
    t = start(&w, p[1], 1);
    at = io_now_ms();
    CHECK(close(p[1]) == 0);
    io_watchdog(3000, "close while a write waits");
    CHECK(opencoro_join(t, NULL) == 0);
    io_watchdog_cancel();
    /* Some of the 256 KiB went in before the wait: a partial count is what a
     * write that stops part-way returns; nothing written would be EBADF. */
    CHECKF((w.r == -1 && w.err == EBADF) || (w.r > 0 && w.r < (1 << 18)), "the writer got %ld (%s)", w.r,
           ERRNAME(w.err));
    CHECKF(w.at - at < 500, "the writer woke %.0f ms after the close", w.at - at);
    printf("close while a write waits on a full pipe: the writer returned\n");
    CHECK(close(p[0]) == 0);

    /* 5. An accept waiting on a listener. */
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(l >= 0 && bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 4) == 0);
    t = start(&w, l, 2);
    at = io_now_ms();
    CHECK(close(l) == 0);
    expect_ebadf(&w, t, at, "close while an accept waits");

    /* 6. A poll waiting on a pipe. */
    CHECK(pipe(p) == 0);
    t = start(&w, p[0], 3);
    at = io_now_ms();
    CHECK(close(p[0]) == 0);
    io_watchdog(6000, "close while a poll waits");
    CHECK(opencoro_join(t, NULL) == 0);
    io_watchdog_cancel();
    CHECKF(w.r == 1 && w.revents == POLLNVAL, "poll returned %ld (%s), revents 0x%x", w.r, ERRNAME(w.err), w.revents);
    CHECKF(w.at - at < 500, "poll returned %.0f ms after the close", w.at - at);
    printf("close while a poll waits: POLLNVAL\n");
    CHECK(close(p[1]) == 0);

    io_ticker_stop();
    return 0;
}
