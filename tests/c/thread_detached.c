// Detached threads run and finish without a join: threads created with
// PTHREAD_CREATE_DETACHED (which pthread_getattr_np inside them reports),
// threads pthread_detach'ed by main after creation (some already finished by
// then), and a thread that detaches itself. Each blocks (usleep, pipe read)
// before reporting through an atomic counter that main waits on.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 10
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>
#include "check.h"

#define N 10

static atomic_int finished, reported_detached, self_detach_ok;
static int gate[2];

static int detached_per_getattr(void) {
    pthread_attr_t a;
    int state = -1;
    CHECK(pthread_getattr_np(pthread_self(), &a) == 0);
    CHECK(pthread_attr_getdetachstate(&a, &state) == 0);
    CHECK(pthread_attr_destroy(&a) == 0);
    return state == PTHREAD_CREATE_DETACHED;
}

static void *by_attr(void *arg) {
    long id = (long)arg;
    if (detached_per_getattr()) atomic_fetch_add(&reported_detached, 1);
    usleep(1000 + id * 100);
    char b;
    CHECK(read(gate[0], &b, 1) == 0); /* EOF once main closes the write end */
    atomic_fetch_add(&finished, 1);
    return NULL;
}

static void *detached_later(void *arg) {
    long id = (long)arg;
    if (id % 2) usleep(2000); /* the even ones may finish before main detaches them */
    atomic_fetch_add(&finished, 1);
    return NULL;
}

static void *self_detaching(void *arg) {
    (void)arg;
    if (pthread_detach(pthread_self()) == 0 && detached_per_getattr()) atomic_fetch_add(&self_detach_ok, 1);
    usleep(1000);
    atomic_fetch_add(&finished, 1);
    return NULL;
}

int main(void) {
    CHECK(pipe(gate) == 0);
    pthread_attr_t a;
    int state;
    CHECK(pthread_attr_init(&a) == 0);
    CHECK(pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED) == 0);
    CHECK(pthread_attr_getdetachstate(&a, &state) == 0 && state == PTHREAD_CREATE_DETACHED);
    for (long i = 0; i < N; i++) {
        pthread_t t;
        CHECK(pthread_create(&t, &a, by_attr, (void *)i) == 0);
    }
    CHECK(pthread_attr_destroy(&a) == 0);
    for (long i = 0; i < N; i++) {
        pthread_t t;
        CHECK(pthread_create(&t, NULL, detached_later, (void *)i) == 0);
        if (i % 2 == 0) usleep(500);
        CHECK(pthread_detach(t) == 0);
    }
    for (long i = 0; i < N; i++) {
        pthread_t t;
        CHECK(pthread_create(&t, NULL, self_detaching, NULL) == 0);
    }
    usleep(5000);
    CHECK(close(gate[1]) == 0);
    for (int i = 0; i < 2000 && atomic_load(&finished) < 3 * N; i++) usleep(1000);
    printf("detached threads finished: %d of %d\n", atomic_load(&finished), 3 * N);
    printf("created detached and said so: %d, detached themselves: %d\n", atomic_load(&reported_detached),
           atomic_load(&self_detach_ok));
    return 0;
}
