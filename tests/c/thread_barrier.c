// pthread_barrier with 8 threads for 100 rounds (2 workers): in each round
// exactly one thread gets PTHREAD_BARRIER_SERIAL_THREAD, every other one 0,
// and nobody leaves a round before all 8 have arrived in it. Some threads
// sleep or yield before arriving.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 10
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>
#include "check.h"

#define N 8
#define ROUNDS 100

static pthread_barrier_t barrier;
static atomic_int arrived[ROUNDS], serial[ROUNDS], other_results, early_leavers;

static void *worker(void *arg) {
    long id = (long)arg;
    for (int round = 0; round < ROUNDS; round++) {
        if ((round + id) % 7 == 0) usleep(100);
        else if ((round + id) % 5 == 0) sched_yield();
        atomic_fetch_add(&arrived[round], 1);
        int r = pthread_barrier_wait(&barrier);
        if (r == PTHREAD_BARRIER_SERIAL_THREAD) atomic_fetch_add(&serial[round], 1);
        else if (r != 0) atomic_fetch_add(&other_results, 1);
        if (atomic_load(&arrived[round]) != N) atomic_fetch_add(&early_leavers, 1);
    }
    return NULL;
}

int main(void) {
    CHECK(pthread_barrier_init(&barrier, NULL, N) == 0);
    pthread_t t[N];
    for (long i = 0; i < N; i++) CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    for (int i = 0; i < N; i++) CHECK(pthread_join(t[i], NULL) == 0);
    int one = 0;
    for (int r = 0; r < ROUNDS; r++) if (atomic_load(&serial[r]) == 1) one++;
    printf("rounds with exactly one serial thread: %d of %d\n", one, ROUNDS);
    printf("other results: %d, left before all arrived: %d\n", atomic_load(&other_results),
           atomic_load(&early_leavers));
    CHECK(pthread_barrier_destroy(&barrier) == 0);
    return 0;
}
