// The library a program preloads, libopencoro.so, is a small front that
// maps the runtime (libopencoro_runtime.so) only at the process's first
// company. Before it, a process that installs signal handlers and creates
// a pthread key (as grep and bash do) has the front's few pages mapped
// and no runtime (before: the whole runtime, about 900 KiB, in every
// process). At the first pthread_create the runtime loads, and takes over
// what the process did before: the handler installed with sigaction goes
// behind the runtime's trampoline (the kernel's handler is no longer the
// program's, sigaction still reports the program's), a signal sent to the
// process from a green thread runs its handler on main, and the key's
// destructor runs when a green thread ends. The threads are green.
// link: no
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

/* Bytes mapped from files named libopencoro*, and whether the runtime is
 * among them. */
static unsigned long mapped(int *runtime) {
    FILE *f = fopen("/proc/self/maps", "r");
    CHECK(f != NULL);
    char line[1024];
    unsigned long total = 0;
    *runtime = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (!strstr(line, "/libopencoro") || sscanf(line, "%lx-%lx", &lo, &hi) != 2) continue;
        total += hi - lo;
        if (strstr(line, "libopencoro_runtime.so")) *runtime = 1;
    }
    fclose(f);
    return total;
}

static __thread int on_main;
static volatile sig_atomic_t usr1_ran, usr1_on_main;
static void on_usr1(int sig) {
    (void)sig;
    usr1_on_main = on_main;
    usr1_ran = 1;
}

static volatile int destroyed;
static void dtor(void *v) {
    CHECK(v == (void *)&destroyed);
    __atomic_add_fetch(&destroyed, 1, __ATOMIC_SEQ_CST);
}

static pthread_key_t key;
static int go[2];

static void *worker(void *arg) {
    (void)arg;
    CHECK(pthread_setspecific(key, (void *)&destroyed) == 0);
    char c;
    CHECK(read(go[0], &c, 1) == 1);
    return NULL;
}

static void *signaller(void *arg) {
    (void)arg;
    CHECK(kill(getpid(), SIGUSR1) == 0);
    return NULL;
}

/* The handler the kernel has for `sig` (a raw rt_sigaction: libc's
 * sigaction is interposed). */
static void *kernel_handler(int sig) {
    struct { void *handler; unsigned long flags; void *restorer; unsigned long mask; } k;
    CHECK(syscall(SYS_rt_sigaction, sig, NULL, &k, 8) == 0);
    return k.handler;
}

int main(void) {
    on_main = 1;
    CHECK(pipe(go) == 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    CHECK(pthread_key_create(&key, dtor) == 0);

    int runtime;
    unsigned long bytes = mapped(&runtime);
    CHECKF(bytes > 0, "libopencoro.so is not mapped (not preloaded?)");
    CHECKF(!runtime, "the runtime is mapped before the process has company");
    CHECKF(bytes <= 256 * 1024, "%lu KiB of libopencoro mapped in a lone process", bytes / 1024);
    CHECK(kernel_handler(SIGUSR1) == (void *)on_usr1);
    printf("alone: the front only\n");

    pthread_t t[8];
    for (int i = 0; i < 8; i++) CHECK(pthread_create(&t[i], NULL, worker, NULL) == 0);
    CHECK_ALL_GREEN();
    CHECK(write(go[1], "gogogogo", 8) == 8);
    for (int i = 0; i < 8; i++) CHECK(pthread_join(t[i], NULL) == 0);
    mapped(&runtime);
    CHECKF(runtime, "no runtime after the first pthread_create");
    CHECKF(destroyed == 8, "the key's destructor ran %d times for 8 green threads", destroyed);
    printf("company: the runtime, 8 green threads, 8 destructors\n");

    struct sigaction now;
    CHECK(sigaction(SIGUSR1, NULL, &now) == 0);
    CHECKF(now.sa_handler == on_usr1, "sigaction reports another handler than the program's");
    CHECKF(kernel_handler(SIGUSR1) != (void *)on_usr1, "the handler installed before the runtime loaded is not behind its trampoline");
    pthread_t s;
    CHECK(pthread_create(&s, NULL, signaller, NULL) == 0);
    CHECK(pthread_join(s, NULL) == 0);
    for (int i = 0; i < 1000 && !usr1_ran; i++) usleep(1000);
    CHECKF(usr1_ran && usr1_on_main, "SIGUSR1 from a green thread: handler ran %d, on main %d", (int)usr1_ran, (int)usr1_on_main);
    printf("SIGUSR1 from a green thread: handled on main\n");
    return 0;
}
