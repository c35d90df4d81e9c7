// Run by scripts/run-programs.sh with and without libopencoro.so: one pthread
// mutex M shared by eight threads, held by one of them across a blocking
// read() of a pipe. A takes M, then (after a barrier all threads pass, so M
// is certainly held) reads the pipe, which stays empty until B, which never
// needs M while A holds it, has done some work and slept 200 ms; B then
// writes, and takes and releases M itself. C..H lock and unlock M in a loop
// (C..F with pthread_mutex_lock, G and H with pthread_mutex_timedlock and a
// far deadline); their first acquisition waits until A has read and let go.
// Under green threads, A's read must suspend only A, and C..H waiting for M
// must not stop B from running. Prints a summary that does not depend on
// timing; exits 1 if anything is wrong.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOCKERS 6 // C..H
#define ROUNDS 20000

static pthread_mutex_t M = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start; // A (holding M), B and C..H
static int pipefd[2];
static atomic_int written;    // set by B just before it writes the pipe
static int a_holds;           // under M: A holds M
static long counter;          // under M
static int held_violations;   // under M: someone else got M while A held it
static int early_first_locks; // under M: a first acquisition before B wrote
static char a_got[64];
static unsigned long b_work;

static void *thread_a(void *arg) {
    (void)arg;
    pthread_mutex_lock(&M);
    a_holds = 1;
    pthread_barrier_wait(&start);
    ssize_t n;
    do n = read(pipefd[0], a_got, sizeof a_got - 1); // blocks ~200 ms, holding M
    while (n < 0 && errno == EINTR);
    if (n > 0) a_got[n] = 0;
    if (!atomic_load(&written)) held_violations++; // read returned before B wrote
    a_holds = 0;
    pthread_mutex_unlock(&M);
    return NULL;
}

static void *thread_b(void *arg) {
    (void)arg;
    pthread_barrier_wait(&start);
    // work that does not need M: a checksum and a sleep
    unsigned long h = 5381;
    for (int i = 0; i < 100000; i++) h = h * 33 + (unsigned)i;
    b_work = h;
    struct timespec ts = {0, 200 * 1000 * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    atomic_store(&written, 1);
    const char msg[] = "written by B after 200 ms";
    if (write(pipefd[1], msg, sizeof msg - 1) != (ssize_t)(sizeof msg - 1)) return (void *)1;
    // now B takes M too, after A let it go
    pthread_mutex_lock(&M);
    if (a_holds) held_violations++;
    counter += 1000000;
    pthread_mutex_unlock(&M);
    return NULL;
}

static void *locker(void *arg) {
    long idx = (long)arg;
    int timed = idx >= 4; // G and H
    pthread_barrier_wait(&start);
    for (int r = 0; r < ROUNDS; r++) {
        if (timed) {
            struct timespec deadline;
            clock_gettime(CLOCK_REALTIME, &deadline);
            deadline.tv_sec += 30;
            int rc = pthread_mutex_timedlock(&M, &deadline);
            if (rc != 0) {
                printf("pthread_mutex_timedlock: %s\n", strerror(rc));
                return (void *)1;
            }
        } else {
            pthread_mutex_lock(&M);
        }
        if (a_holds) held_violations++;
        if (r == 0 && !atomic_load(&written)) early_first_locks++;
        counter += idx + 1;
        pthread_mutex_unlock(&M);
        if (r % 1000 == 0) sched_yield();
    }
    return NULL;
}

int main(void) {
    if (pipe(pipefd) != 0) {
        perror("pipe");
        return 1;
    }
    pthread_barrier_init(&start, NULL, 2 + LOCKERS);
    pthread_t a, b, c[LOCKERS];
    pthread_create(&a, NULL, thread_a, NULL);
    pthread_create(&b, NULL, thread_b, NULL);
    for (long i = 0; i < LOCKERS; i++) pthread_create(&c[i], NULL, locker, (void *)i);
    int bad = 0;
    void *ret;
    pthread_join(a, &ret);
    bad |= ret != NULL;
    pthread_join(b, &ret);
    bad |= ret != NULL;
    for (int i = 0; i < LOCKERS; i++) {
        pthread_join(c[i], &ret);
        bad |= ret != NULL;
    }
    long want = 1000000;
    for (long i = 0; i < LOCKERS; i++) want += (i + 1) * ROUNDS;
    printf("A read: \"%s\"\n", a_got);
    printf("B's work done: %s\n", b_work ? "yes" : "no");
    printf("counter %ld, expected %ld\n", counter, want);
    printf("M taken by another thread while A held it: %d times\n", held_violations);
    printf("first acquisitions by C..H before B wrote: %d\n", early_first_locks);
    if (bad || counter != want || held_violations || early_first_locks || strcmp(a_got, "written by B after 200 ms"))
        return 1;
    return 0;
}
