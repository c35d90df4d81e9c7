// main must never wait on another coroutine's unconvertible call, also when
// main gave up its worker itself: by sched_yield, or preempted while it
// spins. Each round a new green thread on main's (only) worker blocks in a
// raw read (syscall(SYS_read): no hook sees it) as soon as it runs; main
// must still run, on the spare that stands in for the blocked worker, and
// write the byte the thread waits for. Before the fix a yielded or
// preempted main went back to the worker's own queue, which a spare cannot
// take: a hang in the first round (overflow_main hung 1 run in ~7 so: the
// monitor preempted main as it recursed, and its idle thread blocked in an
// unhooked pause()). Under the library the hand-offs are counted.
// native: same
// link: no
// env: OPENCORO_WORKERS=1 OPENCORO_HANDOFF_MS=5
// timeout: 60
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"
#include "../../preload/opencoro.h"

#define ROUNDS 20

static int fds[2];
static atomic_int started;

static void *reader(void *arg) {
    (void)arg;
    atomic_store(&started, 1);
    char b;
    CHECK(syscall(SYS_read, fds[0], &b, 1) == 1);
    return NULL;
}

static void round_trip(int spin) {
    atomic_store(&started, 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, reader, NULL) == 0);
    if (spin) {
        // Natively the thread runs on another core; under the library it
        // runs once the monitor preempts main.
        while (!atomic_load(&started)) {
        }
    } else {
        while (!atomic_load(&started)) sched_yield();
    }
    CHECK(write(fds[1], "x", 1) == 1);
    CHECK(pthread_join(t, NULL) == 0);
}

int main(void) {
    CHECK(pipe(fds) == 0);
    for (int i = 0; i < ROUNDS; i++) round_trip(i % 2);
    opencoro_worker_stats w[16];
    int n = worker_stats(w, 16);
    if (n >= 0) {
        CHECK(n > 0);
        CHECKF(w[0].handoffs > 0, "worker 0 was never handed off");
    }
    printf("%d rounds\n", ROUNDS);
    return 0;
}
