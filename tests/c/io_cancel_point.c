// Hooked calls stay cancellation points, as natively:
// 1. a green thread with a cancel pending (deferred; it cancels itself)
//    that calls read on a pipe with data, or write on a pipe with room, is
//    cancelled there and the call moves no byte (the data stays for main;
//    nothing reaches the second pipe). Before the fix the process aborted:
//    libc's call acted on the cancel under the hook's own frames.
// 2. green threads blocked in read (a pipe; a FIFO opened by path, which
//    takes no RWF_NOWAIT), recv (a socketpair), accept, poll, nanosleep,
//    pthread_cond_wait, pthread_join and sem_wait, all waiting in the
//    runtime
//    (their waits registered), are cancelled by main: their cleanup
//    handlers run (the condition waiter's with its mutex held again, which
//    the handler unlocks) and each joins with PTHREAD_CANCELED (before:
//    they kept waiting). The joiner's target stays joinable: main joins it.
// 3. no condition signal is lost to a cancel: a waiter that a signal woke
//    and a cancel hit before it ran keeps the signal and returns 0 (the
//    cancel acts at its next cancellation point), or, if the cancel ended
//    its wait first, the other waiter gets the signal. (A first version
//    of the fix acted on the cancel after the woken wait and lost the
//    signal: the other waiter slept on.)
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 20
#define _GNU_SOURCE
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static int rp[2], wp[2];
static volatile int reached;

static void *reader(void *arg) {
    (void)arg;
    CHECK_ALL_GREEN();
    char buf[16];
    CHECK(pthread_cancel(pthread_self()) == 0);
    reached = 1;
    ssize_t n = read(rp[0], buf, sizeof buf);
    printf("read returned %zd: not cancelled\n", n);
    return NULL;
}

static void *writer(void *arg) {
    (void)arg;
    CHECK(pthread_cancel(pthread_self()) == 0);
    reached = 2;
    ssize_t n = write(wp[1], "lost", 4);
    printf("write returned %zd: not cancelled\n", n);
    return NULL;
}

/* Part 2: each blocks in its call; the cleanup handler counts. */
#define BLOCKED 9
static volatile int cleaned[BLOCKED];
static int idle_pipe[2], sp[2], lfd, fifo;
static pthread_t join_target;
static pthread_mutex_t mu2 = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv2 = PTHREAD_COND_INITIALIZER;
static int cond_woke, cond_waiters;

static void unlock2(void *arg) { (void)arg; pthread_mutex_unlock(&mu2); }

static void *cond_waiter(void *arg) {
    (void)arg;
    pthread_mutex_lock(&mu2);
    cond_waiters++;
    pthread_cleanup_push(unlock2, NULL);
    while (!cond_woke) {
        pthread_cond_wait(&cv2, &mu2);
        cond_woke = 1; /* woken by the one signal (or spuriously: also fine) */
    }
    pthread_cleanup_pop(1);
    return NULL;
}
static sem_t sem;

static pthread_mutex_t mu = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP; /* unlock checks the owner */
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static volatile int cond_waiting;

static void cleanup(void *arg) {
    long i = (long)arg;
    if (i == 5) {
        /* the mutex is held again: this thread may unlock it */
        CHECKF(pthread_mutex_unlock(&mu) == 0, "the cancelled condition wait did not hold the mutex");
    }
    cleaned[i] = 1;
}

static void *blocker(void *arg) {
    long i = (long)arg;
    char buf[8];
    pthread_cleanup_push(cleanup, arg);
    switch (i) {
    case 0: read(idle_pipe[0], buf, sizeof buf); break;
    case 1: recv(sp[0], buf, sizeof buf, 0); break;
    case 2: accept(lfd, NULL, NULL); break;
    case 3: { struct pollfd p = {idle_pipe[0], POLLIN, 0}; poll(&p, 1, -1); break; }
    case 4: { struct timespec ts = {100, 0}; nanosleep(&ts, NULL); break; }
    case 5:
        pthread_mutex_lock(&mu);
        cond_waiting = 1;
        for (;;) pthread_cond_wait(&cv, &mu); /* never signalled */
    case 6: read(fifo, buf, sizeof buf); break;
    case 7: pthread_join(join_target, NULL); break;
    case 8: sem_wait(&sem); break;
    }
    printf("blocker %ld returned: not cancelled\n", i);
    pthread_cleanup_pop(0);
    return NULL;
}

