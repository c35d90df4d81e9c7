//! pthread key destructors for green threads.
//!
//! glibc runs a thread's key destructors from its thread start routine,
//! which green threads do not use; `pthread_key_create` is interposed (on
//! every thread, from the first call) only to remember each key's
//! destructor, and [`run_destructors`] runs them on an ending green thread
//! as glibc would: values read and cleared with the real
//! `pthread_getspecific`/`pthread_setspecific`, up to
//! `PTHREAD_DESTRUCTOR_ITERATIONS` rounds while destructors set new values.

use std::sync::atomic::{AtomicUsize, Ordering};

use libc::c_void;

const KEYS_MAX: usize = 1024;
const DESTRUCTOR_ITERATIONS: usize = 4;

static DTORS: [AtomicUsize; KEYS_MAX] = [const { AtomicUsize::new(0) }; KEYS_MAX];
/// One past the highest key that ever had a destructor.
static HIGH: AtomicUsize = AtomicUsize::new(0);

/// Records `key`'s destructor (0: none).
pub fn created(key: libc::pthread_key_t, dtor: usize) {
    let k = key as usize;
    if k < KEYS_MAX {
        DTORS[k].store(dtor, Ordering::Release);
        if dtor != 0 {
            HIGH.fetch_max(k + 1, Ordering::AcqRel);
        }
    }
}

/// Records the keys the process created before the runtime was loaded
/// (`crate::front`): their destructors, as glibc keeps them.
pub fn adopt_existing() {
    if let Err(why) = crate::glibc::tls::each_key(|k, d| created(k as libc::pthread_key_t, d)) {
        crate::diag!("cannot read the pthread keys created before the runtime loaded ({why}); green threads will not run their destructors");
    }
}

/// Forgets `key`'s destructor.
pub fn deleted(key: libc::pthread_key_t) {
    if let Some(d) = DTORS.get(key as usize) {
        d.store(0, Ordering::Release);
    }
}

/// Runs the calling thread's key destructors.
pub fn run_destructors() {
    for _ in 0..DESTRUCTOR_ITERATIONS {
        let mut ran = false;
        for (k, dtor) in DTORS.iter().enumerate().take(HIGH.load(Ordering::Acquire)) {
            let d = dtor.load(Ordering::Acquire);
            if d == 0 {
                continue;
            }
            // SAFETY: k is a key created through our hook; the real
            // getspecific returns NULL for a key deleted meanwhile.
            let v = unsafe { libc::pthread_getspecific(k as libc::pthread_key_t) };
            if v.is_null() {
                continue;
            }
            // SAFETY: as above; then the destructor the program registered.
            unsafe {
                libc::pthread_setspecific(k as libc::pthread_key_t, std::ptr::null());
                let f: extern "C" fn(*mut c_void) = std::mem::transmute(d);
                f(v);
            }
            ran = true;
        }
        if !ran {
            return;
        }
    }
}
