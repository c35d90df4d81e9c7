/* peergen.c: the load generator of scripts/bench-peers for the workloads
 * that loadgen.c (64-byte ping-pong) does not cover. Run natively; it talks
 * to any of the echo servers (all answer with the bytes they read).
 *
 *   peergen stream PORT CONNS MSG_BYTES WINDOW WARMUP_MS DURATION_MS [SERVER_PID]
 *   peergen idle   PORT CONNS HOLD_MS [SERVER_PID [ADDRS]]
 *
 * stream: streaming echo. CONNS connections to 127.0.0.1:PORT (TCP_NODELAY,
 *   SO_LINGER 0), one thread, one level-triggered epoll set. Each connection
 *   keeps WINDOW messages of MSG_BYTES in flight: whenever the echo has
 *   freed room for whole messages (fewer than WINDOW * MSG_BYTES bytes out
 *   and not yet echoed), it sends as many as fit (up to 4 KiB) in one
 *   send(), and reads the echo as a byte stream (up to 64 KiB per
 *   read), checking every byte (a pattern of period 509 per connection, so a
 *   lost, repeated or reordered chunk is seen). After WARMUP_MS the counters
 *   are read, and again after DURATION_MS more:
 *     mb_per_s     echoed bytes per second in the window, all connections,
 *                  in 10^6 bytes (one direction)
 *     msgs_per_s   the same in messages
 *     min_conn_mb_per_s  the slowest connection (fairness)
 *     lost, bad_data, server_cpu_ms, gen_cpu_ms as in loadgen.c
 *
 * idle: many mostly idle connections, for memory per connection. Before the
 *   first connect it allocates all it needs and takes the baselines: the
 *   server's VmRSS and the system's free memory (MemAvailable plus the free
 *   pages of the per-CPU lists in /proc/zoneinfo, as loadgen.c does, once
 *   steady). Then it opens CONNS connections one at a time (blocking
 *   connect bounded by 5 s), sends one 64-byte message on every connection
 *   and waits until each has come back (at most 60 s): every connection is
 *   accepted and its handler has run. Then it holds them for HOLD_MS during
 *   which, every 100 ms, the next 1% of the connections (in turn) does one
 *   more round trip; the rest stay silent. At the end, with nothing in
 *   flight, it reads the figures:
 *     established, echoed  connections opened / that completed the first
 *                  round trip; lost (closed by the server), bad_data
 *     hold_rt      round trips during the hold
 *     server_rss0_kib, server_rss_kib, server_pte0_kib, server_pte_kib,
 *     server_threads0, server_threads  VmRSS, VmPTE (its page tables) and
 *                  "Threads:" of SERVER_PID before the first connect and at
 *                  the end; server_hwm_kib  its VmHWM at the end. These are
 *                  the server's own, untouched by other processes: its
 *                  memory per connection is the growth of RSS + page tables
 *                  + one kernel stack per new thread (scripts/bench-peers)
 *     sysmem_drop_kib  how much the system's free memory fell from the
 *                  baseline to the end: everything the connections cost,
 *                  the server's memory, its threads' kernel stacks and page
 *                  tables and the sockets of both sides (the generator's
 *                  share is the same for every server)
 *     kstack_kib, pagetables_kib, slab_kib  growth of KernelStack,
 *                  PageTables and Slab of /proc/meminfo over the same span
 *     server_lib   1 when libopencoro is mapped in SERVER_PID
 *   One source address gives at most about 28,000 connections to one server
 *   port (the ephemeral port range), and connect() slows down sharply (from
 *   about 50 us to 1 ms and more) once half of the range is taken; so
 *   ADDRS source addresses 127.0.0.1, 127.0.0.2, ... are used in turn
 *   (default: one per 10,000 connections), each bound with
 *   IP_BIND_ADDRESS_NO_PORT so the port is picked at connect() for the
 *   whole 4-tuple.
 *
 * Prints one line "RESULT key=value ...". Exit 0 when data flowed and none
 * was wrong, else 1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define PERIOD 509            /* stream pattern period (prime, not 512) */
#define RBUF 65536
#define MAXEV 1024
#define PING 64               /* idle mode message */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* ---- /proc readers (as in scripts/bench/loadgen.c) ---- */

