/* echo_server.c: the plain blocking echo server of scripts/bench.sh.
 *
 *   echo_server [STACK_KIB]
 *
 * Listens on 127.0.0.1 on a port the kernel picks, prints one line
 * "LISTEN port=P pid=N mode=coroutine|thread" on stdout, then accepts
 * forever in main. Each accepted connection gets its own coroutine
 * (opencoro_spawn, stack STACK_KIB KiB, 0 or absent: the library's default)
 * when the library is loaded, else its own detached pthread: the same
 * per-connection code either way, a loop of plain blocking read() and
 * write() that echoes whatever arrives. TCP_NODELAY is set on every
 * connection (as the epoll server and the load generator do).
 *
 * It runs until killed (the script kills it; an alarm ends it after
 * ECHO_SERVER_LIFETIME seconds, default 600, in case nobody does). Handles
 * of the connection coroutines are not joined: like detached threads, they
 * finish when their client closes.
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

#include "opencoro.h"

typedef opencoro_task *(*spawn_fn)(void *(*)(void *), void *, size_t);

static void *serve(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[4096];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                goto out;
            off += w;
        }
    }
out:
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    spawn_fn co_spawn = (spawn_fn)dlsym(RTLD_DEFAULT, "opencoro_spawn");
    size_t stack = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) * 1024 : 0;
    const char *life = getenv("ECHO_SERVER_LIFETIME");
    alarm(life ? (unsigned)atoi(life) : 600);
    signal(SIGPIPE, SIG_IGN);

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0) { perror("echo_server: socket"); return 1; }
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 65535) || getsockname(lfd, (struct sockaddr *)&a, &al)) {
        perror("echo_server: bind/listen");
        return 1;
    }
    printf("LISTEN port=%d pid=%d mode=%s\n", ntohs(a.sin_port), (int)getpid(), co_spawn ? "coroutine" : "thread");
    fflush(stdout);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (;;) {
        int c = accept(lfd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE) {
                perror("echo_server: accept (out of fds)");
                usleep(10000);
                continue;
            }
            perror("echo_server: accept");
            return 1;
        }
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (co_spawn) {
            if (!co_spawn(serve, (void *)(intptr_t)c, stack)) {
                fprintf(stderr, "echo_server: opencoro_spawn failed: %s\n", strerror(errno));
                close(c);
            }
        } else {
            pthread_t t;
            int e = pthread_create(&t, &attr, serve, (void *)(intptr_t)c);
            if (e) {
                fprintf(stderr, "echo_server: pthread_create failed: %s\n", strerror(e));
                close(c);
            }
        }
    }
}
