//! Green threads: `pthread_create` starts a coroutine that is a thread to
//! itself (its own glibc descriptor and TLS, see [`tls`]) and may run on
//! any worker.
//!
//! A green thread's `pthread_t` is its descriptor's address, exactly what
//! `pthread_self()` (which reads the FS base) returns on it. The registry
//! maps it to the task until the thread is joined, or has ended detached;
//! only then is its stack and descriptor reused, so a `pthread_t` stays
//! valid as long as the program may use it.

pub mod keys;

use crate::glibc::tls;
use std::cell::UnsafeCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use libc::c_void;

use crate::coro::{self, Request, Stack, Task};

/// The state a green thread has beyond its task.
pub struct Green {
    /// Descriptor address: the `pthread_t`.
    pub tp: usize,
    start: usize,
    arg: usize,
    reused: bool,
    /// The block's stack while the thread is not running (before its first
    /// run and after its end, until the block is reused).
    parked_stack: Mutex<Option<Stack>>,
    name: Mutex<[u8; 16]>,
    /// glibc's unwind buffer for `pthread_exit` (see `tls::Layout::arm_exit`).
    exit_buf: UnsafeCell<[u64; 13]>,
    /// Ending through `pthread_exit` (else an unwind that lands is a
    /// cancellation).
    exiting: AtomicBool,
}

// SAFETY: exit_buf is written only by the green thread itself, read by glibc
// on that same thread.
unsafe impl Sync for Green {}

/// Live green threads (created, not ended).
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// `pthread_t` -> task, until joined or ended detached.
type Registry = Option<HashMap<usize, Arc<Task>>>;
static REGISTRY: crate::sync::PerProcess<Mutex<Registry>> = crate::sync::PerProcess::new();
/// `main` called `pthread_exit`: the process ends when the last thread does.
static MAIN_EXITED: AtomicBool = AtomicBool::new(false);
/// Someone is already calling `exit` for that reason.
static ENDING: AtomicBool = AtomicBool::new(false);

/// Ends the process after main's `pthread_exit` and the last thread's end.
fn end_process() {
    if !ENDING.swap(true, Ordering::SeqCst) {
        // SAFETY: what glibc does when the last thread exits after main's
        // pthread_exit.
        unsafe { libc::exit(0) };
    }
}

/// In a forked child whose only coroutine is `survivor`: it is the only
/// green thread (if it is one); when it ends, the process does (as when
/// the last thread of a child forked by a thread ends), unless it is the
/// program's `main`.
pub(crate) fn after_fork(survivor: &Arc<Task>, was_main: bool) {
    let mut map = HashMap::new();
    if let Some(g) = of(survivor) {
        map.insert(g.tp, survivor.clone());
    }
    REGISTRY.renew(Some(Mutex::new(Some(map))));
    tls::forget_after_fork();
    LIVE.store(usize::from(survivor.is_green()), Ordering::SeqCst);
    MAIN_EXITED.store(!was_main, Ordering::SeqCst);
    ENDING.store(false, Ordering::SeqCst);
}

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.get_or_init(|| Mutex::new(None)).lock().unwrap_or_else(|e| e.into_inner())
}

/// The green thread task behind `t`, if `t` is one.
pub fn lookup(t: libc::pthread_t) -> Option<Arc<Task>> {
    registry().as_ref()?.get(&(t as usize)).cloned()
}

/// The coroutine that is thread `t` to the program: a green thread, or the
/// main coroutine (whose `pthread_t` is the main thread's).
pub fn lookup_thread(t: libc::pthread_t) -> Option<Arc<Task>> {
    lookup(t).or_else(|| crate::sched::main_task().filter(|_| crate::sched::main_thread() == t as usize))
}

/// Are green threads available (switch on, layout learned)?
pub fn enabled() -> bool {
    crate::config::get().green_threads && tls::layout().is_some()
}

/// Starts a green thread running `start(arg)`; returns its `pthread_t`.
pub fn create(start: usize, arg: usize, stack_size: usize, detached: bool, sigmask: Option<u64>) -> Result<libc::pthread_t, i32> {
    let l = tls::layout().ok_or(libc::EAGAIN)?;
    crate::sched::start();
    let block = l.take_block(stack_size, crate::glibc::tls::fresh_tid())?;
    let name = match coro::current_task().as_ref().and_then(|t| of(t)) {
        Some(g) => *g.name.lock().unwrap_or_else(|e| e.into_inner()),
        None => tls::os_thread_name(),
    };
    let tp = block.tp;
    let g = Box::new(Green {
        tp,
        start,
        arg,
        reused: block.reused,
        parked_stack: Mutex::new(None),
        name: Mutex::new(name),
        exit_buf: UnsafeCell::new([0; 13]),
        exiting: AtomicBool::new(false),
    });
    let task = Task::new_green(block.stack, g);
    l.set_current(tp, Arc::as_ptr(&task) as usize);
    if detached {
        task.detach_now();
    }
    if let Some(m) = sigmask {
        task.signals().set_mask(m);
    }
    registry().get_or_insert_with(HashMap::new).insert(tp, task.clone());
    LIVE.fetch_add(1, Ordering::Relaxed);
    crate::sched::schedule(task);
    Ok(tp as libc::pthread_t)
}

