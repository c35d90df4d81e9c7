//! Coroutines: the task object, its run state, and the suspend points that
//! hooks use.
//!
//! A [`Task`] is one coroutine (the program's `main` or an `opencoro_spawn`ed
//! function). Its corosensei coroutine and stack are created lazily, on the
//! worker that first runs it, so that spawning is a small allocation and a
//! queue push.
//!
//! ## Run states and the wake-up protocol
//!
//! ```text
//!  SCHEDULED --worker picks--> RUNNING --suspend(Park)--> PARKED
//!      ^                         |  ^                        |
//!      |                  unpark |  | worker sees NOTIFIED   | unpark
//!      |                         v  |                        |
//!      +------------------- NOTIFIED <-----------------------+ (to SCHEDULED)
//! ```
//!
//! 1. A coroutine that must wait publishes where it waits (timer, joiner list)
//!    and then suspends with [`Request::Park`]. It is still RUNNING until the
//!    worker, back on its own stack, moves it RUNNING -> PARKED with a CAS.
//! 2. [`unpark`] moves PARKED -> SCHEDULED and queues the task, or, if the
//!    task is still RUNNING (the waker beat the switch), RUNNING -> NOTIFIED.
//! 3. If the worker's CAS in step 1 finds NOTIFIED, it queues the task again
//!    at once. So a wake-up is never lost and a task is never queued twice.
//! 4. Wake-ups may be stale (a timer of an earlier wait): every wait loops on
//!    its own condition, so a spurious return only costs one extra switch.
//!
//! ## Thread-local state after a switch
//!
//! A coroutine may resume on another worker. LLVM treats the address of a
//! thread-local as constant within a function, so code that runs on a
//! coroutine must not read a thread-local, suspend, and read it again in the
//! same (inlined) function. Every accessor here is `#[inline(never)]` and
//! returns a value, never an address.

pub mod debug;
pub mod stack;

use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::{AtomicU32, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

use corosensei::{Coroutine, Yielder};

pub use stack::Stack;

use crate::signal::state::TaskSignals;

/// What a coroutine asks of its worker when it suspends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Requeue me at the back of the run queue.
    Yield,
    /// I have published my wait; park me until [`unpark`].
    Park,
    /// Park me until this CLOCK_MONOTONIC instant (ns), or an earlier unpark.
    Sleep(u64),
    /// I have ended without returning (a green thread's `pthread_exit`):
    /// discard my stack's frames.
    Exit,
    /// I have just forked and this is the child: carry on in the child's
    /// runtime (see `crate::fork`).
    Forked,
}

/// The value a worker passes into a coroutine when it resumes it: the index
/// of the worker (for traces; never cached by the coroutine).
pub type Resume = usize;

type Co = Coroutine<Resume, Request, (), Stack>;

/// What a task runs on.
enum Body {
    /// Nothing yet: its coroutine is made on its first run ([`Task::prepare`]).
    Unstarted,
    /// A corosensei coroutine on a stack of its own.
    Co(Co),
    /// A context that already ran before it became a task: `main`, taken
    /// over on the main thread's own stack when the process first has
    /// company (see `sched::adopt_main`). It suspends and is continued with
    /// [`crate::arch::switch`], by any worker. Both sides of a switch reach
    /// its state through the cell (shared references to the body, never
    /// two `&mut`).
    Adopted(UnsafeCell<Adopted>),
}

/// The switch state of an adopted context.
struct Adopted {
    /// Its stack pointer while it is suspended.
    sp: usize,
    /// The stack pointer of the worker loop that runs it, while it runs.
    resumer: usize,
    /// What it asked for when it last suspended.
    req: Request,
    /// What its worker passed in when it last continued it.
    resume: Resume,
}
type Entry = Box<dyn FnOnce() -> usize + Send>;

pub const SCHEDULED: u8 = 0;
pub const RUNNING: u8 = 1;
pub const PARKED: u8 = 2;
pub const NOTIFIED: u8 = 3;
pub const DONE: u8 = 4;

/// Join state, shared by the task and whoever joins it.
struct JoinState {
    done: bool,
    /// Joined, or detached: nobody else may join.
    joined: bool,
    detached: bool,
    result: usize,
    /// Coroutines suspended in `join`.
    waiters: Vec<Arc<Task>>,
    /// Plain threads blocked on `done_word` (wake only when someone waits).
    thread_waiters: usize,
}

