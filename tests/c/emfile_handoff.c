// A server at its fd limit (EMFILE, normal under load) while threads are
// stuck in calls the runtime cannot convert (raw nanosleep through
// syscall()): the hand-off still finds a spare, whose poller was made when
// the runtime started, and a ticker keeps running. Before, the first
// hand-off aborted: "cannot create a poller (Too many open files)".
// native: same
// timeout: 20
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static int ticks;

static void *ticker(void *a) {
    for (int i = 0; i < 20; i++) {
        usleep(10000);
        ticks++;
    }
    return a;
}

static void *stuck(void *a) {
    struct timespec ts = {0, 100000000};
    syscall(SYS_nanosleep, &ts, NULL);
    return a;
}

int main(void) {
    CHECK_ON_RUNTIME();
    struct rlimit rl = {256, 256};
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    pthread_t t1, t2;
    CHECK(pthread_create(&t1, NULL, ticker, NULL) == 0);
    int n = 0;
    while (dup(0) >= 0) n++;
    CHECK(errno == EMFILE && n > 200);
    CHECK(pthread_create(&t2, NULL, stuck, NULL) == 0);
    struct timespec ts = {0, 100000000};
    syscall(SYS_nanosleep, &ts, NULL); /* main stuck too */
    CHECK(pthread_join(t1, NULL) == 0 && pthread_join(t2, NULL) == 0);
    CHECK(ticks == 20);
    printf("survived at the fd limit\n");
    return 0;
}
