// main may return while a spare runs it: the process must then exit. A
// green thread blocks worker 0 in a raw read (no hook sees it); main's
// sleep ends meanwhile and the spare that stands in for worker 0 runs it;
// main writes the byte the thread waits for, the thread ends and worker 0,
// with nothing left to do, sleeps in its poller; main, still on the spare,
// yields (its spare, no longer standing in, keeps it in its own queue) and
// returns there. Before the fix worker 0 slept on without a timeout and never saw
// main end: the process hung (found by handoff_main_timer under load, 5 of
// 60 runs beside two busy loops). Under the library main is checked to
// run on another OS thread than the main thread at its return (the spare).
// native: same
// link: no
// env: OPENCORO_WORKERS=1 OPENCORO_HANDOFF_MS=5
// timeout: 20
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static int fds[2];
static volatile int thread_done;

static void *thread(void *arg) {
    (void)arg;
    char b;
    CHECK(syscall(SYS_read, fds[0], &b, 1) == 1);
    thread_done = 1;
    return NULL;
}

/* Waits for good (a hooked read: it parks), so that main is not the only
 * coroutine and its sched_yield yields. */
static int idle_fds[2];
static void *waiter(void *arg) {
    (void)arg;
    char b;
    (void)!read(idle_fds[0], &b, 1);
    return NULL;
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(void) {
    CHECK(pipe(fds) == 0 && pipe(idle_fds) == 0);
    pthread_t w;
    CHECK(pthread_create(&w, NULL, waiter, NULL) == 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, thread, NULL) == 0);
    CHECK(pthread_detach(t) == 0);
    usleep(30000); /* the thread blocks worker 0 meanwhile */
    CHECK(write(fds[1], "x", 1) == 1);
    while (!thread_done) {
    }
    /* A yield on the spare puts main in the spare's own queue; the spare,
     * no longer standing in, goes dormant and runs it from there. Then no
     * call the runtime sees for 100 ms: worker 0 goes to sleep. */
    sched_yield();
    double end = now_ms() + 100;
    while (now_ms() < end) {
    }
    if (under_opencoro()) CHECKF(gettid() != getpid(), "main did not run on the spare (the hand-off did not happen)");
    printf("main returns\n");
    fflush(stdout);
    return 0;
}
