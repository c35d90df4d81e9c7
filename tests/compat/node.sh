# Node.js (tests/compat/node_compat.js): an http server and client in one
# process, fs and crypto (pbkdf2, scrypt, randomBytes, key pairs) and zlib on
# the libuv thread pool, a worker thread, child processes (execFile of echo
# and sh, spawn, execFileSync). With 32 libuv pool threads node has over 32
# threads natively; tests/compat/green_peak.sh checks the peak. The exit
# status is node's own (it used to die of SIGSEGV at exit with the library).
set -u
UV_THREADPOOL_SIZE=32 exec bash "$C/green_peak.sh" node 32 node "$C/node_compat.js"
