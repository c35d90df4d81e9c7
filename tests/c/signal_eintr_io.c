// A signal handler interrupts a blocking read or poll in main as it does
// without the library, also when other threads exist (so main's waits are
// suspensions, and the signal may land on any worker): without SA_RESTART
// read() and poll() fail with EINTR; with SA_RESTART the read goes on and
// returns the data written later; poll is never restarted. The handler runs
// once per signal, on main (a __thread flag set by the handler is main's).
// env: OPENCORO_WORKERS=2
// native: same
// timeout: 20
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t hits;
static __thread volatile int handled_here;

static void on_alarm(int sig) {
    (void)sig;
    hits++;
    handled_here = 1;
}

static void handler(int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
}

static void alarm_in_ms(int ms) {
    struct itimerval it = {{0, 0}, {0, ms * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static int p[2];
static void *late_writer(void *arg) {
    (void)arg;
    usleep(400000);
    if (write(p[1], "x", 1) != 1) return (void *)1;
    return NULL;
}

static void *idle_thread(void *arg) {
    (void)arg;
    usleep(1500000);
    return NULL;
}

int main(void) {
    pthread_t other;
    pthread_create(&other, NULL, idle_thread, NULL); /* main has company */
    if (pipe(p) != 0) return 1;
    char c;

    handler(0);
    alarm_in_ms(100);
    errno = 0;
    ssize_t n = read(p[0], &c, 1);
    printf("read, no SA_RESTART: %zd %s, handler ran %d, on main %d\n", n, errno == EINTR ? "EINTR" : "other",
           (int)hits, handled_here);

    handled_here = 0;
    struct pollfd pf = {p[0], POLLIN, 0};
    alarm_in_ms(100);
    errno = 0;
    int r = poll(&pf, 1, 2000);
    printf("poll: %d %s, handler ran %d, on main %d\n", r, errno == EINTR ? "EINTR" : "other", (int)hits, handled_here);

    handled_here = 0;
    handler(SA_RESTART);
    pthread_t w;
    pthread_create(&w, NULL, late_writer, NULL);
    alarm_in_ms(100);
    errno = 0;
    n = read(p[0], &c, 1);
    printf("read, SA_RESTART: %zd '%c', handler ran %d, on main %d\n", n, n == 1 ? c : '?', (int)hits, handled_here);
    pthread_join(w, NULL);
    pthread_join(other, NULL);
    return 0;
}
