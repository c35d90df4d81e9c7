# python3 asyncio: gather of sleeps, wait_for timing out, call_later order,
# a TCP server with 50 concurrent stream clients, a Queue of producers and
# consumers, subprocesses (create_subprocess_exec and _shell, with a child
# watcher thread), run_in_executor and to_thread, cancellation, async
# generators. Deterministic output.
import asyncio
import hashlib
import sys


async def square(i):
    await asyncio.sleep(0.005 * (10 - i))
    return i * i


async def handle(reader, writer):
    while True:
        line = await reader.readline()
        if not line:
            break
        writer.write(line.upper())
        await writer.drain()
    writer.close()
    await writer.wait_closed()


async def client(port, i):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    got = []
    for j in range(20):
        writer.write(b"client %d line %d\n" % (i, j))
        await writer.drain()
        got.append(await reader.readline())
    writer.close()
    await writer.wait_closed()
    return all(g == (b"CLIENT %d LINE %d\n" % (i, j)) for j, g in enumerate(got))


async def agen(n):
    for i in range(n):
        await asyncio.sleep(0)
        yield i


def blocking(n):
    return hashlib.sha256(b"x" * n).hexdigest()[:12]


async def main():
    print("gather", await asyncio.gather(*(square(i) for i in range(10))))
    try:
        await asyncio.wait_for(asyncio.sleep(5), 0.1)
    except asyncio.TimeoutError:
        print("wait_for timed out")
    loop = asyncio.get_running_loop()
    order = []
    done = loop.create_future()
    for d in (0.03, 0.01, 0.02):
        loop.call_later(d, order.append, d)
    loop.call_later(0.05, done.set_result, None)
    await done
    print("call_later order", order)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    oks = await asyncio.gather(*(client(port, i) for i in range(50)))
    print("stream clients", len(oks), all(oks))
    server.close()
    await server.wait_closed()

    q = asyncio.Queue(maxsize=8)
    total = 0

    async def producer(base):
        for i in range(200):
            await q.put(base + i)

    async def consumer():
        nonlocal total
        while True:
            v = await q.get()
            total += v
            q.task_done()

    cons = [asyncio.create_task(consumer()) for _ in range(3)]
    await asyncio.gather(*(producer(k * 1000) for k in range(4)))
    await q.join()
    for c in cons:
        c.cancel()
    res = await asyncio.gather(*cons, return_exceptions=True)
    print("queue total", total, "consumers cancelled", all(isinstance(r, asyncio.CancelledError) for r in res))

    p = await asyncio.create_subprocess_exec("cat", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    out, _ = await p.communicate(b"line\n" * 20000)
    print("subprocess cat", p.returncode, len(out))
    p = await asyncio.create_subprocess_shell("echo shell; exit 3", stdout=asyncio.subprocess.PIPE)
    out, _ = await p.communicate()
    print("subprocess shell", p.returncode, out)
    procs = [await asyncio.create_subprocess_exec(sys.executable, "-c", "print(%d * 2)" % i, stdout=asyncio.subprocess.PIPE) for i in range(5)]
    outs = await asyncio.gather(*(p.communicate() for p in procs))
    print("5 python children", [int(o[0]) for o in outs], [p.returncode for p in procs])
    p = await asyncio.create_subprocess_exec("sleep", "10")
    p.terminate()
    print("terminated child", await p.wait())

    print("executor", await loop.run_in_executor(None, blocking, 100000))
    print("to_thread", await asyncio.gather(*(asyncio.to_thread(blocking, n) for n in (1, 2, 3))))

    t = asyncio.create_task(asyncio.sleep(10))
    await asyncio.sleep(0.01)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        print("task cancelled")
    print("async generator", [i async for i in agen(5)])


asyncio.run(main())
print("done")