/// One coroutine.
///
/// Fields in `Cell`/`UnsafeCell` are touched only by the thread currently
/// running the task (it owns the task by having taken it off a queue while
/// SCHEDULED), so they need no synchronisation; everything another thread may
/// touch is atomic or behind `join`.
pub struct Task {
    state: AtomicU8,
    /// Worker this task runs on from its first run onwards, or `usize::MAX`
    /// while it has never run (only such tasks are stolen). C code keeps the
    /// address of errno and of `__thread` variables across calls that
    /// suspend (gcc computes `&errno` once per function), so a started
    /// coroutine must not change OS threads. Written
    /// by the worker that first runs the task, before the task can be seen
    /// by anyone else again; read by whoever wakes it.
    pinned: AtomicUsize,
    stack_size: usize,
    entry: UnsafeCell<Option<Entry>>,
    body: UnsafeCell<Body>,
    yielder: Cell<*const Yielder<Resume, Request>>,
    /// Per-thread C state of this coroutine while it is switched out: errno
    /// and the C++ runtime's exception globals (see [`ThreadSlots`]).
    errno: Cell<i32>,
    eh_globals: Cell<[usize; 2]>,
    /// Set while a hook runs on this coroutine: calls the runtime itself makes
    /// (through our own exported symbols) then go straight to libc.
    in_hook: Cell<bool>,
    /// Where its stack lies, once it runs.
    stack: Cell<stack::Bounds>,
    /// A spin lock, not std's mutex: a forked child must be able to reset
    /// it (a thread of the parent may have held it; see `crate::fork`).
    join: crate::sync::spin::SpinLock<JoinState>,
    /// 1 once done: the futex word plain threads wait on in `join`.
    done_word: AtomicU32,
    /// Set when this is a green thread (its own TLS; may migrate): what
    /// the green-thread layer keeps in it (see [`Kind`]).
    green: Option<Box<dyn Kind>>,
    /// The thread descriptor the task runs on (a green thread's own, a C
    /// API coroutine's light one, or for `main` the main thread's), or 0:
    /// it shares its worker's.
    tp: AtomicUsize,
    /// `tp` is the descriptor at the top of its stack (a C API coroutine's
    /// light block), pooled again with the stack when the task finishes.
    light_tp: std::sync::atomic::AtomicBool,
    /// Asked for a light block (stack and descriptor, see
    /// [`Task::want_light_block`]), taken at its first run.
    light_layout: Cell<Option<&'static crate::glibc::tls::Layout>>,
    /// Wake-up flag while the task waits in the parking lot (`sync::lot`).
    lot_flag: AtomicU32,
    /// The signal layer's state of the task (mask, held signals,
    /// interruption, preemption request): the core applies the mask at
    /// each switch and raises the held signals, nothing more.
    signals: TaskSignals,
    /// Kernel id of the worker thread that runs it now or ran it last.
    on_tid: std::sync::atomic::AtomicI32,
    /// Its entry in the list debuggers and dumps read ([`debug`]).
    debug: debug::Node,
}

/// What the layer that makes green threads keeps in their tasks and does
/// at their start and end; the coroutine core calls it and knows nothing
/// else of green threads (`green::Green` implements it).
pub trait Kind: Send + Sync + 'static {
    /// The thread descriptor the task runs on.
    fn tp(&self) -> usize;
    /// Takes the task's stack, parked while it does not run.
    fn take_stack(&self) -> Option<Stack>;
    /// Parks the task's stack (before its first run, after its end).
    fn park_stack(&self, s: Stack);
    /// Runs the task's body (it has no boxed entry); returns its result.
    ///
    /// # Safety
    /// `me` is the task running this call, on its own coroutine.
    unsafe fn run(&self, me: *const Task) -> usize;
    /// The task has finished and its joiners are woken.
    fn ended(&self, t: &Task, detached: bool);
    /// For the green layer's own downcast.
    fn as_any(&self) -> &dyn std::any::Any;
}

// SAFETY: see the struct doc: the non-Sync cells are only accessed by the one
// thread that currently runs the task, and ownership moves between threads
// through the run queues (which synchronise).
unsafe impl Send for Task {}
// SAFETY: as above.
unsafe impl Sync for Task {}


/// Coroutines created and not yet finished, in the whole process. Relaxed:
/// a count for decisions that tolerate a stale answer (see `has_company`).
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Coroutines in existence (created, not finished).
pub fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// In a forked child: the forking coroutine is the only one.
pub(crate) fn set_live_after_fork() {
    LIVE.store(1, Ordering::Relaxed);
}

/// The task running on this thread, or null. Never inlined (see module doc).
#[inline(never)]
pub fn current_ptr() -> *const Task {
    // SAFETY: this thread's slot, alive as long as the thread.
    unsafe { (*current_slot()).get() }
}

/// The address of this thread's CURRENT slot, for the worker loop: it runs
/// on its own OS thread and never migrates, so it may keep the address and
/// save a thread-local lookup on every switch. Coroutines must not.
///
/// The slot is glibc::tls's current-task slot (the task the OS thread runs,
/// or null: worker loop, plain threads; written only by the worker loop
/// around `resume`): `Cell<*const ()>` and `Cell<*const Task>` have one
/// layout, and only tasks are stored in it.
#[inline]
pub(crate) fn current_slot() -> *const Cell<*const Task> {
    crate::glibc::tls::current_slot() as *const Cell<*const Task>
}

/// A counted reference to the running task, or None off a coroutine (for
/// registering it as a waiter somewhere). Never inlined (see module doc).
#[inline(never)]
pub fn current_task() -> Option<Arc<Task>> {
    let t = current_ptr();
    if t.is_null() {
        return None;
    }
    // SAFETY: non-null CURRENT is the running task, and the worker running it
    // holds an Arc for the whole run, so the count is at least one.
    Some(unsafe {
        Arc::increment_strong_count(t);
        Arc::from_raw(t)
    })
}

/// Is the caller a runtime coroutine?
pub fn in_coroutine() -> bool {
    !current_ptr().is_null()
}

