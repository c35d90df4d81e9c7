// A program run WITHOUT LD_PRELOAD dlopens libopencoro.so (path in
// OPENCORO_LIB, set by the runner) and uses the C API through dlsym: the
// runtime starts its own workers on first use; spawn and join work from main
// (a plain thread here) and from coroutines; nothing deadlocks or crashes.
// preload: no
// link: no
// timeout: 20
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"

typedef struct task task;
static task *(*spawn)(void *(*)(void *), void *, size_t);
static int (*join)(task *, void **);
static int (*active)(void);
static void (*yield)(void);

static void *leaf(void *arg) {
    yield();
    usleep(100); /* libc's usleep: the library's hooks are not in front */
    return (void *)((long)arg * 3 + active());
}

static void *parent(void *arg) {
    (void)arg;
    task *kids[10];
    for (long i = 0; i < 10; i++)
        if (!(kids[i] = spawn(leaf, (void *)i, 0))) return (void *)-1L;
    long sum = 0;
    for (int i = 0; i < 10; i++) {
        void *r;
        if (join(kids[i], &r) != 0) return (void *)-1L;
        sum += (long)r;
    }
    return (void *)sum;
}

int main(void) {
    const char *path = getenv("OPENCORO_LIB");
    CHECK(path != NULL);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    CHECKF(h != NULL, "dlopen: %s", dlerror());
    spawn = (task * (*)(void *(*)(void *), void *, size_t)) dlsym(h, "opencoro_spawn");
    join = (int (*)(task *, void **))dlsym(h, "opencoro_join");
    active = (int (*)(void))dlsym(h, "opencoro_active");
    yield = (void (*)(void))dlsym(h, "opencoro_yield");
    CHECK(spawn && join && active && yield);

    printf("active in main: %d\n", active());
    yield(); /* a plain thread: sched_yield */

    task *t[100];
    for (long i = 0; i < 100; i++) CHECK((t[i] = spawn(leaf, (void *)i, 0)) != NULL);
    long sum = 0;
    for (int i = 0; i < 100; i++) {
        void *r;
        CHECK(join(t[i], &r) == 0);
        sum += (long)r;
    }
    printf("100 coroutines: sum %ld\n", sum);

    task *p = spawn(parent, NULL, 0);
    void *r;
    CHECK(p && join(p, &r) == 0);
    printf("nested: sum %ld\n", (long)r);
    return 0;
}
