// C++ static constructors run before main and static destructors after it
// (also function-local statics), and iostream output is complete and in order.
// native: same
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

struct Global {
    const char *name;
    std::vector<int> data;
    explicit Global(const char *n) : name(n), data{1, 2, 3} { std::cout << "construct " << name << std::endl; }
    ~Global() { std::cout << "destruct " << name << std::endl; }
};

Global g1("g1");
Global g2("g2");
static std::map<std::string, int> table = {{"one", 1}, {"two", 2}};

static Global &local_static() {
    static Global l("function-local");
    return l;
}

int main() {
    std::cout << "main starts; table has " << table.size() << " entries, two=" << table["two"] << "\n";
    usleep(1000);
    local_static();
    local_static();
    std::ostringstream os;
    os << std::setw(6) << std::setfill('*') << 42 << ' ' << std::fixed << std::setprecision(3) << 3.14159
       << ' ' << std::hex << 255;
    std::cout << os.str() << "\n";
    long sum = 0;
    for (int i = 0; i < 100000; i++) sum += i;
    std::cout << "sum " << sum << " g1 data " << g1.data.size() << "\n";
    std::cerr << "to cerr\n";
    std::cout << "main ends" << std::endl;
    return 0;
}
