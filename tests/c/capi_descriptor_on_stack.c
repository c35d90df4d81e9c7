// A C API coroutine's thread descriptor (pthread_self(), glibc's TCB with
// the static TLS below it) sits at the top of its own stack, as a green
// thread's does, so a new coroutine touches one page for descriptor, TLS
// and first frames. Before, glibc allocated each descriptor on the heap
// (about 5 KiB more per coroutine: 100,000 sleepers had 560 MiB peak RSS
// where 300 MiB do now); the check is the distance between pthread_self()
// and a local variable of the coroutine, which was then heap against
// mapping. Also: the descriptor is the coroutine's own (not its worker's),
// it is reused by the next coroutine, and errno is its own.
// env: OPENCORO_WORKERS=2
// timeout: 30
// link: yes
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include "check.h"
#include "../../preload/opencoro.h"

static pthread_t worker_self;
static uintptr_t seen[2];

static void *probe(void *arg) {
    int local = 0;
    uintptr_t self = (uintptr_t)pthread_self();
    uintptr_t here = (uintptr_t)&local;
    // The descriptor is above the frames, within the stack's top pages.
    CHECKF(self > here && self - here < (64 << 10), "pthread_self %#lx, a local at %#lx", (unsigned long)self,
           (unsigned long)here);
    CHECK(!pthread_equal(pthread_self(), worker_self));
    errno = 1234;
    opencoro_yield();
    CHECK(errno == 1234);
    seen[(intptr_t)arg] = self;
    return arg;
}

int main(void) {
    worker_self = pthread_self();
    for (intptr_t i = 0; i < 2; i++) {
        opencoro_task *t = opencoro_spawn(probe, (void *)i, 0);
        CHECK(t != NULL);
        void *r = NULL;
        CHECK(opencoro_join(t, &r) == 0 && r == (void *)i);
    }
    CHECK(seen[0] == seen[1]); // the finished one's block, reused
    printf("descriptors on their coroutines' stacks\n");
    return 0;
}