int main(void) {
    CHECK(pipe(rp) == 0 && pipe(wp) == 0);
    CHECK(write(rp[1], "kept", 4) == 4);
    pthread_t t;
    void *res = NULL;

    CHECK(pthread_create(&t, NULL, reader, NULL) == 0);
    CHECK(pthread_join(t, &res) == 0);
    CHECKF(reached == 1 && res == PTHREAD_CANCELED, "reader: reached %d, result %p", reached, res);
    char buf[16];
    ssize_t n = read(rp[0], buf, sizeof buf);
    CHECKF(n == 4 && memcmp(buf, "kept", 4) == 0, "main read %zd bytes after the cancelled read", n);
    printf("read with a cancel pending: cancelled, the data stayed\n");

    CHECK(pthread_create(&t, NULL, writer, NULL) == 0);
    CHECK(pthread_join(t, &res) == 0);
    CHECKF(reached == 2 && res == PTHREAD_CANCELED, "writer: reached %d, result %p", reached, res);
    close(wp[1]);
    n = read(wp[0], buf, sizeof buf);
    CHECKF(n == 0, "the cancelled write wrote %zd bytes", n);
    printf("write with a cancel pending: cancelled, nothing written\n");

    CHECK(pipe(idle_pipe) == 0);
    char fifo_path[] = "/tmp/io_cancel_point_XXXXXX";
    CHECK(mkdtemp(fifo_path) != NULL);
    char fifo_file[64];
    snprintf(fifo_file, sizeof fifo_file, "%s/f", fifo_path);
    CHECK(mkfifo(fifo_file, 0600) == 0);
    fifo = open(fifo_file, O_RDWR); /* a writer of its own: no EOF */
    CHECK(fifo >= 0);
    unlink(fifo_file);
    rmdir(fifo_path);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(lfd, 4) == 0);
    CHECK(sem_init(&sem, 0, 0) == 0);
    pthread_t b[BLOCKED];
    unsigned long long base = fd_waits_registered();
    /* the joiner's target: blocked in a read of its own until cancelled */
    CHECK(pthread_create(&join_target, NULL, blocker, (void *)0) == 0);
    for (long i = 0; i < BLOCKED; i++) CHECK(pthread_create(&b[i], NULL, blocker, (void *)i) == 0);
    /* the six fd waits are registered (the sleeper, last on the one
     * worker, is in nanosleep by then or meets the cancel at its entry) */
    wait_fd_waits(base, 6);
    /* the condition waiter has the mutex until it waits */
    while (!cond_waiting) usleep(1000);
    CHECK(pthread_mutex_lock(&mu) == 0);
    CHECK(pthread_mutex_unlock(&mu) == 0);
    for (int i = 0; i < BLOCKED; i++) CHECK(pthread_cancel(b[i]) == 0);
    int cancelled = 0;
    for (int i = 0; i < BLOCKED; i++) {
        CHECK(pthread_join(b[i], &res) == 0);
        CHECKF(res == PTHREAD_CANCELED && cleaned[i], "blocker %d: result %p, cleanup %d", i, res, cleaned[i]);
        cancelled++;
    }
    printf("%d threads blocked in read (pipe, FIFO), recv, accept, poll, nanosleep, pthread_cond_wait, pthread_join and sem_wait: cancelled, cleanup handlers ran\n", cancelled);
    CHECK(pthread_cancel(join_target) == 0);
    CHECKF(pthread_join(join_target, &res) == 0 && res == PTHREAD_CANCELED, "the cancelled joiner's target: result %p", res);
    printf("the cancelled joiner's target stayed joinable\n");

    /* 3. Two condition waiters; main signals once and cancels the first
     * (woken) one before either runs (one worker: main does not yield in
     * between). One of them must return with the signal. */
    pthread_t w1, w2;
    cond_woke = 0;
    CHECK(pthread_create(&w1, NULL, cond_waiter, NULL) == 0);
    while (cond_waiters < 1) usleep(1000);
    CHECK(pthread_create(&w2, NULL, cond_waiter, NULL) == 0);
    while (cond_waiters < 2) usleep(1000);
    CHECK(pthread_mutex_lock(&mu2) == 0); /* both are inside the wait */
    CHECK(pthread_cond_signal(&cv2) == 0);
    CHECK(pthread_cancel(w1) == 0);
    CHECK(pthread_mutex_unlock(&mu2) == 0);
    CHECK(pthread_join(w1, &res) == 0);
    int woke = 0;
    for (int i = 0; i < 2000 && !woke; i++) {
        CHECK(pthread_mutex_lock(&mu2) == 0);
        woke = cond_woke;
        CHECK(pthread_mutex_unlock(&mu2) == 0);
        if (!woke) usleep(1000);
    }
    CHECKF(woke == 1, "the signal was lost (the first waiter %s, the other slept on)", res == PTHREAD_CANCELED ? "cancelled" : "returned");
    if (res != PTHREAD_CANCELED) pthread_cancel(w2); /* the first kept it */
    pthread_join(w2, NULL);
    printf("no condition signal was lost to a cancel\n");
    return 0;
}
