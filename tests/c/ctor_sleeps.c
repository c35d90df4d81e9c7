// A program's own constructors run before main, natively: the runtime is not
// running yet, so usleep/nanosleep there go straight to libc (no crash, no
// hang) and opencoro_active() is 0; main then runs as a coroutine.
// native: same
// (the C API is looked up with dlsym: not linked, so the run without the
// library is native)
// link: no
#include <dlfcn.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int active(void) {
    int (*f)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "opencoro_active");
    return f ? f() : -1;
}

static int ctor_active = 42;

__attribute__((constructor)) static void early(void) {
    usleep(1000);
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
    ctor_active = active();
}

int main(void) {
    int a = active();
    /* Without the library both lookups fail (-1); with it, 0 then 1. */
    printf("constructor slept; active in constructor: %s, in main: %s\n",
           ctor_active == 0 || ctor_active == -1 ? "no" : "yes",
           a == 1 || a == -1 ? "as expected" : "unexpected");
    return 0;
}
