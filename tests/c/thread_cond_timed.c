// Timed condition waits, in 3 threads at once and in main (2 workers):
// pthread_cond_timedwait on a default (CLOCK_REALTIME) cond, on a cond whose
// clock pthread_condattr_setclock made CLOCK_MONOTONIC, and
// pthread_cond_clockwait with either clock give ETIMEDOUT after the deadline
// with the mutex held again; each also returns 0 before a far deadline when
// another thread signals.
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

static struct timespec in(clockid_t clk, long ms) {
    struct timespec ts;
    clock_gettime(clk, &ts);
    ts.tv_nsec += ms % 1000 * 1000000;
    ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000;
    ts.tv_nsec %= 1000000000;
    return ts;
}

static long ms_since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

struct waitset {
    pthread_mutex_t m;       /* error-checking: unlock proves it was held */
    pthread_cond_t rt, mono; /* default clock; CLOCK_MONOTONIC */
    int flag;
};

static void waitset_init(struct waitset *w) {
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    clockid_t clk;
    CHECK(pthread_mutexattr_init(&ma) == 0);
    CHECK(pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK) == 0);
    CHECK(pthread_mutex_init(&w->m, &ma) == 0);
    CHECK(pthread_cond_init(&w->rt, NULL) == 0);
    CHECK(pthread_condattr_init(&ca) == 0);
    CHECK(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0);
    CHECK(pthread_condattr_getclock(&ca, &clk) == 0 && clk == CLOCK_MONOTONIC);
    CHECK(pthread_cond_init(&w->mono, &ca) == 0);
    CHECK(pthread_condattr_destroy(&ca) == 0);
    CHECK(pthread_mutexattr_destroy(&ma) == 0);
    w->flag = 0;
}

/* which: 0 timedwait on rt, 1 timedwait on mono, 2 clockwait MONOTONIC on rt,
 * 3 clockwait REALTIME on mono. */
static int timed(struct waitset *w, int which, long ms) {
    struct timespec dl;
    switch (which) {
    case 0: dl = in(CLOCK_REALTIME, ms); return pthread_cond_timedwait(&w->rt, &w->m, &dl);
    case 1: dl = in(CLOCK_MONOTONIC, ms); return pthread_cond_timedwait(&w->mono, &w->m, &dl);
    case 2: dl = in(CLOCK_MONOTONIC, ms); return pthread_cond_clockwait(&w->rt, &w->m, CLOCK_MONOTONIC, &dl);
    default: dl = in(CLOCK_REALTIME, ms); return pthread_cond_clockwait(&w->mono, &w->m, CLOCK_REALTIME, &dl);
    }
}

static void all_timeouts(struct waitset *w) {
    for (int which = 0; which < 4; which++) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK(pthread_mutex_lock(&w->m) == 0);
        int r;
        do r = timed(w, which, 40); while (r == 0); /* a spurious wake-up may come first */
        long ms = ms_since(&t0);
        CHECKF(r == ETIMEDOUT, "wait %d returned %d", which, r);
        CHECKF(ms >= 30 && ms < 1500, "wait %d timed out after %ld ms", which, ms);
        CHECK(pthread_mutex_unlock(&w->m) == 0); /* EPERM if the mutex were not held again */
    }
}

/* A thread signals w's conds until `flag` has been seen. */
static void *signaller(void *arg) {
    struct waitset *w = arg;
    for (;;) {
        usleep(5000);
        CHECK(pthread_mutex_lock(&w->m) == 0);
        int seen = w->flag == 2;
        w->flag = 1;
        pthread_cond_broadcast(&w->rt);
        pthread_cond_broadcast(&w->mono);
        CHECK(pthread_mutex_unlock(&w->m) == 0);
        if (seen) return NULL;
    }
}

static void all_signalled(struct waitset *w) {
    for (int which = 0; which < 4; which++) {
        pthread_t s;
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK(pthread_mutex_lock(&w->m) == 0);
        w->flag = 0;
        CHECK(pthread_create(&s, NULL, signaller, w) == 0);
        while (w->flag != 1) CHECK(timed(w, which, 5000) == 0);
        w->flag = 2;
        CHECK(pthread_mutex_unlock(&w->m) == 0);
        CHECK(pthread_join(s, NULL) == 0);
        CHECKF(ms_since(&t0) < 2500, "signalled wait %d took %ld ms", which, ms_since(&t0));
    }
}

static atomic_int ok;

static void *worker(void *arg) {
    (void)arg;
    struct waitset w;
    waitset_init(&w);
    all_timeouts(&w);
    all_signalled(&w);
    atomic_fetch_add(&ok, 1);
    return NULL;
}

int main(void) {
    pthread_t t[3];
    for (int i = 0; i < 3; i++) CHECK(pthread_create(&t[i], NULL, worker, NULL) == 0);
    worker(NULL);
    for (int i = 0; i < 3; i++) CHECK(pthread_join(t[i], NULL) == 0);
    printf("timed waits right in %d of 4 threads: ETIMEDOUT with the mutex held, 0 when signalled\n",
           atomic_load(&ok));
    return 0;
}