static ssize_t slurp(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = 0;
    return (ssize_t)n;
}

/* The number after "KEY:" in a /proc file such as meminfo or status, or -1. */
static long proc_field(const char *path, const char *key)
{
    static char buf[16384];
    if (slurp(path, buf, sizeof buf) < 0)
        return -1;
    size_t kl = strlen(key);
    for (char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (!strncmp(p, key, kl) && p[kl] == ':')
            return strtol(p + kl + 1, NULL, 10);
    return -1;
}

/* KiB of free pages in the per-CPU lists (the "count:" lines of
 * /proc/zoneinfo), which MemAvailable leaves out. */
static long pcp_kib(void)
{
    static char buf[65536];
    if (slurp("/proc/zoneinfo", buf, sizeof buf) <= 0)
        return 0;
    long pages = 0;
    for (char *p = strstr(buf, "count:"); p; p = strstr(p + 6, "count:"))
        pages += strtol(p + 6, NULL, 10);
    return pages * (sysconf(_SC_PAGESIZE) / 1024);
}

static long mem_free_kib(void)
{
    return proc_field("/proc/meminfo", "MemAvailable") + pcp_kib();
}

/* Free memory once memory a previous run released has come back
 * (steady within 512 KiB for 100 ms, at most 1 s). */
static long mem_free_steady(void)
{
    long m0 = mem_free_kib();
    for (int steady = 0, k = 0; steady < 2 && k < 20; k++) {
        sleep_ms(50);
        long m = mem_free_kib();
        steady = labs(m - m0) <= 512 ? steady + 1 : 0;
        m0 = m;
    }
    return m0;
}

static double cpu_ms_of(const char *statpath)
{
    FILE *f = fopen(statpath, "r");
    if (!f)
        return -1;
    char line[2048];
    double r = -1;
    if (fgets(line, sizeof line, f)) {
        char *p = strrchr(line, ')');
        unsigned long ut, st;
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
            r = (ut + st) * 1000.0 / sysconf(_SC_CLK_TCK);
    }
    fclose(f);
    return r;
}

static int has_lib(const char *pid)
{
    char path[64], line[4096];
    snprintf(path, sizeof path, "/proc/%s/maps", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, "libopencoro") != NULL;
    fclose(f);
    return found;
}

/* ---- connections ---- */

/* Opens one connection to 127.0.0.1:port from source address src (0: let
 * the kernel choose). Returns the non-blocking fd or -1 with errno set. */
static int open_conn(int port, uint32_t src)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    /* Reset, not FIN, at exit: no TIME_WAIT sockets pile up run after run. */
    struct linger lg = { 1, 0 };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    if (src) {
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(src) };
        if (bind(fd, (struct sockaddr *)&s, sizeof s)) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
    }
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* ---- stream ---- */

static unsigned char pat[PERIOD + RBUF + 4096]; /* pat[k] = byte k mod PERIOD of the stream */

struct sconn {
    int fd, dead;
    uint64_t sent, recvd;     /* stream offsets */
    uint64_t base;            /* recvd at the start of the window */
};

static int stream_main(int argc, char **argv)
{
    if (argc < 8) {
        fprintf(stderr, "usage: peergen stream PORT CONNS MSG_BYTES WINDOW WARMUP_MS DURATION_MS [SERVER_PID]\n");
        return 2;
    }
    int port = atoi(argv[2]), n = atoi(argv[3]), msg = atoi(argv[4]), window = atoi(argv[5]);
    long warm_ms = atol(argv[6]), dur_ms = atol(argv[7]);
    char spath[64] = "";
    if (argc > 8 && atoi(argv[8]) > 0)
        snprintf(spath, sizeof spath, "/proc/%s/stat", argv[8]);
    if (n < 1 || msg < 1 || msg > 4096 || window < 1 || dur_ms < 1) {
        fprintf(stderr, "peergen: bad arguments\n");
        return 2;
    }
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t k = 0; k < PERIOD; k++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        pat[k] = (unsigned char)x;
    }
    for (size_t k = PERIOD; k < sizeof pat; k++)
        pat[k] = pat[k % PERIOD];

    struct sconn *c = calloc((size_t)n, sizeof *c);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!c || ep < 0) { perror("peergen: set-up"); return 1; }
    int established = 0, connect_errno = 0;
    for (int i = 0; i < n; i++) {
        c[i].dead = 1;
        int fd = open_conn(port, 0);
        if (fd < 0) { connect_errno = errno; fprintf(stderr, "peergen: connect: %s\n", strerror(errno)); break; }
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        c[i].fd = fd;
        c[i].dead = 0;
        established++;
    }
    uint64_t window_bytes = (uint64_t)window * (uint64_t)msg, lost = 0, bad = 0;
    static unsigned char buf[RBUF];
    /* Connection i's stream starts at pattern offset (i * 97) mod PERIOD. */
