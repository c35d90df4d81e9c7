/* libopencoro.so: the small library that programs preload. It maps the
 * runtime (libopencoro_runtime.so, from the same directory) only when the
 * process first needs it, so that a process that never has company (a
 * shell script's `true`, `ls`, `grep`) pays for a few pages, not for the
 * runtime's loading, relocation and start-up.
 *
 * It exports every symbol the runtime interposes. Each one is a jump
 * through a slot (`oc_slot`): empty at first, the slot is filled on the
 * first call, by `oc_resolve`, with
 * - libc's function (dlsym(RTLD_NEXT)), for the calls the runtime serves
 *   only once it runs (kind NEXT);
 * - the runtime's function, for the calls that give the process company or
 *   whose books must start at the first call (kind LOAD: pthread_create,
 *   sigaction, pthread_key_create, ...) and for the C API (kind API): these
 *   load the runtime first.
 * Once the runtime is loaded and on, every slot holds the runtime's own
 * function (the runtime then serves exactly as when preloaded by itself).
 * A jump keeps the caller's registers and stack as they were, so variadic
 * calls (open, fcntl, syscall, clone) and vfork pass through unchanged.
 *
 * The runtime loads at once, in this library's constructor, when a switch
 * is set that acts from the start (OPENCORO_STATS, OPENCORO_LOG, ...: any
 * but those of config::READ_AT_COMPANY; stub_switches.h lists them all),
 * or a name within two edits of a switch (the runtime warns of it); never
 * for libc's calls when OPENCORO=0.
 *
 * `__libc_start_main` is this library's own: `main` runs inside a frame of
 * ours (`oc_main_frame`), so that the runtime, loaded later, can take
 * `main` over where it stands, unwind `pthread_exit` in `main` to that
 * frame, and finish the process's other coroutines when `main` returns.
 *
 * The table of names and kinds (stub_table.h, one OC_HOOK(index, name,
 * kind) line each) is made by build.rs from the runtime's hook tables. */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>

#define NEXT 0
#define LOAD 1
#define API 2

#define OC_HOOK(i, name, kind) +1
enum { OC_N = 0
#include "stub_table.h"
};
#undef OC_HOOK

/* The slots the exported symbols jump through (0: not resolved yet). */
__attribute__((visibility("hidden"))) void *oc_slot[OC_N];

#define OC_HOOK(i, name, kind) #name,
static const char *const oc_names[OC_N] = {
#include "stub_table.h"
};
#undef OC_HOOK

#define OC_HOOK(i, name, kind) kind,
static const unsigned char oc_kinds[OC_N] = {
#include "stub_table.h"
};
#undef OC_HOOK

/* Each exported symbol: jump through its slot, or to `oc_lazy` with the
 * slot's index in %r11 (scratch in the C calling convention, never an
 * argument). */
