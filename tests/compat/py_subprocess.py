# python3 subprocess and fork: run/check_output/Popen with pipes both ways
# (1 MiB through cat with communicate), shell pipelines, exit statuses and
# signals, a timeout that kills the child, streaming a child's output line by
# line, os.fork + os.waitpid, os.system, os.popen, os.posix_spawn, pass_fds,
# and four threads each running subprocesses at once. Deterministic output.
import hashlib
import os
import signal
import subprocess
import sys
import threading

r = subprocess.run(["echo", "hello"], capture_output=True, text=True)
print("run:", r.returncode, r.stdout.strip())

data = bytes(range(256)) * 4096  # 1 MiB
r = subprocess.run(["cat"], input=data, capture_output=True)
print("cat 1 MiB:", r.stdout == data)

p = subprocess.Popen(["sort", "-r"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
out, err = p.communicate(b"".join(b"%d\n" % i for i in range(10000)))
print("communicate:", p.returncode, out.split(b"\n")[:3])

print("shell pipeline:", subprocess.check_output("seq 1 1000 | awk '{s+=$1} END {print s}'", shell=True, text=True).strip())
print("exit 5:", subprocess.call(["sh", "-c", "exit 5"]))
try:
    subprocess.check_call(["false"])
except subprocess.CalledProcessError as e:
    print("CalledProcessError:", e.returncode)

try:
    subprocess.run(["sleep", "5"], timeout=0.3)
except subprocess.TimeoutExpired as e:
    print("TimeoutExpired", e.cmd)

p = subprocess.Popen(["sleep", "10"])
p.terminate()
print("terminated:", p.wait())
p = subprocess.Popen(["sh", "-c", "kill -KILL $$"])
print("killed itself:", p.wait())

p = subprocess.Popen(["sh", "-c", "for i in 1 2 3 4 5; do echo line $i; sleep 0.02; done"], stdout=subprocess.PIPE, text=True)
print("streamed:", [line.strip() for line in p.stdout])
p.wait()

print("env and cwd:", subprocess.check_output(["sh", "-c", "echo $COMPAT_VAR; pwd"], env={"COMPAT_VAR": "set", "PATH": os.environ["PATH"]}, cwd="/", text=True).split())
r = subprocess.run([sys.executable, "-c", "import sys; sys.stderr.write('to stderr'); sys.exit(3)"], stderr=subprocess.STDOUT, stdout=subprocess.PIPE, text=True)
print("python child:", r.returncode, r.stdout)

# fork and wait
rfd, wfd = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(rfd)
    os.write(wfd, b"from the forked child")
    os._exit(7)
os.close(wfd)
msg = b""
while True:
    d = os.read(rfd, 100)
    if not d:
        break
    msg += d
os.close(rfd)
_, status = os.waitpid(pid, 0)
print("fork:", msg.decode(), os.waitstatus_to_exitcode(status))

# a forked child that runs threads of its own
pid = os.fork()
if pid == 0:
    box = []
    ts = [threading.Thread(target=box.append, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    os._exit(len(box))
print("threads in a forked child:", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))

print("os.system:", os.waitstatus_to_exitcode(os.system("exit 4")))
with os.popen("echo popen; echo two") as f:
    print("os.popen:", f.read().split())
pid = os.posix_spawn("/bin/sh", ["sh", "-c", "exit 6"], os.environ)
print("posix_spawn:", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
pid = os.posix_spawnp("true", ["true"], os.environ)
print("posix_spawnp:", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))

rfd, wfd = os.pipe()
p = subprocess.Popen(["sh", "-c", "echo via-fd >&%d" % wfd], pass_fds=(wfd,))
os.close(wfd)
p.wait()
print("pass_fds:", os.read(rfd, 100).decode().strip())
os.close(rfd)

# subprocesses from four threads at once
results = {}


def many(k):
    outs = []
    for j in range(5):
        outs.append(subprocess.run(["sh", "-c", "echo $0 $1", str(k), str(j)], capture_output=True, text=True).stdout.split())
        r = subprocess.run(["cat"], input=b"x" * 100000, capture_output=True)
        outs.append(len(r.stdout))
    results[k] = outs


ts = [threading.Thread(target=many, args=(k,)) for k in range(4)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("from threads:", hashlib.sha256(repr(sorted(results.items())).encode()).hexdigest()[:16], len(results))
print("done")
