// As yield_interleave, with sched_yield() (which returns 0): with one worker
// three coroutines calling sched_yield() after every step take strict turns.
// env: OPENCORO_WORKERS=1
#include <sched.h>
#include <stdio.h>
#include <opencoro.h>

static char log_[64][4];
static int n, bad;

static void *step(void *arg) {
    const char *name = arg;
    for (int i = 0; i < 4; i++) {
        snprintf(log_[n++], sizeof log_[0], "%s%d", name, i);
        if (sched_yield() != 0) bad++;
    }
    return NULL;
}

int main(void) {
    opencoro_task *t[3] = {opencoro_spawn(step, "A", 0), opencoro_spawn(step, "B", 0),
                           opencoro_spawn(step, "C", 0)};
    for (int i = 0; i < 3; i++)
        if (!t[i] || opencoro_join(t[i], NULL) != 0) return 1;
    for (int i = 0; i < n; i++) printf("%s%s", i ? " " : "", log_[i]);
    printf("\nsched_yield failures: %d\n", bad);
    return 0;
}
