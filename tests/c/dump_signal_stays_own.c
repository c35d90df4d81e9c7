// OPENCORO_DUMP_SIGNAL loads the runtime at start-up, whose constructor
// installs the dump's handler; attached, the runtime takes over the
// handlers installed before it loaded (see front_lazy_load) but leaves its
// own as they are. Before the fix the dump's handler went behind the
// trampoline of the program's handlers too (a dump was then forwarded to
// main, and waited while main was held in a call): the kernel's handler
// for the dump signal was the same as for a handler of the program's.
// env: OPENCORO_DUMP_SIGNAL=SIGUSR2
// link: no
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

/* The handler the kernel has for `sig` (libc's sigaction is interposed). */
static void *kernel_handler(int sig) {
    struct { void *handler; unsigned long flags; void *restorer; unsigned long mask; } k;
    CHECK(syscall(SYS_rt_sigaction, sig, NULL, &k, 8) == 0);
    return k.handler;
}

static void on_usr1(int sig) {
    (void)sig;
}

static void *nothing(void *arg) {
    return arg;
}

int main(void) {
    void *dump = kernel_handler(SIGUSR2);
    CHECKF(dump != (void *)SIG_DFL, "no dump handler (is the library preloaded?)");
    pthread_t t;
    CHECK(pthread_create(&t, NULL, nothing, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    /* A handler of the program's, behind the runtime's trampoline. */
    CHECK(signal(SIGUSR1, on_usr1) != SIG_ERR);
    void *trampoline = kernel_handler(SIGUSR1);
    CHECKF(trampoline != (void *)on_usr1, "the program's handler is not behind the trampoline");
    CHECKF(kernel_handler(SIGUSR2) == dump, "the dump's handler changed at the first pthread_create");
    CHECKF(dump != trampoline, "the dump's handler is behind the program handlers' trampoline");
    printf("the dump's handler stays the runtime's own\n");
    return 0;
}
