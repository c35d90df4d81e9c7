# curl against python3 -m http.server (both under the library in the run
# with it): files of D/www and D/big.txt fetched whole (hashes), 8 at once
# with --parallel, several in one curl, HEAD, a directory listing, 404,
# POST (501), and an upload-less PUT. Dates in headers are normalised.
set -u
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$D" >server.log 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null' EXIT
port=
for _ in $(seq 1 400); do
    port=$(sed -n 's/^Serving HTTP on 127\.0\.0\.1 port \([0-9][0-9]*\) .*/\1/p' server.log)
    [ -n "$port" ] && break
    kill -0 $srv 2>/dev/null || break
    sleep 0.05
done
if [ -z "$port" ]; then
    echo "the server did not start" >&2
    cat server.log >&2
    exit 1
fi
base=http://127.0.0.1:$port
has=no; grep -q libopencoro "/proc/$srv/maps" && has=yes
want=no; case ${LD_PRELOAD:-} in *libopencoro*) want=yes;; esac
echo "the server has the library when preloaded: $([ $has = $want ] && echo yes || echo no)"
c() { curl -sS --max-time 20 "$@"; }
h() { sha256sum | cut -c1-16; }
for f in www/blob.bin www/index.html big.txt tree/src/lib/hex.txt; do
    echo "$f: $(c --fail "$base/$f" | h) (file $(h <"$D/$f"))"
done
c --no-progress-meter --parallel --parallel-max 8 $(for i in 1 2 3 4 5 6 7 8; do echo "-o blob.$i $base/www/blob.bin"; done)
echo "8 parallel: $(cat blob.* | h) $(for i in 1 2 3 4 5 6 7 8; do cat "$D/www/blob.bin"; done | h)"
echo "three in one curl: $(c "$base/www/dir/one.txt" "$base/www/dir/two.txt" "$base/www/index.html" | h)"
echo "HEAD:"
c -I "$base/www/index.html" | tr -d '\r' | sed -e 's/^Date: .*/Date: DATE/' | sort
echo "listing of tree/docs/:"
c "$base/tree/docs/" | grep -o 'href="[^"]*"'
echo "missing: $(c -o /dev/null -w '%{http_code}' "$base/no-such-file")"
echo "POST: $(c -o /dev/null -w '%{http_code}' -d 'a=b' "$base/www/index.html")"
echo "status, size and type: $(c -o /dev/null -w '%{http_code} %{size_download} %{content_type}' "$base/www/blob.bin")"
echo "requests logged: $(grep -c '"GET ' server.log)"
