//! Run by scripts/run-programs.sh with and without libopencoro.so: sleeps
//! with std::thread::sleep, measures with Instant, and leaves through
//! std::process::exit(7). Its output does not depend on timing.
//!
//! expect-status: 7
use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

fn main() {
    let start = Instant::now();
    thread::sleep(Duration::from_millis(50));
    let first = start.elapsed();
    println!("slept at least 50 ms: {}", first >= Duration::from_millis(50));
    let mut total = Duration::ZERO;
    for i in 0..5u64 {
        let t = Instant::now();
        thread::sleep(Duration::from_millis(10 * i));
        total += t.elapsed();
    }
    println!("slept at least 100 ms in 5 steps: {}", total >= Duration::from_millis(100));
    println!("instant is monotonic: {}", Instant::now() >= start + first);
    let v: Vec<u64> = (1..=1000).collect();
    println!("sum {}", v.iter().sum::<u64>());
    std::io::stdout().flush().unwrap();
    std::process::exit(7);
}
