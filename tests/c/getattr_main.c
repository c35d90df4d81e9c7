// pthread_getattr_np(pthread_self()) in main describes the stack main runs
// on: it contains the address of a local variable (also after a sleep), it
// is at least 6 MiB, and a 6 MiB array fits in it.
// ulimit-s: 8192
// native: same
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include "check.h"

static void stack_of_caller(uintptr_t *lo, uintptr_t *hi) {
    pthread_attr_t a;
    void *addr;
    size_t size;
    CHECK(pthread_getattr_np(pthread_self(), &a) == 0);
    CHECK(pthread_attr_getstack(&a, &addr, &size) == 0);
    CHECK(pthread_attr_destroy(&a) == 0);
    *lo = (uintptr_t)addr;
    *hi = (uintptr_t)addr + size;
}

static __attribute__((noinline)) int big_fits(uintptr_t lo, uintptr_t hi) {
    volatile char big[6u << 20];
    big[0] = 1;
    big[sizeof big - 1] = 1;
    return (uintptr_t)&big[0] >= lo && (uintptr_t)&big[sizeof big - 1] < hi;
}

int main(void) {
    volatile int local = 1;
    uintptr_t lo, hi;
    stack_of_caller(&lo, &hi);
    CHECKF(lo <= (uintptr_t)&local && (uintptr_t)&local < hi, "local %p not in [%#lx, %#lx)", (void *)&local,
           (unsigned long)lo, (unsigned long)hi);
    CHECKF(hi - lo >= (6u << 20), "stack size %lu", (unsigned long)(hi - lo));
    printf("local inside, size >= 6 MiB\n");

    usleep(1000);
    uintptr_t lo2, hi2;
    stack_of_caller(&lo2, &hi2);
    CHECK(lo2 == lo && hi2 == hi);
    printf("same stack after a sleep\n");
    CHECK(big_fits(lo, hi));
    printf("a 6 MiB array fits inside\n");
    return 0;
}
