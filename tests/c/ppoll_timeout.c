// ppoll and pselect with a short timeout and nothing ready return 0 after
// about that timeout, in a process whose main is its only coroutine (where
// the hooks make the plain call) and in one with company.
// native: same
// timeout: 10
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

static long ms_since(struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void round_(const char *who, int fd) {
    struct timespec t0, ts = {0, 20000000};
    struct pollfd pf = {fd, POLLIN, 0};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int r = ppoll(&pf, 1, &ts, NULL);
    long ms = ms_since(&t0);
    printf("%s: ppoll 20 ms: %d, in time: %s\n", who, r, ms >= 15 && ms < 1000 ? "yes" : "no");
    fd_set set;
    FD_ZERO(&set);
    FD_SET(fd, &set);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = pselect(fd + 1, &set, NULL, NULL, &ts, NULL);
    ms = ms_since(&t0);
    printf("%s: pselect 20 ms: %d, in time: %s\n", who, r, ms >= 15 && ms < 1000 ? "yes" : "no");
}

static void *nap(void *arg) {
    (void)arg;
    usleep(300000);
    return NULL;
}

int main(void) {
    int p[2];
    if (pipe(p) != 0) return 1;
    round_("alone", p[0]);
    pthread_t t;
    pthread_create(&t, NULL, nap, NULL);
    round_("with a thread", p[0]);
    pthread_join(t, NULL);
    return 0;
}
