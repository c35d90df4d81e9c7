# bash background jobs: &, $!, wait PID, wait -n, wait for all, jobs,
# kill of a job, many jobs writing files, timeout, a background job's output
# through a pipe, disown.
set -u
sleep 0.3 & a=$!
(sleep 0.1; exit 3) & b=$!
wait $b; echo "b exited $?"
wait $a; echo "a exited $?"
for i in 1 2 3; do (sleep 0.$((i * 2)); exit $i) & done
st=()
for i in 1 2 3; do wait -n; st+=($?); done
echo "wait -n statuses: $(printf '%s\n' "${st[@]}" | sort | tr '\n' ' ')"
sleep 30 & s=$!
jobs
kill $s; wait $s; echo "killed job: $?"
for i in $(seq 1 20); do (echo $((i * i)) >"out.$i") & done
wait; echo "20 jobs: $(cat out.* | sort -n | tr '\n' ' ')"
timeout 0.2 sleep 5; echo "timeout: $?"
(for i in 1 2 3; do echo "bg line $i"; sleep 0.05; done) | cat &
wait $!; echo "pipeline job: $?"
sleep 0.1 & d=$!; disown $d; echo "disowned: $(jobs | wc -l) jobs left"; wait $d 2>/dev/null; sleep 0.2
{ sleep 0.1; echo "group job"; } &
wait
echo done
