// C++ code preempted inside its own loops, on one worker (preempt_cxx_2workers
// runs it on two):
// - two "holders" each lock a std::mutex and spin in arithmetic inside the
//   critical section until the exception threads are done (so the program
//   can only finish if the holders are preempted while holding their lock);
// - four "contenders" take the same two mutexes for long critical sections
//   of arithmetic around a read-modify-write of shared state: the totals are
//   exact and no two threads are ever inside at once;
// - two exception threads, started once both holders spin, throw from deep
//   recursion (destructors doing arithmetic during the unwinding), compute
//   inside their catch blocks and rethrow there, and check what they catch;
// - a bounded producer/consumer queue and a baton passed around three
//   threads, both on std::condition_variable;
// - thread_local accumulators keep their address and value throughout.
// Every result is checked against a serial computation; the output does not
// depend on timing. Natively the OS preempts the threads.
// Without preemption the first holder to run keeps its worker forever and
// the test hangs until its timeout.
// env: OPENCORO_WORKERS=1
// native: same
// timeout: 20
#include <pthread.h>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

static inline uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

// n rounds of mix: plain arithmetic, no calls once inlined
static inline uint64_t churn(uint64_t x, long n) {
    for (long i = 0; i < n; i++) x = mix(x + (uint64_t)i);
    return x;
}

thread_local uint64_t tl_acc;
thread_local long tl_ctors, tl_dtors;

// --- holders and contenders on two std::mutex

static const int CONTENDERS = 4, ROUNDS = 25;
static const long SECTION = 1000000;  // arithmetic rounds inside a critical section
static const long HOLD_AFTER = 2000000;

struct Shared {
    std::mutex m;
    uint64_t value = 0;
    int inside = 0;   // only ever touched with m held
    int overlaps = 0;
};
static Shared shared[2];

static std::mutex state_m;
static std::condition_variable state_cv;
static int spinning;                       // holders inside their spin
static std::atomic<bool> release_holders{false};
static uint64_t holder_result[2];
static bool holder_tls_ok[2];

static void holder(int k) {
    uint64_t *addr = &tl_acc;
    std::lock_guard<std::mutex> g(shared[k].m);
    shared[k].inside++;
    {
        std::lock_guard<std::mutex> s(state_m);
        spinning++;
    }
    state_cv.notify_all();
    uint64_t x = 1000 + (uint64_t)k;
    long spins = 0;
    // plain arithmetic until the exception threads are done: nothing here
    // calls anything, so only preemption lets the others run
    while (!release_holders.load(std::memory_order_relaxed)) {
        x = mix(x);
        spins++;
    }
    tl_acc = churn((uint64_t)k, HOLD_AFTER);
    holder_result[k] = tl_acc;
    holder_tls_ok[k] = addr == &tl_acc && spins > 0 && x != 0;
    shared[k].value += tl_acc;
    shared[k].inside--;
}

static uint64_t contender_add(int id, int r) { return churn((uint64_t)(id * 1000 + r), SECTION); }

static bool contender_tls_ok[CONTENDERS];

static void contender(int id) {
    uint64_t *addr = &tl_acc;
    uint64_t mine = 0;
    for (int r = 0; r < ROUNDS; r++) {
        Shared &s = shared[(id + r) % 2];
        std::lock_guard<std::mutex> g(s.m);
        if (s.inside++ != 0) s.overlaps++;
        uint64_t v = s.value;
        uint64_t add = contender_add(id, r);   // long section: preempted here
        s.value = v + add;
        s.inside--;
        mine += add;
        tl_acc += add;
    }
    contender_tls_ok[id] = addr == &tl_acc && tl_acc == mine;
}

// --- exceptions

static const int EXC_THREADS = 2, EXC_ROUNDS = 300;

struct Guard {
    uint64_t v;
    explicit Guard(uint64_t v) : v(v) { tl_ctors++; }
    ~Guard() {
        tl_dtors++;
        tl_acc += churn(v, 2000);   // arithmetic during the unwinding
    }
};

struct RoundError : std::runtime_error {
    int round;
    RoundError(int round, const std::string &what) : std::runtime_error(what), round(round) {}
};

static uint64_t dive(int depth, int round, uint64_t x) {
    Guard g(x + (uint64_t)depth);
    if (depth == 0) throw RoundError(round, "round " + std::to_string(round));
    return dive(depth - 1, round, mix(x)) + 1;   // not a tail call: the Guard lives
}

struct ExcResult {
    int caught = 0, rethrown = 0, bad = 0;
    bool balanced = false, held_seen = false;
    uint64_t acc = 0;
};
static ExcResult exc_result[EXC_THREADS];
static std::atomic<int> exc_done{0};

static void thrower(int id) {
    {
        std::unique_lock<std::mutex> lk(state_m);
        state_cv.wait(lk, [] { return spinning == 2; });
    }
    ExcResult &res = exc_result[id];
    // both holders are inside their spin, holding their mutex
    bool held = true;
    for (int k = 0; k < 2; k++) {
        if (shared[k].m.try_lock()) {
            held = false;
            shared[k].m.unlock();
        }
    }
    res.held_seen = held;
    for (int r = 0; r < EXC_ROUNDS; r++) {
        int depth = 1 + (r * 7 + id) % 20;
        try {
            try {
                dive(depth, r, (uint64_t)(id * 100000 + r));
                res.bad++;
            } catch (const RoundError &e) {
                // an exception is being handled: compute here, then rethrow it
                res.caught++;
                tl_acc += churn((uint64_t)e.round, 20000);
                if (e.round != r || std::uncaught_exceptions() != 0) res.bad++;
                throw;
            }
        } catch (const std::runtime_error &e) {
            res.rethrown++;
            if (std::string(e.what()) != "round " + std::to_string(r)) res.bad++;
        }
    }
    res.balanced = tl_ctors == tl_dtors && tl_ctors > 0;
    res.acc = tl_acc;
    if (exc_done.fetch_add(1) + 1 == EXC_THREADS) release_holders.store(true);
}

