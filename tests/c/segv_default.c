// A fault that is not a stack overflow (a NULL write in main) still kills the
// program with SIGSEGV (status 139), with no opencoro line on stderr.
// expect-status: 139
// expect-stderr-count: 0 opencoro:
// native: same
#include <stdio.h>

int main(void) {
    printf("writing through NULL\n");
    fflush(stdout);
    *(volatile int *)0 = 1;
    printf("not reached\n");
    return 0;
}
