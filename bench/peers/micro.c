/* micro.c: the C side of the spawn+join and yield figures of
 * scripts/bench-peers, written against plain pthreads only (no opencoro
 * header): run it natively and under LD_PRELOAD=libopencoro.so, where the
 * same calls make and switch green threads.
 *
 *   micro spawn N    N x (pthread_create + pthread_join) of an empty thread
 *                    (default attributes), one after the other, after a
 *                    warm-up of N/10 (at most 1000). Compare: Go `go f()` +
 *                    WaitGroup.Wait, tokio::spawn(..).await.
 *   micro yield N    two threads each call sched_yield() N times, recording
 *                    who ran last; one round trip = A yields to B and B
 *                    yields back. Meant for one CPU: OPENCORO_WORKERS=1 under
 *                    the library, `taskset -c 0` natively. Compare: Go
 *                    runtime.Gosched with GOMAXPROCS=1, tokio yield_now on a
 *                    current-thread runtime.
 *
 * Prints one line "RESULT key=value ...": ns_each (spawn), ns_per_roundtrip
 * and not_alternating (yields that came back without the other thread
 * having run) for yield; lib=1 when libopencoro is loaded. Exit 0 on
 * success, 1 on a failed run.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static void *empty(void *arg) { return arg; }

static int bench_spawn(long n, int lib)
{
    long warm = n / 10 < 1000 ? n / 10 : 1000;
    uint64_t t0 = 0;
    for (long i = -warm; i < n; i++) {
        if (i == 0)
            t0 = now_ns();
        pthread_t t;
        void *r = 0;
        int e = pthread_create(&t, NULL, empty, (void *)(intptr_t)i);
        if (e || (e = pthread_join(t, &r))) { fprintf(stderr, "micro: pthread #%ld: %s\n", i, strerror(e)); return 1; }
        if (r != (void *)(intptr_t)i) { fprintf(stderr, "micro: wrong result from #%ld\n", i); return 1; }
    }
    uint64_t dt = now_ns() - t0;
    printf("RESULT mode=spawn lib=%d n=%ld total_ns=%llu ns_each=%.1f\n", lib, n, (unsigned long long)dt, (double)dt / n);
    return 0;
}

static long yield_iters;
static volatile int last_runner;
static volatile int started;

static void *pinger(void *arg)
{
    int me = (int)(intptr_t)arg;
    long misses = 0;
    __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < 2)
        sched_yield();
    for (long i = 0; i < yield_iters; i++) {
        last_runner = me;
        sched_yield();
        if (last_runner == me)
            misses++;
    }
    return (void *)(intptr_t)misses;
}

static int bench_yield(long n, int lib)
{
    yield_iters = n;
    pthread_t a, b;
    uint64_t t0 = now_ns();
    if (pthread_create(&a, NULL, pinger, (void *)1) || pthread_create(&b, NULL, pinger, (void *)2)) {
        fprintf(stderr, "micro: pthread_create failed\n");
        return 1;
    }
    void *ra = 0, *rb = 0;
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    uint64_t dt = now_ns() - t0;
    long na = (long)(intptr_t)ra + (long)(intptr_t)rb;
    printf("RESULT mode=yield lib=%d n=%ld total_ns=%llu ns_per_roundtrip=%.2f not_alternating=%ld\n",
           lib, n, (unsigned long long)dt, (double)dt / n, na);
    return 0;
}

int main(int argc, char **argv)
{
    int lib = dlsym(RTLD_DEFAULT, "opencoro_spawn") != NULL;
    const char *mode = argc > 1 ? argv[1] : "";
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
    if (!strcmp(mode, "spawn") && n > 0)
        return bench_spawn(n, lib);
    if (!strcmp(mode, "yield") && n > 0)
        return bench_yield(n, lib);
    fprintf(stderr, "usage: %s spawn N | yield N\n", argv[0]);
    return 2;
}
