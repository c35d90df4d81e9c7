// sendfile from a regular file to a socket whose buffer is full (the peer,
// a plain thread, starts reading 150 ms later): the call must wait without
// holding the worker (the ticker on the same worker keeps ticking) and
// send everything (sendfile runs on the blocking pool).
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 20
#include "io_common.h"
#include <sys/sendfile.h>
#include <sys/socket.h>

#define SIZE (4 << 20)

static long received;
static void drain(void *p) {
    int fd = (int)(intptr_t)p;
    static char buf[65536];
    while (received < SIZE) {
        ssize_t n = read(fd, buf, sizeof buf);
        CHECKF(n > 0, "thread: read: %zd", n);
        received += n;
    }
}

int main(void) {
    char name[256];
    int f = io_tempfile(name, sizeof name, "sendfile");
    CHECK(unlink(name) == 0);
    static char chunk[65536];
    for (int i = 0; i < SIZE / (int)sizeof chunk; i++) CHECK(write(f, chunk, sizeof chunk) == (ssize_t)sizeof chunk);
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    io_ticker_start(2000);

    pthread_t t = io_after(150, drain, (void *)(intptr_t)sv[1]);
    off_t off = 0;
    long sent = 0, k0 = io_ticks();
    io_watchdog(5000, "sendfile");
    while (sent < SIZE) {
        ssize_t n = sendfile(sv[0], f, &off, SIZE - sent);
        CHECKF(n > 0, "sendfile: %zd %s", n, n < 0 ? ERRNAME(errno) : "");
        sent += n;
    }
    io_watchdog_cancel();
    long ticked = io_ticks() - k0;
    io_wait(t);
    printf("sendfile sent %ld bytes, the reader got %ld\n", sent, received);
    CHECKF(ticked >= 3, "the ticker ticked %ld times while sendfile waited for the reader", ticked);
    CHECK(close(sv[0]) == 0 && close(sv[1]) == 0 && close(f) == 0);
    io_ticker_stop();
    return 0;
}
