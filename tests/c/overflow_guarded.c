// Infinite recursion in a spawned coroutine with a 64K stack (guarded: the
// default guard budget is far from spent) prints exactly one line naming the
// stack size and aborts.
// env: OPENCORO_STACK_SIZE=64K
// expect-status: 134
// expect-stderr-count: 1 ): coroutine stack overflow (64 KiB stack); raise OPENCORO_STACK_SIZE
// expect-stderr-count: 1 opencoro:
#include <stdio.h>
#include <opencoro.h>

static __attribute__((noinline)) long recurse(long n) {
    volatile char frame[256];
    frame[0] = (char)n;
    return recurse(n + 1) + frame[0];
}

static void *overflow(void *arg) {
    return (void *)recurse((long)arg);
}

int main(void) {
    printf("spawning\n");
    fflush(stdout);
    opencoro_task *t = opencoro_spawn(overflow, NULL, 0);
    if (!t) return 1;
    opencoro_join(t, NULL);
    printf("not reached\n");
    return 0;
}
