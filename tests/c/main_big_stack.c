// main may use a 6 MiB local array, as on the 8 MiB native main stack, even
// when OPENCORO_STACK_SIZE (the coroutines' default) is only 64K: every page
// is written, then read back.
// env: OPENCORO_STACK_SIZE=64K
// ulimit-s: 8192
// native: same
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SIZE (6u << 20)

static __attribute__((noinline)) unsigned long use_big(void) {
    volatile unsigned char big[SIZE];
    for (size_t i = 0; i < SIZE; i += 4096) big[i] = (unsigned char)(i >> 12);
    usleep(1000); /* a switch in the middle: the pages must stay ours */
    big[SIZE - 1] = 1;
    unsigned long sum = 0;
    for (size_t i = 0; i < SIZE; i += 4096) sum += big[i];
    return sum + big[SIZE - 1];
}

int main(void) {
    unsigned long sum = use_big();
    unsigned long want = 1;
    for (size_t i = 0; i < SIZE; i += 4096) want += (unsigned char)(i >> 12);
    printf("sum %s\n", sum == want ? "matches" : "WRONG");
    return 0;
}
