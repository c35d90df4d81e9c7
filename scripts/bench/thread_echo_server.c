/* thread_echo_server.c: an ordinary thread-per-connection echo server.
 *
 *   thread_echo_server
 *
 * Plain pthread code with no opencoro header and nothing that knows of the
 * library: run it natively and under LD_PRELOAD=libopencoro.so and compare
 * (scripts/bench.sh, section i, and `make demo`). Listens on 127.0.0.1 on a
 * port the kernel picks, prints one line "LISTEN port=P pid=N" on stdout,
 * then accepts forever in main; each accepted connection gets its own
 * pthread (default attributes, detached), a loop of blocking read() and
 * write() that echoes whatever arrives until the client closes.
 * TCP_NODELAY is set on every connection (as the load generator does).
 *
 * A failed pthread_create closes that connection; the first failure is
 * reported with the limits that bound thread creation, later ones only
 * counted (at 10, 100, 1000, ...). It runs until killed (an alarm ends it
 * after ECHO_SERVER_LIFETIME seconds, default 600, in case nobody does).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
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

static long read_long(const char *path)
{
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

static void thread_failed(int e, long accepted)
{
    static long failures;
    failures++;
    if (failures == 1) {
        struct rlimit rl;
        getrlimit(RLIMIT_NPROC, &rl);
        fprintf(stderr, "thread_echo_server: pthread_create failed for connection #%ld: %s "
                "(limits: ulimit -u %ld, kernel.threads-max %ld, kernel.pid_max %ld, vm.max_map_count %ld); "
                "closing such connections\n", accepted, strerror(e),
                rl.rlim_cur == RLIM_INFINITY ? -1L : (long)rl.rlim_cur,
                read_long("/proc/sys/kernel/threads-max"), read_long("/proc/sys/kernel/pid_max"),
                read_long("/proc/sys/vm/max_map_count"));
    } else {
        long p = 10;
        while (p < failures)
            p *= 10;
        if (p == failures)
            fprintf(stderr, "thread_echo_server: %ld pthread_create failures so far\n", failures);
    }
}

int main(void)
{
    const char *life = getenv("ECHO_SERVER_LIFETIME");
    alarm(life ? (unsigned)atoi(life) : 600);
    signal(SIGPIPE, SIG_IGN);

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0) { perror("thread_echo_server: socket"); return 1; }
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 65535) || getsockname(lfd, (struct sockaddr *)&a, &al)) {
        perror("thread_echo_server: bind/listen");
        return 1;
    }
    printf("LISTEN port=%d pid=%d\n", ntohs(a.sin_port), (int)getpid());
    fflush(stdout);

    long accepted = 0;
    for (;;) {
        int c = accept(lfd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE) {
                perror("thread_echo_server: accept (out of fds)");
                usleep(10000);
                continue;
            }
            perror("thread_echo_server: accept");
            return 1;
        }
        accepted++;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_t t;
        int e = pthread_create(&t, NULL, serve, (void *)(intptr_t)c);
        if (e) {
            thread_failed(e, accepted);
            close(c);
            continue;
        }
        pthread_detach(t);
    }
}
