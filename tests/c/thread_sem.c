// POSIX unnamed semaphores between threads (2 workers): sem_wait blocks until
// another thread's sem_post (a ping-pong of 200 round trips, and a gate that
// 10 waiters pass once main posts 10 times), sem_trywait gives EAGAIN on 0,
// sem_timedwait (CLOCK_REALTIME) and sem_clockwait (CLOCK_MONOTONIC and
// CLOCK_REALTIME) give ETIMEDOUT after the deadline and 0 when a post comes
// in time; a semaphore of 3 admits at most 3 threads at once.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 10
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static sem_t ping, pong, gate, slots, late;
static atomic_int passed, inside, max_inside;

static void *ponger(void *arg) {
    (void)arg;
    for (int i = 0; i < 200; i++) {
        CHECK(sem_wait(&ping) == 0);
        if (i % 50 == 0) usleep(100);
        CHECK(sem_post(&pong) == 0);
    }
    return NULL;
}

static void *gate_waiter(void *arg) {
    (void)arg;
    CHECK(sem_wait(&gate) == 0);
    atomic_fetch_add(&passed, 1);
    return NULL;
}

static void *limited(void *arg) {
    (void)arg;
    for (int i = 0; i < 5; i++) {
        CHECK(sem_wait(&slots) == 0);
        int now = atomic_fetch_add(&inside, 1) + 1;
        int m = atomic_load(&max_inside);
        while (now > m && !atomic_compare_exchange_weak(&max_inside, &m, now)) {}
        usleep(300);
        atomic_fetch_sub(&inside, 1);
        CHECK(sem_post(&slots) == 0);
    }
    return NULL;
}

static void *late_poster(void *arg) {
    (void)arg;
    usleep(10000);
    CHECK(sem_post(&late) == 0);
    return NULL;
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

/* which: 0 sem_timedwait, 1 sem_clockwait MONOTONIC, 2 sem_clockwait REALTIME */
static int timed(sem_t *s, int which, long ms) {
    struct timespec dl;
    if (which == 0) { dl = in(CLOCK_REALTIME, ms); return sem_timedwait(s, &dl); }
    if (which == 1) { dl = in(CLOCK_MONOTONIC, ms); return sem_clockwait(s, CLOCK_MONOTONIC, &dl); }
    dl = in(CLOCK_REALTIME, ms);
    return sem_clockwait(s, CLOCK_REALTIME, &dl);
}

int main(void) {
    CHECK(sem_init(&ping, 0, 0) == 0 && sem_init(&pong, 0, 0) == 0);
    CHECK(sem_init(&gate, 0, 0) == 0 && sem_init(&slots, 0, 3) == 0 && sem_init(&late, 0, 0) == 0);
    pthread_t t[10], p;

    CHECK(pthread_create(&p, NULL, ponger, NULL) == 0);
    int trips = 0;
    for (int i = 0; i < 200; i++) {
        CHECK(sem_post(&ping) == 0);
        CHECK(sem_wait(&pong) == 0);
        trips++;
    }
    CHECK(pthread_join(p, NULL) == 0);
    printf("ping-pong: %d round trips\n", trips);

    for (int i = 0; i < 10; i++) CHECK(pthread_create(&t[i], NULL, gate_waiter, NULL) == 0);
    usleep(5000);
    int before = atomic_load(&passed);
    for (int i = 0; i < 10; i++) CHECK(sem_post(&gate) == 0);
    for (int i = 0; i < 10; i++) CHECK(pthread_join(t[i], NULL) == 0);
    int value = -1;
    CHECK(sem_getvalue(&gate, &value) == 0);
    printf("gate: %d passed before the posts, %d after, value now %d\n", before, atomic_load(&passed), value);

    errno = 0;
    CHECK(sem_trywait(&gate) == -1 && errno == EAGAIN);
    for (int which = 0; which < 3; which++) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        errno = 0;
        int r = timed(&gate, which, 50);
        long ms = ms_since(&t0);
        CHECKF(r == -1 && errno == ETIMEDOUT, "timed wait %d: %d, errno %d", which, r, errno);
        CHECKF(ms >= 40 && ms < 1500, "timed wait %d gave up after %ld ms", which, ms);
        CHECK(pthread_create(&p, NULL, late_poster, NULL) == 0);
        CHECK(timed(&late, which, 5000) == 0);
        CHECK(pthread_join(p, NULL) == 0);
    }
    printf("sem_trywait EAGAIN; sem_timedwait and sem_clockwait ETIMEDOUT, 0 when posted in time\n");

    for (int i = 0; i < 10; i++) CHECK(pthread_create(&t[i], NULL, limited, NULL) == 0);
    for (int i = 0; i < 10; i++) CHECK(pthread_join(t[i], NULL) == 0);
    printf("semaphore of 3: more than 3 inside at once: %s\n", atomic_load(&max_inside) > 3 ? "yes" : "no");
    return 0;
}
