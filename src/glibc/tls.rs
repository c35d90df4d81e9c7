//! A glibc thread descriptor and static TLS block for each green thread.
//!
//! Each green thread gets what glibc gives a thread: a `struct pthread`
//! with the static TLS blocks below it, laid out at the top of its own
//! stack as glibc lays out a thread's stack, and the worker points the FS
//! base at it (`wrfsbase`) while the green thread runs. So errno,
//! `__thread`, C++ `thread_local`, Rust `thread_local!`, pthread keys and
//! malloc's per-thread cache are the green thread's own, and an address of
//! any of them that compiled code keeps across a call stays valid even when
//! the green thread resumes on another worker.
//!
//! `struct pthread` is private to glibc. [`layout`] learns the few offsets
//! it needs from glibc's own debugger descriptors (`_thread_db_*`) and
//! checks each against the running thread's real descriptor; when one does
//! not match, green threads are off and `pthread_create` makes OS threads.
//! Validated on glibc 2.36 (Debian 12), x86_64.

use std::cell::Cell;
use std::sync::atomic::{AtomicI32, AtomicIsize, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

thread_local! {
    /// The runtime's two thread slots that every descriptor carries a copy
    /// of (so they sit in static TLS, at fixed offsets from the thread
    /// pointer): the task the thread runs (`coro`'s current task) and the
    /// worker loop that runs it (`sched::worker`'s `Local`). Untyped here,
    /// below both; each owner reads and writes its own through a cast.
    static CURRENT: Cell<*const ()> = const { Cell::new(std::ptr::null()) };
    static LOCAL: Cell<*const ()> = const { Cell::new(std::ptr::null()) };
}

/// The slots' offsets from the thread pointer, once the layout has found
/// them in static TLS (0: not known; `with` then finds them). A library's
/// `thread_local!` is reached through `__tls_get_addr` (the general-dynamic
/// model), a call on every switch and hook; the thread pointer plus a
/// fixed offset is what the initial-exec model would compile to.
static CURRENT_OFF: AtomicIsize = AtomicIsize::new(0);
static LOCAL_OFF: AtomicIsize = AtomicIsize::new(0);

#[inline]
fn slot(off: &AtomicIsize, key: &'static std::thread::LocalKey<Cell<*const ()>>) -> *const Cell<*const ()> {
    let o = off.load(Ordering::Relaxed);
    if o != 0 {
        return (crate::sys::thread_pointer() as isize + o) as *const Cell<*const ()>;
    }
    key.with(|c| c as *const Cell<*const ()>)
}

/// The address of this thread's current-task slot (see `CURRENT`).
#[inline]
pub(crate) fn current_slot() -> *const Cell<*const ()> {
    slot(&CURRENT_OFF, &CURRENT)
}

/// The address of this thread's worker-loop slot (see `CURRENT`).
#[inline]
pub(crate) fn local_slot() -> *const Cell<*const ()> {
    slot(&LOCAL_OFF, &LOCAL)
}

/// Thread ids we hand out: above any real pid (PID_MAX_LIMIT is 2^22), below
/// FUTEX_TID_MASK, unique among live green threads.
static NEXT_TID: AtomicI32 = AtomicI32::new(0x1000_0000);

/// A thread id for a new descriptor (see `NEXT_TID`).
pub(crate) fn fresh_tid() -> i32 {
    let t = NEXT_TID.fetch_add(1, Ordering::Relaxed);
    if t >= 0x3FFF_FFF0 {
        NEXT_TID.store(0x1000_0000, Ordering::Relaxed);
    }
    t
}

use libc::{c_char, c_void};

use crate::coro::stack::{self, Stack};

/// `PTHREAD_KEY_2NDLEVEL_SIZE` x `sizeof(struct pthread_key_data)`: the
/// first block of key values sits just before the `specific` array.
const SPECIFIC_1STBLOCK_BYTES: usize = 32 * 16;
/// Entries of the `specific` array (`PTHREAD_KEY_1STLEVEL_SIZE`).
const SPECIFIC_ENTRIES: usize = 32;
/// Bytes kept free between a green thread's TLS and its stack.
const TLS_MARGIN: usize = 64;
/// Green blocks kept per stack size for reuse.
const POOL_KEEP: usize = 4096;

type AllocateTls = unsafe extern "C" fn(*mut c_void) -> *mut c_void;
type DeallocateTls = unsafe extern "C" fn(*mut c_void, bool);
type AllocateTlsInit = unsafe extern "C" fn(*mut c_void, bool) -> *mut c_void;
type VoidFn = unsafe extern "C" fn();

/// libc's static TLS block: kept across the reuse of a descriptor (it
/// holds malloc's per-thread cache, which glibc frees only from its own
/// thread exit path).
struct LibcBlock {
    /// Distance below the thread pointer.
    offset: usize,
    size: usize,
    /// errno's distance below the thread pointer (reset to 0 on reuse).
    errno: usize,
}

/// What we know about glibc's thread descriptor.
pub struct Layout {
    pthread_size: usize,
    static_size: usize,
    static_align: usize,
    off_list: usize,
    off_tid: usize,
    pub(crate) off_cancelhandling: usize,
    off_robust: usize,
    off_cleanup_jmp_buf: usize,
    off_specific: usize,
    /// Offset of the rseq area's cpu_id from the thread pointer, if rseq is on.
    off_rseq_cpu: Option<isize>,
    robust_futex_offset: usize,
    /// Offsets of the runtime's own thread-locals (see `coro`, `worker`).
    off_current: isize,
    off_local: isize,
    pub fast_fs: bool,
    allocate_tls: AllocateTls,
    deallocate_tls: DeallocateTls,
    ctype_init: VoidFn,
    call_tls_dtors: Option<VoidFn>,
    allocate_tls_init: AllocateTlsInit,
    libc_block: LibcBlock,
    /// Offset of `l_tls_offset` in `struct link_map`.
    off_l_tls_offset: usize,
    /// Bytes of static TLS below the thread pointer that modules use (the
    /// rest of glibc's static TLS area is surplus for libraries `dlopen`ed
    /// later), and the loader's load count when it was measured.
    used: AtomicUsize,
    loads: AtomicU64,
}

static LAYOUT: OnceLock<Option<Layout>> = OnceLock::new();

/// glibc's `cancelhandling` bits (nptl's descriptor.h): cancellation
/// disabled (`CANCELSTATE_BIT` 0), cancelled (3), exiting (4), terminated
/// (5). A cancellation point acts when only "cancelled" of these is set
/// (glibc's `cancel_enabled_and_canceled`).
const CANCEL_DISABLED: i32 = 1 << 0;
const CANCELED: i32 = 1 << 3;
const CANCEL_EXITING: i32 = 1 << 4;
const CANCEL_TERMINATED: i32 = 1 << 5;

/// Would a cancellation point act now on the calling thread (or green
/// thread): is a `pthread_cancel` pending while cancellation is enabled?
/// False when the layout is not known. The hooks of cancellation points
/// ask at their entry and after a failed call (see `hooks!`): libc must
/// act on a cancel only in a frame of the program's, never under the
/// runtime's own frames, whose unwinding would abort the process.
#[inline]
pub fn cancel_acts_now() -> bool {
    let Some(Some(l)) = LAYOUT.get() else { return false };
    let word = crate::sys::thread_pointer() + l.off_cancelhandling;
    // SAFETY: the FS base is the running thread's or green thread's glibc
    // descriptor, which has this 4-byte field (checked by `learn`); glibc
    // updates it atomically, so it is read as an atomic.
    let ch = unsafe { (*(word as *const AtomicI32)).load(Ordering::Relaxed) };
    ch & (CANCEL_DISABLED | CANCELED | CANCEL_EXITING | CANCEL_TERMINATED) == CANCELED
}

/// The descriptor layout, learned on first use from the calling thread's
/// own (real) descriptor; None when green threads cannot be used here.
pub fn layout() -> Option<&'static Layout> {
    LAYOUT
        .get_or_init(|| {
            // SAFETY: called on a thread with a real glibc descriptor (the
            // first pthread_create cannot come from a green thread).
            let l = unsafe { learn() };
            match &l {
                Ok(l) => {
                    // In static TLS (`learn` checked): the same offsets on
                    // every thread, green descriptors included.
                    CURRENT_OFF.store(l.off_current, Ordering::Relaxed);
                    LOCAL_OFF.store(l.off_local, Ordering::Relaxed);
                }
                Err(why) => crate::diag!("green threads are off ({why}); pthread_create makes OS threads (as OPENCORO_THREADS=os)"),
            }
            l.ok()
        })
        .as_ref()
}

