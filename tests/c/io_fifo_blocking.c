// A FIFO (named pipe) used the blocking way: open O_RDONLY waits for a
// writer (open runs on the blocking pool, so the ticker on the same worker
// keeps ticking), a read waits for the data, a write larger than the FIFO's
// capacity waits for the reader to drain it (and must not hold the worker
// meanwhile), and the reader sees EOF once the writer closes. A FIFO opened
// by open() rejects RWF_NOWAIT (EOPNOTSUPP) on this kernel, so this is the
// runtime's "wait for readiness, then the plain call" path.
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 20
#include "io_common.h"

#define BIG (256 * 1024)

static char fifo[300];
static int writer_fd = -1;

static void open_writer(void *p) {
    (void)p;
    writer_fd = open(fifo, O_WRONLY);
    CHECKF(writer_fd >= 0, "thread: open O_WRONLY: %s", ERRNAME(errno));
}

static int reopen_src, reopened = -1;
static void reopen_reader(void *p) {
    (void)p;
    reopened = io_reopen(reopen_src, O_RDONLY | O_NONBLOCK);
}

/* On a plain thread: after a pause, reads everything until EOF, checking
 * the pattern; the total goes to *arg. */
static long drained;
static void drain(void *p) {
    int fd = (int)(intptr_t)p;
    static char buf[8192];
    long total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        CHECKF(n >= 0, "thread: read: %s", ERRNAME(errno));
        if (n == 0) break;
        for (ssize_t i = 0; i < n; i++) CHECKF(buf[i] == (char)((total + i) % 251), "byte %ld", total + i);
        total += n;
    }
    drained = total;
}

int main(void) {
    char buf[64];
    io_mkfifo(fifo, sizeof fifo);
    io_ticker_start(2000);

    /* 1. open O_RDONLY waits until a thread opens the write side. */
    pthread_t t = io_after(150, open_writer, NULL);
    long t0 = io_ticks();
    double s = io_now_ms();
    io_watchdog(5000, "open O_RDONLY of a FIFO");
    int fr = open(fifo, O_RDONLY);
    io_watchdog_cancel();
    double waited = io_now_ms() - s;
    CHECKF(fr >= 0, "open O_RDONLY: %s", ERRNAME(errno));
    CHECKF(waited >= 100, "open returned after %.0f ms, before the writer came", waited);
    CHECKF(io_ticks() - t0 >= 3, "ticker ticked %ld times while open waited %.0f ms", io_ticks() - t0, waited);
    io_wait(t);
    io_rmfifo(fifo);
    printf("open O_RDONLY waited for a writer\n");
    /* A second reader, for part 4 (readers do not delay EOF), opened on a
     * plain thread: a quick open on the blocking pool could leave a stale
     * wake-up behind (io_pool_stale_wakeup), which is not the point here. */
    reopen_src = fr;
    io_wait(io_after(0, reopen_reader, NULL));
    int rfd = reopened;
    CHECKF(rfd >= 0, "reopen: %s", ERRNAME(errno));
    CHECK(fcntl(rfd, F_SETFL, 0) == 0);

    /* 2. A read waits for the data. */
    t = io_write_after(150, writer_fd, "fifo data", 9);
    t0 = io_ticks();
    io_watchdog(5000, "read on an empty FIFO");
    ssize_t n = read(fr, buf, sizeof buf);
    io_watchdog_cancel();
    CHECKF(n == 9 && memcmp(buf, "fifo data", 9) == 0, "read returned %zd (%s)", n, n < 0 ? ERRNAME(errno) : "");
    CHECKF(io_ticks() - t0 >= 3, "ticker ticked %ld times while read waited", io_ticks() - t0);
    io_wait(t);
    printf("read waited for the data: fifo data\n");

    /* 3. EOF once the writer closes (while the reader waits). */
    t = io_close_after(150, writer_fd);
    t0 = io_ticks();
    io_watchdog(5000, "read on a FIFO whose writer closes");
    n = read(fr, buf, sizeof buf);
    io_watchdog_cancel();
    CHECKF(n == 0, "read returned %zd (%s)", n, n < 0 ? ERRNAME(errno) : "");
    CHECKF(io_ticks() - t0 >= 3, "ticker ticked %ld times while read waited for EOF", io_ticks() - t0);
    io_wait(t);
    CHECK(close(fr) == 0);
    printf("EOF after the writer closed\n");

    /* 4. This time main writes: a write of 256 KiB waits for a thread that
     * starts draining 150 ms later; all of it is written. */
    writer_fd = io_reopen(rfd, O_WRONLY); /* a reader is there: no wait */
    CHECKF(writer_fd >= 0, "reopen: %s", ERRNAME(errno));
    static char big[BIG];
    for (long i = 0; i < BIG; i++) big[i] = (char)(i % 251);
    t = io_after(150, drain, (void *)(intptr_t)rfd);
    t0 = io_ticks();
    s = io_now_ms();
    io_watchdog(5000, "write of 256 KiB to a FIFO");
    n = write(writer_fd, big, BIG);
    io_watchdog_cancel();
    waited = io_now_ms() - s;
    CHECKF(n == BIG, "write returned %zd (%s)", n, n < 0 ? ERRNAME(errno) : "");
    CHECKF(io_ticks() - t0 >= 3, "ticker ticked %ld times while a 256 KiB write to a FIFO waited %.0f ms for its reader",
           io_ticks() - t0, waited);
    CHECK(close(writer_fd) == 0);
    io_wait(t);
    CHECKF(drained == BIG, "the reader got %ld bytes", drained);
    CHECK(close(rfd) == 0);
    printf("write of 256 KiB waited for the reader; the reader got all of it\n");

    io_ticker_stop();
    return 0;
}
