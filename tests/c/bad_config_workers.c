// OPENCORO_WORKERS=abc is reported with one "opencoro:" line naming the
// variable; the default is used and the program runs normally.
// env: OPENCORO_WORKERS=abc
// expect-stderr-count: 1 opencoro:
// expect-stderr-count: 1 OPENCORO_WORKERS
#include <stdio.h>
#include <unistd.h>
#include <opencoro.h>

static void *inc(void *arg) {
    usleep(1000);
    return (void *)((long)arg + 1);
}

int main(void) {
    opencoro_task *t[100];
    for (long i = 0; i < 100; i++)
        if (!(t[i] = opencoro_spawn(inc, (void *)i, 0))) return 1;
    long sum = 0;
    for (int i = 0; i < 100; i++) {
        void *r;
        if (opencoro_join(t[i], &r) != 0) return 2;
        sum += (long)r;
    }
    printf("active %d, sum %ld\n", opencoro_active(), sum);
    return 0;
}
