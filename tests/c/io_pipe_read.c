// read on an empty pipe suspends only the reading coroutine: a ticker on the
// same worker keeps ticking while main waits for data that a plain thread
// writes 200 ms later. Partial reads return what is there, a zero-length
// read returns 0 at once, EOF returns 0 once the writer closes, a writer
// coroutine on the same worker wakes a reader, and 50 readers blocked on 50
// pipes each get their own data.
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 20
#include "io_common.h"

#define READERS 50

/* Sizes through a volatile, so that a fortified build (io_pipe_read_fortify)
 * calls __read_chk rather than the plain read. */
static volatile size_t BIG = 100;

struct reader {
    int fd;
    int id;
    char got[32];
    ssize_t n;
};

static void *read_one(void *p) {
    struct reader *r = p;
    r->n = read(r->fd, r->got, BIG < sizeof r->got ? BIG : sizeof r->got);
    return NULL;
}

struct cowriter {
    int fd;
    unsigned long long base; /* fd waits registered before the reader's */
};

static void *write_later(void *p) {
    struct cowriter *w = p;
    wait_fd_waits(w->base, 1); /* the reader is waiting now */
    CHECK(write(w->fd, "from a coroutine", 16) == 16);
    return NULL;
}

int main(void) {
    int p[2];
    char buf[100];
    CHECK(pipe(p) == 0);
    io_ticker_start(2000);

    /* 1. Empty pipe: the read waits for the thread's write, the ticker ticks. */
    pthread_t w = io_write_after(200, p[1], "hello", 5);
    long t0 = io_ticks();
    double s = io_now_ms();
    ssize_t n = read(p[0], buf, BIG);
    double waited = io_now_ms() - s;
    long ticked = io_ticks() - t0;
    CHECKF(n == 5 && memcmp(buf, "hello", 5) == 0, "read returned %zd (%s)", n, n < 0 ? ERRNAME(errno) : "");
    CHECKF(waited >= 150, "read returned after %.0f ms, before the data was written", waited);
    CHECKF(ticked >= 5, "the ticker ticked %ld times while read waited %.0f ms", ticked, waited);
    io_wait(w);
    printf("read on an empty pipe waited for the data: %.*s\n", (int)n, buf);

    /* 2. Partial reads: a read returns what is there, not what was asked. */
    CHECK(write(p[1], "0123456789", 10) == 10);
    n = read(p[0], buf, 4);
    CHECKF(n == 4 && memcmp(buf, "0123", 4) == 0, "n=%zd", n);
    n = read(p[0], buf, BIG);
    CHECKF(n == 6 && memcmp(buf, "456789", 6) == 0, "n=%zd", n);
    printf("partial reads: 4 then 6 bytes\n");

    /* 3. A zero-length read on an empty pipe returns 0 at once. */
    s = io_now_ms();
    n = read(p[0], buf, 0);
    CHECKF(n == 0, "read of 0 bytes returned %zd (%s)", n, n < 0 ? ERRNAME(errno) : "");
    CHECKF(io_now_ms() - s < 1000, "read of 0 bytes took %.0f ms", io_now_ms() - s);
    printf("zero-length read returned 0\n");

    /* 4. A writer coroutine on the same worker wakes the reader. */
    struct cowriter cw = {p[1], fd_waits_registered()};
    io_task wt = io_spawn(write_later, &cw);
    n = read(p[0], buf, BIG);
    CHECKF(n == 16 && memcmp(buf, "from a coroutine", 16) == 0, "n=%zd", n);
    io_join(wt);
    printf("woken by a coroutine: %.*s\n", (int)n, buf);

    /* 5. Data, then EOF once the writer closes (while the reader waits). */
    CHECK(write(p[1], "last", 4) == 4);
    pthread_t c = io_close_after(150, p[1]);
    n = read(p[0], buf, BIG);
    CHECKF(n == 4, "n=%zd", n);
    t0 = io_ticks();
    s = io_now_ms();
    n = read(p[0], buf, BIG);
    waited = io_now_ms() - s;
    ticked = io_ticks() - t0;
    CHECKF(n == 0, "read at EOF returned %zd (%s)", n, n < 0 ? ERRNAME(errno) : "");
    CHECKF(ticked >= 3, "the ticker ticked %ld times while read waited %.0f ms for EOF", ticked, waited);
    io_wait(c);
    n = read(p[0], buf, BIG);
    CHECK(n == 0);
    printf("EOF after the writer closed: read returned 0 (twice)\n");
    CHECK(close(p[0]) == 0);

    /* 6. Many readers blocked at once, each on its own pipe; a thread writes
     * to them in reverse order. */
    static struct reader rd[READERS];
    static int fds[READERS][2];
    io_task tasks[READERS];
    for (int i = 0; i < READERS; i++) {
        CHECK(pipe(fds[i]) == 0);
        rd[i].fd = fds[i][0];
        rd[i].id = i;
        tasks[i] = io_spawn(read_one, &rd[i]);
    }
    pthread_t ws[READERS];
    for (int i = READERS - 1; i >= 0; i--) {
        char msg[32];
        int len = snprintf(msg, sizeof msg, "message %d", i);
        ws[i] = io_write_after(20 + (READERS - 1 - i), fds[i][1], msg, len);
    }
    int good = 0;
    for (int i = 0; i < READERS; i++) {
        io_join(tasks[i]);
        io_wait(ws[i]);
        char want[32];
        int len = snprintf(want, sizeof want, "message %d", i);
        if (rd[i].n == len && memcmp(rd[i].got, want, len) == 0) good++;
        else printf("reader %d got %zd bytes\n", i, rd[i].n);
        close(fds[i][0]);
        close(fds[i][1]);
    }
    printf("%d of %d blocked readers got their own message\n", good, READERS);

    long total = io_ticker_stop();
    CHECK(total > 0);
    return 0;
}
