// Regular-file I/O while peers share the worker: two coroutines each write
// a temporary file in 8 rounds (256 KiB with write, a 4 KiB pwrite back
// into it, then fsync or fdatasync), append with O_APPEND, drop it from the
// page cache (posix_fadvise DONTNEED) and read it all back (open by name,
// read in odd sizes, pread at offsets): every byte is right. A spinner
// coroutine that only yields shares the worker: under the library, fsync
// and fdatasync run on the blocking pool, so the spinner must have advanced
// while at least one of the 16 ran (checked only under the library; without
// it the output is the same).
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 30
#include "io_common.h"
#include <sys/stat.h>

#define ROUND (256 * 1024)
#define ROUNDS 8

static unsigned char pat(int who, long i) { return (unsigned char)(((i * 2654435761u) >> 11) + who * 77); }

struct job {
    int who;
    char name[256];
    int syncs, synced_while_spinning;
    long bad;
};

static void spin_check(long before, int *count, int *advanced) {
    (*count)++;
    if (io_spins() > before) (*advanced)++;
}

static void *work(void *p) {
    struct job *j = p;
    unsigned char *buf = malloc(ROUND); /* per coroutine: they share __thread data */
    CHECK(buf != NULL);
    j->bad = -1;
    int fd = io_tempfile(j->name, sizeof j->name, "fsync");
    for (int r = 0; r < ROUNDS; r++) {
        long base = (long)r * ROUND;
        for (long i = 0; i < ROUND; i++) buf[i] = pat(j->who, base + i);
        /* Write the round with a 4 KiB hole, then pwrite the hole. */
        CHECK(write(fd, buf, 8192) == 8192);
        CHECK(lseek(fd, 4096, SEEK_CUR) == base + 12288);
        CHECK(write(fd, buf + 12288, ROUND - 12288) == ROUND - 12288);
        CHECK(pwrite(fd, buf + 8192, 4096, base + 8192) == 4096);
        long before = io_spins();
        CHECKF((r % 2 ? fdatasync(fd) : fsync(fd)) == 0, "sync: %s", ERRNAME(errno));
        spin_check(before, &j->syncs, &j->synced_while_spinning);
    }
    CHECK(close(fd) == 0);

    /* Append. */
    fd = open(j->name, O_WRONLY | O_APPEND);
    CHECKF(fd >= 0, "open O_APPEND: %s", ERRNAME(errno));
    CHECK(write(fd, "tail", 4) == 4);
    CHECK(close(fd) == 0);

    /* Read it all back. */
    fd = open(j->name, O_RDONLY);
    CHECKF(fd >= 0, "open O_RDONLY: %s", ERRNAME(errno));
    /* Out of the page cache (the data is on disk: synced above), so that
     * the reads miss it: RWF_NOWAIT says EAGAIN and, under the library,
     * they go to the blocking pool. */
    CHECK(fdatasync(fd) == 0);
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == (long)ROUNDS * ROUND + 4);
    static const int sizes[] = {1, 4095, 65536, 100000, 7};
    long off = 0;
    for (int k = 0;; k++) {
        ssize_t n = read(fd, buf, sizes[k % 5]);
        CHECKF(n >= 0, "read: %s", ERRNAME(errno));
        if (n == 0) break;
        for (ssize_t i = 0; i < n; i++) {
            long at = off + i;
            unsigned char want = at < (long)ROUNDS * ROUND ? pat(j->who, at) : (unsigned char)"tail"[at - (long)ROUNDS * ROUND];
            if (buf[i] != want && j->bad < 0) j->bad = at;
        }
        off += n;
    }
    CHECKF(off == st.st_size, "read %ld of %ld bytes", off, (long)st.st_size);
    for (long at = 3; at < (long)ROUNDS * ROUND; at += 123457) {
        unsigned char c;
        CHECK(pread(fd, &c, 1, at) == 1);
        if (c != pat(j->who, at) && j->bad < 0) j->bad = at;
    }
    CHECK(close(fd) == 0);
    CHECK(unlink(j->name) == 0);
    free(buf);
    return NULL;
}

int main(void) {
    static struct job jobs[2];
    io_spinner_start();
    io_task t[2];
    for (int i = 0; i < 2; i++) {
        jobs[i].who = i;
        t[i] = io_spawn(work, &jobs[i]);
    }
    for (int i = 0; i < 2; i++) io_join(t[i]);
    io_spinner_stop();
    int syncs = 0, spun = 0;
    for (int i = 0; i < 2; i++) {
        struct job *j = &jobs[i];
        CHECKF(j->bad < 0, "writer %d: first bad byte at %ld", i, j->bad);
        printf("writer %d: %d rounds written and synced, appended, read back intact\n", i, ROUNDS);
        syncs += j->syncs;
        spun += j->synced_while_spinning;
    }
    /* A call that the pool finishes before the coroutine has suspended
     * lets nothing else run, so only "at least one" is certain. */
    if (io_runtime()) CHECKF(spun >= 1, "the spinner advanced during %d of %d syncs", spun, syncs);
    return 0;
}