impl Task {
    /// A new task that will run `entry` on a stack of `stack_size` bytes.
    pub fn new(entry: Entry, stack_size: usize) -> Arc<Task> {
        Self::build(Some(entry), stack_size, None, None)
    }

    /// The task of a context that is already running (`main`, on the main
    /// thread's stack `bounds`), pinned to `pinned`: it becomes a task in
    /// place, the next [`Task::adopt_suspend`] switches to `to` (a worker
    /// loop's new context), and a worker's `resume` continues it later.
    pub(crate) fn adopted(bounds: stack::Bounds, pinned: usize) -> Arc<Task> {
        let t = Self::build(None, bounds.top - bounds.bottom, Some(pinned), None);
        t.stack.set(bounds);
        // SAFETY: nobody else has the task yet.
        unsafe { *t.body.get() = Body::Adopted(UnsafeCell::new(Adopted { sp: 0, resumer: 0, req: Request::Yield, resume: 0 })) };
        t
    }

    /// The calling context, which `self` adopted, suspends and `to` (a
    /// context made with [`crate::arch::new_context`]) runs; returns when a
    /// worker continues `self` as a task.
    ///
    /// # Safety
    /// `self` is adopted, not yet run by any worker, and queued only after
    /// `to` starts; the caller is the context it adopted.
    pub(crate) unsafe fn adopt_suspend(&self, to: usize) -> Resume {
        // SAFETY: per the contract: nothing else touches the fields before
        // the first resume, which follows this switch.
        unsafe {
            let Body::Adopted(cell) = &*self.body.get() else { unreachable!("adopted") };
            let a = cell.get();
            crate::arch::switch(&raw mut (*a).sp, to);
            (*a).resume
        }
    }

    /// The saved stack pointer of an adopted task that has finished (its
    /// last suspension, with [`Request::Exit`]), for the worker loop that
    /// hands the thread back to it; 0 for any other task.
    pub(crate) fn adopted_sp(&self) -> usize {
        // SAFETY: read by the loop that ran the task to its end.
        match unsafe { &*self.body.get() } {
            // SAFETY: as above: the context is suspended for good.
            Body::Adopted(cell) => unsafe { (*cell.get()).sp },
            _ => 0,
        }
    }

    /// A new green thread's task, on the stack of its block.
    pub(crate) fn new_green(stack: Stack, g: Box<dyn Kind>) -> Arc<Task> {
        let size = stack.size();
        g.park_stack(stack);
        Self::build(None, size, None, Some(g))
    }

    fn build(entry: Option<Entry>, stack_size: usize, pinned: Option<usize>, green: Option<Box<dyn Kind>>) -> Arc<Task> {
        crate::stats::created(LIVE.fetch_add(1, Ordering::Relaxed) + 1);
        let t = Arc::new(Task {
            state: AtomicU8::new(SCHEDULED),
            pinned: AtomicUsize::new(pinned.unwrap_or(usize::MAX)),
            stack_size,
            entry: UnsafeCell::new(entry),
            body: UnsafeCell::new(Body::Unstarted),
            yielder: Cell::new(std::ptr::null()),
            errno: Cell::new(0),
            eh_globals: Cell::new([0; 2]),
            in_hook: Cell::new(false),
            stack: Cell::new(stack::Bounds::default()),
            join: crate::sync::spin::SpinLock::new(JoinState {
                done: false,
                joined: false,
                detached: false,
                result: 0,
                waiters: Vec::new(),
                thread_waiters: 0,
            }),
            done_word: AtomicU32::new(0),
            tp: AtomicUsize::new(green.as_ref().map_or(0, |g| g.tp())),
            light_tp: std::sync::atomic::AtomicBool::new(false),
            light_layout: Cell::new(None),
            green,
            lot_flag: AtomicU32::new(0),
            signals: TaskSignals::new(inherited_sigmask()),
            on_tid: std::sync::atomic::AtomicI32::new(0),
            debug: debug::Node::new(),
        });
        t.debug.bind(Arc::as_ptr(&t) as usize, &t.state, &t.on_tid, u32::from(t.green.is_some()));
        crate::stats::emit(crate::stats::Event::Create, Arc::as_ptr(&t).cast());
        t
    }

    /// The descriptor the task runs on, or 0 (its worker's).
    #[inline]
    pub fn own_tp(&self) -> usize {
        self.tp.load(Ordering::Relaxed)
    }

    /// Gives the task a descriptor of its own (before it first runs).
    pub(crate) fn set_own_tp(&self, tp: usize) {
        self.tp.store(tp, Ordering::Relaxed);
    }

    /// A C API coroutine (before it first runs) asks for a light block
    /// ([`crate::glibc::tls::Layout::light_block`]): its first run takes
    /// one and runs on the block's stack, below the block's descriptor,
    /// and both go back to the pool when it finishes. Taken there, on the
    /// worker, not by the spawner: a new block's first-touch page faults
    /// then fall on the workers that run the coroutines, not all on the
    /// thread that spawns them.
    pub(crate) fn want_light_block(&self, layout: &'static crate::glibc::tls::Layout) {
        self.light_layout.set(Some(layout));
    }

