/* preempt.c: what preemption costs and what it buys. For scripts/bench.sh.
 *
 *   preempt cpu MS THREADS
 *       THREADS pthreads compute (plain arithmetic in chunks of CHUNK rounds,
 *       no calls) until MS milliseconds after the start; each counts the
 *       chunks it finished (work units). Prints
 *       "RESULT units_per_s=.. units=.. wall_ms=.. min_share=.. max_share=..
 *       threads=N lib=0|1": min_share and max_share are the fewest and most
 *       units one thread did, as a fraction of an equal share (1 = fair; 0:
 *       a thread never ran in the window). Run it under the library with
 *       OPENCORO_PREEMPT=1 and =0: the difference in units_per_s is the cost
 *       of preemption. Every thread stops by itself at the deadline, so it
 *       finishes without preemption too (then the threads that share a
 *       worker run one after the other and the later ones find the window
 *       over: min_share 0).
 *
 *   preempt tick MS [SPINNERS [PERIOD_US]]
 *       SPINNERS (default 2) pthreads spin in `while (!stop)` loops of plain
 *       arithmetic while another ticks on absolute deadlines every PERIOD_US
 *       (default 5000) for MS milliseconds (clock_nanosleep TIMER_ABSTIME),
 *       recording how late each tick woke; then it stops the spinners.
 *       Prints "RESULT p50_ms=.. p99_ms=.. max_ms=.. ticks=.. min_spins=..
 *       lib=0|1" (min_spins: the fewest loop rounds one spinner did; 0 means
 *       one never ran). Under the library run it with OPENCORO_WORKERS=1:
 *       without preemption the ticker never runs again once a spinner has
 *       the worker, so an alarm ends the process (SIGALRM) 10 s after the
 *       window should have closed.
 *
 *   preempt share MS [HANDLERS]
 *       A maintenance loop (in main) sleeps 1 ms, then takes a mutex that
 *       HANDLERS (default 4) busy threads take constantly (1 us held, 20 us
 *       between), for MS milliseconds: as a cache server's LRU maintainer
 *       beside its workers. Prints "RESULT cycles=.. sleep_late_ms=..
 *       handlers=N lib=0|1" (cycles made; average lateness of the 1 ms sleep).
 *       Compare the library's cycles with the native run's.
 *
 *   preempt itimer MS [SPINNERS]
 *       A 1 ms setitimer(ITIMER_REAL) runs a SIGALRM handler that counts,
 *       while main sleeps and SPINNERS (default 4) threads spin, for MS
 *       milliseconds. Prints "RESULT per_s=.. handled=.. spinners=N
 *       lib=0|1" (handler runs per second; natively close to 1,000).
 *
 * Threads are plain pthreads: under the library they are green threads.
 * lib=1 when the library's symbols are there (it is preloaded).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 4096 /* arithmetic rounds per work unit (about 10 us) */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static inline uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static int lib_loaded(void) { return dlsym(RTLD_DEFAULT, "opencoro_spawn") != NULL; }

/* --- cpu */

static uint64_t deadline;
static volatile uint64_t sink[64];

struct cpu_arg {
    int id;
    uint64_t units;
    char pad[64];
};

static void *cpu_thread(void *p)
{
    struct cpu_arg *a = p;
    uint64_t x = (uint64_t)a->id + 1, units = 0;
    while (now_ns() < deadline) {
        for (int i = 0; i < CHUNK; i++)
            x = mix(x + (uint64_t)i);
        units++;
    }
    sink[a->id % 64] = x;
    a->units = units;
    return NULL;
}

static int cpu(long ms, int threads)
{
    struct cpu_arg *args = calloc((size_t)threads, sizeof *args);
    pthread_t *ts = calloc((size_t)threads, sizeof *ts);
    if (!args || !ts) { perror("calloc"); return 1; }
    uint64_t t0 = now_ns();
    deadline = t0 + (uint64_t)ms * 1000000u;
    for (int i = 0; i < threads; i++) {
        args[i].id = i;
        if (pthread_create(&ts[i], NULL, cpu_thread, &args[i])) { perror("pthread_create"); return 1; }
    }
    for (int i = 0; i < threads; i++) pthread_join(ts[i], NULL);
    uint64_t wall = now_ns() - t0, total = 0, lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < threads; i++) {
        total += args[i].units;
        if (args[i].units < lo) lo = args[i].units;
        if (args[i].units > hi) hi = args[i].units;
    }
    if (total == 0) { fprintf(stderr, "preempt: no work done\n"); return 1; }
    double fair = (double)total / threads;
    /* units per second of the window (the threads stop at the deadline; the
     * wall time also counts creating and joining them) */
    printf("RESULT units_per_s=%.1f units=%llu wall_ms=%.1f min_share=%.3f max_share=%.3f threads=%d lib=%d\n",
           total * 1e3 / ms, (unsigned long long)total, wall / 1e6, lo / fair, hi / fair, threads, lib_loaded());
    return 0;
}

/* --- tick */

static volatile int stop;
static volatile uint64_t spins[64];
static uint64_t period_ns, *late;
static size_t nticks;

static void *spinner(void *p)
{
    long k = (long)p;
    uint64_t x = (uint64_t)k + 1;
    while (!stop) {
        x = mix(x);
        spins[k] = spins[k] + 1;
    }
    sink[k % 64] = x;
    return NULL;
}

