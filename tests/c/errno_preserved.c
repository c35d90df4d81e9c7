// errno belongs to the coroutine: a sleep that suspends main leaves main's
// errno as it was, and coroutines sharing one worker thread (which shares one
// errno) do not see each other's values across their switches.
// env: OPENCORO_WORKERS=1
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <opencoro.h>
#include "check.h"

#define N 50

static void *worker(void *arg) {
    long id = (long)arg;
    for (int round = 0; round < 20; round++) {
        errno = (int)(1000 + id * 100 + round);
        switch (round % 4) {
        case 0: usleep(100 + (id % 5) * 50); break;
        case 1: opencoro_yield(); break;
        case 2: sched_yield(); break;
        case 3: {
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
            break;
        }
        }
        if (errno != (int)(1000 + id * 100 + round)) return (void *)(long)errno;
    }
    return (void *)0;
}

int main(void) {
    errno = 1234;
    CHECK(usleep(1000) == 0);
    CHECKF(errno == 1234, "errno after usleep: %d", errno);
    errno = 4321;
    CHECK(sched_yield() == 0);
    CHECKF(errno == 4321, "errno after sched_yield: %d", errno);
    printf("main: errno unchanged by usleep and sched_yield\n");

    opencoro_task *t[N];
    for (long i = 0; i < N; i++) CHECK((t[i] = opencoro_spawn(worker, (void *)i, 0)) != NULL);
    errno = 5678;
    usleep(2000); /* the workers run, setting errno, while main sleeps */
    CHECKF(errno == 5678, "main's errno after the others ran: %d", errno);
    int clobbered = 0;
    for (int i = 0; i < N; i++) {
        void *r;
        CHECK(opencoro_join(t[i], &r) == 0);
        if (r != NULL) clobbered++;
    }
    CHECKF(errno == 5678, "main's errno after join: %d", errno);
    printf("coroutines whose errno was clobbered: %d\n", clobbered);
    return 0;
}
