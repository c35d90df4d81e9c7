/* A program hung on purpose, for the gdb extension's test (run-programs.sh
 * gdb_opencoro_bt, with OPENCORO_WORKERS=1): three green threads wait in
 * read, on a mutex and in usleep, and main waits to join the first. It
 * prints "ready" once all three are inside their calls (with one worker
 * main runs again only after the last has suspended), then waits for
 * good. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

static int fds[2];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int inside;

static void *reader_blocked_in_read(void *a) {
    char c;
    (void)a;
    atomic_fetch_add(&inside, 1);
    (void)!read(fds[0], &c, 1);
    return NULL;
}

static void *locker_blocked_on_mutex(void *a) {
    (void)a;
    atomic_fetch_add(&inside, 1);
    pthread_mutex_lock(&mu);
    return NULL;
}

static void *sleeper_in_usleep(void *a) {
    (void)a;
    atomic_fetch_add(&inside, 1);
    usleep(100000000);
    return NULL;
}

int main(void) {
    if (pipe(fds) != 0) return 1;
    pthread_mutex_lock(&mu);
    pthread_t t[3];
    pthread_create(&t[0], NULL, reader_blocked_in_read, NULL);
    pthread_create(&t[1], NULL, locker_blocked_on_mutex, NULL);
    pthread_create(&t[2], NULL, sleeper_in_usleep, NULL);
    while (atomic_load(&inside) < 3) sched_yield();
    sched_yield();
    printf("ready\n");
    fflush(stdout);
    pthread_join(t[0], NULL);
    return 0;
}
