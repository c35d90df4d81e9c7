// A FIFO (named pipe) opened with open(O_NONBLOCK): reads return 0 while no
// writer has it open, EAGAIN when a writer has it open but it is empty (at
// once: the runtime must not wait for the program), and the data once there;
// a write to a full FIFO returns EAGAIN. Unlike pipe(), a FIFO opened by
// open() rejects RWF_NOWAIT (EOPNOTSUPP) on this kernel, so the runtime
// takes its "wait first, then the plain call" path for it.
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 20
#include "io_common.h"

#define EXPECT_EAGAIN(call, what)                                                                 \
    do {                                                                                          \
        double s_ = io_now_ms();                                                                  \
        io_watchdog(1500, what);                                                                  \
        errno = 0;                                                                                \
        ssize_t r_ = (call);                                                                      \
        int e_ = errno;                                                                           \
        io_watchdog_cancel();                                                                     \
        double took_ = io_now_ms() - s_;                                                          \
        CHECKF(r_ == -1 && e_ == EAGAIN, "%s: returned %zd, errno %s", what, r_, ERRNAME(e_));    \
        CHECKF(took_ < 100, "%s: EAGAIN took %.0f ms", what, took_);                              \
        printf("%s: EAGAIN\n", what);                                                             \
    } while (0)

/* The kernel's O_LARGEFILE, which F_GETFL shows for files open() opened on
 * 64-bit Linux (glibc's O_LARGEFILE is 0 there). */
#define KERNEL_O_LARGEFILE 0100000

int main(void) {
    char fifo[300], buf[4096];
    io_mkfifo(fifo, sizeof fifo);
    io_ticker_start(2000);

    int fr = open(fifo, O_RDONLY | O_NONBLOCK);
    CHECKF(fr >= 0, "open O_RDONLY|O_NONBLOCK of a FIFO: %s", ERRNAME(errno));
    io_rmfifo(fifo);
    CHECKF(fcntl(fr, F_GETFL) == (O_RDONLY | O_NONBLOCK | KERNEL_O_LARGEFILE), "F_GETFL 0x%x", fcntl(fr, F_GETFL));
    printf("read end opened O_NONBLOCK: F_GETFL O_RDONLY|O_NONBLOCK\n");
    io_watchdog(1500, "read on a FIFO without writers");
    ssize_t n = read(fr, buf, 10);
    io_watchdog_cancel();
    CHECKF(n == 0, "read with no writer returned %zd (%s)", n, n < 0 ? ERRNAME(errno) : "");
    printf("read with no writer: 0\n");

    int fw = io_reopen(fr, O_WRONLY | O_NONBLOCK);
    CHECKF(fw >= 0, "open O_WRONLY|O_NONBLOCK of a FIFO: %s", ERRNAME(errno));
    EXPECT_EAGAIN(read(fr, buf, 10), "read on an empty FIFO with a writer");
    EXPECT_EAGAIN(read(fr, buf, 10), "read on it again");
    CHECK(write(fw, "x", 1) == 1);
    n = read(fr, buf, 10);
    CHECKF(n == 1 && buf[0] == 'x', "n=%zd", n);
    printf("read after a write: 1 byte\n");

    long filled = 0;
    memset(buf, 'f', sizeof buf);
    for (;;) {
        io_watchdog(1500, "write to a filling O_NONBLOCK FIFO");
        n = write(fw, buf, sizeof buf);
        io_watchdog_cancel();
        if (n < 0) break;
        filled += n;
        CHECK(filled < (1L << 24));
    }
    CHECKF(errno == EAGAIN && filled == fcntl(fw, F_GETPIPE_SZ), "filled %ld: %s", filled, ERRNAME(errno));
    printf("4096-byte writes filled the FIFO to its capacity, then EAGAIN\n");
    EXPECT_EAGAIN(write(fw, "y", 1), "write to the full FIFO");

    CHECK(close(fw) == 0 && close(fr) == 0);
    io_ticker_stop();
    return 0;
}
