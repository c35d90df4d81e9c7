// main itself takes turns: with one worker, main and a coroutine that both
// yield after every step alternate, whether main uses opencoro_yield or
// sched_yield.
// env: OPENCORO_WORKERS=1
#include <sched.h>
#include <stdio.h>
#include <opencoro.h>

static char log_[64][4];
static int n;

static void *step(void *arg) {
    (void)arg;
    for (int i = 0; i < 4; i++) {
        snprintf(log_[n++], sizeof log_[0], "c%d", i);
        opencoro_yield();
    }
    return NULL;
}

int main(void) {
    opencoro_task *t = opencoro_spawn(step, NULL, 0);
    if (!t) return 1;
    opencoro_yield(); /* the coroutine runs its first step */
    for (int i = 0; i < 4; i++) {
        snprintf(log_[n++], sizeof log_[0], "m%d", i);
        if (i % 2) opencoro_yield(); else sched_yield();
    }
    opencoro_join(t, NULL);
    for (int i = 0; i < n; i++) printf("%s%s", i ? " " : "", log_[i]);
    printf("\n");
    return 0;
}
