// No wrong byte from a file, whatever is in the page cache: green threads
// read and write one large file at random offsets with every read and write
// call (read, pread, readv, preadv, preadv2, fread, a mapping; write, pwrite,
// writev, pwritev), while the threads also evict random parts of it
// (fdatasync, then POSIX_FADV_DONTNEED) and two forked processes spin on
// both cores. The file holds a known pattern (writes write the pattern
// again): every byte read is compared with it, and a read of a regular file
// that returns fewer bytes than asked before the end of the file is an
// error, as natively it never happens. Before the fix, a read whose range
// was only partly cached came back short (RWF_NOWAIT returns the cached
// part): a JVM parsed zeros as class bytes. Under the library, the test
// also checks that its threads were coroutines (the listener's create
// events) and that calls went to the blocking pool (evicted data).
//
// Phase 1 reads and evicts, phase 2 reads and writes, then the whole
// file is read back from the disk (writes beside evictions make even a
// native read come back short now and then). A longer soak by hand:
//   LD_PRELOAD=target/release/libopencoro.so \
//       tests/c/build/io_file_integrity /var/tmp/integrity.bin 512 5000
// args: tests/c/build/io_file_integrity.data 24 150
// native: same
// (the C API is looked up with dlsym: not linked, so the run without the
// library is native)
// link: no
// timeout: 180
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "../../preload/opencoro.h"

#define THREADS 12
#define MAXLEN (384 << 10)

static const char *path;
static size_t size;
static int ops;
static const unsigned char *map;
static atomic_int failures, done_threads;
static pthread_barrier_t phase;
static atomic_long reads, writes, created, blocking;

static uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The pattern: byte i of the file. */
static inline unsigned char want(size_t i) { return (unsigned char)(mix(i >> 3) >> ((i & 7) * 8)); }

static void fill(unsigned char *b, size_t off, size_t len) {
    for (size_t i = 0; i < len; i++) b[i] = want(off + i);
}

static void compare(const char *how, const unsigned char *b, size_t off, size_t len, ssize_t got) {
    if (got != (ssize_t)len) {
        printf("%s at %zu: %zd of %zu bytes (%s)\n", how, off, got, len, got < 0 ? strerror(errno) : "short");
        atomic_fetch_add(&failures, 1);
        return;
    }
    for (size_t i = 0; i < len; i++)
        if (b[i] != want(off + i)) {
            printf("%s at %zu: wrong byte at %zu: %02x, not %02x\n", how, off, off + i, b[i], want(off + i));
            atomic_fetch_add(&failures, 1);
            return;
        }
    atomic_fetch_add(&reads, 1);
}

static void wrote(const char *how, size_t off, size_t len, ssize_t got) {
    if (got != (ssize_t)len) {
        printf("%s at %zu: %zd of %zu bytes (%s)\n", how, off, got, len, got < 0 ? strerror(errno) : "short");
        atomic_fetch_add(&failures, 1);
        return;
    }
    atomic_fetch_add(&writes, 1);
}

/* Three vectors over buf[0..len) with random splits. */
static void split(struct iovec v[3], unsigned char *buf, size_t len, uint64_t r) {
    size_t a = len ? r % (len + 1) : 0, b = len ? (r >> 20) % (len - a + 1) : 0;
    v[0] = (struct iovec){buf, a};
    v[1] = (struct iovec){buf + a, b};
    v[2] = (struct iovec){buf + a + b, len - a - b};
}

