/* http_epoll_server.c: the hand-written epoll HTTP/1.1 keep-alive "hello"
 * server of scripts/bench-peers, run natively (no library).
 *
 *   http_epoll_server
 *
 * Built like scripts/bench/epoll_server.c: one thread, one epoll set,
 * level-triggered, every socket non-blocking, accept4 until EAGAIN,
 * TCP_NODELAY on every connection. For each readable connection one read()
 * of up to 4 KiB; the requests completed in it are counted (the ends of
 * their headers, "\r\n\r\n", by a state machine kept per connection; no
 * request bodies) and answered with one write() of as many copies of the
 * fixed "Hello, World!" response, as every HTTP server of the suite does
 * (see http_server.c). Only when the socket cannot take the answer whole
 * does the rest wait in a per-connection buffer, with EPOLLOUT watched and
 * reading paused until it is out.
 *
 * Listens on 127.0.0.1 on a port the kernel picks and prints one line
 * "LISTEN port=P pid=N mode=epoll" on stdout. It runs until killed (an
 * alarm ends it after ECHO_SERVER_LIFETIME seconds, default 600).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define RESPONSE "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!"
#define RLEN (sizeof RESPONSE - 1)
#define BATCH 64
#define BUF 4096
#define MAXEV 1024

struct conn {
    int state;        /* bytes of "\r\n\r\n" matched so far */
    char *pending;    /* unsent rest of an answer (NULL: none) */
    size_t off, len;
    long owed;        /* responses counted but not yet put in pending */
};

static struct conn *conns;
static size_t nconns;
static int ep;
static char responses[BATCH * RLEN];

static int count_requests(const char *buf, ssize_t n, int *state)
{
    static const char end[4] = { '\r', '\n', '\r', '\n' };
    int s = *state, k = 0;
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == end[s]) {
            if (++s == 4) { k++; s = 0; }
        } else {
            s = buf[i] == '\r';
        }
    }
    *state = s;
    return k;
}

static int watch(int fd, uint32_t events, int op)
{
    struct epoll_event ev = { .events = events, .data.fd = fd };
    return epoll_ctl(ep, op, fd, &ev);
}

static void drop(int fd)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    if ((size_t)fd < nconns)
        conns[fd] = (struct conn){ 0 }; /* pending points at the shared copy */
    close(fd);
}

/* Writes the responses owed on fd until done or the socket is full (then
 * the unsent part of the current batch is kept and EPOLLOUT watched).
 * Returns -1 if fd died. */
static int answer(int fd)
{
    struct conn *c = &conns[fd];
    for (;;) {
        if (!c->pending) {
            if (c->owed == 0)
                return 0;
            long b = c->owed < BATCH ? c->owed : BATCH;
            c->owed -= b;
            c->off = 0;
            c->len = (size_t)b * RLEN;
            c->pending = responses; /* not owned: the shared copy */
        }
        while (c->off < c->len) {
            ssize_t w = write(fd, c->pending + c->off, c->len - c->off);
            if (w > 0) { c->off += (size_t)w; continue; }
            if (w < 0 && errno == EINTR) continue;
            if (w < 0 && errno == EAGAIN)
                return watch(fd, EPOLLOUT, EPOLL_CTL_MOD);
            return -1;
        }
        c->pending = NULL;
    }
}

int main(void)
{
    for (int i = 0; i < BATCH; i++)
        memcpy(responses + i * RLEN, RESPONSE, RLEN);
    const char *life = getenv("ECHO_SERVER_LIFETIME");
    alarm(life ? (unsigned)atoi(life) : 600);
    signal(SIGPIPE, SIG_IGN);

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        if (rl.rlim_cur < rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
            getrlimit(RLIMIT_NOFILE, &rl);
        }
        nconns = rl.rlim_cur > (1u << 20) ? (1u << 20) : rl.rlim_cur;
    }
    if (nconns < 1024)
        nconns = 1024;
    conns = calloc(nconns, sizeof *conns);
    ep = epoll_create1(EPOLL_CLOEXEC);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (!conns || ep < 0 || lfd < 0) { perror("http_epoll_server: set-up"); return 1; }
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 65535) || getsockname(lfd, (struct sockaddr *)&a, &al)
        || watch(lfd, EPOLLIN, EPOLL_CTL_ADD)) {
        perror("http_epoll_server: bind/listen");
        return 1;
    }
    printf("LISTEN port=%d pid=%d mode=epoll\n", ntohs(a.sin_port), (int)getpid());
    fflush(stdout);

    struct epoll_event evs[MAXEV];
    char buf[BUF];
    for (;;) {
        int n = epoll_wait(ep, evs, MAXEV, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("http_epoll_server: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                for (;;) {
                    int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (c < 0) {
                        if (errno == EINTR || errno == ECONNABORTED) continue;
                        if (errno != EAGAIN)
                            perror("http_epoll_server: accept4");
                        break;
                    }
                    if ((size_t)c >= nconns || watch(c, EPOLLIN, EPOLL_CTL_ADD)) {
                        close(c);
                        continue;
                    }
                    conns[c] = (struct conn){ 0 };
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                }
                continue;
            }
            struct conn *c = &conns[fd];
            if (c->pending) { /* EPOLLOUT: the rest of an answer */
                if (answer(fd)) { drop(fd); continue; }
                if (!c->pending && watch(fd, EPOLLIN, EPOLL_CTL_MOD)) drop(fd);
                continue;
            }
            ssize_t r = read(fd, buf, sizeof buf);
            if (r > 0) {
                c->owed += count_requests(buf, r, &c->state);
                if (answer(fd))
                    drop(fd);
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                drop(fd);
            }
        }
    }
}
