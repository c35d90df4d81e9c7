// A signal that arrives while main blocks it (as nginx's master blocks SIGCHLD
// while busy) is delivered when sigsuspend lets it through, and ends that
// sigsuspend, as without the library.
// native: same
// timeout: 20
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
static volatile sig_atomic_t got;
static void h(int s) { (void)s; got = 1; }
int main(void)
{
    struct sigaction sa = { .sa_handler = h };
    sigaction(SIGCHLD, &sa, NULL);
    sigset_t block, empty;
    sigemptyset(&block); sigaddset(&block, SIGCHLD); sigemptyset(&empty);
    sigprocmask(SIG_BLOCK, &block, NULL);     /* as nginx's master does */
    for (int i = 0; i < 20; i++) {
        got = 0;
        pid_t p = fork();
        if (p == 0) { _exit(0); }
        for (volatile long k = 0; k < 30000000; k++) ; /* busy while the child exits */
        while (!got) sigsuspend(&empty);      /* returns after the handler */
        waitpid(p, NULL, 0);
    }
    printf("20 children reaped after sigsuspend\n");
    return 0;
}
