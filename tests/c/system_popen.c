// Starting other programs from main: system() (posix_spawn of a shell),
// popen() and fork+exec+waitpid work, and their statuses come back.
// native: same
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    fflush(stdout);
    int st = system("echo from system; exit 3");
    printf("system status: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);

    FILE *p = popen("for i in 1 2 3; do echo line $i; done", "r");
    if (!p) return 1;
    char buf[64];
    int lines = 0;
    while (fgets(buf, sizeof buf, p)) {
        lines++;
        fputs(buf, stdout);
    }
    printf("popen lines: %d, pclose: %d\n", lines, pclose(p));

    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execlp("sh", "sh", "-c", "sleep 0.05; exit 4", (char *)NULL);
        _exit(127);
    }
    usleep(1000);
    if (waitpid(pid, &st, 0) != pid) return 2;
    printf("fork+exec status: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
