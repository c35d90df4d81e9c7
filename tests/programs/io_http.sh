#!/usr/bin/env bash
# Run by scripts/run-programs.sh with and without libopencoro.so:
#
#   io_http.sh SERVER CLIENT
#
# serves the current directory with `python3 -m http.server` on 127.0.0.1
# (port 0: the kernel picks a free one, read back from the server's own
# "Serving HTTP on ... port N" line, polled for with a bounded loop) and
# fetches from it with curl, or with Python's urllib where curl is missing.
# SERVER and CLIENT are "inherit" (run with the environment's LD_PRELOAD, so
# preloaded in the preloaded run) or "plain" (always without the library).
# Prints what was fetched: the sha256 of files (also of 8 parallel fetches
# of one file), the links of a directory listing, a missing file's status.
# An "opencoro:" line the server printed is copied to stderr.
set -u
server_mode=$1 client_mode=$2
plain() { if [ "$1" = plain ]; then echo "env -u LD_PRELOAD"; fi; }
tmp=$(mktemp -d) || exit 1
srv=
cleanup() {
    if [ -n "$srv" ]; then kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; fi
    grep '^opencoro:' "$tmp/log" >&2
    rm -rf "$tmp"
}
trap cleanup EXIT

$(plain "$server_mode") python3 -u -m http.server 0 --bind 127.0.0.1 >"$tmp/log" 2>&1 &
srv=$!
port=
for _ in $(seq 1 400); do
    port=$(sed -n 's/^Serving HTTP on 127\.0\.0\.1 port \([0-9][0-9]*\) .*/\1/p' "$tmp/log")
    [ -n "$port" ] && break
    kill -0 "$srv" 2>/dev/null || break
    sleep 0.05
done
if [ -z "$port" ]; then
    echo "io_http.sh: the server did not start" >&2
    cat "$tmp/log" >&2
    exit 1
fi
base=http://127.0.0.1:$port

if command -v curl >/dev/null; then
    get() { $(plain "$client_mode") curl -sS --max-time 20 --fail "$1"; }
    code() { $(plain "$client_mode") curl -sS --max-time 20 -o /dev/null -w '%{http_code}\n' "$1"; }
else
    get() {
        $(plain "$client_mode") python3 -c 'import sys, urllib.request
sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1], timeout=20).read())' "$1"
    }
    code() {
        $(plain "$client_mode") python3 -c 'import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=20).status)
except urllib.error.HTTPError as e:
    print(e.code)' "$1"
    }
fi

for f in blob lines.txt big.txt fixed/a.txt fixed/zeros.bin; do
    echo "$f $(get "$base/$f" | sha256sum | cut -d' ' -f1)"
done
pids=()
for i in 1 2 3 4 5 6 7 8; do
    (get "$base/blob" | sha256sum >"$tmp/parallel.$i") &
    pids+=($!)
done
wait "${pids[@]}"
echo "8 parallel fetches of blob:"
cat "$tmp"/parallel.* | sort | uniq -c
echo "listing of fixed/:"
get "$base/fixed/" | grep -o 'href="[^"]*"'
echo "missing file: $(code "$base/no-such-file")"
