#!/usr/bin/env bash
# make bench: opencoro against its baselines, measured side by side in one run.
#
#   a. yield round trip of two coroutines on one worker (opencoro_yield)
#      vs a bare corosensei resume+suspend         target: ratio <= 5x
#   b. spawn+join of an empty coroutine
#      vs pthread_create+pthread_join, no library   target: speed-up >= 20x
#   c. 100,000 coroutines each usleep(100 ms), spawned from main
#      wall from first spawn to last join           target: <= 1.5 x 100 ms
#      peak RSS                                     target: < 1 GiB
#   d. 1,000 coroutines each sleep(2 s): CPU time of the whole process
#      (user+sys)                                   target: < 50 ms
#
# Every measurement is a separate process run; the runs of all figures are
# interleaved round by round (so machine noise hits them alike), repeated
# BENCH_REPS times (default 5), and the median is reported with the spread.
# A missed target is reported, never an error. The exit status is non-zero
# only when something could not be built or a run crashed or hung.
#
# Knobs: BENCH_REPS, BENCH_TIMEOUT (seconds per run, default 60).
set -u
cd "$(dirname "$0")/.."
REPS=${BENCH_REPS:-5}
LIMIT=${BENCH_TIMEOUT:-60}
LIB=$PWD/target/release/libopencoro.so
OUT=target/opencoro/bench
BENCH=$OUT/bench
BARE=target/release/examples/bare_corosensei
CC=${CC:-cc}

# Sizes: each run takes well under a second here.
YIELD_N=2000000        # round trips per run
BARE_N=10000000        # resume+suspend pairs per run
SPAWN_N=200000         # coroutine spawn+join per run
PTHREAD_N=10000        # pthread create+join per run
SLEEP_N=100000         # sleeping coroutines
SLEEP_US=100000        # each sleeps 100 ms

