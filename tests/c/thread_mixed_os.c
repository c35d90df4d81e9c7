// Objects shared between green threads and real OS threads (2 workers). Two
// threads started by a constructor, before main, are OS threads even under
// the library; main then starts 8 threads, green under the library. All ten
// use, in the same order of phases:
//   - a pthread mutex guarding a counter, held across a usleep by both kinds;
//   - a barrier of 10 for 20 rounds (one serial thread per round, nobody
//     leaves a round early);
//   - two bounded condition-variable queues: the green threads produce and OS
//     thread A consumes, OS thread B produces and the green threads consume;
//   - a rwlock (writers keep two words equal across a usleep; readers check);
//   - semaphores: ping-pong between each OS thread and one green thread, and
//     a counting semaphore of 3 that admits at most 3 threads at once;
//   - a hand-made futex lock (FUTEX_WAIT_PRIVATE / FUTEX_WAKE_PRIVATE) guarding
//     a counter across a usleep, and futex events: one set by main that all
//     ten wait on to start, one set by a green thread that the other nine
//     (OS threads too) wait on, one set by an OS thread that the others wait on.
// While all ten wait for the start, main checks the kinds of thread: the
// constructor threads have kernel thread ids of their own (natively and under
// the library); natively every thread is an OS thread, under the library
// the green threads run on the workers (no more kernel ids among them than
// workers, fewer OS threads in /proc/self/status than threads) and are
// coroutines (opencoro_active) while the OS threads are not. The printed
// lines do not depend on which run it is.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 20
// link: no
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define GREEN 8
#define OS 2
#define ALL (GREEN + OS)
/* thread ids: green 0..7, OS thread A = 8, B = 9 */
#define OS_A GREEN
#define OS_B (GREEN + 1)

static int (*active_fn)(void); /* opencoro_active under the library */
static pid_t ktid[ALL];
static int coro_flag[ALL];
static pthread_t os_handles[OS];

/* --- futex helpers */
static long futex_wait(atomic_int *addr, int val) {
    return syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static long futex_wake(atomic_int *addr, int n) {
    return syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

static void event_wait(atomic_int *ev) {
    while (atomic_load(ev) == 0) {
        long r = futex_wait(ev, 0);
        CHECKF(r == 0 || errno == EAGAIN || errno == EINTR, "FUTEX_WAIT: %ld errno %d", r, errno);
    }
}

static void event_set(atomic_int *ev) {
    atomic_store(ev, 1);
    CHECK(futex_wake(ev, INT_MAX) >= 0);
}

/* --- phase 0: start */
static atomic_int ready, go;

/* --- phase 1: pthread mutex */
#define MUTEX_ITERS 20
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long mu_counter;
static atomic_int mu_inside, mu_overlaps;

static void phase_mutex(int id) {
    for (int i = 0; i < MUTEX_ITERS; i++) {
        CHECK(pthread_mutex_lock(&mu) == 0);
        if (atomic_fetch_add(&mu_inside, 1) != 0) atomic_fetch_add(&mu_overlaps, 1);
        long v = mu_counter;
        usleep(50 + 10 * (id % 3));
        mu_counter = v + 1;
        atomic_fetch_sub(&mu_inside, 1);
        CHECK(pthread_mutex_unlock(&mu) == 0);
    }
}

/* --- phase 2: barrier */
#define ROUNDS 20
static pthread_barrier_t bar;
static atomic_int arrived[ROUNDS], serial[ROUNDS], early_leavers;

static void phase_barrier(int id) {
    for (int r = 0; r < ROUNDS; r++) {
        int d = (id * 7 + r * 3) % 5;
        if (d == 1) usleep(300);
        else if (d == 2) sched_yield();
        atomic_fetch_add(&arrived[r], 1);
        int rc = pthread_barrier_wait(&bar);
        CHECKF(rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD, "barrier_wait: %d", rc);
        if (rc == PTHREAD_BARRIER_SERIAL_THREAD) atomic_fetch_add(&serial[r], 1);
        if (atomic_load(&arrived[r]) != ALL) atomic_fetch_add(&early_leavers, 1);
    }
}

/* --- phase 3: condition-variable queues */
#define CAP 3
#define PER_GREEN 25
#define ITEMS (GREEN * PER_GREEN)
struct queue {
    pthread_mutex_t m;
    pthread_cond_t not_full, not_empty;
    long items[CAP];
    int head, len;
};
static struct queue q_to_os = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0};
static struct queue q_to_green = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0};
static long os_got_sum, os_got_count;       /* OS thread A, from the green threads */
static atomic_long green_got_sum, green_got_count; /* green threads, from OS thread B */

