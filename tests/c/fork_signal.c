// A child forked by a thread (a green thread under the library) receives a
// signal sent to it, and its handler (installed before the fork) runs and
// cuts its sleep short, as without the library; the parent's own handling
// goes on.
// native: same
// timeout: 15
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t hits;
static void on_usr1(int sig) {
    (void)sig;
    hits++;
}

static void *napper(void *arg) {
    (void)arg;
    usleep(300000);
    return NULL;
}

static int forker(void);
static void *run_forker(void *arg) {
    (void)arg;
    return (void *)(long)forker();
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t t, f;
    pthread_create(&t, NULL, napper, NULL);
    void *r;
    pthread_create(&f, NULL, run_forker, NULL);
    pthread_join(f, &r);
    kill(getpid(), SIGUSR1);
    usleep(50000);
    printf("parent: handler ran %d time(s)\n", (int)hits);
    pthread_join(t, NULL);
    return (int)(long)r;
}

static int forker(void) {
    int p[2];
    if (pipe(p) != 0) return 1;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        if (write(p[1], "r", 1) != 1) _exit(3);
        unsigned left = sleep(5);
        _exit(hits == 1 && left > 0 ? 0 : 2);
    }
    close(p[1]);
    char c;
    if (read(p[0], &c, 1) != 1) return 1;
    usleep(100000);
    kill(pid, SIGUSR1);
    int st = 0;
    waitpid(pid, &st, 0);
    printf("child: handler ran and cut its sleep short: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");
    return 0;
}
