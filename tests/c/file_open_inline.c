// Opens whose path the kernel resolves from its caches, of a regular file or
// a directory on a local file system, run on the coroutine: a green thread
// opens a file and a directory it has just looked at 200 times each, with no
// call sent to the blocking pool (the listener's blocking events), and with
// the lowest free fd each time, as natively. An open that creates
// (O_CREAT) still goes to the pool (counted once per open), and a FIFO
// opened by path still waits for its writer, another green thread, without
// blocking the one worker. Before the fix every open of a coroutine went to
// the pool: ripgrep made 55,885 pool calls over /usr/share and took 2x its
// native time.
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 20
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"

#define OPENS 200

static atomic_int blocking;
static void on_blocking(void *u, uint64_t t) { (void)u; (void)t; atomic_fetch_add(&blocking, 1); }

static char dir[64], file[96], fifo[96];

static void *opener(void *arg) {
    (void)arg;
    CHECK_ALL_GREEN();
    struct stat st;
    CHECK(stat(file, &st) == 0 && stat(dir, &st) == 0); /* now in the cache */
    int before = atomic_load(&blocking);
    int lowest = dup(0);
    CHECK(lowest >= 0);
    close(lowest);
    for (int i = 0; i < OPENS; i++) {
        int fd = open(file, O_RDONLY);
        CHECKF(fd == lowest, "open returned %d, the lowest free fd is %d", fd, lowest);
        char c;
        CHECK(read(fd, &c, 1) == 1 && c == 'x');
        close(fd);
        DIR *d = opendir(dir);
        CHECK(d != NULL);
        closedir(d);
        fd = openat(AT_FDCWD, file, O_RDONLY | O_CLOEXEC);
        CHECK(fd >= 0);
        close(fd);
    }
    int inline_pool = atomic_load(&blocking) - before;
    CHECKF(inline_pool == 0, "%d of %d cached opens went to the blocking pool", inline_pool, 3 * OPENS);
    printf("%d opens of a cached file and directory: none went to the blocking pool\n", 3 * OPENS);

    before = atomic_load(&blocking);
    char made[128];
    snprintf(made, sizeof made, "%s/made", dir);
    int fd = open(made, O_WRONLY | O_CREAT, 0600);
    CHECK(fd >= 0);
    close(fd);
    unlink(made);
    if (under_opencoro()) CHECKF(atomic_load(&blocking) - before == 1, "O_CREAT open: %d pool calls", atomic_load(&blocking) - before);
    printf("an open with O_CREAT went to the blocking pool\n");
    return NULL;
}

static void *fifo_writer(void *arg) {
    (void)arg;
    int fd = open(fifo, O_WRONLY); /* meets the reader's open */
    CHECK(fd >= 0);
    CHECK(write(fd, "f", 1) == 1);
    close(fd);
    return NULL;
}

int main(void) {
    void (*set_listener)(const opencoro_listener *, void *) =
        (void (*)(const opencoro_listener *, void *))dlsym(RTLD_DEFAULT, "opencoro_set_listener");
    static const opencoro_listener l = {.on_blocking = on_blocking};
    if (set_listener) set_listener(&l, NULL);

    strcpy(dir, "/tmp/file_open_inline_XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(file, sizeof file, "%s/f", dir);
    snprintf(fifo, sizeof fifo, "%s/p", dir);
    int fd = open(file, O_WRONLY | O_CREAT, 0600);
    CHECK(fd >= 0 && write(fd, "x", 1) == 1);
    close(fd);

    pthread_t t;
    CHECK(pthread_create(&t, NULL, opener, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);

    /* The FIFO: main opens it for reading (it blocks until the writer, a
     * green thread on the same worker, opens it). */
    CHECK(mkfifo(fifo, 0600) == 0);
    CHECK(pthread_create(&t, NULL, fifo_writer, NULL) == 0);
    fd = open(fifo, O_RDONLY);
    CHECK(fd >= 0);
    char c = 0;
    CHECK(read(fd, &c, 1) == 1 && c == 'f');
    close(fd);
    CHECK(pthread_join(t, NULL) == 0);
    printf("a FIFO opened by path waited for its writer\n");

    unlink(fifo);
    unlink(file);
    rmdir(dir);
    return 0;
}
