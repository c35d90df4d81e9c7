// OPENCORO_INHERIT=0: the library takes itself out of LD_PRELOAD at start,
// so what the program runs (system, posix_spawn, fork + execve with
// environ) runs without it, and the program's own getenv agrees.
// native: same
// env: OPENCORO_INHERIT=0
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define SHOW "case \"${LD_PRELOAD:-}\" in *opencoro*) echo \"$0: library inherited\";; *) echo \"$0: not inherited\";; esac"

int main(void) {
    const char *pre = getenv("LD_PRELOAD");
    printf("getenv: %s\n", pre && strstr(pre, "opencoro") ? "library listed" : "not listed");
    fflush(stdout);
    if (system("sh -c '" "case \"${LD_PRELOAD:-}\" in *opencoro*) echo system: library inherited;; *) echo system: not inherited;; esac" "'") != 0)
        return 1;
    pid_t pid;
    char *args[] = {"sh", "-c", SHOW, "posix_spawn", NULL};
    if (posix_spawn(&pid, "/bin/sh", NULL, NULL, args, environ) != 0) return 2;
    int st;
    waitpid(pid, &st, 0);
    pid = fork();
    if (pid == 0) {
        char *eargs[] = {"sh", "-c", SHOW, "execve", NULL};
        execve("/bin/sh", eargs, environ);
        _exit(127);
    }
    waitpid(pid, &st, 0);
    return 0;
}
