//! x86_64 Linux: the assembly and the register access, in one place.
//!
//! The raw system call instruction, the stack and thread pointers, the FS
//! base, and what the signal handlers read and write in a saved context.

use core::arch::asm;

/// Issues a raw x86_64 system call with up to six arguments.
///
/// # Safety
/// The caller must pass arguments that are valid for system call `nr`.
#[inline]
pub unsafe fn syscall6(nr: i64, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize, a6: usize) -> isize {
    let ret: isize;
    // SAFETY: the x86_64 Linux syscall ABI: rax = nr, args in rdi rsi rdx r10 r8 r9;
    // the kernel clobbers rcx and r11. Validity of the arguments is the caller's duty.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a1, in("rsi") a2, in("rdx") a3,
            in("r10") a4, in("r8") a5, in("r9") a6,
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// The current stack pointer.
#[inline(always)]
pub fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: reads rsp; no memory access.
    unsafe { asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    sp
}

/// The calling thread's thread pointer (glibc's `struct pthread *`, whose
/// first word points to itself on x86_64).
#[inline(always)]
pub fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: %fs:0 is the TCB's self pointer on x86_64 Linux (the TLS ABI).
    unsafe { asm!("mov {}, qword ptr fs:[0]", out(reg) tp, options(nostack, readonly, preserves_flags)) };
    tp
}

/// Points the calling thread's FS base at `tp` (a thread descriptor).
///
/// # Safety
/// `tp` must be a valid, initialised thread descriptor; from here on every
/// thread-local access of this OS thread uses it. `fast` must only be true
/// when `sys::has_fsgsbase` said so.
#[inline(always)]
pub unsafe fn set_thread_pointer(tp: usize, fast: bool) {
    if fast {
        // SAFETY: FSGSBASE is enabled (caller's contract); the value is valid.
        unsafe { asm!("wrfsbase {}", in(reg) tp, options(nostack, preserves_flags)) };
    } else {
        const ARCH_SET_FS: usize = 0x1002;
        // SAFETY: arch_prctl(ARCH_SET_FS, tp) with a valid descriptor.
        unsafe { syscall6(libc::SYS_arch_prctl, ARCH_SET_FS, tp, 0, 0, 0, 0) };
    }
}

/// The instruction and stack pointers of a context saved by the kernel
/// for a signal handler.
///
/// # Safety
/// `ctx` is the `ucontext_t` the kernel passed to an `SA_SIGINFO` handler.
pub unsafe fn context_ip_sp(ctx: *const libc::c_void) -> (usize, usize) {
    // SAFETY: the caller's contract.
    let g = unsafe { &(*(ctx as *const libc::ucontext_t)).uc_mcontext.gregs };
    (g[libc::REG_RIP as usize] as usize, g[libc::REG_RSP as usize] as usize)
}

/// A system call that a signal cut short with EINTR, as a saved context
/// shows it: RAX holds -EINTR and the instruction before RIP is `syscall`,
/// with the call's number loaded just before it by `mov $nr, %eax` (how
/// glibc's wrappers and most inline system calls load it). Makes the call
/// start again on return (RIP back over `syscall`, RAX the number; its
/// arguments are still in their registers). False where the context is not
/// such a call or the number cannot be read that way. Async-signal-safe
/// (reads the code with `process_vm_readv`).
///
/// # Safety
/// `ctx` is the writable `ucontext_t` the kernel passed to an
/// `SA_SIGINFO` handler.
pub unsafe fn restart_interrupted_syscall(ctx: *mut libc::c_void) -> bool {
    // SAFETY: the caller's contract.
    let g = unsafe { &mut (*(ctx as *mut libc::ucontext_t)).uc_mcontext.gregs };
    let (rip, rax) = (g[libc::REG_RIP as usize] as usize, g[libc::REG_RAX as usize]);
    if rax != -(libc::EINTR as i64) || rip < 7 {
        return false;
    }
    // `b8 imm32` (mov $nr, %eax) then `0f 05` (syscall), ending at RIP.
    let Some(code) = crate::sys::copy_in((rip - 7) as *const [u8; 7]) else { return false };
    if code[0] != 0xb8 || code[5..] != [0x0f, 0x05] {
        return false;
    }
    let nr = u32::from_le_bytes([code[1], code[2], code[3], code[4]]);
    g[libc::REG_RAX as usize] = nr as i64;
    g[libc::REG_RIP as usize] = (rip - 2) as i64;
    true
}

/// The program counter, stack pointer and frame pointer where this is
/// inlined: a point from which a debugger can unwind the caller's frames
/// with their unwind tables (the record of a suspended coroutine).
#[inline(always)]
pub fn here() -> [usize; 3] {
    let (pc, sp, fp): (usize, usize, usize);
    // SAFETY: reads three registers; touches no memory.
    unsafe {
        asm!("lea {pc}, [rip]", "mov {sp}, rsp", "mov {fp}, rbp", pc = out(reg) pc, sp = out(reg) sp, fp = out(reg) fp, options(nomem, nostack, preserves_flags));
    }
    [pc, sp, fp]
}

/// Bytes [`switch`] keeps on a suspended context's stack: the FPU control
/// words, six callee-saved registers and the return address.
const SWITCH_FRAME: usize = 64;