    /// The green-thread layer's state, if this task is a green thread.
    pub fn green(&self) -> Option<&dyn Kind> {
        self.green.as_deref()
    }

    /// Is this task a green thread?
    pub fn is_green(&self) -> bool {
        self.green.is_some()
    }

    pub(crate) fn lot_flag(&self) -> *const AtomicU32 {
        &self.lot_flag
    }

    /// The task's signal state (the signal layer's: see [`TaskSignals`]).
    #[inline]
    pub fn signals(&self) -> &TaskSignals {
        &self.signals
    }

    /// The task's entry in the debug list ([`debug`]).
    pub fn debug_node(&self) -> &debug::Node {
        &self.debug
    }

    /// Raises the signals held for the running task `self` that its mask
    /// lets through: their handlers run here, on the task, where the
    /// runtime holds nothing, so their own calls reach the hooks (a
    /// `sem_post` from a handler must wake a green thread).
    pub(crate) fn deliver_pending(&self) {
        if !self.signals.has_pending_unblocked() {
            return;
        }
        let in_hook = self.in_hook();
        self.set_in_hook(false);
        self.signals.raise_pending();
        self.set_in_hook(in_hook);
    }

    /// The worker thread that runs the task now (or ran it last).
    pub fn on_tid(&self) -> i32 {
        self.on_tid.load(Ordering::Relaxed)
    }

    /// In a forked child, on the survivor: whoever waited to join it is a
    /// coroutine or thread of the parent (leaked, see `crate::fork`).
    pub(crate) fn forget_joiners_after_fork(&self) {
        // SAFETY: the fork child handler runs on the child's only thread.
        let j = unsafe { self.join.reset_after_fork() };
        std::mem::forget(std::mem::take(&mut j.waiters));
        j.thread_waiters = 0;
    }

    /// Marks a task detached before anyone could join it.
    pub(crate) fn detach_now(&self) {
        let mut j = self.join.lock();
        j.joined = true;
        j.detached = true;
    }

    /// `pthread_detach`: Ok(true) if the task has ended already (the
    /// caller releases it), EINVAL if it was joined or detached before.
    pub fn detach(&self) -> Result<bool, i32> {
        let mut j = self.join.lock();
        if j.joined {
            return Err(libc::EINVAL);
        }
        j.joined = true;
        j.detached = true;
        Ok(j.done)
    }

    /// Was the task detached?
    pub fn is_detached(&self) -> bool {
        self.join.lock().detached
    }

    /// Has the task ended?
    pub fn is_done(&self) -> bool {
        self.join.lock().done
    }

    /// The value join returns (meaningful once the task is done).
    pub fn result(&self) -> usize {
        self.join.lock().result
    }

    /// Sets the value join returns (a green thread's `pthread_exit`).
    pub fn set_result(&self, v: usize) {
        self.join.lock().result = v;
    }

    pub fn pinned(&self) -> Option<usize> {
        // Relaxed: the store happens before the task parks (a release CAS in
        // `settle_park`), which the waker's acquire CAS in `unpark` observes.
        let w = self.pinned.load(Ordering::Relaxed);
        (w != usize::MAX).then_some(w)
    }

    /// Moves a pinned task to worker `w` (a forked child's only coroutine,
    /// to the one worker thread it has).
    pub(crate) fn repin(&self, w: usize) {
        if self.pinned().is_some() {
            self.pinned.store(w, Ordering::Relaxed);
        }
    }

    /// Pins a task to the worker that is about to run it for the first time.
    pub(crate) fn pin_to(&self, worker: usize) {
        // A task with thread-locals of its own (a green thread, a C API
        // coroutine with a light descriptor) may run anywhere.
        if self.green.is_none() && self.own_tp() == 0 && self.pinned.load(Ordering::Relaxed) == usize::MAX {
            self.pinned.store(worker, Ordering::Relaxed);
        }
    }

    pub fn state(&self) -> u8 {
        self.state.load(Ordering::Acquire)
    }

    /// Where the stack lies (all zero until the task first runs).
    pub fn stack_bounds(&self) -> stack::Bounds {
        self.stack.get()
    }

    pub(crate) fn in_hook(&self) -> bool {
        self.in_hook.get()
    }
    pub(crate) fn set_in_hook(&self, v: bool) {
        self.in_hook.set(v)
    }

    /// Has the coroutine been created (run at least once)?
    pub(crate) fn started(&self) -> bool {
        // SAFETY: read by the worker that owns the task (it took it off a queue).
        unsafe { !matches!(*self.body.get(), Body::Unstarted) }
    }

    /// Marks the task RUNNING; the caller has just taken it off a queue.
    ///
    /// A read-modify-write, not a store: a waker that finds the task
    /// SCHEDULED leaves it so (it will run and see the waker's change), but
    /// only if that run's reads come after the waker's writes. With a plain
    /// store here and a plain load in the waker, each side's store could
    /// sit in its CPU's store buffer while its load ran ahead (the
    /// store-buffer litmus test, allowed on x86): the worker read "not
    /// done" and the waker read "scheduled", and the task parked for good
    /// (`pool_wake_race`; ripgrep -j4 hung in 30-50% of its runs). Both
    /// sides now modify the state word, which orders them.
    pub(crate) fn begin_run(&self) {
        self.state.swap(RUNNING, Ordering::AcqRel);
    }

