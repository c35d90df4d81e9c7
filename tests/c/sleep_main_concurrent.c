// While main sleeps, the coroutines it spawned run on the same single worker,
// and main wakes on time while they keep the worker busy yielding.
// env: OPENCORO_WORKERS=1
// timeout: 20
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <opencoro.h>
#include "check.h"

static atomic_long steps;
static atomic_int stop;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *spin(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        atomic_fetch_add(&steps, 1);
        opencoro_yield();
    }
    return NULL;
}

int main(void) {
    opencoro_task *t[4];
    for (int i = 0; i < 4; i++) CHECK((t[i] = opencoro_spawn(spin, NULL, 0)) != NULL);
    double t0 = now();
    CHECK(usleep(200000) == 0);
    double slept = now() - t0;
    atomic_store(&stop, 1);
    for (int i = 0; i < 4; i++) CHECK(opencoro_join(t[i], NULL) == 0);
    CHECKF(atomic_load(&steps) > 100, "coroutines took only %ld steps while main slept", atomic_load(&steps));
    printf("coroutines ran while main slept\n");
    CHECKF(slept >= 0.2 && slept < 2.0, "main slept %.3f s for 0.2 s", slept);
    printf("main woke up although the worker was busy\n");
    return 0;
}
