// Raw futex system calls between threads (2 workers): a hand-made lock
// (Drepper's three-state mutex on FUTEX_WAIT_PRIVATE / FUTEX_WAKE_PRIVATE)
// guarding a counter that 20 threads increment with a usleep inside, exact at
// the end; a one-shot event that 10 threads wait on until main sets it and
// wakes them all; FUTEX_WAIT with a value that differs gives EAGAIN at once;
// FUTEX_WAIT with a relative timeout gives ETIMEDOUT after it.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 10
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static long futex_wait(atomic_int *addr, int val, const struct timespec *rel) {
    return syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, rel, NULL, 0);
}

static long futex_wake(atomic_int *addr, int n) {
    return syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* 0 unlocked, 1 locked, 2 locked with waiters */
static atomic_int lock_word;

static void lock(void) {
    int c = 0;
    if (atomic_compare_exchange_strong(&lock_word, &c, 1)) return;
    if (c != 2) c = atomic_exchange(&lock_word, 2);
    while (c != 0) {
        futex_wait(&lock_word, 2, NULL);
        c = atomic_exchange(&lock_word, 2);
    }
}

static void unlock(void) {
    if (atomic_fetch_sub(&lock_word, 1) != 1) {
        atomic_store(&lock_word, 0);
        futex_wake(&lock_word, 1);
    }
}

#define LOCKERS 20
#define ITERS 30
static long counter;
static atomic_int inside, overlaps;

static void *locker(void *arg) {
    (void)arg;
    for (int i = 0; i < ITERS; i++) {
        lock();
        if (atomic_fetch_add(&inside, 1) != 0) atomic_fetch_add(&overlaps, 1);
        long v = counter;
        usleep(1);
        counter = v + 1;
        atomic_fetch_sub(&inside, 1);
        unlock();
    }
    return NULL;
}

#define WAITERS 10
static atomic_int event, woke;

static void *event_waiter(void *arg) {
    (void)arg;
    while (atomic_load(&event) == 0) {
        long r = futex_wait(&event, 0, NULL);
        CHECK(r == 0 || errno == EAGAIN || errno == EINTR);
    }
    atomic_fetch_add(&woke, 1);
    return NULL;
}

static atomic_int errors_ok;

static void *error_cases(void *arg) {
    (void)arg;
    atomic_int word = 5;
    errno = 0;
    CHECK(futex_wait(&word, 6, NULL) == -1 && errno == EAGAIN);
    struct timespec rel = {0, 50 * 1000000}, t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    errno = 0;
    long r = futex_wait(&word, 5, &rel);
    int e = errno;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CHECKF(r == -1 && e == ETIMEDOUT, "timed FUTEX_WAIT: %ld, errno %d", r, e);
    CHECKF(ms >= 40 && ms < 1500, "timed FUTEX_WAIT gave up after %ld ms", ms);
    CHECK(futex_wake(&word, 1) == 0); /* nobody waits there */
    atomic_fetch_add(&errors_ok, 1);
    return NULL;
}

int main(void) {
    pthread_t t[LOCKERS], w[WAITERS], e[3];
    for (int i = 0; i < 3; i++) CHECK(pthread_create(&e[i], NULL, error_cases, NULL) == 0);
    for (int i = 0; i < LOCKERS; i++) CHECK(pthread_create(&t[i], NULL, locker, NULL) == 0);
    for (int i = 0; i < WAITERS; i++) CHECK(pthread_create(&w[i], NULL, event_waiter, NULL) == 0);
    usleep(10000);
    int early = atomic_load(&woke);
    atomic_store(&event, 1);
    CHECK(futex_wake(&event, INT_MAX) >= 0);
    for (int i = 0; i < LOCKERS; i++) CHECK(pthread_join(t[i], NULL) == 0);
    for (int i = 0; i < WAITERS; i++) CHECK(pthread_join(w[i], NULL) == 0);
    for (int i = 0; i < 3; i++) CHECK(pthread_join(e[i], NULL) == 0);
    error_cases(NULL);
    printf("futex lock: counter %ld (expected %d), overlaps %d\n", counter, LOCKERS * ITERS,
           atomic_load(&overlaps));
    printf("futex event: %d woke before it was set, %d after\n", early, atomic_load(&woke));
    printf("EAGAIN and ETIMEDOUT right in %d of 4 threads\n", atomic_load(&errors_ok));
    return 0;
}