    /// Resumes the coroutine on the calling worker until it suspends or ends.
    /// Creates the coroutine first if this is its first run.
    ///
    /// # Safety
    /// The caller owns the task (took it off a queue) and has set CURRENT;
    /// `slots` are the calling thread's (the worker loop caches them: it
    /// never migrates).
    pub(crate) unsafe fn resume(self: &Arc<Task>, worker: usize, slots: &ThreadSlots) -> Option<Request> {
        // SAFETY: exclusive access per the caller's contract.
        let body = self.body.get();
        // SAFETY: the slots are this thread's per the contract.
        unsafe { slots.switch_in(self) };
        // SAFETY: as above (a shared look at which body it is).
        let adopted = match unsafe { &*body } {
            Body::Adopted(cell) => Some(cell.get()),
            _ => None,
        };
        let r = match adopted {
            // SAFETY: the context is suspended (it was queued) and ours to
            // continue; it writes the fields only while it runs, between
            // the two switches, and switches back here when it suspends.
            Some(a) => unsafe {
                (*a).resume = worker;
                crate::arch::switch(&raw mut (*a).resumer, (*a).sp);
                let req = (*a).req;
                if req == Request::Exit { corosensei::CoroutineResult::Return(()) } else { corosensei::CoroutineResult::Yield(req) }
            },
            // SAFETY: as above; a coroutine is reached only from here.
            None => match unsafe { &mut *body } {
                Body::Co(co) => co.resume(worker),
                _ => unreachable!("prepared by the worker"),
            },
        };
        // SAFETY: as above; we are back on the worker's own stack and thread.
        unsafe { slots.switch_out(self) };
        // SAFETY: as above.
        let co = unsafe { &mut *body };
        match r {
            corosensei::CoroutineResult::Yield(Request::Exit) => {
                if let Body::Co(co) = co {
                    // SAFETY: the coroutine ended for good (pthread_exit); its
                    // frames hold nothing that needs dropping (see green).
                    unsafe { co.force_reset() };
                }
                None
            }
            corosensei::CoroutineResult::Yield(req) => Some(req),
            corosensei::CoroutineResult::Return(()) => None,
        }
    }

    /// Creates the coroutine (and takes its stack) on its first run. Called
    /// by the worker *before* it sets CURRENT: allocation may call our own
    /// hooks (mmap of a new chunk), which must see a plain thread.
    ///
    /// # Safety
    /// The caller owns the task (took it off a queue).
    pub(crate) unsafe fn prepare(self: &Arc<Task>) {
        // SAFETY: exclusive access per the caller's contract.
        let body = unsafe { &mut *self.body.get() };
        if matches!(body, Body::Unstarted) {
            *body = Body::Co(self.create());
        }
    }

    fn create(self: &Arc<Task>) -> Co {
        let me = Arc::as_ptr(self) as usize;
        // (A light block that cannot be had: the coroutine shares its
        // worker's thread-locals and stays there, as without descriptors.)
        let light = self.light_layout.take().and_then(|l| l.light_block(self.stack_size).ok().map(|b| (l, b)));
        let mut first_steps = None;
        let stack = match (self.green(), light) {
            (Some(g), _) => g.take_stack().expect("a green thread's block"),
            (None, Some((l, b))) => {
                self.set_own_tp(b.tp);
                l.set_current(b.tp, me);
                self.light_tp.store(true, Ordering::Relaxed);
                if !b.reused {
                    first_steps = Some(l);
                }
                b.stack
            }
            (None, None) => match stack::pool().take(self.stack_size) {
                Ok(s) => s,
                Err(e) => {
                    crate::diag!(
                        "cannot allocate a {} KiB coroutine stack (errno {}); lower OPENCORO_STACK_SIZE or raise vm.max_map_count",
                        self.stack_size / 1024,
                        e.0
                    );
                    std::process::abort();
                }
            },
        };
        crate::stats::stack_taken(stack.size());
        self.stack.set(stack.bounds());
        // SAFETY: exclusive access (first run, caller owns the task).
        let entry = unsafe { (*self.entry.get()).take() };
        Coroutine::with_stack(stack, move |y: &Yielder<Resume, Request>, _worker| {
            let me = me as *const Task;
            // SAFETY: the worker holds an Arc to the task for as long as it runs it.
            unsafe { (*me).yielder.set(y as *const _) };
            if let Some(l) = first_steps {
                // First steps on a new descriptor (its ctype tables).
                l.thread_start(false);
            }
            let result = match entry {
                Some(entry) => match std::panic::catch_unwind(std::panic::AssertUnwindSafe(entry)) {
                    Ok(v) => v,
                    Err(_) => {
                        crate::diag!("a coroutine panicked inside the runtime; aborting");
                        std::process::abort();
                    }
                },
                // A green thread: no boxed entry, nothing on this frame to
                // drop, so `pthread_exit` may abandon it (Request::Exit).
                // SAFETY: me is the running green task, alive meanwhile.
                None => unsafe { (*me).green.as_deref().expect("a green task").run(me) },
            };
            // SAFETY: as above.
            unsafe { (*me).join.lock().result = result };
        })
    }

