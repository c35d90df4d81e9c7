// 10,000 coroutines spawned from main, all alive at once (each yields
// before returning), all joined; every result comes back.
#include <stdio.h>
#include <stdlib.h>
#include <opencoro.h>
#include "check.h"

#define N 10000

static void *body(void *arg) {
    opencoro_yield();
    return (void *)((long)arg + 1);
}

int main(void) {
    opencoro_task **t = malloc(N * sizeof *t);
    CHECK(t != NULL);
    for (long i = 0; i < N; i++) CHECK((t[i] = opencoro_spawn(body, (void *)i, 0)) != NULL);
    long sum = 0;
    for (int i = N - 1; i >= 0; i--) { /* join in reverse order */
        void *r;
        CHECK(opencoro_join(t[i], &r) == 0);
        CHECKF((long)r == i + 1, "coroutine %d returned %ld", i, (long)r);
        sum += (long)r;
    }
    printf("joined %d, sum %ld\n", N, sum);
    free(t);
    return 0;
}