fn private_sym(name: &str) -> Result<*mut c_void, String> {
    let c = std::ffi::CString::new(name).map_err(|_| "bad name".to_string())?;
    // SAFETY: NUL-terminated strings; dlvsym has no other precondition.
    let p = unsafe { libc::dlvsym(libc::RTLD_DEFAULT, c.as_ptr(), c"GLIBC_PRIVATE".as_ptr()) };
    if p.is_null() {
        Err(format!("glibc has no {name}"))
    } else {
        Ok(p)
    }
}

/// A `_thread_db_*` field descriptor: (bits, count, offset).
fn db_field(name: &str, bits: u32) -> Result<usize, String> {
    let p = private_sym(name)? as *const u32;
    // SAFETY: glibc's descriptors are three u32s.
    let (b, _n, off) = unsafe { (*p, *p.add(1), *p.add(2)) };
    if b != bits {
        return Err(format!("{name} has {b} bits, expected {bits}"));
    }
    Ok(off as usize)
}

/// Calls `f(key, destructor)` for each pthread key in use (glibc's
/// `__pthread_keys`, read through its debugger descriptors): the keys a
/// process created before the front library loaded the runtime (see
/// `crate::front`).
pub fn each_key(mut f: impl FnMut(usize, usize)) -> Result<(), String> {
    // SAFETY: glibc's descriptors are three u32s: bits, count, offset.
    let (bits, count, _) = unsafe {
        let p = private_sym("_thread_db___pthread_keys")? as *const u32;
        (*p, *p.add(1), *p.add(2))
    };
    let seq = db_field("_thread_db_pthread_key_struct_seq", 64)?;
    let destr = db_field("_thread_db_pthread_key_struct_destr", 64)?;
    if bits != 128 || seq != 0 || destr != 8 {
        return Err(format!("__pthread_keys entries of {bits} bits (seq at {seq}, destr at {destr})"));
    }
    let keys = private_sym("__pthread_keys")? as *const [usize; 2];
    for k in 0..count as usize {
        // SAFETY: `count` entries of two words (checked above); a key is in
        // use while its sequence number is odd.
        let [s, d] = unsafe { std::ptr::read_volatile(keys.add(k)) };
        if s & 1 == 1 {
            f(k, d);
        }
    }
    Ok(())
}

