// main alone (a plain function: no thread, so not a task of the runtime)
// ends with pthread_exit(): its cleanup handler runs and the process exits
// with status 0, as natively. The unwinding must stop above main's frame:
// the library's own frame below main cannot be unwound through.
// native: same
// timeout: 10
#include <pthread.h>
#include <stdio.h>

static void cleanup(void *arg) {
    printf("cleanup handler: %s\n", (const char *)arg);
    fflush(stdout);
}

int main(void) {
    pthread_cleanup_push(cleanup, "runs");
    printf("main calls pthread_exit\n");
    fflush(stdout);
    pthread_exit(NULL);
    pthread_cleanup_pop(0);
    return 2;
}
