// Several coroutines wait on the same fd: 8 readers of one pipe to which a
// plain thread writes 8 single bytes, 20 ms apart, get one byte each (none
// is left waiting, none gets two); 8 coroutines in accept on one listener
// get one of 8 connections each. With a ticker on the same worker.
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 20
#include "io_common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define N 8

static int pipe_r, listener;
static struct sockaddr_in addr;

static void *read_one(void *arg) {
    (void)arg;
    char c;
    ssize_t n = read(pipe_r, &c, 1);
    return (void *)(long)(n == 1 ? c : -1);
}

static void *accept_one(void *arg) {
    (void)arg;
    int a = accept(listener, NULL, NULL);
    if (a < 0) return (void *)-1L;
    char c;
    ssize_t n = read(a, &c, 1);
    close(a);
    return (void *)(long)(n == 1 ? c : -1);
}

static void feed(void *arg) {
    int w = (int)(intptr_t)arg;
    for (int i = 0; i < N; i++) {
        usleep(20 * 1000);
        char c = 'a' + i;
        CHECK(write(w, &c, 1) == 1);
    }
}

static void connect_all(void *arg) {
    (void)arg;
    for (int i = 0; i < N; i++) {
        usleep(20 * 1000);
        int c = socket(AF_INET, SOCK_STREAM, 0);
        CHECK(c >= 0 && connect(c, (struct sockaddr *)&addr, sizeof addr) == 0);
        char ch = 'A' + i;
        CHECK(write(c, &ch, 1) == 1);
        CHECK(close(c) == 0);
    }
}

static void collect(io_task *t, const char *what) {
    int seen[256] = {0}, bad = 0;
    io_watchdog(3000, what);
    for (int i = 0; i < N; i++) {
        long c = (long)io_join(t[i]);
        if (c < 0 || c > 255 || seen[c]++) bad++;
    }
    io_watchdog_cancel();
    CHECKF(bad == 0, "%s: %d waiters got nothing or a duplicate", what, bad);
    printf("%s: each of %d waiters got one, all different\n", what, N);
}

int main(void) {
    io_ticker_start(2000);
    int p[2];
    CHECK(pipe(p) == 0);
    pipe_r = p[0];
    io_task t[N];
    for (int i = 0; i < N; i++) t[i] = io_spawn(read_one, NULL);
    pthread_t f = io_after(0, feed, (void *)(intptr_t)p[1]);
    collect(t, "8 readers of one pipe");
    io_wait(f);

    listener = socket(AF_INET, SOCK_STREAM, 0);
    addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    CHECK(listener >= 0 && bind(listener, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(listener, 16) == 0 &&
          getsockname(listener, (struct sockaddr *)&addr, &len) == 0);
    for (int i = 0; i < N; i++) t[i] = io_spawn(accept_one, NULL);
    f = io_after(0, connect_all, NULL);
    collect(t, "8 accepts on one listener");
    io_wait(f);
    io_ticker_stop();
    return 0;
}