unsafe fn learn() -> Result<Layout, String> {
    let tp = crate::sys::thread_pointer();
    let rd = |off: usize| -> usize {
        // SAFETY: offsets checked to lie inside the descriptor by the caller.
        unsafe { *((tp + off) as *const usize) }
    };
    let size_p = private_sym("_thread_db_sizeof_pthread")? as *const u32;
    // SAFETY: a u32 descriptor.
    let pthread_size = unsafe { *size_p } as usize;
    if !(1024..=16384).contains(&pthread_size) {
        return Err(format!("struct pthread of {pthread_size} bytes"));
    }
    let off_list = db_field("_thread_db_pthread_list", 128)?;
    let off_tid = db_field("_thread_db_pthread_tid", 32)?;
    let off_cancelhandling = db_field("_thread_db_pthread_cancelhandling", 32)?;
    let off_specific = db_field("_thread_db_pthread_specific", 64 * SPECIFIC_ENTRIES as u32)?;
    let within = |off: usize, len: usize| off + len <= pthread_size;
    if !within(off_list, 16) || !within(off_tid, 4) || !within(off_cancelhandling, 4) || !within(off_specific, 8 * SPECIFIC_ENTRIES) {
        return Err("descriptor offsets out of range".into());
    }
    if rd(0) != tp || rd(0x10) != tp {
        return Err("the thread pointer does not point to itself".into());
    }
    // SAFETY: off_tid is inside the descriptor.
    let tid = unsafe { *((tp + off_tid) as *const i32) };
    if tid != crate::sys::gettid() {
        return Err("the descriptor's tid is not the thread's".into());
    }
    // robust_prev and robust_head follow tid (and an unused pid), both
    // pointing at robust_head while no robust mutex is held.
    let off_robust = off_tid + 16;
    if rd(off_robust) != tp + off_robust || rd(off_tid + 8) != tp + off_robust {
        return Err("robust list head not where expected".into());
    }
    if off_specific < SPECIFIC_1STBLOCK_BYTES || rd(off_specific) != tp + off_specific - SPECIFIC_1STBLOCK_BYTES {
        return Err("key data not where expected".into());
    }
    // cleanup_jmp_buf: register a cancellation buffer and see which word
    // of the descriptor now points at it.
    let mut probe = [0u64; 16];
    // SAFETY: exported (GLIBC_2.3.3) pair; the buffer outlives the pair.
    unsafe {
        __pthread_register_cancel(probe.as_mut_ptr().cast());
    }
    let hits: Vec<usize> = (0..pthread_size / 8).map(|i| i * 8).filter(|&o| rd(o) == probe.as_ptr() as usize).collect();
    // SAFETY: as above.
    unsafe { __pthread_unregister_cancel(probe.as_mut_ptr().cast()) };
    let [off_cleanup_jmp_buf] = hits[..] else {
        return Err("cannot find cleanup_jmp_buf".into());
    };
    let mut static_size = 0usize;
    let mut static_align = 0usize;
    let info: unsafe extern "C" fn(*mut usize, *mut usize) =
        // SAFETY: `void _dl_get_tls_static_info(size_t *, size_t *)`.
        unsafe { std::mem::transmute(private_sym("_dl_get_tls_static_info")?) };
    // SAFETY: two out-pointers.
    unsafe { info(&mut static_size, &mut static_align) };
    if static_size < pthread_size || !static_align.is_power_of_two() || static_align > 4096 {
        return Err(format!("static TLS of {static_size} bytes aligned {static_align}"));
    }
    // SAFETY: the signatures of these glibc-private functions (2.36).
    let (allocate_tls, deallocate_tls, ctype_init) = unsafe {
        (
            std::mem::transmute::<*mut c_void, AllocateTls>(private_sym("_dl_allocate_tls")?),
            std::mem::transmute::<*mut c_void, DeallocateTls>(private_sym("_dl_deallocate_tls")?),
            std::mem::transmute::<*mut c_void, VoidFn>(private_sym("__ctype_init")?),
        )
    };
    // SAFETY: as above.
    let call_tls_dtors = private_sym("__call_tls_dtors").ok().map(|p| unsafe { std::mem::transmute::<*mut c_void, VoidFn>(p) });
    // SAFETY: glibc 2.35+ exports these two; absent, rseq is not used.
    let off_rseq_cpu = unsafe {
        let off = libc::dlsym(libc::RTLD_DEFAULT, c"__rseq_offset".as_ptr()) as *const isize;
        let size = libc::dlsym(libc::RTLD_DEFAULT, c"__rseq_size".as_ptr()) as *const u32;
        (!off.is_null() && !size.is_null() && *size >= 8).then(|| *off + 4)
    };
    let off_current = current_slot() as isize - tp as isize;
    let off_local = local_slot() as isize - tp as isize;
    let in_static = |o: isize| o < 0 && (-o) as usize <= static_size;
    if !in_static(off_current) || !in_static(off_local) || !in_static(crate::arch::static_tls_offset()) {
        return Err("the runtime's thread-locals are not in static TLS".into());
    }
    let libc_block = libc_block(tp, static_size).ok_or("cannot find libc's TLS block")?;
    let off_l_tls_offset = db_field("_thread_db_link_map_l_tls_offset", 64)?;
    // SAFETY: `void *_dl_allocate_tls_init (void *, bool)` (2.36).
    let allocate_tls_init = unsafe { std::mem::transmute::<*mut c_void, AllocateTlsInit>(private_sym("_dl_allocate_tls_init")?) };
    crate::debug!("green threads: struct pthread {pthread_size} B, static TLS {static_size} B");
    Ok(Layout {
        pthread_size,
        static_size,
        static_align,
        off_list,
        off_tid,
        off_cancelhandling,
        off_robust,
        off_cleanup_jmp_buf,
        off_specific,
        off_rseq_cpu,
        robust_futex_offset: rd(off_robust + 8),
        off_current,
        off_local,
        fast_fs: crate::sys::has_fsgsbase(),
        allocate_tls,
        deallocate_tls,
        ctype_init,
        call_tls_dtors,
        allocate_tls_init,
        libc_block,
        off_l_tls_offset,
        used: AtomicUsize::new(static_size - pthread_size),
        loads: AtomicU64::new(0),
    })
}

