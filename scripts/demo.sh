#!/usr/bin/env bash
# demo.sh DIR LIB: the demonstration `make demo` runs. DIR holds the programs
# the Makefile built: thread_echo_server, loadgen and demo.
#
# Part 1, the main job: an ordinary thread-per-connection echo server
# (scripts/bench/thread_echo_server.c: plain pthreads, blocking read/write,
# no opencoro header, not changed in any way) serves DEMO_CONNS (default
# 5,000) connections of 64-byte ping-pong from the load generator
# (scripts/bench/loadgen.c, run natively), once with LD_PRELOAD=LIB and once
# without: the same binary. Printed side by side: throughput, the server's
# peak RSS, the memory the whole run took from the system (the fall of
# MemAvailable, kernel stacks and page tables included), the server's OS
# threads.
# Part 2: DEMO_TASKS (default 10,000) concurrent sleep(1) calls, on
# coroutines of the C API (scripts/demo.c under the library) vs on pthreads.
#
# Exits non-zero if a run under the library does not complete (the server
# does not start or dies, connections fail, the library is not loaded, a
# crash or a hang). The runs without the library are only reported: running
# out of threads there is part of the comparison.
#
# Knobs: DEMO_CONNS, DEMO_SECS (measured window, default 3), DEMO_TASKS,
# DEMO_TIMEOUT (seconds per run, default 60), OPENCORO_WORKERS.
set -u
if [ $# -ne 2 ]; then
    echo "usage: $0 DIR LIB" >&2
    exit 2
fi
dir=$1 lib=$2
for f in "$dir/thread_echo_server" "$dir/loadgen" "$dir/demo" "$lib"; do
    [ -f "$f" ] || { echo "demo.sh: $f not found" >&2; exit 2; }
done
lib=$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")
CONNS=${DEMO_CONNS:-5000}
SECS=${DEMO_SECS:-3}
N=${DEMO_TASKS:-10000}
LIMIT=${DEMO_TIMEOUT:-60}
WARM_MS=1000

tmp=$(mktemp -d)
srv_pid=""
cleanup() {
    [ -n "$srv_pid" ] && kill -KILL "$srv_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

field() { # field FILE KEY: the value of KEY=... on the last RESULT line of FILE
    awk -v k="$2" '/^RESULT /{for(i=2;i<=NF;i++){split($i,a,"="); if(a[1]==k) v=a[2]}} END{print v}' "$1" 2>/dev/null
}

# Room for the connections: the server and the generator each hold one fd
# per connection, and natively the server makes one thread per connection.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
ulimit -u "$(ulimit -Hu)" 2>/dev/null || true
nofile=$(ulimit -n)
if [ "$nofile" != unlimited ] && [ "$nofile" -lt $((CONNS + 64)) ]; then
    echo "demo.sh: note: the fd limit is $nofile (ulimit -Hn): $((nofile - 64)) connections instead of $CONNS"
    CONNS=$((nofile - 64))
fi
used=$(awk '{ split($4, a, "/"); print a[2] }' /proc/loadavg)
tmax=$(cat /proc/sys/kernel/threads-max 2>/dev/null || echo 0)
pmax=$(cat /proc/sys/kernel/pid_max 2>/dev/null || echo 0)
room=$(( (tmax < pmax ? tmax : pmax) - used ))
if [ "$room" -lt $((CONNS + 100)) ]; then
    echo "demo.sh: note: only about $room more threads fit in this system (kernel.threads-max $tmax, kernel.pid_max $pmax):"
    echo "  the server without the library will not get a thread for every connection"
fi

# serve NAME [ENV...] : one run of the echo server (with ENV) under the load;
# the generator's RESULT line goes to $tmp/NAME. Returns non-zero (with the
# reason in $tmp/NAME.why) if the run did not complete.
serve() {
    local name=$1; shift
    local sout="$tmp/$name.server" out="$tmp/$name" i port=""
    : > "$out"
    env "$@" ECHO_SERVER_LIFETIME=$((LIMIT * 2)) timeout -k 5 "$LIMIT" "$dir/thread_echo_server" > "$sout" 2>&1 &
    local job=$!
    for i in $(seq 1 200); do
        port=$(sed -n 's/^LISTEN port=\([0-9]*\) pid=.*/\1/p' "$sout")
        [ -n "$port" ] && break
        kill -0 "$job" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$port" ]; then
        echo "the server did not start" > "$out.why"
        tail -3 "$sout" >> "$out.why"
        kill "$job" 2>/dev/null; wait "$job" 2>/dev/null
        return 1
    fi
    srv_pid=$(sed -n 's/^LISTEN port=[0-9]* pid=\([0-9]*\).*/\1/p' "$sout")
    timeout -k 5 "$LIMIT" "$dir/loadgen" "$port" "$CONNS" "$WARM_MS" $((SECS * 1000)) 1 "$srv_pid" > "$out" 2> "$out.gen"
    local rc=$? alive=1
    kill -0 "$srv_pid" 2>/dev/null || alive=0
    kill -TERM "$srv_pid" 2>/dev/null
    wait "$job" 2>/dev/null
    srv_pid=""
    if [ "$alive" = 0 ]; then
        echo "the server died during the run" > "$out.why"
    elif [ $rc -ne 0 ] || [ -z "$(field "$out" req_per_s)" ]; then
        case $rc in
            124|137) echo "the load generator timed out after ${LIMIT}s (hang?)" > "$out.why";;
            *) echo "the load generator failed (exit status $rc)" > "$out.why";;
        esac
    fi
    # what the server and the generator said, besides LISTEN (once per message)
    grep -hv '^LISTEN' "$sout" "$out.gen" 2>/dev/null | sort | uniq -c | sort -rn | head -4 | sed 's/^ *[0-9]* /    | /'
    [ ! -s "$out.why" ]
}

