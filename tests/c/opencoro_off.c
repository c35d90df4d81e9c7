// OPENCORO=0 turns the runtime off: main runs as without the library, so
// opencoro_active() is 0 there and sleeps are plain libc sleeps.
// env: OPENCORO=0
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <opencoro.h>

int main(void) {
    printf("active in main: %d\n", opencoro_active());
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int r = usleep(20000);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    printf("usleep: %d, slept >= 20 ms: %s\n", r, ms >= 20 ? "yes" : "no");
    return 0;
}
