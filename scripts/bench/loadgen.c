/* loadgen.c: the load generator of scripts/bench.sh, run natively.
 *
 *   loadgen PORT CONNS WARMUP_MS DURATION_MS [THREADS [SERVER_PID [MAX_WARMUP_MS]]]
 *
 * Opens CONNS TCP connections to 127.0.0.1:PORT (one at a time, blocking
 * connect bounded by a 5 s SO_SNDTIMEO, TCP_NODELAY, SO_LINGER 0 so that
 * they end with a reset at exit and leave no TIME_WAIT behind), then makes them
 * non-blocking and runs 64-byte ping-pong on all of them: each connection
 * sends a 64-byte message, waits until the 64 bytes have come back (checking
 * that they are the bytes sent), and sends the next. THREADS (default 1)
 * threads share the connections round-robin, each with its own
 * level-triggered epoll set. The warm-up lasts WARMUP_MS and then on until
 * every established connection has completed a round trip or been lost (at
 * most MAX_WARMUP_MS more, default 10000); then the counters are read, and
 * after DURATION_MS more they are read again: req_per_s counts round trips
 * completed in that window. SERVER_PID 0: none.
 *
 * Prints one line "RESULT key=value ...":
 *   conns        connections asked for
 *   established  connections whose connect() succeeded
 *   echoing      connections that had completed a round trip by the start
 *                of the window (accepted and served by the server)
 *   req_per_s    round trips per second in the window, all connections
 *   idle_conns   connections with no round trip in the window (starved)
 *   min_conn, max_conn  fewest / most round trips of one connection in the
 *                window (fairness)
 *   lost         connections closed or failed during the run
 *   bad_data     echoes that differed from what was sent
 *   server_cpu_ms, gen_cpu_ms  CPU (user+sys) of SERVER_PID (if given, from
 *                /proc) and of this process during the window
 *   connect_ms   time to open the connections
 *   all_echo_ms  time from the start of the ping-pong until every
 *                established connection had completed a round trip or been
 *                lost (-1: not within the warm-up)
 *   warmup_ms    the warm-up as it was
 *   connect_errno  errno of the first failed connect (0: none)
 *   server_threads, server_hwm_kib, server_rss_kib  "Threads:", VmHWM (peak
 *                RSS) and VmRSS of SERVER_PID at the end of the window
 *                (-1: no SERVER_PID)
 *   server_lib   1 when libopencoro is mapped in SERVER_PID (-1: unknown)
 *   memavail_drop_kib  how much MemAvailable (plus the free pages held in
 *                the per-CPU lists of /proc/zoneinfo, which MemAvailable
 *                leaves out) fell from before the first connect to the end
 *                of the window: what the connections cost the whole system,
 *                server threads' kernel stacks and page tables included (and
 *                the sockets of both sides, the same for any server)
 *   kstack_kib, pagetables_kib  growth of KernelStack and PageTables of
 *                /proc/meminfo over the same span
 *   gen_wait_ms  how long this generator's threads waited for a CPU in the
 *                window (run-queue time of /proc/self/task/TID/schedstat):
 *                a server whose threads never leave the CPU keeps its
 *                same-machine clients waiting
 *   lat_p50_us, lat_p95_us, lat_p99_us, lat_max_us  round-trip latency of
 *                the round trips completed in the window, from the send of
 *                a message to the arrival of its last echoed byte (1 us
 *                resolution up to 100 ms, 100 us up to 10 s; -1: none)
 *
 * Exit 0 when at least one connection echoed and no data was wrong, else 1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
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

#define MSG 64
#define MAXEV 1024

struct conn {
    int fd;
    int got;           /* bytes of the current echo received */
    int dead;
    uint64_t seq;      /* number of the message in flight */
    uint64_t sent_ns;  /* when it was sent */
    uint64_t done;     /* round trips completed (read by main, relaxed) */
};

/* Latency histogram: 1 us buckets up to LAT_FINE us, then 100 us buckets
 * up to 10 s (the last one holds everything slower). */
#define LAT_FINE 100000
#define LAT_BUCKETS (LAT_FINE + 99000)

static int lat_bucket(uint64_t us)
{
    uint64_t b = us < LAT_FINE ? us : LAT_FINE + (us - LAT_FINE) / 100;
    return b < LAT_BUCKETS ? (int)b : LAT_BUCKETS - 1;
}

static long lat_of_bucket(int b)
{
    return b < LAT_FINE ? b : LAT_FINE + (long)(b - LAT_FINE) * 100;
}

