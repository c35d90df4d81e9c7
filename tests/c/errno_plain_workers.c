// errno_migrate written the ordinary way: plain `errno` before and after a
// sleep in the same function, with two workers. GCC computes errno's address
// (__errno_location(), declared const) once and reuses it after the call, so
// a coroutine that resumes on another worker reads the errno of the thread it
// left unless the runtime keeps a coroutine on its thread's errno (or makes
// the address follow it).
// env: OPENCORO_WORKERS=2
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <opencoro.h>
#include "check.h"

#define N 200

static void *worker(void *arg) {
    long id = (long)arg;
    for (int round = 0; round < 30; round++) {
        int mine = (int)(id * 1000 + round + 1);
        errno = mine;
        if (round % 2) usleep(50); else opencoro_yield();
        if (errno != mine) return (void *)-1L;
    }
    return NULL;
}

int main(void) {
    opencoro_task *t[N];
    for (long i = 0; i < N; i++) CHECK((t[i] = opencoro_spawn(worker, (void *)i, 0)) != NULL);
    int bad = 0;
    for (int i = 0; i < N; i++) {
        void *r;
        CHECK(opencoro_join(t[i], &r) == 0);
        if ((long)r < 0) bad++;
    }
    printf("coroutines that saw a foreign errno: %d\n", bad);
    return 0;
}
