// pthread_create's attributes decide green or OS thread as the README says:
// a stack size, a guard size, a detach state, a signal mask
// (pthread_attr_setsigmask_np) and an explicit SCHED_OTHER policy make green
// threads; only a stack of the program's own (pthread_attr_setstack), an
// explicit real-time policy (SCHED_FIFO: without the privilege for it,
// libc's EPERM), or a CPU affinity keep
// an OS thread. For each, 40 threads wait in read() on a pipe while the
// Threads: line of /proc/self/status is read (green: at most 2 workers + 8
// others). Before the fix, a stack size alone made an OS thread (Rust
// std::thread, the JVM, most C++ pools). A signal mask from the attributes
// is the thread's own at its start.
// env: OPENCORO_WORKERS=2
// With OPENCORO_WARN_OS_THREADS=1 (the runner's), each OS thread says why:
// expect-stderr-count: 40 not a green thread: a stack of the program's own
// expect-stderr: not a green thread: an explicit scheduling policy or priority
// expect-stderr-count: 40 not a green thread: a CPU affinity
// timeout: 30
#define _GNU_SOURCE
#include <pthread.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

#define N 40

static int pfd[2];
static atomic_int started, finished;
static atomic_int usr1_blocked;

static void *worker(void *arg) {
    (void)arg;
    sigset_t now;
    CHECK(pthread_sigmask(SIG_BLOCK, NULL, &now) == 0);
    if (sigismember(&now, SIGUSR1)) atomic_fetch_add(&usr1_blocked, 1);
    atomic_fetch_add(&started, 1);
    char b;
    CHECK(read(pfd[0], &b, 1) == 1);
    atomic_fetch_add(&finished, 1);
    return NULL;
}

static char stacks[N][256 << 10] __attribute__((aligned(4096)));

/* Creates N threads with attributes set by `how`, counts OS threads while
 * they wait, releases and joins them; returns "green" or "os". */
static const char *run(int how, int detached) {
    pthread_t t[N];
    atomic_store(&started, 0);
    atomic_store(&finished, 0);
    atomic_store(&usr1_blocked, 0);
    for (int i = 0; i < N; i++) {
        pthread_attr_t a;
        CHECK(pthread_attr_init(&a) == 0);
        switch (how) {
        case 0: CHECK(pthread_attr_setstacksize(&a, 64 << 10) == 0); break;
        case 1: CHECK(pthread_attr_setguardsize(&a, 0) == 0); break;
        case 2: {
            sigset_t s;
            sigemptyset(&s);
            sigaddset(&s, SIGUSR1);
            CHECK(pthread_attr_setsigmask_np(&a, &s) == 0);
            break;
        }
        case 3: {
            struct sched_param p = {0};
            CHECK(pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED) == 0);
            CHECK(pthread_attr_setschedpolicy(&a, SCHED_OTHER) == 0);
            CHECK(pthread_attr_setschedparam(&a, &p) == 0);
            break;
        }
        case 4: CHECK(pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED) == 0); break;
        case 5: CHECK(pthread_attr_setstack(&a, stacks[i], sizeof stacks[i]) == 0); break;
        case 6: {
            struct sched_param p = {.sched_priority = 1};
            CHECK(pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED) == 0);
            CHECK(pthread_attr_setschedpolicy(&a, SCHED_FIFO) == 0);
            CHECK(pthread_attr_setschedparam(&a, &p) == 0);
            break;
        }
        case 7: {
            cpu_set_t c;
            CHECK(sched_getaffinity(0, sizeof c, &c) == 0);
            CHECK(pthread_attr_setaffinity_np(&a, sizeof c, &c) == 0);
            break;
        }
        }
        int r = pthread_create(&t[i], &a, worker, NULL);
        CHECK(pthread_attr_destroy(&a) == 0);
        if (how == 6 && i == 0 && r == EPERM)
            return "os"; /* the kernel refused the policy: libc made the call */
        CHECK(r == 0);
    }
    for (int i = 0; i < 5000 && atomic_load(&started) < N; i++) usleep(1000);
    CHECK(atomic_load(&started) == N);
    int n = os_threads();
    CHECK(n > 0);
    if (how == 2) CHECK(atomic_load(&usr1_blocked) == N);
    else CHECK(atomic_load(&usr1_blocked) == 0);
    char bytes[N];
    memset(bytes, 'k', N);
    CHECK(write(pfd[1], bytes, N) == N);
    if (!detached)
        for (int i = 0; i < N; i++) CHECK(pthread_join(t[i], NULL) == 0);
    else /* every byte taken before the next case writes its own */
        for (int i = 0; i < 5000 && atomic_load(&finished) < N; i++) usleep(1000);
    CHECK(atomic_load(&finished) == N);
    if (n <= 2 + 8) return "green";
    CHECKF(n >= N, "%d OS threads: neither green nor one per thread", n);
    return "os";
}

int main(void) {
    CHECK(pipe(pfd) == 0);
    printf("stack size 64 KiB: %s\n", run(0, 0));
    printf("guard size 0: %s\n", run(1, 0));
    printf("signal mask: %s\n", run(2, 0));
    printf("explicit SCHED_OTHER: %s\n", run(3, 0));
    printf("detached: %s\n", run(4, 1));
    printf("own stack: %s\n", run(5, 0));
    printf("explicit SCHED_FIFO: %s\n", run(6, 0));
    printf("CPU affinity: %s\n", run(7, 0));
    return 0;
}
