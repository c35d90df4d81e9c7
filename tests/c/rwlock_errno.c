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

static const char *name(int e) { return e ? strerrorname_np(e) : "0"; }

int main(void) {
    CHECK_ON_RUNTIME();
    company_start();
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
    company_end();
    return 0;
}
