// A SIGALRM handler (run on main, which sleeps in usleep) sem_post()s a
// semaphore a green thread waits on with a plain sem_wait: each post must
// wake it. Before, a handler that ran while main was inside a hook of the
// runtime made its sem_post go straight to libc, which does not wake a
// waiter parked in the runtime: the thread waited for good.
// env: OPENCORO_PREEMPT=0
// native: same
// timeout: 20
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include "check.h"

static sem_t s;
static volatile sig_atomic_t posts;

static void on_alrm(int sig) {
    (void)sig;
    posts++;
    sem_post(&s);
}

static void *waiter(void *a) {
    for (int i = 0; i < 5; i++) {
        while (sem_wait(&s) != 0) {}
        printf("thread woken %d\n", i);
    }
    return a;
}

int main(void) {
    CHECK_ON_RUNTIME();
    setvbuf(stdout, NULL, _IONBF, 0);
    CHECK(sem_init(&s, 0, 0) == 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alrm;
    sa.sa_flags = SA_RESTART;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, waiter, NULL) == 0);
    struct itimerval it = {{0, 50000}, {0, 50000}};
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
    for (int i = 0; i < 100 && posts < 5; i++) usleep(20000);
    struct itimerval off = {{0, 0}, {0, 0}};
    CHECK(setitimer(ITIMER_REAL, &off, NULL) == 0);
    CHECK(posts >= 5);
    CHECK(pthread_join(t, NULL) == 0);
    printf("joined\n");
    return 0;
}
