// Sleepers wake in deadline order: with one worker, coroutines spawned in the
// order 250, 50, 200, 100, 150 ms record their wake-ups as 50 100 150 200 250.
// env: OPENCORO_WORKERS=1
#include <stdio.h>
#include <unistd.h>
#include <opencoro.h>

static int order[5], n;

static void *nap(void *arg) {
    int ms = (int)(long)arg;
    usleep(ms * 1000);
    order[n++] = ms;
    return NULL;
}

int main(void) {
    int ms[5] = {250, 50, 200, 100, 150};
    opencoro_task *t[5];
    for (int i = 0; i < 5; i++)
        if (!(t[i] = opencoro_spawn(nap, (void *)(long)ms[i], 0))) return 1;
    for (int i = 0; i < 5; i++) opencoro_join(t[i], NULL);
    for (int i = 0; i < n; i++) printf("%s%d", i ? " " : "", order[i]);
    printf("\n");
    return 0;
}
