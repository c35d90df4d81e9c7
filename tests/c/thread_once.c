// pthread_once from 50 threads (2 workers) whose init routine sleeps
// (usleep) in the middle: it runs exactly once, and every caller returns only
// after it has finished. A second once control used after the first shows
// the same, and a later call of a completed once returns at once.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 10
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>
#include "check.h"

#define N 50

static pthread_once_t once1 = PTHREAD_ONCE_INIT, once2 = PTHREAD_ONCE_INIT;
static atomic_int runs1, runs2, done1, done2, early;
static int gate[2];

static void init1(void) {
    atomic_fetch_add(&runs1, 1);
    usleep(30000);
    atomic_store(&done1, 1);
}

static void init2(void) {
    atomic_fetch_add(&runs2, 1);
    for (int i = 0; i < 5; i++) usleep(2000);
    atomic_store(&done2, 1);
}

static void *worker(void *arg) {
    long id = (long)arg;
    char b;
    CHECK(read(gate[0], &b, 1) == 0); /* all start together when main closes the pipe */
    if (id % 3 == 0) usleep(id * 100);
    CHECK(pthread_once(&once1, init1) == 0);
    if (!atomic_load(&done1)) atomic_fetch_add(&early, 1);
    CHECK(pthread_once(&once2, init2) == 0);
    if (!atomic_load(&done2)) atomic_fetch_add(&early, 1);
    CHECK(pthread_once(&once1, init1) == 0);
    return NULL;
}

int main(void) {
    CHECK(pipe(gate) == 0);
    pthread_t t[N];
    for (long i = 0; i < N; i++) CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    usleep(5000);
    CHECK(close(gate[1]) == 0);
    for (int i = 0; i < N; i++) CHECK(pthread_join(t[i], NULL) == 0);
    CHECK(pthread_once(&once2, init2) == 0);
    printf("init routines ran: %d and %d times; callers back before the end: %d\n", atomic_load(&runs1),
           atomic_load(&runs2), atomic_load(&early));
    return 0;
}
