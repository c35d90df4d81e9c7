// pthread_self() in each of 32 live threads (2 workers) equals the pthread_t
// pthread_create gave for it, differs from every other thread's and main's,
// and stays the same across blocking calls; pthread_equal agrees.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 10
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>
#include "check.h"

#define N 32

static pthread_t seen[N];
static int gate[2]; /* every thread waits here until all have started */
static pthread_t main_self;

static void *worker(void *arg) {
    long id = (long)arg;
    long bad = 0;
    pthread_t me = pthread_self();
    seen[id] = me;
    if (pthread_equal(me, main_self)) bad++;
    char b;
    if (read(gate[0], &b, 1) != 0) bad += 100; /* EOF once main closes the pipe */
    for (int round = 0; round < 6; round++) {
        if (round % 2) usleep(200); else sched_yield();
        if (!pthread_equal(pthread_self(), me)) bad++;
    }
    return (void *)bad;
}

int main(void) {
    main_self = pthread_self();
    CHECK(pipe(gate) == 0);
    pthread_t t[N];
    for (long i = 0; i < N; i++) CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    /* All threads are alive until the gate opens, so no pthread_t is reused. */
    usleep(20000);
    CHECK(close(gate[1]) == 0);
    long bad = 0;
    for (int i = 0; i < N; i++) {
        void *r;
        CHECK(pthread_join(t[i], &r) == 0);
        bad += (long)r;
    }
    int mismatched = 0, same = 0;
    for (int i = 0; i < N; i++) {
        if (!pthread_equal(seen[i], t[i])) mismatched++;
        if (!pthread_equal(t[i], t[i])) mismatched++;
        for (int j = i + 1; j < N; j++)
            if (pthread_equal(t[i], t[j])) same++;
    }
    CHECK(pthread_equal(pthread_self(), main_self));
    printf("threads: %d, pthread_self != created handle: %d, equal pairs: %d, wrong while running: %ld\n",
           N, mismatched, same, bad);
    return 0;
}
