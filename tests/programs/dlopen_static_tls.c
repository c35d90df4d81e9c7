// Run by scripts/run-programs.sh with and without libopencoro.so: a library
// with initial-exec (static) TLS, dlopened after threads exist.
//
//   dlopen_static_tls LIBRARY [reuse]
//
// Before the dlopen, 4 threads run and end (their stacks and descriptors may
// be reused later; each dirties 16 KiB of its stack) and 6 threads block in
// read() on pipes of their own, with a canary on their stacks. Then main
// dlopens LIBRARY (RTLD_NOW; dlopen_static_tls_lib.c), whose __thread
// variable has an initializer and tls_model("initial-exec"), checks it sees
// the initializer, and lets the 6 blocked threads go (they check their
// canaries; they never call the library, whose TLS they may not have). Then
// 50 new threads each: see the initializer, set their own value, sleep, see
// their own value, modify it through its address, touch an 8 KiB array on
// their stack and call the library's function (4 KiB of stack) from below
// it, check the array and the variable, meet all the others at a barrier (so
// all 50 are alive at once: their variables' addresses must all differ),
// sleep and check again. With "reuse", a second wave of 10 threads does the
// same after the 50 are joined (on the 50's stacks and descriptors, when a
// runtime reuses them). Main's own value must survive it all. Prints a
// summary that does not depend on timing; exits 1 if anything is wrong.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DLS_INIT_VALUE 4242
#define EARLY 4
#define BLOCKED 6
#define WAVE1 50
#define WAVE2 10

static long (*dls_probe)(void **addr, unsigned seed);
static int (*dls_intact)(void);
static void (*dls_set)(long v);
static long (*dls_get)(void);

static atomic_int failures;

/* One line on stderr per failed expectation (one fprintf, so lines of
 * different threads do not mix). */
#define EXPECT(cond, fmt, ...)                                                       \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "dlopen_static_tls: " fmt "\n", __VA_ARGS__);            \
            atomic_fetch_add(&failures, 1);                                          \
        }                                                                            \
    } while (0)

/* --- before the dlopen */
static __attribute__((noinline)) void dirty_stack(unsigned seed) {
    volatile unsigned char a[16384];
    for (unsigned i = 0; i < sizeof a; i++) a[i] = (unsigned char)(0xA5 ^ (seed + i));
}

static void *early(void *arg) {
    dirty_stack((unsigned)(long)arg);
    usleep(1000);
    return arg;
}

static int pipes[BLOCKED][2];
static atomic_int blocked;

static void *blocker(void *arg) {
    long id = (long)arg;
    volatile unsigned char canary[2048];
    for (unsigned i = 0; i < sizeof canary; i++) canary[i] = (unsigned char)(id * 31 + i);
    atomic_fetch_add(&blocked, 1);
    char b;
    long ok = read(pipes[id][0], &b, 1) == 1 && b == 'g';
    for (unsigned i = 0; i < sizeof canary; i++) ok &= canary[i] == (unsigned char)(id * 31 + i);
    return (void *)ok;
}

/* --- after it */
static pthread_barrier_t all_alive;
static void *addrs[WAVE1];

static __attribute__((noinline)) int deep(long id, long want) {
    volatile unsigned char a[8192];
    for (unsigned i = 0; i < sizeof a; i++) a[i] = (unsigned char)(0x5A ^ (id + i * 3));
    void *p;
    long v = dls_probe(&p, (unsigned)id);
    usleep(200);
    int ok = v == want && dls_intact();
    for (unsigned i = 0; i < sizeof a; i++) ok &= a[i] == (unsigned char)(0x5A ^ (id + i * 3));
    return ok;
}

struct job {
    long id;
    int wave;
    void **addr; /* where to record the variable's address */
};

