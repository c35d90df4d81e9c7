// pthread mutex kinds and their error codes, with the mutex held by another
// thread that sleeps while holding it (2 workers): normal (trylock EBUSY),
// recursive (lock twice, unlock twice; others get EBUSY until the last
// unlock), error-checking (relock EDEADLK, unlock by a non-owner or when
// unlocked EPERM), pthread_mutex_timedlock with a CLOCK_REALTIME deadline
// and pthread_mutex_clocklock with CLOCK_MONOTONIC and CLOCK_REALTIME
// (ETIMEDOUT after the deadline; 0 when the holder lets go in time).
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

/* A thread that locks a mutex, says so, sleeps until told, then unlocks. */
struct holder {
    pthread_mutex_t *m;
    int depth;             /* how many times to lock it */
    atomic_int held, release;
    pthread_t t;
};

static void *hold(void *arg) {
    struct holder *h = arg;
    for (int i = 0; i < h->depth; i++) CHECK(pthread_mutex_lock(h->m) == 0);
    atomic_store(&h->held, 1);
    while (!atomic_load(&h->release)) usleep(1000);
    for (int i = 0; i < h->depth; i++) CHECK(pthread_mutex_unlock(h->m) == 0);
    return NULL;
}

static void start_holder(struct holder *h, pthread_mutex_t *m, int depth) {
    h->m = m;
    h->depth = depth;
    atomic_store(&h->held, 0);
    atomic_store(&h->release, 0);
    CHECK(pthread_create(&h->t, NULL, hold, h) == 0);
    for (int i = 0; i < 5000 && !atomic_load(&h->held); i++) usleep(200);
    CHECK(atomic_load(&h->held));
}

static void stop_holder(struct holder *h) {
    atomic_store(&h->release, 1);
    CHECK(pthread_join(h->t, NULL) == 0);
}

static void init_kind(pthread_mutex_t *m, int kind) {
    pthread_mutexattr_t a;
    CHECK(pthread_mutexattr_init(&a) == 0);
    CHECK(pthread_mutexattr_settype(&a, kind) == 0);
    CHECK(pthread_mutex_init(m, &a) == 0);
    CHECK(pthread_mutexattr_destroy(&a) == 0);
}

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

/* A timed attempt on m (held by someone else): ETIMEDOUT after ~50 ms. */
static void expect_timeout(pthread_mutex_t *m, int which) {
    struct timespec t0, dl;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int r;
    if (which == 0) { dl = in(CLOCK_REALTIME, 50); r = pthread_mutex_timedlock(m, &dl); }
    else if (which == 1) { dl = in(CLOCK_MONOTONIC, 50); r = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &dl); }
    else { dl = in(CLOCK_REALTIME, 50); r = pthread_mutex_clocklock(m, CLOCK_REALTIME, &dl); }
    long ms = ms_since(&t0);
    CHECKF(r == ETIMEDOUT, "timed lock %d returned %d", which, r);
    CHECKF(ms >= 40 && ms < 1500, "timed lock %d gave up after %ld ms", which, ms);
}

/* A helper thread for the error-checking mutex owned by main. */
static void *unlock_foreign(void *arg) { return (void *)(long)pthread_mutex_unlock(arg); }
static void *trylock_once(void *arg) {
    int r = pthread_mutex_trylock(arg);
    if (r == 0) CHECK(pthread_mutex_unlock(arg) == 0);
    return (void *)(long)r;
}

static int trylock_from_thread(pthread_mutex_t *m) {
    pthread_t t;
    void *r;
    CHECK(pthread_create(&t, NULL, trylock_once, m) == 0);
    CHECK(pthread_join(t, &r) == 0);
    return (int)(long)r;
}

