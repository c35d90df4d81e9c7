// Threads are green: 200 threads each blocked in read() on their own pipe
// need no OS thread of their own. While all of them wait, the Threads: line
// of /proc/self/status must show at most 2 workers + 8 others (with
// OPENCORO_WORKERS=2); then each gets its byte and all are joined.
// env: OPENCORO_WORKERS=2
// timeout: 20
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

#define N 200

static int pipes[N][2];
static atomic_int waiting;

static void *worker(void *arg) {
    long id = (long)arg;
    char b;
    atomic_fetch_add(&waiting, 1);
    CHECK(read(pipes[id][0], &b, 1) == 1);
    return (void *)(long)b;
}

int main(void) {
    pthread_t t[N];
    unsigned long long base = fd_waits_registered();
    for (long i = 0; i < N; i++) {
        CHECK(pipe(pipes[i]) == 0);
        CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    }
    wait_fd_waits(base, N); /* every reader is inside its read() */
    CHECK(atomic_load(&waiting) == N);
    int n = os_threads();
    CHECK(n > 0);
    printf("threads blocked in read: %d\n", N);
    printf("OS threads <= 2 workers + 8: %s\n", n <= 2 + 8 ? "yes" : "no");
    fflush(stdout);
    for (int i = 0; i < N; i++) CHECK(write(pipes[i][1], "k", 1) == 1);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        void *r;
        CHECK(pthread_join(t[i], &r) == 0);
        ok += (long)r == 'k';
    }
    printf("joined: %d\n", ok);
    return 0;
}
