// A call that waits and then succeeds leaves errno as the caller set it, as
// libc's does: sem_wait, a contended pthread_mutex_lock, pthread_cond_wait,
// pthread_join, read on an empty pipe, recv, accept, poll and sigwait, each
// on a green thread that suspended in it (one worker: main runs only once
// the waiter has suspended). The runtime's attempts before the wait (a
// sem_trywait, a non-blocking read) fail with EAGAIN, and the hook table
// keeps that errno from reaching the caller of a call that succeeded.
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 20
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "check.h"

#define MARK 4242

static sem_t sem;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready_flag;
static int fds[2], sp[2], lsock;
static pthread_t sleeper;

static void *sleep_a_little(void *arg) {
    (void)arg;
    usleep(20000);
    return NULL;
}

/* Each waiter: the call, after errno = MARK; returns 0 when it succeeded. */
static int w_sem(void) { return sem_wait(&sem); }
static int w_mutex(void) { int r = pthread_mutex_lock(&mu); pthread_mutex_unlock(&mu); return r; }
static int w_cond(void) {
    pthread_mutex_lock(&mu);
    int r = 0;
    while (!ready_flag && r == 0) r = pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return r;
}
static int w_join(void) { return pthread_join(sleeper, NULL); }
static int w_read(void) { char c; return read(fds[0], &c, 1) == 1 ? 0 : -1; }
static int w_recv(void) { char c; return recv(sp[0], &c, 1, 0) == 1 ? 0 : -1; }
static int w_accept(void) { int c = accept(lsock, NULL, NULL); if (c < 0) return -1; close(c); return 0; }
static int w_poll(void) { struct pollfd p = {fds[0], POLLIN, 0}; return poll(&p, 1, 5000) == 1 ? 0 : -1; }
static int w_sigwait(void) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    int sig = 0;
    return sigwait(&s, &sig) == 0 && sig == SIGUSR1 ? 0 : -1;
}

struct job {
    const char *name;
    int (*wait)(void);
    volatile int started;
    int result, err;
};

static void *waiter(void *arg) {
    struct job *j = arg;
    errno = MARK;
    j->started = 1;
    j->result = j->wait();
    j->err = errno;
    return NULL;
}

/* Starts the waiter and returns once it is inside its call: with one worker
 * main runs again only when the waiter has suspended (natively: soon). */
static pthread_t start(struct job *j) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, waiter, j) == 0);
    while (!j->started) sched_yield();
    if (!under_opencoro()) usleep(50000);
    CHECK_ALL_GREEN(); /* the waiter, inside its call, is no OS thread */
    return t;
}

static void finish(struct job *j, pthread_t t) {
    CHECK(pthread_join(t, NULL) == 0);
    CHECKF(j->result == 0, "%s failed (errno %d)", j->name, j->err);
    CHECKF(j->err == MARK, "errno after %s that waited: %d, not %d", j->name, j->err, MARK);
    printf("%s: errno kept\n", j->name);
}

int main(void) {
    CHECK_ON_RUNTIME();
    CHECK(sem_init(&sem, 0, 0) == 0);
    CHECK(pipe(fds) == 0);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    CHECK((lsock = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
    CHECK(bind(lsock, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(listen(lsock, 8) == 0);
    CHECK(getsockname(lsock, (struct sockaddr *)&a, &al) == 0);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    CHECK(pthread_sigmask(SIG_BLOCK, &usr1, NULL) == 0); /* inherited by the waiters */

    struct job j;
    pthread_t t;

    j = (struct job){"sem_wait", w_sem};
    t = start(&j);
    CHECK(sem_post(&sem) == 0);
    finish(&j, t);

    j = (struct job){"pthread_mutex_lock", w_mutex};
    pthread_mutex_lock(&mu);
    t = start(&j);
    pthread_mutex_unlock(&mu);
    finish(&j, t);

    j = (struct job){"pthread_cond_wait", w_cond};
    t = start(&j);
    pthread_mutex_lock(&mu);
    ready_flag = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    finish(&j, t);

    j = (struct job){"pthread_join", w_join};
    CHECK(pthread_create(&sleeper, NULL, sleep_a_little, NULL) == 0);
    t = start(&j);
    finish(&j, t);

    j = (struct job){"read", w_read};
    t = start(&j);
    CHECK(write(fds[1], "x", 1) == 1);
    finish(&j, t);

    j = (struct job){"recv", w_recv};
    t = start(&j);
    CHECK(send(sp[1], "x", 1, 0) == 1);
    finish(&j, t);

    j = (struct job){"accept", w_accept};
    t = start(&j);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(c >= 0 && connect(c, (struct sockaddr *)&a, sizeof a) == 0);
    finish(&j, t);
    close(c);

    j = (struct job){"poll", w_poll};
    t = start(&j);
    CHECK(write(fds[1], "y", 1) == 1);
    finish(&j, t);

    j = (struct job){"sigwait", w_sigwait};
    t = start(&j);
    CHECK(pthread_kill(t, SIGUSR1) == 0);
    finish(&j, t);
    return 0;
}
