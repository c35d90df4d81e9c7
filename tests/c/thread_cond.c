// pthread_cond wait/signal/broadcast with a predicate (2 workers): a bounded
// queue with 4 producers and 4 consumers (not_full / not_empty, signal),
// tokens handed one at a time to 10 waiters with pthread_cond_signal, and a
// broadcast that wakes 20 threads known to be waiting.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 10
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include "check.h"

/* --- bounded queue */
#define CAP 4
#define PRODUCERS 4
#define CONSUMERS 4
#define ITEMS 100     /* per producer */
static pthread_mutex_t qm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static long queue[CAP];
static int qhead, qlen;
static long consumed_sum, consumed_count;

static void *producer(void *arg) {
    long id = (long)arg;
    for (long i = 1; i <= ITEMS; i++) {
        if (i % 25 == 0) usleep(200);
        pthread_mutex_lock(&qm);
        while (qlen == CAP) pthread_cond_wait(&not_full, &qm);
        queue[(qhead + qlen++) % CAP] = id * 1000 + i;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&qm);
    }
    return NULL;
}

static void *consumer(void *arg) {
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&qm);
        while (qlen == 0) pthread_cond_wait(&not_empty, &qm);
        long v = queue[qhead];
        qhead = (qhead + 1) % CAP;
        qlen--;
        pthread_cond_signal(&not_full);
        if (v >= 0) { consumed_sum += v; consumed_count++; }
        pthread_mutex_unlock(&qm);
        if (v < 0) return NULL; /* the end marker, one per consumer */
        if (v % 30 == 0) usleep(100);
    }
}

/* --- one token at a time */
#define TAKERS 10
static pthread_mutex_t tm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t token_cv = PTHREAD_COND_INITIALIZER;
static int tokens, taken;

static void *taker(void *arg) {
    (void)arg;
    pthread_mutex_lock(&tm);
    while (tokens == 0) pthread_cond_wait(&token_cv, &tm);
    tokens--;
    taken++;
    pthread_mutex_unlock(&tm);
    return NULL;
}

/* --- broadcast */
#define WAITERS 20
static pthread_mutex_t bm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go_cv = PTHREAD_COND_INITIALIZER;
static int go, waiting, woken;

static void *waiter(void *arg) {
    (void)arg;
    pthread_mutex_lock(&bm);
    waiting++;
    while (!go) pthread_cond_wait(&go_cv, &bm);
    woken++;
    pthread_mutex_unlock(&bm);
    return NULL;
}

int main(void) {
    pthread_t p[PRODUCERS], c[CONSUMERS], tk[TAKERS], w[WAITERS];
    for (long i = 0; i < CONSUMERS; i++) CHECK(pthread_create(&c[i], NULL, consumer, NULL) == 0);
    for (long i = 0; i < PRODUCERS; i++) CHECK(pthread_create(&p[i], NULL, producer, (void *)i) == 0);
    for (int i = 0; i < PRODUCERS; i++) CHECK(pthread_join(p[i], NULL) == 0);
    for (int i = 0; i < CONSUMERS; i++) {
        pthread_mutex_lock(&qm);
        while (qlen == CAP) pthread_cond_wait(&not_full, &qm);
        queue[(qhead + qlen++) % CAP] = -1;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&qm);
    }
    for (int i = 0; i < CONSUMERS; i++) CHECK(pthread_join(c[i], NULL) == 0);
    long want = 0;
    for (long id = 0; id < PRODUCERS; id++)
        for (long i = 1; i <= ITEMS; i++) want += id * 1000 + i;
    printf("queue: %ld items consumed, sum %s\n", consumed_count, consumed_sum == want ? "right" : "wrong");

    for (int i = 0; i < TAKERS; i++) CHECK(pthread_create(&tk[i], NULL, taker, NULL) == 0);
    for (int i = 0; i < TAKERS; i++) {
        usleep(500);
        pthread_mutex_lock(&tm);
        tokens++;
        pthread_cond_signal(&token_cv);
        pthread_mutex_unlock(&tm);
    }
    for (int i = 0; i < TAKERS; i++) CHECK(pthread_join(tk[i], NULL) == 0);
    printf("signal: %d tokens taken by %d waiters, %d left\n", taken, TAKERS, tokens);

    for (int i = 0; i < WAITERS; i++) CHECK(pthread_create(&w[i], NULL, waiter, NULL) == 0);
    for (int i = 0;; i++) {
        CHECK(i < 5000);
        pthread_mutex_lock(&bm);
        int all = waiting == WAITERS; /* then all of them are inside pthread_cond_wait */
        if (all) {
            go = 1;
            pthread_cond_broadcast(&go_cv);
        }
        pthread_mutex_unlock(&bm);
        if (all) break;
        usleep(200);
    }
    for (int i = 0; i < WAITERS; i++) CHECK(pthread_join(w[i], NULL) == 0);
    printf("broadcast: %d of %d waiters woken\n", woken, WAITERS);
    return 0;
}
