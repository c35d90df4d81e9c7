// A signal handler interrupts a sleep in main as it does without the library:
// sleep() returns the seconds left, nanosleep() returns -1 with EINTR and the
// time left in *rem, clock_nanosleep() returns EINTR; the handler runs once
// per signal. (A one-shot ITIMER_REAL of 100 ms delivers SIGALRM to the
// process; the handler is installed without SA_RESTART.)
// native: same
// timeout: 15
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t hits;

static void on_alarm(int sig) {
    (void)sig;
    hits++;
}

static void alarm_in_100ms(void) {
    struct itimerval it = {{0, 0}, {0, 100000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);

    alarm_in_100ms();
    unsigned left = sleep(2);
    printf("sleep(2): returned %s, handler ran %d time(s)\n",
           left >= 1 && left <= 2 ? "the time left" : left == 0 ? "0 (not interrupted)" : "other", (int)hits);

    alarm_in_100ms();
    struct timespec req = {1, 0}, rem = {0, 0};
    errno = 0;
    int r = nanosleep(&req, &rem);
    printf("nanosleep(1 s): %d, errno %s, rem %s, handler ran %d time(s)\n", r,
           errno == EINTR ? "EINTR" : errno == 0 ? "0" : "other",
           rem.tv_sec == 0 && rem.tv_nsec > 500000000 ? "the time left" : "other", (int)hits);

    alarm_in_100ms();
    r = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL);
    printf("clock_nanosleep(1 s): %s, handler ran %d time(s)\n", r == EINTR ? "EINTR" : r == 0 ? "0" : "other",
           (int)hits);
    return 0;
}
