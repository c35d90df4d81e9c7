// Run by scripts/run-programs.sh with and without libopencoro.so: a
// thread-per-connection TCP echo server on 127.0.0.1 (port chosen by the
// kernel) and 2,000 client threads (64 KiB stacks) in the same process. All
// 2,000 connections and their 2,000 server threads are open at once (a
// barrier of 4,000) before any data flows; each client then sends a few KiB
// derived from its index in several writes, reads the echo back until EOF
// and checks it byte for byte. Prints counts and a checksum (no timings);
// exits 1 on any mismatch or error.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define CLIENTS 2000
#define CLIENT_STACK (64 * 1024)

static int listener;
static struct sockaddr_in addr;
static pthread_barrier_t all_open; // CLIENTS clients + CLIENTS server threads
static pthread_t servers[CLIENTS];
static atomic_int clients_ok, mismatches;
static atomic_ullong bytes_checked, bytes_echoed, checksum;

static void die(const char *what) {
    printf("error: %s: %s\n", what, strerror(errno));
    fflush(stdout);
    _exit(1);
}

static uint32_t next(uint32_t *s) { // xorshift32
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static size_t length_of(int i) { return 2048 + (size_t)(((uint32_t)i * 2654435761u) >> 7) % 4096; }

static void fill(int i, unsigned char *buf, size_t n) {
    uint32_t s = 0x9E3779B9u ^ (uint32_t)(i + 1) * 40503u;
    for (size_t k = 0; k < n; k++) buf[k] = (unsigned char)(next(&s) >> 11);
}

static void write_all(int fd, const unsigned char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            die("write");
        }
        p += w;
        n -= (size_t)w;
    }
}

static void *serve(void *arg) {
    int fd = (int)(intptr_t)arg;
    int rc = pthread_barrier_wait(&all_open);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) die("barrier (server)");
    unsigned char buf[4096];
    unsigned long long total = 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0) {
            if (errno == EINTR) continue;
            die("read (server)");
        }
        if (r == 0) break;
        write_all(fd, buf, (size_t)r);
        total += (unsigned long long)r;
    }
    close(fd);
    atomic_fetch_add(&bytes_echoed, total);
    return NULL;
}

static void *acceptor(void *arg) {
    (void)arg;
    for (int i = 0; i < CLIENTS; i++) {
        int fd;
        do fd = accept(listener, NULL, NULL);
        while (fd < 0 && errno == EINTR);
        if (fd < 0) die("accept");
        int rc = pthread_create(&servers[i], NULL, serve, (void *)(intptr_t)fd); // default stack
        if (rc != 0) {
            errno = rc;
            die("pthread_create (server)");
        }
    }
    for (int i = 0; i < CLIENTS; i++) pthread_join(servers[i], NULL);
    return NULL;
}

static void *client(void *arg) {
    int i = (int)(intptr_t)arg;
    size_t n = length_of(i);
    unsigned char *sent = malloc(n), *got = malloc(n + 1);
    if (!sent || !got) die("malloc");
    fill(i, sent, n);

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) die("connect");
    int rc = pthread_barrier_wait(&all_open);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) die("barrier (client)");

    // several writes of sizes derived from the index
    uint32_t s = (uint32_t)i * 7919u + 17u;
    size_t off = 0;
    while (off < n) {
        size_t chunk = 1 + next(&s) % 1500;
        if (chunk > n - off) chunk = n - off;
        write_all(fd, sent + off, chunk);
        off += chunk;
    }
    if (shutdown(fd, SHUT_WR) != 0) die("shutdown");

    size_t have = 0;
    for (;;) {
        ssize_t r = read(fd, got + have, n + 1 - have);
        if (r < 0) {
            if (errno == EINTR) continue;
            die("read (client)");
        }
        if (r == 0) break;
        have += (size_t)r;
        if (have > n) break; // more than was sent: a mismatch
    }
    close(fd);
    if (have == n && memcmp(sent, got, n) == 0) {
        uint64_t h = 1469598103934665603ull; // FNV-1a of the echo
        for (size_t k = 0; k < n; k++) h = (h ^ got[k]) * 1099511628211ull;
        atomic_fetch_add(&clients_ok, 1);
        atomic_fetch_add(&bytes_checked, (unsigned long long)n);
        atomic_fetch_add(&checksum, (unsigned long long)h);
    } else {
        atomic_fetch_add(&mismatches, 1);
        printf("client %d: echo of %zu bytes does not match (%zu bytes back)\n", i, n, have);
    }
    free(sent);
    free(got);
    return NULL;
}

int main(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) die("getrlimit");
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) die("setrlimit");
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 2 * CLIENTS + 64) {
        printf("error: RLIMIT_NOFILE hard limit %llu is below %d\n", (unsigned long long)rl.rlim_cur,
               2 * CLIENTS + 64);
        return 1;
    }

    listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0) die("socket");
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0) die("bind");
    if (getsockname(listener, (struct sockaddr *)&addr, &len) != 0) die("getsockname");
    if (listen(listener, 4096) != 0) die("listen");

    if (pthread_barrier_init(&all_open, NULL, 2 * CLIENTS) != 0) die("pthread_barrier_init");
    pthread_t acc;
    int rc = pthread_create(&acc, NULL, acceptor, NULL);
    if (rc != 0) {
        errno = rc;
        die("pthread_create (acceptor)");
    }

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (pthread_attr_setstacksize(&attr, CLIENT_STACK) != 0) die("pthread_attr_setstacksize");
    static pthread_t clients[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        rc = pthread_create(&clients[i], &attr, client, (void *)(intptr_t)i);
        if (rc != 0) {
            errno = rc;
            die("pthread_create (client)");
        }
    }
    pthread_attr_destroy(&attr);
    for (int i = 0; i < CLIENTS; i++) pthread_join(clients[i], NULL);
    pthread_join(acc, NULL);
    close(listener);
    pthread_barrier_destroy(&all_open);

    unsigned long long expected = 0;
    for (int i = 0; i < CLIENTS; i++) expected += length_of(i);
    printf("connections ok %d of %d, bytes checked %llu of %llu, bytes echoed by servers %llu, checksum %016llx\n",
           atomic_load(&clients_ok), CLIENTS, atomic_load(&bytes_checked), expected,
           atomic_load(&bytes_echoed), atomic_load(&checksum));
    if (atomic_load(&clients_ok) != CLIENTS || atomic_load(&mismatches) != 0 ||
        atomic_load(&bytes_echoed) != expected)
        return 1;
    return 0;
}