echo "== building"
cargo build --release -q || { echo "bench.sh: cargo build --release failed" >&2; exit 1; }
cargo build --release -q --example bare_corosensei || { echo "bench.sh: building the corosensei example failed" >&2; exit 1; }
mkdir -p "$OUT"
$CC -O2 -Wall -Ipreload -o "$BENCH" scripts/bench/bench.c -ldl -lpthread || { echo "bench.sh: building bench.c failed" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
broken=0

# measure NAME KEY[,KEY...] CMD... : one run of CMD under a timeout; appends the
# RESULT value of each KEY to $tmp/NAME.KEY. A failed run is shown and counted.
measure() {
    local name=$1 keys=$2; shift 2
    local out rc
    out=$(timeout -k 5 "$LIMIT" "$@" 2>&1); rc=$?
    local line
    line=$(printf '%s\n' "$out" | grep '^RESULT ' | tail -1)
    if [ $rc -ne 0 ] || [ -z "$line" ]; then
        local why="exit status $rc"
        [ $rc -eq 124 ] || [ $rc -eq 137 ] && why="timed out after ${LIMIT}s"
        [ $rc -gt 128 ] && [ $rc -ne 137 ] && why="killed by signal $((rc-128))"
        echo "  FAILED run '$name' ($why): $*" >&2
        printf '%s\n' "$out" | tail -5 | sed 's/^/    | /' >&2
        broken=$((broken+1))
        return
    fi
    local k
    for k in ${keys//,/ }; do
        printf '%s\n' "$line" | tr ' ' '\n' | awk -F= -v k="$k" '$1==k{print $2}' >> "$tmp/$name.$k"
    done
}

# median NAME.KEY : the median of the collected values (empty if none)
median() {
    [ -s "$tmp/$1" ] || return 0
    sort -g "$tmp/$1" | awk '{v[NR]=$1} END{ if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'
}
spread() { # spread NAME.KEY : "min..max" of the collected values
    [ -s "$tmp/$1" ] || { echo "-"; return; }
    sort -g "$tmp/$1" | awk 'NR==1{lo=$1} {hi=$1} END{printf "%g..%g", lo, hi}'
}
calc() { awk "BEGIN{ printf \"%.${2:-1}f\", $1 }"; }

echo "== measuring: $REPS rounds, each figure once per round, interleaved"
for r in $(seq 1 "$REPS"); do
    printf '  round %d/%d\n' "$r" "$REPS"
    measure yield ns_per_roundtrip,ns_per_yield,not_alternating \
        env OPENCORO_WORKERS=1 LD_PRELOAD="$LIB" "$BENCH" yield $YIELD_N
    measure bare ns_per_switch_pair "$BARE" $BARE_N
    measure spawn ns_each env LD_PRELOAD="$LIB" "$BENCH" spawn $SPAWN_N
    measure spawn1 ns_each env OPENCORO_WORKERS=1 LD_PRELOAD="$LIB" "$BENCH" spawn $SPAWN_N
    measure pthread ns_each "$BENCH" spawn $PTHREAD_N
    measure sleep wall_ms,maxrss_kib,spawn_ms,last_start_ms,last_wake_ms \
        env LD_PRELOAD="$LIB" "$BENCH" sleep $SLEEP_N $SLEEP_US
    [ "$r" -le 2 ] && measure idle cpu_ms env LD_PRELOAD="$LIB" "$BENCH" sleep 1000 2000000
done

y_rt=$(median yield.ns_per_roundtrip); y_one=$(median yield.ns_per_yield)
bare=$(median bare.ns_per_switch_pair)
sp=$(median spawn.ns_each); sp1=$(median spawn1.ns_each); pt=$(median pthread.ns_each)
wall=$(median sleep.wall_ms); rss=$(median sleep.maxrss_kib)
idle=$(median idle.cpu_ms)

have() { [ -n "$1" ] && [ -n "$2" ]; }
echo
echo "== a. yield round trip (OPENCORO_WORKERS=1) vs bare corosensei resume+suspend"
if have "$y_rt" "$bare"; then
    printf '  opencoro: %s ns per round trip (A->B->A), %s ns per single yield   [spread %s]\n' \
        "$(calc "$y_rt")" "$(calc "$y_one")" "$(spread yield.ns_per_roundtrip)"
    printf '  corosensei: %s ns per resume+suspend   [spread %s]\n' "$(calc "$bare" 2)" "$(spread bare.ns_per_switch_pair)"
    printf '  ratio round trip / resume+suspend: %sx (target <= 5x); single yield / resume+suspend: %sx\n' \
        "$(calc "$y_rt/$bare")" "$(calc "$y_one/$bare")"
    na=$(sort -g "$tmp/yield.not_alternating" | tail -1)
    [ "${na:-0}" -le 2 ] || echo "  note: the two coroutines did not strictly alternate ($na yields returned without the other running)"
else
    echo "  no figure (runs failed)"
fi

echo "== b. spawn+join of an empty coroutine vs pthread_create+pthread_join"
if have "$sp" "$pt"; then
    printf '  opencoro spawn+join: %s ns (default workers)   [spread %s]\n' "$(calc "$sp" 0)" "$(spread spawn.ns_each)"
    [ -n "$sp1" ] && printf '  opencoro spawn+join: %s ns (OPENCORO_WORKERS=1)   [spread %s]\n' "$(calc "$sp1" 0)" "$(spread spawn1.ns_each)"
    printf '  pthread create+join: %s ns (no library, default attributes)   [spread %s]\n' "$(calc "$pt" 0)" "$(spread pthread.ns_each)"
    printf '  speed-up: %sx (target >= 20x)\n' "$(calc "$pt/$sp")"
else
    echo "  no figure (runs failed)"
fi

echo "== c. $SLEEP_N coroutines x usleep($SLEEP_US)"
if have "$wall" "$rss"; then
    printf '  wall, first spawn to last join: %s ms   [spread %s]  = %sx of 100 ms (target <= 1.5x)\n' \
        "$(calc "$wall" 0)" "$(spread sleep.wall_ms)" "$(calc "$wall/($SLEEP_US/1000)" 2)"
    printf '  phases (median ms from the first spawn): spawn loop done %s, last sleeper started %s, last woke %s\n' \
        "$(calc "$(median sleep.spawn_ms)" 0)" "$(calc "$(median sleep.last_start_ms)" 0)" "$(calc "$(median sleep.last_wake_ms)" 0)"
    printf '  peak RSS: %s MiB (target < 1024 MiB)\n' "$(calc "$rss/1024")"
else
    echo "  no figure (runs failed)"
fi

echo "== d. 1,000 coroutines x sleep(2 s): CPU of the whole process (2 runs)"
if [ -n "$idle" ]; then
    printf '  CPU user+sys: %s ms (target < 50 ms)   [spread %s]\n' "$(calc "$idle" 1)" "$(spread idle.cpu_ms)"
else
    echo "  no figure (runs failed)"
fi

# row FIGURE VALUE TARGET OK(1/0/empty)
row() {
    local st
    case "${4-}" in 1) st=met;; 0) st=MISSED;; x) st="no result";; *) st="";; esac
    printf '  %-44s %14s %10s  %s\n' "$1" "$2" "$3" "$st"
}
check() { # check VALUE COND : 1 when VALUE meets COND ("<= 5"), 0 if not, x if no value
    [ -n "$1" ] || { echo x; return; }
    awk "BEGIN{ exit !($1 $2) }" && echo 1 || echo 0
}
nv() { [ -n "$1" ] && calc "$1" "${2:-1}" || echo "n/a"; }

