# bash pipelines: long ones, PIPESTATUS, pipefail, lastpipe, process
# substitution, coproc, here-documents, 20 MB through a pipeline, SIGPIPE.
set -u
seq 1 20000 | awk '$1 % 3 == 0' | sort -rn | head -n 3
true | false | (exit 4) | true; echo "PIPESTATUS ${PIPESTATUS[*]}"
set -o pipefail; false | true; echo "pipefail: $?"; set +o pipefail
n=0; seq 5 | while read -r i; do n=$((n + i)); done; echo "without lastpipe: n=$n"
shopt -s lastpipe; n=0; seq 5 | while read -r i; do n=$((n + i)); done; echo "with lastpipe: n=$n"; shopt -u lastpipe
diff <(seq 1 5) <(seq 1 6); echo "diff of process substitutions: $?"
paste <(seq 3) <(seq 4 6) <(printf 'a\nb\nc\n')
tr a-z A-Z <<<"here string"
cat <<EOT | rev
here document $((6 * 7))
EOT
{ echo out; echo err >&2; } 2>&1 | sort
head -c 20000000 /dev/zero | tr '\0' a | fold -w 100 | sort | uniq -c
yes | head -n 3; echo "yes | head: ${PIPESTATUS[*]}"
seq 1 1000000 | head -n 1 >/dev/null; echo "seq killed by SIGPIPE: ${PIPESTATUS[0]}"
coproc UPPER { tr a-z A-Z; }
echo "to the coprocess" >&"${UPPER[1]}"
exec {UPPER[1]}>&-
read -r line <&"${UPPER[0]}"; echo "coproc: $line"
wait "$UPPER_PID"; echo "coproc status $?"
exec 3>fd3.txt; echo "through fd 3" >&3; exec 3>&-; cat fd3.txt
mkfifo fifo
(seq 1 5000 >fifo) &
echo "fifo sum: $(awk '{ s += $1 } END { print s }' <fifo)"
wait
