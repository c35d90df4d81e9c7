// No wake-up is lost between a blocking-pool thread and the coroutine it
// finishes a call for. Green threads open and close /dev/null in a loop
// (each open runs on the blocking pool while the thread suspends), so a
// pool thread's wake-up for one call often arrives late, after the thread
// has already seen that call done and started the next. Before the fix, a
// late wake-up left the thread queued and the next call's wake-up found it
// so and did nothing; the thread's worker had stored "running" and read
// "not done" without a fence between (the store-buffer race), so the
// thread parked for good (ripgrep -j4 hung in 30-50% of its runs).
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 120
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include "check.h"

#define THREADS 4
#define OPENS 40000

static void *opener(void *a) {
    for (int i = 0; i < OPENS; i++) {
        int fd = open("/dev/null", O_RDONLY);
        CHECK(fd >= 0);
        CHECK(close(fd) == 0);
    }
    return a;
}

int main(void) {
    CHECK_ON_RUNTIME();
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, opener, NULL) == 0);
    CHECK_GREEN(THREADS, 2 + 12);
    for (int i = 0; i < THREADS; i++) CHECK(pthread_join(t[i], NULL) == 0);
    printf("%d threads made %d opens each\n", THREADS, OPENS);
    return 0;
}
