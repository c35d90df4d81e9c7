// pthread_rwlock_timed{rd,wr}lock with an invalid timeout answers as glibc
// does: EINVAL first (also for a free lock, and for a lock the caller holds
// for writing, which is EDEADLK only with a valid timeout). Before, a held
// lock gave EDEADLK and a free one was taken. With a thread alive, so that
// the runtime's lock path runs.
// native: same
// timeout: 10
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static int fds[2];

static void *waiter(void *arg) {
    char b;
    CHECK(read(fds[0], &b, 1) == 1);
    return arg;
}

static const char *name(int e) { return e ? strerrorname_np(e) : "0"; }

int main(void) {
    CHECK(pipe(fds) == 0);
    pthread_t w;
    CHECK(pthread_create(&w, NULL, waiter, NULL) == 0);
    pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
    struct timespec bad = {0, 2000000000L}, good;
    clock_gettime(CLOCK_REALTIME, &good);
    good.tv_sec += 1;
    printf("free, timedwrlock, bad timeout: %s\n", name(pthread_rwlock_timedwrlock(&rw, &bad)));
    printf("free, timedrdlock, bad timeout: %s\n", name(pthread_rwlock_timedrdlock(&rw, &bad)));
    CHECK(pthread_rwlock_wrlock(&rw) == 0);
    printf("held, timedwrlock, bad timeout: %s\n", name(pthread_rwlock_timedwrlock(&rw, &bad)));
    printf("held, timedwrlock, good timeout: %s\n", name(pthread_rwlock_timedwrlock(&rw, &good)));
    printf("held, timedrdlock, good timeout: %s\n", name(pthread_rwlock_timedrdlock(&rw, &good)));
    CHECK(pthread_rwlock_unlock(&rw) == 0);
    CHECK(write(fds[1], "x", 1) == 1);
    CHECK(pthread_join(w, NULL) == 0);
    return 0;
}
