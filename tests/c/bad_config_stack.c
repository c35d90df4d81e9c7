// Bad values for OPENCORO_STACK_SIZE (too small), OPENCORO_GUARDED_STACKS
// (negative) and OPENCORO_LOG give one "opencoro:" line each; the defaults
// are used: a coroutine spawned with size 0 gets the default 256 KiB stack.
// env: OPENCORO_STACK_SIZE=1K OPENCORO_GUARDED_STACKS=-3 OPENCORO_LOG=loud
// expect-stderr-count: 3 opencoro:
// expect-stderr-count: 1 OPENCORO_STACK_SIZE
// expect-stderr-count: 1 OPENCORO_GUARDED_STACKS
// expect-stderr-count: 1 OPENCORO_LOG
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <opencoro.h>

static void *size_of_stack(void *arg) {
    (void)arg;
    pthread_attr_t a;
    void *addr;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &a) != 0 || pthread_attr_getstack(&a, &addr, &size) != 0) return NULL;
    pthread_attr_destroy(&a);
    return (void *)size;
}

int main(void) {
    opencoro_task *t = opencoro_spawn(size_of_stack, NULL, 0);
    void *r = NULL;
    if (!t || opencoro_join(t, &r) != 0) return 1;
    size_t kib = ((size_t)r + 4095) / 1024;
    printf("default stack: %s\n", kib >= 252 && kib <= 260 ? "about 256 KiB" : "wrong size");
    return 0;
}
