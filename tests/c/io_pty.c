// A pseudo-terminal (which takes no RWF_NOWAIT, like a real tty): with a
// ticker on the same worker, a read on the slave waits for a line a plain
// thread writes to the master (canonical mode: a partial line does not end
// the wait), a read on the master waits for what the slave side writes
// (with the tty's \r\n), and after F_SETFL O_NONBLOCK a read on the empty
// slave returns EAGAIN at once. Also a write of 64 KiB to the master while
// a thread drains the slave in raw mode: all of it is written.
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 20
#include "io_common.h"
#include <termios.h>

static int slave_fd;
static void write_slave(void *p) { CHECK(write(slave_fd, p, strlen(p)) == (ssize_t)strlen(p)); }

static long drained;
static void drain_slave(void *p) {
    long want = (long)p;
    char buf[4096];
    while (drained < want) {
        ssize_t n = read(slave_fd, buf, sizeof buf);
        CHECKF(n > 0, "thread: read on the slave: %zd %s", n, n < 0 ? ERRNAME(errno) : "");
        for (ssize_t i = 0; i < n; i++) CHECKF(buf[i] == 'a' + (drained + i) % 26, "byte %ld", drained + i);
        drained += n;
    }
}

static void expect_read(int fd, const char *want, const char *what) {
    char buf[256];
    long k0 = io_ticks();
    io_watchdog(3000, what);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    io_watchdog_cancel();
    CHECKF(n == (ssize_t)strlen(want) && memcmp(buf, want, n) == 0, "%s: read returned %zd (%s)", what, n,
           n < 0 ? ERRNAME(errno) : "");
    CHECKF(io_ticks() - k0 >= 3, "%s: the ticker ticked %ld times while read waited", what, io_ticks() - k0);
    printf("%s: waited and got %zd bytes\n", what, n);
}

int main(void) {
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    CHECKF(m >= 0, "posix_openpt: %s", ERRNAME(errno));
    CHECK(grantpt(m) == 0 && unlockpt(m) == 0);
    slave_fd = open(ptsname(m), O_RDWR | O_NOCTTY);
    CHECKF(slave_fd >= 0, "open the slave: %s", ERRNAME(errno));
    struct termios t;
    CHECK(tcgetattr(slave_fd, &t) == 0);
    t.c_lflag &= ~ECHO; /* keep the master's input to what the slave writes */
    CHECK(tcsetattr(slave_fd, TCSANOW, &t) == 0);
    io_ticker_start(2000);

    pthread_t w = io_write_after(150, m, "line one\n", 9);
    expect_read(slave_fd, "line one\n", "read on the slave, a line comes");
    io_wait(w);

    w = io_write_after(50, m, "par", 3);
    pthread_t w2 = io_write_after(200, m, "tial\n", 5);
    expect_read(slave_fd, "partial\n", "read on the slave, a line comes in two parts");
    io_wait(w);
    io_wait(w2);

    w = io_after(150, write_slave, "out\n");
    expect_read(m, "out\r\n", "read on the master, the slave writes");
    io_wait(w);

    int fl = fcntl(slave_fd, F_GETFL);
    CHECK(fcntl(slave_fd, F_SETFL, fl | O_NONBLOCK) == 0);
    char buf[16];
    io_watchdog(2000, "read on the empty O_NONBLOCK slave");
    errno = 0;
    ssize_t n = read(slave_fd, buf, sizeof buf);
    int e = errno;
    io_watchdog_cancel();
    printf("read on the empty slave after F_SETFL O_NONBLOCK: %zd %s\n", n, n < 0 ? ERRNAME(e) : "");
    CHECK(fcntl(slave_fd, F_SETFL, fl) == 0);

    /* Raw mode: 64 KiB through the master, drained by a thread. */
    cfmakeraw(&t);
    CHECK(tcsetattr(slave_fd, TCSANOW, &t) == 0);
    static char big[65536];
    for (int i = 0; i < (int)sizeof big; i++) big[i] = 'a' + i % 26;
    w = io_after(100, drain_slave, (void *)(long)sizeof big);
    long k0 = io_ticks();
    io_watchdog(5000, "write of 64 KiB to the master");
    n = write(m, big, sizeof big);
    io_watchdog_cancel();
    CHECKF(n == (ssize_t)sizeof big, "write returned %zd (%s)", n, n < 0 ? ERRNAME(errno) : "");
    CHECKF(io_ticks() - k0 >= 3, "the ticker ticked %ld times while the write waited", io_ticks() - k0);
    io_wait(w);
    CHECK(drained == (long)sizeof big);
    printf("write of 64 KiB to the master: all written and read\n");

    CHECK(close(slave_fd) == 0 && close(m) == 0);
    io_ticker_stop();
    return 0;
}
