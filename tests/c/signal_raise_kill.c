// raise() runs the handler on the calling thread before raise returns (also
// from a green thread); kill(getpid(), ...) from a thread runs the handler
// once, somewhere in the process, before the sender's next sleep ends;
// pthread_kill() to a sleeping thread runs the handler on that thread.
// native: same
// timeout: 20
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static atomic_int usr1, usr2, alrm;
static __thread int ran_here;

static void on_usr1(int s) { (void)s; usr1++; ran_here = 1; }
static void on_usr2(int s) { (void)s; usr2++; }
static void on_alrm(int s) { (void)s; alrm++; ran_here = 1; }

static void *raiser(void *arg) {
    (void)arg;
    raise(SIGUSR1);
    int here = ran_here;
    kill(getpid(), SIGUSR2);
    usleep(20000);
    printf("thread: raise ran the handler here before returning: %s; kill's handler ran: %d\n", here ? "yes" : "no", usr2);
    return NULL;
}

static void *target(void *arg) {
    (void)arg;
    for (int i = 0; i < 100 && !ran_here; i++) usleep(1000);
    return (void *)(long)ran_here;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    sa.sa_handler = on_alrm;
    sigaction(SIGALRM, &sa, NULL);

    raise(SIGUSR1);
    printf("main: raise ran the handler: %s\n", usr1 == 1 && ran_here ? "yes" : "no");
    pthread_t t;
    pthread_create(&t, NULL, raiser, NULL);
    pthread_join(t, NULL);

    pthread_t s;
    void *r;
    ran_here = 0;
    pthread_create(&s, NULL, target, NULL);
    usleep(5000);
    pthread_kill(s, SIGALRM);
    pthread_join(s, &r);
    printf("pthread_kill: handler ran on the target thread: %s, main's flag untouched: %s\n", r ? "yes" : "no", ran_here ? "no" : "yes");
    printf("counts: usr1 %d, usr2 %d, alrm %d\n", usr1, usr2, alrm);
    return 0;
}