static void put(struct queue *q, long v) {
    CHECK(pthread_mutex_lock(&q->m) == 0);
    while (q->len == CAP) CHECK(pthread_cond_wait(&q->not_full, &q->m) == 0);
    q->items[(q->head + q->len++) % CAP] = v;
    CHECK(pthread_cond_signal(&q->not_empty) == 0);
    CHECK(pthread_mutex_unlock(&q->m) == 0);
}

static long get(struct queue *q) {
    CHECK(pthread_mutex_lock(&q->m) == 0);
    while (q->len == 0) CHECK(pthread_cond_wait(&q->not_empty, &q->m) == 0);
    long v = q->items[q->head];
    q->head = (q->head + 1) % CAP;
    q->len--;
    CHECK(pthread_cond_signal(&q->not_full) == 0);
    CHECK(pthread_mutex_unlock(&q->m) == 0);
    return v;
}

static void phase_queues(int id) {
    if (id < GREEN) {
        for (long k = 1; k <= PER_GREEN; k++) {
            put(&q_to_os, id * 1000 + k);
            if (k % 10 == id % 10) usleep(100);
        }
        for (int k = 0; k < PER_GREEN; k++) {
            long v = get(&q_to_green);
            atomic_fetch_add(&green_got_sum, v);
            atomic_fetch_add(&green_got_count, 1);
            if (v % 17 == 0) usleep(100);
        }
    } else if (id == OS_A) {
        for (int k = 0; k < ITEMS; k++) {
            long v = get(&q_to_os);
            os_got_sum += v;
            os_got_count++;
            if (k % 20 == 0) usleep(500); /* let the producers find it full */
        }
    } else {
        for (long k = 1; k <= ITEMS; k++) {
            put(&q_to_green, k);
            if (k % 40 == 0) usleep(500); /* let the consumers find it empty */
        }
    }
}

/* --- phase 4: rwlock */
#define RW_OPS 30
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static long rw_a, rw_b;
static atomic_int rw_readers, rw_writers, rw_writes, rw_reads, rw_bad;

static void phase_rwlock(int id) {
    for (int i = 0; i < RW_OPS; i++) {
        if ((i + id) % 5 == 0) {
            CHECK(pthread_rwlock_wrlock(&rw) == 0);
            if (atomic_fetch_add(&rw_writers, 1) != 0 || atomic_load(&rw_readers) != 0)
                atomic_fetch_add(&rw_bad, 1);
            long v = id * 100 + i;
            rw_a = v;
            usleep(100);
            rw_b = v;
            atomic_fetch_add(&rw_writes, 1);
            atomic_fetch_sub(&rw_writers, 1);
            CHECK(pthread_rwlock_unlock(&rw) == 0);
        } else {
            CHECK(pthread_rwlock_rdlock(&rw) == 0);
            atomic_fetch_add(&rw_readers, 1);
            if (atomic_load(&rw_writers) != 0) atomic_fetch_add(&rw_bad, 1);
            long a = rw_a;
            if (i % 3 == 0) usleep(50);
            if (rw_b != a) atomic_fetch_add(&rw_bad, 1);
            atomic_fetch_add(&rw_reads, 1);
            atomic_fetch_sub(&rw_readers, 1);
            CHECK(pthread_rwlock_unlock(&rw) == 0);
        }
    }
}

/* --- phase 5: semaphores */
#define PINGS 100
#define SEM_ROUNDS 10
static sem_t ping[OS], pong[OS], room;
static atomic_int pongs_seen, room_inside, room_max, room_passes;

