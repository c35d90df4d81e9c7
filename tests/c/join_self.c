// pthread_join(pthread_self()) answers EDEADLK as glibc does, from a green
// thread and from main while another thread is alive (before, main's join
// of itself went to the blocking pool and waited for good).
// native: same
// timeout: 10
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

static void *self_joiner(void *arg) {
    (void)arg;
    int r = pthread_join(pthread_self(), NULL);
    printf("thread: pthread_join(self) = %s\n", r == 0 ? "0" : strerrorname_np(r));
    return NULL;
}

int main(void) {
    CHECK_ON_RUNTIME();
    company_start();
    pthread_t s;
    CHECK(pthread_create(&s, NULL, self_joiner, NULL) == 0);
    CHECK(pthread_join(s, NULL) == 0);
    int r = pthread_join(pthread_self(), NULL);
    printf("main: pthread_join(self) = %s\n", r == 0 ? "0" : strerrorname_np(r));
    company_end();
    return 0;
}
