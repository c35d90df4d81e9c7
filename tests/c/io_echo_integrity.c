// Integrity of blocking socket I/O under load: an echo server (blocking
// accept in one coroutine, one coroutine per connection doing blocking
// recv/send) and CLIENTS client coroutines in the same process, all
// connected at once. Each client sends SIZE pseudo-random bytes (seeded by
// its number, in chunks of varying size, from a sender coroutine of its
// own), reads the echo and checks it byte for byte, then sees EOF once the
// server closes. Every return value is checked; mismatches are reported
// with client, offset and bytes. Default workers (one per CPU);
// io_echo_integrity_1w runs the same on one worker.
//
// Arguments: CLIENTS SIZE (the make-check size is 1000 clients x 256 KiB;
// 1000 x 1048576 is the full-size run).
// args: 1000 262144
// link: yes
// timeout: 120
#include "io_common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <opencoro.h>

#define BUF 16384

static long clients, size;
static struct sockaddr_in server;
static int listener;
static atomic_long served_bytes, failures, connected;

struct rng {
    uint64_t s;
};
static uint64_t next(struct rng *r) {
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1DULL;
}
static struct rng seeded(long id, uint64_t salt) { return (struct rng){((uint64_t)id + 1) * 0x9E3779B97F4A7C15ULL ^ salt}; }

/* The byte stream of client `id`: 8 bytes per generator step. */
struct stream {
    struct rng r;
    uint64_t word;
    int left;
};
static unsigned char stream_next(struct stream *s) {
    if (s->left == 0) {
        s->word = next(&s->r);
        s->left = 8;
    }
    unsigned char c = (unsigned char)s->word;
    s->word >>= 8;
    s->left--;
    return c;
}

static void fail(const char *fmt, long a, long b, const char *e) {
    if (atomic_fetch_add(&failures, 1) < 20) {
        printf(fmt, a, b, e);
        printf("\n");
    }
}

/* --- server */

static void *handle(void *arg) {
    int fd = (int)(intptr_t)arg;
    unsigned char *buf = malloc(BUF);
    CHECK(buf != NULL);
    for (;;) {
        ssize_t n = recv(fd, buf, BUF, 0);
        if (n < 0) {
            fail("server: recv on fd %ld: %ld %s", fd, n, ERRNAME(errno));
            break;
        }
        if (n == 0) break;
        ssize_t w = send(fd, buf, n, 0);
        if (w != n) {
            fail("server: send of %ld bytes returned %ld (%s)", n, w, w < 0 ? ERRNAME(errno) : "short");
            break;
        }
        atomic_fetch_add(&served_bytes, n);
    }
    free(buf);
    if (close(fd) != 0) fail("server: close of fd %ld: %ld %s", fd, -1, ERRNAME(errno));
    return NULL;
}

static void *acceptor(void *arg) {
    (void)arg;
    opencoro_task **hs = calloc(clients, sizeof *hs);
    CHECK(hs != NULL);
    for (long i = 0; i < clients; i++) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            fail("server: accept %ld: %ld %s", i, -1, ERRNAME(errno));
            continue;
        }
        hs[i] = opencoro_spawn(handle, (void *)(intptr_t)fd, 0);
        CHECK(hs[i] != NULL);
    }
    for (long i = 0; i < clients; i++)
        if (hs[i]) CHECK(opencoro_join(hs[i], NULL) == 0);
    free(hs);
    return NULL;
}

/* --- clients */

struct client {
    long id;
    int fd;
};

static void *sender(void *arg) {
    struct client *c = arg;
    unsigned char *buf = malloc(BUF);
    CHECK(buf != NULL);
    struct stream s = {seeded(c->id, 0), 0, 0};
    struct rng sizes = seeded(c->id, 0xABCDEF);
    long sent = 0;
    while (sent < size) {
        long chunk = 1 + (long)(next(&sizes) % BUF);
        if (chunk > size - sent) chunk = size - sent;
        for (long i = 0; i < chunk; i++) buf[i] = stream_next(&s);
        ssize_t w = write(c->fd, buf, chunk);
        if (w != chunk) {
            fail("client %ld: write of %ld bytes: %s", c->id, chunk, w < 0 ? ERRNAME(errno) : "short");
            break;
        }
        sent += chunk;
    }
    if (shutdown(c->fd, SHUT_WR) != 0) fail("client %ld: shutdown: %ld %s", c->id, -1, ERRNAME(errno));
    free(buf);
    return NULL;
}

