# Run by scripts/run-programs.sh with and without libopencoro.so: Python
# threading on pthreads: Lock, RLock, Condition (notified and timed-out
# waits), Event, Semaphore and BoundedSemaphore, queue.Queue producers and
# consumers, Barrier, threading.local, Timer (fired and cancelled), and a
# socketserver.ThreadingTCPServer echo server on 127.0.0.1 (port chosen by
# the kernel) serving 200 concurrent client threads, each checking its echo.
# The output does not depend on timing.
import hashlib
import queue
import random
import socket
import socketserver
import sys
import threading
import time


def run_all(n, target, *args):
    ts = [threading.Thread(target=target, args=(i,) + args) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def locks():
    lock = threading.Lock()
    counter = [0]

    def add(i):
        for k in range(2000):
            with lock:
                counter[0] += i * k % 7

    run_all(8, add)
    print("Lock: counter", counter[0])

    rlock = threading.RLock()
    depth_seen = []

    def nested(i, depth=0):
        with rlock:
            if depth < 5:
                nested(i, depth + 1)
            else:
                depth_seen.append(depth)

    run_all(6, nested)
    print("RLock: nested acquisitions reached depth", sorted(set(depth_seen)), "in", len(depth_seen), "threads")


def condition():
    cond = threading.Condition()
    items = []
    done = []

    def consumer(i):
        got = 0
        while True:
            with cond:
                cond.wait_for(lambda: items)
                v = items.pop(0)
            if v is None:
                break
            got += v
        done.append(got)

    cs = [threading.Thread(target=consumer, args=(i,)) for i in range(3)]
    for t in cs:
        t.start()
    for v in list(range(1, 301)) + [None] * 3:
        with cond:
            items.append(v)
            cond.notify()
    for t in cs:
        t.join()
    print("Condition: consumers took", sum(done), "in total, expected", sum(range(1, 301)))

    with cond:
        t0 = time.monotonic()
        got = cond.wait(timeout=0.05)
        print("Condition.wait with no notify: returned", got, "waited at least 50 ms", time.monotonic() - t0 >= 0.05)


def events_and_semaphores():
    ev = threading.Event()
    seen = []

    def waiter(i):
        seen.append(ev.wait(10))

    ws = [threading.Thread(target=waiter, args=(i,)) for i in range(5)]
    for t in ws:
        t.start()
    time.sleep(0.02)
    ev.set()
    for t in ws:
        t.join()
    print("Event: waiters woken", seen.count(True), "of 5; wait on a clear event times out:", threading.Event().wait(0.02))

    sem = threading.Semaphore(3)
    inside = [0]
    most = [0]
    guard = threading.Lock()

    def limited(i):
        for _ in range(20):
            with sem:
                with guard:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0.0005)
                with guard:
                    inside[0] -= 1

    run_all(10, limited)
    print("Semaphore(3): never more than 3 holders at once", most[0] <= 3, "; none left inside", inside[0] == 0)
    bsem = threading.BoundedSemaphore(1)
    bsem.acquire()
    bsem.release()
    try:
        bsem.release()
        print("BoundedSemaphore: over-release allowed")
    except ValueError:
        print("BoundedSemaphore: over-release raises ValueError")


def queues():
    q = queue.Queue(maxsize=10)
    out = queue.Queue()

    def producer(p):
        for k in range(500):
            q.put(p * 10000 + k)

    def consumer(c):
        total = n = 0
        while True:
            v = q.get()
            if v is None:
                q.task_done()
                break
            total += v
            n += 1
            q.task_done()
        out.put((n, total))

    cs = [threading.Thread(target=consumer, args=(c,)) for c in range(3)]
    for t in cs:
        t.start()
    run_all(4, producer)
    for _ in cs:
        q.put(None)
    q.join()
    for t in cs:
        t.join()
    results = [out.get() for _ in cs]
    print("queue.Queue: items", sum(r[0] for r in results), "sum", sum(r[1] for r in results))
    try:
        queue.Queue().get(timeout=0.02)
        print("Queue.get on an empty queue returned")
    except queue.Empty:
        print("Queue.get on an empty queue raises Empty after its timeout")


def barrier_and_local():
    n = 8
    barrier = threading.Barrier(n)
    arrived = []
    after = []
    indices = []

    def party(i):
        arrived.append(i)
        indices.append(barrier.wait(10))
        after.append(len(arrived))

    run_all(n, party)
    print("Barrier: every party saw", set(after), "arrivals; indices", sorted(indices))

    local = threading.local()
    local.value = "main"
    own = []

    def use_local(i):
        local.value = i
        for _ in range(50):
            local.value += 0
            time.sleep(0)
        own.append(local.value == i)

    run_all(10, use_local)
    print("threading.local: threads that kept their own value", own.count(True), "of 10; main's value", local.value)


def timers():
    fired = threading.Event()
    order = []
    t = threading.Timer(0.03, lambda: (order.append("timer"), fired.set()))
    t0 = time.monotonic()
    t.start()
    order.append("started")
    print("Timer: fired", fired.wait(10), "not early", time.monotonic() - t0 >= 0.03)
    t.join()
    c = threading.Timer(0.05, lambda: order.append("cancelled timer ran"))
    c.start()
    c.cancel()
    c.join()
    print("cancelled Timer ran:", "cancelled timer ran" in order)


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(65536)
            if not data:
                break
            self.request.sendall(data)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = False
    block_on_close = True
    request_queue_size = 256  # 200 clients connect at once


def echo_server():
    clients = 200
    with Server(("127.0.0.1", 0), EchoHandler) as server:
        port = server.server_address[1]
        st = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        st.start()
        all_connected = threading.Barrier(clients)
        results = [None] * clients

        def client(i):
            data = random.Random(i).randbytes(1000 + i * 37)
            with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
                all_connected.wait(30)
                for k in range(0, len(data), 700):
                    s.sendall(data[k:k + 700])
                s.shutdown(socket.SHUT_WR)
                got = bytearray()
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    got += chunk
            results[i] = (bytes(got) == data, len(got), hashlib.sha256(got).digest())

        run_all(clients, client)
        server.shutdown()
        st.join()
    ok = sum(1 for r in results if r and r[0])
    digest = hashlib.sha256(b"".join(r[2] for r in results if r)).hexdigest()[:16]
    print("ThreadingTCPServer: clients echoed correctly", ok, "of", clients, "bytes", sum(r[1] for r in results if r), "digest", digest)
    return ok == clients


def main():
    locks()
    condition()
    events_and_semaphores()
    queues()
    barrier_and_local()
    timers()
    ok = echo_server()
    print("threads still running:", threading.active_count() - 1)
    sys.exit(0 if ok else 1)


main()
