// pthread_exit in C++ unwinds the thread's stack: the destructors of objects
// in every frame run, innermost first, a catch (...) that rethrows sees the
// forced unwind, a catch of abi::__forced_unwind that rethrows too, then
// thread_local destructors run, and pthread_join gets the exit value. Each
// thread blocks (usleep, sched_yield) before it exits (2 workers).
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 10
#include <cxxabi.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include <cstdio>
#include <string>
#include "check.h"

#define N 10

static std::string logs[N];

struct Guard {
    long id;
    char tag;
    Guard(long i, char t) : id(i), tag(t) {}
    ~Guard() { logs[id] += tag; }
};

struct TlsNote {
    long id = -1;
    ~TlsNote() { if (id >= 0) logs[id] += 'T'; }
};
static thread_local TlsNote tls_note;

static __attribute__((noinline)) void depth3(long id) {
    Guard g(id, '3');
    usleep(200 + id * 20);
    pthread_exit((void *)(2000 + id));
}

static __attribute__((noinline)) void depth2(long id) {
    Guard g(id, '2');
    try {
        depth3(id);
    } catch (abi::__forced_unwind &) {
        logs[id] += 'F';
        throw;
    }
    logs[id] += "not reached";
}

static __attribute__((noinline)) void depth1(long id) {
    Guard g(id, '1');
    sched_yield();
    try {
        depth2(id);
    } catch (...) {
        logs[id] += 'C';
        throw;
    }
    logs[id] += "not reached";
}

static void *worker(void *arg) {
    long id = (long)arg;
    tls_note.id = id;
    Guard g(id, '0');
    depth1(id);
    logs[id] += "not reached";
    return nullptr;
}

int main() {
    pthread_t t[N];
    for (long i = 0; i < N; i++) CHECK(pthread_create(&t[i], nullptr, worker, (void *)i) == 0);
    int bad = 0;
    for (long i = 0; i < N; i++) {
        void *r;
        CHECK(pthread_join(t[i], &r) == 0);
        if (r != (void *)(2000 + i) || logs[i] != "3F2C10T") {
            std::printf("thread %ld: value %ld, order %s\n", i, (long)r, logs[i].c_str());
            bad++;
        }
    }
    std::printf("order in thread 0: %s\n", logs[0].c_str());
    std::printf("threads with a wrong exit value or order: %d of %d\n", bad, N);
    return 0;
}
