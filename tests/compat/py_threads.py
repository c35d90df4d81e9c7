# python3 threads: a lock-protected counter, producers and consumers on a
# queue.Queue, Condition, Event, Barrier, Semaphore, threading.local,
# ThreadPoolExecutor, Timer, join with a timeout, CPU-bound threads beside a
# sleeping one (the GIL handed over), daemon threads. Deterministic output.
import concurrent.futures
import hashlib
import queue
import threading
import time

# a counter under a lock
counter = 0
lock = threading.Lock()


def add(n):
    global counter
    for _ in range(n):
        with lock:
            counter += 1


ts = [threading.Thread(target=add, args=(20000,)) for _ in range(8)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("counter", counter)

# producers and consumers
q = queue.Queue(maxsize=16)
total = [0] * 4


def producer(base):
    for i in range(2500):
        q.put(base + i)


def consumer(k):
    while True:
        item = q.get()
        if item is None:
            break
        total[k] += item


prods = [threading.Thread(target=producer, args=(i * 10000,)) for i in range(4)]
cons = [threading.Thread(target=consumer, args=(k,)) for k in range(4)]
for t in prods + cons:
    t.start()
for t in prods:
    t.join()
for _ in cons:
    q.put(None)
for t in cons:
    t.join()
print("queue sum", sum(total))

# condition: a ping-pong of 1000 turns between two threads
cond = threading.Condition()
turn = [0]


def player(me, n):
    for _ in range(n):
        with cond:
            while turn[0] % 2 != me:
                cond.wait()
            turn[0] += 1
            cond.notify_all()


ps = [threading.Thread(target=player, args=(m, 500)) for m in (0, 1)]
for t in ps:
    t.start()
for t in ps:
    t.join()
print("condition turns", turn[0])

# event and barrier
ev = threading.Event()
barrier = threading.Barrier(5)
seen = []


def waiter(i):
    ev.wait()
    idx = barrier.wait()
    with lock:
        seen.append(i)


ws = [threading.Thread(target=waiter, args=(i,)) for i in range(5)]
for t in ws:
    t.start()
time.sleep(0.05)
print("before event", len(seen))
ev.set()
for t in ws:
    t.join()
print("after barrier", sorted(seen))

# semaphore: at most 3 at once
sem = threading.Semaphore(3)
inside = [0]
peak = [0]


def bounded():
    with sem:
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
        time.sleep(0.01)
        with lock:
            inside[0] -= 1


bs = [threading.Thread(target=bounded) for _ in range(12)]
for t in bs:
    t.start()
for t in bs:
    t.join()
print("semaphore peak <= 3:", peak[0] <= 3, "all left:", inside[0] == 0)

# threading.local
local = threading.local()
out = {}


def uses_local(i):
    local.value = i
    time.sleep(0.01)
    out[i] = local.value == i


ls = [threading.Thread(target=uses_local, args=(i,)) for i in range(10)]
for t in ls:
    t.start()
for t in ls:
    t.join()
print("thread-local values kept", all(out.values()), len(out))

# a pool
with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
    digests = list(ex.map(lambda i: hashlib.sha256(str(i).encode() * 1000).hexdigest()[:8], range(20)))
print("pool", digests[:5], len(set(digests)))

# timer, join with a timeout
fired = threading.Event()
threading.Timer(0.05, fired.set).start()
print("timer fired", fired.wait(5))
slow = threading.Thread(target=time.sleep, args=(0.3,))
slow.start()
slow.join(0.05)
print("alive after join(0.05)", slow.is_alive())
slow.join()
print("alive after join()", slow.is_alive())

# CPU-bound threads while another sleeps and ticks
ticks = []
stop = threading.Event()


def ticker():
    while not stop.is_set():
        ticks.append(1)
        time.sleep(0.01)


def spin(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


tk = threading.Thread(target=ticker)
tk.start()
with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
    r = list(ex.map(spin, [300000, 300000]))
stop.set()
tk.join()
print("spin", r[0] == r[1], "ticker ran", len(ticks) > 0)

# names, idents, a daemon thread left running at exit
t = threading.Thread(target=lambda: None, name="named-thread")
t.start()
t.join()
print("name", t.name, "ident set", t.ident is not None)
threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
print("active", threading.active_count())
print("done")