/// The public head of `struct r_debug` and `struct link_map` (link.h).
#[repr(C)]
struct RDebug {
    r_version: libc::c_int,
    r_map: *const LinkMap,
}
#[repr(C)]
struct LinkMap {
    l_addr: usize,
    l_name: *const c_char,
    l_ld: *const c_void,
    l_next: *const LinkMap,
}

extern "C" {
    fn __pthread_register_cancel(buf: *mut c_void);
    fn __pthread_unregister_cancel(buf: *mut c_void);
}

/// libc's static TLS block (the module whose block holds errno).
fn libc_block(tp: usize, static_size: usize) -> Option<LibcBlock> {
    struct Acc {
        tp: usize,
        static_size: usize,
        errno: usize,
        out: Option<LibcBlock>,
    }
    unsafe extern "C" fn each(info: *mut libc::dl_phdr_info, _size: usize, data: *mut c_void) -> libc::c_int {
        // SAFETY: dl_iterate_phdr passes a valid info and our own Acc.
        let (info, acc) = unsafe { (&*info, &mut *(data as *mut Acc)) };
        let block = info.dlpi_tls_data as usize;
        if info.dlpi_tls_modid == 0 || block == 0 || block >= acc.tp || acc.tp - block > acc.static_size {
            return 0;
        }
        for i in 0..info.dlpi_phnum as usize {
            // SAFETY: dlpi_phdr has dlpi_phnum entries.
            let ph = unsafe { &*info.dlpi_phdr.add(i) };
            let size = ph.p_memsz as usize;
            if ph.p_type == libc::PT_TLS && (block..block + size).contains(&acc.errno) {
                acc.out = Some(LibcBlock { offset: acc.tp - block, size, errno: acc.tp - acc.errno });
                return 1;
            }
        }
        0
    }
    // SAFETY: __errno_location has no preconditions.
    let errno = unsafe { libc::__errno_location() } as usize;
    let mut acc = Acc { tp, static_size, errno, out: None };
    // SAFETY: the callback matches dl_iterate_phdr's contract.
    unsafe { libc::dl_iterate_phdr(Some(each), &mut acc as *mut Acc as *mut c_void) };
    acc.out
}

