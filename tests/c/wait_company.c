// A thread wakes main and then waits in waitpid() for a child that itself
// waits for main: the wait must not hold up main (under the library the
// thread and main may share one worker: OPENCORO_WORKERS=1 below). Also
// wait(), wait4() and waitid() on children, and WNOHANG answering at once.
// native: same
// env: OPENCORO_WORKERS=1
// timeout: 20
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static sem_t ready;
static pid_t child;
static int status = -1;

static void *reaper(void *arg) {
    (void)arg;
    sem_post(&ready); // main becomes runnable...
    int st = 0;       // ...and must run while this thread waits
    if (waitpid(child, &st, 0) == child && WIFEXITED(st)) status = WEXITSTATUS(st);
    return NULL;
}

static pid_t spawn_exit(int code, int usec) {
    pid_t p = fork();
    if (p == 0) {
        usleep(usec);
        _exit(code);
    }
    return p;
}

int main(void) {
    int fds[2];
    if (pipe(fds) != 0) return 1;
    sem_init(&ready, 0, 0);
    fflush(stdout);
    child = fork();
    if (child == 0) {
        char c;
        close(fds[1]);
        _exit(read(fds[0], &c, 1) == 1 ? c : 99);
    }
    close(fds[0]);
    pthread_t t;
    pthread_create(&t, NULL, reaper, NULL);
    sem_wait(&ready);
    usleep(50000); // the reaper sits in waitpid now
    char c = 42;
    if (write(fds[1], &c, 1) != 1) return 2;
    pthread_join(t, NULL);
    printf("reaper saw the child exit with %d\n", status);

    int st = 0;
    pid_t p = spawn_exit(5, 50000);
    printf("WNOHANG before it ends: %d\n", waitpid(p, &st, WNOHANG));
    pid_t w = wait(&st);
    printf("wait: %s, status %d\n", w == p ? "that child" : "another", WEXITSTATUS(st));
    struct rusage ru;
    p = spawn_exit(6, 1000);
    w = wait4(p, &st, 0, &ru);
    printf("wait4: %s, status %d\n", w == p ? "that child" : "another", WEXITSTATUS(st));
    siginfo_t si = {0};
    p = spawn_exit(7, 1000);
    int r = waitid(P_PID, (id_t)p, &si, WEXITED);
    printf("waitid: %d, pid matches %d, status %d\n", r, si.si_pid == p, si.si_status);
    errno = 0;
    w = waitpid(-1, &st, 0);
    printf("no children left: %d (%s)\n", w, errno == ECHILD ? "ECHILD" : "?");
    return 0;
}
