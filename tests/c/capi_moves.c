// A coroutine of the C API has thread-locals of its own, so it may move to
// another worker after it first ran: 8 coroutines on 2 workers, each
// spinning 200 us between 100 yields, and at least one of them is seen on
// both workers' threads (a worker that wakes for a ninth coroutine, which
// sleeps 1 ms at a time, steals from the busy one before it sleeps
// again). Before the
// fix each stayed pinned to the worker of its first run: it was pinned
// before its descriptor was made (at that first run), so it never moved
// again, and each yield went through that worker's inbox.
// env: OPENCORO_WORKERS=2
// timeout: 30
#define _GNU_SOURCE
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "opencoro.h"

#define N 8
#define YIELDS 100

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void *body(void *arg) {
    (void)arg;
    pid_t first = gettid();
    long moved = 0;
    for (int i = 0; i < YIELDS; i++) {
        double end = now_us() + 200;
        while (now_us() < end) {
        }
        opencoro_yield();
        moved |= gettid() != first;
    }
    return (void *)moved;
}

static volatile int done;

static void *ticker(void *arg) {
    (void)arg;
    while (!done) usleep(1000);
    return NULL;
}

int main(void) {
    opencoro_task *tick = opencoro_spawn(ticker, NULL, 0);
    CHECK(tick != NULL);
    opencoro_task *t[N];
    for (int i = 0; i < N; i++) CHECK((t[i] = opencoro_spawn(body, NULL, 0)) != NULL);
    long moved = 0;
    for (int i = 0; i < N; i++) {
        void *r;
        CHECK(opencoro_join(t[i], &r) == 0);
        moved += (long)r;
    }
    done = 1;
    CHECK(opencoro_join(tick, NULL) == 0);
    CHECKF(moved > 0, "no coroutine of %d ran on more than one worker", N);
    printf("%d coroutines, some moved between workers\n", N);
    return 0;
}
