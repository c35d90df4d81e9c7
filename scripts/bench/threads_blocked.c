/* threads_blocked.c: N pthreads each blocked in read() on its own socket.
 *
 *   threads_blocked [N [STACK_KIB]]   (N defaults to 10000; STACK_KIB: each
 *                                     thread's stack size, 0 or absent: the
 *                                     default attributes)
 *
 * Plain pthread code, no opencoro header: run it natively and under
 * LD_PRELOAD=libopencoro.so and compare. Each of the N threads (default
 * attributes) reads one byte from its own socket: one end of a socketpair
 * whose other end main keeps. When all N have reached their read() and the
 * process has settled (no thread of it runnable), main measures:
 *
 *   os_threads        "Threads:" of /proc/self/status
 *   hwm_kib, rss_kib  VmHWM (peak RSS) and VmRSS of /proc/self/status
 *   memavail_drop_kib MemAvailable of /proc/meminfo plus the free pages in
 *                     the per-CPU lists (pcp_kib, below) before the first
 *                     pthread_create, minus the same now: memory the threads
 *                     cost the system, including what RSS leaves out (kernel
 *                     stacks, page tables, task structures). System-wide, so
 *                     other activity on the machine shows up in it.
 *   memavail_raw_drop_kib  the fall of MemAvailable alone
 *   pcp_kib           the change of the per-CPU free pages ("count:" lines
 *                     of /proc/zoneinfo; see pcp_kib())
 *   anon_kib, kstack_kib, pagetables_kib, sunreclaim_kib  the growth of
 *                     AnonPages, KernelStack, PageTables and SUnreclaim of
 *                     /proc/meminfo over the same span (system-wide too)
 *
 * then writes one byte to each socket, so each thread wakes, returns, and
 * main joins them all. wall_ms is the time of create + block + wake + join
 * without the measuring pause: (all blocked - first create) + (last join -
 * first wake). Phases: create_ms (the create loop), block_ms (first create
 * to the last thread counted before its read), wake_join_ms, settle_ms (the
 * excluded pause), mem_settle_ms (how long main waited, before creating the
 * threads, for MemAvailable to hold steady).
 *
 * The sockets need 2N fds: RLIMIT_NOFILE is raised to the hard limit, and
 * past it when the process may (CAP_SYS_RESOURCE). If 2N still do not fit
 * (hard limits of 20,000 or less are common), each thread gets a datagram
 * socket of its own bound to an abstract unix address instead, which main
 * writes to from one unbound socket (N+1 fds), and the RESULT line says
 * sockets=dgram.
 *
 * Prints one line "RESULT key=value ..." (lib=1 when libopencoro's symbols
 * are present, for the scripts to check that LD_PRELOAD took). Exit 0 when
 * all N threads were created, blocked, woke with their byte and were joined;
 * 1 otherwise (a failed pthread_create is reported with the limits that
 * bound thread creation).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long n_threads;
static int *rfd;                /* the socket each thread reads */
static int *wfd;                /* the other end (socketpair mode) */
static int dgram;               /* 1: abstract-address datagram sockets */
static int sender = -1;         /* dgram mode: the one socket main writes from */
static long arrived;            /* threads that reached their read() */
static int efd;                 /* the last one to arrive signals main */
static long bad_reads;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

static void *reader(void *arg)
{
    long i = (long)(intptr_t)arg;
    if (__atomic_add_fetch(&arrived, 1, __ATOMIC_ACQ_REL) == n_threads) {
        uint64_t one = 1;
        if (write(efd, &one, sizeof one) != sizeof one)
            perror("threads_blocked: eventfd write");
    }
    char c;
    ssize_t r;
    do
        r = read(rfd[i], &c, 1);
    while (r < 0 && errno == EINTR);
    if (r != 1 || c != 'x')
        __atomic_add_fetch(&bad_reads, 1, __ATOMIC_RELAXED);
    return (void *)(intptr_t)(i + 1);
}

/* Reads a whole small file (/proc) into buf with plain open/read. */
static ssize_t slurp(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off + 1 < size) {
        ssize_t r = read(fd, buf + off, size - 1 - off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        off += (size_t)r;
    }
    close(fd);
    buf[off] = 0;
    return (ssize_t)off;
}

/* The number after "KEY:" in a /proc status-like file, or -1. */
static long field(const char *path, const char *key)
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

/* Free pages held in the per-CPU lists of the page allocator ("count:" of
 * each pageset in /proc/zoneinfo), in KiB. MemFree and MemAvailable leave
 * them out, and recent kernels keep up to hundreds of MiB there after a
 * burst of frees (such as the exit of the previous run), which they then
 * hand out before touching MemFree: without adding them back, a MemAvailable
 * drop can be off by that much either way. */
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

