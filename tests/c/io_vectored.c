// Vectored and message I/O round trips with a ticker on the same worker:
// writev/readv on pipes (readv waits for data spread over its vectors); a
// writev of 1 MiB + 12345 bytes over 5 vectors to a pipe is written
// completely (one call, one return value) while a peer coroutine drains it
// with reads of odd sizes and checks every byte; sendmsg/recvmsg with
// vectors and an fd passed with SCM_RIGHTS, also inside a 1 MiB message;
// MSG_PEEK; UDP sendto/recvfrom with addresses.
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 30
#include "io_common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define BIG ((1 << 20) + 12345)

static unsigned char pat(long i) { return (unsigned char)((i * 2654435761u) >> 13); }

struct drain {
    int fd;
    long want;
    long got;
    long bad; /* first bad offset, or -1 */
    int fds_received;
    int use_recvmsg;
};

/* Reads until `want` bytes (or EOF), in sizes that cycle through odd
 * values, checking the pattern. With use_recvmsg, counts fds received. */
static void *drain(void *p) {
    struct drain *d = p;
    static unsigned char buf[70000];
    static const int sizes[] = {1, 7, 4096, 65536, 999, 70000, 3};
    d->bad = -1;
    for (int k = 0; d->got < d->want; k++) {
        size_t sz = sizes[k % 7];
        ssize_t n;
        if (d->use_recvmsg) {
            union {
                char b[CMSG_SPACE(sizeof(int) * 4)];
                struct cmsghdr align;
            } ctl;
            struct iovec v = {buf, sz};
            struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
            n = recvmsg(d->fd, &m, 0);
            if (n > 0)
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
                    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        int nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                        for (int i = 0; i < nfds; i++) close(((int *)CMSG_DATA(c))[i]);
                        d->fds_received += nfds;
                    }
        } else {
            n = read(d->fd, buf, sz);
        }
        CHECKF(n >= 0, "drain: %s", ERRNAME(errno));
        if (n == 0) break;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != pat(d->got + i) && d->bad < 0) d->bad = d->got + i;
        d->got += n;
    }
    return NULL;
}

/* Five vectors over `data`, of sizes that add up to BIG. */
static int five(struct iovec *v, unsigned char *data) {
    static const long sz[5] = {1, 300000, 0, 700000, BIG - 1000001};
    long off = 0;
    for (int i = 0; i < 5; i++) {
        v[i].iov_base = data + off;
        v[i].iov_len = sz[i];
        off += sz[i];
    }
    CHECK(off == BIG);
    return 5;
}

static struct sockaddr_in udp_to;
static void send_datagram(void *p) {
    int fd = (int)(intptr_t)p;
    CHECK(sendto(fd, "datagram", 8, 0, (struct sockaddr *)&udp_to, sizeof udp_to) == 8);
}

