# nginx (master process and 2 workers, in the foreground) serving D/www on
# 127.0.0.1 at a free port, with a prefix, configuration, logs and temporary
# directories of its own in the scratch directory.
#
#   nginx.sh curl   fetches with curl (in the environment's LD_PRELOAD): pages
#                   and a 5 MB file (sendfile) with hashes, HEAD, ranges,
#                   a directory listing, 404, 405, keep-alive, --parallel;
#                   then `nginx -s reload` (the old workers must exit and be
#                   reaped) and fetches again,
#                   and `nginx -s quit` (graceful stop) and nginx's status
#   nginx.sh load   $B/httpload, run without the library: 8 keep-alive
#                   connections x 250 requests, then 400 requests each on a
#                   new connection, counting the good responses
#
# In the run with the library nginx has it: it inherits LD_PRELOAD.
set -u
mode=$1
mkdir -p logs conf tmp
nginx=$(command -v nginx || echo /usr/sbin/nginx)
srv=
stop() {
    if [ -n "$srv" ] && kill -0 "$srv" 2>/dev/null; then
        kill -TERM "$srv" 2>/dev/null
        for _ in $(seq 1 100); do kill -0 "$srv" 2>/dev/null || break; sleep 0.05; done
        kill -KILL "$srv" 2>/dev/null
    fi
    [ -n "$srv" ] && wait "$srv" 2>/dev/null
    srv=
}
trap stop EXIT
# start nginx; up to 5 tries, in case the port was taken in the meantime
for attempt in 1 2 3 4 5; do
    port=$(env -u LD_PRELOAD python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cat >conf/nginx.conf <<CONF
daemon off;
master_process on;
worker_processes 2;
pid $PWD/logs/nginx.pid;
error_log $PWD/logs/error.log notice;
events { worker_connections 1024; }
http {
    types { text/html html; text/plain txt; application/octet-stream bin; }
    default_type application/octet-stream;
    access_log $PWD/logs/access.log;
    client_body_temp_path $PWD/tmp/body;
    proxy_temp_path $PWD/tmp/proxy;
    fastcgi_temp_path $PWD/tmp/fastcgi;
    uwsgi_temp_path $PWD/tmp/uwsgi;
    scgi_temp_path $PWD/tmp/scgi;
    sendfile on;
    keepalive_requests 10000;
    server_tokens off;
    server {
        listen 127.0.0.1:$port;
        root $D/www;
        location / { autoindex on; }
        location = /status { return 200 "up\n"; }
    }
}
CONF
    : >logs/error.log
    "$nginx" -p "$PWD" -c "$PWD/conf/nginx.conf" -e "$PWD/logs/error.log" >logs/stdout 2>&1 &
    srv=$!
    up=no
    for _ in $(seq 1 200); do
        if [ "$(curl -s --max-time 2 "http://127.0.0.1:$port/status" 2>/dev/null)" = up ]; then up=yes; break; fi
        kill -0 $srv 2>/dev/null || break
        sleep 0.05
    done
    [ $up = yes ] && break
    stop
    grep -q 'Address already in use' logs/error.log || break
done
if [ $up != yes ]; then
    echo "nginx did not start" >&2
    cat logs/stdout logs/error.log >&2
    exit 1
fi
base=http://127.0.0.1:$port
c() { curl -sS --max-time 20 "$@"; }
h() { sha256sum | cut -c1-16; }
workers() { pgrep -P "$srv" | wc -l; }
echo "workers: $(workers)"
# nginx has the library exactly when its environment preloads it
has=no; grep -q libopencoro "/proc/$srv/maps" && has=yes
want=no; case ${LD_PRELOAD:-} in *libopencoro*) want=yes;; esac
echo "nginx and its workers have the library when preloaded: $([ $has = $want ] && [ "$(for w in $(pgrep -P "$srv"); do grep -q libopencoro "/proc/$w/maps" && echo yes || echo no; done | sort -u)" = $want ] && echo yes || echo no)"

if [ "$mode" = curl ]; then
    fetch_all() {
        for f in index.html blob.bin dir/one.txt; do
            echo "$f: $(c --fail "$base/$f" | h) (file $(h <"$D/www/$f"))"
        done
    }
    fetch_all
    echo "HEAD:"
    c -I "$base/blob.bin" | tr -d '\r' | sed -e 's/^Date: .*/Date: DATE/' | sort
    echo "range: $(c -r 100-199 -w ' %{http_code}' "$base/blob.bin" | tail -c 20)"
    echo "listing:"
    c "$base/dir/" | sed -n 's/^<a href="\([^"]*\)">.*/\1/p'
    echo "missing: $(c -o /dev/null -w '%{http_code}' "$base/no-such-file")"
    echo "POST: $(c -o /dev/null -w '%{http_code}' -d 'a=b' "$base/index.html")"
    echo "keep-alive, 20 in one curl: $(c $(for i in $(seq 1 20); do echo "$base/dir/two.txt"; done) -w '%{num_connects}\n' | sort | uniq -c | tr -s ' \n' ' ')"
    c --no-progress-meter --parallel --parallel-max 10 $(for i in $(seq 1 10); do echo "-o blob.$i $base/blob.bin"; done)
    echo "10 parallel: $(cat blob.* | h) $(for i in $(seq 1 10); do cat "$D/www/blob.bin"; done | h)"
    old=$(pgrep -P "$srv")
    "$nginx" -p "$PWD" -c "$PWD/conf/nginx.conf" -e "$PWD/logs/error.log" -s reload
    # the old workers exit and the master reaps them (on SIGCHLD); a zombie
    # is a worker whose end the master missed
    reaped=no
    for _ in $(seq 1 100); do
        gone=yes
        for w in $old; do [ -e "/proc/$w" ] && gone=no; done
        if [ $gone = yes ]; then reaped=yes; break; fi
        sleep 0.05
    done
    echo "after reload: old workers exited and reaped: $reaped; live workers: $(ps -o stat= --ppid "$srv" | grep -vc Z)"
    [ $reaped = yes ] || ps -o pid=,stat=,args= --ppid "$srv" >&2
    fetch_all
    "$nginx" -p "$PWD" -c "$PWD/conf/nginx.conf" -e "$PWD/logs/error.log" -s quit
    status=timeout
    for _ in $(seq 1 200); do
        if ! kill -0 $srv 2>/dev/null; then wait $srv; status=$?; srv=; break; fi
        sleep 0.05
    done
    echo "nginx -s quit: exit status $status"
    echo "access log: $(grep -c '" 200 ' logs/access.log) lines with 200"
else
    env -u LD_PRELOAD "$B/httpload" 127.0.0.1 "$port" /index.html 8 250 keepalive
    env -u LD_PRELOAD "$B/httpload" 127.0.0.1 "$port" /dir/one.txt 4 100 close
    env -u LD_PRELOAD "$B/httpload" 127.0.0.1 "$port" /blob.bin 4 5 keepalive
    echo "workers after the load: $(workers)"
    echo "access log: $(wc -l <logs/access.log) lines"
fi
if grep -E '\[(alert|crit|emerg)\]' logs/error.log >&2; then echo "nginx logged alerts (see stderr)"; fi
