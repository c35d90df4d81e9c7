#!/usr/bin/env bash
# shell_loop.sh N [LIB]: a shell script that runs N x (/bin/true; ls) with
# LIB preloaded into the shell (and so into every program it starts), or
# natively without LIB. Prints "RESULT wall_ms=W cpu_ms=C": the wall time
# and the CPU time (user + sys) of the shell and all its children.
set -u
n=${1:-300}; lib=${2:-}
loop='for ((i = 0; i < '"$n"'; i++)); do /bin/true; ls / >/dev/null; done'
t0=$(date +%s%N)
if [ -n "$lib" ]; then
    env LD_PRELOAD="$lib" bash -c "$loop"
else
    bash -c "$loop"
fi
t1=$(date +%s%N)
# `times` (run in this shell, not a subshell), second line: the children's
# user and sys time, as "XmY.ZZZs"
tf=$(mktemp); times > "$tf"
read -r u s < <(sed -n 2p "$tf"); rm -f "$tf"
ms() { awk -v t="$1" 'BEGIN { split(t, a, "m"); sub("s", "", a[2]); printf "%.0f", (a[1] * 60 + a[2]) * 1000 }'; }
echo "RESULT wall_ms=$(( (t1 - t0) / 1000000 )) cpu_ms=$(( $(ms "$u") + $(ms "$s") ))"
