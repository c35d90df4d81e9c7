// Infinite recursion in main (an 8 MiB stack with `ulimit -s 8192`) prints
// the one overflow line with main's stack size and aborts.
// ulimit-s: 8192
// expect-status: 134
// expect-stderr-count: 1 opencoro: coroutine stack overflow (8192 KiB stack); raise OPENCORO_STACK_SIZE
// expect-stderr-count: 1 opencoro:
#include <stdio.h>

static __attribute__((noinline)) long recurse(long n) {
    volatile char frame[1024];
    frame[0] = (char)n;
    return recurse(n + 1) + frame[0];
}

int main(void) {
    printf("recursing\n");
    fflush(stdout);
    return (int)recurse(0);
}
