/* latency.c: the idle round-trip client of scripts/bench.sh, run natively.
 *
 *   latency PORT COUNT [GAP_US [WARMUP]]
 *
 * One TCP connection to 127.0.0.1:PORT (TCP_NODELAY), plain blocking calls:
 * WARMUP (default 200) unmeasured round trips, then COUNT measured ones.
 * A round trip is: write 64 bytes, read until the 64 bytes have come back
 * (checked). Between round trips the client sleeps GAP_US microseconds
 * (default 200), so the server has nothing to do between messages and each
 * message has to wake it.
 *
 * Prints "RESULT median_us=.. p90_us=.. p99_us=.. max_us=.. min_us=.. n=..".
 * Exit 1 on a connection error or wrong data.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG 64

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int roundtrip(int fd, uint64_t seq)
{
    char m[MSG], r[MSG];
    for (int k = 0; k < MSG; k++)
        m[k] = (char)(seq * 31 + (uint64_t)k);
    for (size_t off = 0; off < MSG;) {
        ssize_t w = write(fd, m + off, MSG - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) { perror("latency: write"); return -1; }
        off += (size_t)w;
    }
    for (size_t got = 0; got < MSG;) {
        ssize_t n = read(fd, r + got, MSG - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { fprintf(stderr, "latency: read: %s\n", n ? strerror(errno) : "server closed"); return -1; }
        got += (size_t)n;
    }
    if (memcmp(m, r, MSG)) { fprintf(stderr, "latency: wrong echo\n"); return -1; }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s PORT COUNT [GAP_US [WARMUP]]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    long count = atol(argv[2]);
    long gap = argc > 3 ? atol(argv[3]) : 200;
    long warm = argc > 4 ? atol(argv[4]) : 200;
    if (count < 1) return 2;

    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) { perror("latency: connect"); return 1; }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    uint64_t *rt = calloc((size_t)count, sizeof *rt);
    if (!rt) return 1;
    struct timespec g = { gap / 1000000, (gap % 1000000) * 1000 };
    for (long i = -warm; i < count; i++) {
        if (gap > 0)
            nanosleep(&g, NULL);
        uint64_t t0 = now_ns();
        if (roundtrip(fd, (uint64_t)(i + warm)))
            return 1;
        if (i >= 0)
            rt[i] = now_ns() - t0;
    }
    close(fd);
    qsort(rt, (size_t)count, sizeof *rt, cmp);
    long p99 = (long)(count * 0.99), p90 = (long)(count * 0.9);
    if (p99 >= count) p99 = count - 1;
    printf("RESULT median_us=%.2f p90_us=%.2f p99_us=%.2f max_us=%.2f min_us=%.2f n=%ld gap_us=%ld\n",
           rt[count / 2] / 1e3, rt[p90] / 1e3, rt[p99] / 1e3, rt[count - 1] / 1e3, rt[0] / 1e3, count, gap);
    return 0;
}