/// A green thread's stack with its descriptor at the top.
pub struct Block {
    pub stack: Stack,
    /// The descriptor (`pthread_t`, the thread pointer).
    pub tp: usize,
    /// Used by an earlier green thread (its libc TLS block is kept).
    pub reused: bool,
}

/// Finished threads' blocks by size class, for reuse.
/// Finished blocks by stack size class.
type BlockPool = Vec<(usize, Vec<Block>)>;

static POOL: crate::sync::PerProcess<Mutex<BlockPool>> = crate::sync::PerProcess::new();

/// Blocks (stack and descriptor) of finished C API coroutines, by stack
/// size class, for the next ones.
static LIGHT: crate::sync::PerProcess<Mutex<BlockPool>> = crate::sync::PerProcess::new();
/// Light blocks kept for reuse per class; more are freed.
const LIGHT_KEEP: usize = 4096;

/// In a forked child: the pools of finished blocks and descriptors may
/// have been locked.
pub(crate) fn forget_after_fork() {
    POOL.renew(None);
    LIGHT.renew(None);
}

fn light() -> std::sync::MutexGuard<'static, BlockPool> {
    LIGHT.get_or_init(|| Mutex::new(Vec::new())).lock().unwrap_or_else(|e| e.into_inner())
}

/// Pushes `b` into the pool's list for `class` if it holds fewer than
/// `keep`; gives it back otherwise.
fn pool_put(p: &mut BlockPool, class: usize, b: Block, keep: usize) -> Option<Block> {
    let i = match p.iter().position(|(c, _)| *c == class) {
        Some(i) => i,
        None => {
            p.push((class, Vec::new()));
            p.len() - 1
        }
    };
    if p[i].1.len() < keep {
        p[i].1.push(b);
        return None;
    }
    Some(b)
}

fn pool() -> std::sync::MutexGuard<'static, BlockPool> {
    POOL.get_or_init(|| Mutex::new(Vec::new())).lock().unwrap_or_else(|e| e.into_inner())
}

impl Layout {
    fn reserve(&self) -> usize {
        self.static_size + self.static_align
    }

    /// A finished block of stack size `class` from pool `p` (locked), if
    /// one is there and still leaves room for the static TLS that modules
    /// use now (one that a library loaded since would overlap is freed).
    fn pooled(&self, mut p: std::sync::MutexGuard<'static, BlockPool>, class: usize) -> Option<Block> {
        let b = p.iter_mut().find(|(c, _)| *c == class).and_then(|(_, v)| v.pop());
        drop(p);
        let b = b?;
        if b.tp - b.stack.top() >= self.tls_used() + TLS_MARGIN {
            return Some(b);
        }
        self.destroy(b);
        None
    }

    /// A block with a stack of at least `size` bytes below the descriptor,
    /// which is ready for a new thread with kernel-style id `tid`.
    pub fn take_block(&self, size: usize, tid: i32) -> Result<Block, i32> {
        let class = stack::round_size(size + self.reserve());
        let b = match self.pooled(pool(), class) {
            Some(mut b) => {
                // SAFETY: the block's descriptor was made by `fresh` and its
                // thread has ended.
                unsafe { self.reset(&mut b) };
                b
            }
            None => self.fresh(class)?,
        };
        // SAFETY: b.tp is an allocated descriptor nobody runs on.
        unsafe { self.init_descriptor(b.tp, tid) };
        Ok(b)
    }

    fn fresh(&self, class: usize) -> Result<Block, i32> {
        let mut st = stack::pool().take(class).map_err(|e| e.0)?;
        let full_top = st.full_top();
        let tp = (full_top - self.pthread_size) & !(self.static_align - 1);
        // The stack begins right below the static TLS that modules use,
        // not below glibc's whole static TLS area: the surplus is reserved
        // for libraries dlopened later, and `take_block` checks that none
        // has claimed more of it than this block leaves free. So a thread
        // that blocks early touches one page for descriptor, TLS and stack
        // together, as a native thread does.
        st.reserve_top(full_top - (tp - self.tls_used() - TLS_MARGIN));
        // SAFETY: [tp, tp + pthread_size) lies in the reserved top of a
        // stack we own.
        unsafe { std::ptr::write_bytes(tp as *mut u8, 0, self.pthread_size) };
        // SAFETY: glibc lays out the static TLS below tp, inside the
        // reservation, and allocates the dtv.
        if unsafe { (self.allocate_tls)(tp as *mut c_void) }.is_null() {
            stack::pool().give(st);
            return Err(libc::ENOMEM);
        }
        Ok(Block { stack: st, tp, reused: false })
    }

