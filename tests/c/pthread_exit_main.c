// main may end with pthread_exit(): the process then lives on until its
// other threads finish, and exits with status 0 (thread-specific data
// destructors and cleanup handlers of main run).
// native: same
// timeout: 10
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#ifndef ALONE
static void *late(void *arg) {
    (void)arg;
    usleep(100000);
    printf("the other thread finishes after main's pthread_exit\n");
    fflush(stdout);
    return NULL;
}
#endif

static void cleanup(void *arg) {
    printf("cleanup handler: %s\n", (const char *)arg);
    fflush(stdout);
}

int main(void) {
#ifndef ALONE
    pthread_t t;
    if (pthread_create(&t, NULL, late, NULL) != 0) return 1;
#endif
    pthread_cleanup_push(cleanup, "runs");
    printf("main calls pthread_exit\n");
    fflush(stdout);
    pthread_exit(NULL);
    pthread_cleanup_pop(0);
    return 2;
}
