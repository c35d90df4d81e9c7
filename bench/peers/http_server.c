/* http_server.c: a minimal HTTP/1.1 keep-alive "hello" server with a thread
 * (or a coroutine) per connection, for the HTTP workload of
 * scripts/bench-peers (driven by wrk).
 *
 *   http_server [thread|coro]
 *
 * thread (default): plain pthread code with no opencoro header and nothing
 *   that knows of the library, like scripts/bench/thread_echo_server.c: each
 *   accepted connection gets its own pthread (default attributes, detached)
 *   doing blocking read() and write(). Run it natively and under
 *   LD_PRELOAD=libopencoro.so and compare.
 * coro: each connection gets its own coroutine (opencoro_spawn, looked up
 *   with dlsym as scripts/bench/echo_server.c does; exits 3 without the
 *   library), the same per-connection code.
 *
 * The per-connection code is the one every HTTP server of the suite runs
 * (bench/peers/go, bench/peers/tokio, http_epoll_server.c): read up to 4 KiB,
 * count the requests completed in it (the ends of their headers, "\r\n\r\n",
 * found by a state machine that carries over between reads; request bodies
 * are not supported, wrk sends none), and answer them with one write() of as
 * many copies of a fixed 13-byte "Hello, World!" response. Connections are
 * kept alive until the client closes. TCP_NODELAY on every connection.
 *
 * Listens on 127.0.0.1 on a port the kernel picks and prints one line
 * "LISTEN port=P pid=N mode=thread|coroutine" on stdout. It runs until
 * killed (an alarm ends it after ECHO_SERVER_LIFETIME seconds, default 600).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define RESPONSE "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!"
#define RLEN (sizeof RESPONSE - 1)
#define BATCH 64                 /* responses in one write at most */

typedef void *(*spawn_fn)(void *(*)(void *), void *, size_t);

static char responses[BATCH * RLEN];

/* Counts the header ends ("\r\n\r\n") in buf[0..n), carrying the match
 * state (0..3 bytes of it seen) across calls in *state. */
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

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void *serve(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[4096];
    int state = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (int k = count_requests(buf, n, &state); k > 0;) {
            int b = k < BATCH ? k : BATCH;
            if (write_all(fd, responses, (size_t)b * RLEN))
                goto out;
            k -= b;
        }
    }
out:
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    int coro = argc > 1 && !strcmp(argv[1], "coro");
    spawn_fn co_spawn = coro ? (spawn_fn)dlsym(RTLD_DEFAULT, "opencoro_spawn") : NULL;
    if (coro && !co_spawn) {
        fprintf(stderr, "http_server: coro needs opencoro (LD_PRELOAD=libopencoro.so)\n");
        return 3;
    }
    for (int i = 0; i < BATCH; i++)
        memcpy(responses + i * RLEN, RESPONSE, RLEN);
    const char *life = getenv("ECHO_SERVER_LIFETIME");
    alarm(life ? (unsigned)atoi(life) : 600);
    signal(SIGPIPE, SIG_IGN);

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0) { perror("http_server: socket"); return 1; }
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 65535) || getsockname(lfd, (struct sockaddr *)&a, &al)) {
        perror("http_server: bind/listen");
        return 1;
    }
    printf("LISTEN port=%d pid=%d mode=%s\n", ntohs(a.sin_port), (int)getpid(), coro ? "coroutine" : "thread");
    fflush(stdout);

    for (;;) {
        int c = accept(lfd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE) {
                perror("http_server: accept (out of fds)");
                usleep(10000);
                continue;
            }
            perror("http_server: accept");
            return 1;
        }
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (coro) {
            if (!co_spawn(serve, (void *)(intptr_t)c, 0)) {
                fprintf(stderr, "http_server: opencoro_spawn failed: %s\n", strerror(errno));
                close(c);
            }
            continue;
        }
        pthread_t t;
        int e = pthread_create(&t, NULL, serve, (void *)(intptr_t)c);
        if (e) {
            fprintf(stderr, "http_server: pthread_create failed: %s\n", strerror(e));
            close(c);
            continue;
        }
        pthread_detach(t);
    }
}