#define POFF(i, off) (((uint64_t)(i) * 97 + (off)) % PERIOD)

    uint64_t t_start = now_ns(), t0 = 0, t1 = 0;
    uint64_t warm_end = t_start + (uint64_t)warm_ms * 1000000u, end = warm_end + (uint64_t)dur_ms * 1000000u;
    double s0 = -1, s1 = -1, g0 = -1, g1 = -1;
    int phase = 0; /* 0 warm-up, 1 window */
    struct epoll_event evs[MAXEV];
    for (;;) {
        /* top every connection's window up */
        for (int i = 0; i < n; i++) {
            struct sconn *s = &c[i];
            while (!s->dead && s->sent - s->recvd + (uint64_t)msg <= window_bytes) {
                /* the whole messages that fit, in one send() */
                uint64_t room = (window_bytes - (s->sent - s->recvd)) / (uint64_t)msg * (uint64_t)msg;
                if (room > 4096) room = 4096 / (uint64_t)msg * (uint64_t)msg;
                ssize_t w = send(s->fd, pat + POFF(i, s->sent), (size_t)room, MSG_NOSIGNAL);
                if (w > 0) { s->sent += (uint64_t)w; continue; }
                if (w < 0 && errno == EINTR) continue;
                if (w < 0 && errno == EAGAIN) break; /* socket full; the echo will drain it */
                s->dead = 1; close(s->fd); lost++;
            }
        }
        uint64_t now = now_ns();
        if (phase == 0 && now >= warm_end) {
            for (int i = 0; i < n; i++)
                c[i].base = c[i].recvd;
            s0 = spath[0] ? cpu_ms_of(spath) : -1;
            g0 = cpu_ms_of("/proc/self/stat");
            t0 = now;
            phase = 1;
        } else if (phase == 1 && now >= end) {
            t1 = now;
            s1 = spath[0] ? cpu_ms_of(spath) : -1;
            g1 = cpu_ms_of("/proc/self/stat");
            break;
        }
        int k = epoll_wait(ep, evs, MAXEV, 10);
        if (k < 0 && errno != EINTR) { perror("peergen: epoll_wait"); return 1; }
        for (int e = 0; e < k; e++) {
            int i = (int)evs[e].data.u32;
            struct sconn *s = &c[i];
            if (s->dead)
                continue;
            ssize_t r = read(s->fd, buf, sizeof buf);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (r <= 0 || s->recvd + (uint64_t)r > s->sent) { s->dead = 1; close(s->fd); lost++; continue; }
            if (memcmp(buf, pat + POFF(i, s->recvd), (size_t)r)) {
                bad++;
                s->dead = 1; close(s->fd); lost++;
                continue;
            }
            s->recvd += (uint64_t)r;
        }
    }
    double secs = (t1 - t0) / 1e9;
    uint64_t total = 0, mn = UINT64_MAX;
    for (int i = 0; i < established; i++) {
        uint64_t d = c[i].recvd - c[i].base;
        total += d;
        if (d < mn) mn = d;
    }
    if (!established) mn = 0;
    printf("RESULT mode=stream conns=%d established=%d msg_bytes=%d window=%d mb_per_s=%.2f msgs_per_s=%.0f "
           "min_conn_mb_per_s=%.2f lost=%llu bad_data=%llu server_cpu_ms=%.0f gen_cpu_ms=%.0f window_ms=%.0f connect_errno=%d\n",
           n, established, msg, window, total / secs / 1e6, total / secs / msg, mn / secs / 1e6,
           (unsigned long long)lost, (unsigned long long)bad,
           s0 >= 0 && s1 >= 0 ? s1 - s0 : -1, g1 - g0, secs * 1e3, connect_errno);
    fflush(stdout);
    return (total > 0 && bad == 0) ? 0 : 1;
}

