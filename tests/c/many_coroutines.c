// 100,000 coroutines alive at once, each sleeping 200 ms and returning its
// index; the sum is checked. With the default guard budget (a quarter of
// vm.max_map_count) most stacks are carved without a guard, so the kernel's
// map limit (vm.max_map_count, 65530 by default) is never hit.
// timeout: 60
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <opencoro.h>
#include "check.h"

#define N 100000

static void *nap(void *arg) {
    usleep(200000);
    return arg;
}

int main(void) {
    opencoro_task **t = malloc(N * sizeof *t);
    CHECK(t != NULL);
    for (long i = 0; i < N; i++) CHECKF((t[i] = opencoro_spawn(nap, (void *)i, 0)) != NULL, "spawn %ld failed", i);
    long long sum = 0;
    for (int i = 0; i < N; i++) {
        void *r;
        CHECK(opencoro_join(t[i], &r) == 0);
        sum += (long)r;
    }
    printf("%d coroutines, sum %lld (expected %lld)\n", N, sum, (long long)N * (N - 1) / 2);
    free(t);
    return 0;
}