#define OC_HOOK(i, name, kind)                                                  \
    __asm__(".text\n.globl " #name "\n.type " #name ",@function\n.p2align 4\n" \
            #name ":\n"                                                         \
            "\tmovq oc_slot+8*" #i "(%rip), %r11\n"                             \
            "\ttestq %r11, %r11\n"                                              \
            "\tjz 1f\n"                                                         \
            "\tjmpq *%r11\n"                                                    \
            "1:\tmovl $" #i ", %r11d\n"                                         \
            "\tjmp oc_lazy\n"                                                   \
            ".size " #name ", .-" #name "\n");
#include "stub_table.h"
#undef OC_HOOK

__attribute__((visibility("hidden"))) void *oc_resolve(unsigned i);

/* Saves every register that may carry an argument (%rax: the vector
 * register count of a variadic call), resolves the slot, restores them
 * and jumps to the function as the caller called it. */
__asm__(".text\n.p2align 4\n.type oc_lazy,@function\noc_lazy:\n"
        "\t.cfi_startproc\n"
        "\tpushq %rbp\n\t.cfi_def_cfa_offset 16\n\t.cfi_offset %rbp, -16\n"
        "\tmovq %rsp, %rbp\n\t.cfi_def_cfa_register %rbp\n"
        "\tpushq %rdi\n\tpushq %rsi\n\tpushq %rdx\n\tpushq %rcx\n"
        "\tpushq %r8\n\tpushq %r9\n\tpushq %rax\n\tpushq %r10\n"
        "\tsubq $128, %rsp\n"
        "\tmovdqu %xmm0, 0(%rsp)\n\tmovdqu %xmm1, 16(%rsp)\n"
        "\tmovdqu %xmm2, 32(%rsp)\n\tmovdqu %xmm3, 48(%rsp)\n"
        "\tmovdqu %xmm4, 64(%rsp)\n\tmovdqu %xmm5, 80(%rsp)\n"
        "\tmovdqu %xmm6, 96(%rsp)\n\tmovdqu %xmm7, 112(%rsp)\n"
        "\tmovl %r11d, %edi\n"
        "\tcall oc_resolve\n"
        "\tmovq %rax, %r11\n"
        "\tmovdqu 0(%rsp), %xmm0\n\tmovdqu 16(%rsp), %xmm1\n"
        "\tmovdqu 32(%rsp), %xmm2\n\tmovdqu 48(%rsp), %xmm3\n"
        "\tmovdqu 64(%rsp), %xmm4\n\tmovdqu 80(%rsp), %xmm5\n"
        "\tmovdqu 96(%rsp), %xmm6\n\tmovdqu 112(%rsp), %xmm7\n"
        "\taddq $128, %rsp\n"
        "\tpopq %r10\n\tpopq %rax\n\tpopq %r9\n\tpopq %r8\n"
        "\tpopq %rcx\n\tpopq %rdx\n\tpopq %rsi\n\tpopq %rdi\n"
        "\tpopq %rbp\n\t.cfi_def_cfa %rsp, 8\n"
        "\tjmpq *%r11\n"
        "\t.cfi_endproc\n"
        ".size oc_lazy, .-oc_lazy\n");

static long raw_syscall3(long nr, long a, long b, long c) {
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}

/* One line on stderr, `opencoro: pid N (program): ...` as the runtime's
 * own, by a raw system call (this library's own `write` is one of the
 * jumps above). */
static void say(const char *a, const char *b, const char *c) {
    char line[1024], pid[24];
    long v = raw_syscall3(SYS_getpid, 0, 0, 0);
    unsigned d = sizeof pid;
    pid[--d] = 0;
    do
        pid[--d] = (char)('0' + v % 10);
    while ((v /= 10) && d);
    size_t n = 0;
    const char *parts[] = {"opencoro: pid ", pid + d, " (", program_invocation_short_name, "): ", a, b, c};
    for (unsigned k = 0; k < sizeof parts / sizeof parts[0]; k++)
        for (const char *p = parts[k]; p && *p && n + 1 < sizeof line; p++)
            line[n++] = *p;
    line[n++] = '\n';
    raw_syscall3(SYS_write, 2, (long)line, (long)n);
}

/* What the runtime is told when it is attached (`opencoro_rt_attach`;
 * the runtime's `front` module has the same layout). */
struct oc_front {
    uint32_t version;    /* 1 */
    uint32_t main_state; /* 0: before __libc_start_main; 1: main announced; 2: main entered */
    uintptr_t main_tp;   /* the thread pointer `main` runs on (state 2) */
    uintptr_t main_sp;   /* where pthread_exit in main unwinds to (state 2) */
    const char *path;    /* this library's file, as loaded */
};

static struct oc_front oc_front = {1, 0, 0, 0, 0};

enum { UNLOADED, LOADING, LOADED };
static int oc_state = UNLOADED;
static int oc_off;    /* OPENCORO=0: libc's calls never load the runtime */
static int oc_on;     /* the runtime is loaded and serving */
static char oc_error[512];
static void (*oc_main_mode)(void);
static void (*oc_main_entered)(uintptr_t tp, uintptr_t sp);
static int (*oc_main_returns)(int result);

/* Loads the runtime and, when it is on, points every slot at it. Runs on
 * the process's only thread (its first company comes through here), or in
 * this library's constructor. A call made while the runtime's own
 * constructor runs (state LOADING) is served by libc. */
static void oc_load(void) {
    if (__atomic_load_n(&oc_state, __ATOMIC_ACQUIRE) != UNLOADED)
        return;
    __atomic_store_n(&oc_state, LOADING, __ATOMIC_RELAXED);
    char path[PATH_MAX];
    Dl_info me;
    if (!dladdr((void *)oc_load, &me) || !me.dli_fname) {
        strcpy(oc_error, "cannot find libopencoro.so's own file");
        say(oc_error, "", "");
        __atomic_store_n(&oc_state, LOADED, __ATOMIC_RELEASE);
        return;
    }
    oc_front.path = me.dli_fname;
    const char *slash = strrchr(me.dli_fname, '/');
    size_t dir = slash ? (size_t)(slash - me.dli_fname + 1) : 0;
    static const char file[] = "libopencoro_runtime.so";
    if (dir + sizeof file > sizeof path) {
        strcpy(oc_error, "the library's path is too long");
        say(oc_error, "", "");
        __atomic_store_n(&oc_state, LOADED, __ATOMIC_RELEASE);
        return;
    }
    memcpy(path, me.dli_fname, dir);
    memcpy(path + dir, file, sizeof file);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    int (*attach)(const struct oc_front *) = h ? (int (*)(const struct oc_front *))dlsym(h, "opencoro_rt_attach") : 0;
    if (!attach) {
        const char *e = dlerror();
        size_t n = 0;
        for (const char *c = e ? e : path; *c && n + 1 < sizeof oc_error; c++)
            oc_error[n++] = *c;
        oc_error[n] = 0;
        say("cannot load the runtime (", oc_error, "); the program runs without it");
        __atomic_store_n(&oc_state, LOADED, __ATOMIC_RELEASE);
        return;
    }
    oc_main_mode = (void (*)(void))dlsym(h, "opencoro_rt_main_mode");
    oc_main_entered = (void (*)(uintptr_t, uintptr_t))dlsym(h, "opencoro_rt_main_entered");
    oc_main_returns = (int (*)(int))dlsym(h, "opencoro_rt_main_returns");
    int on = attach(&oc_front);
    for (unsigned i = 0; i < OC_N; i++) {
        if (!on && oc_kinds[i] != API)
            continue;
        void *p = dlsym(h, oc_names[i]);
        if (p)
            __atomic_store_n(&oc_slot[i], p, __ATOMIC_RELEASE);
    }
    oc_on = on && oc_main_entered && oc_main_returns;
    __atomic_store_n(&oc_state, LOADED, __ATOMIC_RELEASE);
}

static void *oc_resolve_slot(unsigned i);

/* The slot's function, for the call being made: the caller's errno stays
 * as it was (loading the runtime and dlsym set it on their way). */
void *oc_resolve(unsigned i) {
    int e = errno;
    void *p = oc_resolve_slot(i);
    errno = e;
    return p;
}

static void *oc_resolve_slot(unsigned i) {
    if (oc_kinds[i] == API || (oc_kinds[i] == LOAD && !oc_off))
        oc_load();
    void *p = __atomic_load_n(&oc_slot[i], __ATOMIC_ACQUIRE);
    if (p)
        return p;
    if (oc_kinds[i] == API) {
        say(oc_names[i], ": the runtime could not be loaded: ", oc_error);
        __builtin_trap();
    }
    p = dlsym(RTLD_NEXT, oc_names[i]);
    if (!p) {
        say("cannot find the real ", oc_names[i], " in the libraries after opencoro");
        __builtin_trap();
    }
    /* The runtime's function, stored meanwhile by `oc_load`, wins. */
    void *none = 0;
    if (!__atomic_compare_exchange_n(&oc_slot[i], &none, p, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return none;
    return p;
}

typedef int (*main_fn)(int, char **, char **);
static main_fn oc_program_main;

/* Calls the program's `main`: a frame of its own, so that pthread_exit's
 * unwinding stops right above `main`'s frame. */
__attribute__((noinline)) static int oc_call_main(int argc, char **argv, char **envp) {
    int r = oc_program_main(argc, argv, envp);
    __asm__ volatile("" ::: "memory"); /* not a tail call */
    return r;
}

static int oc_main_frame(int argc, char **argv, char **envp) {
    uintptr_t sp, tp;
    __asm__ volatile("movq %%rsp, %0" : "=r"(sp));
    __asm__ volatile("movq %%fs:0, %0" : "=r"(tp));
    oc_front.main_tp = tp;
    oc_front.main_sp = sp - 8;
    __atomic_store_n(&oc_front.main_state, 2, __ATOMIC_RELEASE);
    if (oc_on)
        oc_main_entered(tp, sp - 8);
    int r = oc_call_main(argc, argv, envp);
    if (__atomic_load_n(&oc_on, __ATOMIC_ACQUIRE))
        r = oc_main_returns(r);
    return r;
}

typedef int (*start_fn)(main_fn, int, char **, void (*)(void), void (*)(void), void (*)(void), void *);

int __libc_start_main(main_fn main, int argc, char **argv, void (*init)(void), void (*fini)(void), void (*rtld_fini)(void), void *stack_end) {
    start_fn real = (start_fn)dlsym(RTLD_NEXT, "__libc_start_main");
    if (!real) {
        say("cannot find the real __libc_start_main", "", "");
        __builtin_trap();
    }
    if (oc_off || (oc_state == LOADED && !oc_on))
        return real(main, argc, argv, init, fini, rtld_fini, stack_end);
    oc_program_main = main;
    oc_front.main_state = 1;
    if (oc_on && oc_main_mode)
        oc_main_mode();
    return real(oc_main_frame, argc, argv, init, fini, rtld_fini, stack_end);
}

extern char **environ;

static const struct {
    const char *name;
    int late;
} oc_switches[] = {
#define OC_SWITCH(name, late) {name, late},
#include "stub_switches.h"
#undef OC_SWITCH
};

/* The edit distance of a[0..na) and b[0..nb), or 3 when it is more than 2
 * (the runtime's `config::edits`, to the same bound). */
static unsigned oc_edits(const char *a, size_t na, const char *b, size_t nb) {
    if (na > nb + 2 || nb > na + 2 || nb >= 64)
        return 3;
    unsigned row[64];
    for (size_t j = 0; j <= nb; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= na; i++) {
        unsigned diag = row[0], best;
        best = row[0] = (unsigned)i;
        for (size_t j = 1; j <= nb; j++) {
            unsigned up = row[j];
            unsigned v = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < v)
                v = up + 1;
            if (row[j - 1] + 1 < v)
                v = row[j - 1] + 1;
            row[j] = v;
            diag = up;
            if (v < best)
                best = v;
        }
        if (best > 2)
            return 3;
    }
    return row[nb];
}

/* Must the runtime load at start-up for `var` ("OPENCORO_X=value")? For a
 * switch that acts from the start (not in config::READ_AT_COMPANY), and
 * for a name within two edits of a switch, which the runtime reports as a
 * likely misspelling. */
static int oc_early(const char *var) {
    size_t n = strcspn(var, "=");
    for (unsigned k = 0; k < sizeof oc_switches / sizeof oc_switches[0]; k++)
        if (strlen(oc_switches[k].name) == n && strncmp(var, oc_switches[k].name, n) == 0)
            return !oc_switches[k].late;
    for (unsigned k = 0; k < sizeof oc_switches / sizeof oc_switches[0]; k++)
        if (oc_edits(var, n, oc_switches[k].name, strlen(oc_switches[k].name)) <= 2)
            return 1;
    return 0;
}

__attribute__((constructor)) static void oc_init(void) {
    /* In secure-execution mode (set-user-ID and the like) the environment
     * is the invoking user's: the switches keep their defaults, as the
     * runtime's own reading does. */
    if (getauxval(AT_SECURE))
        return;
    int eager = 0;
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, "OPENCORO", 8) != 0)
            continue;
        if (strcmp(*e + 8, "=0") == 0)
            oc_off = 1;
        else if ((*e)[8] == '_' && oc_early(*e))
            eager = 1;
    }
    if (eager && !oc_off)
        oc_load();
}