static void phase_sem(int id) {
    if (id < OS) { /* green 0 and 1 play against OS thread A and B */
        for (int i = 0; i < PINGS; i++) {
            CHECK(sem_post(&ping[id]) == 0);
            CHECK(sem_wait(&pong[id]) == 0);
            atomic_fetch_add(&pongs_seen, 1);
        }
    } else if (id >= GREEN) {
        int k = id - GREEN;
        for (int i = 0; i < PINGS; i++) {
            CHECK(sem_wait(&ping[k]) == 0);
            if (i % 25 == 0) usleep(200);
            CHECK(sem_post(&pong[k]) == 0);
        }
    }
    for (int i = 0; i < SEM_ROUNDS; i++) {
        CHECK(sem_wait(&room) == 0);
        int n = atomic_fetch_add(&room_inside, 1) + 1;
        int m = atomic_load(&room_max);
        while (n > m && !atomic_compare_exchange_weak(&room_max, &m, n)) {}
        usleep(200);
        atomic_fetch_sub(&room_inside, 1);
        atomic_fetch_add(&room_passes, 1);
        CHECK(sem_post(&room) == 0);
    }
}

/* --- phase 6: futex lock (Drepper's three-state mutex) */
#define FLOCK_ITERS 20
static atomic_int lock_word; /* 0 unlocked, 1 locked, 2 locked with waiters */
static long fl_counter;
static atomic_int fl_inside, fl_overlaps;

static void flock(void) {
    int c = 0;
    if (atomic_compare_exchange_strong(&lock_word, &c, 1)) return;
    if (c != 2) c = atomic_exchange(&lock_word, 2);
    while (c != 0) {
        long r = futex_wait(&lock_word, 2);
        CHECKF(r == 0 || errno == EAGAIN || errno == EINTR, "FUTEX_WAIT: %ld errno %d", r, errno);
        c = atomic_exchange(&lock_word, 2);
    }
}

static void funlock(void) {
    if (atomic_fetch_sub(&lock_word, 1) != 1) {
        atomic_store(&lock_word, 0);
        CHECK(futex_wake(&lock_word, 1) >= 0);
    }
}

static void phase_futex_lock(int id) {
    for (int i = 0; i < FLOCK_ITERS; i++) {
        flock();
        if (atomic_fetch_add(&fl_inside, 1) != 0) atomic_fetch_add(&fl_overlaps, 1);
        long v = fl_counter;
        usleep(30 + 10 * (id % 4));
        fl_counter = v + 1;
        atomic_fetch_sub(&fl_inside, 1);
        funlock();
    }
}

/* --- phase 7: futex events set by one kind, waited on by both */
#define GREEN_SETTER (GREEN - 1)
static atomic_int ev_green, ev_os, saw_green_ev, saw_os_ev;

static void phase_events(int id) {
    if (id == GREEN_SETTER) {
        usleep(20000);
        event_set(&ev_green);
    } else {
        event_wait(&ev_green);
        atomic_fetch_add(&saw_green_ev, 1);
    }
    if (id == OS_A) {
        usleep(20000);
        event_set(&ev_os);
    } else {
        event_wait(&ev_os);
        atomic_fetch_add(&saw_os_ev, 1);
    }
}

static atomic_int finished;

static void body(int id) {
    ktid[id] = (pid_t)syscall(SYS_gettid);
    coro_flag[id] = active_fn ? active_fn() : 0;
    atomic_fetch_add(&ready, 1);
    event_wait(&go);
    phase_mutex(id);
    phase_barrier(id);
    phase_queues(id);
    phase_rwlock(id);
    phase_sem(id);
    phase_futex_lock(id);
    phase_events(id);
    atomic_fetch_add(&finished, 1);
}

static void *thread_main(void *arg) {
    body((int)(long)arg);
    return arg;
}

/* Before main: these are OS threads with or without the library. They wait
 * for main's go before touching anything main initialises. */
__attribute__((constructor)) static void start_os_threads(void) {
    active_fn = (int (*)(void))dlsym(RTLD_DEFAULT, "opencoro_active");
    for (long k = 0; k < OS; k++)
        CHECK(pthread_create(&os_handles[k], NULL, thread_main, (void *)(long)(GREEN + k)) == 0);
}

static int distinct(const pid_t *v, int n) {
    int d = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= v[j] == v[i];
        d += !seen;
    }
    return d;
}

