//! Links the runtime (libopencoro_runtime.so) with an export list made
//! from the hook tables, so that only the C API and the interposed libc
//! symbols leave it and there is no third list to keep in step, and builds
//! the front library that programs preload (libopencoro.so, from
//! `stub/opencoro_stub.c`) with one jump for each of the same functions.
//! The list names:
//!
//! - every hook of a `hooks!` table in `src/hooks/*.rs` (a line
//!   `    <kind> fn <name>(` inside the table);
//! - the hooks written out by hand there (the function after a
//!   `cfg_attr(feature = "preload", no_mangle)` line);
//! - the C API of `src/capi.rs` (`extern "C" fn opencoro_*`);
//! - for the runtime only: the front library's entry points
//!   (`src/front.rs`) and the debug list's statics.
//!
//! `scripts/check-exports.sh` reads the same tables its own way and checks
//! that both built libraries export exactly them. (Without the `preload`
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

/// How the front library serves a function until the runtime runs.
#[derive(Clone, Copy)]
enum Front {
    /// libc's function (the runtime serves the call only once it runs).
    Next,
    /// Loads the runtime first: the call gives the process company
    /// (`company` hooks) or the runtime's books start at the first call
    /// (`always` hooks).
    Load,
    /// The C API: loads the runtime first, whatever it does then.
    Api,
}

/// `always` hooks whose books the runtime rebuilds when it is loaded
/// (`src/front.rs`: the handlers installed and the pthread keys created
/// until then), or needs none before it runs (vfork's protect a running
/// runtime from a child that shares its memory): the front library sends
/// them to libc until the runtime runs, so that `grep` or `bash` (which
/// install signal handlers) never load it.
const REBUILT: [&str; 6] = ["sigaction", "signal", "bsd_signal", "pthread_key_create", "pthread_key_delete", "vfork"];

/// Other hooks that load the runtime first: `listen` gives the socket at
/// least `OPENCORO_LISTEN_BACKLOG`, which a server that listens in `main`
/// before it starts its threads needs (its green threads accept later than
/// OS threads would).
const LOAD_TOO: [&str; 1] = ["listen"];

/// The exported functions one source file declares, with their kind.
fn exports(src: &str, names: &mut Vec<(String, Front)>) {
    let mut lines = src.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        // A table line: indented, `<kind> fn <name>(`.
        if line.len() > t.len() {
            if let Some((kind, rest)) = t.split_once(' ') {
                if KINDS.contains(&kind) && rest.starts_with("fn ") {
                    if let Some(n) = fn_name(rest) {
                        let front = if kind == "company" || (kind == "always" && !REBUILT.contains(&n)) || LOAD_TOO.contains(&n) { Front::Load } else { Front::Next };
                        names.push((n.to_string(), front));
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
                        names.push((n.to_string(), Front::Next));
                    }
                }
            }
        }
    }
}

