// A program's own epoll loop inside a coroutine: epoll_create1, epoll_ctl,
// epoll_wait with a timeout. It must not block its worker (the ticker on
// the same worker keeps ticking) and must get exactly the right events: a
// plain thread feeds three pipes, a socketpair and an eventfd, and the loop
// gets every message, in order per fd. A timeout with nothing ready returns
// 0 after >= the timeout; edge-triggered fds report one event per edge
// (unread data gives no new event); EPOLLONESHOT reports once until re-armed;
// epoll_pwait with a mask; a peer coroutine on the same worker wakes the
// loop.
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 30
#include "io_common.h"
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#define MSGS 30

static int pipes[3][2], sv[2], efd;

/* On a plain thread: message i goes to pipe i % 3 or, every 5th, to the
 * socket; every 6th also adds 1 to the eventfd. */
static void *produce(void *arg) {
    (void)arg;
    for (int i = 0; i < MSGS; i++) {
        usleep(10 * 1000);
        char m[16];
        int len = snprintf(m, sizeof m, "m%02d;", i);
        int fd = i % 5 == 4 ? sv[1] : pipes[i % 3][1];
        CHECK(write(fd, m, len) == len);
        if (i % 6 == 5) {
            uint64_t one = 1;
            CHECK(write(efd, &one, 8) == 8);
        }
    }
    return NULL;
}

static void *peer_write(void *p) {
    usleep(100 * 1000);
    CHECK(write((int)(intptr_t)p, "peer", 4) == 4);
    return NULL;
}

