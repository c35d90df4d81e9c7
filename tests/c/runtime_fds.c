// Daemon-style fd hygiene does not break the runtime: with threads running,
// the program closes every fd from 3 to 65535 one by one, then
// close_range(3, ~0U) and closefrom(3); afterwards threads still sleep,
// read pipes and are joined, the lowest free fd is 3 again, and dup2 onto
// any fd below 1024 works. Every fd that is open afterwards besides 0-2
// (the runtime's, under the library) is close-on-exec.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 30
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

static int p[2];
static void *reader(void *arg) {
    (void)arg;
    char c;
    usleep(20000);
    return (void *)(long)(read(p[0], &c, 1) == 1 && c == 'z');
}

static int run_threads(void) {
    CHECK(pipe(p) == 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) CHECK(pthread_create(&t[i], NULL, reader, NULL) == 0);
    usleep(50000);
    CHECK(write(p[1], "zzzz", 4) == 4);
    int ok = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        CHECK(pthread_join(t[i], &r) == 0);
        ok += (int)(long)r;
    }
    close(p[0]);
    close(p[1]);
    return ok;
}

int main(void) {
    printf("threads before: %d of 4 read their byte\n", run_threads());
    for (int fd = 3; fd < 65536; fd++) close(fd);
    printf("threads after closing 3..65535: %d of 4\n", run_threads());
    printf("close_range(3, ~0): %ld\n", syscall(SYS_close_range, 3, ~0U, 0) == 0 ? 0L : -1L);
    CHECK(close_range(3, ~0U, 0) == 0);
    closefrom(3);
    printf("threads after close_range and closefrom: %d of 4\n", run_threads());
    int fd = open("/dev/null", O_RDONLY);
    printf("lowest free fd: %d\n", fd);
    int dup_ok = 1;
    for (int n = 4; n < 1024; n++) {
        if (dup2(fd, n) != n) dup_ok = 0;
        close(n);
    }
    printf("dup2 onto 4..1023: %s\n", dup_ok ? "ok" : "failed");
    printf("threads at the end: %d of 4\n", run_threads());
    /* Idle, the process uses no CPU (a runtime that lost its pollers would spin). */
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    usleep(300000);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    long cpu_ms = (c1.tv_sec - c0.tv_sec) * 1000 + (c1.tv_nsec - c0.tv_nsec) / 1000000;
    printf("idle for 300 ms: CPU under 150 ms: %s\n", cpu_ms < 150 ? "yes" : "no");
    close(fd);
    int not_cloexec = 0;
    DIR *d = opendir("/proc/self/fd");
    CHECK(d != NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int n = atoi(e->d_name);
        if (e->d_name[0] == '.' || n <= 2 || n == dirfd(d)) continue;
        if (!(fcntl(n, F_GETFD) & FD_CLOEXEC)) not_cloexec++;
    }
    closedir(d);
    printf("open fds above 2 without close-on-exec: %d\n", not_cloexec);
    return 0;
}
