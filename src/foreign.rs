//! Programs the runtime must stay out of.
//!
//! A Go program built with cgo is dynamically linked, so `LD_PRELOAD`
//! applies, but Go schedules goroutines on threads of its own (made with
//! `pthread_create`, which would become green threads blocking their
//! workers in raw futex waits), uses SIGURG for its own preemption and
//! insists on SA_ONSTACK handlers: under the runtime it hangs or dies. It
//! is recognised at load time (the main program's `Go` build-id note, or
//! the cgo entry points every cgo binary exports) and the library turns
//! itself off, as `OPENCORO=0` would, with one line on stderr. (A pure Go
//! binary is static: `LD_PRELOAD` never applies.)

use std::ffi::c_void;

/// Is the main program a Go binary?
pub(crate) fn go_program() -> bool {
    has_go_note() || cgo_symbols()
}

fn cgo_symbols() -> bool {
    ["crosscall2\0", "_cgo_topofstack\0"].iter().any(|name| {
        // SAFETY: a NUL-terminated name; dlsym has no other precondition.
        !unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr().cast()) }.is_null()
    })
}

fn has_go_note() -> bool {
    let mut found = false;
    // SAFETY: the callback only reads the program headers the loader
    // passes, and stops after the first object (the main program).
    unsafe { libc::dl_iterate_phdr(Some(scan), &mut found as *mut bool as *mut c_void) };
    found
}

unsafe extern "C" fn scan(info: *mut libc::dl_phdr_info, _size: usize, data: *mut c_void) -> i32 {
    // SAFETY: the loader passes a valid info; `data` is our bool.
    let (info, found) = unsafe { (&*info, &mut *(data as *mut bool)) };
    for i in 0..info.dlpi_phnum as usize {
        // SAFETY: dlpi_phdr has dlpi_phnum entries.
        let ph = unsafe { &*info.dlpi_phdr.add(i) };
        if ph.p_type != libc::PT_NOTE {
            continue;
        }
        let mut p = (info.dlpi_addr + ph.p_vaddr) as usize;
        let end = p + ph.p_memsz as usize;
        while p + 12 <= end {
            // SAFETY: inside the mapped note segment; ELF note header: namesz, descsz, type.
            let (namesz, descsz, kind) = unsafe { (*(p as *const u32), *((p + 4) as *const u32), *((p + 8) as *const u32)) };
            let name = p + 12;
            // SAFETY: the name lies inside the segment when namesz fits.
            if namesz == 4 && kind == 4 && name + 4 <= end && unsafe { *(name as *const [u8; 4]) } == *b"Go\0\0" {
                *found = true;
            }
            p = name + (namesz as usize).next_multiple_of(4) + (descsz as usize).next_multiple_of(4);
        }
    }
    1 // the main program only
}
