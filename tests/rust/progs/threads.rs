//! Run by scripts/run-programs.sh with and without libopencoro.so: spawns std
//! threads (real OS threads) that sleep, share state through a Mutex, an
//! atomic and a channel, and prints a result that does not depend on timing.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

fn main() {
    let total = Arc::new(AtomicU64::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    let handles: Vec<_> = (0..8u64)
        .map(|i| {
            let (total, seen, tx) = (total.clone(), seen.clone(), tx.clone());
            thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || {
                    thread::sleep(Duration::from_millis(5 * (8 - i)));
                    let part: u64 = (i * 1000..(i + 1) * 1000).sum();
                    total.fetch_add(part, Ordering::SeqCst);
                    seen.lock().unwrap().push(i);
                    tx.send((i, part)).unwrap();
                    i * i
                })
                .unwrap()
        })
        .collect();
    drop(tx);
    let squares: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let mut parts: Vec<(u64, u64)> = rx.iter().collect();
    parts.sort();
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    println!("squares {:?}", squares);
    println!("threads seen {:?}", seen);
    println!("parts {:?}", parts.iter().map(|p| p.1).collect::<Vec<_>>());
    println!("total {}", total.load(Ordering::SeqCst));
    let scoped: u64 = thread::scope(|s| {
        let hs: Vec<_> = (0..4u64).map(|k| s.spawn(move || k * 10)).collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    println!("scoped {}", scoped);
}