    /// After the coroutine returned: give back its stack, mark it done and
    /// wake every joiner.
    ///
    /// # Safety
    /// Called once, by the worker that ran the task to completion.
    pub(crate) unsafe fn finish(&self) {
        // SAFETY: exclusive access per the caller's contract.
        // (An adopted body stays: its worker loop continues it once more.)
        let body = unsafe { &mut *self.body.get() };
        let done = if matches!(body, Body::Co(_)) { std::mem::replace(body, Body::Unstarted) } else { Body::Unstarted };
        if let Body::Co(co) = done {
            let st = co.into_stack();
            crate::stats::stack_given(st.size());
            if crate::log::debug_enabled() {
                crate::debug!("task done; its stack used {} bytes of {}", stack::used_bytes(&st), st.size());
            }
            let light = self.light_tp.load(Ordering::Relaxed).then(crate::glibc::tls::layout).flatten();
            match (self.green(), light) {
                // Kept (with the descriptor above it) until joined.
                (Some(g), _) => g.park_stack(st),
                (None, Some(l)) => l.give_light(crate::glibc::tls::Block { stack: st, tp: self.own_tp(), reused: true }),
                (None, None) => stack::pool().give(st),
            }
        }
        self.state.store(DONE, Ordering::Release);
        self.debug.unlink();
        LIVE.fetch_sub(1, Ordering::Relaxed);
        let (waiters, threads, detached) = {
            let mut j = self.join.lock();
            j.done = true;
            (std::mem::take(&mut j.waiters), j.thread_waiters, j.detached)
        };
        self.done_word.store(1, Ordering::Release);
        if threads > 0 {
            crate::sys::futex_wake(self.done_word.as_ptr(), usize::MAX);
        }
        for w in waiters {
            unpark(&w);
        }
        if let Some(g) = self.green() {
            g.ended(self, detached);
        }
    }

    /// Did the coroutine's stack stay within bounds (carved stacks' canary)?
    pub(crate) fn stack_ok(&self) -> bool {
        let b = self.stack.get();
        if b.guarded || b.bottom == 0 {
            return true;
        }
        stack::canary_intact(b.bottom)
    }

    /// Worker side of step 1/3 of the protocol: the coroutine suspended with
    /// Park. Returns true if it must be queued again at once (NOTIFIED).
    pub(crate) fn settle_park(&self) -> bool {
        match self.state.compare_exchange(RUNNING, PARKED, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => false,
            Err(NOTIFIED) => {
                self.state.store(SCHEDULED, Ordering::Relaxed);
                true
            }
            Err(s) => unreachable!("task in state {s} after Park"),
        }
    }

    /// Worker side of a Yield: the task goes back to SCHEDULED.
    pub(crate) fn settle_yield(&self) {
        self.state.store(SCHEDULED, Ordering::Relaxed);
    }

    /// Joins this task: waits for it to finish and returns its result.
    /// From a coroutine it suspends; from a plain thread it blocks.
    /// Errors: EINVAL if it was already joined, EDEADLK if it is the caller.
    pub fn join(self: &Arc<Task>) -> Result<usize, i32> {
        self.join_or(&|| false)
    }

    /// [`Task::join`] that a `pthread_cancel` of the joining coroutine ends
    /// (its wait is woken: `hooks::thread`) with ECANCELED, leaving this
    /// task joinable, as a cancelled `pthread_join` leaves its target.
    pub fn join_cancellable(self: &Arc<Task>) -> Result<usize, i32> {
        self.join_or(&crate::glibc::tls::cancel_acts_now)
    }

    fn join_or(self: &Arc<Task>, cancelled: &dyn Fn() -> bool) -> Result<usize, i32> {
        let me = current_ptr();
        if std::ptr::eq(me, Arc::as_ptr(self)) {
            return Err(libc::EDEADLK);
        }
        let mut j = self.join.lock();
        if j.joined {
            return Err(libc::EINVAL);
        }
        j.joined = true;
        if me.is_null() {
            j.thread_waiters += 1;
            drop(j);
            while self.done_word.load(Ordering::Acquire) == 0 {
                crate::sys::futex_wait(self.done_word.as_ptr(), 0, u64::MAX);
            }
            return Ok(self.join.lock().result);
        }
        if !j.done {
            j.waiters.extend(current_task());
            drop(j);
            loop {
                waits_for(debug::WaitKind::Join, Arc::as_ptr(self) as u64);
                suspend(Request::Park);
                let mut j = self.join.lock();
                if cancelled() {
                    j.waiters.retain(|w| !std::ptr::eq(Arc::as_ptr(w), me));
                    j.joined = false;
                    return Err(libc::ECANCELED);
                }
                if j.done {
                    return Ok(j.result);
                }
            }
        }
        Ok(j.result)
    }
}