struct worker {
    pthread_t tid;
    volatile pid_t ktid; /* its kernel thread id, once it runs */
    int index;
    int ep;
    uint32_t *lat;     /* this thread's histogram, filled while measuring */
    uint64_t lat_max;
};

static volatile int measuring;

static struct conn *conns;
static int nconn;
static int nthreads = 1;
static volatile int stop;
static uint64_t lost, bad_data;

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

/* The message number seq of connection i: distinct per connection and turn. */
static void fill(char *m, int i, uint64_t seq)
{
    uint64_t x = ((uint64_t)i << 40) ^ seq ^ 0x9E3779B97F4A7C15ull;
    for (int k = 0; k < MSG; k += 8) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        memcpy(m + k, &x, 8);
    }
}

static void kill_conn(int i)
{
    struct conn *c = &conns[i];
    if (c->dead)
        return;
    c->dead = 1;
    close(c->fd);
    __atomic_add_fetch(&lost, 1, __ATOMIC_RELAXED);
}

/* Sends message c->seq of connection i whole (64 bytes always fit in a
 * socket buffer that has just been drained by the echo). */
static void send_msg(int i)
{
    struct conn *c = &conns[i];
    char m[MSG];
    fill(m, i, c->seq);
    c->sent_ns = now_ns();
    size_t off = 0;
    while (off < MSG) {
        ssize_t w = send(c->fd, m + off, MSG - off, MSG_NOSIGNAL);
        if (w > 0) { off += (size_t)w; continue; }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) {
            /* cannot happen with one 64-byte message in flight; be safe */
            struct pollfd p = { .fd = c->fd, .events = POLLOUT };
            poll(&p, 1, 100);
            continue;
        }
        kill_conn(i);
        return;
    }
}

/* Nanoseconds thread TID has waited on a run queue (schedstat's second
 * field), or 0. */
static long long run_wait_ns(pid_t tid)
{
    char path[64];
    long long run = 0, wait = 0;
    snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", (int)tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    if (fscanf(f, "%lld %lld", &run, &wait) != 2)
        wait = 0;
    fclose(f);
    return wait;
}

static void *run(void *arg)
{
    struct worker *w = arg;
    w->ktid = gettid();
    struct epoll_event evs[MAXEV];
    char buf[MSG], want[MSG];
    for (int i = w->index; i < nconn; i += nthreads)
        if (!conns[i].dead)
            send_msg(i);
    while (!stop) {
        int n = epoll_wait(w->ep, evs, MAXEV, 20);
        if (n < 0 && errno != EINTR) { perror("loadgen: epoll_wait"); break; }
        for (int e = 0; e < n; e++) {
            int i = (int)evs[e].data.u32;
            struct conn *c = &conns[i];
            if (c->dead)
                continue;
            ssize_t r = read(c->fd, buf, MSG - c->got);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (r <= 0) { kill_conn(i); continue; }
            /* check the bytes against the message in flight */
            fill(want, i, c->seq);
            if (memcmp(buf, want + c->got, (size_t)r)) {
                __atomic_add_fetch(&bad_data, 1, __ATOMIC_RELAXED);
                kill_conn(i);
                continue;
            }
            c->got += (int)r;
            if (c->got < MSG)
                continue;
            c->got = 0;
            c->seq++;
            if (measuring) {
                uint64_t us = (now_ns() - c->sent_ns) / 1000;
                if (us > w->lat_max) w->lat_max = us;
                w->lat[lat_bucket(us)]++;
            }
            __atomic_store_n(&c->done, c->done + 1, __ATOMIC_RELAXED);
            send_msg(i);
        }
    }
    return NULL;
}

static double cpu_ms_of(const char *statpath)
{
    FILE *f = fopen(statpath, "r");
    if (!f)
        return -1;
    char line[2048];
    double r = -1;
    if (fgets(line, sizeof line, f)) {
        char *p = strrchr(line, ')'); /* after the command name */
        unsigned long ut, st;
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
            r = (ut + st) * 1000.0 / sysconf(_SC_CLK_TCK);
    }
    fclose(f);
    return r;
}

/* Reads a small /proc file whole; returns its length or -1. */
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

/* KiB of free pages in the page allocator's per-CPU lists (the "count:"
 * lines of /proc/zoneinfo). MemAvailable leaves them out, and recent kernels
 * keep up to hundreds of MiB there after a burst of frees (the end of the
 * previous run), so a MemAvailable drop is only meaningful with them added. */
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