r_yield=$( [ -n "$y_rt" ] && [ -n "$bare" ] && calc "$y_rt/$bare" 2 )
r_spawn=$( [ -n "$sp" ] && [ -n "$pt" ] && calc "$pt/$sp" 2 )
r_wall=$( [ -n "$wall" ] && calc "$wall/($SLEEP_US/1000)" 3 )
rss_mib=$( [ -n "$rss" ] && calc "$rss/1024" 1 )

echo
echo "== summary (medians of $REPS runs; $(nproc) CPUs)"
printf '  %-44s %14s %10s  %s\n' "figure" "value" "target" "status"
row "yield round trip, 1 worker (ns)"            "$(nv "$y_rt")"  ""
row "single yield, 1 worker (ns)"                "$(nv "$y_one")" ""
row "corosensei resume+suspend (ns)"             "$(nv "$bare" 2)" ""
row "yield round trip / resume+suspend"          "$( [ -n "$r_yield" ] && echo "${r_yield}x" || echo n/a)" "<= 5x" "$(check "$r_yield" "<= 5")"
row "coroutine spawn+join (ns)"                  "$(nv "$sp" 0)"  ""
row "pthread create+join (ns)"                   "$(nv "$pt" 0)"  ""
row "spawn+join speed-up vs pthread"             "$( [ -n "$r_spawn" ] && echo "${r_spawn}x" || echo n/a)" ">= 20x" "$(check "$r_spawn" ">= 20")"
row "100k x 100 ms sleep: wall (ms)"             "$(nv "$wall" 0)" ""
row "100k x 100 ms sleep: wall / 100 ms"         "$( [ -n "$r_wall" ] && echo "${r_wall}x" || echo n/a)" "<= 1.5x" "$(check "$r_wall" "<= 1.5")"
row "100k x 100 ms sleep: peak RSS (MiB)"        "$(nv "$rss_mib")" "< 1024" "$(check "$rss_mib" "< 1024")"
row "1k x 2 s sleep: process CPU (ms)"           "$(nv "$idle")" "< 50" "$(check "$idle" "< 50")"

if [ "$broken" -ne 0 ]; then
    echo "bench.sh: $broken run(s) crashed, hung or gave no result (see FAILED lines above)" >&2
    exit 1
fi
exit 0
