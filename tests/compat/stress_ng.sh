# stress-ng stressors one after the other, 2 instances each, bounded by an
# operation count (sem and yield, whose stress-ng 0.15 instances do not stop
# at their count, by a short --timeout instead): threads, futexes, mutexes,
# semaphores, context switches, sched_yield, poll, epoll, sockets, sigqueue,
# signals, fork. Prints each stressor's exit status and whether stress-ng
# called the run successful (no bogo-ops, no timings); stress-ng's own output
# goes to stderr. The peak of threads in any one stress-ng process is
# checked by tests/compat/green_peak.sh (stress-ng runs each instance in a
# process of its own, so over the whole tree).
set -u
failed=0
# stressor NAME NATIVE_MIN_THREADS OPTION...
stressor() {
    local name=$1 min=$2 rc
    shift 2
    GREEN_TREE=1 bash "$C/green_peak.sh" "$name" "$min" \
        sh -c 'exec "$@" >"$0" 2>&1' "$name.log" stress-ng "$@"
    rc=$?
    echo "$name: exit $rc, $(grep -oE '(un)?successful run completed' "$name.log" | head -n 1)"
    sed "s/^/    $name| /" "$name.log" >&2
    [ "$rc" -eq 0 ] || failed=$((failed + 1))
}
opts=(--metrics-brief --timeout 60)
stressor pthread 64 --pthread 2 --pthread-ops 2000 "${opts[@]}"
stressor futex 0 --futex 2 --futex-ops 20000 "${opts[@]}"
# (mutex: 200,000 operations, not 20,000: its main checks whether to go on
# after its first pthread_create, and when that thread has already done
# every operation, the instance gives up with "could not create any
# pthreads" (exit 3); green threads do 20,000 in ~10 ms, and main, held off
# its CPU by a busy machine that long, lost that race 1 run in 10)
stressor mutex 0 --mutex 2 --mutex-ops 200000 "${opts[@]}"
stressor sem 0 --sem 2 --sem-ops 2000 --metrics-brief --timeout 3
stressor switch 0 --switch 2 --switch-ops 20000 "${opts[@]}"
stressor yield 0 --yield 2 --yield-ops 2000 --metrics-brief --timeout 3
stressor poll 0 --poll 2 --poll-ops 20000 "${opts[@]}"
stressor epoll 0 --epoll 2 --epoll-ops 2000 "${opts[@]}"
stressor sock 0 --sock 2 --sock-ops 2000 "${opts[@]}"
stressor sigq 0 --sigq 2 --sigq-ops 20000 "${opts[@]}"
stressor signal 0 --signal 2 --signal-ops 20000 "${opts[@]}"
stressor fork 0 --fork 2 --fork-ops 2000 "${opts[@]}"
echo "stressors failed: $failed"
[ "$failed" -eq 0 ]
