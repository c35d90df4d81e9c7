// Infinite recursion that calls no hook, on a carved stack (no guard page)
// that has 50 other carved stacks below it (coroutines sleeping meanwhile):
// the overflow must still be reported with the one line and abort, not end
// in a bare SIGSEGV (or in another coroutine's corrupted stack) far below.
// env: OPENCORO_STACK_SIZE=64K OPENCORO_GUARDED_STACKS=0 OPENCORO_WORKERS=1
// expect-status: 134
// expect-stderr-count: 1 ): coroutine stack overflow (
// expect-stderr-count: 1 opencoro:
#include <stdio.h>
#include <unistd.h>
#include <opencoro.h>

static __attribute__((noinline)) long recurse(long n) {
    volatile char frame[256];
    frame[0] = (char)n;
    return recurse(n + 1) + frame[0];
}

static void *sleeper(void *arg) {
    (void)arg;
    sleep(20);
    return NULL;
}

static void *overflow(void *arg) {
    return (void *)recurse((long)arg);
}

int main(void) {
    for (int i = 0; i < 50; i++)
        if (!opencoro_spawn(sleeper, NULL, 0)) return 1;
    usleep(10000); /* all 50 are running (asleep) on their stacks */
    printf("spawning\n");
    fflush(stdout);
    opencoro_task *t = opencoro_spawn(overflow, NULL, 0);
    if (!t) return 1;
    opencoro_join(t, NULL);
    printf("not reached\n");
    return 0;
}
