// The runtime's statistics and listener (opencoro.h): 50 threads that
// sleep, wait on a pipe and fsync a file; the listener sees every
// creation and completion and as many resumes as suspends plus
// completions, but for main's own: main, a plain function until its first
// pthread_create made it a task (and resumed it), is running as it reads
// them; opencoro_stats counts what ran; removing the listener stops
// the calls. OPENCORO_STATS=1 prints the counters at exit.
// env: OPENCORO_STATS=1
// expect-stderr: (stats_listener): 2 workers; coroutines live
// expect-stderr: : worker 0: coroutines run
// expect-stderr: : worker 1: coroutines run
// env: OPENCORO_WORKERS=2
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <opencoro.h>

#define N 50

static atomic_long creates, suspends, resumes, blockings, completes;
static int pipes[N][2];
static char path[] = "/tmp/opencoro-stats-XXXXXX";

static void on_create(void *u, uint64_t t) { (void)u; (void)t; creates++; }
static void on_suspend(void *u, uint64_t t) { (void)u; (void)t; suspends++; }
static void on_resume(void *u, uint64_t t) { (void)u; (void)t; resumes++; }
static void on_blocking(void *u, uint64_t t) { (void)u; (void)t; blockings++; }
static void on_complete(void *u, uint64_t t) { (void)u; (void)t; completes++; }

static void *work(void *arg) {
    long i = (long)arg;
    usleep(1000);
    char c;
    if (read(pipes[i][0], &c, 1) != 1) return (void *)1;
    if (i == 0) {
        int fd = open(path, O_WRONLY);
        if (fd < 0 || write(fd, "x", 1) != 1 || fsync(fd) != 0) return (void *)1;
        close(fd);
    }
    return NULL;
}

int main(void) {
    int fd = mkstemp(path);
    if (fd < 0) return 1;
    close(fd);
    static int user = 7;
    opencoro_listener l = {on_create, on_suspend, on_resume, on_blocking, on_complete};
    opencoro_set_listener(&l, &user);
    pthread_t t[N];
    for (long i = 0; i < N; i++) {
        if (pipe(pipes[i]) != 0 || pthread_create(&t[i], NULL, work, (void *)i) != 0) return 2;
    }
    usleep(20000);
    for (int i = 0; i < N; i++)
        if (write(pipes[i][1], "x", 1) != 1) return 3;
    long bad = 0;
    for (int i = 0; i < N; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad += r != NULL;
    }
    opencoro_set_listener(NULL, NULL);
    long c = creates, s = suspends, r = resumes, b = blockings, d = completes;
    pthread_t extra;
    pthread_create(&extra, NULL, work, (void *)1);
    write(pipes[1][1], "x", 1);
    pthread_join(extra, NULL);
    unlink(path);

    printf("threads ok: %s\n", bad == 0 ? "yes" : "no");
    printf("listener: creates >= %d: %s, completes >= %d: %s, resumes == suspends + completes: %s, blocking calls seen: %s\n", N,
           c >= N ? "yes" : "no", N, d >= N ? "yes" : "no", r == s + d + 1 ? "yes" : "no", b >= 1 ? "yes" : "no");
    printf("listener removed: %s\n", creates == c && completes == d ? "yes" : "no");

    opencoro_stats_totals tot;
    opencoro_worker_stats w[16];
    int n = opencoro_stats(&tot, w, 16);
    uint64_t run = 0, sw = 0, timers = 0, waits = 0;
    for (int i = 0; i < n && i < 16; i++) {
        run += w[i].coroutines_run;
        sw += w[i].switches;
        timers += w[i].timers_fired;
        waits += w[i].reactor_waits;
    }
    printf("stats: slots >= workers: %s, coroutines run >= %d: %s, switches >= run: %s, timers fired >= %d: %s, reactor waits >= 1: %s\n",
           (uint64_t)n >= tot.workers && tot.workers == 2 ? "yes" : "no", N + 1, run >= N + 1 ? "yes" : "no", sw >= run ? "yes" : "no", N,
           timers >= N ? "yes" : "no", waits >= 1 ? "yes" : "no");
    printf("stats: peak live >= %d: %s, live now %llu, peak stack > 0: %s\n", N + 1, tot.peak_live_coroutines >= N + 1 ? "yes" : "no",
           (unsigned long long)tot.live_coroutines, tot.peak_stack_bytes > 0 ? "yes" : "no");
    return 0;
}
