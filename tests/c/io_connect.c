// connect as libc does it. A blocking connect to a listening socket (whose
// accept waits in a peer coroutine) succeeds and leaves the socket's flags
// as they were; 20 coroutines connecting at once all get through; a
// program-non-blocking socket gets EINPROGRESS, then poll(POLLOUT) and
// getsockopt(SO_ERROR) report the outcome (0, or ECONNREFUSED for a port
// nobody listens on), exactly as without the library; EISCONN, UDP and
// AF_UNIX connects (ENOENT, ECONNREFUSED) too.
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 20
#include "io_common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define CLIENTS 20

static struct sockaddr_in loopback(void) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int tcp_bound(struct sockaddr_in *a, int backlog) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s >= 0);
    *a = loopback();
    socklen_t len = sizeof *a;
    CHECK(bind(s, (struct sockaddr *)a, sizeof *a) == 0);
    if (backlog >= 0) CHECK(listen(s, backlog) == 0);
    CHECK(getsockname(s, (struct sockaddr *)a, &len) == 0);
    return s;
}

static int listener;

/* Accepts n connections; answers "ping" with "pong" on each. */
static void *serve(void *arg) {
    long n = (long)arg;
    for (long i = 0; i < n; i++) {
        int a = accept(listener, NULL, NULL);
        CHECKF(a >= 0, "accept: %s", ERRNAME(errno));
        char buf[4];
        CHECK(recv(a, buf, 4, MSG_WAITALL) == 4 && memcmp(buf, "ping", 4) == 0);
        CHECK(send(a, "pong", 4, 0) == 4);
        CHECK(close(a) == 0);
    }
    return NULL;
}

static struct sockaddr_in server;

static void *client(void *arg) {
    (void)arg;
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(c >= 0);
    CHECKF(connect(c, (struct sockaddr *)&server, sizeof server) == 0, "connect: %s", ERRNAME(errno));
    CHECK(send(c, "ping", 4, 0) == 4);
    char buf[4];
    CHECK(recv(c, buf, 4, MSG_WAITALL) == 4 && memcmp(buf, "pong", 4) == 0);
    CHECK(close(c) == 0);
    return (void *)1;
}

static const char *revents(short r) {
    static char s[64];
    s[0] = 0;
    if (r & POLLIN) strcat(s, "|POLLIN");
    if (r & POLLOUT) strcat(s, "|POLLOUT");
    if (r & POLLERR) strcat(s, "|POLLERR");
    if (r & POLLHUP) strcat(s, "|POLLHUP");
    if (r & POLLNVAL) strcat(s, "|POLLNVAL");
    return s[0] ? s + 1 : "0";
}

static int so_error(int fd) {
    int e = -1;
    socklen_t l = sizeof e;
    CHECK(getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) == 0);
    return e;
}

/* Non-blocking connect to `to`: prints each step. */
static int nonblocking_connect(struct sockaddr_in *to, const char *what) {
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(c >= 0);
    errno = 0;
    int r = connect(c, (struct sockaddr *)to, sizeof *to);
    int e = errno;
    printf("%s: connect %d %s\n", what, r, r < 0 ? ERRNAME(e) : "");
    struct pollfd p = {c, POLLOUT, 0};
    int n = poll(&p, 1, 5000);
    printf("%s: poll POLLOUT %d, revents %s\n", what, n, revents(p.revents));
    int se = so_error(c);
    printf("%s: SO_ERROR %s\n", what, se ? ERRNAME(se) : "0");
    printf("%s: SO_ERROR again %s\n", what, so_error(c) ? ERRNAME(so_error(c)) : "0");
    CHECK((fcntl(c, F_GETFL) & O_NONBLOCK) != 0);
    return c;
}

