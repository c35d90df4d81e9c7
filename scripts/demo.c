/* demo.c: 10,000 concurrent sleep(1) calls, on coroutines or on threads.
 *
 * Under LD_PRELOAD=libopencoro.so the C API is found with dlsym and each
 * sleeper is an opencoro coroutine; without the library each sleeper is a
 * pthread (64 KiB stack). Either way every sleeper calls plain sleep(1).
 *
 * Prints one human line and one machine line:
 *   RESULT mode=coroutines|pthreads tasks=N done=N wall_ms=.. cpu_ms=..
 *          maxrss_kib=.. threads=..
 * Exit status: 0 when all N sleepers ran and returned, 1 otherwise.
 *
 * usage: demo [N]        (N defaults to 10000)
 */
#define _GNU_SOURCE
#include <dirent.h>
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
typedef int (*active_fn)(void);

static void *sleeper(void *arg)
{
    sleep(1);
    return arg; /* handed back through join, checked by main */
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* OS threads of this process right now: entries of /proc/self/task. */
static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;
    if (n <= 0) {
        fprintf(stderr, "usage: %s [N]\n", argv[0]);
        return 2;
    }
    spawn_fn spawn = (spawn_fn)dlsym(RTLD_DEFAULT, "opencoro_spawn");
    join_fn join = (join_fn)dlsym(RTLD_DEFAULT, "opencoro_join");
    active_fn active = (active_fn)dlsym(RTLD_DEFAULT, "opencoro_active");
    int coro = spawn && join;
    const char *mode = coro ? "coroutines" : "pthreads";

    if (coro)
        printf("demo: opencoro present, main %s a coroutine; %ld coroutines x sleep(1)\n",
               active && active() ? "is" : "is NOT", n);
    else
        printf("demo: no opencoro; %ld pthreads (64 KiB stacks) x sleep(1)\n", n);
    fflush(stdout);

    long created = 0, done = 0;
    int threads = -1;
    double t0 = now_ms();

    if (coro) {
        opencoro_task **t = calloc(n, sizeof *t);
        if (!t) { perror("calloc"); return 1; }
        for (; created < n; created++) {
            t[created] = spawn(sleeper, (void *)(intptr_t)(created + 1), 0);
            if (!t[created]) {
                fprintf(stderr, "demo: opencoro_spawn #%ld failed: %s\n", created, strerror(errno));
                break;
            }
        }
        threads = count_threads();
        for (long i = 0; i < created; i++) {
            void *r = NULL;
            int e = join(t[i], &r);
            if (e)
                fprintf(stderr, "demo: opencoro_join #%ld: %s\n", i, strerror(e));
            else if (r == (void *)(intptr_t)(i + 1))
                done++;
        }
        free(t);
    } else {
        pthread_t *t = calloc(n, sizeof *t);
        if (!t) { perror("calloc"); return 1; }
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        for (; created < n; created++) {
            int e = pthread_create(&t[created], &attr, sleeper, (void *)(intptr_t)(created + 1));
            if (e) {
                fprintf(stderr, "demo: pthread_create #%ld failed: %s (continuing with %ld threads)\n",
                        created, strerror(e), created);
                break;
            }
        }
        pthread_attr_destroy(&attr);
        threads = count_threads();
        for (long i = 0; i < created; i++) {
            void *r = NULL;
            int e = pthread_join(t[i], &r);
            if (e)
                fprintf(stderr, "demo: pthread_join #%ld: %s\n", i, strerror(e));
            else if (r == (void *)(intptr_t)(i + 1))
                done++;
        }
        free(t);
    }

    double wall = now_ms() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
                 ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;

    printf("demo: %ld/%ld %s done: wall %.0f ms, cpu %.0f ms, peak RSS %.1f MiB, %d OS threads in flight\n",
           done, n, mode, wall, cpu, ru.ru_maxrss / 1024.0, threads);
    printf("RESULT mode=%s tasks=%ld done=%ld wall_ms=%.1f cpu_ms=%.1f maxrss_kib=%ld threads=%d\n",
           mode, n, done, wall, cpu, ru.ru_maxrss, threads);
    fflush(stdout);
    return done == n ? 0 : 1;
}