# line NAME LABEL : one line of progress for a finished run
line() {
    local f="$tmp/$1"
    if [ -s "$f.why" ]; then
        printf '  %-22s FAILED: %s\n' "$2" "$(head -1 "$f.why")"
        tail -n +2 "$f.why" | sed 's/^/    | /'
        return
    fi
    printf '  %-22s %s req/s, %s of %s connections echoing; server: %s OS threads, peak RSS %s MiB\n' "$2" \
        "$(field "$f" req_per_s)" "$(field "$f" echoing)" "$CONNS" "$(field "$f" server_threads)" \
        "$(awk -v v="$(field "$f" server_hwm_kib)" 'BEGIN{ printf "%.1f", v/1024 }')"
}

workers=${OPENCORO_WORKERS:-$(nproc)}
echo "== part 1: an ordinary thread-per-connection echo server, with and without opencoro"
echo "  scripts/bench/thread_echo_server.c: main accepts; every connection gets its own pthread (default"
echo "  attributes) doing blocking read() and write(); no opencoro header, nothing changed. The load generator"
echo "  opens $CONNS connections and runs 64-byte ping-pong on all of them: ${WARM_MS} ms warm-up, then ${SECS} s measured."
echo "  Machine: $(nproc) CPUs, shared by the server and the generator; opencoro workers: $workers."
rc_lib=0
echo "  running with LD_PRELOAD=$(basename "$lib") ..."
serve lib LD_PRELOAD="$lib" || rc_lib=1
line lib "with opencoro:"
echo "  running the same binary without the library ..."
serve native
line native "without (plain OS):"
if [ "$rc_lib" = 0 ]; then
    est=$(field "$tmp/lib" established); ech=$(field "$tmp/lib" echoing); lost=$(field "$tmp/lib" lost)
    if [ "$(field "$tmp/lib" server_lib)" != 1 ]; then
        echo "demo.sh: FAILED: libopencoro was not mapped in the server run with LD_PRELOAD=$lib" >&2; rc_lib=1
    elif [ "${est:-0}" -lt "$CONNS" ] || [ "${ech:-0}" -lt "$CONNS" ] || [ "${lost:-1}" -gt 0 ]; then
        echo "demo.sh: FAILED: under opencoro only ${est:-0} connections were established, ${ech:-0} echoed, ${lost:-?} lost (of $CONNS)" >&2
        rc_lib=1
    fi
else
    echo "demo.sh: FAILED: the run under opencoro did not complete: $(head -1 "$tmp/lib.why")" >&2
fi

