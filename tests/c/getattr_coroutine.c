// pthread_getattr_np(pthread_self()) in a spawned coroutine describes that
// coroutine's stack: it contains a local variable, its size is about the size
// requested from opencoro_spawn (or OPENCORO_STACK_SIZE for 0), and it stays
// the same after the coroutine sleeps (and perhaps moves to another worker).
// env: OPENCORO_STACK_SIZE=192K
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <opencoro.h>
#include "check.h"

struct req {
    size_t want;    /* expected usable size */
    int ok;
};

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

static void *probe(void *arg) {
    struct req *r = arg;
    volatile int local = 0;
    uintptr_t lo, hi, lo2, hi2;
    stack_of_caller(&lo, &hi);
    CHECKF(lo <= (uintptr_t)&local && (uintptr_t)&local < hi, "local %p not in [%#lx, %#lx)", (void *)&local,
           (unsigned long)lo, (unsigned long)hi);
    size_t size = hi - lo;
    /* About the requested size: page rounding and a small canary aside. */
    CHECKF(size + 4096 >= r->want && size <= r->want + 4096, "asked for %zu, got %zu", r->want, size);
    usleep(2000);
    stack_of_caller(&lo2, &hi2);
    CHECK(lo2 == lo && hi2 == hi);
    r->ok = 1;
    return NULL;
}

/* Most of the stack is usable: a local array of 3/4 of it fits. */
static __attribute__((noinline)) void *use_most(void *arg) {
    struct req *r = arg;
    size_t n = r->want * 3 / 4;
    volatile char buf[n];
    for (size_t i = 0; i < n; i += 1024) buf[i] = 1;
    opencoro_yield();
    buf[0] = buf[n - 1];
    return probe(arg);
}

int main(void) {
    struct req reqs[] = {{64 << 10, 0}, {128 << 10, 0}, {1 << 20, 0}, {192 << 10, 0}};
    size_t asked[] = {64 << 10, 128 << 10, 1 << 20, 0};
    for (int i = 0; i < 4; i++) {
        opencoro_task *t = opencoro_spawn(use_most, &reqs[i], asked[i]);
        CHECK(t != NULL);
        CHECK(opencoro_join(t, NULL) == 0);
        printf("%zu KiB: %s\n", reqs[i].want >> 10, reqs[i].ok ? "ok" : "not run");
    }
    return 0;
}
