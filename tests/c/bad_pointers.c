// Hooked calls given a pointer to unmapped memory answer as the kernel does
// (EFAULT), with a thread alive so that the runtime's paths run: nanosleep,
// clock_nanosleep, futex (bad word, bad timeout), sigsuspend, sigwaitinfo,
// select (bad fd_set), poll, readv (bad vector), connect. Before, the hooks
// read the program's pointers themselves and the process died of SIGSEGV
// (nanosleep, futex, sigsuspend, select, clock_nanosleep, sigwaitinfo).
// native: same
// timeout: 20
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define R(expr)                                                              \
    do {                                                                     \
        errno = 0;                                                           \
        long r_ = (long)(expr);                                              \
        int e_ = errno;                                                      \
        printf("%-45s -> %ld %s\n", #expr, r_, e_ ? strerrorname_np(e_) : "");  \
    } while (0)

int main(void) {
    CHECK_ON_RUNTIME();
    company_start();
    void *bad = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(bad != MAP_FAILED && munmap(bad, 4096) == 0);
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    int word = 0;
    R(nanosleep(bad, NULL));
    R(clock_nanosleep(CLOCK_MONOTONIC, 0, bad, NULL));
    R(syscall(SYS_futex, bad, 0, 0, NULL, NULL, 0));
    R(syscall(SYS_futex, &word, 0, 0, bad, NULL, 0));
    R(sigsuspend(bad));
    R(sigwaitinfo(bad, NULL));
    R(select(4, bad, NULL, NULL, &(struct timeval){0, 10000}));
    R(poll(bad, 1, 10));
    R(readv(sv[0], bad, 1));
    R(connect(sv[0], bad, 16));
    company_end();
    return 0;
}
