// std::call_once whose routine throws (cppreference's example), with
// another thread alive so that the runtime's pthread_once runs: the
// exception reaches the caller, the flag stays unset, and the next caller
// runs its routine. Before, the once stayed in progress and the second
// call_once waited for good. A second thread then waits on a once whose
// first routine throws, and runs the routine itself.
// native: same
// timeout: 10
#include <atomic>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unistd.h>
#include "check.h"

static std::once_flag flag, flag2;
static std::atomic<int> runs{0};

static void may_throw(bool do_throw) {
    if (do_throw) {
        std::puts("throw: call_once will retry");
        throw std::runtime_error("boom");
    }
    std::puts("did not throw, call_once will not attempt again");
}

static void attempt(bool t) {
    try {
        std::call_once(flag, may_throw, t);
    } catch (const std::exception &e) {
        std::printf("caught: %s\n", e.what());
    }
}

int main() {
    CHECK_ON_RUNTIME();
    setvbuf(stdout, nullptr, _IONBF, 0);
    std::thread sleeper([] { usleep(200000); });
    attempt(true);
    attempt(true);
    attempt(false);
    attempt(true);
    // a thread that waits while the first routine runs, then throws
    std::thread other([] {
        usleep(20000);
        std::call_once(flag2, [] { runs++; });
    });
    try {
        std::call_once(flag2, [] {
            usleep(100000);
            runs++;
            throw std::runtime_error("late boom");
        });
    } catch (const std::exception &e) {
        std::printf("caught: %s\n", e.what());
    }
    other.join();
    std::printf("routines run on flag2: %d\n", runs.load());
    sleeper.join();
    return 0;
}
