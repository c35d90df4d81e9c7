// A call that the blocking pool finishes quickly (open of /dev/null) must
// not leave a stale wake-up behind for the coroutine's next wait. Seen
// through a FIFO (which rejects RWF_NOWAIT, so the runtime waits for
// readiness, then makes the plain read): 40 times, open+close /dev/null,
// then read a FIFO that a plain thread writes to 20 ms later. Each read
// must let the ticker on the same worker tick; a stale wake-up ends the
// wait at once and the plain read then blocks the whole worker.
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 20
#include "io_common.h"

#define ROUNDS 40

int main(void) {
    char fifo[300], buf[8];
    io_mkfifo(fifo, sizeof fifo);
    int fr = open(fifo, O_RDONLY | O_NONBLOCK);
    CHECK(fr >= 0);
    int fw = open(fifo, O_WRONLY);
    CHECK(fw >= 0);
    io_rmfifo(fifo);
    CHECK(fcntl(fr, F_SETFL, 0) == 0);
    io_ticker_start(1000);

    int blocked = 0;
    for (int i = 0; i < ROUNDS; i++) {
        int d = open("/dev/null", O_RDONLY);
        CHECK(d >= 0 && close(d) == 0);
        pthread_t t = io_write_after(20, fw, "x", 1);
        long k = io_ticks();
        io_watchdog(2000, "read on the FIFO");
        CHECK(read(fr, buf, 1) == 1 && buf[0] == 'x');
        io_watchdog_cancel();
        if (io_ticks() - k == 0) blocked++;
        io_wait(t);
    }
    CHECKF(blocked == 0, "%d of %d FIFO reads after a quick pool call held the worker (the ticker never ticked)",
           blocked, ROUNDS);
    printf("%d FIFO reads after a quick open: the ticker ticked during each\n", ROUNDS);
    CHECK(close(fr) == 0 && close(fw) == 0);
    io_ticker_stop();
    return 0;
}
