# Run by scripts/run-programs.sh with and without libopencoro.so: readiness
# waits in Python on a socketpair and a pipe: selectors.DefaultSelector
# (epoll), select.select, select.poll, each with timeouts that expire and
# with data that a thread sends later. The output does not depend on timing
# beyond "the timeout was honoured" and "the wait ended early".
import os
import select
import selectors
import socket
import threading
import time

a, b = socket.socketpair()
r, w = os.pipe()


def later(delay, fn):
    t = threading.Timer(delay, fn)
    t.start()
    return t


def timed(fn):
    start = time.monotonic()
    result = fn()
    return result, time.monotonic() - start


# selectors: ping-pong, then a timeout, then data from a thread
sel = selectors.DefaultSelector()
print("selector:", type(sel).__name__)
sel.register(a, selectors.EVENT_READ, "a")
sel.register(b, selectors.EVENT_READ, "b")
b.sendall(b"ping 0")
rounds = 0
while rounds < 100:
    for key, _ in sel.select(timeout=5):
        msg = key.fileobj.recv(64)
        n = int(msg.split()[1])
        reply = b"pong" if key.data == "a" else b"ping"
        key.fileobj.sendall(reply + b" %d" % (n + 1))
        rounds += 1
print("ping-pong rounds:", rounds)
for key, _ in sel.select(timeout=0):  # the last message, already there
    key.fileobj.recv(64)
events, took = timed(lambda: sel.select(timeout=0.15))
print("selector timeout: events", events, "waited >= 0.15 s", took >= 0.15, "< 2 s", took < 2)
t = later(0.1, lambda: b.sendall(b"late"))
events, took = timed(lambda: sel.select(timeout=5))
t.join()
print("selector woken by a thread:", [k.data for k, _ in events], "early", took < 4, a.recv(64))
sel.close()

# select.select on the pipe and the socket
ready, took = timed(lambda: select.select([r, a], [], [], 0.15))
print("select timeout:", ready, "waited >= 0.15 s", took >= 0.15)
t = later(0.1, lambda: os.write(w, b"pipe data"))
ready, took = timed(lambda: select.select([r, a], [], [], 5))
t.join()
print("select woken by a thread:", [x == r for x in ready[0]], "early", took < 4, os.read(r, 64))
ready = select.select([], [w, b], [], 1)
print("select writable:", len(ready[1]))

# select.poll
p = select.poll()
p.register(r, select.POLLIN)
p.register(a, select.POLLIN)
events, took = timed(lambda: p.poll(150))
print("poll timeout:", events, "waited >= 0.15 s", took >= 0.15)
t = later(0.1, lambda: b.sendall(b"poll data"))
events, took = timed(lambda: p.poll(5000))
t.join()
print("poll woken by a thread:", [(fd == a.fileno(), ev) for fd, ev in events], "early", took < 4, a.recv(64))
os.close(w)
events = p.poll(1000)
print("poll after the pipe's writer closed:", [(fd == r, ev & select.POLLHUP != 0) for fd, ev in events])