int main(void) {
    struct holder h;

    /* Normal. */
    pthread_mutex_t normal = PTHREAD_MUTEX_INITIALIZER;
    CHECK(pthread_mutex_lock(&normal) == 0);
    CHECK(pthread_mutex_trylock(&normal) == EBUSY);
    CHECK(trylock_from_thread(&normal) == EBUSY);
    CHECK(pthread_mutex_unlock(&normal) == 0);
    CHECK(trylock_from_thread(&normal) == 0);
    start_holder(&h, &normal, 1);
    CHECK(pthread_mutex_trylock(&normal) == EBUSY);
    for (int which = 0; which < 3; which++) expect_timeout(&normal, which);
    stop_holder(&h);
    CHECK(pthread_mutex_trylock(&normal) == 0);
    CHECK(pthread_mutex_unlock(&normal) == 0);
    printf("normal: trylock EBUSY, timedlock and clocklock ETIMEDOUT\n");

    /* Recursive. */
    pthread_mutex_t rec;
    init_kind(&rec, PTHREAD_MUTEX_RECURSIVE);
    CHECK(pthread_mutex_lock(&rec) == 0);
    CHECK(pthread_mutex_lock(&rec) == 0);
    CHECK(pthread_mutex_trylock(&rec) == 0);
    CHECK(trylock_from_thread(&rec) == EBUSY);
    CHECK(pthread_mutex_unlock(&rec) == 0);
    CHECK(pthread_mutex_unlock(&rec) == 0);
    CHECK(trylock_from_thread(&rec) == EBUSY); /* still held once */
    CHECK(pthread_mutex_unlock(&rec) == 0);
    CHECK(trylock_from_thread(&rec) == 0);
    start_holder(&h, &rec, 2);                 /* held twice by a sleeping thread */
    CHECK(pthread_mutex_trylock(&rec) == EBUSY);
    expect_timeout(&rec, 1);
    stop_holder(&h);
    CHECK(pthread_mutex_lock(&rec) == 0);
    CHECK(pthread_mutex_unlock(&rec) == 0);
    printf("recursive: lock twice, unlock twice; EBUSY for others until the last unlock\n");

    /* Error-checking. */
    pthread_mutex_t ec;
    init_kind(&ec, PTHREAD_MUTEX_ERRORCHECK);
    CHECK(pthread_mutex_unlock(&ec) == EPERM); /* not locked */
    CHECK(pthread_mutex_lock(&ec) == 0);
    CHECK(pthread_mutex_lock(&ec) == EDEADLK);
    pthread_t t;
    void *r;
    CHECK(pthread_create(&t, NULL, unlock_foreign, &ec) == 0);
    CHECK(pthread_join(t, &r) == 0);
    CHECK((long)r == EPERM);
    CHECK(trylock_from_thread(&ec) == EBUSY);  /* the foreign unlock did not unlock */
    CHECK(pthread_mutex_unlock(&ec) == 0);
    start_holder(&h, &ec, 1);
    CHECK(pthread_mutex_unlock(&ec) == EPERM); /* main does not own it */
    expect_timeout(&ec, 0);
    stop_holder(&h);
    printf("error-checking: relock EDEADLK, unlock by a non-owner EPERM\n");

    /* Timed locks that succeed: the holder lets go (within about a millisecond,
     * while main most likely waits) long before the deadline. */
    struct timespec dl;
    start_holder(&h, &normal, 1);
    atomic_store(&h.release, 1); /* it notices within a millisecond */
    dl = in(CLOCK_REALTIME, 5000);
    CHECK(pthread_mutex_timedlock(&normal, &dl) == 0);
    CHECK(pthread_mutex_unlock(&normal) == 0);
    CHECK(pthread_join(h.t, NULL) == 0);
    start_holder(&h, &normal, 1);
    atomic_store(&h.release, 1);
    dl = in(CLOCK_MONOTONIC, 5000);
    CHECK(pthread_mutex_clocklock(&normal, CLOCK_MONOTONIC, &dl) == 0);
    CHECK(pthread_mutex_unlock(&normal) == 0);
    CHECK(pthread_join(h.t, NULL) == 0);
    printf("timedlock and clocklock succeed when the holder unlocks in time\n");

    CHECK(pthread_mutex_destroy(&rec) == 0);
    CHECK(pthread_mutex_destroy(&ec) == 0);
    return 0;
}
