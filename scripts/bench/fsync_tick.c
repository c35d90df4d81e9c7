/* fsync_tick.c: does file I/O stall a worker? For scripts/bench.sh.
 *
 *   fsync_tick DIR [TICKERS [TICK_US [FSYNC_MS [raw]]]]
 *
 * TICKERS (default 100) tickers each loop on usleep(TICK_US) (default 5000)
 * and record their lateness: how much later than TICK_US after the call
 * usleep returned. 50 ms after they start, one writer writes 4 KiB and
 * fsyncs, again and again, to a fresh file in DIR (which must be on a real
 * disk, not tmpfs) until FSYNC_MS (default 200) have passed; 20 ms after it
 * is done the tickers stop (FSYNC_MS 0: no writer, the tickers alone for
 * 200 ms). With "raw" the writer calls write and fsync
 * through syscall(2), which no hook sees: that is what a worker stall
 * looks like.
 *
 * Under the library the tickers and the writer are coroutines (run it with
 * OPENCORO_WORKERS=1 so that they all share one worker); without it they
 * are pthreads (the native floor of the lateness). Before anything starts,
 * one write+fsync is timed in main (probe_fsync_us) to show that fsync is
 * not a no-op on DIR's file system.
 *
 * Prints "RESULT worst_late_ms=.. p99_late_ms=.. median_late_ms=.. ticks=..
 * fsyncs=.. fsync_total_ms=.. fsync_max_ms=.. writer_ms=.. probe_fsync_us=..
 * mode=coroutine|thread raw=0|1". The file is removed at the end.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "opencoro.h"

typedef opencoro_task *(*spawn_fn)(void *(*)(void *), void *, size_t);
typedef int (*join_fn)(opencoro_task *, void **);
static spawn_fn co_spawn;
static join_fn co_join;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/* A coroutine under the library, else a pthread. */
struct task { opencoro_task *co; pthread_t th; };

static int start(struct task *t, void *(*fn)(void *), void *arg)
{
    if (co_spawn) {
        t->co = co_spawn(fn, arg, 0);
        return t->co ? 0 : -1;
    }
    return pthread_create(&t->th, NULL, fn, arg) ? -1 : 0;
}

static void finish(struct task *t)
{
    if (co_spawn)
        co_join(t->co, NULL);
    else
        pthread_join(t->th, NULL);
}

static useconds_t tick_us;
static volatile int stop;
static uint64_t *late;        /* lateness of each tick, ns */
static size_t nlate, caplate;

static void *ticker(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        uint64_t t0 = now_ns();
        usleep(tick_us);
        uint64_t d = now_ns() - t0;
        uint64_t l = d > tick_us * 1000ull ? d - tick_us * 1000ull : 0;
        size_t i = __atomic_fetch_add(&nlate, 1, __ATOMIC_RELAXED);
        if (i < caplate)
            late[i] = l;
    }
    return NULL;
}

static int fd;
static int raw;
static long fsync_ms;
static uint64_t fsync_total, fsync_max, writer_ns;
static long fsyncs, write_errors;

static int write_fsync(const char *buf, uint64_t *fsync_ns)
{
    ssize_t w = raw ? syscall(SYS_write, fd, buf, 4096) : write(fd, buf, 4096);
    uint64_t t = now_ns();
    int r = raw ? (int)syscall(SYS_fsync, fd) : fsync(fd);
    *fsync_ns = now_ns() - t;
    return (w == 4096 && r == 0) ? 0 : -1;
}

static void *writer(void *arg)
{
    (void)arg;
    char buf[4096];
    memset(buf, 'x', sizeof buf);
    uint64_t t0 = now_ns(), end = t0 + (uint64_t)fsync_ms * 1000000u;
    while (now_ns() < end) {
        uint64_t d;
        if (write_fsync(buf, &d)) { write_errors++; break; }
        fsyncs++;
        fsync_total += d;
        if (d > fsync_max) fsync_max = d;
    }
    writer_ns = now_ns() - t0;
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void sleep_ms_native(long ms)
{
    /* usleep: a coroutine sleep under the library, a thread sleep without */
    usleep((useconds_t)ms * 1000);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [TICKERS [TICK_US [FSYNC_MS [raw]]]]\n", argv[0]);
        return 2;
    }
    co_spawn = (spawn_fn)dlsym(RTLD_DEFAULT, "opencoro_spawn");
    co_join = (join_fn)dlsym(RTLD_DEFAULT, "opencoro_join");
    if (!co_join) co_spawn = NULL;
    int ntick = argc > 2 ? atoi(argv[2]) : 100;
    tick_us = argc > 3 ? (useconds_t)atol(argv[3]) : 5000;
    fsync_ms = argc > 4 ? atol(argv[4]) : 200;
    raw = argc > 5 && !strcmp(argv[5], "raw");
    if (ntick < 1 || tick_us < 1 || fsync_ms < 0) return 2;

    char path[4096];
    snprintf(path, sizeof path, "%s/fsync_tick.XXXXXX", argv[1]);
    fd = mkstemp(path);
    if (fd < 0) { fprintf(stderr, "fsync_tick: mkstemp %s: %s\n", path, strerror(errno)); return 1; }

    /* The probe: one write + fsync, timed, before anything else runs. */
    char buf[4096];
    memset(buf, 'p', sizeof buf);
    uint64_t probe;
    if (write_fsync(buf, &probe)) { perror("fsync_tick: probe write/fsync"); unlink(path); return 1; }

    caplate = (size_t)ntick * (size_t)((fsync_ms + 200) * 1000 / tick_us + 16);
    late = calloc(caplate, sizeof *late);
    struct task *ts = calloc((size_t)ntick, sizeof *ts), w;
    if (!late || !ts) { perror("calloc"); return 1; }
    int started = 0;
    for (; started < ntick; started++)
        if (start(&ts[started], ticker, NULL)) { perror("fsync_tick: start ticker"); break; }
    sleep_ms_native(50);
    if (fsync_ms == 0)
        sleep_ms_native(200); /* FSYNC_MS 0: no writer, the tickers alone */
    else if (start(&w, writer, NULL)) { perror("fsync_tick: start writer"); stop = 1; }
    else finish(&w);
    sleep_ms_native(20);
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < started; i++)
        finish(&ts[i]);
    close(fd);
    unlink(path);

    size_t n = nlate < caplate ? nlate : caplate;
    if (n == 0 || started < ntick || write_errors) {
        fprintf(stderr, "fsync_tick: failed (ticks %zu, tickers %d/%d, write errors %ld)\n", n, started, ntick, write_errors);
        return 1;
    }
    qsort(late, n, sizeof *late, cmp);
    size_t p99 = (size_t)(n * 0.99);
    if (p99 >= n) p99 = n - 1;
    printf("RESULT worst_late_ms=%.3f p99_late_ms=%.3f median_late_ms=%.3f ticks=%zu fsyncs=%ld fsync_total_ms=%.1f "
           "fsync_max_ms=%.2f writer_ms=%.1f probe_fsync_us=%.0f mode=%s raw=%d\n",
           late[n - 1] / 1e6, late[p99] / 1e6, late[n / 2] / 1e6, n, fsyncs, fsync_total / 1e6, fsync_max / 1e6,
           writer_ns / 1e6, probe / 1e3, co_spawn ? "coroutine" : "thread", raw);
    return 0;
}
