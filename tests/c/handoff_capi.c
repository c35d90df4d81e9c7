// Hand-off covers coroutines of the C API: with one worker, a coroutine made
// with opencoro_spawn blocks in fgets() on a pipe that stays silent for 1 s
// (glibc's stdio reads with its internal read: no hook sees it), while
// another one ticks every 5 ms on absolute deadlines. The ticks must stay
// on time (worst lateness under 500 ms): a spare stands in for the blocked
// worker and runs the ticker. Before, a C API coroutine shared its worker's
// thread-locals and stayed on it: the ticker was about 1,000 ms late. Each
// coroutine also keeps its own errno across its waits.
// env: OPENCORO_WORKERS=1
// timeout: 15
// expect-stderr-count: 1 not a green thread: a stack of the program's own
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "opencoro.h"

#define PERIOD_NS 5000000L /* 5 ms */
#define TICKS 240          /* 1.2 s */

static int fds[2];
static double worst_ms;

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void *reader(void *arg) {
    (void)arg;
    FILE *f = fdopen(fds[0], "r");
    CHECK(f != NULL);
    char line[64];
    usleep(50000); /* the ticker has run on this worker by now */
    errno = 1234;
    CHECK(fgets(line, sizeof line, f) != NULL);
    CHECK(strcmp(line, "after a second\n") == 0);
    CHECK(errno == 1234);
    return NULL;
}

static void *ticker(void *arg) {
    (void)arg;
    long long next = now_ns();
    errno = 4321;
    for (int i = 0; i < TICKS; i++) {
        next += PERIOD_NS;
        struct timespec d = {next / 1000000000LL, next % 1000000000LL};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d, NULL);
        double late = (now_ns() - next) / 1e6;
        if (late > worst_ms) worst_ms = late;
        CHECK(errno == 4321);
    }
    return NULL;
}

static void *writer(void *arg) {
    (void)arg;
    sleep(1);
    CHECK(write(fds[1], "after a second\n", 15) == 15);
    return NULL;
}

int main(void) {
    CHECK(pipe(fds) == 0);
    /* the writer: an OS thread (a stack of its own), which no worker runs */
    static char stack[256 << 10];
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstack(&a, stack, sizeof stack);
    pthread_t w;
    CHECK(pthread_create(&w, &a, writer, NULL) == 0);
    opencoro_task *t = opencoro_spawn(ticker, NULL, 0), *r = opencoro_spawn(reader, NULL, 0);
    CHECK(r && t);
    CHECK(opencoro_join(t, NULL) == 0);
    CHECK(opencoro_join(r, NULL) == 0);
    CHECK(pthread_join(w, NULL) == 0);
    CHECKF(worst_ms < 500.0, "worst lateness %.1f ms", worst_ms);
    printf("%d ticks beside a coroutine blocked in fgets: on time\n", TICKS);
    return 0;
}