int main(void) {
    int lib = active_fn != NULL;
    if (lib) CHECK(active_fn() == 1); /* main is a coroutine */
    CHECK(pthread_barrier_init(&bar, NULL, ALL) == 0);
    for (int k = 0; k < OS; k++) {
        CHECK(sem_init(&ping[k], 0, 0) == 0);
        CHECK(sem_init(&pong[k], 0, 0) == 0);
    }
    CHECK(sem_init(&room, 0, 3) == 0);

    pthread_t g[GREEN];
    for (long i = 0; i < GREEN; i++) CHECK(pthread_create(&g[i], NULL, thread_main, (void *)i) == 0);
    for (int i = 0; i < 10000 && atomic_load(&ready) < ALL; i++) usleep(1000);
    CHECK(atomic_load(&ready) == ALL);
    usleep(20000); /* let the last ones reach their FUTEX_WAIT */

    /* The kinds of thread, while all ten wait for go. */
    pid_t pid = getpid();
    int n = os_threads();
    int os_own = ktid[OS_A] != ktid[OS_B] && ktid[OS_A] != pid && ktid[OS_B] != pid;
    for (int i = 0; i < GREEN; i++) os_own &= ktid[i] != ktid[OS_A] && ktid[i] != ktid[OS_B];
    os_own &= coro_flag[OS_A] == 0 && coro_flag[OS_B] == 0;
    int green_kinds = distinct(ktid, GREEN), green_coros = 0;
    for (int i = 0; i < GREEN; i++) green_coros += coro_flag[i];
    const char *w = getenv("OPENCORO_WORKERS");
    int workers = w ? atoi(w) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    int as_expected;
    if (lib) /* green threads: coroutines on the workers, no OS thread each */
        as_expected = green_kinds <= workers && green_coros == GREEN && n < 1 + ALL;
    else
        as_expected = green_kinds == GREEN && green_coros == 0 && n >= 1 + ALL;
    if (!as_expected)
        printf("(library %d: %d OS threads, %d kernel ids among the green threads, %d coroutines)\n", lib, n,
               green_kinds, green_coros);
    printf("constructor threads are OS threads of their own: %s\n", os_own ? "yes" : "no");
    printf("OS threads >= 3: %s\n", n >= 3 ? "yes" : "no");
    printf("threads started by main are green under the library, OS threads without: %s\n",
           as_expected ? "yes" : "no");
    fflush(stdout);

    event_set(&go);
    for (int i = 0; i < GREEN; i++) {
        void *r;
        CHECK(pthread_join(g[i], &r) == 0);
        CHECK((long)r == i);
    }
    for (int k = 0; k < OS; k++) {
        void *r;
        CHECK(pthread_join(os_handles[k], &r) == 0);
        CHECK((long)r == GREEN + k);
    }
    CHECK(atomic_load(&finished) == ALL);

    printf("mutex: counter %ld (expected %d), overlaps %d\n", mu_counter, ALL * MUTEX_ITERS,
           atomic_load(&mu_overlaps));
    int bad_serial = 0, all_arrived = 0;
    for (int r = 0; r < ROUNDS; r++) {
        bad_serial += atomic_load(&serial[r]) != 1;
        all_arrived += atomic_load(&arrived[r]) == ALL;
    }
    printf("barrier of %d: %d rounds complete, %d without exactly one serial thread, %d early leavers\n", ALL,
           all_arrived, bad_serial, atomic_load(&early_leavers));
    long want_os = 0, want_green = 0;
    for (long id = 0; id < GREEN; id++)
        for (long k = 1; k <= PER_GREEN; k++) want_os += id * 1000 + k;
    for (long k = 1; k <= ITEMS; k++) want_green += k;
    printf("queue green -> OS: %ld items, sum %s\n", os_got_count, os_got_sum == want_os ? "right" : "wrong");
    printf("queue OS -> green: %ld items, sum %s\n", atomic_load(&green_got_count),
           atomic_load(&green_got_sum) == want_green ? "right" : "wrong");
    printf("rwlock: %d writes, %d reads, %d violations\n", atomic_load(&rw_writes), atomic_load(&rw_reads),
           atomic_load(&rw_bad));
    int mx = atomic_load(&room_max);
    printf("semaphores: %d pongs, %d passes through a room of 3, at most 3 inside: %s\n", atomic_load(&pongs_seen),
           atomic_load(&room_passes), mx >= 1 && mx <= 3 ? "yes" : "no");
    printf("futex lock: counter %ld (expected %d), overlaps %d\n", fl_counter, ALL * FLOCK_ITERS,
           atomic_load(&fl_overlaps));
    printf("futex events: green-set seen by %d, OS-set seen by %d\n", atomic_load(&saw_green_ev),
           atomic_load(&saw_os_ev));
    return 0;
}
