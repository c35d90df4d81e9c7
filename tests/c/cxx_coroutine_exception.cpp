// C++ exceptions inside spawned coroutines: each throws, catches, and (inside
// the catch block, with the exception still "caught" in the C++ runtime's
// per-thread bookkeeping) sleeps and yields, so that it may resume on another
// worker; then it rethrows and catches again. Unwinding must work on
// coroutine stacks and the exception state must follow the coroutine.
// env: OPENCORO_WORKERS=2
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <opencoro.h>

struct Counter {
    int *n;
    ~Counter() { ++*n; }
};

static void *body(void *arg) {
    long i = (long)arg;
    int destroyed = 0;
    long got = -1;
    try {
        try {
            Counter c{&destroyed};
            throw std::runtime_error(std::to_string(i));
        } catch (const std::runtime_error &e) {
            // The exception is live here; suspend while holding it.
            usleep(500 + (i % 7) * 100);
            opencoro_yield();
            if (std::current_exception() == nullptr) return (void *)-2L;
            got = std::stol(e.what());
            throw; // rethrow after having (possibly) moved to another worker
        }
    } catch (const std::exception &e) {
        if (std::stol(e.what()) != got) return (void *)-3L;
    }
    if (std::uncaught_exceptions() != 0) return (void *)-4L;
    if (std::current_exception() != nullptr) return (void *)-5L;
    return (void *)(got + destroyed); // i + 1
}

int main() {
    const int n = 400;
    opencoro_task *t[n];
    for (long i = 0; i < n; i++) {
        t[i] = opencoro_spawn(body, (void *)i, 0);
        if (!t[i]) return 1;
    }
    long sum = 0, bad = 0;
    for (int i = 0; i < n; i++) {
        void *r = nullptr;
        if (opencoro_join(t[i], &r) != 0) return 2;
        if ((long)r != i + 1) bad++;
        sum += (long)r;
    }
    std::printf("bad results: %ld, sum: %ld\n", bad, sum);
    return 0;
}
