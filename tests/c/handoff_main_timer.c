// main must never wait on another coroutine's unconvertible call: a green
// thread on main's worker blocks in a raw read (syscall(SYS_read): no hook
// sees it) right after the worker's own loop made main runnable (both their
// sleeps end in one batch of timers). main must still run (on the spare that
// stands in for the blocked worker) and write the byte the thread waits for.
// Before the fix main sat in the blocked worker's own queue, which a spare
// cannot take: a hang in the first rounds. Under the library the hand-offs
// are counted (opencoro_stats): main's worker was blocked and main still ran.
// native: same
// (the C API is looked up with dlsym: not linked, so the run without the
// library is native)
// link: no
// env: OPENCORO_WORKERS=1 OPENCORO_HANDOFF_MS=5
// timeout: 60
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "../../preload/opencoro.h"

#define ROUNDS 200

static int fds[2];
static atomic_int round_no;

static void sleep_until(const struct timespec *t) {
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL);
}

static struct timespec deadline;

/* Each round the thread sets the deadline and sleeps first; main sleeps
 * until the same deadline last, so that the worker ran main last and takes
 * new work (the thread) first when both wake. */
static void *thread(void *arg) {
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        struct timespec d;
        clock_gettime(CLOCK_MONOTONIC, &d);
        d.tv_nsec += 2000000;
        if (d.tv_nsec >= 1000000000) { d.tv_sec++; d.tv_nsec -= 1000000000; }
        deadline = d;
        atomic_store(&round_no, i + 1);
        sleep_until(&d);
        char b;
        CHECK(syscall(SYS_read, fds[0], &b, 1) == 1);
    }
    return NULL;
}

int main(void) {
    CHECK(pipe(fds) == 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, thread, NULL) == 0);
    for (int i = 0; i < ROUNDS; i++) {
        while (atomic_load(&round_no) < i + 1) sched_yield();
        struct timespec d = deadline;
        sleep_until(&d);
        CHECK(write(fds[1], "x", 1) == 1);
    }
    CHECK(pthread_join(t, NULL) == 0);
    opencoro_worker_stats w[16];
    int n = worker_stats(w, 16);
    if (n >= 0) {
        CHECK(n > 0);
        CHECKF(w[0].handoffs > 0, "worker 0 was never handed off");
    }
    printf("%d rounds\n", ROUNDS);
    return 0;
}
