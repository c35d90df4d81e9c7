// Every sleep call sleeps at least as long as asked (measured on
// CLOCK_MONOTONIC, and on the clock named for clock_nanosleep), for relative
// and TIMER_ABSTIME deadlines on both CLOCK_MONOTONIC and CLOCK_REALTIME.
// native: same
#define _GNU_SOURCE
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static long long now(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct timespec ts_of(long long ns) {
    struct timespec ts = {ns / 1000000000LL, ns % 1000000000LL};
    return ts;
}

#define MS 1000000LL

static void abstime(const char *name, clockid_t clk) {
    long long start_mono = now(CLOCK_MONOTONIC);
    long long target = now(clk) + 50 * MS;
    struct timespec ts = ts_of(target);
    int r = clock_nanosleep(clk, TIMER_ABSTIME, &ts, NULL);
    long long after = now(clk);
    CHECKF(r == 0, "%s: returned %d", name, r);
    CHECKF(after >= target, "%s: woke %lld ns before the deadline", name, target - after);
    CHECKF(now(CLOCK_MONOTONIC) - start_mono >= 50 * MS, "%s: slept less than 50 ms", name);
    printf("%s TIMER_ABSTIME now+50ms: ok\n", name);
}

static void relative(const char *name, clockid_t clk) {
    struct timespec ts = ts_of(30 * MS);
    long long start = now(clk);
    CHECK(clock_nanosleep(clk, 0, &ts, NULL) == 0);
    CHECKF(now(clk) - start >= 30 * MS, "%s: slept only %lld ns", name, now(clk) - start);
    printf("%s relative 30ms: ok\n", name);
}

int main(void) {
    abstime("CLOCK_MONOTONIC", CLOCK_MONOTONIC);
    abstime("CLOCK_REALTIME", CLOCK_REALTIME);
    relative("CLOCK_MONOTONIC", CLOCK_MONOTONIC);
    relative("CLOCK_REALTIME", CLOCK_REALTIME);

    long long t0 = now(CLOCK_MONOTONIC);
    struct timespec past = ts_of(now(CLOCK_MONOTONIC) - 1000 * MS);
    CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL) == 0);
    printf("deadline in the past returns 0\n");

    t0 = now(CLOCK_MONOTONIC);
    struct timespec ts = ts_of(40 * MS);
    CHECK(nanosleep(&ts, NULL) == 0);
    CHECK(now(CLOCK_MONOTONIC) - t0 >= 40 * MS);
    printf("nanosleep 40ms: ok\n");

    t0 = now(CLOCK_MONOTONIC);
    CHECK(usleep(40000) == 0);
    CHECK(now(CLOCK_MONOTONIC) - t0 >= 40 * MS);
    printf("usleep 40ms: ok\n");

    t0 = now(CLOCK_MONOTONIC);
    CHECK(sleep(1) == 0);
    CHECK(now(CLOCK_MONOTONIC) - t0 >= 1000 * MS);
    printf("sleep 1s: ok\n");

    /* Just under a second, all in tv_nsec. */
    t0 = now(CLOCK_MONOTONIC);
    ts.tv_sec = 0;
    ts.tv_nsec = 999999999;
    CHECK(nanosleep(&ts, NULL) == 0);
    CHECK(now(CLOCK_MONOTONIC) - t0 >= 999999999LL);
    printf("nanosleep 999999999ns: ok\n");
    return 0;
}
