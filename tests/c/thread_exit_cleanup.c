// pthread_exit from a nested function of a thread, after blocking calls (2
// workers): pthread_join sees its value; the pushed cleanup handlers run
// innermost first, then thread-specific data destructors; a handler popped
// with pthread_cleanup_pop(1) runs at the pop, one popped with 0 never does.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 10
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

#define N 12

static char logs[N][32];
static pthread_key_t key;

static void note(long id, char c) {
    size_t n = strlen(logs[id]);
    if (n + 1 < sizeof logs[id]) logs[id][n] = c;
}

static void handler(void *arg) {
    long v = (long)arg;
    note(v / 256, (char)(v % 256));
}

static void key_dtor(void *arg) { note((long)arg - 1, 'K'); }

static __attribute__((noinline)) void leave(long id) {
    usleep(200);
    note(id, 'x');
    pthread_exit((void *)(1000 + id));
}

static void *worker(void *arg) {
    long id = (long)arg;
    CHECK(pthread_setspecific(key, (void *)(id + 1)) == 0);
    pthread_cleanup_push(handler, (void *)(id * 256 + '1'));
    pthread_cleanup_push(handler, (void *)(id * 256 + 'p'));
    sched_yield();
    pthread_cleanup_pop(1);                 /* runs now: 'p' */
    pthread_cleanup_push(handler, (void *)(id * 256 + 'n'));
    pthread_cleanup_pop(0);                 /* never runs */
    pthread_cleanup_push(handler, (void *)(id * 256 + '2'));
    pthread_cleanup_push(handler, (void *)(id * 256 + '3'));
    usleep(100 + id * 50);
    note(id, 'b');
    if (id % 2) leave(id);
    else pthread_exit((void *)(1000 + id));
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
    return NULL;
}

int main(void) {
    CHECK(pthread_key_create(&key, key_dtor) == 0);
    pthread_t t[N];
    for (long i = 0; i < N; i++) CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    int bad = 0;
    for (long i = 0; i < N; i++) {
        void *r;
        CHECK(pthread_join(t[i], &r) == 0);
        if (r != (void *)(1000 + i)) bad++;
        const char *want = i % 2 ? "pbx321K" : "pb321K";
        if (strcmp(logs[i], want) != 0) {
            printf("thread %ld: order %s, expected %s\n", i, logs[i], want);
            bad++;
        }
    }
    printf("thread 0: %s, thread 1: %s\n", logs[0], logs[1]);
    printf("threads with a wrong exit value or order: %d of %d\n", bad, N);
    return 0;
}
