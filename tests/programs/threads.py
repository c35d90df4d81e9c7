# Run by scripts/run-programs.sh with and without libopencoro.so: Python
# threads (real OS threads) that sleep with time.sleep and hand results back
# through a queue and a lock. The output does not depend on timing.
import queue
import threading
import time

results = queue.Queue()
lock = threading.Lock()
total = 0


def work(i):
    global total
    start = time.monotonic()
    time.sleep(0.02 * (5 - i))
    slept = time.monotonic() - start >= 0.02 * (5 - i)
    with lock:
        total += i * i
    results.put((i, slept))


threads = [threading.Thread(target=work, args=(i,)) for i in range(5)]
for t in threads:
    t.start()
for t in threads:
    t.join()
got = sorted(results.get() for _ in range(5))
print("results:", got)
print("total:", total)
event = threading.Event()
timer = threading.Timer(0.05, event.set)
timer.start()
print("event set by timer:", event.wait(5))
start = time.monotonic()
time.sleep(0.1)
print("main slept at least 0.1 s:", time.monotonic() - start >= 0.1)
