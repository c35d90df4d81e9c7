// pthread_kill (2 workers): signal 0 to a live thread (blocked in read, or
// sleeping) returns 0; SIGUSR1 sent with pthread_kill to one sleeping thread
// runs the handler in that thread (it sets a __thread sig_atomic_t flag
// that only the target sees) and in no other; a thread's pthread_kill of
// main runs the handler in main.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 10
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

#define N 6

static __thread volatile sig_atomic_t got;   /* set by the handler, in the thread it runs in */
static atomic_int handler_runs;
static atomic_int ready;
static atomic_int past_read;                  /* threads that have left the read */
static int gate[2];
static int results[N];                       /* 1: this thread saw its own flag */
static pthread_t main_thread;

static void on_usr1(int sig) {
    (void)sig;
    got = 1;
    atomic_fetch_add(&handler_runs, 1);
}

static void *worker(void *arg) {
    long id = (long)arg;
    char b;
    atomic_fetch_add(&ready, 1);
    CHECK(read(gate[0], &b, 1) == 0);            /* signal 0 arrives while blocked here */
    atomic_fetch_add(&past_read, 1);
    if (id == 0) CHECK(pthread_kill(main_thread, SIGUSR1) == 0);
    /* Sleep in short steps (a handler may cut one short with EINTR) until the
     * flag is set, or 300 ms pass. */
    for (int i = 0; i < 300 && !got; i++) usleep(1000);
    results[id] = got;
    return NULL;
}

int main(void) {
    main_thread = pthread_self();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    CHECK(pipe(gate) == 0);
    pthread_t t[N];
    for (long i = 0; i < N; i++) CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    while (atomic_load(&ready) < N) usleep(500);
    usleep(5000);
    int zero_ok = 0;
    for (int i = 0; i < N; i++) zero_ok += pthread_kill(t[i], 0) == 0;
    CHECK(close(gate[1]) == 0);
    /* SIGUSR1 goes out only once every thread has left its read (a handler
     * that ran during the read would end it with EINTR, here as natively). */
    while (atomic_load(&past_read) < N) usleep(1000);
    usleep(20000);
    for (int i = 0; i < N; i++) zero_ok += pthread_kill(t[i], 0) == 0;
    CHECK(pthread_kill(t[3], SIGUSR1) == 0);
    for (int i = 0; i < 1000 && !got; i++) usleep(1000);
    int main_got = got;
    for (int i = 0; i < N; i++) CHECK(pthread_join(t[i], NULL) == 0);
    printf("pthread_kill(t, 0) on live threads: %d of %d returned 0\n", zero_ok, 2 * N);
    printf("handler ran in:");
    for (int i = 0; i < N; i++) if (results[i]) printf(" thread %d", i);
    printf("%s; %d runs in all\n", main_got ? " main" : "", atomic_load(&handler_runs));
    return 0;
}
