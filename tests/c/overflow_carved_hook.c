// Past the guard budget (OPENCORO_GUARDED_STACKS=0: every stack is carved,
// with no guard page), infinite recursion that calls a hook (usleep(0)) at
// every level is caught by the hook's depth check or the canary check at the
// switch, before it runs off the stack: one line, abort.
// env: OPENCORO_STACK_SIZE=64K OPENCORO_GUARDED_STACKS=0
// expect-status: 134
// expect-stderr-count: 1 ): coroutine stack overflow (64 KiB stack); raise OPENCORO_STACK_SIZE
// expect-stderr-count: 1 opencoro:
#include <stdio.h>
#include <unistd.h>
#include <opencoro.h>

static __attribute__((noinline)) long recurse(long n) {
    volatile char frame[256];
    frame[0] = (char)n;
    usleep(0);
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
