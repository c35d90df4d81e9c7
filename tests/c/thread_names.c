// pthread_setname_np / pthread_getname_np: a new thread starts with its
// creator's name; a thread names itself and reads it back (also after
// blocking); main renames another thread while that one waits in read() and
// both see the new name; other threads' names are untouched; names of 16 or
// more characters and buffers under 16 bytes give ERANGE.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 10
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

#define N 6

static char main_name[16];
static int go[N][2];     /* main -> thread i: a byte when main has done its part */
static int done[N][2];   /* thread i -> main */

static void *worker(void *arg) {
    long id = (long)arg;
    char buf[16], small[15], want[16];
    char b = 0;
    /* Inherited from the creator (main, still unnamed). */
    CHECK(pthread_getname_np(pthread_self(), buf, sizeof buf) == 0);
    CHECK(strcmp(buf, main_name) == 0);
    CHECK(pthread_getname_np(pthread_self(), small, sizeof small) == ERANGE);
    CHECK(pthread_setname_np(pthread_self(), "0123456789abcdef") == ERANGE); /* 16 chars */
    CHECK(pthread_getname_np(pthread_self(), buf, sizeof buf) == 0);
    CHECK(strcmp(buf, main_name) == 0);                                       /* unchanged */
    snprintf(want, sizeof want, "own-%ld", id);
    CHECK(pthread_setname_np(pthread_self(), want) == 0);
    usleep(1000);
    CHECK(pthread_getname_np(pthread_self(), buf, sizeof buf) == 0);
    CHECK(strcmp(buf, want) == 0);
    CHECK(write(done[id][1], &b, 1) == 1);
    /* Main renames this thread while it waits here. */
    CHECK(read(go[id][0], &b, 1) == 1);
    if (id % 2 == 0) snprintf(want, sizeof want, "by-main-%ld", id);
    CHECK(pthread_getname_np(pthread_self(), buf, sizeof buf) == 0);
    CHECK(strcmp(buf, want) == 0);
    /* The longest name that fits: 15 characters. */
    CHECK(pthread_setname_np(pthread_self(), "0123456789abcde") == 0);
    CHECK(pthread_getname_np(pthread_self(), buf, sizeof buf) == 0);
    CHECK(strcmp(buf, "0123456789abcde") == 0);
    CHECK(write(done[id][1], &b, 1) == 1);
    CHECK(read(go[id][0], &b, 1) == 1); /* stay alive until main has looked */
    return NULL;
}

int main(void) {
    CHECK(pthread_getname_np(pthread_self(), main_name, sizeof main_name) == 0);
    pthread_t t[N];
    char b = 0, buf[16], want[16];
    for (long i = 0; i < N; i++) {
        CHECK(pipe(go[i]) == 0 && pipe(done[i]) == 0);
        CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    }
    for (long i = 0; i < N; i++) CHECK(read(done[i][0], &b, 1) == 1);
    /* Every thread has named itself and now waits in read(). */
    for (long i = 0; i < N; i++) {
        snprintf(want, sizeof want, "own-%ld", i);
        CHECK(pthread_getname_np(t[i], buf, sizeof buf) == 0);
        CHECK(strcmp(buf, want) == 0);
        CHECK(pthread_getname_np(t[i], buf, 15) == ERANGE);
        CHECK(pthread_setname_np(t[i], "0123456789abcdefg") == ERANGE);
        if (i % 2 == 0) {
            snprintf(want, sizeof want, "by-main-%ld", i);
            CHECK(pthread_setname_np(t[i], want) == 0);
            CHECK(pthread_getname_np(t[i], buf, sizeof buf) == 0);
            CHECK(strcmp(buf, want) == 0);
        }
    }
    /* Renaming the others left main's own name alone. */
    CHECK(pthread_getname_np(pthread_self(), buf, sizeof buf) == 0);
    CHECK(strcmp(buf, main_name) == 0);
    for (long i = 0; i < N; i++) CHECK(write(go[i][1], &b, 1) == 1);
    for (long i = 0; i < N; i++) CHECK(read(done[i][0], &b, 1) == 1);
    for (long i = 0; i < N; i++) {
        CHECK(pthread_getname_np(t[i], buf, sizeof buf) == 0);
        CHECK(strcmp(buf, "0123456789abcde") == 0);
    }
    CHECK(pthread_setname_np(pthread_self(), "main-renamed") == 0);
    CHECK(pthread_getname_np(pthread_self(), buf, sizeof buf) == 0);
    CHECK(strcmp(buf, "main-renamed") == 0);
    for (long i = 0; i < N; i++) CHECK(write(go[i][1], &b, 1) == 1);
    for (long i = 0; i < N; i++) CHECK(pthread_join(t[i], NULL) == 0);
    printf("names: own, set by main, inherited and ERANGE all as expected for %d threads\n", N);
    return 0;
}
