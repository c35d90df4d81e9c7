/* static_threads.c: built with -static by scripts/compat. Two threads, a
 * pipe between them and a sleep; exits 7. LD_PRELOAD does not apply to a
 * static binary, so it must behave exactly as without the library. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int fds[2];

static void *writer(void *arg) {
    (void)arg;
    struct timespec ts = {0, 5000000};
    nanosleep(&ts, NULL);
    const char *m = "through the pipe";
    return (void *)(long)write(fds[1], m, strlen(m));
}

int main(void) {
    if (pipe(fds) != 0) return 1;
    pthread_t t;
    pthread_create(&t, NULL, writer, NULL);
    char buf[64] = {0};
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    void *r;
    pthread_join(t, &r);
    printf("read %zd bytes: %s (writer wrote %ld)\n", n, buf, (long)r);
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    int mapped = 0;
    while (maps && fgets(line, sizeof line, maps)) mapped |= strstr(line, "libopencoro") != NULL;
    if (maps) fclose(maps);
    printf("library mapped: %s\n", mapped ? "yes" : "no");
    fflush(stdout);
    return 7;
}
