// No coroutine holds a worker hostage: on one worker, two threads spin in
// `while (!stop)` loops of plain arithmetic (no calls at all, so nothing
// ever yields) while a third ticks every 5 ms for 1 s on absolute deadlines
// (clock_nanosleep TIMER_ABSTIME). The ticker must keep ticking (worst
// lateness under 500 ms) and both spinners must make progress during the
// ticker's second half, which only preemption allows. Natively the OS
// preempts the threads, so the output is the same.
// Without preemption the first spinner to run keeps the worker forever and
// the test hangs until its timeout.
// env: OPENCORO_WORKERS=1
// native: same
// timeout: 15
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include "check.h"

#define PERIOD_NS 5000000L /* 5 ms */
#define TICKS 200          /* 1 s */
#define LATE_LIMIT_MS 500.0

static volatile int stop;
static volatile unsigned long spins[2], sink[2];

static void *spinner(void *arg) {
    long k = (long)arg;
    unsigned long x = 1 + k;
    /* plain arithmetic only: no call, no system call, no atomic */
    while (!stop) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        x ^= x >> 29;
        sink[k] = x;
        spins[k] = spins[k] + 1;
    }
    return NULL;
}

static double worst_late_ms;
static unsigned long mid[2], end[2];

static double ns_of(const struct timespec *t) { return t->tv_sec * 1e9 + t->tv_nsec; }

static void *ticker(void *arg) {
    (void)arg;
    struct timespec next, now;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (int i = 1; i <= TICKS; i++) {
        next.tv_nsec += PERIOD_NS;
        if (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        int rc;
        do rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
        while (rc != 0);
        clock_gettime(CLOCK_MONOTONIC, &now);
        double late = (ns_of(&now) - ns_of(&next)) / 1e6;
        if (late > worst_late_ms) worst_late_ms = late;
        if (i == TICKS / 2) {
            mid[0] = spins[0];
            mid[1] = spins[1];
        }
    }
    end[0] = spins[0];
    end[1] = spins[1];
    stop = 1;
    return NULL;
}

int main(void) {
    pthread_t s[2], t;
    CHECK(pthread_create(&s[0], NULL, spinner, (void *)0L) == 0);
    CHECK(pthread_create(&s[1], NULL, spinner, (void *)1L) == 0);
    CHECK(pthread_create(&t, NULL, ticker, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(pthread_join(s[0], NULL) == 0);
    CHECK(pthread_join(s[1], NULL) == 0);
    printf("ticker: %d ticks of 5 ms\n", TICKS);
    printf("ticker: worst lateness under %.0f ms: %s\n", LATE_LIMIT_MS,
           worst_late_ms < LATE_LIMIT_MS ? "yes" : "no");
    for (int k = 0; k < 2; k++)
        printf("spinner %d: progressed in the ticker's first half: %s, second half: %s\n", k + 1,
               mid[k] > 0 ? "yes" : "no", end[k] > mid[k] ? "yes" : "no");
    if (worst_late_ms >= LATE_LIMIT_MS) fprintf(stderr, "worst lateness %.2f ms\n", worst_late_ms);
    return 0;
}