static void *fresh(void *arg) {
    struct job *j = arg;
    long id = j->id;
    void *p = NULL;
    long v = dls_probe(&p, (unsigned)id);
    EXPECT(v == DLS_INIT_VALUE && dls_intact(), "wave %d thread %ld: no initializer (value %ld)", j->wave, id, v);
    *j->addr = p;
    long mine = 100000 * j->wave + id;
    dls_set(mine);
    usleep(500 + (id * 373) % 3000);
    void *q = NULL;
    v = dls_probe(&q, (unsigned)id + 1);
    EXPECT(v == mine && q == p, "wave %d thread %ld: value %ld after a sleep, expected %ld", j->wave, id, v, mine);
    *(long *)p = mine + 1; /* the value is the first member */
    EXPECT(deep(id, mine + 1), "wave %d thread %ld: a deep stack and the variable disagree", j->wave, id);
    EXPECT(dls_get() == mine + 1 && dls_intact(), "wave %d thread %ld: TLS changed after the deep call", j->wave, id);
    if (j->wave == 1) {
        int r = pthread_barrier_wait(&all_alive);
        EXPECT(r == 0 || r == PTHREAD_BARRIER_SERIAL_THREAD, "barrier: %d", r);
    }
    usleep(300 + (id * 131) % 1000);
    EXPECT(dls_get() == mine + 1 && dls_intact(), "wave %d thread %ld: TLS changed at the end", j->wave, id);
    return NULL;
}

static int run_wave(int wave, int n, void **where) {
    pthread_t t[WAVE1];
    struct job jobs[WAVE1];
    for (int i = 0; i < n; i++) {
        jobs[i] = (struct job){i, wave, &where[i]};
        if (pthread_create(&t[i], NULL, fresh, &jobs[i]) != 0) {
            perror("pthread_create");
            exit(1);
        }
    }
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    int distinct = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int k = 0; k < i; k++) seen |= where[k] == where[i];
        distinct += !seen;
    }
    return distinct;
}

int main(int argc, char **argv) {
    int reuse = argc == 3 && strcmp(argv[2], "reuse") == 0;
    if (argc != 2 && !reuse) {
        fprintf(stderr, "usage: %s LIBRARY [reuse]\n", argv[0]);
        return 2;
    }
    pthread_t e[EARLY], b[BLOCKED];
    for (long i = 0; i < EARLY; i++) pthread_create(&e[i], NULL, early, (void *)i);
    int early_done = 0;
    for (int i = 0; i < EARLY; i++) {
        void *r;
        pthread_join(e[i], &r);
        early_done += (long)r == i;
    }
    for (long i = 0; i < BLOCKED; i++) {
        if (pipe(pipes[i]) != 0) return 1;
        pthread_create(&b[i], NULL, blocker, (void *)i);
    }
    for (int i = 0; i < 5000 && atomic_load(&blocked) < BLOCKED; i++) usleep(1000);
    usleep(20000); /* let the last ones reach read() */
    printf("before dlopen: %d threads ended, %d blocked in read\n", early_done, atomic_load(&blocked));

    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    dls_probe = (long (*)(void **, unsigned))dlsym(h, "dls_probe");
    dls_intact = (int (*)(void))dlsym(h, "dls_intact");
    dls_set = (void (*)(long))dlsym(h, "dls_set");
    dls_get = (long (*)(void))dlsym(h, "dls_get");
    if (!dls_probe || !dls_intact || !dls_set || !dls_get) {
        fprintf(stderr, "dlsym: %s\n", dlerror());
        return 1;
    }
    void *mp;
    long mv = dls_probe(&mp, 99);
    printf("main sees the initializer: %s\n", mv == DLS_INIT_VALUE && dls_intact() ? "yes" : "no");
    dls_set(-7);

    for (int i = 0; i < BLOCKED; i++)
        if (write(pipes[i][1], "g", 1) != 1) return 1;
    int intact = 0;
    for (int i = 0; i < BLOCKED; i++) {
        void *r;
        pthread_join(b[i], &r);
        intact += (long)r == 1;
    }
    printf("blocked threads woke with intact stacks: %d of %d\n", intact, BLOCKED);

    pthread_barrier_init(&all_alive, NULL, WAVE1);
    int d1 = run_wave(1, WAVE1, addrs);
    printf("wave 1: %d threads, %d distinct addresses, %d failures so far\n", WAVE1, d1, atomic_load(&failures));
    if (reuse) {
        void *addrs2[WAVE2];
        run_wave(2, WAVE2, addrs2);
        printf("wave 2: %d threads, %d failures so far\n", WAVE2, atomic_load(&failures));
    }

    void *mp2;
    long mv2 = dls_probe(&mp2, 7);
    printf("main kept its value and address: %s\n", mv2 == -7 && mp2 == mp && dls_intact() ? "yes" : "no");
    int bad = atomic_load(&failures) != 0 || early_done != EARLY || intact != BLOCKED || d1 != WAVE1 ||
              mv != DLS_INIT_VALUE || mv2 != -7;
    printf("%s\n", bad ? "FAILED" : "all ok");
    return bad;
}
