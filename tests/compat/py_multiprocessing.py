# python3 multiprocessing with its default start method (fork on Linux):
# Pool.map/imap_unordered/apply_async, Process with Queue, Pipe, shared
# Value and Array under a Lock, Event, a Manager (a server process), a
# ProcessPoolExecutor; small pools with the spawn and forkserver start
# methods; last, pools left by a "with" block (terminate()). Deterministic
# output.
import concurrent.futures
import multiprocessing as mp
import os


def square(x):
    return x * x


def put_results(q, k):
    for i in range(10):
        q.put((k, i * k))
    q.put((k, None))


def ping(conn):
    while True:
        m = conn.recv()
        if m is None:
            break
        conn.send(m[::-1])
    conn.close()


def bump(v, arr, lock, n, i):
    for _ in range(n):
        with lock:
            v.value += 1
    arr[i] = n + i


def wait_event(ev, q):
    q.put(ev.wait(10))


def fill(d, k):
    d[k] = k * 3


if __name__ == "__main__":
    print("start method", mp.get_start_method())
    pool = mp.Pool(4)
    print("pool.map", sum(pool.map(square, range(1000))))
    print("imap_unordered", sorted(pool.imap_unordered(square, range(10))))
    print("apply_async", pool.apply_async(square, (12,)).get(timeout=20))
    print("starmap", pool.starmap(pow, [(2, 5), (3, 3)]))
    pool.close()
    pool.join()

    q = mp.Queue()
    ps = [mp.Process(target=put_results, args=(q, k)) for k in range(1, 5)]
    for p in ps:
        p.start()
    got, ended = [], 0
    while ended < 4:
        k, v = q.get(timeout=20)
        if v is None:
            ended += 1
        else:
            got.append(v)
    for p in ps:
        p.join()
    print("queue", len(got), sum(got), [p.exitcode for p in ps])

    a, b = mp.Pipe()
    p = mp.Process(target=ping, args=(b,))
    p.start()
    replies = []
    for w in ("abc", "hello", "multiprocessing"):
        a.send(w)
        replies.append(a.recv())
    a.send(None)
    p.join()
    print("pipe", replies, p.exitcode)

    v = mp.Value("i", 0)
    arr = mp.Array("i", 4)
    lock = mp.Lock()
    ps = [mp.Process(target=bump, args=(v, arr, lock, 2000, i)) for i in range(4)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    print("shared value", v.value, list(arr))

    ev = mp.Event()
    q = mp.Queue()
    p = mp.Process(target=wait_event, args=(ev, q))
    p.start()
    ev.set()
    print("event seen by the child", q.get(timeout=20))
    p.join()

    p = mp.Process(target=os._exit, args=(9,))
    p.start()
    p.join()
    print("child exit code", p.exitcode)

    with mp.Manager() as m:
        d = m.dict()
        ps = [mp.Process(target=fill, args=(d, k)) for k in range(5)]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        print("manager dict", sorted(d.items()))

    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as ex:
        print("ProcessPoolExecutor", list(ex.map(square, range(8))))

    for method in ("spawn", "forkserver"):
        ctx = mp.get_context(method)
        pool = ctx.Pool(2)
        print(method, pool.map(square, range(6)))
        pool.close()
        pool.join()

    # leaving a "with" block terminates the pool: the workers are stopped
    # while they may hold the queue's lock
    for method in ("fork", "spawn"):
        with mp.get_context(method).Pool(2) as pool:
            print("with", method, pool.map(square, range(4)))
    print("done")