/// A worker thread's per-thread state that the coroutines it runs must see
/// as their own.
///
/// A green thread has its own descriptor and TLS: the worker points the FS
/// base at it for the switch and back afterwards, and publishes itself in
/// the green thread's copy of the worker pointer. Other coroutines (main,
/// `opencoro_spawn`) share the worker's TLS and stay on one worker (they are
/// pinned), so saving and restoring errno and the C++ runtime's
/// `__cxa_eh_globals` (the exceptions currently caught and the uncaught
/// count) at each switch is enough for them.
pub(crate) struct ThreadSlots {
    errno: *mut i32,
    /// Null when no C++ runtime was loaded when the worker started.
    eh_globals: *mut [usize; 2],
    /// The worker's own thread pointer.
    tp: usize,
    /// The worker loop's `Local`, published to green threads.
    local: Cell<usize>,
    /// The signal mask now applied to the worker thread (signals 1..=64).
    mask: Cell<u64>,
    /// The worker thread's kernel id.
    tid: i32,
}

impl ThreadSlots {
    /// The calling thread's slots.
    pub(crate) fn current() -> ThreadSlots {
        // SAFETY: __errno_location has no preconditions.
        let errno = unsafe { libc::__errno_location() };
        ThreadSlots { errno, eh_globals: cxa_eh_globals(), tp: crate::sys::thread_pointer(), local: Cell::new(0), mask: Cell::new(thread_sigmask()), tid: crate::sys::gettid() }
    }

    /// The worker's own thread pointer.
    pub(crate) fn thread_pointer(&self) -> usize {
        self.tp
    }

    /// Records the worker loop's state, to publish to green threads.
    pub(crate) fn set_local(&self, local: usize) {
        self.local.set(local);
    }

    /// # Safety
    /// The slots must be the calling thread's.
    #[inline]
    unsafe fn switch_in(&self, t: &Task) {
        t.on_tid.store(self.tid, Ordering::Relaxed);
        let m = t.signals.mask();
        if m != self.mask.get() {
            set_thread_sigmask(m);
            self.mask.set(m);
        }
        let tp = t.own_tp();
        if tp != 0 {
            let l = crate::glibc::tls::layout().expect("own descriptors exist only with a layout");
            l.set_local(tp, self.local.get());
            // SAFETY: tp is the task's initialised descriptor; no
            // thread-local is touched until switch_out puts ours back.
            unsafe { crate::sys::set_thread_pointer(tp, l.fast_fs) };
            return;
        }
        // SAFETY: per the contract these are this thread's live slots.
        unsafe {
            *self.errno = t.errno.get();
            if !self.eh_globals.is_null() {
                *self.eh_globals = t.eh_globals.get();
            }
        }
    }

    /// # Safety
    /// The slots must be the calling thread's.
    #[inline]
    unsafe fn switch_out(&self, t: &Task) {
        // The task may have changed the worker's mask itself (a hook).
        self.mask.set(t.signals.mask());
        if t.own_tp() != 0 {
            let fast = crate::glibc::tls::layout().is_some_and(|l| l.fast_fs);
            // SAFETY: back to the worker's own descriptor.
            unsafe { crate::sys::set_thread_pointer(self.tp, fast) };
            return;
        }
        // SAFETY: per the contract these are this thread's live slots.
        unsafe {
            t.errno.set(*self.errno);
            if !self.eh_globals.is_null() {
                t.eh_globals.set(*self.eh_globals);
                *self.eh_globals = [0; 2];
            }
        }
    }
}

/// The calling thread's signal mask (signals 1..=64).
pub fn thread_sigmask() -> u64 {
    crate::sys::sigmask(libc::SIG_BLOCK, None)
}

fn set_thread_sigmask(m: u64) {
    // SIGURG stays deliverable: it is how the monitor preempts.
    let m = if crate::signal::state::preempting() { m & !(1 << (libc::SIGURG - 1)) } else { m };
    crate::sys::sigmask(libc::SIG_SETMASK, Some(m));
}

/// The mask a new task starts with: its creator's.
fn inherited_sigmask() -> u64 {
    let t = current_ptr();
    if t.is_null() {
        thread_sigmask()
    } else {
        // SAFETY: non-null CURRENT is the running task.
        unsafe { (*t).signals.mask() }
    }
}

/// `__cxa_get_globals` as looked up by [`prime_cxa_lookup`], for the next
/// [`ThreadSlots::current`] only: 0 when none is primed, 1 when it was missing.
static CXA_PRIMED: AtomicUsize = AtomicUsize::new(0);

/// Looks `__cxa_get_globals` up now, for the next [`ThreadSlots::current`]:
/// `sched::adopt_main` calls it on `main`'s descriptor before worker 0's loop takes
/// one of its own. A lookup that fails makes `dlsym` allocate its error
/// message, and on a fresh descriptor that first `malloc` creates a malloc
/// arena (a 64 MiB reservation and its pages) in every process, C++ or not.
pub(crate) fn prime_cxa_lookup() {
    let f = cxa_get_globals_fn();
    CXA_PRIMED.store(if f == 0 { 1 } else { f }, Ordering::Relaxed);
}

/// The address of `__cxa_get_globals` (libstdc++ and libc++abi both export
/// it), or 0 when no C++ runtime is loaded.
fn cxa_get_globals_fn() -> usize {
    // SAFETY: dlsym with a NUL-terminated name.
    unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"__cxa_get_globals".as_ptr()) as usize }
}

