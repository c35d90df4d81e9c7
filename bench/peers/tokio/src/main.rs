//! The tokio peer of scripts/bench-peers: the same servers and
//! micro-benchmarks as the C and Go ones, written the usual tokio way (a task
//! per connection, async reads and writes).
//!
//! ```text
//! peers-tokio echo      echo server: a task per connection reads up to 4 KiB
//!                       and writes it back
//! peers-tokio http      HTTP/1.1 keep-alive "hello" server: a task per
//!                       connection reads up to 4 KiB, counts the header ends
//!                       ("\r\n\r\n", state carried across reads) and answers
//!                       them with one write of as many fixed responses, as
//!                       bench/peers/http_server.c does
//! peers-tokio spawn N   N x tokio::spawn(async {}).await, one after the other,
//!                       from a task on the multi-thread runtime
//! peers-tokio yield N   two tasks each call yield_now().await N times on a
//!                       current-thread runtime; ns per round trip A->B->A
//! ```
//!
//! Servers and spawn run on a multi-thread runtime with TOKIO_WORKERS worker
//! threads (default 2, as the suite limits every runtime to the machine's 2
//! cores). Servers listen on 127.0.0.1 on a port the kernel picks, print one
//! line "LISTEN port=P pid=N mode=tokio", set TCP_NODELAY on every
//! connection and run until killed (they exit by themselves after
//! ECHO_SERVER_LIFETIME seconds, default 600). The micro-benchmarks print one
//! line "RESULT key=value ...".
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";
const BATCH: usize = 64;

fn multi_thread() -> tokio::runtime::Runtime {
    let workers = std::env::var("TOKIO_WORKERS").ok().and_then(|v| v.parse().ok()).unwrap_or(2);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_io()
        .build()
        .expect("tokio runtime")
}

async fn echo(mut c: TcpStream) {
    let mut buf = vec![0u8; 4096];
    loop {
        match c.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if c.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Counts the header ends in `b`, carrying the match state.
fn count_requests(b: &[u8], state: &mut usize) -> usize {
    const END: &[u8; 4] = b"\r\n\r\n";
    let (mut s, mut k) = (*state, 0);
    for &ch in b {
        if ch == END[s] {
            s += 1;
            if s == 4 {
                k += 1;
                s = 0;
            }
        } else {
            s = usize::from(ch == b'\r');
        }
    }
    *state = s;
    k
}

async fn hello(mut c: TcpStream, responses: Arc<Vec<u8>>) {
    let mut buf = vec![0u8; 4096];
    let mut state = 0;
    loop {
        let n = match c.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut k = count_requests(&buf[..n], &mut state);
        while k > 0 {
            let b = k.min(BATCH);
            if c.write_all(&responses[..b * RESPONSE.len()]).await.is_err() {
                return;
            }
            k -= b;
        }
    }
}

fn serve(http: bool) {
    let life = std::env::var("ECHO_SERVER_LIFETIME").ok().and_then(|v| v.parse().ok()).unwrap_or(600u64);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(life));
        std::process::exit(1);
    });
    let responses = Arc::new(RESPONSE.repeat(BATCH));
    multi_thread().block_on(async move {
        let ln = TcpListener::bind("127.0.0.1:0").await.expect("peers-tokio: bind");
        println!("LISTEN port={} pid={} mode=tokio", ln.local_addr().unwrap().port(), std::process::id());
        std::io::stdout().flush().ok();
        loop {
            match ln.accept().await {
                Ok((c, _)) => {
                    c.set_nodelay(true).ok();
                    if http {
                        tokio::spawn(hello(c, responses.clone()));
                    } else {
                        tokio::spawn(echo(c));
                    }
                }
                Err(e) => {
                    // out of fds and the like: back off as the C servers do
                    eprintln!("peers-tokio: accept: {e}");
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
    });
}

fn spawn(n: usize) {
    let rt = multi_thread();
    let workers = rt.metrics().num_workers();
    // The loop runs in a task, as Go's runs in the main goroutine.
    let dt = rt.block_on(async move {
        tokio::spawn(async move {
            let warm = (n / 10).min(1000);
            let mut t0 = Instant::now();
            for i in 0..warm + n {
                if i == warm {
                    t0 = Instant::now();
                }
                let r = tokio::spawn(async move { i }).await.expect("join");
                assert_eq!(r, i);
            }
            t0.elapsed()
        })
        .await
        .expect("spawn loop")
    });
    println!(
        "RESULT mode=spawn n={n} total_ns={} ns_each={:.1} workers={workers}",
        dt.as_nanos(),
        dt.as_nanos() as f64 / n as f64
    );
}

fn yield_rt(n: usize) {
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("tokio runtime");
    let last = Arc::new(AtomicUsize::new(0));
    let (dt, misses) = rt.block_on(async move {
        let t0 = Instant::now();
        let pinger = |me: usize| {
            let last = last.clone();
            tokio::spawn(async move {
                let mut misses = 0usize;
                for _ in 0..n {
                    last.store(me, Ordering::Relaxed);
                    tokio::task::yield_now().await;
                    if last.load(Ordering::Relaxed) == me {
                        misses += 1;
                    }
                }
                misses
            })
        };
        let (a, b) = (pinger(1), pinger(2));
        let m = a.await.unwrap() + b.await.unwrap();
        (t0.elapsed(), m)
    });
    println!(
        "RESULT mode=yield n={n} total_ns={} ns_per_roundtrip={:.2} not_alternating={misses}",
        dt.as_nanos(),
        dt.as_nanos() as f64 / n as f64
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("");
    let n: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(0);
    match mode {
        "echo" => serve(false),
        "http" => serve(true),
        "spawn" if n > 0 => spawn(n),
        "yield" if n > 0 => yield_rt(n),
        _ => {
            eprintln!("usage: peers-tokio echo | http | spawn N | yield N");
            std::process::exit(2);
        }
    }
}
