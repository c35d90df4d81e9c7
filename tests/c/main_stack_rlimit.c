// The main coroutine's stack follows the soft RLIMIT_STACK: with
// `ulimit -s 32768`, main can use a 24 MiB local array (more than the usual
// 8 MiB), and pthread_getattr_np reports at least 24 MiB.
// ulimit-s: 32768
// native: same
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include "check.h"

#define SIZE (24u << 20)

static __attribute__((noinline)) unsigned long use_big(void) {
    volatile unsigned char big[SIZE];
    for (size_t i = 0; i < SIZE; i += 4096) big[i] = 1;
    usleep(1000);
    unsigned long sum = 0;
    for (size_t i = 0; i < SIZE; i += 4096) sum += big[i];
    return sum;
}

int main(void) {
    pthread_attr_t a;
    void *addr;
    size_t size;
    CHECK(pthread_getattr_np(pthread_self(), &a) == 0);
    CHECK(pthread_attr_getstack(&a, &addr, &size) == 0);
    CHECKF(size >= SIZE, "stack size %zu", size);
    pthread_attr_destroy(&a);
    printf("pages touched: %lu\n", use_big());
    return 0;
}
