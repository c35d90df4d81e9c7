// The runtime's preemption signal never shows as EINTR: on one worker, a
// thread runs a slice of user code and then blocks in calls no hook turns
// into a suspension (select with nfds > FD_SETSIZE, which the hook passes to
// libc; semtimedop, not hooked), in a loop, beside a busy thread, so that
// the monitor's SIGURG often lands as the call starts. Natively neither call
// ever returns EINTR here; before, 5 to 70 did in 2 s. Under the library
// the preemptions are counted (opencoro_stats): the signal did come.
// env: OPENCORO_WORKERS=1
// native: same
// (the C API is looked up with dlsym: not linked, so the run without the
// library is native)
// link: no
// timeout: 30
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <time.h>
#include "check.h"
#include "../../preload/opencoro.h"

static atomic_int stop;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void spin_ms(double ms) {
    double end = now_ms() + ms;
    volatile uint64_t x = 1;
    while (now_ms() < end) x = x * 6364136223846793005u + 1;
}

static void *busy(void *a) {
    while (!atomic_load(&stop)) spin_ms(1);
    return a;
}

int main(void) {
    pthread_t b;
    CHECK(pthread_create(&b, NULL, busy, NULL) == 0);
    int semid = semget(IPC_PRIVATE, 1, 0600);
    CHECK(semid >= 0);
    int eintr_select = 0, eintr_sem = 0, calls = 0;
    double end = now_ms() + 2000;
    while (now_ms() < end) {
        spin_ms(0.8);
        struct timeval tv = {0, 1000};
        if (select(FD_SETSIZE + 1, NULL, NULL, NULL, &tv) < 0) {
            CHECK(errno == EINTR);
            eintr_select++;
        }
        spin_ms(0.8);
        struct sembuf op = {0, -1, 0};
        struct timespec ts = {0, 1000000};
        if (semtimedop(semid, &op, 1, &ts) < 0) {
            if (errno == EINTR) eintr_sem++;
            else CHECK(errno == EAGAIN);
        }
        calls++;
    }
    atomic_store(&stop, 1);
    CHECK(pthread_join(b, NULL) == 0);
    CHECK(semctl(semid, 0, IPC_RMID) == 0);
    CHECK(calls > 50);
    printf("select: %d EINTR; semtimedop: %d EINTR\n", eintr_select, eintr_sem);
    opencoro_worker_stats w[16];
    int n = worker_stats(w, 16);
    if (n >= 0) {
        CHECK(n > 0);
        CHECKF(w[0].preemptions > 10, "only %llu preemptions", (unsigned long long)w[0].preemptions);
    }
    return 0;
}
