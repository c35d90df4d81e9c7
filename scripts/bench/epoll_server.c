/* epoll_server.c: the hand-written baseline echo server of scripts/bench.sh,
 * run natively (no library).
 *
 *   epoll_server
 *
 * One thread, one epoll set, level-triggered, every socket non-blocking.
 * Listens on 127.0.0.1 on a port the kernel picks and prints one line
 * "LISTEN port=P pid=N mode=epoll" on stdout. For each readable connection
 * it makes one read() of up to 4 KiB and writes it straight back; only when
 * the socket cannot take it all (never, for 64-byte ping-pong) does it keep
 * the rest in a per-connection buffer, watch EPOLLOUT and stop reading that
 * connection until the rest is out. Level-triggered costs one read per
 * event, where edge-triggered would need a second read to see EAGAIN.
 * Listener: accept4(SOCK_NONBLOCK) until EAGAIN. TCP_NODELAY on every
 * connection.
 *
 * It runs until killed (an alarm ends it after ECHO_SERVER_LIFETIME seconds,
 * default 600).
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

#define BUF 4096
#define MAXEV 1024

struct conn {
    char *pending; /* unsent rest of an echo (NULL: none) */
    size_t off, len;
};

static struct conn *conns;
static size_t nconns;
static int ep;

static void drop(int fd)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    if ((size_t)fd < nconns) {
        free(conns[fd].pending);
        conns[fd] = (struct conn){ 0 };
    }
    close(fd);
}

static int watch(int fd, uint32_t events, int op)
{
    struct epoll_event ev = { .events = events, .data.fd = fd };
    return epoll_ctl(ep, op, fd, &ev);
}

/* Sends buf[0..n) on fd, keeping what does not fit. Returns -1 if fd died. */
static int send_back(int fd, const char *buf, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, buf + off, n - off);
        if (w > 0) { off += (size_t)w; continue; }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) break;
        return -1;
    }
    if (off == n)
        return 0;
    struct conn *c = &conns[fd];
    c->pending = malloc(n - off);
    if (!c->pending)
        return -1;
    memcpy(c->pending, buf + off, n - off);
    c->off = 0;
    c->len = n - off;
    return watch(fd, EPOLLOUT, EPOLL_CTL_MOD);
}

static int flush_pending(int fd)
{
    struct conn *c = &conns[fd];
    while (c->off < c->len) {
        ssize_t w = write(fd, c->pending + c->off, c->len - c->off);
        if (w > 0) { c->off += (size_t)w; continue; }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) return 0;
        return -1;
    }
    free(c->pending);
    *c = (struct conn){ 0 };
    return watch(fd, EPOLLIN, EPOLL_CTL_MOD);
}

int main(void)
{
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
    if (!conns || ep < 0 || lfd < 0) { perror("epoll_server: set-up"); return 1; }
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 65535) || getsockname(lfd, (struct sockaddr *)&a, &al)
        || watch(lfd, EPOLLIN, EPOLL_CTL_ADD)) {
        perror("epoll_server: bind/listen");
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
            perror("epoll_server: epoll_wait");
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
                            perror("epoll_server: accept4");
                        break;
                    }
                    if ((size_t)c >= nconns || watch(c, EPOLLIN, EPOLL_CTL_ADD)) {
                        close(c);
                        continue;
                    }
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                }
                continue;
            }
            if (conns[fd].pending) {
                if (flush_pending(fd))
                    drop(fd);
                continue;
            }
            ssize_t r = read(fd, buf, sizeof buf);
            if (r > 0) {
                if (send_back(fd, buf, (size_t)r))
                    drop(fd);
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                drop(fd);
            }
        }
    }
}
