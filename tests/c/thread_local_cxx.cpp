// C++ thread_local objects with a constructor and destructor: each of 30
// threads (2 workers) constructs its own object on first use, keeps its
// value and address across usleep, sched_yield and a blocking pipe read, and
// its destructor runs at thread exit, on that thread's object, before
// pthread_join returns (counted). Objects of a thread that never touches
// them are neither constructed nor destroyed.
// native: same
// env: OPENCORO_WORKERS=2
// timeout: 10
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include <atomic>
#include <cstdio>
#include <string>
#include <vector>
#include "check.h"

#define N 30

static std::atomic<int> constructed{0}, destroyed{0}, wrong_in_dtor{0};
static std::atomic<long> id_sum_in_dtor{0};

struct Tracked {
    long id = -1;
    std::string label;
    std::vector<int> items;
    Tracked() : label("fresh") { constructed++; }
    ~Tracked() {
        destroyed++;
        id_sum_in_dtor += id;
        if (label != "thread " + std::to_string(id) || items.size() != 10) wrong_in_dtor++;
    }
};

static thread_local Tracked obj;
static thread_local int plain = 5;
static int pipes[N][2];

static void *worker(void *arg) {
    long id = (long)arg;
    long bad = 0;
    if (id % 10 == 9) return nullptr; /* never touches obj: no ctor, no dtor */
    if (obj.id != -1 || obj.label != "fresh" || plain != 5) bad += 100;
    Tracked *mine = &obj;
    obj.id = id;
    obj.label = "thread " + std::to_string(id);
    plain = (int)id;
    for (int round = 0; round < 10; round++) {
        obj.items.push_back(round);
        if (round % 3 == 0) usleep(100);
        else if (round % 3 == 1) sched_yield();
        else {
            char b;
            if (read(pipes[id][0], &b, 1) != 1) bad += 1000;
        }
        if (&obj != mine || obj.id != id || plain != (int)id) bad++;
        if ((int)obj.items.size() != round + 1) bad++;
    }
    return (void *)bad;
}

int main() {
    pthread_t t[N];
    for (int i = 0; i < N; i++) CHECK(pipe(pipes[i]) == 0);
    for (long i = 0; i < N; i++) CHECK(pthread_create(&t[i], nullptr, worker, (void *)i) == 0);
    for (int r = 0; r < 3; r++) { /* the reads of rounds 2, 5 and 8 */
        usleep(3000);
        for (int i = 0; i < N; i++) CHECK(write(pipes[i][1], "x", 1) == 1);
    }
    long bad = 0;
    long want_sum = 0;
    int users = 0;
    for (long i = 0; i < N; i++) {
        void *r;
        CHECK(pthread_join(t[i], &r) == 0);
        bad += (long)r;
        if (i % 10 != 9) { want_sum += i; users++; }
    }
    std::printf("threads: %d, using the object: %d, wrong values: %ld\n", N, users, bad);
    std::printf("constructed: %d, destroyed at thread exit: %d\n", constructed.load(), destroyed.load());
    std::printf("destructors saw their own thread's object: %s\n",
                wrong_in_dtor.load() == 0 && id_sum_in_dtor.load() == want_sum ? "yes" : "no");
    std::fflush(stdout);
    return 0;
}
