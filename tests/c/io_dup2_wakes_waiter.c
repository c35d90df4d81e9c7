// dup2/dup3 over an fd another coroutine waits on in read close the old
// file: the waiter wakes at once with -1/EBADF (without the library a
// blocked read would go on waiting on the old file, so this runs only
// under it). The number then names the new file: a reader on it waits and
// gets what is written to the new file. dup2(fd, fd) closes nothing: the
// waiter goes on waiting and gets its data.
// env: OPENCORO_WORKERS=1
// link: yes
// timeout: 20
#include "io_common.h"
#include <opencoro.h>

struct waiter {
    int fd;
    atomic_int done;
    ssize_t r;
    int err;
    double at;
    char buf[64];
};

static void *reader(void *p) {
    struct waiter *w = p;
    errno = 0;
    w->r = read(w->fd, w->buf, sizeof w->buf);
    w->err = errno;
    w->at = io_now_ms();
    atomic_store(&w->done, 1);
    return NULL;
}

static opencoro_task *start(struct waiter *w, int fd) {
    memset(w, 0, sizeof *w);
    w->fd = fd;
    unsigned long long base = fd_waits_registered();
    opencoro_task *t = opencoro_spawn(reader, w, 0);
    CHECK(t != NULL);
    wait_fd_waits(base, 1); /* the reader is now inside its call */
    CHECKF(!atomic_load(&w->done), "the reader of fd %d returned %zd (%s) before anything happened", fd, w->r,
           ERRNAME(w->err));
    return t;
}

static void finish(struct waiter *w, opencoro_task *t, const char *what) {
    io_watchdog(3000, what);
    CHECK(opencoro_join(t, NULL) == 0);
    io_watchdog_cancel();
}

static void replace(int how, int a[2], const char *what) {
    int b[2];
    struct waiter w;
    CHECK(pipe(a) == 0 && pipe(b) == 0);
    opencoro_task *t = start(&w, a[0]);
    double at = io_now_ms();
    int r = how == 2 ? dup2(b[0], a[0]) : dup3(b[0], a[0], O_CLOEXEC);
    CHECKF(r == a[0], "%s returned %d (%s)", what, r, ERRNAME(errno));
    finish(&w, t, what);
    CHECKF(w.r == -1 && w.err == EBADF, "%s: the reader got %zd (%s)", what, w.r, ERRNAME(w.err));
    CHECKF(w.at - at < 500, "%s: the reader woke %.0f ms later", what, w.at - at);
    printf("%s over a waited-on fd: the reader got EBADF\n", what);
    CHECK(fcntl(a[0], F_GETFD) == (how == 2 ? 0 : FD_CLOEXEC));

    /* The number now names pipe b's read end. */
    t = start(&w, a[0]);
    CHECK(write(b[1], "new file", 8) == 8);
    finish(&w, t, what);
    CHECKF(w.r == 8 && memcmp(w.buf, "new file", 8) == 0, "%s: the new reader got %zd (%s)", what, w.r,
           ERRNAME(w.err));
    printf("%s: a reader of the number waits for and gets the new file's data\n", what);
    errno = 0;
    CHECKF(write(a[1], "x", 1) == -1 && errno == EPIPE, "the old pipe still has a reader");
    CHECK(close(a[0]) == 0 && close(a[1]) == 0 && close(b[0]) == 0 && close(b[1]) == 0);
}

int main(void) {
    int a[2];
    signal(SIGPIPE, SIG_IGN);
    io_ticker_start(2000);
    replace(2, a, "dup2");
    replace(3, a, "dup3");

    /* dup2(fd, fd): nothing is closed. */
    struct waiter w;
    CHECK(pipe(a) == 0);
    opencoro_task *t = start(&w, a[0]);
    CHECK(dup2(a[0], a[0]) == a[0]);
    usleep(100 * 1000);
    CHECKF(!atomic_load(&w.done), "dup2(fd, fd) woke the reader: %zd (%s)", w.r, ERRNAME(w.err));
    CHECK(write(a[1], "same", 4) == 4);
    finish(&w, t, "dup2(fd, fd)");
    CHECKF(w.r == 4 && memcmp(w.buf, "same", 4) == 0, "the reader got %zd (%s)", w.r, ERRNAME(w.err));
    printf("dup2(fd, fd): the reader went on waiting and got its data\n");
    CHECK(close(a[0]) == 0 && close(a[1]) == 0);

    io_ticker_stop();
    return 0;
}
