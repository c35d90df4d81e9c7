// accept_backlog CLIENTS BACKLOG ROUNDS: a thread-per-connection echo server
// whose accepting thread listens with a small backlog, and CLIENTS client
// threads in the same process that connect at once and each make ROUNDS
// round trips of 64 bytes. While the accept queue is full the kernel drops
// handshakes and the clients wait for its retransmissions (1 s, then
// doubling), so an accepting thread that runs late costs seconds.
// Prints "RESULT ms=M late=L": the wall time, and how many connects took
// longer than half a second (a retransmission).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port, rounds;
static atomic_int late;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void *handler(void *arg) {
    int fd = (int)(long)arg;
    char b[64];
    ssize_t n;
    while ((n = read(fd, b, sizeof b)) > 0)
        if (write(fd, b, n) != n) break;
    close(fd);
    return NULL;
}

static void *server(void *arg) {
    int l = (int)(long)arg;
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0) continue;
        pthread_t t;
        if (pthread_create(&t, NULL, handler, (void *)(long)c) != 0) { perror("pthread_create"); exit(1); }
        pthread_detach(t);
    }
    return NULL;
}

static void *client(void *arg) {
    (void)arg;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(0x7f000001)};
    double t0 = now_ms();
    if (connect(s, (void *)&sa, sizeof sa)) { perror("connect"); exit(1); }
    if (now_ms() - t0 > 500) atomic_fetch_add(&late, 1);
    char b[64] = {0};
    for (int i = 0; i < rounds; i++) {
        if (write(s, b, sizeof b) != sizeof b) { perror("write"); exit(1); }
        for (ssize_t got = 0; got < (ssize_t)sizeof b;) {
            ssize_t n = read(s, b, sizeof b - got);
            if (n <= 0) { perror("read"); exit(1); }
            got += n;
        }
    }
    close(s);
    return NULL;
}

int main(int argc, char **argv) {
    int clients = argc > 1 ? atoi(argv[1]) : 50;
    int backlog = argc > 2 ? atoi(argv[2]) : 5;
    rounds = argc > 3 ? atoi(argv[3]) : 200;
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t len = sizeof sa;
    if (bind(l, (void *)&sa, sizeof sa) || getsockname(l, (void *)&sa, &len) || listen(l, backlog)) { perror("listen"); return 1; }
    port = ntohs(sa.sin_port);
    double t0 = now_ms();
    pthread_t st, *c = calloc(clients, sizeof *c);
    pthread_create(&st, NULL, server, (void *)(long)l);
    for (int i = 0; i < clients; i++)
        if (pthread_create(&c[i], NULL, client, NULL) != 0) { perror("pthread_create"); return 1; }
    for (int i = 0; i < clients; i++) pthread_join(c[i], NULL);
    printf("RESULT ms=%.0f late=%d\n", now_ms() - t0, atomic_load(&late));
    return 0;
}
