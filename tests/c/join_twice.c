// A handle is joined once, as a pthread is. While a join is in progress, a
// second join of the same handle (from another coroutine) is refused with
// EINVAL instead of waiting too; the first join still gets the result.
// (After a join has returned the handle is gone, as for pthread_join.)
// env: OPENCORO_WORKERS=2
// timeout: 10
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <opencoro.h>
#include "check.h"

static void *slow(void *arg) { usleep(100000); return arg; }

static opencoro_task *target;
static volatile int first_waiting;

static void *first_joiner(void *unused) {
    (void)unused;
    void *r = NULL;
    first_waiting = 1;
    int rc = opencoro_join(target, &r);
    CHECKF(rc == 0 && r == (void *)7, "first join: %d %p", rc, r);
    return (void *)1;
}

int main(void) {
    for (int round = 0; round < 5; round++) {
        first_waiting = 0;
        target = opencoro_spawn(slow, (void *)7, 0);
        CHECK(target != NULL);
        opencoro_task *j = opencoro_spawn(first_joiner, NULL, 0);
        while (!first_waiting) usleep(1000);
        usleep(10000); /* the first joiner is now suspended in its join */
        void *r = NULL;
        int again = opencoro_join(target, &r);
        CHECKF(again == EINVAL, "round %d: second join returned %d", round, again);
        CHECK(opencoro_join(j, &r) == 0 && r == (void *)1);
    }
    printf("second join while the first waits: EINVAL\n");
    return 0;
}