struct meminfo { long avail, pcp, kstack, ptables, sunrecl, anon; };

static struct meminfo meminfo(void)
{
    struct meminfo m = {
        field("/proc/meminfo", "MemAvailable"), pcp_kib(), field("/proc/meminfo", "KernelStack"),
        field("/proc/meminfo", "PageTables"), field("/proc/meminfo", "SUnreclaim"),
        field("/proc/meminfo", "AnonPages"),
    };
    return m;
}

/* Threads of this process in state R (running or runnable), the calling
 * one excepted; -1 if /proc/self/task cannot be read. */
static long runnable_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    char me[32], path[300], buf[512];
    snprintf(me, sizeof me, "%ld", (long)gettid());
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, me))
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        if (slurp(path, buf, sizeof buf) <= 0)
            continue; /* gone meanwhile */
        char *p = strrchr(buf, ')');
        if (p && p[1] == ' ' && p[2] == 'R')
            n++;
    }
    closedir(d);
    return n;
}

/* Makes room for `need` fds: the soft limit up to the hard one, and both
 * up to `need` where allowed. Returns the soft limit in force. */
static long raise_nofile(long need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl))
        return -1;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < (rlim_t)need) {
        struct rlimit more = { (rlim_t)need, (rlim_t)need };
        if (setrlimit(RLIMIT_NOFILE, &more) == 0)
            rl = more;
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur == RLIM_INFINITY ? 1L << 30 : (long)rl.rlim_cur;
}

static void dgram_addr(struct sockaddr_un *a, socklen_t *len, long i)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    /* abstract namespace: sun_path[0] == 0, no file left behind */
    int k = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "opencoro-threads-blocked.%ld.%ld", (long)getpid(), i);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + k);
}

static int make_sockets(void)
{
    for (long i = 0; i < n_threads; i++) {
        if (!dgram) {
            int sv[2];
            if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
                fprintf(stderr, "threads_blocked: socketpair #%ld: %s\n", i, strerror(errno));
                return -1;
            }
            rfd[i] = sv[0];
            wfd[i] = sv[1];
        } else {
            struct sockaddr_un a;
            socklen_t al;
            dgram_addr(&a, &al, i);
            rfd[i] = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (rfd[i] < 0 || bind(rfd[i], (struct sockaddr *)&a, al)) {
                fprintf(stderr, "threads_blocked: datagram socket #%ld: %s\n", i, strerror(errno));
                return -1;
            }
        }
    }
    if (dgram && (sender = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
        perror("threads_blocked: socket");
        return -1;
    }
    return 0;
}

static int wake(long i)
{
    ssize_t w;
    do {
        if (!dgram)
            w = write(wfd[i], "x", 1);
        else {
            struct sockaddr_un a;
            socklen_t al;
            dgram_addr(&a, &al, i);
            w = sendto(sender, "x", 1, 0, (struct sockaddr *)&a, al);
        }
    } while (w < 0 && errno == EINTR);
    return w == 1 ? 0 : -1;
}

static void print_limits(void)
{
    char buf[64];
    struct rlimit rl;
    getrlimit(RLIMIT_NPROC, &rl);
    fprintf(stderr, "threads_blocked: limits: ulimit -u %s", rl.rlim_cur == RLIM_INFINITY ? "unlimited" : "");
    if (rl.rlim_cur != RLIM_INFINITY)
        fprintf(stderr, "%lu", (unsigned long)rl.rlim_cur);
    const char *files[] = { "/proc/sys/kernel/threads-max", "/proc/sys/kernel/pid_max", "/proc/sys/vm/max_map_count" };
    for (int k = 0; k < 3; k++)
        if (slurp(files[k], buf, sizeof buf) > 0)
            fprintf(stderr, ", %s %ld", strrchr(files[k], '/') + 1, strtol(buf, NULL, 10));
    fprintf(stderr, "\n");
}

