// With SIGPIPE at its default action, a write to a pipe without readers
// kills the process with SIGPIPE (status 141), as without the library; the
// ticker on the same worker makes the write take the coroutine path.
// io_sigpipe_after_wait: the same when the reader closes while the write
// waits on a full pipe.
// env: OPENCORO_WORKERS=1
// expect-status: 141
// native: same
// link: no
// timeout: 20
#include "io_common.h"

int main(void) {
    int p[2];
    static char buf[1 << 17];
    signal(SIGPIPE, SIG_DFL);
    CHECK(pipe(p) == 0);
    io_ticker_start(2000);
#ifdef WAIT_FIRST
    int cap = fcntl(p[1], F_GETPIPE_SZ);
    CHECK(cap > 0 && cap <= (int)sizeof buf);
    CHECK(write(p[1], buf, cap) == cap);
    io_close_after(100, p[0]);
    printf("writing to a full pipe whose reader closes in 100 ms\n");
#else
    CHECK(close(p[0]) == 0);
    printf("writing to a pipe without readers\n");
#endif
    ssize_t n = write(p[1], buf, 1000);
    printf("still alive after write returned %zd (%s)\n", n, n < 0 ? ERRNAME(errno) : "");
    return 0;
}
