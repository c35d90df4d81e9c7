# opencoro: the entry points. `make demo` and `make check` do all the set-up.
CARGO   ?= cargo
LIB     := target/release/libopencoro.so
BUILD   := target/opencoro

.PHONY: all lib demo check compat test-rust test-c test-programs bench bench-threads bench-preempt bench-accept bench-startup bench-peers clean

all: lib

lib:
	$(CARGO) build --release

$(LIB): lib

demo: lib
	@mkdir -p $(BUILD)
	$(CC) -O2 -Wall -Ipreload -o $(BUILD)/demo scripts/demo.c -ldl -lpthread
	$(CC) -O2 -Wall -o $(BUILD)/thread_echo_server scripts/bench/thread_echo_server.c -lpthread
	$(CC) -O2 -Wall -o $(BUILD)/loadgen scripts/bench/loadgen.c -lpthread
	scripts/demo.sh $(BUILD) $(LIB)

check: lib
	scripts/check.sh

# the compatibility suite alone (also part of check): unmodified programs
# with and without the library; installs what it needs with apt-get
compat: lib
	scripts/compat

bench: lib
	scripts/bench.sh

# only the green-thread figures: blocked pthreads (h), thread-per-connection echo (i)
bench-threads: lib
	BENCH_ONLY=h,i scripts/bench.sh

# only the preemption figures: its cost on CPU-bound threads, a ticker beside busy loops (j)
bench-preempt: lib
	BENCH_ONLY=j scripts/bench.sh

# only a server's accept loop with a small listen backlog (l)
bench-accept: lib
	BENCH_ONLY=l scripts/bench.sh

# only the cost of a process that needs no runtime: a shell script of short programs (k)
bench-startup: lib
	BENCH_ONLY=k scripts/bench.sh

# against its peers: Go, tokio, native threads, a hand-written epoll server
# (installs golang-go, wrk, python3-matplotlib; about 15 minutes; see the
# script's header; BENCH_QUICK=1 for a smoke test)
bench-peers: lib
	scripts/bench-peers

clean:
	$(CARGO) clean
