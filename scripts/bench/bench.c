/* bench.c: micro-benchmarks for scripts/bench.sh. One measurement per run;
 * bench.sh repeats runs and takes medians.
 *
 *   bench yield N        two coroutines ping-pong with opencoro_yield, N round
 *                        trips (run with OPENCORO_WORKERS=1). Needs opencoro.
 *   bench spawn N        N x (spawn + join) of an empty coroutine; without
 *                        opencoro, N x (pthread_create + pthread_join) of an
 *                        empty thread (default attributes).
 *   bench sleep N USEC   N coroutines each usleep(USEC), spawned from main;
 *                        wall from the first spawn to the last join, peak RSS.
 *                        Needs opencoro.
 *
 * The C API is looked up with dlsym, so the binary also runs without the
 * library. Prints one line "RESULT key=value ...". Exit 0 on success, 1 on a
 * failed run, 3 when a mode needs opencoro and it is absent.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "opencoro.h"

typedef opencoro_task *(*spawn_fn)(void *(*)(void *), void *, size_t);
typedef int (*join_fn)(opencoro_task *, void **);
typedef void (*yield_fn)(void);

static spawn_fn co_spawn;
static join_fn co_join;
static yield_fn co_yield;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static long maxrss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* ---- yield ping-pong ---- */
static long yield_iters;
static volatile int last_runner;   /* who ran last before a yield */
static long not_alternating;       /* yields that came back without the other running */

static void *pinger(void *arg)
{
    int me = (int)(intptr_t)arg;
    long misses = 0;
    for (long i = 0; i < yield_iters; i++) {
        last_runner = me;
        co_yield();
        if (last_runner == me)
            misses++;
    }
    return (void *)(intptr_t)misses;
}

static int bench_yield(long n)
{
    yield_iters = n;
    uint64_t t0 = now_ns();
    opencoro_task *a = co_spawn(pinger, (void *)1, 0);
    opencoro_task *b = co_spawn(pinger, (void *)2, 0);
    if (!a || !b) { fprintf(stderr, "bench: spawn failed: %s\n", strerror(errno)); return 1; }
    void *ra = 0, *rb = 0;
    if (co_join(a, &ra) || co_join(b, &rb)) { fprintf(stderr, "bench: join failed\n"); return 1; }
    uint64_t dt = now_ns() - t0;
    not_alternating = (long)(intptr_t)ra + (long)(intptr_t)rb;
    /* One round trip = A yields to B and B yields back: 2 yields; each
     * coroutine yielded n times, so there were n round trips. */
    printf("RESULT mode=yield n=%ld total_ns=%llu ns_per_roundtrip=%.2f ns_per_yield=%.2f not_alternating=%ld\n",
           n, (unsigned long long)dt, (double)dt / n, (double)dt / (2.0 * n), not_alternating);
    return 0;
}

/* ---- spawn + join ---- */
static void *empty(void *arg) { return arg; }

static int bench_spawn(long n)
{
    int coro = co_spawn && co_join;
    long warm = n / 10 < 1000 ? n / 10 : 1000;
    uint64_t t0 = 0;
    for (long i = -warm; i < n; i++) {
        if (i == 0)
            t0 = now_ns();
        void *r = 0;
        if (coro) {
            opencoro_task *t = co_spawn(empty, (void *)(intptr_t)i, 0);
            if (!t || co_join(t, &r)) { fprintf(stderr, "bench: spawn/join #%ld failed\n", i); return 1; }
        } else {
            pthread_t t;
            int e = pthread_create(&t, NULL, empty, (void *)(intptr_t)i);
            if (e || (e = pthread_join(t, &r))) { fprintf(stderr, "bench: pthread #%ld: %s\n", i, strerror(e)); return 1; }
        }
        if (r != (void *)(intptr_t)i) { fprintf(stderr, "bench: wrong result from #%ld\n", i); return 1; }
    }
    uint64_t dt = now_ns() - t0;
    printf("RESULT mode=spawn kind=%s n=%ld total_ns=%llu ns_each=%.1f\n",
           coro ? "coroutine" : "pthread", n, (unsigned long long)dt, (double)dt / n);
    return 0;
}

/* ---- many sleepers ---- */
static useconds_t sleep_us;
static uint64_t last_start, last_wake; /* latest instants a sleeper began / woke */

static void atomic_max(uint64_t *p, uint64_t v)
{
    uint64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (cur < v && !__atomic_compare_exchange_n(p, &cur, v, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

static void *sleeper(void *arg)
{
    atomic_max(&last_start, now_ns());
    usleep(sleep_us);
    atomic_max(&last_wake, now_ns());
    return arg;
}

static int bench_sleep(long n, long usec)
{
    sleep_us = (useconds_t)usec;
    opencoro_task **t = calloc(n, sizeof *t);
    if (!t) { perror("calloc"); return 1; }
    long spawned = 0, done = 0;
    uint64_t t0 = now_ns();
    for (; spawned < n; spawned++) {
        t[spawned] = co_spawn(sleeper, (void *)(intptr_t)(spawned + 1), 0);
        if (!t[spawned]) { fprintf(stderr, "bench: spawn #%ld failed: %s\n", spawned, strerror(errno)); break; }
    }
    uint64_t t_spawned = now_ns();
    for (long i = 0; i < spawned; i++) {
        void *r = 0;
        if (co_join(t[i], &r) == 0 && r == (void *)(intptr_t)(i + 1))
            done++;
    }
    uint64_t dt = now_ns() - t0;
    free(t);
    /* Phases, all from the first spawn: spawn_ms (main's spawn loop),
     * last_start_ms (the last sleeper began), last_wake_ms (the last sleeper
     * returned from usleep), wall_ms (the last join returned). */
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu_ms = ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
    printf("RESULT mode=sleep n=%ld done=%ld sleep_us=%ld wall_ms=%.1f spawn_ms=%.1f last_start_ms=%.1f "
           "last_wake_ms=%.1f maxrss_kib=%ld cpu_ms=%.1f\n",
           n, done, usec, dt / 1e6, (t_spawned - t0) / 1e6, (last_start - t0) / 1e6,
           (last_wake - t0) / 1e6, maxrss_kib(), cpu_ms);
    return done == n ? 0 : 1;
}

int main(int argc, char **argv)
{
    co_spawn = (spawn_fn)dlsym(RTLD_DEFAULT, "opencoro_spawn");
    co_join = (join_fn)dlsym(RTLD_DEFAULT, "opencoro_join");
    co_yield = (yield_fn)dlsym(RTLD_DEFAULT, "opencoro_yield");
    int have = co_spawn && co_join && co_yield;
    const char *mode = argc > 1 ? argv[1] : "";
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 0;

    if (!strcmp(mode, "spawn") && n > 0)
        return bench_spawn(n);
    if ((!strcmp(mode, "yield") && n > 0) || (!strcmp(mode, "sleep") && n > 0 && argc > 3)) {
        if (!have) { fprintf(stderr, "bench: %s needs opencoro (LD_PRELOAD=libopencoro.so)\n", mode); return 3; }
        return mode[0] == 'y' ? bench_yield(n) : bench_sleep(n, strtol(argv[3], NULL, 10));
    }
    fprintf(stderr, "usage: %s yield N | spawn N | sleep N USEC\n", argv[0]);
    return 2;
}
