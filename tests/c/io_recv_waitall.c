// recv, recvfrom and recvmsg with MSG_WAITALL, as libc's. On a blocking
// stream socket they return only once they have everything they asked for,
// even when the data comes in parts (a plain thread sends 10 bytes at once
// and 10 more once the receiver waits for them: under the library, once it
// registered its wait) and the call has to wait more than once; at EOF,
// and when SO_RCVTIMEO expires, they return what they got. With MSG_PEEK
// the data is not consumed, so it must not be received twice (AF_UNIX
// returns what is there, TCP waits for all of it). recvmsg gets an fd
// passed with the second part. On datagram and seqpacket sockets
// MSG_WAITALL has no effect: one message is returned at once. (A ticker
// shares the worker, so the calls take the coroutine path; the calls that
// could wait for ever come last, under a watchdog.)
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 20
#include "io_common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

static void send_first(void *p) { CHECK(write((int)(intptr_t)p, "0123456789", 10) == 10); }
static void send_second(void *p) { CHECK(write((int)(intptr_t)p, "abcdefghij", 10) == 10); }

/* After the first part, the receiver waits for the rest (under the
 * library: it registers a wait after the first part came). */
static void send_parts(void *p) {
    unsigned long long base = fd_waits_registered();
    send_first(p);
    wait_fd_waits(base, 1);
    send_second(p);
}

static void send_part_and_close(void *p) {
    int fd = (int)(intptr_t)p;
    unsigned long long base = fd_waits_registered();
    send_first(p);
    wait_fd_waits(base, 1);
    CHECK(close(fd) == 0);
}

static void drain(int fd) {
    char b[256];
    while (recv(fd, b, sizeof b, MSG_DONTWAIT) > 0) {
    }
}

/* recv(fd, 20, flags) under a watchdog; prints the count and the bytes. */
static void show(int fd, int flags, const char *what) {
    char buf[32] = {0};
    io_watchdog(2000, what);
    errno = 0;
    ssize_t n = recv(fd, buf, 20, flags);
    int e = errno;
    io_watchdog_cancel();
    if (n < 0) printf("%s: -1 %s\n", what, ERRNAME(e));
    else printf("%s: %zd \"%.*s\"\n", what, n, (int)n, buf);
}

static void tcp_pair(int *c, int *a) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    CHECK(l >= 0 && bind(l, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(l, 1) == 0 &&
          getsockname(l, (struct sockaddr *)&addr, &len) == 0);
    *c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(*c >= 0 && connect(*c, (struct sockaddr *)&addr, sizeof addr) == 0);
    *a = accept(l, NULL, NULL);
    CHECK(*a >= 0 && close(l) == 0);
}

