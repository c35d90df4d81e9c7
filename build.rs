//! Links the cdylib with an export list made from the hook tables, so that
//! only the C API and the interposed libc symbols leave libopencoro.so and
//! there is no third list to keep in step. The list names:
//!
//! - every hook of a `hooks!` table in `src/hooks/*.rs` (a line
//!   `    <kind> fn <name>(` inside the table);
//! - the hooks written out by hand there (the function after a
//!   `cfg_attr(feature = "preload", no_mangle)` line);
//! - the C API of `src/capi.rs` (`extern "C" fn opencoro_*`).
//!
//! `scripts/check-exports.sh` reads the same tables its own way and checks
//! that the built library exports exactly them. (Without the `preload`
//! feature the libc symbols are not exported, so the list does not apply.)

use std::fs;
use std::path::Path;

const KINDS: [&str; 7] = ["co", "company", "shared", "co_guard", "co_unwind", "any", "always"];
const NO_MANGLE: &str = "cfg_attr(feature = \"preload\", no_mangle)";

/// The name after `fn ` in `s` (up to `(` or `<`).
fn fn_name(s: &str) -> Option<&str> {
    let rest = &s[s.find("fn ")? + 3..];
    let end = rest.find(['(', '<']).unwrap_or(rest.len());
    let name = rest[..end].trim();
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(name)
}

/// The exported names one source file declares.
fn exports(src: &str, names: &mut Vec<String>) {
    let mut lines = src.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        // A table line: indented, `<kind> fn <name>(`.
        if line.len() > t.len() {
            if let Some((kind, rest)) = t.split_once(' ') {
                if KINDS.contains(&kind) && rest.starts_with("fn ") {
                    if let Some(n) = fn_name(rest) {
                        names.push(n.to_string());
                    }
                    continue;
                }
            }
        }
        // A hook written out by hand (the macro's own line is indented
        // inside `macro_rules!` and followed by a `$name`, not a name).
        if t.starts_with(&format!("#[{NO_MANGLE}]")) {
            if let Some(next) = lines.peek() {
                if next.contains("extern \"C") {
                    if let Some(n) = fn_name(next) {
                        names.push(n.to_string());
                    }
                }
            }
        }
    }
}

/// The commit the library is built from (`opencoro_version`), or
/// "unknown" outside a git checkout.
fn commit(root: &Path) -> String {
    for f in [".git/HEAD", ".git/refs/heads", ".git/packed-refs"] {
        if root.join(f).exists() {
            println!("cargo:rerun-if-changed={}", root.join(f).display());
        }
    }
    let out = std::process::Command::new("git").args(["rev-parse", "--short=7", "HEAD"]).current_dir(root).output();
    out.ok().filter(|o| o.status.success()).map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).filter(|c| !c.is_empty()).unwrap_or_else(|| "unknown".into())
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    println!("cargo:rustc-env=OPENCORO_COMMIT={}", commit(root));
    let hooks = root.join("src/hooks");
    let capi = root.join("src/capi.rs");
    println!("cargo:rerun-if-changed={}", hooks.display());
    println!("cargo:rerun-if-changed={}", capi.display());
    if std::env::var_os("CARGO_FEATURE_PRELOAD").is_none() {
        return;
    }
    let mut names = Vec::new();
    let mut files: Vec<_> = fs::read_dir(&hooks).expect("src/hooks").filter_map(|e| e.ok()).map(|e| e.path()).collect();
    files.sort();
    for f in files.iter().filter(|f| f.extension().is_some_and(|x| x == "rs")) {
        exports(&fs::read_to_string(f).expect("a hook file"), &mut names);
        println!("cargo:rerun-if-changed={}", f.display());
    }
    for line in fs::read_to_string(&capi).expect("src/capi.rs").lines() {
        if line.contains("extern \"C\" fn opencoro_") {
            if let Some(n) = fn_name(line) {
                names.push(n.to_string());
            }
        }
    }
    // The debug list's statics, for debuggers (`coro/debug.rs`).
    let debug = root.join("src/coro/debug.rs");
    println!("cargo:rerun-if-changed={}", debug.display());
    for line in fs::read_to_string(&debug).expect("src/coro/debug.rs").lines() {
        if let Some(rest) = line.trim_start().strip_prefix("pub static opencoro_") {
            let n: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            names.push(format!("opencoro_{n}"));
        }
    }
    names.sort();
    names.dedup();
    assert!(names.len() > 100, "build.rs: only {} exports found in the hook tables", names.len());
    let mut map = String::from("/* Made by build.rs from the hook tables and the C API. */\n{\n  global:\n");
    for n in &names {
        map.push_str(&format!("    {n};\n"));
    }
    map.push_str("  local: *;\n};\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("opencoro.map");
    fs::write(&out, map).expect("writing the export list");
    println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={}", out.display());
    // The name programs linked with -lopencoro record (make install adds
    // the libopencoro.so.0 link; the Makefile's `lib` does in the build).
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libopencoro.so.0");
    // The unwinder from libgcc's static archive, found before std's
    // `-lgcc_s`: the library then needs no libgcc_s.so.1, whose loading
    // and CPU probing cost every process that inherits the preload about
    // 0.15 ms (`hooks::unwinder_ready` makes this copy ready for C++
    // exceptions that pass through a hook).
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let archive = std::process::Command::new(&cc).arg("-print-file-name=libgcc_eh.a").output();
    let dir = archive.ok().map(|o| std::path::PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())).filter(|p| p.is_absolute());
    if let Some(dir) = dir.as_deref().and_then(Path::parent) {
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-lib=static=gcc_eh");
    }
}