static void *ticker(void *p)
{
    (void)p;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (size_t i = 0; i < nticks; i++) {
        next.tv_nsec += (long)period_ns;
        while (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) != 0) {}
        uint64_t due = (uint64_t)next.tv_sec * 1000000000u + next.tv_nsec, now = now_ns();
        late[i] = now > due ? now - due : 0;
    }
    stop = 1;
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int tick(long ms, int nspin, long period_us)
{
    if (nspin < 0 || nspin > 64 || period_us < 1) return 2;
    period_ns = (uint64_t)period_us * 1000u;
    nticks = (size_t)(ms * 1000 / period_us);
    if (nticks < 1) nticks = 1;
    late = calloc(nticks, sizeof *late);
    if (!late) { perror("calloc"); return 1; }
    alarm((unsigned)(ms / 1000 + 10)); /* a ticker that never runs again: SIGALRM */
    pthread_t s[64], t;
    for (long k = 0; k < nspin; k++)
        if (pthread_create(&s[k], NULL, spinner, (void *)k)) { perror("pthread_create"); return 1; }
    if (pthread_create(&t, NULL, ticker, NULL)) { perror("pthread_create"); return 1; }
    pthread_join(t, NULL);
    uint64_t lo = UINT64_MAX;
    for (int k = 0; k < nspin; k++) {
        pthread_join(s[k], NULL);
        if (spins[k] < lo) lo = spins[k];
    }
    alarm(0);
    if (nspin == 0) lo = 0;
    qsort(late, nticks, sizeof *late, cmp);
    size_t p99 = (size_t)(nticks * 0.99);
    if (p99 >= nticks) p99 = nticks - 1;
    printf("RESULT p50_ms=%.3f p99_ms=%.3f max_ms=%.3f ticks=%zu min_spins=%llu spinners=%d lib=%d\n",
           late[nticks / 2] / 1e6, late[p99] / 1e6, late[nticks - 1] / 1e6, nticks, (unsigned long long)lo, nspin,
           lib_loaded());
    return 0;
}

/* --- share */

static pthread_mutex_t share_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile long share_shared;

static void spin_ns(uint64_t ns)
{
    uint64_t end = now_ns() + ns;
    while (now_ns() < end) {}
}

static void *share_handler(void *p)
{
    while (!stop) {
        pthread_mutex_lock(&share_lock);
        share_shared++;
        spin_ns(1000);
        pthread_mutex_unlock(&share_lock);
        spin_ns(20000);
    }
    return p;
}

static int share(long ms, int handlers)
{
    if (handlers < 0 || handlers > 100000) return 2;
    pthread_t *h = calloc((size_t)handlers + 1, sizeof *h);
    if (!h) return 1;
    for (int k = 0; k < handlers; k++)
        if (pthread_create(&h[k], NULL, share_handler, NULL)) { perror("pthread_create"); return 1; }
    uint64_t t0 = now_ns(), end = t0 + (uint64_t)ms * 1000000u, late = 0;
    long cycles = 0;
    while (now_ns() < end) {
        uint64_t c0 = now_ns();
        usleep(1000);
        late += now_ns() - c0 - 1000000u;
        pthread_mutex_lock(&share_lock);
        share_shared++;
        pthread_mutex_unlock(&share_lock);
        cycles++;
    }
    stop = 1;
    for (int k = 0; k < handlers; k++) pthread_join(h[k], NULL);
    free(h);
    printf("RESULT cycles=%ld sleep_late_ms=%.3f handlers=%d lib=%d\n", cycles, cycles ? late / 1e6 / cycles : 0.0,
           handlers, lib_loaded());
    return 0;
}

/* --- signal */

static volatile long alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static int itimer(long ms, int nspin)
{
    if (nspin < 0 || nspin > 64) return 2;
    signal(SIGALRM, on_alarm);
    pthread_t s[64];
    for (long k = 0; k < nspin; k++)
        if (pthread_create(&s[k], NULL, spinner, (void *)k)) { perror("pthread_create"); return 1; }
    struct itimerval it = { { 0, 1000 }, { 0, 1000 } }, off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &it, NULL);
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += ms / 1000;
    end.tv_nsec += (ms % 1000) * 1000000L;
    if (end.tv_nsec >= 1000000000L) { end.tv_nsec -= 1000000000L; end.tv_sec++; }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL) != 0) {}
    setitimer(ITIMER_REAL, &off, NULL);
    stop = 1;
    for (int k = 0; k < nspin; k++) pthread_join(s[k], NULL);
    printf("RESULT per_s=%.1f handled=%ld spinners=%d lib=%d\n", alarms * 1e3 / ms, alarms, nspin, lib_loaded());
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "cpu")) {
        long ms = atol(argv[2]);
        int threads = atoi(argv[3]);
        if (ms < 1 || threads < 1) return 2;
        return cpu(ms, threads);
    }
    if (argc >= 3 && !strcmp(argv[1], "tick"))
        return tick(atol(argv[2]), argc > 3 ? atoi(argv[3]) : 2, argc > 4 ? atol(argv[4]) : 5000);
    if (argc >= 3 && !strcmp(argv[1], "itimer"))
        return itimer(atol(argv[2]), argc > 3 ? atoi(argv[3]) : 4);
    if (argc >= 3 && !strcmp(argv[1], "share"))
        return share(atol(argv[2]), argc > 3 ? atoi(argv[3]) : 4);
    fprintf(stderr, "usage: %s cpu MS THREADS | tick MS [SPINNERS [PERIOD_US]] | share MS [HANDLERS] | itimer MS [SPINNERS]\n", argv[0]);
    return 2;
}
