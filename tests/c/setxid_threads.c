// setgid()/setuid() (to the ids the process already has) with threads
// alive, from main, from a thread and in a forked child: glibc signals
// every thread it knows (SIGSETXID) and waits for each; under the library
// those include the runtime's own threads, which must answer. (nginx's
// worker processes do this right after fork.)
// native: same
// timeout: 20
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int stop;

static void *sleeper(void *arg) {
    (void)arg;
    while (!stop) usleep(1000);
    return NULL;
}

static void *changer(void *arg) {
    (void)arg;
    return (void *)(long)(setgid(getgid()) == 0 && setuid(getuid()) == 0);
}

int main(void) {
    pthread_t t[4], c;
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, sleeper, NULL);
    usleep(20000);
    printf("main: setgid %d, setuid %d\n", setgid(getgid()), setuid(getuid()));
    void *r = NULL;
    pthread_create(&c, NULL, changer, NULL);
    pthread_join(c, &r);
    printf("thread: %s\n", r ? "ok" : "failed");
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        pthread_t s;
        pthread_create(&s, NULL, sleeper, NULL);
        usleep(10000);
        int ok = setgid(getgid()) == 0 && setuid(getuid()) == 0;
        stop = 1;
        pthread_join(s, NULL);
        _exit(ok ? 0 : 1);
    }
    int st = -1;
    waitpid(p, &st, 0);
    printf("child: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    stop = 1;
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    return 0;
}
