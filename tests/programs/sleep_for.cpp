// Run by scripts/run-programs.sh with and without libopencoro.so: sleeps with
// std::this_thread::sleep_for in main and in std::threads, measuring with
// steady_clock. The output does not depend on timing.
#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

using namespace std::chrono;

int main() {
    auto t0 = steady_clock::now();
    std::this_thread::sleep_for(milliseconds(50));
    bool long_enough = steady_clock::now() - t0 >= milliseconds(50);
    std::cout << "main slept at least 50 ms: " << std::boolalpha << long_enough << "\n";

    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; i++) {
        threads.emplace_back([i, &ok] {
            auto s = steady_clock::now();
            std::this_thread::sleep_for(milliseconds(20 + 5 * i));
            if (steady_clock::now() - s >= milliseconds(20 + 5 * i)) ok++;
        });
    }
    for (auto &t : threads) t.join();
    std::cout << "threads that slept long enough: " << ok << " of 4\n";

    auto until = steady_clock::now() + milliseconds(30);
    std::this_thread::sleep_until(until);
    std::cout << "sleep_until reached its deadline: " << (steady_clock::now() >= until) << "\n";
    return 0;
}
