// errno is per thread, and stays so across blocking calls in a function that
// keeps the address of errno: 50 threads on 2 workers each take
// int *e = &errno once, set *e, block (usleep, read on a pipe its partner
// writes to, sched_yield) and compare *e afterwards. gcc -O2 also computes
// &errno only once per function for plain `errno`, so both spellings are
// checked, as is a libc error (EBADF) landing where *e points.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 10
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>
#include "check.h"

#define N 50      /* threads, in ping-pong pairs */
#define ROUNDS 30

static int pipes[N][2]; /* pipes[i]: what thread i reads */
static int *(*volatile errno_loc)(void) = __errno_location;

static void *worker(void *arg) {
    long id = (long)arg;
    long partner = id ^ 1;
    int *e = &errno; /* kept in a register or on the stack across every call below */
    long bad = 0;
    char c = 'x';
    for (int round = 0; round < ROUNDS; round++) {
        int mine = (int)(id * 1000 + round + 1);
        *e = mine;
        switch (round % 3) {
        case 0:
            usleep(100 + (id % 5) * 20);
            break;
        case 1:
            /* Pairs ping-pong: the even one writes first, then both read. */
            if (id % 2 == 0 && write(pipes[partner][1], &c, 1) != 1) bad += 1000;
            if (read(pipes[id][0], &c, 1) != 1) bad += 1000;
            if (id % 2 == 1 && write(pipes[partner][1], &c, 1) != 1) bad += 1000;
            break;
        default:
            sched_yield();
            break;
        }
        if (*e != mine) bad++;
        errno = mine + 1;             /* the plain spelling, address computed once */
        usleep(10);
        if (errno != mine + 1 || *e != mine + 1) bad++;
        if (read(-1, &c, 1) != -1 || *e != EBADF) bad++;
        if (e != errno_loc()) bad++;  /* a fresh lookup finds the same errno */
    }
    return (void *)bad;
}

int main(void) {
    pthread_t t[N];
    for (int i = 0; i < N; i++) CHECK(pipe(pipes[i]) == 0);
    errno = 12345;
    int *main_e = &errno;
    for (long i = 0; i < N; i++) CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    long bad = 0;
    for (int i = 0; i < N; i++) {
        void *r;
        CHECK(pthread_join(t[i], &r) == 0);
        bad += (long)r;
    }
    CHECK(main_e == errno_loc());
    /* Main's errno holds no value a worker stored (id * 1000 + 1..ROUNDS+1, EBADF). */
    int v = *main_e;
    int foreign = v == EBADF || (v > 0 && v % 1000 >= 1 && v % 1000 <= ROUNDS + 1 && v / 1000 < N);
    printf("threads: %d, foreign errno values seen: %ld\n", N, bad);
    printf("main's errno foreign: %s\n", foreign ? "yes" : "no");
    return 0;
}
