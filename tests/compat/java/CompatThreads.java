// Java threads for the compatibility suite (tests/compat/java_threads.sh).
// Each mode prints results only (counts, sums, checksums), never timings:
//   sleepers N        N threads that sleep 200 ms each, all joined
//   echo CLIENTS MSGS a thread-per-connection ServerSocket echo server and
//                     CLIENTS client threads in the same process
//   pingpong ROUNDS   synchronized + wait/notify ping-pong between two threads,
//                     and a bounded buffer (4 producers, 4 consumers)
//   executor THREADS TASKS  a fixed thread pool with futures (SHA-256 of each
//                     task's number), invokeAll, CompletableFuture, a
//                     parallel stream, a CountDownLatch and a CyclicBarrier
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;

public class CompatThreads {
    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "sleepers" -> sleepers(Integer.parseInt(args[1]));
            case "echo" -> echo(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
            case "pingpong" -> pingpong(Integer.parseInt(args[1]));
            case "executor" -> executor(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    static void sleepers(int n) throws Exception {
        AtomicLong sum = new AtomicLong();
        AtomicInteger woke = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            final int k = i;
            Thread t = new Thread(() -> {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
                woke.incrementAndGet();
                sum.addAndGet(k);
            }, "sleeper-" + i);
            t.start();
            threads.add(t);
        }
        int joined = 0;
        for (Thread t : threads) {
            t.join();
            if (!t.isAlive()) joined++;
        }
        System.out.println("sleepers: " + n + " started, " + woke.get() + " woke, " + joined
                + " joined, sum of indices " + sum.get() + " (expected " + ((long) n * (n - 1) / 2) + ")");
    }

    static byte[] message(int client, int i) {
        StringBuilder b = new StringBuilder();
        b.append("client ").append(client).append(" message ").append(i).append(' ');
        // lengths vary from 20 to about 2,000 bytes
        for (int j = 0; j < (client * 31 + i * 17) % 200; j++) b.append((char) ('a' + (client + i + j) % 26)).append("xyzxyzxyz");
        b.append('\n');
        return b.toString().getBytes(StandardCharsets.US_ASCII);
    }

    static void echo(int clients, int msgs) throws Exception {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), clients * 2);
        int port = server.getLocalPort();
        List<Thread> handlers = Collections.synchronizedList(new ArrayList<>());
        AtomicLong served = new AtomicLong();
        AtomicInteger connections = new AtomicInteger();
        Thread acceptor = new Thread(() -> {
            while (true) {
                Socket s;
                try {
                    s = server.accept();
                } catch (SocketException e) {
                    return; // closed: done
                } catch (Exception e) {
                    e.printStackTrace();
                    return;
                }
                connections.incrementAndGet();
                Thread h = new Thread(() -> {
                    byte[] buf = new byte[4096];
                    try (Socket c = s; InputStream in = c.getInputStream(); OutputStream out = c.getOutputStream()) {
                        int r;
                        while ((r = in.read(buf)) > 0) {
                            out.write(buf, 0, r);
                            served.addAndGet(r);
                        }
                    } catch (Exception e) {
                        e.printStackTrace();
                    }
                });
                handlers.add(h);
                h.start();
            }
        }, "acceptor");
        acceptor.start();
        AtomicInteger ok = new AtomicInteger(), bad = new AtomicInteger();
        AtomicLong sent = new AtomicLong(), crc = new AtomicLong();
        List<Thread> cs = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            final int client = c;
            Thread t = new Thread(() -> {
                try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                    s.setTcpNoDelay(true);
                    InputStream in = s.getInputStream();
                    OutputStream out = s.getOutputStream();
                    long h = 0;
                    for (int i = 0; i < msgs; i++) {
                        byte[] m = message(client, i);
                        out.write(m);
                        byte[] back = in.readNBytes(m.length);
                        if (java.util.Arrays.equals(m, back)) ok.incrementAndGet();
                        else bad.incrementAndGet();
                        sent.addAndGet(m.length);
                        for (byte x : back) h = h * 31 + x;
                    }
                    s.shutdownOutput();
                    if (in.read() != -1) bad.incrementAndGet();
                    crc.addAndGet(h);
                } catch (Exception e) {
                    bad.incrementAndGet();
                    e.printStackTrace();
                }
            }, "client-" + c);
            t.start();
            cs.add(t);
        }
        for (Thread t : cs) t.join();
        server.close();
        acceptor.join();
        for (Thread h : new ArrayList<>(handlers)) h.join();
        System.out.println("echo: " + clients + " clients, " + connections.get() + " connections, "
                + ok.get() + " messages echoed, " + bad.get() + " bad, " + sent.get() + " bytes sent, "
                + served.get() + " echoed by the server, checksum " + Long.toHexString(crc.get()));
    }

    static final Object lock = new Object();
    static int turn = 0;
    static long hits = 0;

    static void pingpong(int rounds) throws Exception {
        Thread[] players = new Thread[2];
        for (int p = 0; p < 2; p++) {
            final int me = p;
            players[p] = new Thread(() -> {
                for (int i = 0; i < rounds; i++) {
                    synchronized (lock) {
                        while (turn != me) {
                            try {
                                lock.wait();
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                        hits++;
                        turn = 1 - me;
                        lock.notifyAll();
                    }
                }
            }, "player-" + p);
        }
        for (Thread t : players) t.start();
        for (Thread t : players) t.join();
        System.out.println("pingpong: " + hits + " hits (expected " + 2L * rounds + "), last turn " + turn);

        // a bounded buffer with synchronized, wait and notifyAll
        final int cap = 16, per = rounds / 4;
        final long[] buf = new long[cap];
        final int[] state = new int[3]; // head, tail, count
        AtomicLong consumed = new AtomicLong(), taken = new AtomicLong();
        List<Thread> ts = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            final int prod = p;
            ts.add(new Thread(() -> {
                for (int i = 0; i < per; i++) {
                    synchronized (buf) {
                        while (state[2] == cap) {
                            try { buf.wait(); } catch (InterruptedException e) { return; }
                        }
                        buf[state[1]] = (long) prod * per + i;
                        state[1] = (state[1] + 1) % cap;
                        state[2]++;
                        buf.notifyAll();
                    }
                }
            }));
            ts.add(new Thread(() -> {
                for (int i = 0; i < per; i++) {
                    long v;
                    synchronized (buf) {
                        while (state[2] == 0) {
                            try { buf.wait(); } catch (InterruptedException e) { return; }
                        }
                        v = buf[state[0]];
                        state[0] = (state[0] + 1) % cap;
                        state[2]--;
                        buf.notifyAll();
                    }
                    consumed.addAndGet(v);
                    taken.incrementAndGet();
                }
            }));
        }
        for (Thread t : ts) t.start();
        for (Thread t : ts) t.join();
        long n = 4L * per;
        System.out.println("bounded buffer: " + taken.get() + " taken, sum " + consumed.get() + " (expected " + (n * (n - 1) / 2) + ")");
    }

    static String sha(String s) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] d = md.digest(s.getBytes(StandardCharsets.UTF_8));
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 4; i++) b.append(String.format("%02x", d[i]));
        return b.toString();
    }

    static void executor(int nthreads, int tasks) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(nthreads);
        List<Future<String>> futures = new ArrayList<>();
        for (int i = 0; i < tasks; i++) {
            final int k = i;
            futures.add(pool.submit(() -> {
                String h = "task " + k;
                for (int j = 0; j < 50; j++) h = sha(h);
                return h;
            }));
        }
        MessageDigest all = MessageDigest.getInstance("SHA-256");
        for (Future<String> f : futures) all.update(f.get().getBytes(StandardCharsets.UTF_8));
        byte[] d = all.digest();
        System.out.printf("executor: %d tasks on %d threads, combined %02x%02x%02x%02x%02x%02x%n", tasks, nthreads, d[0], d[1], d[2], d[3], d[4], d[5]);

        List<Callable<Long>> calls = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            final long k = i;
            calls.add(() -> LongStream.rangeClosed(1, 10000 + k).map(x -> x * x % 1000003).sum());
        }
        long s = 0;
        for (Future<Long> f : pool.invokeAll(calls)) s += f.get();
        System.out.println("invokeAll: 100 results, sum " + s);

        CompletableFuture<Long> chain = CompletableFuture.supplyAsync(() -> 7L, pool);
        for (int i = 0; i < 200; i++) {
            final long k = i;
            chain = chain.thenApplyAsync(v -> (v * 31 + k) % 1000000007L, pool);
        }
        List<CompletableFuture<Integer>> many = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            final int k = i;
            many.add(CompletableFuture.supplyAsync(() -> k * k));
        }
        CompletableFuture.allOf(many.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
        long sq = 0;
        for (CompletableFuture<Integer> f : many) sq += f.get();
        System.out.println("CompletableFuture: chain " + chain.get(60, TimeUnit.SECONDS) + ", 500 on the common pool sum " + sq);

        System.out.println("parallel stream: " + LongStream.range(0, 5_000_000).parallel().map(x -> x ^ (x >>> 3)).sum());

        CountDownLatch latch = new CountDownLatch(nthreads);
        CyclicBarrier barrier = new CyclicBarrier(nthreads);
        AtomicInteger phases = new AtomicInteger();
        for (int i = 0; i < nthreads; i++) {
            pool.execute(() -> {
                try {
                    for (int p = 0; p < 100; p++) {
                        barrier.await();
                        phases.incrementAndGet();
                    }
                } catch (Exception e) {
                    e.printStackTrace();
                }
                latch.countDown();
            });
        }
        latch.await();
        System.out.println("barrier: " + phases.get() + " passes (expected " + 100 * nthreads + ")");
        pool.shutdown();
        System.out.println("pool terminated: " + pool.awaitTermination(60, TimeUnit.SECONDS));
    }
}