int main(void) {
    int sv[2];
    char buf[32];
    ssize_t n;
    io_ticker_start(2000);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);

    /* 1. Two parts, the second once the receiver waits: recv, recvfrom, recvmsg. */
    for (int how = 0; how < 3; how++) {
        const char *name = how == 0 ? "recv" : how == 1 ? "recvfrom" : "recvmsg";
        memset(buf, 0, sizeof buf);
        pthread_t t = io_after(how == 0 ? 50 : 0, send_parts, (void *)(intptr_t)sv[0]);
        io_watchdog(3000, name);
        if (how == 0) {
            n = recv(sv[1], buf, 20, MSG_WAITALL);
        } else if (how == 1) {
            n = recvfrom(sv[1], buf, 20, MSG_WAITALL, NULL, NULL);
        } else {
            struct iovec v[2] = {{buf, 5}, {buf + 5, 15}};
            struct msghdr m = {.msg_iov = v, .msg_iovlen = 2};
            n = recvmsg(sv[1], &m, MSG_WAITALL);
        }
        io_watchdog_cancel();
        io_wait(t);
        printf("%s MSG_WAITALL of 20 bytes sent as 10 + 10: %zd \"%s\"\n", name, n, buf);
        drain(sv[1]);
    }

    /* 2. SO_RCVTIMEO 100 ms, only 10 bytes come: the 10 after the timeout. */
    struct timeval tv = {0, 100000};
    CHECK(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
    io_wait(io_after(0, send_first, (void *)(intptr_t)sv[0]));
    double s = io_now_ms();
    show(sv[1], MSG_WAITALL, "recv MSG_WAITALL of 20 bytes, 10 sent, SO_RCVTIMEO 100 ms");
    double ms = io_now_ms() - s;
    CHECKF(ms >= 100 && ms < 1500, "returned after %.0f ms", ms);
    tv.tv_usec = 0;
    CHECK(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);

    /* 3. MSG_PEEK | MSG_WAITALL on AF_UNIX: what is there, not twice. */
    io_wait(io_after(0, send_first, (void *)(intptr_t)sv[0]));
    pthread_t t = io_after(100, send_second, (void *)(intptr_t)sv[0]);
    show(sv[1], MSG_PEEK | MSG_WAITALL, "AF_UNIX recv MSG_PEEK|MSG_WAITALL of 20 bytes, 10 there");
    io_wait(t);
    show(sv[1], MSG_WAITALL, "then recv MSG_WAITALL of 20");

    /* 4. recvmsg MSG_WAITALL where the second part carries an fd. */
    CHECK(send(sv[0], "0123456789", 10, 0) == 10);
    int extra[2];
    CHECK(pipe(extra) == 0);
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl, rctl;
    memset(&ctl, 0, sizeof ctl);
    memset(&rctl, 0, sizeof rctl);
    struct iovec v = {"abcdefghij", 10};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &extra[1], sizeof(int));
    CHECK(sendmsg(sv[0], &m, 0) == 10);
    memset(buf, 0, sizeof buf);
    struct iovec rv = {buf, 20};
    struct msghdr rm = {.msg_iov = &rv, .msg_iovlen = 1, .msg_control = rctl.b, .msg_controllen = sizeof rctl.b};
    io_watchdog(2000, "recvmsg with an fd");
    n = recvmsg(sv[1], &rm, MSG_WAITALL);
    io_watchdog_cancel();
    struct cmsghdr *rc = CMSG_FIRSTHDR(&rm);
    int got_fd = rc && rc->cmsg_type == SCM_RIGHTS;
    printf("recvmsg MSG_WAITALL of 20 bytes, an fd with the second 10: %zd \"%s\", fd received %d, msg_flags 0x%x\n", n,
           buf, got_fd, rm.msg_flags);
    if (got_fd) {
        int fd;
        memcpy(&fd, CMSG_DATA(rc), sizeof fd);
        CHECK(close(fd) == 0);
    }
    CHECK(close(extra[0]) == 0 && close(extra[1]) == 0);
    drain(sv[1]);

    /* 5. EOF after 10 bytes. */
    memset(buf, 0, sizeof buf);
    t = io_after(0, send_part_and_close, (void *)(intptr_t)sv[0]);
    show(sv[1], MSG_WAITALL, "recv MSG_WAITALL of 20 bytes, 10 sent then EOF");
    io_wait(t);
    CHECK(close(sv[1]) == 0);

    /* 6. TCP: MSG_PEEK | MSG_WAITALL waits for all 20, without consuming. */
    int c, a;
    tcp_pair(&c, &a);
    io_wait(io_after(0, send_first, (void *)(intptr_t)a));
    t = io_after(100, send_second, (void *)(intptr_t)a);
    show(c, MSG_PEEK | MSG_WAITALL, "TCP recv MSG_PEEK|MSG_WAITALL of 20 bytes sent as 10 + 10");
    io_wait(t);
    show(c, MSG_WAITALL, "then recv MSG_WAITALL of 20");
    CHECK(close(c) == 0 && close(a) == 0);

    /* 7. Datagrams: one message, at once. */
    int u = socket(AF_INET, SOCK_DGRAM, 0), uc = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ua = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t ul = sizeof ua;
    CHECK(u >= 0 && uc >= 0 && bind(u, (struct sockaddr *)&ua, sizeof ua) == 0 &&
          getsockname(u, (struct sockaddr *)&ua, &ul) == 0);
    CHECK(sendto(uc, "datagram", 8, 0, (struct sockaddr *)&ua, sizeof ua) == 8);
    show(u, MSG_WAITALL, "UDP recv MSG_WAITALL of 20 bytes, one 8-byte datagram");
    CHECK(close(u) == 0 && close(uc) == 0);
    CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
    CHECK(send(sv[0], "packet", 6, 0) == 6);
    show(sv[1], MSG_WAITALL, "SOCK_SEQPACKET recv MSG_WAITALL of 20 bytes, one 6-byte packet");
    CHECK(close(sv[0]) == 0 && close(sv[1]) == 0);

    io_ticker_stop();
    return 0;
}