int main(int argc, char **argv)
{
    n_threads = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;
    long stack_kib = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
    if (n_threads < 1 || stack_kib < 0) {
        fprintf(stderr, "usage: %s [N [STACK_KIB]]\n", argv[0]);
        return 2;
    }
    int lib = dlsym(RTLD_DEFAULT, "opencoro_active") != NULL; /* reported only */

    long need = 2 * n_threads + 64;
    long nofile = raise_nofile(need);
    if (nofile < need) {
        dgram = 1;
        fprintf(stderr, "threads_blocked: fd limit %ld < %ld for %ld socketpairs: using one datagram socket per thread\n",
                nofile, need, n_threads);
        if (nofile < n_threads + 64) {
            fprintf(stderr, "threads_blocked: fd limit %ld is too low even for %ld sockets (raise ulimit -Hn)\n", nofile, n_threads);
            return 1;
        }
    }
    rfd = calloc((size_t)n_threads, sizeof *rfd);
    wfd = calloc((size_t)n_threads, sizeof *wfd);
    pthread_t *tid = calloc((size_t)n_threads, sizeof *tid);
    efd = eventfd(0, EFD_CLOEXEC);
    if (!rfd || !wfd || !tid || efd < 0) {
        perror("threads_blocked: set-up");
        return 1;
    }
    if (make_sockets())
        return 1;

    /* Let MemAvailable settle first: memory a previous run (or the set-up)
     * released is returned to the system with some delay. */
    double t_m = now_ms();
    long prev = field("/proc/meminfo", "MemAvailable");
    for (int steady = 0; steady < 3 && now_ms() - t_m < 3000;) {
        sleep_ms(50);
        long cur = field("/proc/meminfo", "MemAvailable");
        steady = labs(cur - prev) <= 256 ? steady + 1 : 0;
        prev = cur;
    }
    double mem_settle_ms = now_ms() - t_m;
    struct meminfo m0 = meminfo();
    double t0 = now_ms();
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (stack_kib && pthread_attr_setstacksize(&attr, (size_t)stack_kib << 10)) {
        fprintf(stderr, "threads_blocked: stack size %ld KiB refused\n", stack_kib);
        return 2;
    }
    long created = 0;
    for (; created < n_threads; created++) {
        int e = pthread_create(&tid[created], &attr, reader, (void *)(intptr_t)created);
        if (e) {
            fprintf(stderr, "threads_blocked: pthread_create #%ld of %ld failed: %s\n", created + 1, n_threads, strerror(e));
            print_limits();
            break;
        }
    }
    double t_created = now_ms();
    if (created < n_threads) {
        /* wake and join the ones that exist, then report the failure */
        for (long i = 0; i < created; i++)
            wake(i);
        for (long i = 0; i < created; i++)
            pthread_join(tid[i], NULL);
        printf("RESULT n=%ld created=%ld lib=%d ok=0\n", n_threads, created, lib);
        return 1;
    }
    uint64_t v;
    while (read(efd, &v, sizeof v) < 0 && errno == EINTR)
        ;
    double t_blocked = now_ms();

    /* Settle: every other thread of the process asleep, twice in a row. */
    int calm = 0;
    for (int k = 0; k < 500 && calm < 2; k++) {
        long r = runnable_threads();
        calm = r == 0 ? calm + 1 : 0;
        if (calm < 2)
            sleep_ms(10);
    }
    if (calm < 2)
        fprintf(stderr, "threads_blocked: note: some thread was still runnable after 5 s\n");
    long os_threads = field("/proc/self/status", "Threads");
    long hwm = field("/proc/self/status", "VmHWM"), rss = field("/proc/self/status", "VmRSS");
    struct meminfo m1 = meminfo();
    double t_wake = now_ms();

    long wake_fail = 0;
    for (long i = 0; i < n_threads; i++)
        if (wake(i))
            wake_fail++;
    long ok = 0;
    for (long i = 0; i < n_threads; i++) {
        void *r = NULL;
        int e = pthread_join(tid[i], &r);
        if (e)
            fprintf(stderr, "threads_blocked: pthread_join #%ld: %s\n", i, strerror(e));
        else if (r == (void *)(intptr_t)(i + 1))
            ok++;
    }
    double t_end = now_ms();
    if (wake_fail || bad_reads)
        fprintf(stderr, "threads_blocked: %ld wake-up writes failed, %ld threads read something else than their byte\n",
                wake_fail, bad_reads);
    ok -= bad_reads;

    printf("RESULT n=%ld created=%ld lib=%d sockets=%s ok=%ld os_threads=%ld hwm_kib=%ld rss_kib=%ld "
           "memavail_drop_kib=%ld memavail_raw_drop_kib=%ld pcp_kib=%ld anon_kib=%ld kstack_kib=%ld pagetables_kib=%ld sunreclaim_kib=%ld "
           "wall_ms=%.1f create_ms=%.1f block_ms=%.1f wake_join_ms=%.1f settle_ms=%.1f mem_settle_ms=%.0f\n",
           n_threads, created, lib, dgram ? "dgram" : "socketpair", ok, os_threads, hwm, rss,
           (m0.avail + m0.pcp) - (m1.avail + m1.pcp), m0.avail - m1.avail, m1.pcp - m0.pcp,
           m1.anon - m0.anon, m1.kstack - m0.kstack, m1.ptables - m0.ptables, m1.sunrecl - m0.sunrecl,
           (t_blocked - t0) + (t_end - t_wake), t_created - t0, t_blocked - t0, t_end - t_wake, t_wake - t_blocked, mem_settle_ms);
    fflush(stdout);
    return ok == n_threads && !wake_fail ? 0 : 1;
}
