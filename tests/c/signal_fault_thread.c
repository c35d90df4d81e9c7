// A synchronous fault runs its handler on the thread that faulted: a green
// thread catches its own SIGFPE (a division by zero), SIGILL (ud2) and
// SIGSEGV (a read of unmapped memory) with a handler that siglongjmps back,
// as instruction probing and runtimes that recover from faults do. Before,
// the trampoline forwarded them to main, like signals sent to the process.
// native: same
// timeout: 10
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "check.h"

static __thread sigjmp_buf jb;
static __thread volatile int armed;
static volatile int zero = 0;

static void on_fault(int sig) {
    if (!armed) {
        static const char m[] = "handler ran on a thread that did not fault\n";
        (void)!write(1, m, sizeof m - 1);
        _exit(3);
    }
    siglongjmp(jb, sig);
}

static void *probe(void *a) {
    armed = 1;
    int sig = sigsetjmp(jb, 1);
    if (sig == 0) {
        int q, d = zero;
        __asm__ volatile("cltd; idivl %1" : "=a"(q) : "r"(d), "a"(1) : "edx");
        printf("no fault? %d\n", q);
    } else {
        printf("thread: recovered from %s\n", sigabbrev_np(sig));
    }
    sig = sigsetjmp(jb, 1);
    if (sig == 0) __asm__ volatile("ud2");
    else printf("thread: recovered from %s\n", sigabbrev_np(sig));
    void *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(bad != MAP_FAILED);
    sig = sigsetjmp(jb, 1);
    if (sig == 0) printf("read %d?\n", *(volatile int *)bad);
    else printf("thread: recovered from %s\n", sigabbrev_np(sig));
    armed = 0;
    return a;
}

int main(void) {
    CHECK_ON_RUNTIME();
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fault;
    sa.sa_flags = SA_NODEFER;
    CHECK(sigaction(SIGFPE, &sa, NULL) == 0 && sigaction(SIGILL, &sa, NULL) == 0 && sigaction(SIGSEGV, &sa, NULL) == 0);
    company_start();
    pthread_t t;
    CHECK(pthread_create(&t, NULL, probe, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    company_end();
    printf("main: done\n");
    return 0;
}
