# Java threads (tests/compat/java/CompatThreads.java, compiled into
# $B/java): 3,000 threads that sleep 200 ms, a thread-per-connection echo
# server with 50 client threads, wait/notify ping-pong and a bounded buffer,
# an ExecutorService with futures. The first and last run with -Xshare:off
# (cold class loading, lib/modules read with pread). Each JVM's peak of
# threads is checked by tests/compat/green_peak.sh (natively a JVM has some
# 20 threads of its own before the program's).
set -eu
j() {
    local label=$1 min=$2
    shift 2
    bash "$C/green_peak.sh" "java $label" "$min" java -Xmx256m "$@"
}
# (natively at least 500 at once: under load the 3,000 200-ms sleepers
# overlap less, and a peak of 1,000 was missed once beside another test run)
j sleepers 500 -Xshare:off -cp "$B/java" CompatThreads sleepers 3000
j echo 100 -cp "$B/java" CompatThreads echo 50 200
j pingpong 13 -cp "$B/java" CompatThreads pingpong 20000
j executor 13 -Xshare:off -cp "$B/java" CompatThreads executor 8 2000
