// While 100,000 coroutines sleep, the process has far fewer memory mappings
// than vm.max_map_count: guarded stacks use at most about half of the budget.
// timeout: 60
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <opencoro.h>
#include "check.h"

#define N 100000

static atomic_long started;

static void *nap(void *arg) {
    atomic_fetch_add(&started, 1);
    usleep(500000);
    return arg;
}

static long count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long n = 0;
    int c;
    while ((c = getc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

int main(void) {
    long max = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%ld", &max) != 1) max = 65530;
        fclose(f);
    }
    opencoro_task **t = malloc(N * sizeof *t);
    CHECK(t != NULL);
    for (long i = 0; i < N; i++) CHECK((t[i] = opencoro_spawn(nap, (void *)i, 0)) != NULL);
    /* Wait until all of them have started (and so hold a stack). */
    for (int i = 0; i < 3000 && atomic_load(&started) < N; i++) usleep(10000);
    CHECKF(atomic_load(&started) == N, "only %ld started", atomic_load(&started));
    long maps = count_lines("/proc/self/maps");
    CHECKF(maps > 0 && maps < max * 3 / 5, "%ld mappings with vm.max_map_count %ld", maps, max);
    long long sum = 0;
    for (int i = 0; i < N; i++) {
        void *r;
        CHECK(opencoro_join(t[i], &r) == 0);
        sum += (long)r;
    }
    printf("mappings well under vm.max_map_count; sum %lld\n", sum);
    return 0;
}
