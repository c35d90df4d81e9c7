// Run by scripts/run-programs.sh with and without libopencoro.so: C++17
// threading through libstdc++ on pthreads: std::thread, std::mutex and
// std::condition_variable (a bounded producer/consumer queue; wait_for that
// times out and wait_for that is notified in time), thread_local objects
// whose destructors run at thread exit (counted), distinct thread ids,
// std::async(std::launch::async) futures, and exceptions carried from a
// thread to another through std::promise / std::future (and std::async).
// The output does not depend on timing.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <iostream>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono;

// --- a bounded queue: producers wait while it is full, consumers while empty
class Queue {
  public:
    explicit Queue(size_t cap) : cap_(cap) {}
    void push(int64_t v) {
        std::unique_lock<std::mutex> lk(m_);
        not_full_.wait(lk, [&] { return q_.size() < cap_; });
        q_.push_back(v);
        not_empty_.notify_one();
    }
    int64_t pop() {
        std::unique_lock<std::mutex> lk(m_);
        not_empty_.wait(lk, [&] { return !q_.empty(); });
        int64_t v = q_.front();
        q_.pop_front();
        not_full_.notify_one();
        return v;
    }

  private:
    std::mutex m_;
    std::condition_variable not_full_, not_empty_;
    std::deque<int64_t> q_;
    size_t cap_;
};

static void producer_consumer() {
    const int producers = 4, consumers = 3, per_producer = 10000;
    Queue q(16);
    std::atomic<int64_t> sum{0}, count{0};
    std::vector<std::thread> ts;
    for (int c = 0; c < consumers; c++)
        ts.emplace_back([&] {
            for (;;) {
                int64_t v = q.pop();
                if (v < 0) break; // one stop value per consumer
                sum += v;
                count++;
            }
        });
    std::vector<std::thread> ps;
    for (int p = 0; p < producers; p++)
        ps.emplace_back([&, p] {
            for (int k = 0; k < per_producer; k++) q.push(int64_t(p) * 1000000 + k);
        });
    for (auto &t : ps) t.join();
    for (int c = 0; c < consumers; c++) q.push(-1);
    for (auto &t : ts) t.join();
    int64_t want = 0;
    for (int p = 0; p < producers; p++)
        for (int k = 0; k < per_producer; k++) want += int64_t(p) * 1000000 + k;
    std::cout << "queue: " << count << " items, sum " << sum << ", expected " << want << "\n";
}

static void condition_timeouts() {
    std::mutex m;
    std::condition_variable cv;
    bool flag = false;
    {
        // nobody notifies: wait_for must time out, and not early
        std::unique_lock<std::mutex> lk(m);
        auto t0 = steady_clock::now();
        bool got = cv.wait_for(lk, milliseconds(50), [&] { return flag; });
        bool long_enough = steady_clock::now() - t0 >= milliseconds(50);
        std::cout << "wait_for with no notify: predicate " << got << ", waited at least 50 ms " << long_enough
                  << "\n";
        t0 = steady_clock::now();
        got = cv.wait_until(lk, t0 + milliseconds(30), [&] { return flag; });
        long_enough = steady_clock::now() - t0 >= milliseconds(30);
        std::cout << "wait_until with no notify: predicate " << got << ", waited at least 30 ms " << long_enough
                  << "\n";
    }
    // another thread notifies after 20 ms; the 10 s wait_for ends then
    std::thread t([&] {
        std::this_thread::sleep_for(milliseconds(20));
        {
            std::lock_guard<std::mutex> g(m);
            flag = true;
        }
        cv.notify_all();
    });
    std::unique_lock<std::mutex> lk(m);
    auto t0 = steady_clock::now();
    bool got = cv.wait_for(lk, seconds(10), [&] { return flag; });
    bool in_time = steady_clock::now() - t0 < seconds(9);
    lk.unlock();
    t.join();
    std::cout << "wait_for with notify: predicate " << got << ", before its timeout " << in_time << "\n";
}

// --- thread_local objects with a constructor and a destructor
static std::atomic<int> tl_constructed{0}, tl_destroyed{0};
static std::atomic<int64_t> tl_sum{0};
struct PerThread {
    int64_t value;
    std::string tag;
    PerThread() : value(0), tag("per-thread") { tl_constructed++; }
    ~PerThread() {
        tl_sum += value;
        tl_destroyed++;
    }
};
thread_local PerThread per_thread;

static void thread_locals() {
    const int n = 8;
    std::mutex m;
    std::set<std::thread::id> ids;
    std::atomic<int> own_values_ok{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < n; i++)
        ts.emplace_back([&, i] {
            for (int k = 0; k <= i; k++) {
                per_thread.value += 10;
                std::this_thread::yield();
            }
            if (per_thread.value == 10 * (i + 1) && per_thread.tag == "per-thread") own_values_ok++;
            std::lock_guard<std::mutex> g(m);
            ids.insert(std::this_thread::get_id());
        });
    for (auto &t : ts) t.join();
    ids.insert(std::this_thread::get_id());
    std::cout << "thread_local: constructed " << tl_constructed << ", destroyed at thread exit " << tl_destroyed
              << ", sum of final values " << tl_sum << ", threads that saw only their own value "
              << own_values_ok << " of " << n << "\n";
    std::cout << "distinct thread ids (with main's): " << ids.size() << "\n";
}

// --- std::async and exceptions crossing threads
static int64_t sum_range(int64_t a, int64_t b) {
    int64_t s = 0;
    for (int64_t k = a; k < b; k++) s += k * k % 1000003;
    return s;
}

static void futures() {
    std::vector<std::future<int64_t>> fs;
    for (int i = 0; i < 8; i++)
        fs.push_back(std::async(std::launch::async, sum_range, int64_t(i) * 100000, int64_t(i + 1) * 100000));
    int64_t total = 0;
    for (auto &f : fs) total += f.get();
    std::cout << "async: 8 futures, total " << total << ", serial " << sum_range(0, 800000) << "\n";

    auto failing = std::async(std::launch::async, []() -> int {
        std::this_thread::sleep_for(milliseconds(10));
        throw std::out_of_range("thrown inside std::async");
    });
    try {
        failing.get();
        std::cout << "async exception: not delivered\n";
    } catch (const std::out_of_range &e) {
        std::cout << "async exception: out_of_range: " << e.what() << "\n";
    }

    std::promise<std::string> p;
    std::future<std::string> f = p.get_future();
    std::thread t([&p] {
        try {
            try {
                throw std::logic_error("inner");
            } catch (const std::logic_error &inner) {
                throw std::runtime_error(std::string("thrown in a thread after catching ") + inner.what());
            }
        } catch (...) {
            p.set_exception(std::current_exception());
        }
    });
    try {
        std::string v = f.get();
        std::cout << "promise: value " << v << "\n";
    } catch (const std::runtime_error &e) {
        std::cout << "promise exception: runtime_error: " << e.what() << "\n";
    }
    t.join();

    std::promise<int> p2;
    std::future<int> f2 = p2.get_future();
    std::thread t2([&p2] { p2.set_value_at_thread_exit(42); });
    std::cout << "set_value_at_thread_exit: " << f2.get() << "\n";
    t2.join();
}

int main() {
    std::cout << std::boolalpha;
    producer_consumer();
    condition_timeouts();
    thread_locals();
    futures();
    return 0;
}