static int ep_add(int ep, int fd, uint32_t events) {
    struct epoll_event e = {.events = events, .data.fd = fd};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

static double t0;
static long k0;
static void begin(const char *what) {
    io_watchdog(5000, what);
    t0 = io_now_ms();
    k0 = io_ticks();
}
static double took(void) {
    io_watchdog_cancel();
    return io_now_ms() - t0;
}

int main(void) {
    struct epoll_event evs[8];
    char buf[256];
    int n;
    double ms;
    io_ticker_start(2000);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0);
    for (int i = 0; i < 3; i++) {
        CHECK(pipe(pipes[i]) == 0);
        CHECK(ep_add(ep, pipes[i][0], EPOLLIN) == 0);
    }
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK(ep_add(ep, sv[0], EPOLLIN | EPOLLRDHUP) == 0);
    efd = eventfd(0, 0);
    CHECK(efd >= 0 && ep_add(ep, efd, EPOLLIN) == 0);

    /* 1. Timeout with nothing ready. */
    begin("epoll_wait with nothing ready");
    n = epoll_wait(ep, evs, 8, 150);
    ms = took();
    CHECKF(n == 0 && ms >= 150 && ms < 1650, "epoll_wait returned %d after %.1f ms (timeout 150)", n, ms);
    CHECKF(io_ticks() - k0 >= 3, "ticker ticked %ld times in %.0f ms", io_ticks() - k0, ms);
    printf("epoll_wait with nothing ready, 150 ms: 0\n");

    /* 2. The loop. */
    pthread_t prod;
    CHECK(pthread_create(&prod, NULL, produce, NULL) == 0);
    char got[4][512] = {{0}};
    int msgs = 0, wakes = 0;
    uint64_t added = 0;
    begin("the epoll loop");
    while (msgs < MSGS || added < MSGS / 6) {
        n = epoll_wait(ep, evs, 8, 2000);
        CHECKF(n > 0, "epoll_wait returned %d (%s) with %d messages still to come", n, n < 0 ? ERRNAME(errno) : "",
               MSGS - msgs);
        wakes++;
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            CHECKF(evs[i].events == EPOLLIN, "events 0x%x on fd %d", evs[i].events, fd);
            if (fd == efd) {
                uint64_t v;
                CHECK(read(efd, &v, 8) == 8);
                added += v;
                continue;
            }
            int slot = fd == sv[0] ? 3 : fd == pipes[0][0] ? 0 : fd == pipes[1][0] ? 1 : 2;
            CHECK(fd == sv[0] || fd == pipes[slot][0]);
            ssize_t r = read(fd, buf, sizeof buf - 1);
            CHECK(r > 0 && r % 4 == 0);
            buf[r] = 0;
            strcat(got[slot], buf);
            msgs += r / 4;
        }
    }
    ms = took();
    CHECKF(io_ticks() - k0 >= 10, "ticker ticked %ld times during the %.0f ms loop", io_ticks() - k0, ms);
    CHECK(pthread_join(prod, NULL) == 0);
    for (int s = 0; s < 4; s++) {
        char want[512] = {0};
        for (int i = 0; i < MSGS; i++) {
            int slot = i % 5 == 4 ? 3 : i % 3;
            if (slot != s) continue;
            char m[16];
            snprintf(m, sizeof m, "m%02d;", i);
            strcat(want, m);
        }
        CHECKF(strcmp(got[s], want) == 0, "fd slot %d got \"%s\", expected \"%s\"", s, got[s], want);
    }
    printf("the loop got all %d messages in order per fd and %llu eventfd adds\n", msgs, (unsigned long long)added);
    n = epoll_wait(ep, evs, 8, 0);
    CHECK(n == 0);

    /* 3. Edge-triggered: one event per edge. */
    int et[2];
    CHECK(pipe(et) == 0 && ep_add(ep, et[0], EPOLLIN | EPOLLET) == 0);
    CHECK(write(et[1], "edge", 4) == 4);
    n = epoll_wait(ep, evs, 8, 1000);
    printf("EPOLLET after a write: %d event(s)%s\n", n, n == 1 && evs[0].data.fd == et[0] ? " on the pipe" : "");
    begin("EPOLLET with unread data");
    n = epoll_wait(ep, evs, 8, 150);
    ms = took();
    CHECKF(ms >= 150, "returned after %.1f ms", ms);
    printf("EPOLLET again with the data unread, 150 ms: %d\n", n);
    pthread_t t = io_write_after(100, et[1], "more", 4);
    begin("EPOLLET new edge");
    n = epoll_wait(ep, evs, 8, 3000);
    ms = took();
    CHECKF(io_ticks() - k0 >= 2, "ticker ticked %ld times while epoll_wait waited", io_ticks() - k0);
    io_wait(t);
    printf("EPOLLET after a thread writes more: %d event(s)\n", n);
    CHECK(read(et[0], buf, sizeof buf) == 8);

    /* 4. EPOLLONESHOT */
    struct epoll_event e1 = {.events = EPOLLIN | EPOLLONESHOT, .data.fd = et[0]};
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, et[0], &e1) == 0);
    CHECK(write(et[1], "once", 4) == 4);
    n = epoll_wait(ep, evs, 8, 1000);
    printf("EPOLLONESHOT: first wait %d\n", n);
    n = epoll_wait(ep, evs, 8, 150);
    printf("EPOLLONESHOT: second wait, 150 ms: %d\n", n);
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, et[0], &e1) == 0);
    n = epoll_wait(ep, evs, 8, 1000);
    printf("EPOLLONESHOT: after re-arming: %d\n", n);
    CHECK(read(et[0], buf, sizeof buf) == 4);
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, et[0], NULL) == 0);

    /* 5. epoll_pwait with a mask, woken by a peer on the same worker. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    io_task pw = io_spawn(peer_write, (void *)(intptr_t)pipes[1][1]);
    begin("epoll_pwait woken by a peer");
    n = epoll_pwait(ep, evs, 8, 3000, &mask);
    ms = took();
    io_join(pw);
    printf("epoll_pwait woken by a peer's write: %d event(s)%s\n", n,
           n == 1 && evs[0].data.fd == pipes[1][0] ? " on its pipe" : "");
    CHECK(read(pipes[1][0], buf, sizeof buf) == 4);

    /* 6. EPOLLRDHUP when the socket's peer closes. */
    t = io_close_after(100, sv[1]);
    n = epoll_wait(ep, evs, 8, 3000);
    io_wait(t);
    printf("peer closed: %d event(s), events %s\n", n,
           n == 1 && evs[0].events == (EPOLLIN | EPOLLRDHUP | EPOLLHUP) ? "IN|RDHUP|HUP"
           : n == 1 && evs[0].events == (EPOLLIN | EPOLLRDHUP) ? "IN|RDHUP" : "other");

    CHECK(close(ep) == 0);
    io_ticker_stop();
    return 0;
}
