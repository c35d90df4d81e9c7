// Sleeping suspends only the coroutine: with a single worker, 1000
// coroutines that each sleep(1) all finish in well under 3 s of wall time
// (sequentially it would take 1000 s), and none returns early.
// env: OPENCORO_WORKERS=1
// timeout: 20
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <opencoro.h>
#include "check.h"

#define N 1000

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *nap(void *arg) {
    double t0 = now();
    unsigned left = sleep(1);
    double slept = now() - t0;
    return (void *)(long)(left == 0 && slept >= 1.0 ? 1 : 0);
}

int main(void) {
    static opencoro_task *t[N];
    double t0 = now();
    for (int i = 0; i < N; i++) CHECK((t[i] = opencoro_spawn(nap, NULL, 0)) != NULL);
    long ok = 0;
    for (int i = 0; i < N; i++) {
        void *r;
        CHECK(opencoro_join(t[i], &r) == 0);
        ok += (long)r;
    }
    double wall = now() - t0;
    printf("slept a full second: %ld of %d\n", ok, N);
    CHECKF(wall < 3.0, "1000 concurrent sleep(1) took %.2f s", wall);
    printf("wall time under 3 s\n");
    return 0;
}
