// C++ exceptions thrown and caught inside main (on the coroutine's stack):
// unwinding through several frames runs destructors in order, across a sleep,
// and rethrow / nested catch work.
// native: same
#include <chrono>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>

struct Noisy {
    std::string name;
    explicit Noisy(std::string n) : name(std::move(n)) { std::cout << "make " << name << "\n"; }
    ~Noisy() { std::cout << "drop " << name << "\n"; }
};

__attribute__((noinline)) static void deep(int n) {
    Noisy here("frame" + std::to_string(n));
    if (n == 0) {
        usleep(1000);
        throw std::runtime_error("thrown at depth 0");
    }
    deep(n - 1);
}

__attribute__((noinline)) static int parse(const std::string &s) {
    return std::stoi(s); // throws std::invalid_argument
}

int main() {
    try {
        deep(3);
        std::cout << "not reached\n";
    } catch (const std::exception &e) {
        std::cout << "caught: " << e.what() << "\n";
    }

    try {
        try {
            parse("not a number");
        } catch (const std::invalid_argument &) {
            std::cout << "invalid_argument, rethrowing\n";
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            throw;
        }
    } catch (const std::logic_error &e) {
        std::cout << "rethrown exception caught as logic_error\n";
    }

    int caught = 0;
    for (int i = 0; i < 1000; i++) {
        try {
            if (i % 2) throw i;
        } catch (int v) {
            caught += v;
        }
    }
    std::cout << "sum of caught ints: " << caught << "\n";
    return 0;
}