/* 1 when libopencoro is mapped into process PID, 0 if not, -1: unknown. */
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

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s PORT CONNS WARMUP_MS DURATION_MS [THREADS [SERVER_PID [MAX_WARMUP_MS]]]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    nconn = atoi(argv[2]);
    long warm_ms = atol(argv[3]), dur_ms = atol(argv[4]);
    if (argc > 5) nthreads = atoi(argv[5]);
    char spath[64] = "";
    if (argc > 6 && atoi(argv[6]) > 0) snprintf(spath, sizeof spath, "/proc/%s/stat", argv[6]);
    long max_warm_ms = argc > 7 ? atol(argv[7]) : 10000;
    if (nconn < 1 || nthreads < 1 || dur_ms < 1) { fprintf(stderr, "loadgen: bad arguments\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    conns = calloc((size_t)nconn, sizeof *conns);
    struct worker *ws = calloc((size_t)nthreads, sizeof *ws);
    if (!conns || !ws) { perror("calloc"); return 1; }
    for (int t = 0; t < nthreads; t++) {
        ws[t].index = t;
        ws[t].lat = calloc(LAT_BUCKETS, sizeof *ws[t].lat);
        if (!ws[t].lat) { perror("calloc"); return 1; }
        ws[t].ep = epoll_create1(EPOLL_CLOEXEC);
        if (ws[t].ep < 0) { perror("loadgen: epoll_create1"); return 1; }
    }

    /* The memory baseline, once memory a previous run released has come
     * back (MemAvailable steady for 100 ms, at most 1 s). */
    long mem0 = mem_free_kib();
    for (int steady = 0, k = 0; steady < 2 && k < 20; k++) {
        sleep_ms(50);
        long m = mem_free_kib();
        steady = labs(m - mem0) <= 512 ? steady + 1 : 0;
        mem0 = m;
    }
    long kstack0 = proc_field("/proc/meminfo", "KernelStack"), ptables0 = proc_field("/proc/meminfo", "PageTables");

    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int established = 0, connect_errno = 0, one = 1;
    uint64_t t_conn = now_ns();
    for (int i = 0; i < nconn; i++) {
        conns[i].dead = 1;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) { connect_errno = errno; break; }
        struct timeval tv = { 5, 0 };
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        /* Reset, not FIN, at exit: no TIME_WAIT sockets pile up run after run. */
        struct linger lg = { 1, 0 };
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
            connect_errno = errno;
            close(fd);
            break;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
        if (epoll_ctl(ws[i % nthreads].ep, EPOLL_CTL_ADD, fd, &ev)) { connect_errno = errno; close(fd); break; }
        conns[i].fd = fd;
        conns[i].dead = 0;
        established++;
    }
    double connect_ms = (now_ns() - t_conn) / 1e6;
    if (connect_errno)
        fprintf(stderr, "loadgen: connection #%d of %d failed: %s\n", established + 1, nconn, strerror(connect_errno));

    for (int t = 0; t < nthreads; t++)
        if (pthread_create(&ws[t].tid, NULL, run, &ws[t])) { perror("loadgen: pthread_create"); return 1; }

    /* Warm-up: at least WARMUP_MS, and on until every established
     * connection has had a round trip, but at most MAX_WARMUP_MS more. */
    uint64_t *base = calloc((size_t)nconn, sizeof *base);
    uint64_t tw = now_ns();
    double all_echo_ms = -1;
    for (;;) {
        int k = 0;
        for (int i = 0; i < established; i++) /* connections 0..established-1 */
            k += __atomic_load_n(&conns[i].done, __ATOMIC_RELAXED) > 0 ||
                 __atomic_load_n(&conns[i].dead, __ATOMIC_RELAXED); /* lost: will never echo */
        double el = (now_ns() - tw) / 1e6;
        if (k >= established && all_echo_ms < 0)
            all_echo_ms = el;
        if ((all_echo_ms >= 0 && el >= warm_ms) || el >= warm_ms + max_warm_ms)
            break;
        sleep_ms(5);
    }
    double warm_done_ms = (now_ns() - tw) / 1e6;
    int echoing = 0;
    uint64_t sum0 = 0;
    for (int i = 0; i < nconn; i++) {
        base[i] = __atomic_load_n(&conns[i].done, __ATOMIC_RELAXED);
        sum0 += base[i];
        echoing += base[i] > 0;
    }
    double s0 = spath[0] ? cpu_ms_of(spath) : -1, g0 = cpu_ms_of("/proc/self/stat");
    long long wait0 = 0;
    for (int t = 0; t < nthreads; t++)
        wait0 += run_wait_ns(ws[t].ktid);
    uint64_t t0 = now_ns();
    measuring = 1;
    sleep_ms(dur_ms);
    measuring = 0;
    long long wait1 = 0;
    for (int t = 0; t < nthreads; t++)
        wait1 += run_wait_ns(ws[t].ktid);
    uint64_t sum1 = 0, mn = UINT64_MAX, mx = 0;
    int idle = 0;
    for (int i = 0; i < nconn; i++) {
        uint64_t d = __atomic_load_n(&conns[i].done, __ATOMIC_RELAXED) - base[i];
        sum1 += d;
        if (i < established) {
            if (d < mn) mn = d;
            if (d > mx) mx = d;
            idle += d == 0;
        }
    }
    uint64_t t1 = now_ns();
    double s1 = spath[0] ? cpu_ms_of(spath) : -1, g1 = cpu_ms_of("/proc/self/stat");
    long mem1 = mem_free_kib();
    long kstack1 = proc_field("/proc/meminfo", "KernelStack"), ptables1 = proc_field("/proc/meminfo", "PageTables");
    long srv_threads = -1, srv_hwm = -1, srv_rss = -1;
    int srv_lib = -1;
    if (spath[0]) {
        char st[64];
        snprintf(st, sizeof st, "/proc/%s/status", argv[6]);
        srv_threads = proc_field(st, "Threads");
        srv_hwm = proc_field(st, "VmHWM");
        srv_rss = proc_field(st, "VmRSS");
        srv_lib = has_lib(argv[6]);
    }
    stop = 1;
    for (int t = 0; t < nthreads; t++)
        pthread_join(ws[t].tid, NULL);
    double secs = (t1 - t0) / 1e9;
    /* Percentiles of the window's round trips, all threads together. */
    uint64_t total = 0, lat_max = 0;
    for (int t = 0; t < nthreads; t++) {
        for (int b = 0; b < LAT_BUCKETS; b++)
            total += ws[t].lat[b];
        if (ws[t].lat_max > lat_max) lat_max = ws[t].lat_max;
    }
    double pct[3] = { 0.50, 0.95, 0.99 };
    long lat_us[3] = { -1, -1, -1 };
    for (int k = 0; k < 3 && total; k++) {
        uint64_t want = (uint64_t)(pct[k] * (double)total), seen = 0;
        for (int b = 0; b < LAT_BUCKETS && lat_us[k] < 0; b++) {
            for (int t = 0; t < nthreads; t++)
                seen += ws[t].lat[b];
            if (seen > want) lat_us[k] = lat_of_bucket(b);
        }
    }
    printf("RESULT conns=%d established=%d echoing=%d req_per_s=%.0f idle_conns=%d min_conn=%llu max_conn=%llu "
           "lost=%llu bad_data=%llu server_cpu_ms=%.0f gen_cpu_ms=%.0f window_ms=%.0f connect_ms=%.0f all_echo_ms=%.0f warmup_ms=%.0f threads=%d connect_errno=%d "
           "server_threads=%ld server_hwm_kib=%ld server_rss_kib=%ld server_lib=%d memavail_drop_kib=%ld kstack_kib=%ld pagetables_kib=%ld "
           "gen_wait_ms=%.0f lat_p50_us=%ld lat_p95_us=%ld lat_p99_us=%ld lat_max_us=%llu\n",
           nconn, established, echoing, sum1 / secs, idle, (unsigned long long)(established ? mn : 0),
           (unsigned long long)mx, (unsigned long long)lost, (unsigned long long)bad_data,
           s0 >= 0 && s1 >= 0 ? s1 - s0 : -1, g1 - g0, secs * 1e3, connect_ms, all_echo_ms, warm_done_ms, nthreads, connect_errno,
           srv_threads, srv_hwm, srv_rss, srv_lib, mem0 - mem1, kstack1 - kstack0, ptables1 - ptables0,
           (wait1 - wait0) / 1e6, lat_us[0], lat_us[1], lat_us[2], (unsigned long long)lat_max);
    fflush(stdout);
    (void)sum0;
    /* Closing 10,000 sockets one by one is the kernel's work; exit does it. */
    return (echoing > 0 && bad_data == 0) ? 0 : 1;
}
