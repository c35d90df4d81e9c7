// Under a low fd limit the runtime's fds stay out of the small numbers a
// program uses: the program lowers RLIMIT_NOFILE to 64 (the soft limit only,
// or both: rlimit_low_fds_hard), then starts threads, one worker blocks in a
// call the runtime cannot convert (a spare stands in), and then it dup2()s
// onto every fd from 3 to 30 as a shell's "exec 7>file" would. Before, the
// workers' and the spare's fds landed at 4..9 and dup2 onto them gave EBADF.
// native: same
// timeout: 20
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#ifndef LOWER_HARD
#define LOWER_HARD 0
#endif

static void *stuck(void *a) {
    struct timespec ts = {0, 100000000};
    syscall(SYS_nanosleep, &ts, NULL);
    return a;
}

static void *ticker(void *a) {
    for (int i = 0; i < 20; i++) usleep(10000);
    return a;
}

int main(void) {
    CHECK_ON_RUNTIME();
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    rl.rlim_cur = 64;
    if (LOWER_HARD) rl.rlim_max = 64;
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    pthread_t a[3];
    CHECK(pthread_create(&a[0], NULL, stuck, NULL) == 0);
    CHECK(pthread_create(&a[1], NULL, stuck, NULL) == 0);
    CHECK(pthread_create(&a[2], NULL, ticker, NULL) == 0);
    for (int i = 0; i < 3; i++) CHECK(pthread_join(a[i], NULL) == 0);
    int bad = 0;
    for (int fd = 3; fd <= 30; fd++)
        if (dup2(1, fd) != fd) {
            printf("dup2(1, %d): %s\n", fd, strerrorname_np(errno));
            bad++;
        }
    printf("dup2 onto 3..30: %d failed\n", bad);
    return 0;
}
