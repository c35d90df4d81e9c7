// fork() from main: the child (which has no runtime threads) can still
// sleep, print and exit with a status; the parent waits for it and continues
// to sleep normally afterwards.
// native: same
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
        usleep(10000);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        printf("child slept\n");
        fflush(stdout);
        exit(9);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid) return 2;
    printf("child exited: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    usleep(1000);
    printf("parent slept\n");
    return 0;
}
