// pthread_rwlock (2 workers): several readers hold it at once (each reader
// waits inside, sleeping, until it has seen another reader inside too);
// writers are exclusive against readers and other writers while all sleep
// inside; with a reader holding it, trywrlock gives EBUSY and timedwrlock /
// clockwrlock ETIMEDOUT; with a writer holding it, tryrdlock EBUSY and
// timedrdlock ETIMEDOUT.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 10
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static atomic_int readers_in, writers_in, max_readers, violations;

static void raise_max(int v) {
    int m = atomic_load(&max_readers);
    while (v > m && !atomic_compare_exchange_weak(&max_readers, &m, v)) {}
}

/* Phase 1: readers only. */
static void *together_reader(void *arg) {
    (void)arg;
    CHECK(pthread_rwlock_rdlock(&rw) == 0);
    raise_max(atomic_fetch_add(&readers_in, 1) + 1);
    for (int i = 0; i < 2000 && atomic_load(&max_readers) < 2; i++) usleep(500);
    usleep(2000);
    atomic_fetch_sub(&readers_in, 1);
    CHECK(pthread_rwlock_unlock(&rw) == 0);
    return NULL;
}

/* Phase 2: readers and writers mixed. */
static void *mixed_reader(void *arg) {
    long id = (long)arg;
    for (int i = 0; i < 30; i++) {
        CHECK(pthread_rwlock_rdlock(&rw) == 0);
        atomic_fetch_add(&readers_in, 1);
        if (atomic_load(&writers_in) != 0) atomic_fetch_add(&violations, 1);
        if ((i + id) % 4 == 0) usleep(50);
        if (atomic_load(&writers_in) != 0) atomic_fetch_add(&violations, 1);
        atomic_fetch_sub(&readers_in, 1);
        CHECK(pthread_rwlock_unlock(&rw) == 0);
    }
    return NULL;
}

static void *writer(void *arg) {
    (void)arg;
    for (int i = 0; i < 30; i++) {
        CHECK(pthread_rwlock_wrlock(&rw) == 0);
        if (atomic_fetch_add(&writers_in, 1) != 0 || atomic_load(&readers_in) != 0)
            atomic_fetch_add(&violations, 1);
        usleep(20);
        if (atomic_load(&writers_in) != 1 || atomic_load(&readers_in) != 0) atomic_fetch_add(&violations, 1);
        atomic_fetch_sub(&writers_in, 1);
        CHECK(pthread_rwlock_unlock(&rw) == 0);
    }
    return NULL;
}

/* Phase 3: a holder (reader or writer) that sleeps until released. */
static atomic_int held, release;
static void *holder(void *arg) {
    int write = (int)(long)arg;
    CHECK((write ? pthread_rwlock_wrlock(&rw) : pthread_rwlock_rdlock(&rw)) == 0);
    atomic_store(&held, 1);
    while (!atomic_load(&release)) usleep(1000);
    CHECK(pthread_rwlock_unlock(&rw) == 0);
    return NULL;
}

static pthread_t start_holder(int write) {
    pthread_t t;
    atomic_store(&held, 0);
    atomic_store(&release, 0);
    CHECK(pthread_create(&t, NULL, holder, (void *)(long)write) == 0);
    for (int i = 0; i < 5000 && !atomic_load(&held); i++) usleep(200);
    CHECK(atomic_load(&held));
    return t;
}

static struct timespec in(clockid_t clk, long ms) {
    struct timespec ts;
    clock_gettime(clk, &ts);
    ts.tv_nsec += ms % 1000 * 1000000;
    ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000;
    ts.tv_nsec %= 1000000000;
    return ts;
}

static void check_elapsed(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    long ms = (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
    CHECKF(ms >= 40 && ms < 1500, "gave up after %ld ms", ms);
}

int main(void) {
    pthread_t t[12];
    for (int i = 0; i < 8; i++) CHECK(pthread_create(&t[i], NULL, together_reader, NULL) == 0);
    for (int i = 0; i < 8; i++) CHECK(pthread_join(t[i], NULL) == 0);
    printf("readers inside at once: more than one: %s\n", atomic_load(&max_readers) > 1 ? "yes" : "no");

    for (long i = 0; i < 12; i++)
        CHECK(pthread_create(&t[i], NULL, i % 3 == 0 ? writer : mixed_reader, (void *)i) == 0);
    for (int i = 0; i < 12; i++) CHECK(pthread_join(t[i], NULL) == 0);
    printf("writers exclusive: %d violations\n", atomic_load(&violations));

    struct timespec t0, dl;
    pthread_t h = start_holder(0);
    CHECK(pthread_rwlock_trywrlock(&rw) == EBUSY);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    dl = in(CLOCK_REALTIME, 50);
    CHECK(pthread_rwlock_timedwrlock(&rw, &dl) == ETIMEDOUT);
    check_elapsed(&t0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    dl = in(CLOCK_MONOTONIC, 50);
    CHECK(pthread_rwlock_clockwrlock(&rw, CLOCK_MONOTONIC, &dl) == ETIMEDOUT);
    check_elapsed(&t0);
    CHECK(pthread_rwlock_tryrdlock(&rw) == 0); /* readers share it */
    CHECK(pthread_rwlock_unlock(&rw) == 0);
    atomic_store(&release, 1);
    CHECK(pthread_join(h, NULL) == 0);
    printf("reader holds it: trywrlock EBUSY, timedwrlock and clockwrlock ETIMEDOUT\n");

    h = start_holder(1);
    CHECK(pthread_rwlock_tryrdlock(&rw) == EBUSY);
    CHECK(pthread_rwlock_trywrlock(&rw) == EBUSY);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    dl = in(CLOCK_REALTIME, 50);
    CHECK(pthread_rwlock_timedrdlock(&rw, &dl) == ETIMEDOUT);
    check_elapsed(&t0);
    atomic_store(&release, 1);
    dl = in(CLOCK_REALTIME, 5000);
    CHECK(pthread_rwlock_timedwrlock(&rw, &dl) == 0); /* once the writer lets go */
    CHECK(pthread_rwlock_unlock(&rw) == 0);
    CHECK(pthread_join(h, NULL) == 0);
    printf("writer holds it: tryrdlock EBUSY, timedrdlock ETIMEDOUT\n");
    return 0;
}
