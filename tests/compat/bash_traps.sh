# bash traps: EXIT, USR1 from the shell itself, USR2 from another process while
# the shell waits for a job (wait returns 128+12), ERR, ignored INT, a trap in
# a child shell killed with TERM, read -t timing out. Exits 3.
set -u
trap 'echo "EXIT trap, status $?"' EXIT
read -r -t 0.2 x < <(sleep 0.5); echo "read -t status $?"
trap 'echo "USR1 caught"' USR1
kill -USR1 $$; echo "after USR1"
trap 'echo "USR2 caught during wait"' USR2
sleep 5 & s=$!
(sleep 0.2; kill -USR2 $$) &
wait $s; echo "wait returned $?"
kill $s; wait $s; echo "sleep killed: $?"
wait
trap 'echo "ERR trap"' ERR
false
trap - ERR
trap '' INT; kill -INT $$; echo "INT ignored"; trap - INT
bash -c 'trap "kill \$!; echo child got TERM; exit 7" TERM; echo ready; sleep 5 & wait' >child.out &
c=$!
for _ in $(seq 100); do grep -q ready child.out && break; sleep 0.05; done
kill -TERM $c; wait $c; echo "child exit $?"
cat child.out
trap 'echo "ALRM caught"' ALRM
(sleep 0.1; kill -ALRM $$) & wait; echo "wait: $?"; wait
(trap 'echo "subshell TERM"; exit 9' TERM; kill -TERM $BASHPID; echo "not reached") ; echo "subshell exit $?"
exit 3
