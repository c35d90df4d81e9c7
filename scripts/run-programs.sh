#!/usr/bin/env bash
# Runs real, unmodified programs with and without libopencoro.so and compares
# their stdout and exit status.
#
#   scripts/run-programs.sh [NAME...]     (default: all)
#
# Prints exactly one line per program, "PASS NAME" or "FAIL NAME: reason"
# (followed, on failure, by a few indented lines of detail), and exits 0 even
# when programs fail: scripts/check.sh counts the lines. Each run is bounded
# by a timeout. A preloaded run that prints an "opencoro:" diagnostic fails.
#
# Helper programs are built into target/opencoro-programs/: the Rust programs
# in tests/rust/progs/ (rustc -O; a "//! expect-status: N" line gives the
# status the program exits with, default 0; each "//! variant: SUFFIX K=V ..."
# line runs it again as rust_NAME_SUFFIX with that environment) and the C and
# C++ programs in tests/programs/ (sleep_for.cpp, cxx_threads.cpp, thread_echo.c,
# mutex_across_read.c, dlopen_static_tls.c and the two builds of the library
# it loads, dlopen_static_tls_lib.c).
set -u
cd "$(dirname "$0")/.." || exit 0
ROOT=$PWD
LIB=$ROOT/target/release/libopencoro.so
BUILD=$ROOT/target/opencoro-programs
export LC_ALL=C
ulimit -c 0 2>/dev/null
unset LD_PRELOAD

WORK=$(mktemp -d -t opencoro-programs.XXXXXX) || exit 0
# KEEP_OUTPUT=1 keeps the inputs and outputs for a look afterwards.
if [ "${KEEP_OUTPUT:-0}" = 1 ]; then
    echo "outputs kept in $WORK" >&2
else
    trap 'rm -rf "$WORK"' EXIT
fi
DATA=$WORK/data   # inputs; never written once the runs start
OUT=$WORK/out     # outputs of the runs
mkdir -p "$DATA" "$OUT" "$BUILD"

