// 600,000 opencoro_spawn + opencoro_join of an empty coroutine from main on
// two workers. The runtime's own locks taken inside the C API must wait in
// the kernel: a coroutine parked in the lot on one of them, whose other
// waiter was its own worker, hung about 1 run in 5 of 200,000.
// env: OPENCORO_WORKERS=2
// timeout: 60
#include <stdio.h>
#include "check.h"
#include <opencoro.h>

static void *empty(void *arg) { return arg; }

int main(void) {
    CHECK_ON_RUNTIME();
    long bad = 0;
    for (long i = 0; i < 600000; i++) {
        void *r = NULL;
        opencoro_task *t = opencoro_spawn(empty, (void *)i, 0);
        if (!t || opencoro_join(t, &r) != 0 || r != (void *)i) bad++;
    }
    printf("600000 spawn+join, bad results: %ld\n", bad);
    return 0;
}
