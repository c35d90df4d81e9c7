// listen() passes at least OPENCORO_LISTEN_BACKLOG (128) to the kernel: an
// accepting green thread drains the queue later than an OS thread would, and
// the kernel drops the handshakes a full queue has no room for (the clients
// then wait for retransmissions: 1 s, then doubling). A listener with
// backlog 1 that nobody accepts from takes all 20 non-blocking connects;
// natively two (backlog + 1) complete and the others wait.
// timeout: 20
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define N 20

int main(void) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(l >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    CHECK(bind(l, (void *)&sa, sizeof sa) == 0);
    CHECK(getsockname(l, (void *)&sa, &len) == 0);
    CHECK(listen(l, 1) == 0);
    struct pollfd p[N];
    for (int i = 0; i < N; i++) {
        int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        CHECK(s >= 0);
        int r = connect(s, (void *)&sa, sizeof sa);
        CHECK(r == 0 || errno == EINPROGRESS);
        p[i] = (struct pollfd){.fd = s, .events = POLLOUT};
    }
    // Wait (at most 5 s) until every connect has completed.
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int done = 0;
    for (;;) {
        done = 0;
        for (int i = 0; i < N; i++) {
            p[i].revents = 0;
        }
        CHECK(poll(p, N, 100) >= 0);
        for (int i = 0; i < N; i++) {
            int err = -1;
            socklen_t el = sizeof err;
            if ((p[i].revents & POLLOUT) && getsockopt(p[i].fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0) done++;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (done == N || t.tv_sec - t0.tv_sec >= 5) break;
    }
    CHECKF(done == N, "%d of %d connects completed: the backlog stayed 1", done, N);
    printf("%d connected\n", done);
    return 0;
}
