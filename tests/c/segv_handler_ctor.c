// A SIGSEGV handler installed before main (in a constructor, so before the
// runtime installs its overflow handler) still receives faults that are not
// coroutine stack overflows: the runtime passes them on (here to a handler
// installed with plain signal(), which exits with status 3).
// expect-status: 3
// expect-stderr-count: 0 opencoro:
// native: same
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static void on_segv(int sig) {
    static const char msg[] = "program's own handler\n";
    (void)sig;
    write(1, msg, sizeof msg - 1);
    _exit(3);
}

__attribute__((constructor)) static void install(void) { signal(SIGSEGV, on_segv); }

int main(void) {
    printf("faulting\n");
    fflush(stdout);
    usleep(100);
    *(volatile int *)0 = 1;
    printf("not reached\n");
    return 0;
}
