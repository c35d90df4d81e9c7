//! Links the cdylib with the export list in `preload/opencoro.map`, so that
//! only the C API and the interposed libc symbols leave libopencoro.so.
//! (Without the `preload` feature the libc symbols are not exported, so the
//! list does not apply.)
fn main() {
    let map = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("preload/opencoro.map");
    println!("cargo:rerun-if-changed={}", map.display());
    if std::env::var_os("CARGO_FEATURE_PRELOAD").is_some() {
        println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={}", map.display());
    }
}
