#!/usr/bin/env bash
# wrkrun.sh: the HTTP load generator of scripts/bench-peers, wrk with its
# output turned into the suite's "RESULT key=value ..." line.
#
#   wrkrun.sh PORT CONNS WARMUP_S DURATION_S [THREADS]
#
# Runs wrk against http://127.0.0.1:PORT/ with CONNS keep-alive connections
# and THREADS threads (default 1, as loadgen.c has one): first WARMUP_S
# seconds unmeasured (connections opened, servers' threads and caches warm),
# then DURATION_S seconds measured, with --latency. Prints
#   req_per_s      requests per second of the measured run
#   p50_ms, p99_ms latency percentiles
#   errors         socket errors (connect, read, write, timeout) and non-2xx
#                  answers of the measured run
# Exit 0 when requests were answered without errors, else 1.
set -u
port=$1 conns=$2 warm=$3 secs=$4 threads=${5:-1}
[ "$threads" -gt "$conns" ] && threads=$conns
url="http://127.0.0.1:$port/"
if [ "$warm" -gt 0 ]; then
    wrk -t "$threads" -c "$conns" -d "${warm}s" "$url" > /dev/null 2>&1 || { echo "wrkrun: warm-up run failed" >&2; exit 1; }
fi
out=$(wrk -t "$threads" -c "$conns" -d "${secs}s" --latency "$url" 2>&1) || { printf '%s\n' "$out" >&2; exit 1; }
# wrk prints latencies as 123.45us, 1.23ms or 1.23s
to_ms() { awk -v v="$1" 'BEGIN{ u=v; sub(/[0-9.]+/, "", u); x=v+0;
    if (u=="us") x/=1000; else if (u=="s") x*=1000; else if (u=="m") x*=60000; printf "%.3f", x }'; }
rps=$(printf '%s\n' "$out" | awk '/^Requests\/sec:/{print $2}')
p50=$(printf '%s\n' "$out" | awk '$1=="50%"{print $2}')
p99=$(printf '%s\n' "$out" | awk '$1=="99%"{print $2}')
# "Socket errors: connect 0, read 0, write 0, timeout 0" and "Non-2xx or 3xx responses: N"
errs=$(printf '%s\n' "$out" | awk '/Socket errors:/{gsub(",", ""); s+=$4+$6+$8+$10} /Non-2xx/{s+=$NF} END{print s+0}')
if [ -z "$rps" ]; then
    printf '%s\n' "$out" >&2
    exit 1
fi
echo "RESULT mode=http conns=$conns threads=$threads req_per_s=$rps p50_ms=$(to_ms "${p50:-0}") p99_ms=$(to_ms "${p99:-0}") errors=$errs"
[ "$errs" -eq 0 ] && awk -v r="$rps" 'BEGIN{ exit !(r > 0) }'