/// The functions of `path` whose line contains `marker` (`extern "C" fn
/// opencoro_`: the C API, the front library's entry points).
fn c_functions(path: &Path, marker: &str) -> Vec<String> {
    println!("cargo:rerun-if-changed={}", path.display());
    let src = fs::read_to_string(path).unwrap_or_else(|e| panic!("build.rs: {}: {e}", path.display()));
    src.lines().filter(|l| l.contains(marker)).filter_map(fn_name).map(str::to_string).collect()
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
    names.extend(c_functions(&capi, "extern \"C\" fn opencoro_").into_iter().map(|n| (n, Front::Api)));
    names.sort_by(|a, b| a.0.cmp(&b.0));
    names.dedup_by(|a, b| a.0 == b.0);
    assert!(names.len() > 100, "build.rs: only {} exports found in the hook tables", names.len());
    // The runtime's own: the front library's entry points (`front.rs`) and
    // the debug list's statics, for debuggers (`coro/debug.rs`).
    let mut own = c_functions(&root.join("src/front.rs"), "extern \"C\" fn opencoro_rt_");
    let debug = root.join("src/coro/debug.rs");
    println!("cargo:rerun-if-changed={}", debug.display());
    for line in fs::read_to_string(&debug).expect("src/coro/debug.rs").lines() {
        if let Some(rest) = line.trim_start().strip_prefix("pub static opencoro_") {
            let n: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            own.push(format!("opencoro_{n}"));
        }
    }
    let mut map = String::from("/* Made by build.rs from the hook tables and the C API. */\n{\n  global:\n");
    for n in names.iter().map(|(n, _)| n).chain(&own) {
        map.push_str(&format!("    {n};\n"));
    }
    map.push_str("  local: *;\n};\n");
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let out = out_dir.join("opencoro.map");
    fs::write(&out, map).expect("writing the export list");
    println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={}", out.display());
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libopencoro_runtime.so");
    front_library(root, &out_dir, &names);
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

/// Builds the front library, libopencoro.so, beside the runtime in the
/// profile's directory (`target/release`): `stub/opencoro_stub.c` with
/// the table of functions (`stub_table.h`: the C API and the interposed
/// libc functions, `__libc_start_main` being the front library's own).
fn front_library(root: &Path, out_dir: &Path, names: &[(String, Front)]) {
    let stub = root.join("stub/opencoro_stub.c");
    println!("cargo:rerun-if-changed={}", stub.display());
    let mut table = String::from("/* Made by build.rs from the hook tables and the C API: OC_HOOK(index, name, kind). */\n");
    for (i, (n, front)) in names.iter().filter(|(n, _)| n != "__libc_start_main").enumerate() {
        let kind = match front {
            Front::Next => "NEXT",
            Front::Load => "LOAD",
            Front::Api => "API",
        };
        table.push_str(&format!("OC_HOOK({i}, {n}, {kind})\n"));
    }
    fs::write(out_dir.join("stub_table.h"), table).expect("writing stub_table.h");
    // Every switch (`config::SWITCHES`), and whether it acts only once the
    // process has company (`config::READ_AT_COMPANY`): OC_SWITCH("NAME",
    // late) each.
    let config = root.join("src/config.rs");
    println!("cargo:rerun-if-changed={}", config.display());
    let src = fs::read_to_string(&config).expect("src/config.rs");
    let names_of = |table: &str| -> Vec<String> {
        let list = src.split(&format!("pub const {table}")).nth(1).and_then(|r| r.split("];").next()).unwrap_or("");
        list.lines().filter_map(|l| l.trim_start().trim_start_matches('(').strip_prefix('"')?.split('"').next().map(str::to_string)).collect()
    };
    let (switches, late) = (names_of("SWITCHES"), names_of("READ_AT_COMPANY"));
    assert!(switches.len() >= 10 && late.len() >= 5 && late.iter().all(|n| switches.contains(n)), "build.rs: cannot read config::SWITCHES and config::READ_AT_COMPANY");
    let table: String = switches.iter().map(|n| format!("OC_SWITCH(\"{n}\", {})\n", u8::from(late.contains(n)))).collect();
    fs::write(out_dir.join("stub_switches.h"), table).expect("writing stub_switches.h");
    let built = out_dir.join("libopencoro.so");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    // Two segments instead of four (`noseparate-code`) and no RELRO
    // `mprotect`: the loader's work for it is what every process under the
    // library pays (/bin/true, 3,000 runs in turn: 1.09x native with the
    // defaults, 1.05x so, an empty C library 1.05x). Its jump slots are
    // writable by design, so RELRO would guard little here.
    let status = std::process::Command::new(&cc)
        .args(["-shared", "-fPIC", "-O2", "-g", "-Wall", "-Wextra", "-Werror", "-fno-strict-aliasing", "-Wl,-soname,libopencoro.so.0", "-Wl,-z,noseparate-code", "-Wl,-z,norelro", "-I"])
        .arg(out_dir)
        .arg("-o")
        .arg(&built)
        .arg(&stub)
        .status()
        .expect("running the C compiler for the front library");
    assert!(status.success(), "build.rs: the front library (stub/opencoro_stub.c) did not compile");
    // The profile's directory: OUT_DIR is <profile>/build/<package>-<hash>/out.
    let profile = out_dir.ancestors().nth(3).expect("the profile directory");
    let dest = profile.join("libopencoro.so");
    // A new file (not a rewrite in place): processes running the old one
    // keep their mapping.
    let tmp = profile.join(".libopencoro.so.tmp");
    fs::copy(&built, &tmp).expect("copying the front library");
    fs::rename(&tmp, &dest).expect("placing the front library");
}