/* ---- idle ---- */

struct iconn {
    int fd;
    int dead;
    int got;           /* bytes of the echo in flight received; -1: none in flight */
    uint32_t seq;
};

static struct iconn *ic;
static uint64_t i_lost, i_bad, i_rt;

static void ping_fill(unsigned char *m, int i, uint32_t seq)
{
    uint64_t x = ((uint64_t)i << 32) ^ seq ^ 0x9E3779B97F4A7C15ull;
    for (int k = 0; k < PING; k += 8) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        memcpy(m + k, &x, 8);
    }
}

static void idle_kill(int i)
{
    if (ic[i].dead)
        return;
    ic[i].dead = 1;
    close(ic[i].fd);
    i_lost++;
}

/* Sends the next ping on connection i (returns 1 if one is now in flight). */
static int idle_ping(int i)
{
    struct iconn *c = &ic[i];
    if (c->dead || c->got >= 0)
        return 0;
    unsigned char m[PING];
    ping_fill(m, i, c->seq);
    ssize_t w = send(c->fd, m, PING, MSG_NOSIGNAL);
    if (w != PING) { /* 64 bytes always fit in an idle socket */
        idle_kill(i);
        return 0;
    }
    c->got = 0;
    return 1;
}

/* Handles the events of up to wait_ms; returns the round trips completed. */
static int idle_poll(int ep, int wait_ms)
{
    struct epoll_event evs[MAXEV];
    unsigned char buf[PING], want[PING];
    int done = 0;
    int k = epoll_wait(ep, evs, MAXEV, wait_ms);
    for (int e = 0; e < k; e++) {
        int i = (int)evs[e].data.u32;
        struct iconn *c = &ic[i];
        if (c->dead)
            continue;
        int room = c->got >= 0 ? PING - c->got : PING;
        ssize_t r = read(c->fd, buf, (size_t)room);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0 || c->got < 0) { /* closed, or bytes nobody asked for */
            if (r > 0) i_bad++;
            idle_kill(i);
            continue;
        }
        ping_fill(want, i, c->seq);
        if (memcmp(buf, want + c->got, (size_t)r)) { i_bad++; idle_kill(i); continue; }
        c->got += (int)r;
        if (c->got == PING) {
            c->got = -1;
            c->seq++;
            i_rt++;
            done++;
        }
    }
    return done;
}

