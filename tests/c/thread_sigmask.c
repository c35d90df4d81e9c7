// pthread_sigmask is per thread (2 workers): 12 threads each block their own
// signal (SIGUSR1, SIGUSR2 or SIGWINCH, by id) and keep seeing exactly that
// mask across usleep, sched_yield and blocking pipe reads while the others
// change theirs; main's mask is untouched; a thread created by a thread
// inherits its creator's mask at creation and then changes only its own.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 10
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include "check.h"

#define N 12
static const int sigs[3] = {SIGUSR1, SIGUSR2, SIGWINCH};
static int pipes[N][2];

/* Which of the three signals the calling thread blocks, as a bit set. */
static int blocked_bits(void) {
    sigset_t cur;
    CHECK(pthread_sigmask(SIG_SETMASK, NULL, &cur) == 0);
    int bits = 0;
    for (int i = 0; i < 3; i++) if (sigismember(&cur, sigs[i])) bits |= 1 << i;
    return bits;
}

static void block(int sig, int how) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    CHECK(pthread_sigmask(how, &s, NULL) == 0);
}

static void *child(void *arg) {
    (void)arg;
    int inherited = blocked_bits();
    block(SIGUSR2, SIG_BLOCK);
    usleep(500);
    return (void *)(long)(inherited * 8 + blocked_bits());
}

static void *worker(void *arg) {
    long id = (long)arg;
    long bad = 0;
    if (blocked_bits() != 0) bad += 100;       /* main created us with nothing blocked */
    int mine = 1 << (id % 3);
    block(sigs[id % 3], SIG_BLOCK);
    for (int round = 0; round < 15; round++) {
        switch (round % 3) {
        case 0: usleep(100 + id * 10); break;
        case 1: sched_yield(); break;
        default: {
            char b;
            if (read(pipes[id][0], &b, 1) != 1) bad += 1000;
        }
        }
        if (blocked_bits() != mine) bad++;
    }
    if (id == 0) {
        /* Thread 0 blocks SIGUSR1; its child inherits that and adds SIGUSR2. */
        pthread_t c;
        void *r;
        CHECK(pthread_create(&c, NULL, child, NULL) == 0);
        CHECK(pthread_join(c, &r) == 0);
        if ((long)r != 1 * 8 + 3) bad += 10000;
        if (blocked_bits() != mine) bad++;     /* the child's change is its own */
    }
    block(sigs[id % 3], SIG_UNBLOCK);
    if (blocked_bits() != 0) bad++;
    return (void *)bad;
}

int main(void) {
    pthread_t t[N];
    for (int i = 0; i < N; i++) CHECK(pipe(pipes[i]) == 0);
    for (long i = 0; i < N; i++) CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    for (int r = 0; r < 5; r++) { /* the reads of rounds 2, 5, 8, 11, 14 */
        usleep(2000);
        CHECK(blocked_bits() == 0);
        for (int i = 0; i < N; i++) CHECK(write(pipes[i][1], "x", 1) == 1);
    }
    long bad = 0;
    for (int i = 0; i < N; i++) {
        void *r;
        CHECK(pthread_join(t[i], &r) == 0);
        bad += (long)r;
    }
    printf("threads: %d, wrong masks seen: %ld, main blocks: %d\n", N, bad, blocked_bits());
    return 0;
}
