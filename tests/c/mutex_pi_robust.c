// Priority-inheritance and robust mutexes work between
// green threads: 4 threads contend for each, holding it across a sleep.
// Before the fix they took glibc's blocking path: a PI mutex's
// FUTEX_LOCK_PI named the owner by a green thread's made-up id (ESRCH, then
// a hang), and a robust one's futex wait blocked the worker the owner
// needed to release it.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 60
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

#define THREADS 4
#define ROUNDS 1000

static pthread_mutex_t m;
static long counter;

static void *worker(void *a) {
    for (int i = 0; i < ROUNDS; i++) {
        int r = pthread_mutex_lock(&m);
        CHECKF(r == 0, "lock: %s", strerror(r));
        long c = counter;
        if (i % 50 == 0) usleep(200); /* held across a suspension */
        counter = c + 1;
        r = pthread_mutex_unlock(&m);
        CHECKF(r == 0, "unlock: %s", strerror(r));
    }
    return a;
}

static void run(const char *what, void (*set)(pthread_mutexattr_t *)) {
    pthread_mutexattr_t a;
    CHECK(pthread_mutexattr_init(&a) == 0);
    set(&a);
    CHECK(pthread_mutex_init(&m, &a) == 0);
    counter = 0;
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, worker, NULL) == 0);
    CHECK_GREEN(THREADS, 2 + 3);
    CHECK_ALL_GREEN();
    for (int i = 0; i < THREADS; i++) CHECK(pthread_join(t[i], NULL) == 0);
    CHECKF(counter == THREADS * ROUNDS, "%s: counter %ld", what, counter);
    CHECK(pthread_mutex_lock(&m) == 0);
    CHECK(pthread_mutex_unlock(&m) == 0);
    CHECK(pthread_mutex_destroy(&m) == 0);
    CHECK(pthread_mutexattr_destroy(&a) == 0);
    printf("%s: %ld\n", what, counter);
}

static void pi(pthread_mutexattr_t *a) { CHECK(pthread_mutexattr_setprotocol(a, PTHREAD_PRIO_INHERIT) == 0); }
static void robust(pthread_mutexattr_t *a) { CHECK(pthread_mutexattr_setrobust(a, PTHREAD_MUTEX_ROBUST) == 0); }
static void pi_robust(pthread_mutexattr_t *a) { pi(a); robust(a); }

int main(void) {
    CHECK_ON_RUNTIME();
    run("priority inheritance", pi);
    run("robust", robust);
    run("robust, priority inheritance", pi_robust);
    return 0;
}
