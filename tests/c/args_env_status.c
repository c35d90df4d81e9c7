// argv, envp and main's return value pass through the coroutine unchanged.
// args: alpha "beta gamma" 3 ""
// env: OC_TEST_VAR=hello=world OC_EMPTY=
// expect-status: 42
// native: same
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"

extern char **environ;

int main(int argc, char **argv, char **envp) {
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++) printf("argv[%d]=<%s>\n", i, argv[i]);
    CHECK(argv[argc] == NULL);
    CHECK(strstr(argv[0], "args_env_status") != NULL);
    CHECK(envp == environ);

    const char *v = getenv("OC_TEST_VAR");
    printf("OC_TEST_VAR=<%s>\n", v ? v : "(null)");
    v = getenv("OC_EMPTY");
    printf("OC_EMPTY=<%s>\n", v ? v : "(null)");
    int seen = 0;
    for (char **e = envp; *e; e++)
        if (strcmp(*e, "OC_TEST_VAR=hello=world") == 0) seen++;
    printf("in envp: %d\n", seen);
    CHECK(setenv("OC_NEW", "x", 1) == 0 && strcmp(getenv("OC_NEW"), "x") == 0);
    fflush(stdout);
    return 42;
}
