// opencoro_version() names the library's version, the one the header's
// OPENCORO_VERSION_* macros give, and the commit it was built from.
#include <stdio.h>
#include <string.h>
#include <opencoro.h>
#include "check.h"

int main(void) {
    const char *v = opencoro_version();
    CHECK(v != NULL);
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d (commit ", OPENCORO_VERSION_MAJOR, OPENCORO_VERSION_MINOR, OPENCORO_VERSION_PATCH);
    CHECKF(strncmp(v, want, strlen(want)) == 0, "opencoro_version() is \"%s\", the header says %s", v, want);
    CHECKF(v[strlen(v) - 1] == ')', "\"%s\"", v);
    printf("version matches the header\n");
    return 0;
}
