# Run by scripts/run-programs.sh with and without libopencoro.so: a TCP echo
# server and clients on 127.0.0.1 (port chosen by the kernel), exchanging
# 1 MiB per client of deterministic pseudo-random data. Half the clients use
# blocking sockets, half sockets with a timeout (which Python implements
# with a non-blocking fd and poll). The output does not depend on timing.
#
#   io_socket_echo.py threads     server and clients are threads of this process
#   io_socket_echo.py processes   the server is a second python3 process
#   io_socket_echo.py server N    (the second process) serve N clients, then exit
import hashlib
import random
import socket
import subprocess
import sys
import threading

CLIENTS = 6
SIZE = 1 << 20


def serve(listener, n):
    """Accept n connections, echo each in a thread until EOF."""
    def echo(conn):
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
    workers = []
    for _ in range(n):
        conn, _ = listener.accept()
        t = threading.Thread(target=echo, args=(conn,))
        t.start()
        workers.append(t)
    for t in workers:
        t.join()


def client(port, i, results):
    data = random.Random(i).randbytes(SIZE)
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    if i % 2 == 0:
        s.settimeout(None)  # a blocking socket
    sender = threading.Thread(target=lambda: (s.sendall(data), s.shutdown(socket.SHUT_WR)))
    sender.start()
    got = bytearray()
    while True:
        chunk = s.recv(1 + (len(got) * 7919) % 70000)
        if not chunk:
            break
        got += chunk
    sender.join()
    s.close()
    results[i] = (len(got), hashlib.sha256(got).hexdigest()[:16], bytes(got) == data)


def run_clients(port):
    results = {}
    threads = [threading.Thread(target=client, args=(port, i, results)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(CLIENTS):
        n, digest, same = results[i]
        mode = "blocking" if i % 2 == 0 else "timeout"
        print(f"client {i} ({mode}): {n} bytes echoed, sha256 {digest}, identical {same}")


def listen():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    return listener


def main():
    mode = sys.argv[1]
    if mode == "server":
        with listen() as listener:
            print(listener.getsockname()[1], flush=True)
            serve(listener, int(sys.argv[2]))
        return
    if mode == "threads":
        with listen() as listener:
            server = threading.Thread(target=serve, args=(listener, CLIENTS))
            server.start()
            run_clients(listener.getsockname()[1])
            server.join()
        print("server thread done")
        return
    # processes: the server reports its port on its stdout once it listens
    server = subprocess.Popen([sys.executable, __file__, "server", str(CLIENTS)], stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline())
    run_clients(port)
    print("server process exit status", server.wait(timeout=30))


main()
