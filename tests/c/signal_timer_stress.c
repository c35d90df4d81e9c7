// A 1 ms timer signal beside traffic: SIGALRM every millisecond (setitimer)
// whose handler posts a semaphore and writes a byte to a pipe, while green
// threads consume the posts (sem_wait), drain the pipe, ping-pong over three
// socketpairs and take a mutex with a condition variable (100 us timed
// waits), and main sleeps in 100 ms steps. Every post must be consumed and
// every byte drained, with no crash and no hang. Before, the handler that
// forwarded the signal to main queued main's wake-up itself: it could
// interrupt the runtime in its own queues (RefCell already borrowed: abort)
// or its idle lock (a hang: every run hung here), and a post made while its
// coroutine was inside a hook went to libc and never woke the waiter.
// env: OPENCORO_WORKERS=1
// native: same
// timeout: 60
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static sem_t sem;
static int sp[2], sv[3][2];
static atomic_int handled, consumed, drained, stop;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long shared;

/* CLOCK_REALTIME `ns` from now, for the timed waits. */
static struct timespec realtime_in(long ns) {
    struct timespec d;
    clock_gettime(CLOCK_REALTIME, &d);
    d.tv_nsec += ns;
    if (d.tv_nsec >= 1000000000) {
        d.tv_sec++;
        d.tv_nsec -= 1000000000;
    }
    return d;
}

static void on_alrm(int sig) {
    (void)sig;
    int e = errno;
    atomic_fetch_add(&handled, 1);
#ifndef COUNT_ONLY
    sem_post(&sem);
    char b = 's';
    (void)!write(sp[1], &b, 1);
#endif
    errno = e;
}

#ifdef COUNT_ONLY
#define POSTS 0 /* the handler posts nothing */
#else
#define POSTS atomic_load(&handled)
#endif

static void *consumer(void *a) {
    while (!atomic_load(&stop) || atomic_load(&consumed) < POSTS) {
        struct timespec d = realtime_in(20000000);
        if (sem_timedwait(&sem, &d) == 0) atomic_fetch_add(&consumed, 1);
    }
    return a;
}

static void *drainer(void *a) {
    char buf[256];
    for (;;) {
        ssize_t n = read(sp[0], buf, sizeof buf);
        if (n > 0) atomic_fetch_add(&drained, (int)n);
        else if (n == 0) break;
        else CHECK(errno == EINTR);
    }
    return a;
}

static void *pinger(void *a) {
    int fd = (int)(long)a;
    char b = 'p';
    while (!atomic_load(&stop)) {
        CHECK(write(fd, &b, 1) == 1);
        CHECK(read(fd, &b, 1) == 1);
    }
    CHECK(shutdown(fd, SHUT_WR) == 0);
    return NULL;
}

static void *ponger(void *a) {
    int fd = (int)(long)a;
    char b;
    while (read(fd, &b, 1) == 1) CHECK(write(fd, &b, 1) == 1);
    return NULL;
}

static void *locker(void *a) {
    while (!atomic_load(&stop)) {
        pthread_mutex_lock(&mu);
        shared++;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&mu);
        pthread_mutex_lock(&mu);
        struct timespec d = realtime_in(100000);
        pthread_cond_timedwait(&cv, &mu, &d);
        pthread_mutex_unlock(&mu);
    }
    return a;
}

static void *waiter(void *a) {
    pthread_mutex_lock(&mu);
    while (!atomic_load(&stop)) {
        struct timespec d = realtime_in(5000000);
        pthread_cond_timedwait(&cv, &mu, &d);
    }
    pthread_mutex_unlock(&mu);
    return a;
}

int main(void) {
    CHECK_ON_RUNTIME();
    CHECK(sem_init(&sem, 0, 0) == 0);
    CHECK(pipe(sp) == 0);
    for (int i = 0; i < 3; i++) CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv[i]) == 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alrm;
    sa.sa_flags = SA_RESTART;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
    enum { N = 11 };
    pthread_t t[N];
    CHECK(pthread_create(&t[0], NULL, consumer, NULL) == 0);
    CHECK(pthread_create(&t[1], NULL, drainer, NULL) == 0);
    for (int i = 0; i < 3; i++) {
        CHECK(pthread_create(&t[2 + 2 * i], NULL, pinger, (void *)(long)sv[i][0]) == 0);
        CHECK(pthread_create(&t[3 + 2 * i], NULL, ponger, (void *)(long)sv[i][1]) == 0);
    }
    CHECK(pthread_create(&t[8], NULL, locker, NULL) == 0);
    CHECK(pthread_create(&t[9], NULL, locker, NULL) == 0);
    CHECK(pthread_create(&t[10], NULL, waiter, NULL) == 0);
    struct itimerval it = {{0, 1000}, {0, 1000}};
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += 2;
    for (;;) { /* main sleeps in short steps, as a server's ticker would */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec)) break;
        usleep(100000);
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    CHECK(setitimer(ITIMER_REAL, &off, NULL) == 0);
    atomic_store(&stop, 1);
    for (int i = 0; i < N; i++) {
        if (i == 1) continue;
        CHECK(pthread_join(t[i], NULL) == 0);
    }
    CHECK(close(sp[1]) == 0);
    CHECK(pthread_join(t[1], NULL) == 0);
    int h = atomic_load(&handled);
    CHECKF(h > 200, "only %d signals handled", h);
    CHECKF(atomic_load(&consumed) == POSTS, "%d posts, %d consumed", POSTS, atomic_load(&consumed));
    CHECKF(atomic_load(&drained) == POSTS, "%d bytes written, %d drained", POSTS, atomic_load(&drained));
    printf("every post consumed, every byte drained\n");
    return 0;
}