    /// Makes a used descriptor fresh, as glibc does for a cached stack:
    /// dynamically allocated TLS freed, the dtv cleared, every module's TLS
    /// back to its initial image (`_dl_allocate_tls_init`, which also
    /// covers libraries loaded since) — except libc's block, which is kept
    /// with its errno cleared (see [`LibcBlock`]). Then the descriptor
    /// itself is cleared past its header.
    unsafe fn reset(&self, b: &mut Block) {
        let tp = b.tp;
        let lb = &self.libc_block;
        let mut saved = vec![0u8; lb.size];
        // SAFETY: libc's block lies in this descriptor's static TLS.
        unsafe { std::ptr::copy_nonoverlapping((tp - lb.offset) as *const u8, saved.as_mut_ptr(), lb.size) };
        // SAFETY: tp+8 is the dtv pointer; dtv[-1] holds its length; each
        // entry is (value, to_free), as in glibc's get_cached_stack.
        unsafe {
            let dtv = *((tp + 8) as *const *mut usize);
            let len = *dtv.sub(2);
            for i in 1..=len {
                libc::free(*dtv.add(2 * i + 1) as *mut c_void);
            }
            std::ptr::write_bytes(dtv, 0, 2 * (len + 1));
            (self.allocate_tls_init)(tp as *mut c_void, true);
            std::ptr::copy_nonoverlapping(saved.as_ptr(), (tp - lb.offset) as *mut u8, lb.size);
            *((tp - lb.errno) as *mut i32) = 0;
            // Clear the descriptor past its header (keep tcb, dtv, self).
            std::ptr::write_bytes((tp + 24) as *mut u8, 0, self.pthread_size - 24);
        }
        b.reused = true;
    }

    /// Fills in the fields glibc reads on a running thread.
    unsafe fn init_descriptor(&self, tp: usize, tid: i32) {
        let me = crate::sys::thread_pointer();
        let w = |off: usize, v: usize| {
            // SAFETY: off lies inside the descriptor (checked in `learn`).
            unsafe { *((tp + off) as *mut usize) = v }
        };
        w(0, tp); // header.tcb
        w(0x10, tp); // header.self
        // SAFETY: header.multiple_threads is an int at 0x18.
        unsafe { *((tp + 0x18) as *mut i32) = 1 };
        // header.stack_guard and pointer_guard: the process's values.
        // SAFETY: both are words of the calling thread's header.
        unsafe {
            w(0x28, *((me + 0x28) as *const usize));
            w(0x30, *((me + 0x30) as *const usize));
        }
        w(self.off_list, tp + self.off_list);
        w(self.off_list + 8, tp + self.off_list);
        // SAFETY: tid is an int.
        unsafe { *((tp + self.off_tid) as *mut i32) = tid };
        w(self.off_tid + 8, tp + self.off_robust);
        w(self.off_robust, tp + self.off_robust);
        w(self.off_robust + 8, self.robust_futex_offset);
        w(self.off_specific, tp + self.off_specific - SPECIFIC_1STBLOCK_BYTES);
        if let Some(off) = self.off_rseq_cpu {
            // SAFETY: inside the descriptor; -1 = not registered, so
            // sched_getcpu asks the kernel.
            unsafe { *((tp as isize + off) as *mut i32) = -1 };
        }
    }

    /// A descriptor (with TLS, no stack) for an OS thread that gives its
    /// own to a coroutine: worker 0, the main thread, whose descriptor is
    /// `main`'s.
    pub fn thread_descriptor(&self, tid: i32) -> Option<usize> {
        // SAFETY: glibc allocates and initialises TCB and static TLS.
        let tp = unsafe { (self.allocate_tls)(std::ptr::null_mut()) } as usize;
        if tp == 0 {
            return None;
        }
        // SAFETY: a fresh descriptor nobody runs on; the header words past
        // the dtv are ours to fill (allocate_tls zeroes the TCB).
        unsafe { self.init_descriptor(tp, tid) };
        Some(tp)
    }

    /// A stack of at least `size` bytes with a descriptor of its own at its
    /// top, for a coroutine of the C API, so that it can move between
    /// workers like a green thread: a finished one's as that one left it
    /// (C API coroutines shared their worker's thread-locals before they had
    /// their own, so what one leaves the next may find), or a new one
    /// (`reused` false: its first run must call [`Layout::thread_start`]).
    /// Carved from the stack as a green thread's is: a new coroutine
    /// touches one page for descriptor, TLS and first frames, where a
    /// descriptor of glibc's own allocation cost about 2.6 KiB of heap
    /// more and its first-touch faults fell on the spawning thread
    /// (100,000 sleepers: 563 MiB peak RSS, 298 MiB without descriptors).
    /// The descriptor and TLS are part of `size`, as in a thread that glibc
    /// makes with that stack size: `pthread_getattr_np` and an overflow
    /// report name the size the coroutine was spawned with.
    pub fn light_block(&self, size: usize) -> Result<Block, i32> {
        let class = stack::round_size(size);
        match self.pooled(light(), class) {
            Some(b) => Ok(b),
            None => {
                let b = self.fresh(class)?;
                // SAFETY: b.tp is a fresh descriptor nobody runs on.
                unsafe { self.init_descriptor(b.tp, fresh_tid()) };
                Ok(b)
            }
        }
    }

