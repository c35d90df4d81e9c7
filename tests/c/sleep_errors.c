// The sleep family with bad arguments returns exactly what libc returns:
// nanosleep gives -1 and sets errno; clock_nanosleep returns the error number
// and leaves errno alone; unsupported clocks behave as in libc. Successful
// calls leave errno and *rem untouched.
// native: same
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *name(int e) {
    switch (e) {
    case 0: return "0";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case ENOTSUP: return "ENOTSUP";
    case 777: return "untouched";
    default: return "other";
    }
}

static void ns(const char *what, time_t sec, long nsec) {
    struct timespec req = {sec, nsec}, rem = {77, 77};
    errno = 777;
    int r = nanosleep(&req, &rem);
    printf("nanosleep(%s) = %d errno %s rem %s\n", what, r, name(errno),
           rem.tv_sec == 77 && rem.tv_nsec == 77 ? "untouched" : "written");
}

static void cns(const char *what, clockid_t clk, int flags, time_t sec, long nsec) {
    struct timespec req = {sec, nsec}, rem = {77, 77};
    errno = 777;
    int r = clock_nanosleep(clk, flags, &req, &rem);
    printf("clock_nanosleep(%s) = %s errno %s rem %s\n", what, name(r), name(errno),
           rem.tv_sec == 77 && rem.tv_nsec == 77 ? "untouched" : "written");
}

int main(void) {
    struct timespec *volatile null_req = NULL;

    ns("nsec -1", 0, -1);
    ns("nsec 1e9", 0, 1000000000);
    ns("sec -1", -1, 0);
    ns("1 ms", 0, 1000000);
    ns("zero", 0, 0);
    errno = 777;
    int r = nanosleep(null_req, NULL);
    printf("nanosleep(NULL) = %d errno %s\n", r, name(errno));

    cns("MONOTONIC nsec -1", CLOCK_MONOTONIC, 0, 0, -1);
    cns("MONOTONIC nsec 1e9", CLOCK_MONOTONIC, 0, 0, 1000000000);
    cns("REALTIME sec -1", CLOCK_REALTIME, 0, -1, 0);
    cns("REALTIME abs sec -1", CLOCK_REALTIME, TIMER_ABSTIME, -1, 0);
    cns("MONOTONIC abs nsec 1e9", CLOCK_MONOTONIC, TIMER_ABSTIME, 0, 1000000000);
    cns("MONOTONIC 1 ms", CLOCK_MONOTONIC, 0, 0, 1000000);
    cns("REALTIME 1 ms", CLOCK_REALTIME, 0, 0, 1000000);
    cns("MONOTONIC abs past", CLOCK_MONOTONIC, TIMER_ABSTIME, 0, 1);
    cns("PROCESS_CPUTIME zero", CLOCK_PROCESS_CPUTIME_ID, 0, 0, 0);
    cns("PROCESS_CPUTIME nsec -1", CLOCK_PROCESS_CPUTIME_ID, 0, 0, -1);
    cns("PROCESS_CPUTIME abs past", CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME, 0, 1);
    cns("THREAD_CPUTIME", CLOCK_THREAD_CPUTIME_ID, 0, 0, 1000);
    cns("clock 12345", 12345, 0, 0, 1000);
    cns("BOOTTIME 1 ms", CLOCK_BOOTTIME, 0, 0, 1000000);
    errno = 777;
    r = clock_nanosleep(CLOCK_MONOTONIC, 0, null_req, NULL);
    printf("clock_nanosleep(MONOTONIC, NULL) = %s errno %s\n", name(r), name(errno));

    errno = 777;
    r = usleep(0);
    printf("usleep(0) = %d errno %s\n", r, name(errno));
    errno = 777;
    r = usleep(1000);
    printf("usleep(1000) = %d errno %s\n", r, name(errno));
    errno = 777;
    unsigned u = sleep(0);
    printf("sleep(0) = %u errno %s\n", u, name(errno));
    errno = 777;
    r = sched_yield();
    printf("sched_yield() = %d errno %s\n", r, name(errno));
    return 0;
}
