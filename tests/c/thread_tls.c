// __thread variables are per thread: each of 40 threads on 2 workers sees
// the initial values (not another thread's), keeps its own values and their
// addresses across usleep, sched_yield and a blocking pipe read, while main's
// copy stays its own. The address is taken once and used after each block.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 10
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

#define N 40
#define ROUNDS 20

static __thread int counter = 7;
static __thread char name[32] = "initial";
static __thread long big[64];      /* zero-initialised (.tbss) */

static int pipes[N][2];

static __attribute__((noinline)) int *counter_addr(void) { return &counter; }

static void *worker(void *arg) {
    long id = (long)arg;
    long bad = 0;
    if (counter != 7 || strcmp(name, "initial") != 0) bad += 100;
    for (int i = 0; i < 64; i++) if (big[i] != 0) bad += 100;
    int *c = &counter;      /* kept across the blocking calls below */
    char *nm = name;
    *c = (int)id * 100;
    snprintf(nm, sizeof name, "thread %ld", id);
    big[63] = id;
    for (int round = 0; round < ROUNDS; round++) {
        (*c)++;
        switch (round % 3) {
        case 0: usleep(50 + id % 7 * 10); break;
        case 1: sched_yield(); break;
        default: {
            char b;
            if (read(pipes[id][0], &b, 1) != 1) bad += 1000;
            break;
        }
        }
        char want[32];
        snprintf(want, sizeof want, "thread %ld", id);
        if (*c != (int)id * 100 + round + 1) bad++;
        if (counter_addr() != c || name != nm) bad++;
        if (strcmp(nm, want) != 0 || big[63] != id) bad++;
    }
    return (void *)bad;
}

int main(void) {
    counter = -1;
    strcpy(name, "main");
    pthread_t t[N];
    for (int i = 0; i < N; i++) CHECK(pipe(pipes[i]) == 0);
    for (long i = 0; i < N; i++) CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    /* One byte per thread for each of its reads (rounds 2, 5, ..., 17), late
     * enough that most threads wait for it. */
    for (int r = 2; r < ROUNDS; r += 3) {
        usleep(3000);
        for (int i = 0; i < N; i++) CHECK(write(pipes[i][1], "x", 1) == 1);
    }
    long bad = 0;
    for (int i = 0; i < N; i++) {
        void *r;
        CHECK(pthread_join(t[i], &r) == 0);
        bad += (long)r;
    }
    printf("threads: %d, wrong thread-local values: %ld\n", N, bad);
    printf("main's copy: %d %s %ld\n", counter, name, big[63]);
    return 0;
}
