// The runtime never holds a low fd number for a moment: a program that
// closes an fd may rely on its next open getting the lowest free number
// (POSIX; how `close(1); open(...)` redirects stdout). Before the fix the
// monitor opened a worker's /proc stat file at every look while threads were
// busy, and such an open got the number the program had just freed
// (io_fd_reuse failed 1 run in ~30). Here 3 busy threads keep the monitor
// looking while main opens and closes /dev/null 2 s long: every open must
// get the same, lowest number.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 60
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define BUSY 3

static atomic_int stop;

static void *busy(void *a) {
    volatile unsigned long x = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) x++;
    return a;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(void) {
    CHECK_ON_RUNTIME();
    pthread_t t[BUSY];
    for (int i = 0; i < BUSY; i++) CHECK(pthread_create(&t[i], NULL, busy, NULL) == 0);
    CHECK_GREEN(BUSY, 2 + 2);
    CHECK_ALL_GREEN();
    int first = open("/dev/null", O_RDONLY);
    CHECK(first >= 0);
    CHECK(close(first) == 0);
    long opens = 0, wrong = 0;
    double end = now_s() + 2;
    while (now_s() < end) {
        for (int k = 0; k < 100; k++) {
            int fd = open("/dev/null", O_RDONLY);
            CHECK(fd >= 0);
            if (fd != first) wrong++;
            CHECK(close(fd) == 0);
            opens++;
        }
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < BUSY; i++) CHECK(pthread_join(t[i], NULL) == 0);
    CHECKF(wrong == 0, "%ld of %ld opens did not get the lowest free fd %d", wrong, opens, first);
    printf("every open got the lowest free fd\n");
    return 0;
}
