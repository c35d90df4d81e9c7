# opencoro: the entry points. `make demo` and `make check` do all the set-up.
CARGO   ?= cargo
LIB     := target/release/libopencoro.so
BUILD   := target/opencoro

.PHONY: all lib demo check test-rust test-c test-programs bench clean

all: lib

lib:
	$(CARGO) build --release

$(LIB): lib

demo: lib
	@mkdir -p $(BUILD)
	$(CC) -O2 -Wall -Ipreload -o $(BUILD)/demo scripts/demo.c -ldl -lpthread
	scripts/demo.sh $(BUILD)/demo $(LIB)

check: lib
	scripts/check.sh

bench: lib
	scripts/bench.sh

clean:
	$(CARGO) clean
