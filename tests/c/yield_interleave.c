// With one worker, two coroutines that call opencoro_yield() after every step
// alternate strictly: A0 B0 A1 B1 ... (a yield goes to the back of the queue).
// env: OPENCORO_WORKERS=1
#include <stdio.h>
#include <opencoro.h>

static char log_[64][4];
static int n;

static void *step(void *arg) {
    const char *name = arg;
    for (int i = 0; i < 5; i++) {
        snprintf(log_[n++], sizeof log_[0], "%s%d", name, i);
        opencoro_yield();
    }
    return NULL;
}

int main(void) {
    opencoro_task *a = opencoro_spawn(step, "A", 0);
    opencoro_task *b = opencoro_spawn(step, "B", 0);
    if (!a || !b) return 1;
    opencoro_join(a, NULL);
    opencoro_join(b, NULL);
    for (int i = 0; i < n; i++) printf("%s%s", i ? " " : "", log_[i]);
    printf("\n");
    return 0;
}
