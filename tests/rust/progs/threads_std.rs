//! Run by scripts/run-programs.sh with and without libopencoro.so: Rust std
//! threading on pthreads: thread::spawn and thread::scope, Mutex, Condvar
//! (notified and timed-out waits), RwLock, mpsc with several producers,
//! Barrier, thread_local! values with Drop (counted at thread exit), named
//! threads (Builder::name, thread::current().name()), a panic in a thread
//! reported to join as Err and poisoning a Mutex, Once and OnceLock, and
//! park/unpark. The output does not depend on timing.
use std::cell::RefCell;
use std::collections::HashSet;
use std::panic;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Condvar, Mutex, Once, OnceLock, RwLock};
use std::thread;
use std::time::{Duration, Instant};

static DROPS: AtomicUsize = AtomicUsize::new(0);
static DROPPED_SUM: AtomicU64 = AtomicU64::new(0);

struct Tracked(u64);
impl Drop for Tracked {
    fn drop(&mut self) {
        DROPPED_SUM.fetch_add(self.0, Ordering::SeqCst);
        DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

thread_local! {
    static LOCAL: RefCell<Tracked> = RefCell::new(Tracked(0));
}

fn spawn_and_scope() {
    let handles: Vec<_> = (0..6u64).map(|i| thread::spawn(move || (0..=i * 1000).sum::<u64>())).collect();
    let sums: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    println!("spawn: sums {:?}", sums);
    let mut data = vec![1u64, 2, 3, 4, 5, 6, 7, 8];
    thread::scope(|s| {
        for chunk in data.chunks_mut(3) {
            s.spawn(move || chunk.iter_mut().for_each(|x| *x *= *x));
        }
    });
    println!("scope: squared in place {:?}", data);
}

fn mutex_condvar() {
    // a counter behind a Mutex, with a Condvar telling main when all are done
    let state = Arc::new((Mutex::new((0u64, 0usize)), Condvar::new()));
    for i in 0..8u64 {
        let state = state.clone();
        thread::spawn(move || {
            for k in 0..1000 {
                state.0.lock().unwrap().0 += i * k;
            }
            let (m, cv) = &*state;
            m.lock().unwrap().1 += 1;
            cv.notify_all();
        });
    }
    let (m, cv) = &*state;
    let g = cv.wait_while(m.lock().unwrap(), |s| s.1 < 8).unwrap();
    println!("mutex: total {} from {} threads", g.0, g.1);
    drop(g);

    // nobody notifies: the wait times out, and not early
    let pair = (Mutex::new(false), Condvar::new());
    let t0 = Instant::now();
    let (g, res) = pair.1.wait_timeout_while(pair.0.lock().unwrap(), Duration::from_millis(50), |ready| !*ready).unwrap();
    println!("condvar wait_timeout with no notify: timed out {}, still false {}, waited at least 50 ms {}", res.timed_out(), !*g, t0.elapsed() >= Duration::from_millis(50));
}

fn rwlock() {
    let lock = Arc::new(RwLock::new(vec![0u64; 16]));
    let writers: Vec<_> = (0..4usize)
        .map(|w| {
            let lock = lock.clone();
            thread::spawn(move || {
                for k in 0..500 {
                    lock.write().unwrap()[(w * 4 + k) % 16] += 1;
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let lock = lock.clone();
            thread::spawn(move || {
                let mut consistent = true;
                for _ in 0..500 {
                    let v = lock.read().unwrap();
                    // every write adds 1 to one slot: the total is at most 2000
                    consistent &= v.iter().sum::<u64>() <= 2000;
                }
                consistent
            })
        })
        .collect();
    writers.into_iter().for_each(|h| h.join().unwrap());
    let ok = readers.into_iter().all(|h| h.join().unwrap());
    println!("rwlock: total {}, readers saw consistent totals {}", lock.read().unwrap().iter().sum::<u64>(), ok);
}

fn channels() {
    let (tx, rx) = mpsc::channel::<(u32, u32)>();
    for p in 0..5u32 {
        let tx = tx.clone();
        thread::spawn(move || {
            for k in 0..2000 {
                tx.send((p, k)).unwrap();
            }
        });
    }
    drop(tx);
    let mut per_producer = [0u32; 5];
    let mut in_order = true;
    let mut last = [None::<u32>; 5];
    for (p, k) in rx {
        per_producer[p as usize] += 1;
        in_order &= last[p as usize].map_or(k == 0, |l| k == l + 1);
        last[p as usize] = Some(k);
    }
    println!("mpsc: per producer {:?}, each producer's messages in order {}", per_producer, in_order);

    // a rendezvous channel (capacity 0): every send waits for its receive
    let (tx, rx) = mpsc::sync_channel::<u64>(0);
    let h = thread::spawn(move || (1..=100u64).for_each(|v| tx.send(v).unwrap()));
    let sum: u64 = rx.iter().sum();
    h.join().unwrap();
    println!("sync_channel(0): sum {}", sum);
}

fn barrier() {
    let n = 10;
    let barrier = Arc::new(Barrier::new(n));
    let arrived = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (barrier, arrived) = (barrier.clone(), arrived.clone());
            thread::spawn(move || {
                arrived.fetch_add(1, Ordering::SeqCst);
                let leader = barrier.wait().is_leader();
                // past the barrier every thread has arrived
                (arrived.load(Ordering::SeqCst) == n, leader)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    println!("barrier: all saw {} arrivals {}, leaders {}", n, results.iter().all(|r| r.0), results.iter().filter(|r| r.1).count());
}

fn thread_locals_and_names() {
    let ids = Arc::new(Mutex::new(HashSet::new()));
    let handles: Vec<_> = (0..6u64)
        .map(|i| {
            let ids = ids.clone();
            thread::Builder::new()
                .name(format!("worker-{i}"))
                .stack_size(128 * 1024)
                .spawn(move || {
                    for _ in 0..=i {
                        LOCAL.with(|l| l.borrow_mut().0 += 100);
                        thread::yield_now();
                    }
                    ids.lock().unwrap().insert(thread::current().id());
                    let own = LOCAL.with(|l| l.borrow().0) == 100 * (i + 1);
                    (thread::current().name().map(str::to_owned), own)
                })
                .unwrap()
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for (name, own) in &results {
        println!("named thread {:?}: saw only its own thread_local {}", name, own);
    }
    let unnamed = thread::spawn(|| thread::current().name().map(str::to_owned)).join().unwrap();
    println!("unnamed thread name {:?}, main thread name {:?}", unnamed, thread::current().name());
    ids.lock().unwrap().insert(thread::current().id());
    println!("distinct thread ids (with main's): {}", ids.lock().unwrap().len());
    println!("thread_local drops at thread exit {}, sum of dropped values {}", DROPS.load(Ordering::SeqCst), DROPPED_SUM.load(Ordering::SeqCst));
}

fn panics() {
    let default_hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {})); // keep stderr quiet
    let r = thread::Builder::new()
        .name("panicker".into())
        .spawn(|| -> u32 { panic!("deliberate panic in {}", thread::current().name().unwrap()) })
        .unwrap()
        .join();
    match r {
        Ok(v) => println!("panic: join returned Ok({v})"),
        Err(e) => println!("panic: join returned Err with message {:?}", e.downcast_ref::<String>()),
    }
    let m = Arc::new(Mutex::new(7));
    let m2 = m.clone();
    let r = thread::spawn(move || {
        let _g = m2.lock().unwrap();
        panic!("while holding the mutex");
    })
    .join();
    let poisoned = m.lock().is_err();
    println!("panic while holding a Mutex: join is_err {}, mutex poisoned {}, value {}", r.is_err(), poisoned, *m.lock().unwrap_or_else(|e| e.into_inner()));
    panic::set_hook(default_hook);
}

fn once() {
    static INIT: Once = Once::new();
    static VALUE: OnceLock<String> = OnceLock::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let inits = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (runs, inits, barrier) = (runs.clone(), inits.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                INIT.call_once(|| {
                    thread::sleep(Duration::from_millis(10));
                    runs.fetch_add(1, Ordering::SeqCst);
                });
                VALUE
                    .get_or_init(|| {
                        inits.fetch_add(1, Ordering::SeqCst);
                        String::from("initialised once")
                    })
                    .len()
            })
        })
        .collect();
    let lens: HashSet<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    println!("Once ran {} time(s), completed {}; OnceLock initialised {} time(s), {:?}, all saw one value {}", runs.load(Ordering::SeqCst), INIT.is_completed(), inits.load(Ordering::SeqCst), VALUE.get().unwrap(), lens.len() == 1);
}

fn park_unpark() {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    let parked = thread::spawn(move || {
        let mut parks = 0u32;
        // park may return spuriously: loop on the flag
        while !f.load(Ordering::SeqCst) {
            thread::park();
            parks += 1;
        }
        parks > 0 || f.load(Ordering::SeqCst)
    });
    thread::sleep(Duration::from_millis(30));
    flag.store(true, Ordering::SeqCst);
    parked.thread().unpark();
    println!("park/unpark: woken {}", parked.join().unwrap());

    // an unpark before the park makes the park return at once
    let h = thread::spawn(|| {
        thread::sleep(Duration::from_millis(20));
        let t0 = Instant::now();
        thread::park();
        t0.elapsed() < Duration::from_secs(5)
    });
    h.thread().unpark();
    println!("unpark before park: park returned at once {}", h.join().unwrap());

    let t0 = Instant::now();
    thread::park_timeout(Duration::from_millis(20));
    println!("park_timeout returned {}", t0.elapsed() < Duration::from_secs(5));
}

fn main() {
    spawn_and_scope();
    mutex_condvar();
    rwlock();
    channels();
    barrier();
    thread_locals_and_names();
    panics();
    once();
    park_unpark();
}
