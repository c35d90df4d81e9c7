# accept_backlog.py CLIENTS ROUNDS: socketserver.ThreadingMixIn (listen
# backlog 5) with CLIENTS client threads in the same process, each making
# ROUNDS round trips of 64 bytes (accept_backlog.c in Python's standard
# library). Prints "RESULT ms=M".
import socket, socketserver, sys, threading, time

clients = int(sys.argv[1]) if len(sys.argv) > 1 else 50
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 200


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            d = self.request.recv(64)
            if not d:
                return
            self.request.sendall(d)


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server(("127.0.0.1", 0), Echo)
port = srv.server_address[1]
threading.Thread(target=srv.serve_forever, daemon=True).start()


def client():
    c = socket.create_connection(("127.0.0.1", port))
    for _ in range(rounds):
        c.sendall(b"x" * 64)
        got = 0
        while got < 64:
            got += len(c.recv(64 - got))
    c.close()


t0 = time.monotonic()
threads = [threading.Thread(target=client) for _ in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("RESULT ms=%.0f" % ((time.monotonic() - t0) * 1000), flush=True)
srv.shutdown()
