// Hand-off: on one worker, one thread blocks in fgets() on a pipe that stays
// silent for 1 s (glibc's stdio reads with its internal read, which no
// preload can convert), another blocks in getaddrinfo() for about 1 s (its
// resolver state points at a local UDP socket that never answers: the
// lookup times out with EAI_AGAIN, offline and deterministic), while a third
// ticks every 5 ms on absolute deadlines. The ticks must stay on time (worst
// lateness under 500 ms): the worker stuck in a call hands its run queue over
// to another thread. main (pinned to the worker) writes the line after 1 s.
// Without hand-off the fgets blocks the only worker, main never writes, and
// the test hangs until its timeout.
// env: OPENCORO_WORKERS=1
// native: same
// timeout: 15
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define PERIOD_NS 5000000L /* 5 ms */
#define MIN_TICKS 200      /* 1 s */
#define LATE_LIMIT_MS 500.0

static FILE *in;
static char line[64];
static int fgets_ok;
static struct sockaddr_in silent; /* a UDP socket nobody reads */
static int gai_rc;
static atomic_int blocked_done;
static double worst_late_ms;
static int ticks;

static void *reader(void *arg) {
    (void)arg;
    fgets_ok = fgets(line, sizeof line, in) != NULL;
    atomic_fetch_add(&blocked_done, 1);
    return NULL;
}

static void *resolver(void *arg) {
    (void)arg;
    /* _res is this thread's resolver state: one server, one try, 1 s. */
    CHECK(res_init() == 0);
    _res.nscount = 1;
    _res.nsaddr_list[0] = silent;
    _res.retrans = 1;
    _res.retry = 1;
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    /* absolute (trailing dot: no search list), not in /etc/hosts */
    gai_rc = getaddrinfo("opencoro-handoff.invalid.", "80", &hints, &ai);
    if (gai_rc == 0) freeaddrinfo(ai);
    atomic_fetch_add(&blocked_done, 1);
    return NULL;
}

static double ns_of(const struct timespec *t) { return t->tv_sec * 1e9 + t->tv_nsec; }

static void *ticker(void *arg) {
    (void)arg;
    struct timespec next, now;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (ticks < MIN_TICKS || atomic_load(&blocked_done) < 2) {
        next.tv_nsec += PERIOD_NS;
        if (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) != 0) {}
        clock_gettime(CLOCK_MONOTONIC, &now);
        double late = (ns_of(&now) - ns_of(&next)) / 1e6;
        if (late > worst_late_ms) worst_late_ms = late;
        ticks++;
    }
    return NULL;
}

static const char *gai_name(int rc) {
    switch (rc) {
    case 0: return "0 (resolved)";
    case EAI_AGAIN: return "EAI_AGAIN";
    case EAI_NONAME: return "EAI_NONAME";
    case EAI_FAIL: return "EAI_FAIL";
    case EAI_SYSTEM: return "EAI_SYSTEM";
    default: return "another EAI_ code";
    }
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int p[2];
    CHECK(pipe(p) == 0);
    in = fdopen(p[0], "r");
    CHECK(in != NULL);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(u >= 0);
    silent.sin_family = AF_INET;
    silent.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(u, (struct sockaddr *)&silent, sizeof silent) == 0);
    socklen_t len = sizeof silent;
    CHECK(getsockname(u, (struct sockaddr *)&silent, &len) == 0);

    pthread_t r, g, t;
    CHECK(pthread_create(&r, NULL, reader, NULL) == 0);
    CHECK(pthread_create(&g, NULL, resolver, NULL) == 0);
    CHECK(pthread_create(&t, NULL, ticker, NULL) == 0);
    sleep(1);
    static const char msg[] = "a line from main after 1 s\n";
    CHECK(write(p[1], msg, sizeof msg - 1) == (ssize_t)(sizeof msg - 1));
    CHECK(pthread_join(r, NULL) == 0);
    CHECK(pthread_join(g, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);

    printf("fgets: %s", fgets_ok ? line : "(nothing)\n");
    printf("getaddrinfo of a name the silent server never answers: %s\n", gai_name(gai_rc));
    char q[512];
    printf("the query reached the silent server: %s\n", recv(u, q, sizeof q, MSG_DONTWAIT) > 0 ? "yes" : "no");
    printf("ticker: worst lateness under %.0f ms: %s\n", LATE_LIMIT_MS,
           worst_late_ms < LATE_LIMIT_MS ? "yes" : "no");
    fprintf(stderr, "%d ticks, worst lateness %.2f ms\n", ticks, worst_late_ms);
    fclose(in);
    close(p[1]);
    close(u);
    return 0;
}
