# python3 sockets: a threaded TCP echo server (socketserver) with 20 client
# threads; sendall/recv of 4 MiB across a TCP connection; a socketpair with a
# writer thread; UDP; Unix stream sockets with makefile(); a timeout on recv;
# a non-blocking connect finished with select; shutdown(SHUT_WR) as EOF;
# a refused connection. Deterministic output.
import hashlib
import os
import select
import socket
import socketserver
import tempfile
import threading


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(65536)
            if not data:
                break
            self.request.sendall(data)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server(("127.0.0.1", 0), Echo)
port = srv.server_address[1]
st = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
st.start()

results = {}


def client(i):
    ok = 0
    with socket.create_connection(("127.0.0.1", port), timeout=20) as c:
        f = c.makefile("rwb")
        for j in range(100):
            msg = b"client %d message %d\n" % (i, j)
            f.write(msg)
            f.flush()
            if f.readline() == msg:
                ok += 1
    results[i] = ok


cs = [threading.Thread(target=client, args=(i,)) for i in range(20)]
for t in cs:
    t.start()
for t in cs:
    t.join()
print("echo clients", len(results), "messages echoed", sum(results.values()))

# 4 MiB both ways through the echo server: a writer thread, main reads
blob = hashlib.sha256(b"seed").digest() * (4 * 1024 * 1024 // 32)
with socket.create_connection(("127.0.0.1", port), timeout=20) as c:
    def writer():
        c.sendall(blob)
        c.shutdown(socket.SHUT_WR)
    w = threading.Thread(target=writer)
    w.start()
    got = bytearray()
    while True:
        d = c.recv(1 << 16)
        if not d:
            break
        got += d
    w.join()
print("4 MiB echoed intact", bytes(got) == blob)
srv.shutdown()
srv.server_close()
st.join()

# socketpair with a writer thread
a, b = socket.socketpair()
data = os.urandom(0) + bytes(range(256)) * 8192
t = threading.Thread(target=lambda: (a.sendall(data), a.close()))
t.start()
got = bytearray()
while True:
    d = b.recv(1 << 15)
    if not d:
        break
    got += d
t.join()
b.close()
print("socketpair", len(got), bytes(got) == data)

# UDP
u1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u1.bind(("127.0.0.1", 0))
u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u2.settimeout(10)
for i in range(50):
    u2.sendto(b"dgram %d" % i, u1.getsockname())
n = 0
u1.settimeout(10)
for i in range(50):
    d, addr = u1.recvfrom(100)
    u1.sendto(d.upper(), addr)
    n += 1
back = [u2.recvfrom(100)[0] for _ in range(50)]
print("udp", n, back[0], back[-1])
u1.close()
u2.close()

# Unix stream socket, a server thread, makefile
with tempfile.TemporaryDirectory(dir=".") as d:
    path = os.path.join(d, "sock")
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(path)
    ls.listen()

    def userve():
        conn, _ = ls.accept()
        with conn, conn.makefile("rw") as f:
            for line in f:
                f.write(line.strip()[::-1] + "\n")
                f.flush()

    ut = threading.Thread(target=userve)
    ut.start()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
        c.connect(path)
        with c.makefile("rw") as f:
            out = []
            for word in ["alpha", "beta", "gamma"]:
                f.write(word + "\n")
                f.flush()
                out.append(f.readline().strip())
        c.shutdown(socket.SHUT_WR)
    ut.join()
    ls.close()
    print("unix", out)

# a recv that times out
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen()
c = socket.create_connection(l.getsockname())
s, _ = l.accept()
c.settimeout(0.2)
try:
    c.recv(10)
    print("recv timeout: no")
except socket.timeout:
    print("recv timeout: yes")
# shutdown(SHUT_WR) reads as EOF on the other side
c.settimeout(5)
c.sendall(b"last")
c.shutdown(socket.SHUT_WR)
buf = b""
while True:
    d = s.recv(10)
    if not d:
        break
    buf += d
print("after shutdown", buf)
c.close()
s.close()

# a non-blocking connect, finished with select
n = socket.socket()
n.setblocking(False)
err = n.connect_ex(l.getsockname())
r, w, _ = select.select([], [n], [], 5)
print("non-blocking connect", err in (0, 115), w == [n], n.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
s, _ = l.accept()
s.close()
n.close()
l.close()

# a refused connection (a port just closed)
x = socket.socket()
x.bind(("127.0.0.1", 0))
p = x.getsockname()[1]
x.close()
try:
    socket.create_connection(("127.0.0.1", p), timeout=5)
    print("refused: no")
except ConnectionRefusedError:
    print("refused: yes")
print("done")
