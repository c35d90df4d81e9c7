/* io_common.h: helpers shared by the io_* tests (blocking I/O that suspends
 * only the calling coroutine).
 *
 * Every io_* test that says "// native: same" must also run without the
 * library, so the C API is looked up with dlsym(RTLD_DEFAULT, ...): under the
 * preload io_spawn() makes a coroutine, without it a pthread. A coroutine
 * spawned from main with OPENCORO_WORKERS=1 shares main's worker, which is
 * what makes the runtime take its suspension path (a coroutine alone on its
 * worker simply makes the blocking libc call).
 *
 * - io_ticker_start(period_us) / io_ticks() / io_ticker_stop(): a peer that
 *   counts ticks of usleep(period_us); ticks that advance while another
 *   coroutine is blocked in a call prove the worker was not blocked.
 * - io_spinner_start() / io_spins() / io_spinner_stop(): a peer that never
 *   sleeps, only yields (sched_yield) and counts: under the runtime it
 *   advances only while the coroutine that shares its worker is suspended.
 * - io_after(ms, fn, arg): fn(arg) on a plain thread after ms milliseconds
 *   (a source of data or of closes that runs whatever the worker does);
 *   io_write_after / io_close_after are the usual cases. io_wait(t) joins.
 * - io_now_ms(): CLOCK_MONOTONIC in ms.
 * - ERRNAME(e): "EAGAIN" etc.
 */
#ifndef OPENCORO_TEST_IO_COMMON_H
#define OPENCORO_TEST_IO_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define ERRNAME(e) (strerrorname_np(e) ? strerrorname_np(e) : "E?")

static inline double io_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* glibc's malloc opens /sys/devices/system/cpu/online once per process,
 * the first time a thread other than main needs an arena. Done here, before
 * main, so that it cannot take a just-closed fd number from under a test
 * that checks that the number is reused. */
static void *io_settle_thread(void *p) {
    free(malloc(64));
    return p;
}

__attribute__((constructor)) static void io_settle(void) {
    /* Line-buffered, so that the lines before a crash or a hang are kept. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t t;
    if (pthread_create(&t, NULL, io_settle_thread, NULL) == 0) pthread_join(t, NULL);
}

/* --- spawning: a coroutine under the library, a pthread without it */

typedef void *(*io_fn)(void *);
typedef struct io_task {
    void *co;
    pthread_t th;
} io_task;

static void *(*io_spawn_fn)(io_fn, void *, size_t);
static int (*io_join_fn)(void *, void **);
static int io_looked_up;

/* 1 when the opencoro C API is there (the program runs under the library). */
static inline int io_runtime(void) {
    if (!io_looked_up) {
        io_spawn_fn = (void *(*)(io_fn, void *, size_t))dlsym(RTLD_DEFAULT, "opencoro_spawn");
        io_join_fn = (int (*)(void *, void **))dlsym(RTLD_DEFAULT, "opencoro_join");
        io_looked_up = 1;
    }
    return io_spawn_fn != NULL && io_join_fn != NULL;
}

static inline io_task io_spawn(io_fn fn, void *arg) {
    io_task t = {0};
    if (io_runtime()) {
        t.co = io_spawn_fn(fn, arg, 0);
        CHECK(t.co != NULL);
    } else {
        CHECK(pthread_create(&t.th, NULL, fn, arg) == 0);
    }
    return t;
}

static inline void *io_join(io_task t) {
    void *r = NULL;
    if (t.co) {
        CHECK(io_join_fn(t.co, &r) == 0);
    } else {
        CHECK(pthread_join(t.th, &r) == 0);
    }
    return r;
}

/* --- peers that prove the worker keeps running */

static atomic_long io_tick_count;
static atomic_int io_tick_stop;
static io_task io_ticker_task;

static void *io_ticker_main(void *arg) {
    long period = (long)arg;
    while (!atomic_load(&io_tick_stop)) {
        usleep(period);
        atomic_fetch_add(&io_tick_count, 1);
    }
    return NULL;
}

static inline void io_ticker_start(long period_us) {
    atomic_store(&io_tick_stop, 0);
    io_ticker_task = io_spawn(io_ticker_main, (void *)period_us);
}

static inline long io_ticks(void) { return atomic_load(&io_tick_count); }

static inline long io_ticker_stop(void) {
    atomic_store(&io_tick_stop, 1);
    io_join(io_ticker_task);
    return io_ticks();
}

static atomic_long io_spin_count;
static atomic_int io_spin_stop;
static io_task io_spinner_task;

static void *io_spinner_main(void *arg) {
    (void)arg;
    while (!atomic_load(&io_spin_stop)) {
        sched_yield();
        atomic_fetch_add(&io_spin_count, 1);
    }
    return NULL;
}

static inline void io_spinner_start(void) {
    atomic_store(&io_spin_stop, 0);
    io_spinner_task = io_spawn(io_spinner_main, NULL);
}

static inline long io_spins(void) { return atomic_load(&io_spin_count); }

static inline void io_spinner_stop(void) {
    atomic_store(&io_spin_stop, 1);
    io_join(io_spinner_task);
}

/* --- actions on a plain thread after a delay */

struct io_later {
    int ms;
    void (*fn)(void *);
    void *arg;
};

static void *io_later_main(void *p) {
    struct io_later *l = p;
    usleep(l->ms * 1000);
    l->fn(l->arg);
    free(l);
    return NULL;
}

static inline pthread_t io_after(int ms, void (*fn)(void *), void *arg) {
    struct io_later *l = malloc(sizeof *l);
    CHECK(l != NULL);
    l->ms = ms;
    l->fn = fn;
    l->arg = arg;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, io_later_main, l) == 0);
    return t;
}

