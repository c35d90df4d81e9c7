// A plain thread (pthread_create: a real OS thread, not a coroutine) joins a
// coroutine that main spawned, blocking only itself; it also spawns and joins
// a coroutine of its own. opencoro_active() is 0 there. With one worker, the
// coroutines can only run on main's worker, so main must keep sleeping (not
// block in pthread_join) until the thread is done.
// env: OPENCORO_WORKERS=1 OPENCORO_THREADS=os OPENCORO_WARN_OS_THREADS=0
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>
#include <opencoro.h>
#include "check.h"

static opencoro_task *from_main;
static atomic_int done;

static void *slow(void *arg) {
    usleep(50000);
    return (void *)((long)arg + opencoro_active());
}

static void *thread_main(void *arg) {
    (void)arg;
    long out = 0;
    out += opencoro_active() * 1000; /* must be 0 */
    void *r = NULL;
    if (opencoro_join(from_main, &r) != 0) return (void *)-1L;
    out += (long)r;                  /* 7 + 1 */
    opencoro_task *mine = opencoro_spawn(slow, (void *)20, 0);
    if (!mine || opencoro_join(mine, &r) != 0) return (void *)-2L;
    out += (long)r;                  /* 20 + 1 */
    usleep(1000);                    /* a plain sleep on a plain thread */
    atomic_store(&done, 1);
    return (void *)out;
}

int main(void) {
    from_main = opencoro_spawn(slow, (void *)7, 0);
    CHECK(from_main != NULL);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, thread_main, NULL) == 0);
    for (int i = 0; i < 5000 && !atomic_load(&done); i++) usleep(1000);
    CHECK(atomic_load(&done));
    void *r;
    CHECK(pthread_join(th, &r) == 0);
    printf("thread result: %ld\n", (long)r);
    return 0;
}