only=("$@")
wanted() {
    [ ${#only[@]} -eq 0 ] && return 0
    local n
    for n in "${only[@]}"; do [ "$n" = "$1" ] && return 0; done
    return 1
}

. "$ROOT/scripts/lib.sh"

# run NAME TIMEOUT preload|native SHELL-COMMAND: runs the command with bash
# (so with the library every process of a pipeline is preloaded), stdout and
# stderr into $OUT/NAME.{pre,nat}.{out,err}; returns its exit status. The
# outer subshell reaps it, so a death by signal is not reported on our stderr.
run() {
    local name=$1 tmo=$2 mode=$3 cmd=$4 pre=()
    # (a pthread_create that makes an OS thread says so, and fails the run)
    [ "$mode" = preload ] && pre=(LD_PRELOAD="$LIB" OPENCORO_WARN_OS_THREADS=1)
    (
        (
            cd "$DATA" || exit 125
            exec timeout -k 5 "$tmo" env "${pre[@]}" bash -c "$cmd"
        ) </dev/null >"$OUT/$name.$mode.out" 2>"$OUT/$name.$mode.err"
        exit $?
    ) 2>/dev/null
}

# check NAME STATUS COMMAND [TIMEOUT [NORMALISE-SED-SCRIPT]]: runs COMMAND
# both ways and compares. Without the library the command must exit with
# STATUS and (unless EMPTY_OK=1) print something: a command that fails the
# same way with and without the library proves nothing. NORMALISE, if given,
# is a sed script applied to both stdouts before comparing.
check() {
    local name=$1 want=$2 cmd=$3 tmo=${4:-30} norm=${5:-}
    wanted "$name" || return 0
    if [ ! -f "$LIB" ]; then
        echo "FAIL $name: $LIB is missing (run cargo build --release)"
        return
    fi
    run "$name" "$tmo" native "$cmd"; local nrc=$?
    run "$name" "$tmo" preload "$cmd"; local prc=$?
    local n=$OUT/$name.native.out p=$OUT/$name.preload.out
    if [ -n "$norm" ]; then
        sed -e "$norm" "$n" >"$n.norm"; n=$n.norm
        sed -e "$norm" "$p" >"$p.norm"; p=$p.norm
    fi
    local reasons=() diff=no
    if [ "$nrc" -eq 124 ]; then
        reasons+=("timed out after ${tmo}s without the library")
    elif [ "$nrc" != "$want" ]; then
        reasons+=("exit status $nrc without the library, expected $want (the test itself is broken)")
    fi
    if [ "${EMPTY_OK:-0}" != 1 ] && [ ! -s "$n" ]; then
        reasons+=("no output without the library (the test itself is broken)")
    fi
    if [ "$prc" -eq 124 ]; then
        reasons+=("timed out after ${tmo}s with the library")
    elif [ "$prc" != "$nrc" ]; then
        reasons+=("exit status $prc with the library, $nrc without")
    fi
    if ! cmp -s "$n" "$p"; then reasons+=("stdout differs"); diff=yes; fi
    if grep -q '^opencoro:' "$OUT/$name.preload.err"; then
        reasons+=("opencoro: diagnostic on stderr")
    fi
    if [ ${#reasons[@]} -eq 0 ]; then
        echo "PASS $name"
        return
    fi
    local reason
    reason=$(printf '%s; ' "${reasons[@]}")
    echo "FAIL $name: ${reason%; }"
    if [ "$diff" = yes ]; then
        diff "$n" "$p" >"$OUT/$name.diff"
        echo "    without vs with the library:"
        detail "$OUT/$name.diff" 8
    fi
    if [ -s "$OUT/$name.preload.err" ]; then
        echo "    stderr with the library:"
        detail "$OUT/$name.preload.err" 6
    fi
}

# build NAME COMMAND...: builds $BUILD/NAME from SOURCE (the last argument)
# unless it is up to date; on failure prints the FAIL line and returns 1.
build() {
    local name=$1 src=${!#}
    shift
    local exe=$BUILD/$name
    if [ -x "$exe" ] && [ "$exe" -nt "$src" ]; then return 0; fi
    if ! command -v "$1" >/dev/null; then
        echo "FAIL $name: $1 not found"
        return 1
    fi
    if ! "$@" >"$OUT/$name.build" 2>&1; then
        echo "FAIL $name: does not build"
        detail "$OUT/$name.build" 10
        return 1
    fi
}

# --- inputs, all made before any run
fixed=$DATA/fixed
mkdir -p "$fixed/sub"
printf 'hello\n' >"$fixed/a.txt"
head -c 12345 /dev/zero >"$fixed/zeros.bin"
ln -s a.txt "$fixed/link"
chmod 640 "$fixed/a.txt"
touch -h -d '2020-01-02 03:04:05' "$fixed/link" "$fixed/a.txt" "$fixed/zeros.bin" "$fixed/sub" "$fixed" "$DATA"
# 100,000 pseudo-random lines (a fixed LCG, so the same every time)
awk 'BEGIN { x = 12345; for (i = 0; i < 100000; i++) { x = (x * 1103515245 + 12345) % 2147483648; printf "%d line %d\n", x % 100000, i } }' >"$DATA/lines.txt"
head -c 3000000 /dev/zero | tr '\0' 'x' >"$DATA/blob"
cat "$DATA/lines.txt" >>"$DATA/blob"
# 300,000 words from a vocabulary of 5,000, for a sort | uniq -c pipeline
awk 'BEGIN { x = 777; for (i = 0; i < 300000; i++) { x = (x * 1103515245 + 12345) % 2147483648; printf "word%d\n", x % 5000 } }' >"$DATA/big.txt"
touch -d '2020-01-02 03:04:05' "$DATA/lines.txt" "$DATA/blob" "$DATA/big.txt" "$DATA"

# --- programs from the system
# First, that the runs "with the library" really have it: without this, every
# comparison below would pass trivially.
if wanted library_is_preloaded; then
    if [ ! -f "$LIB" ]; then
        echo "FAIL library_is_preloaded: $LIB is missing (run cargo build --release)"
    else
        run library_is_preloaded 30 preload \
            'grep -q libopencoro.so /proc/self/maps && echo loaded; OPENCORO_LOG=debug sleep 0 2>&1 | grep -c "^opencoro: pid [0-9]* ([a-z]*): debug:"'
        got=$(head -n1 "$OUT/library_is_preloaded.preload.out")
        lines=$(sed -n 2p "$OUT/library_is_preloaded.preload.out")
        if [ "$got" = loaded ] && [ "${lines:-0}" -gt 0 ]; then
            echo "PASS library_is_preloaded"
        else
            echo "FAIL library_is_preloaded: the library is not in the preloaded processes (or is silent with OPENCORO_LOG=debug)"
            detail "$OUT/library_is_preloaded.preload.err" 4
        fi
    fi
fi
check ls_la 0 "ls -la --time-style=+%Y-%m-%dT%H:%M:%S fixed fixed/sub"
check sort_100k 0 "sort lines.txt"
check sort_numeric 0 "sort -n -k1,1 -k3,3n lines.txt | tail -n 5"
check bash_pipeline 0 'for i in 1 2 3; do echo $i; done | cat'
check bash_subshells 9 'x=$(echo inner; exit 3); echo "got $x status $?"; (exit 5); echo "subshell $?"; f() { sleep 0.1; return 4; }; f; echo "function $?"; exit 9'
check python_sleep 0 "python3 -c 'import time; time.sleep(0.2); print(\"ok\")'"
EMPTY_OK=1 check sleep_1 0 "sleep 1"
check sleep_status 0 "sleep 0.2 && echo slept; sleep -5; echo \"status of bad sleep \$?\""
check sha256sum 0 "sha256sum blob lines.txt"
check seq_awk 0 "seq 1 100000 | awk '{ s += \$1; if (\$1 % 7 == 0) n++ } END { print s, n }'"
check gzip_roundtrip 0 "gzip -c blob | gzip -dc | sha256sum"
check python_threads 0 "python3 '$ROOT/tests/programs/threads.py'"
check python_threads_full 0 "python3 '$ROOT/tests/programs/threads_full.py'"
EMPTY_OK=1 check exit_status_passthrough 42 "bash -c 'exit 42'"
check find_xargs 0 "find fixed -type f | sort | xargs -n1 -P2 wc -c | sort"
check tar_roundtrip 0 "tar -cf - fixed lines.txt | tar -tvf - --full-time | sort"
check perl_sleep 6 "perl -MTime::HiRes=sleep,time -e '\$t = time; sleep 0.1; print time - \$t >= 0.1 ? \"ok\\n\" : \"short\\n\"; exit 6'"
check python_asyncio 0 "python3 -c 'import asyncio
async def f(i):
    await asyncio.sleep(0.01 * i)
    return i * i
async def main():
    print(await asyncio.gather(*(f(i) for i in range(10))))
asyncio.run(main())'"
if command -v node >/dev/null; then
    check node_timers 5 "node -e 'let n = 0; const t0 = Date.now(); for (let i = 0; i < 5; i++) setTimeout(() => { n++; if (n === 5) { console.log(\"timers fired\", Date.now() - t0 >= 40); process.exit(5); } }, 10 * i);'"
fi

# --- the launcher, preload/opencoro: arguments, exit status and signals pass
# through untouched, and the program runs with the library loaded.
launcher() { # launcher NAME EXPECTED-STDOUT EXPECTED-STATUS ARGS...
    local name=$1 want=$2 wantrc=$3; shift 3
    wanted "$name" || return 0
    local got rc
    got=$(cd "$WORK" && timeout -k 5 20 "$ROOT/preload/opencoro" "$@" 2>/dev/null); rc=$?
    if [ "$rc" != "$wantrc" ]; then echo "FAIL $name: exit status $rc, expected $wantrc"
    elif [ "$got" != "$want" ]; then echo "FAIL $name: stdout '$got', expected '$want'"
    else echo "PASS $name"; fi
}
launcher launcher_args 'a b|c||' 0 printf '%s|' 'a b' c ''
launcher launcher_status '' 3 sh -c 'exit 3'
launcher launcher_signal '' 143 sh -c 'kill -TERM $$'
launcher launcher_loaded 'loaded' 0 sh -c 'grep -q libopencoro /proc/$$/maps && echo loaded'
launcher launcher_usage '' 2
launcher launcher_missing '' 127 no-such-program-here
launcher launcher_missing_path '' 127 ./no/such/program
launcher launcher_not_executable '' 126 /etc/passwd
launcher launcher_bad_option '' 2 --no-such-option true
launcher launcher_option_workers '3 1 os' 0 -w 3 --stats --os-threads -- sh -c 'echo $OPENCORO_WORKERS $OPENCORO_STATS $OPENCORO_THREADS'
launcher launcher_option_end 'x' 0 -- printf x
# --help: the options, then every switch of the library's table with its
# default; --version: the library's version and commit
launcher_grep() { # launcher_grep NAME EXTENDED-REGEX ARGS...: exit 0, stdout matches
    local name=$1 re=$2; shift 2
    wanted "$name" || return 0
    local got rc
    got=$(cd "$WORK" && timeout -k 5 20 "$ROOT/preload/opencoro" "$@" 2>&1); rc=$?
    if [ "$rc" != 0 ]; then echo "FAIL $name: exit status $rc"
    elif ! printf '%s\n' "$got" | grep -Eq "$re"; then echo "FAIL $name: no line matches '$re' in: $(printf '%s' "$got" | head -c 300)"
    else echo "PASS $name"; fi
}
launcher_grep launcher_help '^  OPENCORO_WORKERS +.*\(default: CPUs in the affinity mask, or the cgroup quota if lower\)$' --help
launcher_grep launcher_help_options '^  -w, --workers N' -h
launcher_grep launcher_version '^opencoro [0-9]+\.[0-9]+\.[0-9]+ \(commit ([0-9a-f]{7}|unknown)\)$' --version
# a misspelled switch gets one line (it would be ignored without a word)
launcher_grep launcher_misspelled_switch '^opencoro: pid [0-9]+ \(true\): OPENCORO_WORKRS is not a switch of opencoro; did you mean OPENCORO_WORKERS\?' env OPENCORO_WORKRS=2 true

# --- statistics that reach the user: OPENCORO_STATS for a program that
# closes stderr before it exits (coreutils do), naming pid and program; the
# JSON form; and periodic reports.
stats_run() { # stats_run ENV... -- CMD...: prints the run's stderr
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
    (cd "$WORK" && timeout -k 5 20 env "${envs[@]}" LD_PRELOAD="$LIB" "$@" 2>&1 >/dev/null)
}
if wanted stats_closed_stderr; then
    err=$(stats_run OPENCORO_STATS=1 -- /bin/echo hi)
    if printf '%s\n' "$err" | grep -Eq '^opencoro: stats: pid [0-9]+ \(echo\): [0-9]+ workers'; then echo "PASS stats_closed_stderr"
    else echo "FAIL stats_closed_stderr: no report from /bin/echo (it closes stderr at exit): '$err'"; fi
fi
if wanted stats_json; then
    err=$(stats_run OPENCORO_STATS=1 OPENCORO_STATS_FORMAT=json -- /bin/echo hi)
    if printf '%s\n' "$err" | python3 -c '
import json, sys
lines = [l for l in sys.stdin.read().splitlines() if l.strip()]
assert len(lines) == 1, lines
r = json.loads(lines[0])
assert r["program"] == "echo" and r["pid"] > 0 and r["workers"] >= 1, r
assert {"live_coroutines", "peak_live_coroutines", "blocking_pool_calls", "time"} <= r.keys(), r
assert r["slots"] and "switches" in r["slots"][0], r' 2>/dev/null; then echo "PASS stats_json"
    else echo "FAIL stats_json: '$err'"; fi
fi
if wanted stats_periodic_json; then
    err=$(stats_run OPENCORO_STATS=200ms OPENCORO_STATS_FORMAT=json -- sleep 1.1)
    if printf '%s\n' "$err" | python3 -c '
import json, sys
rs = [json.loads(l) for l in sys.stdin.read().splitlines() if l.strip()]
assert len(rs) >= 5 and all(r["program"] == "sleep" for r in rs), len(rs)
assert all(a["time"] <= b["time"] for a, b in zip(rs, rs[1:]))' 2>/dev/null; then echo "PASS stats_periodic_json"
    else echo "FAIL stats_periodic_json: '$(printf '%s' "$err" | head -c 300)'"; fi
fi
if wanted stats_periodic; then
    err=$(stats_run OPENCORO_STATS=200ms -- sleep 1.1)
    n=$(printf '%s\n' "$err" | grep -c '^opencoro: stats: pid [0-9]* (sleep):')
    if [ "$n" -ge 4 ]; then echo "PASS stats_periodic"
    else echo "FAIL stats_periodic: $n reports in 1.1 s at 200 ms (at least 4 expected): '$(printf '%s' "$err" | head -c 300)'"; fi
fi

# --- a program hung on purpose (tests/programs/gdb_hung.c), for the two
# ways of seeing its coroutines below.
# start_hung NAME ENV...: starts it under the library with one worker and
# ENV, stdout and stderr to $OUT/NAME.out and .err, waits until it says
# "ready" (all three green threads are inside their calls); sets hpid.
start_hung() {
    local name=$1; shift
    (cd "$WORK" && env OPENCORO_WORKERS=1 "$@" LD_PRELOAD="$LIB" timeout -k 5 60 "$BUILD/gdb_hung" >"$OUT/$name.out" 2>"$OUT/$name.err" &) 2>/dev/null
    for _ in $(seq 100); do grep -q ready "$OUT/$name.out" 2>/dev/null && break; sleep 0.1; done
    hpid=$(pgrep -f "^$BUILD/gdb_hung" | head -1)
}
# expect_lines NAME TEXT EXTENDED-REGEX...: PASS NAME when TEXT has a line
# matching each regex, else FAIL naming the missing ones
expect_lines() {
    local name=$1 text=$2 want miss=; shift 2
    for want in "$@"; do
        printf '%s\n' "$text" | grep -Eq "$want" || miss="$miss [$want]"
    done
    if [ -z "$miss" ]; then echo "PASS $name"
    else echo "FAIL $name: missing$miss"; printf '%s\n' "$text" | tail -25 | sed 's/^/    /'; fi
}

# the gdb extension: `opencoro bt` on a live process shows each green
# thread's state, what it waits for and its backtrace down to the program's
# own function (preload/opencoro-gdb.py)
if wanted gdb_opencoro_bt && build gdb_hung gcc -g -O1 -pthread -o "$BUILD/gdb_hung" tests/programs/gdb_hung.c; then
    if ! command -v gdb >/dev/null; then
        echo "FAIL gdb_opencoro_bt: gdb is not installed"
    else
        start_hung gdb_hung
        got=$(timeout 60 gdb -batch -nx -p "$hpid" -ex "source $ROOT/preload/opencoro-gdb.py" -ex 'opencoro bt' 2>&1)
        kill "$hpid" 2>/dev/null
        expect_lines gdb_opencoro_bt "$got" '^4 coroutines$' \
            '^coroutine 0x[0-9a-f]+ \(green thread\): waiting, waiting on fd [0-9]+$' \
            '^coroutine 0x[0-9a-f]+ \(green thread\): waiting, waiting on a lock' \
            '^coroutine 0x[0-9a-f]+ \(green thread\): waiting, sleeping$' \
            '^coroutine 0x[0-9a-f]+ \(main\): waiting, joining coroutine' \
            'in reader_blocked_in_read .*gdb_hung.c' 'in locker_blocked_on_mutex .*gdb_hung.c' \
            'in sleeper_in_usleep .*gdb_hung.c' 'in main \(\) at .*gdb_hung.c' \
            'opencoro_runtime::hooks::rw::read \(\)' 'opencoro_runtime::hooks::lock::pthread_mutex_lock \(\)'
    fi
fi

# OPENCORO_DUMP_SIGNAL: the same hung program lists its coroutines on
# stderr when it gets SIGQUIT, with what each waits for and the code
# addresses on its stack (the libc call it waits in among them)
if wanted dump_signal && build gdb_hung gcc -g -O1 -pthread -o "$BUILD/gdb_hung" tests/programs/gdb_hung.c; then
    start_hung dump OPENCORO_DUMP_SIGNAL=SIGQUIT
    # "ready" comes just before main's pthread_join: a dump may still see
    # main running; ask again until one shows it joining (or 50 dumps)
    for n in $(seq 50); do
        [ -n "$hpid" ] && kill -QUIT "$hpid"
        for _ in $(seq 100); do [ "$(grep -c '^coroutine ' "$OUT/dump.err" 2>/dev/null)" -ge $((4 * n)) ] && break; sleep 0.1; done
        grep -q '(main): joining coroutine' "$OUT/dump.err" 2>/dev/null && break
    done
    [ -n "$hpid" ] && kill "$hpid" 2>/dev/null
    expect_lines dump_signal "$(cat "$OUT/dump.err")" '^opencoro: dump: pid [0-9]+ \(gdb_hung\): 4 coroutines' \
        '^coroutine 0x[0-9a-f]+ \(green thread\): waiting on fd [0-9]+$' \
        '^coroutine 0x[0-9a-f]+ \(green thread\): waiting on a lock' \
        '^coroutine 0x[0-9a-f]+ \(green thread\): sleeping$' \
        '^coroutine 0x[0-9a-f]+ \(main\): joining coroutine' \
        '^    0x[0-9a-f]+ read\+0x0 \(.*libc' '^    0x[0-9a-f]+ pthread_mutex_lock\+0x0 \(.*libc' '^    0x[0-9a-f]+ .*gdb_hung\+0x'
fi

# --- the default worker count follows the cgroup's CPU quota (here a
# cgroup of 1 CPU made for the test: v1's cpu controller or v2's cpu.max;
# SKIP where neither can be made), unless OPENCORO_WORKERS says otherwise
if wanted cgroup_quota_workers; then
    cg= cgq=
    if [ -d /sys/fs/cgroup/cpu ] && mkdir -p /sys/fs/cgroup/cpu/opencoro-test-$$ 2>/dev/null; then
        cg=/sys/fs/cgroup/cpu/opencoro-test-$$; echo 100000 >"$cg/cpu.cfs_quota_us" 2>/dev/null && echo 100000 >"$cg/cpu.cfs_period_us" 2>/dev/null && cgq=ok
    elif [ -f /sys/fs/cgroup/cgroup.controllers ] && mkdir -p /sys/fs/cgroup/opencoro-test-$$ 2>/dev/null; then
        cg=/sys/fs/cgroup/opencoro-test-$$; echo '100000 100000' >"$cg/cpu.max" 2>/dev/null && cgq=ok
    fi
    if [ -z "$cgq" ]; then
        echo "SKIP cgroup_quota_workers: cannot make a cgroup with a CPU quota here"
    else
        prog='import threading; t = threading.Thread(target=print, args=(1,)); t.start(); t.join()'
        py=$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || command -v python3)
        got=$(sh -c 'echo $$ >"$1/cgroup.procs" && shift && "$@"' x "$cg" env OPENCORO_STATS=1 LD_PRELOAD="$LIB" "$py" -c "$prog" 2>&1 | grep -o '[0-9]* workers;' | tail -1)
        own=$(sh -c 'echo $$ >"$1/cgroup.procs" && shift && "$@"' x "$cg" env OPENCORO_WORKERS=2 OPENCORO_STATS=1 LD_PRELOAD="$LIB" "$py" -c "$prog" 2>&1 | grep -o '[0-9]* workers;' | tail -1)
        if [ "$got" = "1 workers;" ] && [ "$own" = "2 workers;" ]; then echo "PASS cgroup_quota_workers"
        else echo "FAIL cgroup_quota_workers: under a 1-CPU quota '$got' (1 expected), with OPENCORO_WORKERS=2 '$own' (2 expected)"; fi
    fi
    [ -n "$cg" ] && { sleep 0.2; rmdir "$cg" 2>/dev/null; }
fi

# --- programs built here
if wanted cxx_sleep_for && build cxx_sleep_for g++ -O2 -std=c++17 -pthread -o "$BUILD/cxx_sleep_for" tests/programs/sleep_for.cpp; then
    check cxx_sleep_for 0 "'$BUILD/cxx_sleep_for'"
fi
# threads: std::thread, mutexes, condition variables, thread_local, futures
if wanted cxx_threads && build cxx_threads g++ -O2 -std=c++17 -pthread -o "$BUILD/cxx_threads" tests/programs/cxx_threads.cpp; then
    check cxx_threads 0 "'$BUILD/cxx_threads'"
fi
# 2,000 client threads and 2,000 server threads, all connected at once; and
# a mutex held across a blocking read. The _1worker runs put every thread on
# one worker once pthread_create makes green threads (natively the variable
# changes nothing).
if { wanted thread_echo || wanted thread_echo_1worker; } &&
    build thread_echo gcc -O2 -pthread -o "$BUILD/thread_echo" tests/programs/thread_echo.c; then
    check thread_echo 0 "'$BUILD/thread_echo'"
    check thread_echo_1worker 0 "OPENCORO_WORKERS=1 '$BUILD/thread_echo'"
fi
if { wanted mutex_across_read || wanted mutex_across_read_1worker; } &&
    build mutex_across_read gcc -O2 -pthread -o "$BUILD/mutex_across_read" tests/programs/mutex_across_read.c; then
    check mutex_across_read 0 "'$BUILD/mutex_across_read'"
    check mutex_across_read_1worker 0 "OPENCORO_WORKERS=1 '$BUILD/mutex_across_read'"
fi
# a library with initial-exec TLS dlopened after threads exist, then used by
# threads created after the dlopen (dlopen_static_tls.c says what is
# checked): a 136-byte variable; the same with a second wave of threads on
# reused stacks and descriptors; an 8-byte variable (small enough to fit
# where a thread made before the dlopen would have it).
if { wanted dlopen_static_tls || wanted dlopen_static_tls_reuse || wanted dlopen_static_tls_small; } &&
    build dlopen_static_tls_lib.so gcc -O2 -shared -fPIC -o "$BUILD/dlopen_static_tls_lib.so" tests/programs/dlopen_static_tls_lib.c &&
    build dlopen_static_tls_small.so gcc -O2 -shared -fPIC -DDLS_SMALL -o "$BUILD/dlopen_static_tls_small.so" tests/programs/dlopen_static_tls_lib.c &&
    build dlopen_static_tls gcc -O2 -pthread -o "$BUILD/dlopen_static_tls" tests/programs/dlopen_static_tls.c; then
    check dlopen_static_tls 0 "'$BUILD/dlopen_static_tls' '$BUILD/dlopen_static_tls_lib.so'"
    check dlopen_static_tls_reuse 0 "'$BUILD/dlopen_static_tls' '$BUILD/dlopen_static_tls_lib.so' reuse"
    check dlopen_static_tls_small 0 "'$BUILD/dlopen_static_tls' '$BUILD/dlopen_static_tls_small.so'"
fi
for src in tests/rust/progs/*.rs; do
    [ -f "$src" ] || continue
    name=rust_$(basename "$src" .rs)
    # "//! variant: SUFFIX K=V ..." lines: the program runs again as
    # NAME_SUFFIX with that environment (natively it changes nothing)
    variants=$(sed -n 's|^//! *variant: *||p' "$src")
    any=no
    wanted "$name" && any=yes
    while read -r suffix vars; do
        [ -n "$suffix" ] && wanted "${name}_$suffix" && any=yes
    done <<<"$variants"
    [ "$any" = yes ] || continue
    if build "$name" rustc -O --edition 2021 -o "$BUILD/$name" "$src"; then
        want=$(sed -n 's|^//! *expect-status: *||p' "$src" | head -n1)
        check "$name" "${want:-0}" "'$BUILD/$name'"
        while read -r suffix vars; do
            [ -n "$suffix" ] || continue
            check "${name}_$suffix" "${want:-0}" "$vars '$BUILD/$name'"
        done <<<"$variants"
    fi
done

# --- secure-execution mode: a set-user-ID program linked with the library
# (ld.so ignores LD_PRELOAD for it, not its own DT_NEEDED) ignores the
# OPENCORO_* environment: OPENCORO=0 would turn the runtime off. Needs root
# (to give the program to another user); says so otherwise.
if wanted secure_env; then
    if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1; then
        echo "FAIL secure_env: needs root and a user 'nobody' to make a set-user-ID program"
    elif ! gcc -O2 -Ipreload -L"$ROOT/target/release" -Wl,-rpath,"$WORK/secure" -o "$OUT/secure_env" \
        tests/programs/secure_env.c -lopencoro >"$OUT/secure_env.build" 2>&1; then
        echo "FAIL secure_env: does not build"
        detail "$OUT/secure_env.build" 10
    else
        # In a directory of its own that the other user can read (the
        # checkout may not be), with the library beside it (its rpath), by
        # the name the program records (the SONAME, libopencoro.so.0).
        mkdir -p "$WORK/secure" && cp "$LIB" "$OUT/secure_env" "$WORK/secure/" &&
            cp "$LIB" "$WORK/secure/libopencoro.so.0" && cp "$(dirname "$LIB")/libopencoro_runtime.so" "$WORK/secure/" &&
            chmod 755 "$WORK" "$WORK/secure" && chown nobody "$WORK/secure/secure_env" &&
            chmod 4755 "$WORK/secure/secure_env"
        got=$(cd / && OPENCORO=0 timeout 20 "$WORK/secure/secure_env" 2>&1)
        plain=$(OPENCORO=0 timeout 20 "$OUT/secure_env" 2>&1)
        if [ "$got" != "secure 1 active 1" ]; then echo "FAIL secure_env: set-user-ID run printed '$got', expected 'secure 1 active 1'"
        elif [ "$plain" != "secure 0 active 0" ]; then echo "FAIL secure_env: plain run printed '$plain', expected 'secure 0 active 0' (the check is broken)"
        else echo "PASS secure_env"; fi
    fi
fi

# --- the front library without its runtime (libopencoro_runtime.so not
# beside it): one line says so, and a threaded program runs as natively
if wanted front_without_runtime; then
    mkdir -p "$WORK/alone" && cp "$LIB" "$WORK/alone/libopencoro.so"
    prog="import threading; r = []; t = [threading.Thread(target=r.append, args=(i,)) for i in range(8)]; [x.start() for x in t]; [x.join() for x in t]; print(sorted(r))"
    want=$(timeout 20 python3 -c "$prog" 2>&1)
    got=$(LD_PRELOAD="$WORK/alone/libopencoro.so" timeout 20 python3 -c "$prog" 2>"$OUT/alone.err"); rc=$?
    said=$(grep -c '^opencoro: pid [0-9]* (python3): cannot load the runtime (.*libopencoro_runtime.so.*); the program runs without it$' "$OUT/alone.err")
    if [ $rc -ne 0 ] || [ "$got" != "$want" ]; then echo "FAIL front_without_runtime: exit $rc, printed '$got' (natively '$want')"; detail "$OUT/alone.err" 5
    elif [ "$said" != 1 ] || [ "$(wc -l < "$OUT/alone.err")" != 1 ]; then echo "FAIL front_without_runtime: stderr is not the one line"; detail "$OUT/alone.err" 5
    else echo "PASS front_without_runtime"; fi
fi

# --- blocking I/O (sockets, pipes, readiness) in real programs
# http_server_*: python3 -m http.server under the library, fetched by a
# client that runs without it (curl; Python's urllib where curl is missing,
# and the name says so); http_client_*: the same client under the library
# against a server without it. tests/programs/io_http.sh says what is fetched.
if command -v curl >/dev/null; then http_client=curl; else http_client=urllib; fi
check "http_server_$http_client" 0 "bash '$ROOT/tests/programs/io_http.sh' inherit plain" 60
check "http_client_$http_client" 0 "bash '$ROOT/tests/programs/io_http.sh' plain inherit" 60
check pipeline_sort_uniq 0 "bash -c 'cat big.txt | sort | uniq -c'"
check python_socket_threads 0 "python3 '$ROOT/tests/programs/io_socket_echo.py' threads" 60
check python_socket_processes 0 "python3 '$ROOT/tests/programs/io_socket_echo.py' processes" 60
check python_selectors 0 "python3 '$ROOT/tests/programs/io_selectors.py'"
exit 0