int main(void) {
    io_ticker_start(2000);

    /* 1. Blocking connect; the server accepts in a peer coroutine. */
    listener = tcp_bound(&server, 64);
    io_task srv = io_spawn(serve, (void *)(long)(1 + CLIENTS + 1));
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(c >= 0);
    int fl = fcntl(c, F_GETFL);
    CHECKF(connect(c, (struct sockaddr *)&server, sizeof server) == 0, "connect: %s", ERRNAME(errno));
    CHECKF(fcntl(c, F_GETFL) == fl, "F_GETFL 0x%x after connect, 0x%x before", fcntl(c, F_GETFL), fl);
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    CHECK(getpeername(c, (struct sockaddr *)&peer, &pl) == 0 && peer.sin_port == server.sin_port);
    CHECK(send(c, "ping", 4, 0) == 4);
    char buf[4];
    CHECK(recv(c, buf, 4, MSG_WAITALL) == 4 && memcmp(buf, "pong", 4) == 0);
    printf("blocking connect: connected, flags unchanged, ping/pong\n");
    errno = 0;
    int r = connect(c, (struct sockaddr *)&server, sizeof server);
    printf("connect again: %d %s\n", r, r < 0 ? ERRNAME(errno) : "");
    CHECK(close(c) == 0);

    /* 2. Many at once. */
    io_task cl[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) cl[i] = io_spawn(client, NULL);
    long ok = 0;
    for (int i = 0; i < CLIENTS; i++) ok += (long)io_join(cl[i]);
    printf("%ld of %d concurrent blocking connects went through\n", ok, CLIENTS);

    /* 3. Non-blocking connect to the listener. */
    c = nonblocking_connect(&server, "non-blocking connect to a listener");
    CHECK(send(c, "ping", 4, 0) == 4);
    struct pollfd p = {c, POLLIN, 0};
    CHECK(poll(&p, 1, 5000) == 1);
    CHECK(recv(c, buf, 4, MSG_WAITALL) == 4 && memcmp(buf, "pong", 4) == 0);
    CHECK(close(c) == 0);
    io_join(srv);
    CHECK(close(listener) == 0);

    /* 4. Non-blocking connect to a port nobody listens on. */
    struct sockaddr_in quiet_addr;
    int quiet = tcp_bound(&quiet_addr, -1);
    c = nonblocking_connect(&quiet_addr, "non-blocking connect to a closed port");
    CHECK(close(c) == 0);
    /* ... and the blocking one. */
    c = socket(AF_INET, SOCK_STREAM, 0);
    errno = 0;
    r = connect(c, (struct sockaddr *)&quiet_addr, sizeof quiet_addr);
    printf("blocking connect to a closed port: %d %s\n", r, r < 0 ? ERRNAME(errno) : "");
    CHECK(close(c) == 0 && close(quiet) == 0);

    /* 5. UDP: connect just sets the peer. */
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ua;
    int us = -1;
    {
        us = socket(AF_INET, SOCK_DGRAM, 0);
        ua = loopback();
        socklen_t l = sizeof ua;
        CHECK(bind(us, (struct sockaddr *)&ua, sizeof ua) == 0 && getsockname(us, (struct sockaddr *)&ua, &l) == 0);
    }
    r = connect(u, (struct sockaddr *)&ua, sizeof ua);
    printf("UDP connect: %d\n", r);
    CHECK(send(u, "dgram", 5, 0) == 5);
    char dbuf[16];
    CHECK(recv(us, dbuf, sizeof dbuf, 0) == 5 && memcmp(dbuf, "dgram", 5) == 0);
    printf("UDP datagram through the connected socket\n");
    CHECK(close(u) == 0 && close(us) == 0);

    /* 6. AF_UNIX */
    char dir[256];
    int tf = io_tempfile(dir, sizeof dir, "unix");
    close(tf);
    unlink(dir);
    CHECK(mkdir(dir, 0700) == 0);
    struct sockaddr_un ux = {.sun_family = AF_UNIX};
    snprintf(ux.sun_path, sizeof ux.sun_path, "%s/sock", dir);
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    errno = 0;
    r = connect(c, (struct sockaddr *)&ux, sizeof ux);
    printf("AF_UNIX connect to a missing path: %d %s\n", r, r < 0 ? ERRNAME(errno) : "");
    int ul = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(bind(ul, (struct sockaddr *)&ux, sizeof ux) == 0);
    errno = 0;
    r = connect(c, (struct sockaddr *)&ux, sizeof ux);
    printf("AF_UNIX connect to a socket that does not listen: %d %s\n", r, r < 0 ? ERRNAME(errno) : "");
    CHECK(close(c) == 0);
    CHECK(listen(ul, 4) == 0);
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    r = connect(c, (struct sockaddr *)&ux, sizeof ux);
    printf("AF_UNIX connect to a listener: %d\n", r);
    int a = accept(ul, NULL, NULL);
    CHECK(a >= 0);
    CHECK(write(c, "unix", 4) == 4 && read(a, dbuf, 4) == 4 && memcmp(dbuf, "unix", 4) == 0);
    CHECK(close(a) == 0 && close(c) == 0 && close(ul) == 0);
    CHECK(unlink(ux.sun_path) == 0 && rmdir(dir) == 0);

    io_ticker_stop();
    return 0;
}
