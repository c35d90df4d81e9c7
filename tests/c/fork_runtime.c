// After fork() the child has a runtime of its own, whether main or a
// (green) thread forked: in the child, 100 threads block in read() on pipes
// and are released one by one (under the library they stay green threads:
// few OS threads, and the child's code still runs as coroutines), sleeps
// and joins work, and the child's exit status reaches the parent. A child
// forked by a thread ends when that thread returns (status 0). Meanwhile
// the parent's own ticker thread keeps running.
// native: same
// (the C API is looked up with dlsym: not linked, so the run without the
// library is native)
// link: no
// timeout: 30
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define N 100

static int pipes[N][2];

static void *reader(void *arg) {
    long i = (long)arg;
    char c = 0;
    if (read(pipes[i][0], &c, 1) != 1) return (void *)-1L;
    return (void *)(long)(c == (char)i);
}

// What a child does: threads, blocking reads, sleeps, joins. Returns 0 on
// success.
static int child_work(const char *who) {
    int (*active)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "opencoro_active");
    pthread_t t[N];
    unsigned long long base = fd_waits_registered();
    for (long i = 0; i < N; i++) {
        if (pipe(pipes[i]) != 0) return 1;
        if (pthread_create(&t[i], NULL, reader, (void *)i) != 0) return 2;
    }
    wait_fd_waits(base, N); // all readers block now
    int threads = os_threads();
    // Natively every reader is an OS thread; under the library they are
    // coroutines on a few workers.
    int cheap = active ? threads > 0 && threads < 20 : threads > N;
    for (long i = 0; i < N; i++) {
        char c = (char)i;
        if (write(pipes[i][1], &c, 1) != 1) return 3;
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    long good = 0;
    for (int i = 0; i < N; i++) {
        void *r;
        if (pthread_join(t[i], &r) != 0) return 4;
        good += (long)r == 1;
        close(pipes[i][0]);
        close(pipes[i][1]);
    }
    printf("%s: %ld of %d readers got their byte; runtime as before: %s; threads as before: %s\n", who, good, N,
           !active || active() == 1 ? "yes" : "no", cheap ? "yes" : "no");
    fflush(stdout);
    return good == N ? 0 : 5;
}

static volatile int ticks, stop;

static void *ticker(void *arg) {
    (void)arg;
    while (!stop) {
        usleep(2000);
        ticks++;
    }
    return NULL;
}

static int wait_status(pid_t pid) {
    int st = 0;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void *forking_thread(void *arg) {
    (void)arg;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int r = child_work("child of a thread");
        if (r != 0) _exit(r);
        // Returning ends the thread, the child's only one: exit status 0.
        return NULL;
    }
    return (void *)(long)wait_status(pid);
}

int main(void) {
    pthread_t tk;
    pthread_create(&tk, NULL, ticker, NULL);

    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        stop = 1; // the ticker does not exist here
        exit(child_work("child of main") == 0 ? 7 : 1);
    }
    int before = ticks;
    int st = wait_status(pid);
    printf("child of main exited: %d\n", st);

    pthread_t ft;
    void *r = NULL;
    pthread_create(&ft, NULL, forking_thread, NULL);
    pthread_join(ft, &r);
    printf("child of a thread exited: %ld\n", (long)r);

    usleep(10000);
    printf("parent ticker ran meanwhile: %s\n", ticks > before ? "yes" : "no");
    stop = 1;
    pthread_join(tk, NULL);
    return 0;
}