static int idle_main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: peergen idle PORT CONNS HOLD_MS [SERVER_PID [ADDRS]]\n");
        return 2;
    }
    int port = atoi(argv[2]), n = atoi(argv[3]);
    long hold_ms = atol(argv[4]);
    const char *pid = argc > 5 && atoi(argv[5]) > 0 ? argv[5] : NULL;
    int naddr = argc > 6 ? atoi(argv[6]) : 0;
    if (naddr < 1)
        naddr = (n + 9999) / 10000;
    if (n < 1 || naddr > 250 || hold_ms < 0) { fprintf(stderr, "peergen: bad arguments\n"); return 2; }
    char status[64] = "";
    if (pid)
        snprintf(status, sizeof status, "/proc/%s/status", pid);

    /* everything this process needs, before the baseline */
    ic = calloc((size_t)n, sizeof *ic);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!ic || ep < 0) { perror("peergen: set-up"); return 1; }
    memset(ic, 0, (size_t)n * sizeof *ic);
    long rss0 = pid ? proc_field(status, "VmRSS") : -1, pte0 = pid ? proc_field(status, "VmPTE") : -1,
         threads0 = pid ? proc_field(status, "Threads") : -1;
    long mem0 = mem_free_steady();
    long ks0 = proc_field("/proc/meminfo", "KernelStack"), pt0 = proc_field("/proc/meminfo", "PageTables"),
         sl0 = proc_field("/proc/meminfo", "Slab");

    int established = 0, connect_errno = 0;
    uint64_t t_conn = now_ns();
    for (int i = 0; i < n; i++) {
        ic[i].dead = 1;
        ic[i].got = -1;
        uint32_t src = INADDR_LOOPBACK + (uint32_t)(i % naddr);
        int fd = open_conn(port, src);
        if (fd < 0) {
            connect_errno = errno;
            fprintf(stderr, "peergen: connection #%d of %d failed: %s\n", i + 1, n, strerror(errno));
            break;
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) { connect_errno = errno; close(fd); break; }
        ic[i].fd = fd;
        ic[i].dead = 0;
        established++;
    }
    double connect_ms = (now_ns() - t_conn) / 1e6;

    /* one round trip on every connection: each has been accepted and served */
    uint64_t t_echo = now_ns();
    int inflight = 0;
    for (int i = 0; i < established; i++)
        inflight += idle_ping(i);
    long echoed = 0;
    while (echoed < inflight && (int)i_lost + echoed < inflight && now_ns() - t_echo < 60000000000ull)
        echoed += idle_poll(ep, 50);
    double echo_ms = (now_ns() - t_echo) / 1e6;

    /* the hold: every 100 ms the next 1% does one round trip */
    int slice = established / 100 > 0 ? established / 100 : 1, next = 0;
    uint64_t hold_end = now_ns() + (uint64_t)hold_ms * 1000000u, tick = now_ns();
    uint64_t rt_before = i_rt;
    while (now_ns() < hold_end) {
        if (now_ns() >= tick && established > 0) {
            for (int j = 0; j < slice; j++, next = (next + 1) % established)
                idle_ping(next);
            tick += 100000000u;
        }
        idle_poll(ep, 10);
    }
    /* let the last pings come back, so nothing is in flight */
    for (uint64_t t = now_ns(); now_ns() - t < 2000000000ull;) {
        int busy = 0;
        for (int i = 0; i < established && !busy; i++)
            busy = !ic[i].dead && ic[i].got >= 0;
        if (!busy) break;
        idle_poll(ep, 20);
    }
    sleep_ms(200); /* the servers settle (a Go or tokio server may free buffers) */

    long mem1 = mem_free_kib();
    long ks1 = proc_field("/proc/meminfo", "KernelStack"), pt1 = proc_field("/proc/meminfo", "PageTables"),
         sl1 = proc_field("/proc/meminfo", "Slab");
    long rss1 = -1, hwm = -1, threads = -1, pte1 = -1;
    int lib = -1;
    if (pid) {
        rss1 = proc_field(status, "VmRSS");
        hwm = proc_field(status, "VmHWM");
        threads = proc_field(status, "Threads");
        pte1 = proc_field(status, "VmPTE");
        lib = has_lib(pid);
    }
    printf("RESULT mode=idle conns=%d established=%d echoed=%ld lost=%llu bad_data=%llu hold_rt=%llu naddr=%d "
           "connect_ms=%.0f echo_ms=%.0f server_rss0_kib=%ld server_rss_kib=%ld server_pte0_kib=%ld server_pte_kib=%ld "
           "server_threads0=%ld server_threads=%ld server_hwm_kib=%ld "
           "server_lib=%d sysmem_drop_kib=%ld kstack_kib=%ld pagetables_kib=%ld slab_kib=%ld connect_errno=%d\n",
           n, established, echoed, (unsigned long long)i_lost, (unsigned long long)i_bad,
           (unsigned long long)(i_rt - rt_before), naddr, connect_ms, echo_ms, rss0, rss1, pte0, pte1,
           threads0, threads, hwm, lib,
           mem0 - mem1, ks1 - ks0, pt1 - pt0, sl1 - sl0, connect_errno);
    fflush(stdout);
    /* Closing 100,000 sockets one by one is the kernel's work; exit does it. */
    return (echoed > 0 && i_bad == 0) ? 0 : 1;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    if (argc > 1 && !strcmp(argv[1], "stream"))
        return stream_main(argc, argv);
    if (argc > 1 && !strcmp(argv[1], "idle"))
        return idle_main(argc, argv);
    fprintf(stderr, "usage: peergen stream PORT CONNS MSG_BYTES WINDOW WARMUP_MS DURATION_MS [SERVER_PID]\n"
                    "       peergen idle PORT CONNS HOLD_MS [SERVER_PID [ADDRS]]\n");
    return 2;
}
