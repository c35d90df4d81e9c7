/* httpload.c: a small HTTP/1.1 load generator for tests/compat/nginx.sh.
 *
 *   httpload HOST PORT PATH CONNS REQUESTS keepalive|close
 *
 * CONNS threads, each making REQUESTS GET requests for PATH: over one
 * keep-alive connection, or each on a new connection ("Connection: close").
 * A response is good when its status is 200 and its body has the length
 * Content-Length says (read to the end). Each socket waits at most 10 s
 * (SO_RCVTIMEO/SO_SNDTIMEO), so it never hangs. Prints one line with counts
 * that do not depend on timing:
 *   requests=N good=N bad=N bytes=N
 * Exits 0 when every request was good.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static const char *host, *path;
static int port, per_conn, keepalive;
static long good, bad, bytes;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, host, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *b, size_t n)
{
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w <= 0)
            return -1;
        b += w;
        n -= w;
    }
    return 0;
}

/* One request and its response on fd; buf keeps bytes read past the
 * response (*have of them). Returns the body length, or -1. */
static long request(int fd, char *buf, size_t cap, size_t *have)
{
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: httpload\r\n%s\r\n", path,
                     host, port, keepalive ? "" : "Connection: close\r\n");
    if (send_all(fd, req, n) < 0)
        return -1;
    char *end;
    for (;;) {
        buf[*have] = 0;
        if ((end = strstr(buf, "\r\n\r\n")))
            break;
        if (*have + 1 >= cap)
            return -1;
        ssize_t r = read(fd, buf + *have, cap - 1 - *have);
        if (r <= 0)
            return -1;
        *have += r;
    }
    int status = 0;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || status != 200)
        return -1;
    long len = -1;
    for (char *l = strstr(buf, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n"))
        if (strncasecmp(l + 2, "Content-Length:", 15) == 0)
            len = atol(l + 17);
    if (len < 0)
        return -1;
    size_t head = end + 4 - buf;
    size_t body = *have - head;
    if (body > (size_t)len) { /* bytes of a next response: not expected */
        return -1;
    }
    long left = len - body;
    while (left > 0) {
        ssize_t r = read(fd, buf, left < (long)cap ? left : (long)cap);
        if (r <= 0)
            return -1;
        left -= r;
    }
    *have = 0;
    return len;
}

static void *conn_thread(void *arg)
{
    (void)arg;
    size_t cap = 1 << 16;
    char *buf = malloc(cap);
    long g = 0, b = 0, by = 0;
    int fd = -1;
    size_t have = 0;
    for (int i = 0; i < per_conn; i++) {
        if (fd < 0) {
            fd = dial();
            have = 0;
        }
        long len = fd < 0 ? -1 : request(fd, buf, cap, &have);
        if (len < 0) {
            b++;
            if (fd >= 0)
                close(fd);
            fd = -1;
            continue;
        }
        g++;
        by += len;
        if (!keepalive) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    free(buf);
    pthread_mutex_lock(&lock);
    good += g;
    bad += b;
    bytes += by;
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: httpload HOST PORT PATH CONNS REQUESTS keepalive|close\n");
        return 2;
    }
    host = argv[1];
    port = atoi(argv[2]);
    path = argv[3];
    int conns = atoi(argv[4]);
    per_conn = atoi(argv[5]);
    keepalive = strcmp(argv[6], "keepalive") == 0;
    pthread_t *t = calloc(conns, sizeof *t);
    for (int i = 0; i < conns; i++)
        pthread_create(&t[i], NULL, conn_thread, NULL);
    for (int i = 0; i < conns; i++)
        pthread_join(t[i], NULL);
    printf("%s %s x %d x %d: requests=%ld good=%ld bad=%ld bytes=%ld\n", path, argv[6], conns, per_conn,
           good + bad, good, bad, bytes);
    return bad == 0 ? 0 : 1;
}
