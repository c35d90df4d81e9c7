/* opencoro.h: the C API of libopencoro.so.
 *
 * Link nothing: run the program under LD_PRELOAD=libopencoro.so (or the
 * preload/opencoro launcher) and the symbols below resolve at run time. To
 * keep a program runnable without the library, look them up with
 * dlsym(RTLD_DEFAULT, "opencoro_spawn") and fall back when NULL.
 */
#ifndef OPENCORO_H
#define OPENCORO_H

#include <stddef.h>
#include <stdint.h>

/* The version of the library this header belongs to (opencoro_version()
 * says which library a program runs with). */
#define OPENCORO_VERSION_MAJOR 0
#define OPENCORO_VERSION_MINOR 1
#define OPENCORO_VERSION_PATCH 0

#ifdef __cplusplus
extern "C" {
#endif

/* A coroutine handle; join it once. */
typedef struct opencoro_task opencoro_task;

/* Starts fn(arg) as a coroutine with a stack of stack_size bytes
 * (0: OPENCORO_STACK_SIZE, default 256 KiB). Valid from main, from any
 * coroutine and from a plain thread. Returns NULL with errno set on failure
 * (EINVAL: fn is NULL). */
opencoro_task *opencoro_spawn(void *(*fn)(void *), void *arg, size_t stack_size);

/* Waits for t to finish and stores fn's return value in *result (if result
 * is not NULL). Returns 0, EINVAL (NULL handle, or another join of t is in
 * progress) or EDEADLK (a coroutine joining itself). From a coroutine it
 * suspends only the caller; from a plain thread it blocks that thread.
 * A successful join releases t: as with pthread_join, using t afterwards
 * (joining it again) is undefined. */
int opencoro_join(opencoro_task *t, void **result);

/* Lets other coroutines run (sched_yield() outside a coroutine). */
void opencoro_yield(void);

/* 1 when the runtime serves the caller: a runtime coroutine, or main before
 * the first spawn or thread makes it one; else 0. */
int opencoro_active(void);

/* The library's version and commit, such as "0.1.0 (commit abc1234)". */
const char *opencoro_version(void);

/* Statistics (also printed at exit with OPENCORO_STATS=1). */
typedef struct opencoro_stats_totals {
    uint64_t workers;              /* OPENCORO_WORKERS */
    uint64_t slots;                /* workers + spare slots */
    uint64_t live_coroutines;      /* coroutines created and not finished (main, green threads, spawned) */
    uint64_t peak_live_coroutines;
    uint64_t stack_bytes;          /* stacks of running or suspended coroutines */
    uint64_t peak_stack_bytes;
} opencoro_stats_totals;

typedef struct opencoro_worker_stats {
    uint64_t coroutines_run;       /* coroutines that started on this worker */
    uint64_t switches;             /* resumes of a coroutine */
    uint64_t steals;               /* batches stolen from other workers */
    uint64_t preemptions;          /* coroutines preempted after a whole slice */
    uint64_t handoffs;             /* times it sat in a call and a spare stood in */
    uint64_t reactor_waits;        /* waits for fd readiness */
    uint64_t timers_fired;         /* sleeps and timeouts ended by their deadline */
} opencoro_worker_stats;

/* Fills *totals (if not NULL) and workers[0..n) (if not NULL; slot i is
 * worker i, spares follow the workers). Returns the number of slots, 0
 * before the runtime has started. Callable from any thread, any time. */
int opencoro_stats(opencoro_stats_totals *totals, opencoro_worker_stats *workers, int n);

/* A listener: each callback may be NULL; `task` identifies a coroutine
 * (the same value in every event of its life). Callbacks run on the
 * thread where the event happens (resume, suspend, complete: the worker,
 * outside any coroutine), must return quickly and must not block. */
typedef void (*opencoro_event_fn)(void *user, uint64_t task);
typedef struct opencoro_listener {
    opencoro_event_fn on_create;   /* a coroutine was created (main, green thread, spawn) */
    opencoro_event_fn on_suspend;  /* it gave up its worker (yield, wait, preemption) */
    opencoro_event_fn on_resume;   /* a worker is about to run it */
    opencoro_event_fn on_blocking; /* it handed a blocking call to the blocking pool */
    opencoro_event_fn on_complete; /* it finished */
} opencoro_listener;

/* Sets the listener (copied) with `user` for its calls; NULL removes it.
 * With no listener set, events cost nothing measurable. */
void opencoro_set_listener(const opencoro_listener *l, void *user);

#ifdef __cplusplus
}
#endif

#endif /* OPENCORO_H */
