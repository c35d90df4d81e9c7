// OPENCORO_LOG=debug traces to stderr (lines "opencoro: pid N (prog): debug: ...")
// and changes nothing else: stdout and the exit status are as without it.
// env: OPENCORO_LOG=debug
// expect-stderr: ): debug:
// expect-status: 4
#include <stdio.h>
#include <unistd.h>
#include <opencoro.h>

static void *inc(void *arg) {
    usleep(1000);
    return (void *)((long)arg + 1);
}

int main(void) {
    void *r = NULL;
    opencoro_task *t = opencoro_spawn(inc, (void *)41, 0);
    if (!t || opencoro_join(t, &r) != 0) return 1;
    printf("result %ld\n", (long)r);
    return 4;
}
