// sleep_errors, run inside a spawned coroutine instead of main.
// link: yes
#include <opencoro.h>
#define main errors_main
#include "sleep_errors.c"
#undef main

static void *run(void *arg) {
    (void)arg;
    return (void *)(long)errors_main();
}

int main(void) {
    void *r = (void *)-1L;
    opencoro_task *t = opencoro_spawn(run, NULL, 0);
    if (!t || opencoro_join(t, &r) != 0) return 1;
    return (int)(long)r;
}
