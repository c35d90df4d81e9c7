// 100 threads (2 workers) increment a shared counter 10 times each under a
// pthread mutex, reading it, sleeping (usleep(1)) and writing it back inside
// the critical section: the final count is exact and no two threads are
// ever inside at once.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 20
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>
#include "check.h"

#define N 100
#define ITERS 10

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static atomic_int inside, overlaps;

static void *worker(void *arg) {
    (void)arg;
    for (int i = 0; i < ITERS; i++) {
        CHECK(pthread_mutex_lock(&m) == 0);
        if (atomic_fetch_add(&inside, 1) != 0) atomic_fetch_add(&overlaps, 1);
        long v = counter;
        usleep(1);
        counter = v + 1;
        atomic_fetch_sub(&inside, 1);
        CHECK(pthread_mutex_unlock(&m) == 0);
    }
    return NULL;
}

int main(void) {
    pthread_t t[N];
    for (int i = 0; i < N; i++) CHECK(pthread_create(&t[i], NULL, worker, NULL) == 0);
    for (int i = 0; i < N; i++) CHECK(pthread_join(t[i], NULL) == 0);
    printf("counter: %ld (expected %d), overlaps: %d\n", counter, N * ITERS, atomic_load(&overlaps));
    return 0;
}