/// Suspends the calling context and continues another: pushes the
/// callee-saved registers (rbp, rbx, r12-r15) and the SSE and x87 control
/// words, stores the stack pointer in `*save`, loads `to` (a stack pointer
/// stored by an earlier `switch`, or made by [`new_context`]) and pops its
/// registers. Returns when some later `switch` continues the saved context.
/// It leaves through `jmp`, not `ret`: a `ret` into the other context
/// missed the return-stack prediction on every switch (a ping-pong pair
/// cost 40-45 ns here, 16-17 ns with the jump; corosensei's 5 ns, which
/// keeps no FPU control words).
///
/// A symmetric switch (corosensei's coroutines only resume and yield to
/// their resumer): it lets a context that was never made as a coroutine,
/// `main` on the main thread's own stack, be suspended and continued by
/// any worker (see `coro::Body::Adopted`).
///
/// # Safety
/// `to` must be a context suspended by `switch` (or made by
/// `new_context`) that nothing else continues, whose stack is alive; the
/// caller's stack must stay alive until its context is continued.
#[unsafe(naked)]
pub unsafe extern "C" fn switch(save: *mut usize, to: usize) {
    core::arch::naked_asm!(
        "push rbp",
        "push rbx",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "sub rsp, 8",
        "stmxcsr [rsp]",
        "fnstcw [rsp + 4]",
        "mov [rdi], rsp",
        "mov rsp, rsi",
        "ldmxcsr [rsp]",
        "fldcw [rsp + 4]",
        "add rsp, 8",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbx",
        "pop rbp",
        "pop rcx",
        "jmp rcx",
    )
}

/// Where a context made by [`new_context`] starts: calls `entry(arg)`
/// (kept in r13 and r12 by the first `switch`) with the stack aligned as at
/// a call; `entry` must never return.
#[unsafe(naked)]
unsafe extern "C" fn context_start() {
    core::arch::naked_asm!("mov rdi, r12", "call r13", "ud2")
}

/// Makes a context that, when first continued by [`switch`], runs
/// `entry(arg)` on the stack whose highest address is `top`; returns its
/// stack pointer, for `switch`'s `to`.
///
/// # Safety
/// `top` must be the top of a writable stack that nothing else uses, with
/// room for `entry`; `entry` must never return (it ends by switching away
/// for good).
pub unsafe fn new_context(top: usize, entry: extern "C" fn(usize) -> !, arg: usize) -> usize {
    let sp = (top & !15) - SWITCH_FRAME;
    // The default MXCSR (all exceptions masked, round to nearest) and x87
    // control word (extended precision, all exceptions masked).
    let control = 0x1F80u64 | (0x037Fu64 << 32);
    let frame: [u64; 8] = [control, 0, 0, entry as usize as u64, arg as u64, 0, 0, context_start as *const () as usize as u64];
    // SAFETY: the caller gives a writable stack; the frame lies below `top`.
    unsafe { core::ptr::write(sp as *mut [u64; 8], frame) };
    sp
}

#[cfg(test)]
mod tests {
    use super::{new_context, switch};

    static mut BACK: usize = 0;
    static mut THERE: usize = 0;
    static mut SEEN: [u64; 4] = [0; 4];

    extern "C" fn pinger(arg: usize) -> ! {
        // SAFETY: the test below and this context take turns; nothing else
        // touches the statics.
        unsafe {
            #[allow(clippy::needless_range_loop)] // (each turn switches away)
            for i in 0..4 {
                SEEN[i] = arg as u64 + i as u64;
                switch(&raw mut THERE, BACK);
            }
        }
        unreachable!("never continued after the fourth switch");
    }

    #[test]
    fn switch_ping_pong_keeps_state() {
        let mut stack = vec![0u8; 64 * 1024];
        let top = stack.as_mut_ptr() as usize + stack.len();
        let mut kept = 0.0f64;
        // SAFETY: the stack outlives both contexts' use of it; each context
        // is continued only by the other.
        unsafe {
            THERE = new_context(top, pinger, 40);
            for i in 0..4u64 {
                kept += 1.5;
                switch(&raw mut BACK, THERE);
                assert_eq!(SEEN[i as usize], 40 + i);
                assert_eq!(kept, 1.5 * (i + 1) as f64);
            }
        }
        drop(stack);
    }
}

// A thread-local of the runtime's own reached with the initial-exec model
// (`@gottpoff`): its relocation makes the loader give the runtime's whole
// TLS block a place in static TLS, also when the front library loads the
// runtime with `dlopen` (glibc gives a `dlopen`ed library's TLS a static
// place only when the library asks so; otherwise it allocates it on each
// thread's first access, with malloc, and green threads' descriptors would
// not carry it). `glibc::tls` checks that it did.
core::arch::global_asm!(
    ".pushsection .tbss,\"awT\",@nobits",
    ".p2align 3",
    "opencoro_static_tls_anchor: .zero 8",
    ".popsection",
    ".pushsection .text.opencoro_static_tls_offset,\"ax\",@progbits",
    ".p2align 4",
    ".globl opencoro_static_tls_offset",
    ".hidden opencoro_static_tls_offset",
    ".type opencoro_static_tls_offset,@function",
    "opencoro_static_tls_offset:",
    "movq opencoro_static_tls_anchor@gottpoff(%rip), %rax",
    "ret",
    ".size opencoro_static_tls_offset, .-opencoro_static_tls_offset",
    ".popsection",
    options(att_syntax)
);

extern "C" {
    fn opencoro_static_tls_offset() -> isize;
}

/// The offset from the thread pointer of a thread-local in the runtime's
/// TLS block (negative: static TLS lies below the thread pointer).
pub fn static_tls_offset() -> isize {
    // SAFETY: the function above only loads a GOT entry.
    unsafe { opencoro_static_tls_offset() }
}
