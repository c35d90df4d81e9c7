# green_peak.sh LABEL NATIVE_MIN COMMAND [ARG...]: runs COMMAND (in the
# background, stdin and stdout passed through) and samples the "Threads:"
# line of its /proc/PID/status every 25 ms, keeping the peak; with
# GREEN_TREE=1 the peak is over COMMAND and all its descendants (the largest
# of any one process, not a sum). The peak goes to stderr ("green_peak:
# LABEL: peak N threads ..."), never to stdout, so outputs with and without
# the library still compare.
#
# Exits with COMMAND's status when that is not 0. Otherwise:
#   86  with the library (libopencoro.so in this shell's maps): the program
#       had OS threads of its own, so its threads were not all green. Past
#       the bound (workers, OPENCORO_WORKERS or the CPUs, + 10 for the
#       monitor, spares and blocking-pool threads; GREEN_BOUND overrides it)
#       the threads are told apart by name: the runtime's are `opencoro-*`,
#       and more than main's besides them, in two samples in a row (a
#       runtime thread just started may carry the program's name for a
#       moment), fails. The runtime's own threads past the bound (a pool
#       grown under a cold disk cache, spares standing in) do not.
#   87  without the library: the peak was under NATIVE_MIN (0: no minimum),
#       so the program did not make the threads the check is about (the check
#       itself is broken).
#   0   otherwise.
set -u
label=$1 min=$2
shift 2
workers=${OPENCORO_WORKERS:-$(nproc)}
bound=${GREEN_BOUND:-$((workers + 10))}
lib=no
grep -q libopencoro.so /proc/self/maps && lib=yes

# a FIFO nobody writes: `read -t` on it is a sleep without a process
fifo_dir=$(mktemp -d)
mkfifo "$fifo_dir/f"
exec 9<>"$fifo_dir/f"
rm -rf "$fifo_dir"

"$@" 9<&- &
pid=$!
peak=0 peak_comm=${1##*/} state=
own_fail=
declare -A own_run=()
# names P: the names of P's threads, counted (digits left out), into
# peak_names (for the report of a peak over the bound)
names() {
    local f n out=
    local -A count=()
    for f in /proc/"$1"/task/*/comm; do
        read -r n 2>/dev/null <"$f" || continue
        n=${n%%[0-9]*}
        count[$n]=$((${count[$n]:-0} + 1))
    done
    for n in "${!count[@]}"; do out+=" ${count[$n]} $n,"; done
    peak_names=${out%,}
}
peak_names=
# own P: P's threads that are not the runtime's (not named opencoro-*)
own() {
    local f n c=0
    for f in /proc/"$1"/task/*/comm; do
        read -r n 2>/dev/null <"$f" || continue
        case $n in opencoro-*) ;; *) c=$((c + 1)) ;; esac
    done
    echo "$c"
}
# sample P: the peak over P (and, with GREEN_TREE=1, its descendants)
sample() {
    local p=$1 st= t c kids=()
    # the file in one read(): line by line, bash reads it again from an
    # offset, and the lines move when the process changes (an exec)
    read -r -d '' st 2>/dev/null <"/proc/$p/status"
    if [[ $st =~ State:[[:space:]]+([A-Z]) ]]; then
        [ "$p" = "$pid" ] && state=${BASH_REMATCH[1]}
    fi
    if [[ $st =~ Threads:[[:space:]]+([0-9]+) ]]; then
        t=${BASH_REMATCH[1]}
        if [ "$t" -gt "$peak" ]; then
            peak=$t
            read -r peak_comm 2>/dev/null <"/proc/$p/comm"
        fi
        if [ "$lib" = yes ] && [ "$t" -gt "$bound" ]; then
            if [ "$(own "$p")" -gt 1 ]; then
                own_run[$p]=$((${own_run[$p]:-0} + 1))
                [ "${own_run[$p]}" -ge 2 ] && [ -z "$own_fail" ] && { own_fail=$t; names "$p"; }
            else
                own_run[$p]=0
            fi
        fi
    fi
    [ "${GREEN_TREE:-0}" = 1 ] || return 0
    for t in /proc/"$p"/task/*/children; do
        kids=()
        read -r -a kids 2>/dev/null <"$t"
        for c in "${kids[@]}"; do sample "$c"; done
    done
}
while :; do
    state=
    sample "$pid"
    # gone, or a zombie waiting for the wait below
    case $state in '' | Z | X) break ;; esac
    read -r -t 0.025 -u 9 _
done
wait "$pid"
rc=$?
echo "green_peak: $label: peak $peak threads ($peak_comm), library $lib, bound $bound, exit $rc" >&2
if [ "$rc" -ne 0 ]; then exit "$rc"; fi
if [ "$lib" = yes ] && [ -n "$own_fail" ]; then
    echo "green_peak: $label: NOT GREEN: $own_fail threads with the library, over the bound $bound, and some of the program's own" >&2
    echo "green_peak: $label: the threads then:$peak_names" >&2
    exit 86
fi
if [ "$lib" = no ] && [ "$peak" -lt "$min" ]; then
    echo "green_peak: $label: only $peak threads without the library, under $min: the check does not exercise threads" >&2
    exit 87
fi
exit 0
