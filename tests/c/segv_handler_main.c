// A SIGSEGV handler the program installs in main catches its own faults,
// in main and in code main calls after a sleep.
// native: same
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static sigjmp_buf env;

static void on_segv(int sig, siginfo_t *si, void *ctx) {
    (void)sig; (void)ctx;
    siglongjmp(env, si->si_addr == (void *)16 ? 1 : 2);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    for (int i = 0; i < 3; i++) {
        int r = sigsetjmp(env, 1);
        if (r == 0) {
            usleep(100);
            *(volatile int *)16 = 1;
            printf("not reached\n");
        } else {
            printf("fault %d caught at the right address: %s\n", i, r == 1 ? "yes" : "no");
        }
    }
    return 0;
}
