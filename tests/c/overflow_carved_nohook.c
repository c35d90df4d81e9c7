// A carved stack (no guard page) that overflows in code calling no hook at
// all: the coroutine recurses until its frames lie 1 KiB below the bottom of
// its stack (writing there, as an overflowing program would), returns, and
// then switches (opencoro_yield). The switch must notice the overwritten
// canary below the stack: one line, abort. (The exact size in the line is
// checked by overflow_carved_hook.)
// env: OPENCORO_STACK_SIZE=64K OPENCORO_GUARDED_STACKS=0
// expect-status: 134
// expect-stderr-count: 1 ): coroutine stack overflow (
// expect-stderr-count: 1 KiB stack); raise OPENCORO_STACK_SIZE
// expect-stderr-count: 1 opencoro:
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <opencoro.h>

static uintptr_t bottom;

/* Recurses, filling each frame, until a frame reaches 1 KiB below bottom. */
static __attribute__((noinline)) long recurse(long n) {
    volatile unsigned char frame[200];
    for (unsigned i = 0; i < sizeof frame; i++) frame[i] = 0x5a;
    if ((uintptr_t)&frame[0] > bottom - 1024) return recurse(n + 1) + frame[7];
    return frame[7];
}

static void *overflow(void *arg) {
    (void)arg;
    pthread_attr_t a;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &a) != 0 || pthread_attr_getstack(&a, &addr, &size) != 0)
        return (void *)1L;
    bottom = (uintptr_t)addr;
    long r = recurse(0);
    opencoro_yield(); /* the first switch after the overflow */
    return (void *)r;
}

int main(void) {
    printf("spawning\n");
    fflush(stdout);
    opencoro_task *t = opencoro_spawn(overflow, NULL, 0);
    if (!t) return 1;
    opencoro_join(t, NULL);
    printf("not reached: the overflow went unnoticed\n");
    return 0;
}
