// Infinite recursion in main when main is the process's only coroutine: the
// runtime has not started (no signal handler of its own yet), so the
// process dies of SIGSEGV exactly as natively (main's stack is as large as
// the main thread's; overflow_main: with company, the overflow line).
// ulimit-s: 8192
// expect-status: 139
// native: same
#include <stdio.h>
#include "check.h"

static __attribute__((noinline)) long recurse(long n) {
    volatile char frame[1024];
    frame[0] = (char)n;
    return recurse(n + 1) + frame[0];
}

int main(void) {
    CHECK_ON_RUNTIME();
    printf("recursing\n");
    fflush(stdout);
    return (int)recurse(0);
}
