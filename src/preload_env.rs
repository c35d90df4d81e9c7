//! `OPENCORO_INHERIT=0`: the library takes itself out of `LD_PRELOAD`.
//!
//! Done in the constructor (one thread, before `main` and before the
//! program reads its environment), so every later `exec`, `system`,
//! `posix_spawn` or `popen` passes an environment without it; other
//! entries of `LD_PRELOAD` stay as they are. The front library
//! (`crate::front`) loads the runtime at once when an `OPENCORO_*` switch
//! is set, so its own entry goes too, while the process is still alone.

/// Removes this library's entries from `LD_PRELOAD`, and those of `front`
/// (the front library's file) when given (the variable goes when nothing
/// is left).
pub(crate) fn remove(front: Option<&str>) {
    let ours: Vec<std::path::PathBuf> = own_path().into_iter().chain(front.and_then(|f| std::fs::canonicalize(f).ok())).collect();
    let Ok(list) = std::env::var("LD_PRELOAD") else { return };
    let mine = |entry: &str| {
        ours.iter().any(|me| std::fs::canonicalize(entry).is_ok_and(|p| &p == me) || (!entry.contains('/') && me.file_name().is_some_and(|n| n == entry)))
    };
    // ld.so separates entries with spaces or colons.
    let kept: Vec<&str> = list.split([' ', ':']).filter(|e| !e.is_empty() && !mine(e)).collect();
    // SAFETY (set_var/remove_var): the constructor runs before any other
    // thread of the process exists.
    if kept.is_empty() {
        std::env::remove_var("LD_PRELOAD");
    } else {
        std::env::set_var("LD_PRELOAD", kept.join(" "));
    }
}

/// This library's file, resolved.
fn own_path() -> Option<std::path::PathBuf> {
    // SAFETY: dladdr fills `info` for an address inside a loaded object.
    let name = unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        if libc::dladdr(remove as *const () as *const libc::c_void, &mut info) == 0 || info.dli_fname.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr(info.dli_fname).to_str().ok()?.to_owned()
    };
    std::fs::canonicalize(name).ok()
}
