//! Run by scripts/run-programs.sh with and without libopencoro.so, and again
//! with OPENCORO_WORKERS=1 OPENCORO_SLICE_MS=1 (every thread on one worker,
//! preempted every millisecond once preemption exists): Rust std threads
//! that spin on CPU work for long stretches without a call that could
//! suspend them, with thread_local! accumulators (address and value must
//! survive being preempted and moved between workers), long critical
//! sections of arithmetic under a Mutex, and mpsc channels (a three-stage
//! pipeline, a bounded sync_channel, results sent back to main). Nothing
//! waits for another thread to make progress by spinning, so it finishes
//! without preemption too; the output does not depend on timing.
//! variant: 1worker_slice1 OPENCORO_WORKERS=1 OPENCORO_SLICE_MS=1
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ceb9fe1a85ec53);
    x ^ (x >> 33)
}

/// n rounds of arithmetic: no calls, no allocation, nothing that suspends.
fn churn(mut x: u64, n: u64) -> u64 {
    for i in 0..n {
        x = mix(x.wrapping_add(i));
    }
    x
}

thread_local! {
    static ACC: Cell<u64> = const { Cell::new(0) };
}

fn acc_addr() -> usize {
    ACC.with(|c| c as *const Cell<u64> as usize)
}

const SPINNERS: u64 = 6;
const CHUNKS: u64 = 40;
const CHUNK: u64 = 100_000;
const SECTION: u64 = 200_000;

struct Shared {
    total: u64,
    sections: u64,
}

/// Spinners: long stretches of arithmetic, a thread_local accumulator,
/// every fourth chunk a long critical section under the Mutex, each chunk's
/// result sent to main.
fn spinners() {
    let shared = Arc::new(Mutex::new(Shared { total: 0, sections: 0 }));
    let inside = Arc::new(AtomicUsize::new(0));
    let overlaps = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel::<(u64, u64, u64)>();
    let handles: Vec<_> = (0..SPINNERS)
        .map(|id| {
            let (shared, inside, overlaps, tx) = (shared.clone(), inside.clone(), overlaps.clone(), tx.clone());
            thread::Builder::new()
                .name(format!("spinner-{id}"))
                .spawn(move || {
                    let addr = acc_addr();
                    let mut mine = 0u64;
                    for c in 0..CHUNKS {
                        let v = churn(id * 1_000_000 + c, CHUNK);
                        ACC.with(|a| a.set(a.get().wrapping_add(v)));
                        mine = mine.wrapping_add(v);
                        tx.send((id, c, v)).unwrap();
                        if c % 4 == 0 {
                            let mut g = shared.lock().unwrap();
                            if inside.fetch_add(1, Ordering::SeqCst) != 0 {
                                overlaps.fetch_add(1, Ordering::SeqCst);
                            }
                            // a long read-modify-write with the lock held
                            let before = g.total;
                            g.total = before.wrapping_add(churn(id + c, SECTION));
                            g.sections += 1;
                            inside.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                    let same_addr = addr == acc_addr();
                    let same_value = ACC.with(|a| a.get()) == mine;
                    let named = thread::current().name() == Some(format!("spinner-{id}").as_str());
                    same_addr && same_value && named
                })
                .unwrap()
        })
        .collect();
    drop(tx);
    let mut results: Vec<(u64, u64, u64)> = rx.iter().collect();
    let tls_ok = handles.into_iter().map(|h| h.join().unwrap()).filter(|ok| *ok).count();
    results.sort();

    // the same results computed here, serially
    let mut want = Vec::new();
    let mut want_total = 0u64;
    for id in 0..SPINNERS {
        for c in 0..CHUNKS {
            want.push((id, c, churn(id * 1_000_000 + c, CHUNK)));
            if c % 4 == 0 {
                want_total = want_total.wrapping_add(churn(id + c, SECTION));
            }
        }
    }
    let g = shared.lock().unwrap();
    println!("spinners: {} chunk results received, all correct: {}", results.len(), results == want);
    println!(
        "spinners: {} critical sections, total exact: {}, overlaps: {}",
        g.sections,
        g.total == want_total,
        overlaps.load(Ordering::SeqCst)
    );
    println!("spinners: {tls_ok} of {SPINNERS} kept their thread_local (address and value) and name");
}

const ITEMS: u64 = 3000;

/// A pipeline: producer -> (bounded sync_channel) -> transformer -> summer,
/// each stage doing arithmetic per item; the order of items is checked.
fn pipeline() {
    let (tx1, rx1) = mpsc::sync_channel::<u64>(8);
    let (tx2, rx2) = mpsc::channel::<(u64, u64)>();
    let producer = thread::spawn(move || {
        for i in 0..ITEMS {
            tx1.send(churn(i, 2_000)).unwrap();
        }
    });
    let transformer = thread::spawn(move || {
        for (n, v) in rx1.iter().enumerate() {
            let t = churn(v, 3_000);
            ACC.with(|a| a.set(a.get().wrapping_add(t)));
            tx2.send((n as u64, t)).unwrap();
        }
        ACC.with(|a| a.get())
    });
    let summer = thread::spawn(move || {
        let mut in_order = true;
        let mut h = 0u64;
        for (expect, (n, t)) in rx2.iter().enumerate() {
            in_order &= n == expect as u64;
            h = mix(h ^ t);
        }
        (in_order, h)
    });
    producer.join().unwrap();
    let tl_sum = transformer.join().unwrap();
    let (in_order, h) = summer.join().unwrap();
    let mut want_h = 0u64;
    let mut want_sum = 0u64;
    for i in 0..ITEMS {
        let t = churn(churn(i, 2_000), 3_000);
        want_sum = want_sum.wrapping_add(t);
        want_h = mix(want_h ^ t);
    }
    println!(
        "pipeline: {ITEMS} items in order: {in_order}, result correct: {}, transformer's thread_local sum correct: {}",
        h == want_h,
        tl_sum == want_sum
    );
}

/// thread::scope: threads borrowing disjoint slices, each a long loop.
fn scoped() {
    let mut data: Vec<u64> = (0..64).collect();
    thread::scope(|s| {
        for chunk in data.chunks_mut(16) {
            s.spawn(move || {
                for x in chunk.iter_mut() {
                    *x = churn(*x, 20_000);
                }
            });
        }
    });
    let want: Vec<u64> = (0..64).map(|x| churn(x, 20_000)).collect();
    println!("scope: 4 threads over 64 values, correct: {}", data == want);
}

fn main() {
    spinners();
    pipeline();
    scoped();
}
