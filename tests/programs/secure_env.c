/* Linked against libopencoro.so (absolute rpath) and run set-user-ID to
 * another user by scripts/run-programs.sh: in secure-execution mode
 * (AT_SECURE) the library must ignore the OPENCORO_* environment, which is
 * the invoking user's. Prints AT_SECURE and whether main is a coroutine
 * (the run sets OPENCORO=0, which would turn the runtime off). */
#include <stdio.h>
#include <sys/auxv.h>
#include "opencoro.h"

int main(void) {
    printf("secure %lu active %d\n", getauxval(AT_SECURE), opencoro_active());
    return 0;
}
