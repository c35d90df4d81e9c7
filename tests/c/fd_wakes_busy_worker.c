// A green thread woken by an fd while its worker is busy with a coroutine
// that never switches gets its turn after the wake-up granularity, not
// after the whole slice: the monitor watches the pollers of busy workers.
// One worker, a 10 s slice: a spinner spins until the reader has read the
// byte a forked child writes. Before the fix the reader's readiness was
// seen only at the spinner's next switch, so after its slice (10 s, past the
// timeout). Natively the two run on different cores.
// native: same
// link: no
// env: OPENCORO_WORKERS=1 OPENCORO_SLICE_MS=10000
// timeout: 8
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "../../preload/opencoro.h"

static int fds[2];
static atomic_int got;

static void *reader(void *arg) {
    (void)arg;
    char b;
    CHECK(read(fds[0], &b, 1) == 1);
    atomic_store(&got, 1);
    return NULL;
}

static void *spinner(void *arg) {
    (void)arg;
    unsigned long spins = 0;
    while (!atomic_load_explicit(&got, memory_order_relaxed)) spins++;
    return (void *)spins;
}

int main(void) {
    CHECK(pipe(fds) == 0);
    pthread_t r, s;
    CHECK(pthread_create(&r, NULL, reader, NULL) == 0);
    CHECK(pthread_create(&s, NULL, spinner, NULL) == 0);
    CHECK_ALL_GREEN();
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        usleep(50000);
        _exit(write(fds[1], "x", 1) == 1 ? 0 : 1);
    }
    CHECK(pthread_join(s, NULL) == 0);
    CHECK(pthread_join(r, NULL) == 0);
    int status;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    opencoro_worker_stats w[16];
    int n = worker_stats(w, 16);
    if (n >= 0) {
        CHECK(n > 0);
        CHECKF(w[0].preemptions > 0, "the spinner was never preempted");
    }
    printf("woken\n");
    return 0;
}
