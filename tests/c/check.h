/* check.h: the one assertion the C tests share.
 *
 * CHECK(cond) prints "check failed: <cond> (file:line)" to stdout, where it
 * makes the stdout comparison fail visibly, and exits with status 99.
 * company_start()/company_end(): a thread alive meanwhile (see below).
 * CHECK_GREEN(alive, runtime) asserts, under the library only, that the
 * threads alive now run green: at most `runtime` OS threads in all. */
#ifndef OPENCORO_TEST_CHECK_H
#define OPENCORO_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            printf("check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            fflush(stdout);                                                  \
            _Exit(99);                                                       \
        }                                                                    \
    } while (0)

/* CHECKF(cond, fmt, ...) also prints the values that matter. */
#define CHECKF(cond, ...)                                                    \
    do {                                                                     \
        if (!(cond)) {                                                       \
            printf("check failed: %s (%s:%d): ", #cond, __FILE__, __LINE__); \
            printf(__VA_ARGS__);                                             \
            printf("\n");                                                    \
            fflush(stdout);                                                  \
            _Exit(99);                                                       \
        }                                                                    \
    } while (0)

/* The process's OS threads (the Threads: line of /proc/self/status). */
#include <dlfcn.h>
#include <string.h>
static inline int os_threads(void) {
    FILE *f = fopen("/proc/self/status", "r");
    CHECK(f != NULL);
    char line[256];
    int n = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "Threads:", 8) == 0) n = atoi(line + 8);
    fclose(f);
    CHECK(n > 0);
    return n;
}

/* 1 when the library is loaded (the test runs under the runtime), for tests
 * that also run natively and check what the runtime did only under it. */
static inline int under_opencoro(void) {
    return dlsym(RTLD_DEFAULT, "opencoro_active") != NULL;
}

/* Under the library, main must run as the runtime's coroutine (the library
 * is loaded and on, not OPENCORO=0): a test of a behaviour that is the same
 * natively then cannot pass with a runtime that did nothing. */
#define CHECK_ON_RUNTIME()                                                   \
    do {                                                                     \
        int (*active_)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "opencoro_active"); \
        if (active_) CHECKF(active_() == 1, "main is not a coroutine of the runtime"); \
    } while (0)

/* Under the library, `alive` threads that exist now must be green: fewer OS
 * threads than `alive` (workers, monitor, spares and pool threads are at
 * most `runtime`). A silent fallback to OS threads fails here. */
#define CHECK_GREEN(alive, runtime)                                          \
    do {                                                                     \
        if (under_opencoro()) {                                              \
            int n_ = os_threads();                                           \
            CHECKF(n_ <= (runtime), "%d OS threads with %d threads alive",   \
                   n_, (int)(alive));                                        \
        }                                                                    \
    } while (0)

/* The OS threads of the process, main's and the runtime's (named
 * "opencoro-...") aside: under the library, a thread of the program that
 * stayed an OS thread. Exact where a count bound would be loose (a pool of
 * the runtime's that grows with the load). */
#include <dirent.h>
#include <unistd.h>
static inline int program_os_threads(void) {
    DIR *d = opendir("/proc/self/task");
    CHECK(d != NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == getpid()) continue;
        char path[64], comm[32] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue; /* ended meanwhile */
        if (!fgets(comm, sizeof comm, f)) comm[0] = 0;
        fclose(f);
        if (strncmp(comm, "opencoro-", 9) != 0) n++;
    }
    closedir(d);
    return n;
}

/* Under the library, every thread the program made now is green: no OS
 * thread but main's and the runtime's own. A runtime thread names itself
 * once it runs, so one just started may briefly carry the program's name:
 * the count must reach 0 within a second (an OS thread of the program's
 * keeps it above). */
#define CHECK_ALL_GREEN()                                                    \
    do {                                                                     \
        if (under_opencoro()) {                                              \
            int n_ = program_os_threads();                                   \
            for (int i_ = 0; n_ != 0 && i_ < 100; i_++) {                    \
                usleep(10000);                                               \
                n_ = program_os_threads();                                   \
            }                                                                \
            CHECKF(n_ == 0, "%d threads of the program are OS threads", n_); \
        }                                                                    \
    } while (0)

/* fd_waits_registered(): the waits for fd readiness the runtime has
 * registered so far, on all workers (opencoro_stats; 0 without the
 * library). wait_fd_waits(base, n): waits until `n` more than `base` were
 * registered, so that the coroutines started since are inside their calls
 * (no sleep that hopes they are); fails after 10 s. Without the library it
 * can only sleep 100 ms. */
#include "../../preload/opencoro.h"
/* worker_stats(w, n): the runtime's per-worker counters into w[0..n)
 * (opencoro_stats, looked up with dlsym so that a test also runs without
 * the library); how many it filled, or -1 without the library. */
static inline int worker_stats(opencoro_worker_stats *w, int n) {
    int (*stats)(opencoro_stats_totals *, opencoro_worker_stats *, int) =
        (int (*)(opencoro_stats_totals *, opencoro_worker_stats *, int))dlsym(RTLD_DEFAULT, "opencoro_stats");
    return stats ? stats(NULL, w, n) : -1;
}
static inline unsigned long long fd_waits_registered(void) {
    opencoro_worker_stats w[64];
    int n = worker_stats(w, 64);
    unsigned long long total = 0;
    for (int i = 0; i < n && i < 64; i++) total += w[i].reactor_waits;
    return total;
}
static inline void wait_fd_waits(unsigned long long base, unsigned long long n) {
    opencoro_worker_stats w[1];
    if (worker_stats(w, 1) < 0) {
        usleep(100 * 1000);
        return;
    }
    for (int i = 0; i < 10000 && fd_waits_registered() < base + n; i++) usleep(1000);
    CHECKF(fd_waits_registered() >= base + n, "%llu of %llu coroutines started waiting on an fd",
           fd_waits_registered() - base, n);
}

/* company_start() starts a thread that waits in read() until
 * company_end() writes it a byte and joins it. With it alive the runtime
 * takes its paths for a process with company (a lone main makes libc's
 * plain calls), so a test of those paths calls company_start() first. */
#include <pthread.h>
#include <unistd.h>
static int company_fds_[2] __attribute__((unused));
static pthread_t company_thread_ __attribute__((unused));
static inline void *company_wait_(void *arg) {
    char b;
    CHECK(read(company_fds_[0], &b, 1) == 1);
    return arg;
}
static inline void company_start(void) {
    CHECK(pipe(company_fds_) == 0);
    CHECK(pthread_create(&company_thread_, NULL, company_wait_, NULL) == 0);
}
static inline void company_end(void) {
    CHECK(write(company_fds_[1], "x", 1) == 1);
    CHECK(pthread_join(company_thread_, NULL) == 0);
}

#endif