# cmp LABEL KEY SCALE DECIMALS HOW [LESS MORE] : a row; HOW says how to phrase
# the comparison:
#   more  "N.NNx native" (opencoro/native: higher is better)
#   less  "N.Nx less" or "N.Nx more" (lower is better; LESS and MORE replace
#         the two words, e.g. "fewer")
cmp() {
    local l t
    l=$(field "$tmp/lib" "$2"); t=$(field "$tmp/native" "$2")
    awk -v lbl="$1" -v l="$l" -v t="$t" -v s="$3" -v d="$4" -v how="$5" -v less="${6:-less}" -v more="${7:-more}" 'BEGIN{
        fl = (l == "" ? "-" : sprintf("%." d "f", l / s)); ft = (t == "" ? "-" : sprintf("%." d "f", t / s))
        c = "-"
        if (l != "" && t != "" && l > 0 && t > 0) {
            if (how == "more") c = sprintf("%.2fx native", l / t)
            else if (t / l >= 0.95 && t / l <= 1.05) c = "about the same"
            else {
                r = (t / l > 1) ? t / l : l / t
                c = sprintf(r >= 10 ? "%.0fx" : "%.1fx", r) " " ((t / l > 1) ? less : more)
            }
        }
        printf "  %-40s %12s %12s   %s\n", lbl, fl, ft, c }'
}
echo
echo "== $CONNS connections, thread-per-connection echo server: the same binary"
printf '  %-40s %12s %12s   %s\n' "figure" "opencoro" "without" "opencoro vs without"
cmp "throughput (round trips/s)" req_per_s 1 0 more
cmp "server: peak RSS (MiB)" server_hwm_kib 1024 1 less
cmp "system memory the run took (MiB)" memavail_drop_kib 1024 0 less
cmp "server: OS threads" server_threads 1 0 less fewer more
cmp "server: CPU in the ${SECS} s window (ms)" server_cpu_ms 1 0 less
printf '  %-40s %12s %12s\n' "connections echoing" "$(field "$tmp/lib" echoing)/$CONNS" "$(field "$tmp/native" echoing)/$CONNS"
echo "  (system memory: how far MemAvailable, plus the free pages in the kernel's per-CPU lists, fell from before"
echo "   the first connection to the end of the window: the server's threads with their kernel stacks and page"
echo "   tables, and the sockets of both sides, which are the same in both runs. Peak RSS and OS threads are the"
echo "   server's own, read from /proc at the end of the window.)"

echo
echo "== part 2: $N concurrent sleep(1) calls: coroutines of the C API vs pthreads (scripts/demo.c)"
out_co="$tmp/sleep_co" out_th="$tmp/sleep_th"
# run OUT [ENV...] : runs the demo under a timeout, output teed to OUT.
run() {
    local out=$1; shift
    env "$@" timeout -k 5 "$LIMIT" "$dir/demo" "$N" 2>&1 | tee "$out" | sed -e '/^RESULT /d' -e 's/^/  /'
    return "${PIPESTATUS[0]}"
}
run "$out_co" LD_PRELOAD="$lib"; rc_co=$?
run "$out_th"; rc_th=$?
fail=0
if [ "$rc_co" -ne 0 ] || [ "$(field "$out_co" done)" != "$N" ]; then
    case $rc_co in
        124|137) why="timed out after ${LIMIT}s (hang?)";;
        0) why="no complete RESULT line";;
        *) if [ "$rc_co" -gt 128 ]; then why="killed by signal $((rc_co-128))"; else why="exit status $rc_co"; fi;;
    esac
    echo "demo.sh: FAILED: the sleep run under opencoro did not complete: $why" >&2
    fail=1
elif [ "$(field "$out_co" mode)" != coroutines ]; then
    echo "demo.sh: FAILED: under LD_PRELOAD=$lib the demo did not find the opencoro API (did the library load?)" >&2
    fail=1
fi
[ "$rc_th" -ne 0 ] && echo "  note: the pthread run did not complete all $N threads (exit status $rc_th)"
ratio() { # ratio A B: A/B to 1 decimal, or - when undefined
    awk -v a="$1" -v b="$2" 'BEGIN{ if (a=="" || b=="" || b+0<=0) print "-"; else printf "%.1fx", a/b }'
}
srow() { # srow LABEL KEY SCALE UNIT
    local c t
    c=$(field "$out_co" "$2"); t=$(field "$out_th" "$2")
    printf "  %-28s %14s %14s %18s\n" "$1 ($4)" \
        "$(awk -v v="$c" -v s="$3" 'BEGIN{ if (v=="") print "-"; else printf "%.1f", v/s }')" \
        "$(awk -v v="$t" -v s="$3" 'BEGIN{ if (v=="") print "-"; else printf "%.1f", v/s }')" "$(ratio "$t" "$c")"
}
printf "  %-28s %14s %14s %18s\n" "figure" "coroutines" "pthreads" "pthreads/coroutines"
srow "wall time" wall_ms 1 ms
srow "CPU time (user+sys)" cpu_ms 1 ms
srow "peak RSS" maxrss_kib 1024 MiB
printf "  %-28s %14s %14s %18s\n" "OS threads in flight" "$(field "$out_co" threads)" "$(field "$out_th" threads)" \
    "$(ratio "$(field "$out_th" threads)" "$(field "$out_co" threads)")"

[ "$rc_lib" = 0 ] && [ "$fail" = 0 ] || exit 1
exit 0