    /// Returns a finished C API coroutine's block for reuse, as it is.
    pub fn give_light(&self, mut b: Block) {
        self.set_current(b.tp, 0);
        b.reused = true;
        let class = b.stack.class();
        if let Some(b) = pool_put(&mut light(), class, b, LIGHT_KEEP) {
            self.destroy(b);
        }
    }

    /// Returns a finished green thread's block for reuse.
    pub fn give_block(&self, b: Block) {
        let class = b.stack.class();
        if let Some(b) = pool_put(&mut pool(), class, b, POOL_KEEP) {
            self.destroy(b);
        }
    }

    fn destroy(&self, b: Block) {
        // SAFETY: the descriptor is unused; the dtv and dynamic TLS are
        // freed, the memory itself is the stack's, which goes back to the pool.
        unsafe { (self.deallocate_tls)(b.tp as *mut c_void, false) };
        stack::pool().give(b.stack);
    }

    /// Bytes of static TLS below the thread pointer in use by modules,
    /// measured again whenever the loader has loaded something since.
    fn tls_used(&self) -> usize {
        struct Acc<'a> {
            l: &'a Layout,
        }
        unsafe extern "C" fn first(info: *mut libc::dl_phdr_info, _size: usize, data: *mut c_void) -> libc::c_int {
            // SAFETY: dl_iterate_phdr passes a valid info and our Acc; the
            // loader lock is held, so the link map list is stable.
            let (info, acc) = unsafe { (&*info, &*(data as *const Acc)) };
            let l = acc.l;
            if l.loads.load(Ordering::Relaxed) == info.dlpi_adds {
                return 1;
            }
            let max = l.static_size - l.pthread_size;
            let mut used = 0usize;
            // SAFETY: _r_debug is the loader's public list of link maps.
            unsafe {
                let r = libc::dlsym(libc::RTLD_DEFAULT, c"_r_debug".as_ptr()) as *const RDebug;
                let mut m = if r.is_null() { std::ptr::null() } else { (*r).r_map };
                while !m.is_null() {
                    let off = *((m as usize + l.off_l_tls_offset) as *const usize);
                    if off <= max {
                        used = used.max(off);
                    } else if off != usize::MAX {
                        used = max; // unexpected: assume the worst
                    }
                    m = (*m).l_next;
                }
            }
            l.used.store(used, Ordering::Relaxed);
            l.loads.store(info.dlpi_adds, Ordering::Relaxed);
            1
        }
        let acc = Acc { l: self };
        // SAFETY: the callback matches dl_iterate_phdr's contract.
        unsafe { libc::dl_iterate_phdr(Some(first), &acc as *const Acc as *mut c_void) };
        self.used.load(Ordering::Relaxed)
    }

    /// The thread id glibc records in descriptor `tp`.
    ///
    /// # Safety
    /// `tp` is a live descriptor.
    pub unsafe fn tid_of(&self, tp: usize) -> i32 {
        // SAFETY: off_tid lies inside the descriptor (checked in `learn`).
        unsafe { *((tp + self.off_tid) as *const i32) }
    }

    /// After `fork`, in the child, glibc has marked the stacks of all threads
    /// but the running one free (tid 0) in its stack cache. When a
    /// coroutine with a descriptor of its own forked, the worker's own
    /// descriptor `tp` is among them, though the worker loop goes on using
    /// it: mark it taken again, or `pthread_create` would hand its stack
    /// to a new thread.
    ///
    /// # Safety
    /// `tp` is a live descriptor of this process.
    pub unsafe fn reclaim_after_fork(&self, tp: usize) {
        let tid = (tp + self.off_tid) as *mut i32;
        // SAFETY: off_tid lies inside the descriptor (checked in `learn`).
        unsafe {
            if *tid == 0 {
                *tid = crate::sys::gettid();
            }
        }
    }

    /// After `fork`, in the child, glibc has linked the running thread's
    /// descriptor into its list of threads. A green thread's is ours (its
    /// block is reused or freed when the thread ends): take it out again.
    ///
    /// # Safety
    /// `tp` is the running green thread's descriptor, glibc's lists are
    /// not in use (the fork child handler runs on the only thread).
    pub unsafe fn unlink_after_fork(&self, tp: usize) {
        let node = tp + self.off_list;
        // SAFETY: glibc's list_t is {next, prev}; list_del, then self-link.
        unsafe {
            let next = *(node as *const usize);
            let prev = *((node + 8) as *const usize);
            if next != node && next != 0 && prev != 0 {
                *((next + 8) as *mut usize) = prev;
                *(prev as *mut usize) = next;
            }
            *(node as *mut usize) = node;
            *((node + 8) as *mut usize) = node;
        }
    }

    /// Publishes `task` as CURRENT in the green thread's own TLS (it never
    /// changes for its whole life).
    pub fn set_current(&self, tp: usize, task: usize) {
        // SAFETY: the slot lies in this descriptor's static TLS (checked).
        unsafe { *((tp as isize + self.off_current) as *mut usize) = task };
    }

    /// Publishes the worker about to run the green thread in its TLS.
    #[inline]
    pub fn set_local(&self, tp: usize, local: usize) {
        // SAFETY: as in set_current.
        unsafe { *((tp as isize + self.off_local) as *mut usize) = local };
    }

    /// First steps on a new green thread's own descriptor.
    pub fn thread_start(&self, reused: bool) {
        if reused {
            // The locale pointer lives in libc's kept block.
            // SAFETY: LC_GLOBAL_LOCALE ((locale_t) -1) is always valid.
            unsafe { libc::uselocale(-1isize as libc::locale_t) };
        }
        // SAFETY: sets this thread's ctype table pointers.
        unsafe { (self.ctype_init)() };
    }

    /// Puts `buf` into the descriptor's chain of unwind buffers
    /// (`cleanup_jmp_buf`, then each buffer's `prev`, innermost frame
    /// first) at the frame whose stack pointer is `sp`: `pthread_exit`'s
    /// forced unwinding jumps to it once it has unwound the frames below
    /// `sp`, and `landing` takes over on the stack at `sp`. The buffers of
    /// the program's `pthread_cleanup_push` in deeper frames (armed late,
    /// for `main`) stay in front, so their handlers run first; those of
    /// outer frames (glibc's own, around `main`) are never reached. glibc
    /// mangles the saved rbp, rsp and pc with the pointer guard.
    pub fn arm_exit(&self, tp: usize, buf: &mut [u64; 13], sp: usize, landing: usize) {
        /// `struct pthread_unwind_buf`: the jump buffer (8 words), the
        /// signal-mask flag, then `priv.data.prev`.
        const PREV: usize = 9;
        let guard = crate::sys::thread_pointer_word(0x30);
        let mangle = |v: usize| ((v ^ guard).rotate_left(0x11)) as u64;
        *buf = [0; 13];
        buf[1] = mangle(0); // rbp
        buf[6] = mangle(sp); // rsp
        buf[7] = mangle(landing); // pc
        let mut link = (tp + self.off_cleanup_jmp_buf) as *mut usize;
        // SAFETY: off_cleanup_jmp_buf was found in `learn`; the chain's
        // buffers are the live frames' `pthread_cleanup_push` buffers, each
        // a `struct pthread_unwind_buf`, ending in a null `prev`.
        unsafe {
            while *link != 0 && *link < sp && *link != buf.as_ptr() as usize {
                link = (*link as *mut usize).add(PREV);
            }
            if *link != buf.as_ptr() as usize {
                buf[PREV] = *link as u64;
                *link = buf.as_ptr() as usize;
            }
        }
    }

    /// What glibc does when a thread ends: `thread_local` destructors, then
    /// pthread key destructors (`key_destructors`: the caller's), then
    /// freeing the second-level key arrays. Runs on the ending green thread
    /// itself.
    pub fn thread_exit(&self, tp: usize, key_destructors: impl FnOnce()) {
        if let Some(f) = self.call_tls_dtors {
            // SAFETY: runs this thread's registered TLS destructors.
            unsafe { f() };
        }
        key_destructors();
        for i in 1..SPECIFIC_ENTRIES {
            let slot = (tp + self.off_specific + 8 * i) as *mut *mut c_void;
            // SAFETY: inside the descriptor; glibc callocs these blocks.
            unsafe {
                if !(*slot).is_null() {
                    libc::free(*slot);
                    *slot = std::ptr::null_mut();
                }
            }
        }
    }
}

/// `name` as the kernel's comm of the calling OS thread (PR_GET_NAME).
pub fn os_thread_name() -> [u8; 16] {
    let mut buf = [0u8; 16];
    // SAFETY: PR_GET_NAME writes at most 16 bytes.
    unsafe { libc::prctl(libc::PR_GET_NAME, buf.as_mut_ptr() as *mut c_char) };
    buf
}

/// The calling thread's id as glibc records it in its descriptor (a green
/// thread's made-up id; a worker's real one).
pub fn self_tid() -> i32 {
    match layout() {
        // SAFETY: the running thread's descriptor; off_tid checked.
        Some(l) => unsafe { *((crate::sys::thread_pointer() + l.off_tid) as *const i32) },
        None => crate::sys::gettid(),
    }
}