/// The calling thread's `__cxa_eh_globals`, or null when no C++ runtime is
/// loaded.
fn cxa_eh_globals() -> *mut [usize; 2] {
    let f = match CXA_PRIMED.swap(0, Ordering::Relaxed) {
        0 => cxa_get_globals_fn(),
        1 => 0,
        f => f,
    };
    if f == 0 {
        return std::ptr::null_mut();
    }
    // SAFETY: the symbol is `__cxa_eh_globals *__cxa_get_globals(void)`,
    // valid on any thread.
    unsafe {
        let f: extern "C" fn() -> *mut [usize; 2] = std::mem::transmute(f);
        f()
    }
}

/// Suspends the current coroutine with `req`. Must be called on a coroutine.
#[inline(never)]
pub fn suspend(req: Request) -> Resume {
    let t = current_ptr();
    debug_assert!(!t.is_null(), "suspend outside a coroutine");
    // SAFETY: t is the running task (non-null on a coroutine).
    unsafe { suspend_task(t, req) }
}

/// Suspends the running task `t` with `req`.
///
/// # Safety
/// `t` must be the task running on the calling coroutine.
#[inline(never)]
unsafe fn suspend_task(t: *const Task, req: Request) -> Resume {
    // SAFETY: per the contract.
    unsafe { (*t).debug.suspending(crate::arch::here()) };
    // SAFETY: per the contract, t is the running task.
    let y = unsafe { (*t).yielder.get() };
    let r = if !y.is_null() {
        // SAFETY: per the contract; its yielder was set when the coroutine
        // started and lives on the coroutine's own stack.
        unsafe { (*y).suspend(req) }
    } else {
        // SAFETY: per the contract; a task without a yielder is adopted
        // (its body is Adopted), and only its worker's `resume` reads the
        // fields, after the switch.
        unsafe {
            let Body::Adopted(cell) = &*(*t).body.get() else { unreachable!("a running task has a yielder or is adopted") };
            let a = cell.get();
            (*a).req = req;
            crate::arch::switch(&raw mut (*a).sp, (*a).resumer);
            (*a).resume
        }
    };
    // SAFETY: t is still the running task (we are on its stack again).
    unsafe { (*t).deliver_pending() };
    r
}

/// Records what the running coroutine is about to wait for (its next
/// suspension shows it in dumps and debuggers); nothing off a coroutine.
pub fn waits_for(kind: debug::WaitKind, arg: u64) {
    let t = current_ptr();
    if !t.is_null() {
        // SAFETY: non-null CURRENT is the running task.
        unsafe { (*t).debug.waits(kind, arg) };
    }
}

/// Yields the current coroutine to the others; returns false (and does
/// nothing) when the caller is not a coroutine.
pub fn yield_now() -> bool {
    let t = current_ptr();
    if t.is_null() {
        return false;
    }
    // SAFETY: non-null CURRENT is the task running on this coroutine.
    unsafe { suspend_task(t, Request::Yield) };
    true
}

/// Suspends the current coroutine until CLOCK_MONOTONIC reaches
/// `deadline_ns`. Returns false if a signal handler ran on it meanwhile
/// (a sleep is cut short by any handler, as the kernel's is).
pub fn sleep_until(deadline_ns: u64) -> bool {
    let t = current_ptr();
    if !t.is_null() {
        // SAFETY: non-null CURRENT is the running task.
        unsafe { (*t).signals().clear_interrupt() };
    }
    while crate::sys::now_ns() < deadline_ns {
        waits_for(debug::WaitKind::Timer, deadline_ns);
        suspend(Request::Sleep(deadline_ns));
        // SAFETY: as above (we are on the task again).
        if !t.is_null() && unsafe { (*t).signals().take_interrupt() }.is_some() {
            return false;
        }
    }
    true
}

/// Makes a parked task runnable (or marks a running one NOTIFIED). Callable
/// from any thread.
pub fn unpark(t: &Arc<Task>) {
    if claim(t) {
        schedule(t.clone());
    }
}

/// Where a task made runnable goes: the scheduler's queues. The scheduler
/// registers itself when it builds its structures ([`set_scheduler`]); the
/// coroutine core knows nothing else of it (tokio's `Schedule`).
static SCHEDULER: std::sync::OnceLock<fn(Arc<Task>)> = std::sync::OnceLock::new();

/// Registers the scheduler (once; later calls change nothing).
pub(crate) fn set_scheduler(f: fn(Arc<Task>)) {
    let _ = SCHEDULER.set(f);
}

fn schedule(t: Arc<Task>) {
    match SCHEDULER.get() {
        Some(f) => f(t),
        None => {
            // Tasks exist only once the scheduler has been built.
            crate::diag!("a task was woken before the scheduler exists (a bug of opencoro, please report it); aborting");
            std::process::abort();
        }
    }
}

/// The state change of [`unpark`] alone: true when the task was parked
/// and the caller must now queue it (a running one is marked NOTIFIED).
pub fn claim(t: &Task) -> bool {
    let mut s = t.state.load(Ordering::Acquire);
    loop {
        let next = match s {
            PARKED => SCHEDULED,
            RUNNING => NOTIFIED,
            // Written back unchanged: the task's next `begin_run` is then
            // ordered after this (see there).
            SCHEDULED | NOTIFIED => s,
            _ => return false,
        };
        match t.state.compare_exchange_weak(s, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return s == PARKED,
            Err(actual) => s = actual,
        }
    }
}