static inline void io_wait(pthread_t t) { CHECK(pthread_join(t, NULL) == 0); }

struct io_write_job {
    int fd;
    size_t len;
    char data[];
};

static void io_do_write(void *p) {
    struct io_write_job *j = p;
    ssize_t n = write(j->fd, j->data, j->len);
    CHECKF(n == (ssize_t)j->len, "delayed write of %zu bytes to fd %d returned %zd (%s)", j->len, j->fd, n,
           n < 0 ? ERRNAME(errno) : "short");
    free(j);
}

static inline pthread_t io_write_after(int ms, int fd, const void *data, size_t len) {
    struct io_write_job *j = malloc(sizeof *j + len);
    CHECK(j != NULL);
    j->fd = fd;
    j->len = len;
    memcpy(j->data, data, len);
    return io_after(ms, io_do_write, j);
}

static void io_do_close(void *p) {
    int fd = (int)(intptr_t)p;
    CHECKF(close(fd) == 0, "delayed close of fd %d: %s", fd, ERRNAME(errno));
}

static inline pthread_t io_close_after(int ms, int fd) { return io_after(ms, io_do_close, (void *)(intptr_t)fd); }

/* io_watchdog(ms, what): unless io_watchdog_cancel() comes first, a plain
 * thread prints "watchdog: WHAT did not return within MS ms" and exits with
 * status 99 (a clear failure instead of the runner's timeout), after calling
 * io_watch_cleanup if the test set it. One at a time. */
static atomic_long io_watch_gen;
/* Called (if set) before the watchdog exits: removes what the test made. */
static void (*io_watch_cleanup)(void);

struct io_watch {
    long gen;
    int ms;
    const char *what;
};

static void *io_watch_main(void *p) {
    struct io_watch w = *(struct io_watch *)p;
    free(p);
    for (int waited = 0; waited < w.ms; waited += 10) {
        usleep(10 * 1000);
        if (atomic_load(&io_watch_gen) != w.gen) return NULL;
    }
    printf("watchdog: %s did not return within %d ms\n", w.what, w.ms);
    fflush(stdout);
    if (io_watch_cleanup) io_watch_cleanup();
    _Exit(99);
}

static inline void io_watchdog(int ms, const char *what) {
    struct io_watch *w = malloc(sizeof *w);
    CHECK(w != NULL);
    w->gen = atomic_fetch_add(&io_watch_gen, 1) + 1;
    w->ms = ms;
    w->what = what;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, io_watch_main, w) == 0);
    pthread_detach(t);
}

static inline void io_watchdog_cancel(void) { atomic_fetch_add(&io_watch_gen, 1); }

/* A temporary file name in $TMPDIR (or the system's temporary directory):
 * creates the file and returns its open fd; the name goes to buf. */
static inline int io_tempfile(char *buf, size_t size, const char *tag) {
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = P_tmpdir;
    snprintf(buf, size, "%s/opencoro-%s.XXXXXX", dir, tag);
    int fd = mkstemp(buf);
    CHECKF(fd >= 0, "mkstemp %s: %s", buf, ERRNAME(errno));
    return fd;
}

/* io_mkfifo(path, size): a FIFO named `path` in a new temporary directory;
 * io_rmfifo(path) removes both. Tests remove them as soon as the ends they
 * need are open (and reopen an end through /proc/self/fd/N), so that a test
 * that dies leaves nothing behind. */
static inline void io_mkfifo(char *path, size_t size) {
    char dir[256];
    int tf = io_tempfile(dir, sizeof dir, "fifo");
    close(tf);
    CHECK(unlink(dir) == 0 && mkdir(dir, 0700) == 0);
    snprintf(path, size, "%s/fifo", dir);
    CHECK(mkfifo(path, 0600) == 0);
}

static inline void io_rmfifo(const char *path) {
    char dir[300];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    CHECK(slash != NULL);
    *slash = 0;
    CHECK(unlink(path) == 0 && rmdir(dir) == 0);
}

/* Opens the file that open fd `fd` names, anew (a FIFO's other end). */
static inline int io_reopen(int fd, int flags) {
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    return open(p, flags);
}

#endif
