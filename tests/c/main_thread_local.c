// main stays on the main thread: its __thread variables keep their address
// and value across sleeps and yields (while other coroutines run on other
// workers), and gettid() stays the process id.
// native: same
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static __thread int counter = 100;

static __attribute__((noinline)) int *counter_addr(void) { return &counter; }

int main(void) {
    int *addr = counter_addr();
    for (int i = 0; i < 20; i++) {
        counter++;
        if (i % 3 == 0) usleep(200);
        else if (i % 3 == 1) sched_yield();
        else {
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
        }
        CHECK(counter_addr() == addr);
        CHECK((long)syscall(SYS_gettid) == (long)getpid());
    }
    printf("counter %d\n", counter);
    return 0;
}