static void *client(void *arg) {
    long id = (long)arg;
    struct client c = {id, socket(AF_INET, SOCK_STREAM, 0)};
    if (c.fd < 0) {
        fail("client %ld: socket: %ld %s", id, -1, ERRNAME(errno));
        return NULL;
    }
    if (connect(c.fd, (struct sockaddr *)&server, sizeof server) != 0) {
        fail("client %ld: connect: %ld %s", id, -1, ERRNAME(errno));
        close(c.fd);
        return NULL;
    }
    atomic_fetch_add(&connected, 1);
    opencoro_task *st = opencoro_spawn(sender, &c, 0);
    CHECK(st != NULL);
    unsigned char *buf = malloc(BUF);
    CHECK(buf != NULL);
    struct stream s = {seeded(id, 0), 0, 0};
    struct rng sizes = seeded(id, 0x123457);
    long got = 0;
    int reported = 0;
    for (;;) {
        long want = 1 + (long)(next(&sizes) % BUF);
        ssize_t n = read(c.fd, buf, want);
        if (n < 0) {
            fail("client %ld: read after %ld bytes: %s", id, got, ERRNAME(errno));
            break;
        }
        if (n == 0) break;
        for (ssize_t i = 0; i < n; i++) {
            unsigned char e = stream_next(&s);
            if (buf[i] != e && !reported) {
                reported = 1;
                char what[64];
                snprintf(what, sizeof what, "got 0x%02x, expected 0x%02x", buf[i], e);
                fail("client %ld: echo differs at offset %ld: %s", id, got + i, what);
            }
        }
        got += n;
    }
    if (got != size) fail("client %ld: %ld bytes echoed before EOF", id, got, size == got ? "" : "(short or long)");
    CHECK(opencoro_join(st, NULL) == 0);
    if (close(c.fd) != 0) fail("client %ld: close: %ld %s", id, -1, ERRNAME(errno));
    free(buf);
    return NULL;
}

int main(int argc, char **argv) {
    clients = argc > 1 ? atol(argv[1]) : 1000;
    size = argc > 2 ? atol(argv[2]) : 262144;
    CHECK(clients > 0 && size > 0);
    signal(SIGPIPE, SIG_IGN);

    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    rlim_t need = 2 * clients + 64;
    if (rl.rlim_cur < need) {
        CHECKF(rl.rlim_max >= need, "RLIMIT_NOFILE hard limit %lu < %lu fds needed", (unsigned long)rl.rlim_max,
               (unsigned long)need);
        rl.rlim_cur = need;
        CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    }

    listener = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(listener >= 0);
    server = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof server;
    CHECK(bind(listener, (struct sockaddr *)&server, sizeof server) == 0);
    CHECK(listen(listener, 4096) == 0);
    CHECK(getsockname(listener, (struct sockaddr *)&server, &len) == 0);

    double t0 = io_now_ms();
    opencoro_task *acc = opencoro_spawn(acceptor, NULL, 0);
    CHECK(acc != NULL);
    opencoro_task **cs = calloc(clients, sizeof *cs);
    CHECK(cs != NULL);
    for (long i = 0; i < clients; i++) CHECK((cs[i] = opencoro_spawn(client, (void *)i, 0)) != NULL);
    for (long i = 0; i < clients; i++) CHECK(opencoro_join(cs[i], NULL) == 0);
    CHECK(opencoro_join(acc, NULL) == 0);
    double ms = io_now_ms() - t0;
    fprintf(stderr, "%ld clients x %ld bytes echoed in %.0f ms\n", clients, size, ms);

    long f = atomic_load(&failures);
    CHECKF(f == 0, "%ld failures (first 20 above)", f);
    CHECKF(atomic_load(&connected) == clients, "%ld of %ld clients connected", atomic_load(&connected), clients);
    CHECKF(atomic_load(&served_bytes) == clients * size, "the server echoed %ld bytes, expected %ld",
           atomic_load(&served_bytes), clients * size);
    printf("%ld clients each sent %ld pseudo-random bytes and got them back intact\n", clients, size);
    CHECK(close(listener) == 0);
    return 0;
}
