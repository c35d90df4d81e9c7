// pthread_attr_setstacksize is honoured: inside the thread,
// pthread_getattr_np reports a stack of at least the requested size that
// contains a local variable, the same after a sleep, and a local array of 3/4
// of that size can be written from end to end. Sizes from 64 KiB to 16 MiB,
// several threads at once (2 workers).
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 10
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

static const size_t sizes[] = {64 << 10, 256 << 10, 1 << 20, 3 << 20, 16 << 20};
#define NS (sizeof sizes / sizeof sizes[0])

static void stack_of_self(uintptr_t *lo, size_t *size) {
    pthread_attr_t a;
    void *addr;
    CHECK(pthread_getattr_np(pthread_self(), &a) == 0);
    CHECK(pthread_attr_getstack(&a, &addr, size) == 0);
    CHECK(pthread_attr_destroy(&a) == 0);
    *lo = (uintptr_t)addr;
}

static __attribute__((noinline)) long use_array(size_t n) {
    volatile char big[n];   /* a VLA: n bytes of this thread's stack */
    memset((char *)big, 0x5a, n);
    long sum = 0;
    for (size_t i = 0; i < n; i += 4096) sum += big[i];
    return sum + big[n - 1];
}

static void *worker(void *arg) {
    size_t want = *(const size_t *)arg;
    volatile int local = 0;
    uintptr_t lo, lo2;
    size_t size, size2;
    stack_of_self(&lo, &size);
    CHECKF(size >= want, "asked for %zu, pthread_getattr_np says %zu", want, size);
    CHECK(lo <= (uintptr_t)&local && (uintptr_t)&local < lo + size);
    usleep(2000);
    stack_of_self(&lo2, &size2);
    CHECK(lo2 == lo && size2 == size);
    size_t n = want / 4 * 3;
    long sum = use_array(n);
    CHECK(sum == 0x5aL * (long)((n + 4095) / 4096 + 1));
    return (void *)1;
}

int main(void) {
    pthread_t t[NS];
    for (size_t i = 0; i < NS; i++) {
        pthread_attr_t a;
        size_t got;
        CHECK(pthread_attr_init(&a) == 0);
        CHECK(pthread_attr_setstacksize(&a, sizes[i]) == 0);
        CHECK(pthread_attr_getstacksize(&a, &got) == 0 && got == sizes[i]);
        CHECK(pthread_create(&t[i], &a, worker, (void *)&sizes[i]) == 0);
        CHECK(pthread_attr_destroy(&a) == 0);
    }
    for (size_t i = 0; i < NS; i++) {
        void *r;
        CHECK(pthread_join(t[i], &r) == 0);
        CHECK(r == (void *)1);
        printf("stack of %zu KiB: reported and usable\n", sizes[i] >> 10);
    }
    return 0;
}
