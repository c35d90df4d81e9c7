// The shared library dlopen_static_tls.c loads: a __thread variable with an
// initializer and the initial-exec TLS model, so dlopen must place it in the
// static TLS area of every thread (glibc's surplus), and functions that read
// and write it; dls_probe also uses a few KiB of stack. The variable is 136
// bytes; built with -DDLS_SMALL it is a single long (8 bytes).
#include <string.h>

#define DLS_INIT_VALUE 4242
#define DLS_INIT_TEXT "initial-exec TLS, initialised"

struct dls_data {
    long value;
#ifndef DLS_SMALL
    char text[64];
    unsigned char fill[64];
#endif
};

static __thread struct dls_data data __attribute__((tls_model("initial-exec"))) = {
    DLS_INIT_VALUE,
#ifndef DLS_SMALL
    DLS_INIT_TEXT,
    {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
     31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58,
     59, 60, 61, 62, 63, 64},
#endif
};

// 1 when the text and the fill still hold the initializer (always 1 for
// the small variable).
int dls_intact(void) {
#ifndef DLS_SMALL
    if (strcmp(data.text, DLS_INIT_TEXT) != 0) return 0;
    for (int i = 0; i < 64; i++)
        if (data.fill[i] != i + 1) return 0;
#endif
    return 1;
}

// The variable's value and (in *addr) its address; fills and reads 4 KiB
// of its own stack on the way.
__attribute__((noinline)) long dls_probe(void **addr, unsigned seed) {
    volatile unsigned char buf[4096];
    for (unsigned i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(seed + i * 7);
    unsigned sum = 0;
    for (unsigned i = 0; i < sizeof buf; i++) sum += buf[i] ^ (unsigned char)(seed + i * 7);
    *addr = &data;
    return sum == 0 ? data.value : -1;
}

void dls_set(long v) { data.value = v; }

long dls_get(void) { return data.value; }
