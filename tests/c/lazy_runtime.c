// A process that has no second coroutine never meets the runtime: after a
// sleep, a yield, a pipe read and a mutex, a single-threaded program sees
// the same fds in /proc/self/fd, the same Threads: count, the default
// SIGSEGV, SIGBUS and SIGURG dispositions, no alternate signal stack and
// one malloc arena as natively (before: two workers, a monitor, four fds
// and three handlers from the start; then a second arena, made by worker
// 0's loop on its own descriptor, with a 64 MiB reservation), and main is
// no coroutine yet: the runtime counts no live coroutine and no coroutine
// stack (before: main's, 8 MiB). Its first pthread_create starts the runtime, and the
// threads it makes are green.
// native: same
// env: OPENCORO_WORKERS=2
// link: no
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <stdint.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

static int fds[2];

/* The malloc arenas in existence: malloc_info lists each as a <heap>. */
static int arenas(void) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK(f != NULL);
    CHECK(malloc_info(0, f) == 0);
    CHECK(fclose(f) == 0);
    int n = 0;
    for (char *p = buf; (p = strstr(p, "<heap nr=")); p++) n++;
    free(buf);
    return n;
}

/* The runtime's live coroutines and their stacks' bytes (0 and 0 without
 * the library). */
static void coroutines(uint64_t *live, uint64_t *stack_bytes) {
    uint64_t t[6] = {0};
    int (*stats)(uint64_t *, void *, int) = (int (*)(uint64_t *, void *, int))dlsym(RTLD_DEFAULT, "opencoro_stats");
    if (stats) CHECK(stats(t, NULL, 0) >= 0);
    *live = t[2];
    *stack_bytes = t[4];
}

/* The fds the program made (3 and 4, its pipe) and how many lie above 1000
 * (the runtime puts its own high; those inherited from the caller are not
 * printed, they vary). */
static void show(const char *when) {
    DIR *d = opendir("/proc/self/fd");
    CHECK(d != NULL);
    int own = dirfd(d), high = 0, pipe_fds = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd == own) continue;
        high += fd > 1000;
        pipe_fds += fd == fds[0] || fd == fds[1];
    }
    closedir(d);
    printf("%s: its pipe's fds %d, fds above 1000: %d", when, pipe_fds, high);
    struct sigaction segv, bus, urg;
    CHECK(sigaction(SIGSEGV, NULL, &segv) == 0 && sigaction(SIGBUS, NULL, &bus) == 0 && sigaction(SIGURG, NULL, &urg) == 0);
    stack_t ss;
    CHECK(sigaltstack(NULL, &ss) == 0);
    uint64_t live, stack_bytes;
    coroutines(&live, &stack_bytes);
    printf("; coroutines %llu, their stacks %llu bytes", (unsigned long long)live, (unsigned long long)stack_bytes);
    printf("; threads %d; SIGSEGV %s, SIGBUS %s, SIGURG %s; altstack %s; malloc arenas %d\n", os_threads(),
           segv.sa_handler == SIG_DFL ? "default" : "handled", bus.sa_handler == SIG_DFL ? "default" : "handled",
           urg.sa_handler == SIG_DFL ? "default" : "handled", ss.ss_flags & SS_DISABLE ? "none" : "set", arenas());
}

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static void *reader(void *arg) {
    char b;
    CHECK(read(fds[0], &b, 1) == 1);
    return arg;
}

int main(void) {
    usleep(1000);
    sched_yield();
    CHECK(pipe(fds) == 0);
    CHECK(write(fds[1], "a", 1) == 1);
    char b;
    CHECK(read(fds[0], &b, 1) == 1);
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    show("alone");
    pthread_t t[8];
    for (int i = 0; i < 8; i++) CHECK(pthread_create(&t[i], NULL, reader, NULL) == 0);
    usleep(20000);
    CHECK_GREEN(8, 2 + 3);
    CHECK(write(fds[1], "abcdefgh", 8) == 8);
    for (int i = 0; i < 8; i++) CHECK(pthread_join(t[i], NULL) == 0);
    printf("8 threads joined\n");
    return 0;
}
