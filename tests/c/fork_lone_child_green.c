// A process that never had company (main a plain function) forks, and the
// child makes threads: they are green threads in the child, as in any
// process (the child's main is taken over at the child's own first
// pthread_create). Before, the child of a lone main was left without a
// runtime and its threads were OS threads (stress-ng's instances, forked
// from a lone parent, ran their pthread stressor on hundreds of them).
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 20
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#define N 8
static int fds[2];

static void *reader(void *arg) {
    char b;
    CHECK(read(fds[0], &b, 1) == 1);
    return arg;
}

int main(void) {
    CHECK(pipe(fds) == 0);
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        pthread_t t[N];
        unsigned long long base = fd_waits_registered();
        for (int i = 0; i < N; i++) CHECK(pthread_create(&t[i], NULL, reader, NULL) == 0);
        wait_fd_waits(base, N);
        CHECK_GREEN(N, 1 + 3);
        char b[N] = {0};
        CHECK(write(fds[1], b, N) == N);
        for (int i = 0; i < N; i++) CHECK(pthread_join(t[i], NULL) == 0);
        printf("child: %d threads joined\n", N);
        fflush(stdout);
        _exit(0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    printf("parent: child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
