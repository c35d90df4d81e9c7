// Infinite recursion in main (an 8 MiB stack with `ulimit -s 8192`) prints
// the one overflow line with main's stack size and the limit that sets it
// (`ulimit -s`: main's stack is the main thread's own) and aborts, once the runtime
// has started (a thread exists; overflow_main_alone: alone, main dies of
// SIGSEGV as natively).
// ulimit-s: 8192
// expect-status: 134
// expect-stderr-count: 1 ): coroutine stack overflow (8192 KiB stack); raise ulimit -s
// expect-stderr-count: 1 opencoro:
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static __attribute__((noinline)) long recurse(long n) {
    volatile char frame[1024];
    frame[0] = (char)n;
    return recurse(n + 1) + frame[0];
}

static void *idle(void *arg) {
    pause();
    return arg;
}

int main(void) {
    pthread_t t;
    pthread_create(&t, NULL, idle, NULL);
    printf("recursing\n");
    fflush(stdout);
    return (int)recurse(0);
}