int main(void) {
    static unsigned char data[BIG];
    for (long i = 0; i < BIG; i++) data[i] = pat(i);
    char a[8], b[8], c[8];
    int p[2], sv[2];
    ssize_t n;
    io_ticker_start(2000);

    /* 1. writev/readv, small; readv waits for the data. */
    CHECK(pipe(p) == 0);
    struct iovec w3[3] = {{"abc", 3}, {"defgh", 5}, {"ij", 2}};
    CHECK(writev(p[1], w3, 3) == 10);
    struct iovec r3[3] = {{a, 2}, {b, 4}, {c, 8}};
    n = readv(p[0], r3, 3);
    CHECKF(n == 10 && memcmp(a, "ab", 2) == 0 && memcmp(b, "cdef", 4) == 0 && memcmp(c, "ghij", 4) == 0, "n=%zd", n);
    printf("writev 3+5+2, readv 2+4+8: 10 bytes in the right places\n");
    pthread_t t = io_write_after(100, p[1], "late vectors", 12);
    long k0 = io_ticks();
    n = readv(p[0], r3, 3);
    CHECKF(n == 12 && memcmp(a, "la", 2) == 0 && memcmp(b, "te v", 4) == 0 && memcmp(c, "ectors", 6) == 0, "n=%zd", n);
    CHECKF(io_ticks() - k0 >= 2, "ticker ticked %ld times while readv waited", io_ticks() - k0);
    io_wait(t);
    printf("readv waited for 12 bytes and spread them over its vectors\n");

    /* 2. A 1 MiB writev to a pipe, drained by a peer. */
    struct iovec v5[5];
    five(v5, data);
    struct drain d = {.fd = p[0], .want = BIG};
    io_task dt = io_spawn(drain, &d);
    k0 = io_ticks();
    n = writev(p[1], v5, 5);
    CHECKF(n == BIG, "writev of %d bytes returned %zd (%s)", BIG, n, n < 0 ? ERRNAME(errno) : "");
    io_join(dt);
    CHECKF(d.got == BIG && d.bad < 0, "the drain got %ld bytes, first bad byte at %ld", d.got, d.bad);
    printf("writev of 1 MiB + 12345 bytes to a pipe: all written, all read back intact\n");
    CHECK(close(p[0]) == 0 && close(p[1]) == 0);

    /* 3. sendmsg/recvmsg with vectors and SCM_RIGHTS. */
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    int extra[2];
    CHECK(pipe(extra) == 0);
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr m = {.msg_iov = w3, .msg_iovlen = 3, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &extra[1], sizeof(int));
    CHECK(sendmsg(sv[0], &m, 0) == 10);
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } rctl;
    struct msghdr rm = {.msg_iov = r3, .msg_iovlen = 3, .msg_control = rctl.b, .msg_controllen = sizeof rctl.b};
    n = recvmsg(sv[1], &rm, 0);
    CHECKF(n == 10 && memcmp(a, "ab", 2) == 0 && memcmp(b, "cdef", 4) == 0 && memcmp(c, "ghij", 4) == 0, "n=%zd", n);
    struct cmsghdr *rc = CMSG_FIRSTHDR(&rm);
    CHECK(rc && rc->cmsg_type == SCM_RIGHTS);
    int passed;
    memcpy(&passed, CMSG_DATA(rc), sizeof passed);
    CHECK(write(passed, "via passed fd", 13) == 13);
    char pb[32];
    CHECK(read(extra[0], pb, sizeof pb) == 13 && memcmp(pb, "via passed fd", 13) == 0);
    CHECK(close(passed) == 0);
    printf("sendmsg/recvmsg with vectors and SCM_RIGHTS: data and a working fd\n");

    /* recvmsg waits for the data. */
    t = io_write_after(100, sv[0], "waited msg", 10);
    k0 = io_ticks();
    rm.msg_controllen = sizeof rctl.b;
    n = recvmsg(sv[1], &rm, 0);
    CHECKF(n == 10 && memcmp(a, "wa", 2) == 0 && memcmp(b, "ited", 4) == 0 && memcmp(c, " msg", 4) == 0, "n=%zd", n);
    CHECKF(io_ticks() - k0 >= 2, "ticker ticked %ld times while recvmsg waited", io_ticks() - k0);
    io_wait(t);
    printf("recvmsg waited for its data\n");

    /* 4. A 1 MiB sendmsg carrying an fd, drained with recvmsg by a peer. */
    m.msg_iov = v5;
    m.msg_iovlen = 5;
    m.msg_controllen = sizeof ctl.b;
    d = (struct drain){.fd = sv[1], .want = BIG, .use_recvmsg = 1};
    dt = io_spawn(drain, &d);
    n = sendmsg(sv[0], &m, 0);
    CHECKF(n == BIG, "sendmsg of %d bytes returned %zd (%s)", BIG, n, n < 0 ? ERRNAME(errno) : "");
    io_join(dt);
    CHECKF(d.got == BIG && d.bad < 0 && d.fds_received == 1, "got %ld bytes, first bad at %ld, %d fds", d.got, d.bad,
           d.fds_received);
    printf("sendmsg of 1 MiB + 12345 bytes with an fd: all sent, all received intact, 1 fd\n");
    CHECK(close(extra[0]) == 0 && close(extra[1]) == 0);

    /* 5. MSG_PEEK (MSG_WAITALL: io_recv_waitall). */
    CHECK(send(sv[0], "peek", 4, 0) == 4);
    char buf[32];
    CHECK(recv(sv[1], buf, sizeof buf, MSG_PEEK) == 4);
    CHECK(recv(sv[1], buf, sizeof buf, 0) == 4 && memcmp(buf, "peek", 4) == 0);
    printf("MSG_PEEK then recv: the same 4 bytes\n");
    CHECK(close(sv[0]) == 0 && close(sv[1]) == 0);

    /* 6. UDP: recvfrom waits and reports the sender. */
    int us = socket(AF_INET, SOCK_DGRAM, 0), uc = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(us >= 0 && uc >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    CHECK(bind(us, (struct sockaddr *)&sa, sizeof sa) == 0 && getsockname(us, (struct sockaddr *)&sa, &sl) == 0);
    struct sockaddr_in ca = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t cl = sizeof ca;
    CHECK(bind(uc, (struct sockaddr *)&ca, sizeof ca) == 0 && getsockname(uc, (struct sockaddr *)&ca, &cl) == 0);
    udp_to = sa;
    t = io_after(100, send_datagram, (void *)(intptr_t)uc);
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    k0 = io_ticks();
    n = recvfrom(us, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    CHECKF(n == 8 && memcmp(buf, "datagram", 8) == 0, "recvfrom returned %zd", n);
    CHECKF(io_ticks() - k0 >= 2, "ticker ticked %ld times while recvfrom waited", io_ticks() - k0);
    CHECK(fl == sizeof from && from.sin_port == ca.sin_port && from.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
    io_wait(t);
    printf("UDP recvfrom waited and got the datagram and its sender's address\n");
    CHECK(close(us) == 0 && close(uc) == 0);

    io_ticker_stop();
    return 0;
}