static uint64_t thrower_expected(int id) {
    // the same arithmetic in the same order, without the exceptions
    uint64_t acc = 0;
    for (int r = 0; r < EXC_ROUNDS; r++) {
        int depth = 1 + (r * 7 + id) % 20;
        uint64_t x = (uint64_t)(id * 100000 + r);
        std::vector<uint64_t> guards;
        for (int d = depth; d >= 0; d--) {
            guards.push_back(x + (uint64_t)d);
            x = mix(x);
        }
        for (auto it = guards.rbegin(); it != guards.rend(); ++it) acc += churn(*it, 2000);
        acc += churn((uint64_t)r, 20000);
    }
    return acc;
}

// --- condition variables: a bounded queue, and a baton around three threads

static const int ITEMS = 2000, QUEUE_CAP = 4, BATON_THREADS = 3, BATON_ROUNDS = 200;

static std::mutex q_m;
static std::condition_variable q_not_full, q_not_empty;
static std::deque<uint64_t> q;
static uint64_t consumed;

static void producer() {
    for (int i = 1; i <= ITEMS; i++) {
        uint64_t item = churn((uint64_t)i, 1000);
        std::unique_lock<std::mutex> lk(q_m);
        q_not_full.wait(lk, [] { return q.size() < (size_t)QUEUE_CAP; });
        q.push_back(item);
        q_not_empty.notify_one();
    }
}

static void consumer() {
    uint64_t sum = 0;
    for (int i = 1; i <= ITEMS; i++) {
        uint64_t item;
        {
            std::unique_lock<std::mutex> lk(q_m);
            q_not_empty.wait(lk, [] { return !q.empty(); });
            item = q.front();
            q.pop_front();
            q_not_full.notify_one();
        }
        sum = mix(sum ^ item);   // order matters: FIFO is checked too
    }
    consumed = sum;
}

static std::mutex b_m;
static std::condition_variable b_cv;
static int turn;
static uint64_t baton;

static void baton_runner(int id) {
    for (int r = 0; r < BATON_ROUNDS; r++) {
        std::unique_lock<std::mutex> lk(b_m);
        b_cv.wait(lk, [id] { return turn == id; });
        baton = churn(baton + (uint64_t)id, 5000);
        turn = (id + 1) % BATON_THREADS;
        b_cv.notify_all();
    }
}

int main() {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    std::vector<std::thread> ts;
    ts.emplace_back(holder, 0);
    ts.emplace_back(holder, 1);
    for (int i = 0; i < CONTENDERS; i++) ts.emplace_back(contender, i);
    for (int i = 0; i < EXC_THREADS; i++) ts.emplace_back(thrower, i);
    ts.emplace_back(producer);
    ts.emplace_back(consumer);
    for (int i = 0; i < BATON_THREADS; i++) ts.emplace_back(baton_runner, i);
    for (auto &t : ts) t.join();

    // the expected results, computed serially
    uint64_t want[2] = {churn(0, HOLD_AFTER), churn(1, HOLD_AFTER)};
    for (int id = 0; id < CONTENDERS; id++)
        for (int r = 0; r < ROUNDS; r++) want[(id + r) % 2] += contender_add(id, r);
    uint64_t want_q = 0;
    for (int i = 1; i <= ITEMS; i++) want_q = mix(want_q ^ churn((uint64_t)i, 1000));
    uint64_t want_baton = 0;
    for (int r = 0; r < BATON_ROUNDS; r++)
        for (int id = 0; id < BATON_THREADS; id++) want_baton = churn(want_baton + (uint64_t)id, 5000);

    for (int k = 0; k < 2; k++)
        std::printf("holder %d: result %s, thread_local %s\n", k,
                    holder_result[k] == churn((uint64_t)k, HOLD_AFTER) ? "ok" : "WRONG",
                    holder_tls_ok[k] ? "ok" : "WRONG");
    for (int k = 0; k < 2; k++)
        std::printf("mutex %d: total %s, overlaps %d\n", k, shared[k].value == want[k] ? "exact" : "WRONG",
                    shared[k].overlaps);
    int tls_ok = 0;
    for (int id = 0; id < CONTENDERS; id++) tls_ok += contender_tls_ok[id];
    std::printf("contenders: %d of %d kept their thread_local\n", tls_ok, CONTENDERS);
    for (int id = 0; id < EXC_THREADS; id++) {
        const ExcResult &e = exc_result[id];
        std::printf("exceptions %d: saw both mutexes held: %s; caught %d, rethrown %d, wrong %d; destructors %s; arithmetic %s\n",
                    id, e.held_seen ? "yes" : "no", e.caught, e.rethrown, e.bad, e.balanced ? "balanced" : "UNBALANCED",
                    e.acc == thrower_expected(id) ? "ok" : "WRONG");
    }
    std::printf("queue: %d items in order: %s\n", ITEMS, consumed == want_q ? "yes" : "no");
    std::printf("baton: %d rounds around %d threads: %s\n", BATON_ROUNDS, BATON_THREADS,
                baton == want_baton ? "ok" : "WRONG");
    return 0;
}