static void *worker(void *arg) {
    uint64_t seed = mix((uintptr_t)arg + 1);
    unsigned char *buf = malloc(MAXLEN), *pat = malloc(MAXLEN);
    CHECK(buf && pat);
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    struct iovec v[3];
    for (int i = 0; i < 2 * ops; i++) {
        if (i == ops) pthread_barrier_wait(&phase);
        uint64_t r = seed = mix(seed);
        size_t len = 1 + (r >> 8) % MAXLEN;
        size_t off = (r >> 32) % (size - len);
        /* phase 1: reads and evictions; phase 2: reads and writes */
        int op = r % 13;
        if (i < ops && op >= 7 && op <= 10) op -= 4;
        if (i >= ops && op > 10) op -= 8;
        memset(buf, 0, len);
        switch (op) {
        case 0:
            CHECK(lseek(fd, off, SEEK_SET) == (off_t)off);
            compare("read", buf, off, len, read(fd, buf, len));
            break;
        case 1: compare("pread", buf, off, len, pread(fd, buf, len, off)); break;
        case 2:
            CHECK(lseek(fd, off, SEEK_SET) == (off_t)off);
            split(v, buf, len, mix(r));
            compare("readv", buf, off, len, readv(fd, v, 3));
            break;
        case 3: split(v, buf, len, mix(r)); compare("preadv", buf, off, len, preadv(fd, v, 3, off)); break;
        case 4: split(v, buf, len, mix(r)); compare("preadv2", buf, off, len, preadv2(fd, v, 3, off, 0)); break;
        case 5:
            CHECK(fseeko(f, off, SEEK_SET) == 0);
            compare("fread", buf, off, len, (ssize_t)fread(buf, 1, len, f));
            break;
        case 6: memcpy(buf, map + off, len); compare("mmap", buf, off, len, len); break;
        case 7:
            fill(pat, off, len);
            CHECK(lseek(fd, off, SEEK_SET) == (off_t)off);
            wrote("write", off, len, write(fd, pat, len));
            break;
        case 8: fill(pat, off, len); wrote("pwrite", off, len, pwrite(fd, pat, len, off)); break;
        case 9:
            fill(pat, off, len);
            CHECK(lseek(fd, off, SEEK_SET) == (off_t)off);
            split(v, pat, len, mix(r));
            wrote("writev", off, len, writev(fd, v, 3));
            break;
        case 10: fill(pat, off, len); split(v, pat, len, mix(r)); wrote("pwritev", off, len, pwritev(fd, v, 3, off)); break;
        default:
            /* evict a range: written pages must be clean first */
            CHECK(fdatasync(fd) == 0);
            CHECK(posix_fadvise(fd, off & ~4095ul, len * 8, POSIX_FADV_DONTNEED) == 0);
            break;
        }
    }
    fclose(f);
    close(fd);
    free(buf);
    free(pat);
    atomic_fetch_add(&done_threads, 1);
    return NULL;
}

static void on_create(void *u, uint64_t t) { (void)u; (void)t; atomic_fetch_add(&created, 1); }
static void on_blocking(void *u, uint64_t t) { (void)u; (void)t; atomic_fetch_add(&blocking, 1); }

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    path = argc > 1 ? argv[1] : "io_file_integrity.data";
    size = (argc > 2 ? atol(argv[2]) : 24) << 20;
    ops = argc > 3 ? atoi(argv[3]) : 150;
    void (*set_listener)(const opencoro_listener *, void *) =
        (void (*)(const opencoro_listener *, void *))dlsym(RTLD_DEFAULT, "opencoro_set_listener");
    static const opencoro_listener l = {.on_create = on_create, .on_blocking = on_blocking};
    if (set_listener) set_listener(&l, NULL);

    /* the file, written with the pattern, then dropped from the cache */
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    unsigned char *chunk = malloc(1 << 20);
    for (size_t off = 0; off < size; off += 1 << 20) {
        fill(chunk, off, 1 << 20);
        CHECK(write(fd, chunk, 1 << 20) == 1 << 20);
    }
    free(chunk);
    CHECK(fsync(fd) == 0);
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
    map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(map != MAP_FAILED);

    /* load on both cores */
    pid_t spin[2];
    for (int i = 0; i < 2; i++) {
        spin[i] = fork();
        CHECK(spin[i] >= 0);
        if (spin[i] == 0)
            for (volatile unsigned long n = 0;; n++) {}
    }

    pthread_t t[THREADS];
    CHECK(pthread_barrier_init(&phase, NULL, THREADS) == 0);
    for (long i = 0; i < THREADS; i++) {
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 256 << 10);
        CHECK(pthread_create(&t[i], &a, worker, (void *)i) == 0);
        pthread_attr_destroy(&a);
    }
    for (int i = 0; i < THREADS; i++) CHECK(pthread_join(t[i], NULL) == 0);
    /* what the writes left: the whole file again, from the disk */
    CHECK(fdatasync(fd) == 0);
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
    unsigned char *all = malloc(size);
    CHECK(all != NULL);
    compare("read of the whole file", all, 0, size, pread(fd, all, size, 0));
    free(all);
    for (int i = 0; i < 2; i++) {
        kill(spin[i], SIGKILL);
        CHECK(waitpid(spin[i], NULL, 0) == spin[i]);
    }
    munmap((void *)map, size);
    close(fd);
    unlink(path);

    CHECK(atomic_load(&done_threads) == THREADS);
    printf("threads: %d, operations each: %d\n", THREADS, ops);
    printf("wrong or short: %d\n", atomic_load(&failures));
    CHECK(atomic_load(&reads) > 0 && atomic_load(&writes) > 0);
    if (set_listener) {
        /* main and the threads: green, and some calls met evicted data */
        CHECKF(atomic_load(&created) >= THREADS, "%ld coroutines created", atomic_load(&created));
        CHECKF(atomic_load(&blocking) > 0, "%ld calls on the blocking pool", atomic_load(&blocking));
    }
    return atomic_load(&failures) != 0;
}
