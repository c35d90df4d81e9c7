# opencoro: the entry points. `make demo` and `make check` do all the set-up.
CARGO   ?= cargo
LIB     := target/release/libopencoro.so
RUNTIME := target/release/libopencoro_runtime.so
BUILD   := target/opencoro

PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
libdir  := $(DESTDIR)$(PREFIX)/lib

.PHONY: install uninstall all lib demo check compat test-rust test-c test-programs bench bench-threads bench-preempt bench-accept bench-startup bench-peers clean

all: lib

# libopencoro.so, the library programs preload, is built by build.rs from
# stub/ beside the runtime it loads, libopencoro_runtime.so (a removed one
# is built again: build.rs runs when its sources change)
lib:
	@[ -f $(LIB) ] || touch stub/opencoro_stub.c
	$(CARGO) build --release
	@ln -sf libopencoro.so target/release/libopencoro.so.0

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

# make install [PREFIX=/usr/local] [DESTDIR=]: the library (SONAME
# libopencoro.so.0, with the usual links) and the runtime it loads from its
# own directory (libopencoro_runtime.so), the launcher, the header, a
# pkg-config file, the launcher's man page, the gdb extension and the
# licences.
install: lib
	install -d $(libdir)/pkgconfig $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/doc/opencoro $(DESTDIR)$(PREFIX)/share/opencoro
	install -m 755 $(LIB) $(libdir)/libopencoro.so.$(VERSION)
	install -m 755 $(RUNTIME) $(libdir)/libopencoro_runtime.so
	ln -sf libopencoro.so.$(VERSION) $(libdir)/libopencoro.so.0
	ln -sf libopencoro.so.0 $(libdir)/libopencoro.so
	install -m 755 preload/opencoro $(DESTDIR)$(PREFIX)/bin/opencoro
	install -m 644 preload/opencoro.h $(DESTDIR)$(PREFIX)/include/opencoro.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' preload/opencoro.pc.in > $(libdir)/pkgconfig/opencoro.pc
	scripts/make-man.sh $(LIB) $(VERSION) > $(DESTDIR)$(PREFIX)/share/man/man1/opencoro.1
	install -m 644 LICENSE-MIT LICENSE-APACHE README.md $(DESTDIR)$(PREFIX)/share/doc/opencoro/
	install -m 644 preload/opencoro-gdb.py $(DESTDIR)$(PREFIX)/share/opencoro/opencoro-gdb.py

uninstall:
	rm -f $(libdir)/libopencoro.so.$(VERSION) $(libdir)/libopencoro.so.0 $(libdir)/libopencoro.so $(libdir)/libopencoro_runtime.so \
		$(libdir)/pkgconfig/opencoro.pc $(DESTDIR)$(PREFIX)/bin/opencoro \
		$(DESTDIR)$(PREFIX)/include/opencoro.h $(DESTDIR)$(PREFIX)/share/man/man1/opencoro.1
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/opencoro $(DESTDIR)$(PREFIX)/share/opencoro
