// Threads and processes made with clone() directly, beside a pthread (so
// the library's runtime has company):
// - a CLONE_VM thread without its own TLS (it shares main's thread
//   pointer, so it sees main's thread-locals, the runtime's included)
//   calls write() and nanosleep(), and forks a child that exits 6: these
//   must simply run, on that thread;
// - a process made by libc's clone() without CLONE_VM and one made by
//   syscall(SYS_clone) (no fork handlers run in either) sleep, write and
//   exit with a status the parent reaps.
// native: same
// timeout: 20
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static atomic_int done;
static int fds[2];
static int forked_status = -1;

static void *sleeper(void *arg) {
    (void)arg;
    while (!atomic_load(&done)) usleep(1000);
    return NULL;
}

static int raw_thread(void *arg) {
    (void)arg;
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
    pid_t p = fork();
    if (p == 0) _exit(6);
    int st = 0;
    if (p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st)) forked_status = WEXITSTATUS(st);
    const char *m = "raw thread wrote";
    write(fds[1], m, strlen(m));
    atomic_store(&done, 1);
    syscall(SYS_exit, 0);
    return 0;
}

static int raw_process(void *arg) {
    usleep(2000);
    printf("%s: child runs\n", (const char *)arg);
    fflush(stdout);
    return 5;
}

int main(void) {
    pthread_t t;
    pthread_create(&t, NULL, sleeper, NULL);
    if (pipe(fds) != 0) return 1;

    size_t sz = 256 * 1024;
    char *stack = malloc(sz);
    int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
    if (clone(raw_thread, stack + sz, flags, NULL) < 0) return 2;
    char buf[64] = {0};
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    while (!atomic_load(&done)) usleep(1000);
    printf("main read %zd bytes: %s; its fork's child exited %d\n", n, buf, forked_status);
    pthread_join(t, NULL);
    usleep(20000); // the raw thread has exited by now

    fflush(stdout);
    char *pstack = malloc(sz);
    pid_t p = clone(raw_process, pstack + sz, SIGCHLD, "clone()");
    int st = 0;
    if (p < 0 || waitpid(p, &st, 0) != p) return 3;
    printf("clone() child exited %d\n", WEXITSTATUS(st));

    fflush(stdout);
    long r = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (r == 0) {
        _exit(raw_process("syscall(SYS_clone)"));
    }
    if (r < 0 || waitpid((pid_t)r, &st, 0) != r) return 4;
    printf("syscall(SYS_clone) child exited %d\n", WEXITSTATUS(st));
    return 0;
}
