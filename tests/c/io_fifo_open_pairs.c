// 24 pairs of coroutines meet at 24 FIFOs: first every writer opens its
// FIFO O_WRONLY (each open waits until its reader comes), then every reader
// opens its FIFO O_RDONLY; each reader gets its writer's message. Without
// the library these are 48 threads and always meet. Under it the opens run
// on the blocking pool (16 threads by default): the 24 waiting writers' opens
// must not keep the readers' opens from ever running.
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 20
#include "io_common.h"

#define PAIRS 24

static char paths[PAIRS][300];

static void *writer(void *arg) {
    long i = (long)arg;
    int fd = open(paths[i], O_WRONLY);
    if (fd < 0) return (void *)-1L;
    char m[32];
    int len = snprintf(m, sizeof m, "message %ld", i);
    long r = write(fd, m, len) == len ? 1 : -1;
    close(fd);
    return (void *)r;
}

static void *reader(void *arg) {
    long i = (long)arg;
    int fd = open(paths[i], O_RDONLY);
    if (fd < 0) return (void *)-1L;
    char m[32], want[32];
    int len = snprintf(want, sizeof want, "message %ld", i);
    ssize_t n = read(fd, m, sizeof m);
    close(fd);
    return (void *)(long)(n == len && memcmp(m, want, len) == 0 ? 1 : -1);
}

static void remove_fifos(void) {
    for (int i = 0; i < PAIRS; i++) io_rmfifo(paths[i]);
}

int main(void) {
    for (int i = 0; i < PAIRS; i++) io_mkfifo(paths[i], sizeof paths[i]);
    io_watch_cleanup = remove_fifos;
    io_ticker_start(2000);
    io_task w[PAIRS], r[PAIRS];
    for (long i = 0; i < PAIRS; i++) w[i] = io_spawn(writer, (void *)i);
    usleep(100 * 1000); /* the writers are all waiting in open now */
    for (long i = 0; i < PAIRS; i++) r[i] = io_spawn(reader, (void *)i);
    io_watchdog(3000, "the 24 FIFO pairs");
    long ok = 0;
    for (int i = 0; i < PAIRS; i++) ok += (long)io_join(w[i]) == 1;
    for (int i = 0; i < PAIRS; i++) ok += (long)io_join(r[i]) == 1;
    io_watchdog_cancel();
    printf("%ld of %d FIFO opens, writes and reads went through\n", ok, 2 * PAIRS);
    io_watch_cleanup = NULL;
    remove_fifos();
    io_ticker_stop();
    return 0;
}
