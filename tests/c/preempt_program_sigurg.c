// A program's own SIGURG handler keeps working under preemption (which uses
// SIGURG itself): sigaction reports back the handler the program set, the
// handler gets exactly the SIGURGs the program sends (raise, pthread_kill,
// kill), never the runtime's, and installing it does not stop preemption:
// two spinners on one worker still leave a ticker on time. A blocking read
// on a pipe the program fills later is not cut short with EINTR by any of it.
// env: OPENCORO_WORKERS=1
// native: same
// timeout: 20
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static atomic_int got;
static atomic_int stop;
static volatile unsigned long spins[2];

static void on_urg(int sig, siginfo_t *si, void *uc) {
    (void)si;
    (void)uc;
    if (sig == SIGURG) atomic_fetch_add(&got, 1);
}

static void *spinner(void *arg) {
    long i = (long)arg;
    while (!atomic_load(&stop)) spins[i]++;
    return NULL;
}

static int pipefd[2];
static int read_errno = -1;
static void *reader(void *arg) {
    (void)arg;
    char c;
    ssize_t n = read(pipefd[0], &c, 1);
    read_errno = n == 1 ? 0 : errno;
    return NULL;
}

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

int main(void) {
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_urg;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGURG, &sa, NULL) == 0);
    CHECK(sigaction(SIGURG, NULL, &old) == 0);
    printf("sigaction reports the program's handler: %s\n", old.sa_sigaction == on_urg ? "yes" : "no");

    CHECK(pipe(pipefd) == 0);
    pthread_t r, s[2];
    CHECK(pthread_create(&r, NULL, reader, NULL) == 0);
    for (long i = 0; i < 2; i++) CHECK(pthread_create(&s[i], NULL, spinner, (void *)i) == 0);

    /* Tick for 500 ms beside the spinners, sending SIGURGs of our own. */
    long worst = 0, next = now_ns();
    int sent = 0;
    for (int k = 0; k < 100; k++) {
        next += 5000000;
        struct timespec ts = {next / 1000000000L, next % 1000000000L};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {}
        long late = now_ns() - next;
        if (late > worst) worst = late;
        if (k % 25 == 0) {
            if (k == 0) CHECK(raise(SIGURG) == 0);
            else if (k == 25) CHECK(pthread_kill(pthread_self(), SIGURG) == 0);
            else if (k == 50) CHECK(kill(getpid(), SIGURG) == 0);
            else CHECK(pthread_kill(s[0], SIGURG) == 0);
            sent++;
        }
    }
    CHECK(write(pipefd[1], "x", 1) == 1);
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++) CHECK(pthread_join(s[i], NULL) == 0);
    CHECK(pthread_join(r, NULL) == 0);
    /* Delivered by now: a signal to a thread runs when it next runs. */
    for (int i = 0; i < 100 && atomic_load(&got) < sent; i++) usleep(1000);
    printf("program's SIGURGs handled: %d of %d\n", atomic_load(&got), sent);
    printf("ticker beside two spinners: worst lateness under 500 ms: %s\n", worst < 500000000L ? "yes" : "no");
    printf("spinners both ran: %s\n", spins[0] > 0 && spins[1] > 0 ? "yes" : "no");
    printf("blocking read: %s\n", read_errno == 0 ? "got the byte" : strerror(read_errno));
    return 0;
}
