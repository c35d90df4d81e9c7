#!/usr/bin/env bash
# demo.sh DEMO LIB: runs the demo program (scripts/demo.c) twice, once with
# LD_PRELOAD=LIB (10,000 coroutines) and once without (10,000 pthreads), and
# prints the two side by side with ratios.
# Exits non-zero if the run under the library does not complete (crash, hang,
# missing result, or not all sleepers done). The run without the library is
# only reported: a failing pthread_create is the point of the comparison.
set -u
if [ $# -ne 2 ]; then
    echo "usage: $0 DEMO LIB" >&2
    exit 2
fi
demo=$1 lib=$2
for f in "$demo" "$lib"; do
    [ -f "$f" ] || { echo "demo.sh: $f not found" >&2; exit 2; }
done
lib=$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")
N=${DEMO_TASKS:-10000}
LIMIT=${DEMO_TIMEOUT:-60}

out_co=$(mktemp) out_th=$(mktemp)
trap 'rm -f "$out_co" "$out_th"' EXIT

# run OUT [ENV...] : runs the demo under a timeout, output teed to OUT.
run() {
    local out=$1; shift
    env "$@" timeout -k 5 "$LIMIT" "$demo" "$N" 2>&1 | tee "$out"
    return "${PIPESTATUS[0]}"
}

echo "== with opencoro (LD_PRELOAD=$(basename "$lib"), OPENCORO_WORKERS=${OPENCORO_WORKERS:-default})"
run "$out_co" LD_PRELOAD="$lib"; rc_co=$?
echo "== without opencoro (plain pthreads)"
run "$out_th"; rc_th=$?
echo

field() { # field FILE KEY: the value of KEY=... on the RESULT line
    awk -v k="$2" '/^RESULT /{for(i=2;i<=NF;i++){split($i,a,"="); if(a[1]==k) print a[2]}}' "$1" | tail -1
}

fail=0
if [ "$rc_co" -ne 0 ] || [ -z "$(field "$out_co" done)" ] || [ "$(field "$out_co" done)" != "$N" ]; then
    case $rc_co in
        124|137) why="timed out after ${LIMIT}s (hang?)";;
        0) why="no complete RESULT line";;
        *) if [ "$rc_co" -gt 128 ]; then why="killed by signal $((rc_co-128))"; else why="exit status $rc_co"; fi;;
    esac
    echo "demo.sh: FAILED: the run under opencoro did not complete: $why" >&2
    fail=1
elif [ "$(field "$out_co" mode)" != coroutines ]; then
    echo "demo.sh: FAILED: under LD_PRELOAD=$lib the demo did not find the opencoro API (did the library load?)" >&2
    fail=1
fi
if [ "$rc_th" -ne 0 ]; then
    echo "demo.sh: note: the pthread run did not complete all $N threads (exit status $rc_th)"
fi
[ "$fail" -eq 0 ] || exit 1

ratio() { # ratio A B: A/B to 1 decimal, or - when undefined
    awk -v a="$1" -v b="$2" 'BEGIN{ if (a=="" || b=="" || b+0<=0) print "-"; else printf "%.1fx", a/b }'
}
row() { # row LABEL KEY SCALE UNIT
    local c t
    c=$(field "$out_co" "$2"); t=$(field "$out_th" "$2")
    local cs ts
    cs=$(awk -v v="$c" -v s="$3" 'BEGIN{ if (v=="") print "-"; else printf "%.1f", v/s }')
    ts=$(awk -v v="$t" -v s="$3" 'BEGIN{ if (v=="") print "-"; else printf "%.1f", v/s }')
    printf "%-28s %14s %14s %16s\n" "$1 ($4)" "$cs" "$ts" "$(ratio "$t" "$c")"
}
echo "== $N x sleep(1): coroutines vs threads"
printf "%-28s %14s %14s %16s\n" "figure" "opencoro" "pthreads" "pthreads/opencoro"
row "wall time" wall_ms 1 ms
row "CPU time (user+sys)" cpu_ms 1 ms
row "peak RSS" maxrss_kib 1024 MiB
printf "%-28s %14s %14s %16s\n" "OS threads in flight" "$(field "$out_co" threads)" "$(field "$out_th" threads)" \
    "$(ratio "$(field "$out_th" threads)" "$(field "$out_co" threads)")"
printf "%-28s %14s %14s\n" "sleepers done" "$(field "$out_co" done)/$N" "$(field "$out_th" done)/$N"
echo "(OS threads: entries of /proc/self/task sampled by main after the last spawn; early pthreads may already have exited.)"
exit 0
