// pthread_spin_lock contended by 8 threads (2 workers) that hold it only for
// a few instructions: a plain counter incremented under it is exact, no two
// threads are ever inside at once, and pthread_spin_trylock gives EBUSY while
// another thread holds it (that holder sleeps, but nobody spins meanwhile).
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 10
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>
#include "check.h"

#define N 8
#define ITERS 20000

static pthread_spinlock_t spin;
static volatile long counter;
static atomic_int inside, overlaps;

static void *worker(void *arg) {
    long id = (long)arg;
    for (int i = 0; i < ITERS; i++) {
        CHECK(pthread_spin_lock(&spin) == 0);
        if (atomic_fetch_add(&inside, 1) != 0) atomic_fetch_add(&overlaps, 1);
        counter = counter + 1;
        atomic_fetch_sub(&inside, 1);
        CHECK(pthread_spin_unlock(&spin) == 0);
        if (i % 1000 == (int)id) usleep(10); /* blocking outside the lock */
    }
    return NULL;
}

static atomic_int held, release;
static void *holder(void *arg) {
    (void)arg;
    CHECK(pthread_spin_lock(&spin) == 0);
    atomic_store(&held, 1);
    while (!atomic_load(&release)) usleep(1000);
    CHECK(pthread_spin_unlock(&spin) == 0);
    return NULL;
}

int main(void) {
    CHECK(pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE) == 0);
    pthread_t t[N];
    for (long i = 0; i < N; i++) CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    for (int i = 0; i < N; i++) CHECK(pthread_join(t[i], NULL) == 0);
    printf("counter: %ld (expected %d), overlaps: %d\n", counter, N * ITERS, atomic_load(&overlaps));

    pthread_t h;
    CHECK(pthread_create(&h, NULL, holder, NULL) == 0);
    for (int i = 0; i < 5000 && !atomic_load(&held); i++) usleep(200);
    CHECK(atomic_load(&held));
    CHECK(pthread_spin_trylock(&spin) == EBUSY);
    usleep(2000);
    CHECK(pthread_spin_trylock(&spin) == EBUSY);
    atomic_store(&release, 1);
    CHECK(pthread_join(h, NULL) == 0);
    CHECK(pthread_spin_trylock(&spin) == 0);
    CHECK(pthread_spin_unlock(&spin) == 0);
    CHECK(pthread_spin_destroy(&spin) == 0);
    printf("trylock while another thread holds it: EBUSY\n");
    return 0;
}
