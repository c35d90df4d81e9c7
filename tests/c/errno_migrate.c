// errno follows a coroutine that resumes on another worker thread. errno is
// thread-local and the compiler may keep its address across a call, so this
// test reads it through a fresh __errno_location() call each time (as code
// in another function would).
// env: OPENCORO_WORKERS=2
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <opencoro.h>
#include "check.h"

#define N 200

static int *(*volatile errno_loc)(void) = __errno_location;

static void *worker(void *arg) {
    long id = (long)arg;
    for (int round = 0; round < 30; round++) {
        int mine = (int)(id * 1000 + round + 1);
        *errno_loc() = mine;
        if (round % 2) usleep(50); else opencoro_yield();
        if (*errno_loc() != mine) return (void *)-1L;
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
