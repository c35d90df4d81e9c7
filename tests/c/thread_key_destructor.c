// pthread_key_create destructors: at thread exit (return or pthread_exit),
// on that thread, with the thread's value, after the value was reset to
// NULL, and before pthread_join returns. A destructor that sets its key again
// is called again in the next round, and glibc stops after
// PTHREAD_DESTRUCTOR_ITERATIONS rounds; NULL values and keys a thread never
// set get no call. Values stay per thread across blocking calls (2 workers).
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 10
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>
#include "check.h"

#define N 20

struct slot {
    pthread_t self;         /* the thread that owns this value */
    long id;
    int resets;             /* for the key whose destructor sets it again */
};

static pthread_key_t plain_key, again_key, forever_key, null_key, unset_key;
static atomic_int plain_calls, again_calls, forever_calls, null_calls, unset_calls, wrong;
static atomic_long id_sum;
static struct slot slots[N], again_slots[N], forever_slots[N];

static void plain_dtor(void *v) {
    struct slot *s = v;
    atomic_fetch_add(&plain_calls, 1);
    atomic_fetch_add(&id_sum, s->id);
    if (!pthread_equal(s->self, pthread_self())) atomic_fetch_add(&wrong, 1);
    if (pthread_getspecific(plain_key) != NULL) atomic_fetch_add(&wrong, 1);
}

/* Sets its key again twice: three calls in all. */
static void again_dtor(void *v) {
    struct slot *s = v;
    atomic_fetch_add(&again_calls, 1);
    if (!pthread_equal(s->self, pthread_self())) atomic_fetch_add(&wrong, 1);
    if (s->resets < 2) {
        s->resets++;
        if (pthread_setspecific(again_key, s) != 0) atomic_fetch_add(&wrong, 1);
    }
}

/* Always sets its key again. */
static void forever_dtor(void *v) {
    atomic_fetch_add(&forever_calls, 1);
    if (pthread_setspecific(forever_key, v) != 0) atomic_fetch_add(&wrong, 1);
}

static void null_dtor(void *v) { (void)v; atomic_fetch_add(&null_calls, 1); }
static void unset_dtor(void *v) { (void)v; atomic_fetch_add(&unset_calls, 1); }

static void *worker(void *arg) {
    long id = (long)arg;
    long bad = 0;
    if (pthread_getspecific(plain_key) != NULL) bad++;
    slots[id] = (struct slot){pthread_self(), id, 0};
    again_slots[id] = (struct slot){pthread_self(), id, 0};
    forever_slots[id] = (struct slot){pthread_self(), id, 0};
    CHECK(pthread_setspecific(plain_key, &slots[id]) == 0);
    CHECK(pthread_setspecific(again_key, &again_slots[id]) == 0);
    CHECK(pthread_setspecific(null_key, &slots[id]) == 0);
    for (int round = 0; round < 10; round++) {
        if (round % 2) usleep(100 + id * 10); else sched_yield();
        if (pthread_getspecific(plain_key) != &slots[id]) bad++;
        if (pthread_getspecific(again_key) != &again_slots[id]) bad++;
    }
    CHECK(pthread_setspecific(null_key, NULL) == 0); /* no call for a NULL value */
    if (id % 5 == 0)
        CHECK(pthread_setspecific(forever_key, &forever_slots[id]) == 0);
    if (id % 2) pthread_exit((void *)bad);
    return (void *)bad;
}

int main(void) {
    CHECK(pthread_key_create(&plain_key, plain_dtor) == 0);
    CHECK(pthread_key_create(&again_key, again_dtor) == 0);
    CHECK(pthread_key_create(&forever_key, forever_dtor) == 0);
    CHECK(pthread_key_create(&null_key, null_dtor) == 0);
    CHECK(pthread_key_create(&unset_key, unset_dtor) == 0);
    pthread_t t[N];
    for (long i = 0; i < N; i++) CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    long bad = 0;
    for (int i = 0; i < N; i++) {
        void *r;
        CHECK(pthread_join(t[i], &r) == 0);
        bad += (long)r;
    }
    printf("threads: %d, wrong values while running: %ld\n", N, bad);
    printf("destructor calls: plain %d (id sum %s), resetting %d, NULL value %d, never set %d\n",
           atomic_load(&plain_calls), atomic_load(&id_sum) == N * (N - 1) / 2 ? "right" : "wrong",
           atomic_load(&again_calls), atomic_load(&null_calls), atomic_load(&unset_calls));
    printf("always resetting: %d calls for %d threads (PTHREAD_DESTRUCTOR_ITERATIONS %d)\n",
           atomic_load(&forever_calls), N / 5, PTHREAD_DESTRUCTOR_ITERATIONS);
    printf("destructors on the wrong thread or with the key still set: %d\n", atomic_load(&wrong));
    return 0;
}
