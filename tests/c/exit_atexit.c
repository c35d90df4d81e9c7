// exit() called deep inside main (after a sleep) runs the atexit handlers in
// reverse order of registration, flushes stdio and reports the status.
// expect-status: 5
// native: same
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void first(void) { printf("handler 1 (registered first, runs last)\n"); }
static void second(void) { printf("handler 2\n"); }
static void third(void) {
    printf("handler 3 (registered last, runs first)\n");
}

static __attribute__((noinline)) void leave(int depth) {
    if (depth > 0) {
        leave(depth - 1);
        printf("not reached\n");
    }
    usleep(1000);
    printf("buffered, not yet flushed: exiting");  /* no newline, no flush */
    exit(5);
}

int main(void) {
    atexit(first);
    atexit(second);
    atexit(third);
    printf("main starts\n");
    leave(10);
    return 0;
}
