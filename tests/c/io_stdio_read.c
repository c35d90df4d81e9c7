// stdio reads on a pipe in a coroutine that shares its worker: fgets and
// fread must wait for the data (a plain thread writes it 150 ms later)
// while the ticker on the same worker keeps ticking, and return it. glibc's
// stdio reads through its internal read, which an LD_PRELOAD library cannot
// interpose, so today the whole worker blocks.
// env: OPENCORO_WORKERS=1
// native: same
// link: no
// timeout: 20
#include "io_common.h"

int main(void) {
    int p[2];
    char line[64];
    CHECK(pipe(p) == 0);
    FILE *in = fdopen(p[0], "r");
    CHECK(in != NULL);
    io_ticker_start(2000);

    pthread_t t = io_write_after(150, p[1], "a line\nrest", 11);
    long k0 = io_ticks();
    CHECK(fgets(line, sizeof line, in) != NULL && strcmp(line, "a line\n") == 0);
    long ticked = io_ticks() - k0;
    io_wait(t);
    printf("fgets got the line\n");
    CHECKF(ticked >= 3, "the ticker ticked %ld times while fgets waited", ticked);

    t = io_write_after(150, p[1], "!", 1);
    k0 = io_ticks();
    CHECK(fread(line, 1, 5, in) == 5 && memcmp(line, "rest!", 5) == 0);
    ticked = io_ticks() - k0;
    io_wait(t);
    printf("fread got 5 bytes\n");
    CHECKF(ticked >= 3, "the ticker ticked %ld times while fread waited", ticked);

    CHECK(fclose(in) == 0 && close(p[1]) == 0);
    io_ticker_stop();
    return 0;
}
