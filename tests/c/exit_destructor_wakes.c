// An exit-time destructor (run by exit() after main returns) wakes green
// threads that wait on a condition variable and joins them, as libuv's
// thread-pool clean-up does at Node.js's exit. Before the fix the wake-up
// pushed onto worker 0's queue, gone with its loop: SIGSEGV; and with one
// worker nothing ran the woken threads (a hang). One thread has a stack-size
// attribute (green too); with OPENCORO_WORKERS=1 a thread of the runtime
// takes over worker 0 while exit runs.
// native: same
// env: OPENCORO_WORKERS=1
// timeout: 20
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "check.h"

#define N 8

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int quit, waiting;
static pthread_t th[N];

static void *worker(void *a) {
    pthread_mutex_lock(&m);
    waiting++;
    pthread_cond_broadcast(&c);
    while (!quit) pthread_cond_wait(&c, &m);
    pthread_mutex_unlock(&m);
    return a;
}

__attribute__((destructor)) static void cleanup(void) {
    pthread_mutex_lock(&m);
    quit = 1;
    pthread_cond_broadcast(&c);
    pthread_mutex_unlock(&m);
    long sum = 0;
    for (long i = 0; i < N; i++) {
        void *r;
        CHECK(pthread_join(th[i], &r) == 0);
        sum += (long)r;
    }
    printf("destructor joined %d threads (sum %ld)\n", N, sum);
}

int main(void) {
    for (long i = 0; i < N; i++) {
        pthread_attr_t at;
        pthread_attr_init(&at);
        if (i == 0) pthread_attr_setstacksize(&at, 1 << 20);
        CHECK(pthread_create(&th[i], &at, worker, (void *)i) == 0);
        pthread_attr_destroy(&at);
    }
    pthread_mutex_lock(&m);
    while (waiting < N) pthread_cond_wait(&c, &m);
    pthread_mutex_unlock(&m);
    CHECK_GREEN(N, 4);
    printf("main returns\n");
    return 0;
}
