// Two coroutines on one worker each suspend inside a catch block. The C++
// runtime keeps the "currently caught" exceptions per thread; a rethrow
// (`throw;`) must still rethrow the coroutine's own exception, not the one
// the other coroutine caught on the same thread meanwhile.
// env: OPENCORO_WORKERS=1
#include <cstdio>
#include <stdexcept>
#include <string>
#include <opencoro.h>

static std::string seen[2];

static void *body(void *arg) {
    const char *name = (const char *)arg;
    try {
        try {
            throw std::runtime_error(name);
        } catch (const std::runtime_error &) {
            opencoro_yield(); // the other coroutine throws and catches now
            opencoro_yield();
            throw;
        }
    } catch (const std::runtime_error &e) {
        seen[name[0] - 'A'] = e.what();
    }
    return nullptr;
}

int main() {
    opencoro_task *a = opencoro_spawn(body, (void *)"A", 0);
    opencoro_task *b = opencoro_spawn(body, (void *)"B", 0);
    if (!a || !b) return 1;
    opencoro_join(a, nullptr);
    opencoro_join(b, nullptr);
    std::printf("A rethrew %s\nB rethrew %s\n", seen[0].c_str(), seen[1].c_str());
    return 0;
}
