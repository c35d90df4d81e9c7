// exit() called from a spawned coroutine (on whichever worker runs it) while
// main waits in opencoro_join: the atexit handlers run and the status is the
// coroutine's.
// expect-status: 3
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <opencoro.h>

static void handler(void) { printf("atexit handler runs\n"); fflush(stdout); }

static void *quit(void *arg) {
    (void)arg;
    usleep(20000);
    printf("coroutine calls exit(3)\n");
    exit(3);
}

int main(void) {
    atexit(handler);
    opencoro_task *t = opencoro_spawn(quit, NULL, 0);
    if (!t) return 1;
    opencoro_join(t, NULL);
    printf("not reached: join returned\n");
    return 0;
}
