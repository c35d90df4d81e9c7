// A thread wakes main (sem_post) and then blocks its worker in a call the
// runtime cannot convert (fgets: glibc's stdio reads with its internal
// read) on a pipe that only main will write to. With one worker, main was
// queued on that very worker: the spare that stands in for a blocked
// worker must be able to take main (its thread-locals are its own).
// native: same
// env: OPENCORO_WORKERS=1
// timeout: 20
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static sem_t ready;
static int fds[2];
static char line[64];

static void *reader(void *arg) {
    (void)arg;
    FILE *f = fdopen(fds[0], "r");
    if (!f) return (void *)1;
    sem_post(&ready); // main becomes runnable on this worker...
    if (!fgets(line, sizeof line, f)) return (void *)2; // ...which blocks here
    fclose(f);
    return NULL;
}

int main(void) {
    if (pipe(fds) != 0) return 1;
    sem_init(&ready, 0, 0);
    pthread_t t;
    pthread_create(&t, NULL, reader, NULL);
    sem_wait(&ready);
    const char *msg = "from main\n";
    if (write(fds[1], msg, strlen(msg)) != (ssize_t)strlen(msg)) return 2;
    void *r;
    pthread_join(t, &r);
    printf("reader: %s", r ? "failed\n" : line);
    return 0;
}
