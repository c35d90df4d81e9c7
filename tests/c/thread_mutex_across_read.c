// A pthread mutex held across a blocking read() on a pipe while 16 other
// threads and main contend for it (2 workers): the holder waits for a byte
// that a separate writer thread sends 20 ms later, the contenders queue on
// the mutex meanwhile, and everything completes with an exact count. Three
// rounds. With green threads this needs waiters on the mutex to give up
// their worker, or the holder could never be resumed.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 10
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>
#include "check.h"

#define CONTENDERS 16
#define ROUNDS 3

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static int data[2];
static long counter;
static atomic_int locked_by_holder, contenders_started;

static void *holder(void *arg) {
    (void)arg;
    for (int r = 0; r < ROUNDS; r++) {
        CHECK(pthread_mutex_lock(&m) == 0);
        atomic_store(&locked_by_holder, r + 1);
        char b;
        CHECK(read(data[0], &b, 1) == 1);   /* blocks, the mutex held */
        counter += 1000;
        CHECK(pthread_mutex_unlock(&m) == 0);
        usleep(1000);
    }
    return NULL;
}

static void *writer(void *arg) {
    (void)arg;
    for (int r = 0; r < ROUNDS; r++) {
        while (atomic_load(&locked_by_holder) < r + 1) usleep(200);
        usleep(20000);
        CHECK(write(data[1], "x", 1) == 1);
    }
    return NULL;
}

static void *contender(void *arg) {
    (void)arg;
    atomic_fetch_add(&contenders_started, 1);
    for (int i = 0; i < 10; i++) {
        CHECK(pthread_mutex_lock(&m) == 0);
        counter++;
        CHECK(pthread_mutex_unlock(&m) == 0);
        usleep(2000);
    }
    return NULL;
}

int main(void) {
    CHECK(pipe(data) == 0);
    pthread_t h, w, c[CONTENDERS];
    CHECK(pthread_create(&h, NULL, holder, NULL) == 0);
    while (atomic_load(&locked_by_holder) == 0) usleep(200);
    for (int i = 0; i < CONTENDERS; i++) CHECK(pthread_create(&c[i], NULL, contender, NULL) == 0);
    CHECK(pthread_create(&w, NULL, writer, NULL) == 0);
    CHECK(pthread_mutex_lock(&m) == 0);       /* main contends too, in the first round */
    counter++;
    CHECK(pthread_mutex_unlock(&m) == 0);
    CHECK(pthread_join(h, NULL) == 0);
    CHECK(pthread_join(w, NULL) == 0);
    for (int i = 0; i < CONTENDERS; i++) CHECK(pthread_join(c[i], NULL) == 0);
    printf("counter: %ld (expected %d)\n", counter, ROUNDS * 1000 + CONTENDERS * 10 + 1);
    return 0;
}
