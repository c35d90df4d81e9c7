// A thread that waits in sigwait()/sigtimedwait() suspends only itself:
// main (on the same worker, and no spare to stand in for it) keeps running and sends
// the signals with kill(getpid(), ...); sigtimedwait times out with
// EAGAIN; sigwaitinfo reports the sender. Every thread blocks the signals
// (set before they start), as sigwait requires.
// native: same
// env: OPENCORO_WORKERS=1 OPENCORO_MAX_THREADS=1
// timeout: 20
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static volatile int ticks;

static void *waiter(void *arg) {
    sigset_t *set = arg;
    int sig = 0;
    int r = sigwait(set, &sig);
    printf("sigwait: %d, signal %s\n", r, sig == SIGUSR1 ? "SIGUSR1" : "other");
    siginfo_t info;
    r = sigwaitinfo(set, &info);
    printf("sigwaitinfo: %s, from this process: %s\n", r == SIGUSR2 ? "SIGUSR2" : "other", info.si_pid == getpid() ? "yes" : "no");
    struct timespec ts = {0, 20000000};
    r = sigtimedwait(set, &info, &ts);
    printf("sigtimedwait with nothing sent: %d (%s)\n", r, errno == EAGAIN ? "EAGAIN" : "?");
    fflush(stdout);
    return NULL;
}

int main(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_t t;
    pthread_create(&t, NULL, waiter, &set);
    for (int i = 0; i < 20; i++) { // main runs while the thread waits
        usleep(1000);
        ticks++;
    }
    kill(getpid(), SIGUSR1);
    usleep(20000);
    kill(getpid(), SIGUSR2);
    pthread_join(t, NULL);
    printf("main ticked while the thread waited: %s\n", ticks == 20 ? "yes" : "no");
    return 0;
}