/// The body of every green thread (runs on its own descriptor).
///
/// # Safety
/// `t` is the running task, a green one.
pub(crate) unsafe fn thread_main(t: *const Task) -> usize {
    // SAFETY: per the contract.
    let g = of(unsafe { &*t }).expect("a green task");
    let l = tls::layout().expect("green threads exist only with a layout");
    l.thread_start(g.reused);
    // pthread_exit unwinds the frames below this one and lands in
    // `exit_landing`, on this stack, just below this frame.
    let sp = crate::sys::stack_pointer();
    // SAFETY: exit_buf is this thread's; see `Green`.
    l.arm_exit(g.tp, unsafe { &mut *g.exit_buf.get() }, sp - 8, exit_landing as extern "C" fn() -> ! as usize);
    let r = call_start(g.start, g.arg);
    l.thread_exit(g.tp, keys::run_destructors);
    r
}

/// Calls the thread's start routine. A frame of its own, so that
/// `pthread_exit`'s unwinding stops right above the routine's frame.
#[inline(never)]
fn call_start(start: usize, arg: usize) -> usize {
    // SAFETY: `start` is the routine pthread_create was given.
    let f: extern "C-unwind" fn(*mut c_void) -> *mut c_void = unsafe { std::mem::transmute(start) };
    f(arg as *mut c_void) as usize
}

/// Where `pthread_exit` lands after glibc has unwound the thread's frames
/// (cleanup handlers and C++ destructors have run): end the thread.
extern "C" fn exit_landing() -> ! {
    if let Some(t) = coro::current_task() {
        if of(&t).is_some_and(|g| !g.exiting.load(Ordering::Relaxed)) {
            t.set_result(usize::MAX); // PTHREAD_CANCELED
        }
    }
    if let Some(l) = tls::layout() {
        l.thread_exit(crate::sys::thread_pointer(), keys::run_destructors);
    }
    loop {
        coro::suspend(Request::Exit);
    }
}

impl Green {
    /// The thread is ending through `pthread_exit`.
    pub fn mark_exiting(&self) {
        self.exiting.store(true, Ordering::Relaxed);
    }

    pub fn name(&self) -> [u8; 16] {
        *self.name.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn set_name(&self, n: [u8; 16]) {
        *self.name.lock().unwrap_or_else(|e| e.into_inner()) = n;
    }

    /// Keeps the stack of an ended (or not yet started) thread.
    pub(crate) fn park_stack(&self, s: Stack) {
        *self.parked_stack.lock().unwrap_or_else(|e| e.into_inner()) = Some(s);
    }
    pub(crate) fn take_parked_stack(&self) -> Option<Stack> {
        self.parked_stack.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl coro::Kind for Green {
    fn tp(&self) -> usize {
        self.tp
    }
    fn take_stack(&self) -> Option<Stack> {
        self.take_parked_stack()
    }
    fn park_stack(&self, s: Stack) {
        Green::park_stack(self, s)
    }
    unsafe fn run(&self, me: *const Task) -> usize {
        // SAFETY: per the trait's contract.
        unsafe { thread_main(me) }
    }
    fn ended(&self, t: &Task, detached: bool) {
        ended(t, detached)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The green-thread state of `t`, if it is a green thread.
pub fn of(t: &Task) -> Option<&Green> {
    t.green().and_then(|k| k.as_any().downcast_ref::<Green>())
}

/// A green thread's task has ended (on its worker): hands the block back
/// if nobody will join it. Ends the process if `main` had called
/// `pthread_exit` and this was the last thread.
fn ended(t: &Task, detached: bool) {
    if detached {
        release(t);
    }
    // SeqCst with main_exit: one of the two sees the other's store.
    if LIVE.fetch_sub(1, Ordering::SeqCst) == 1 && MAIN_EXITED.load(Ordering::SeqCst) {
        end_process();
    }
}

/// Forgets an ended green thread and reuses its stack and descriptor.
pub(crate) fn release(t: &Task) {
    let Some(g) = of(t) else { return };
    if let Some(r) = registry().as_mut() {
        r.remove(&g.tp);
    }
    if let (Some(l), Some(stack)) = (tls::layout(), g.take_parked_stack()) {
        l.give_block(tls::Block { stack, tp: g.tp, reused: true });
    }
}

/// glibc's unwind buffer for `pthread_exit` from `main`.
struct MainExitBuf(UnsafeCell<[u64; 13]>);
// SAFETY: written once, by `main` when it calls `pthread_exit`.
unsafe impl Sync for MainExitBuf {}
static MAIN_EXIT_BUF: MainExitBuf = MainExitBuf(UnsafeCell::new([0; 13]));

/// Called by `main`, a task, as it calls `pthread_exit`, with the stack
/// pointer of the frame below `main`'s: the unwinding then stops there
/// (after `main`'s cleanup handlers and destructors ran, armed beneath the
/// program's cleanup buffers) and lands in [`main_exit`]. Without the
/// layout or that frame there is no unwinding: `main`'s part ends here.
pub fn arm_main_exit(sp: Option<usize>) {
    match (tls::layout(), sp) {
        (Some(l), Some(sp)) => {
            // SAFETY: only `main`, once (its pthread_exit), writes the buffer.
            let buf = unsafe { &mut *MAIN_EXIT_BUF.0.get() };
            l.arm_exit(crate::sys::thread_pointer(), buf, sp, main_exit_landing as extern "C" fn() -> ! as usize);
        }
        _ => main_exit(),
    }
}

extern "C" fn main_exit_landing() -> ! {
    main_exit()
}

/// `pthread_exit` from `main` (a non-green coroutine): key destructors run,
/// and the process lives on until the last green thread ends.
pub fn main_exit() -> ! {
    keys::run_destructors();
    MAIN_EXITED.store(true, Ordering::SeqCst);
    if LIVE.load(Ordering::SeqCst) == 0 {
        end_process();
    }
    loop {
        coro::waits_for(coro::debug::WaitKind::Exited, 0);
        coro::suspend(Request::Park);
    }
}
