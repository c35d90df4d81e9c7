//! Configuration, read once from `OPENCORO_*` environment variables.
//!
//! Owner: this module. [`init`] is called by the library constructor (or
//! lazily by the first API call when the library was `dlopen`ed) and writes
//! the one global [`Config`]; everything else only reads it through [`get`].
//! A bad value prints one `opencoro:` line and the default is used.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// Default stack size of a coroutine started by `opencoro_spawn(.., 0)`.
/// 256 KiB: enough for glibc's deep paths (getaddrinfo, printf of floats),
/// small enough that 100k coroutines reserve only ~25 GiB of address space,
/// of which only touched pages cost memory.
pub const DEFAULT_STACK_SIZE: usize = 256 * 1024;

/// Spare threads for hand-off by default (each is started, with its
/// poller, when first needed).
pub const DEFAULT_SPARES: usize = 8;

/// Smallest accepted stack size.
pub const MIN_STACK_SIZE: usize = 16 * 1024;

#[derive(Debug, Clone)]
pub struct Config {
    /// `OPENCORO_WORKERS`: number of worker threads (default:
    /// [`default_workers`], lowered to [`cgroup_workers`] at the start).
    pub workers: usize,
    /// `OPENCORO_WORKERS` was given (the cgroup's quota does not lower it).
    pub workers_explicit: bool,
    /// `OPENCORO_STACK_SIZE`: default coroutine stack size in bytes.
    pub stack_size: usize,
    /// `OPENCORO_GUARDED_STACKS`: how many stacks may have a guard page of
    /// their own (each costs two kernel mappings). Past it, stacks are carved
    /// from shared mappings and protected by a canary and depth checks.
    /// `OPENCORO_GUARDED_STACKS`; None: [`default_guarded_stacks`].
    pub guarded_stacks: Option<usize>,
    /// `OPENCORO_BLOCKING_THREADS`: most threads of the pool that runs calls
    /// epoll cannot make non-blocking (regular-file I/O, fsync, open).
    pub blocking_threads: usize,
    /// `OPENCORO_LOG`: `debug` traces start-up and scheduling.
    pub debug: bool,
    /// `OPENCORO_THREADS`: `green` (default) makes `pthread_create` start a
    /// green thread on a coroutine; `os` keeps real OS threads.
    pub green_threads: bool,
    /// `OPENCORO_PREEMPT`: preempt coroutines that run longer than their
    /// slice (SIGURG from the monitor).
    pub preempt: bool,
    /// `OPENCORO_SLICE_MS`: the time slice before preemption.
    pub slice_ms: u64,
    /// `OPENCORO_HANDOFF_MS`: how long a worker may sit in one call the
    /// runtime could not convert before a spare thread takes over its work.
    pub handoff_ms: u64,
    /// `OPENCORO_MAX_THREADS`: workers plus spare threads for hand-off.
    pub max_threads: usize,
    /// `OPENCORO=0` turns the runtime off: every hook calls straight through
    /// and `main` runs as without the library.
    pub enabled: bool,
    /// `OPENCORO_INHERIT=0`: the library takes itself out of `LD_PRELOAD`
    /// at start, so the programs this one execs run without it.
    pub inherit: bool,
    /// `OPENCORO_STATS=1`: print the runtime's statistics at exit.
    pub stats: bool,
    /// `OPENCORO_STATS=<interval>` (`1s`, `500ms`): also every so many
    /// milliseconds (0: only at exit).
    pub stats_every_ms: u64,
    /// `OPENCORO_STATS_FORMAT=json`: each report is one JSON object a line.
    pub stats_json: bool,
    /// `OPENCORO_DUMP_SIGNAL`: the signal that prints every coroutine to
    /// stderr (0: none).
    pub dump_signal: i32,
    /// `OPENCORO_WARN_OS_THREADS`: one line for each `pthread_create` of a
    /// coroutine that makes an OS thread, with the reason (the test suites
    /// set it, so that a silent fallback fails them).
    pub warn_os_threads: bool,
    /// `OPENCORO_SPAWN_OWN_TLS`: C API coroutines get descriptors of their
    /// own and move between workers (1), or share their worker's and stay
    /// on it (0: cheaper to make, but a blocked worker holds them).
    pub spawn_own_tls: bool,
    /// `OPENCORO_LISTEN_BACKLOG`: the least backlog `listen` passes on (0:
    /// the program's own). An accepting green thread runs later than an
    /// OS thread would, while the kernel drops handshakes a full queue has
    /// no room for.
    pub listen_backlog: i32,
}

static CONFIG: OnceLock<Config> = OnceLock::new();

/// Every environment variable the library or its launcher reads: name,
/// default, what it does. One table for the launcher's `--help`
/// (`OPENCORO_PRINT=switches`) and for the check of misspelled names; the
/// README's table says the same at more length.
pub const SWITCHES: &[(&str, &str, &str)] = &[
    ("OPENCORO", "1", "0 turns the runtime off: main runs as without the library, every hook calls libc directly"),
    ("OPENCORO_WORKERS", "CPUs in the affinity mask, or the cgroup quota if lower", "worker threads (1 to 1024); the main thread is worker 0"),
    ("OPENCORO_STACK_SIZE", "256K", "stack of a coroutine spawned with size 0 (16K to 4G); main's is the main thread's own"),
    ("OPENCORO_GUARDED_STACKS", "vm.max_map_count / 4", "how many stacks get a guard region of their own"),
    ("OPENCORO_BLOCKING_THREADS", "1024", "most threads of the pool for regular-file I/O, fsync, open (1 to 65536)"),
    ("OPENCORO_THREADS", "green", "os makes pthread_create start real OS threads"),
    ("OPENCORO_PREEMPT", "1", "0 turns preemption off (no monitor thread, no SIGURG handler)"),
    ("OPENCORO_SLICE_MS", "10", "how long a coroutine may run while others wait (1 to 10000 ms)"),
    ("OPENCORO_HANDOFF_MS", "20", "how long a worker may sit in an unconverted call before a spare stands in (1 to 60000 ms)"),
    ("OPENCORO_MAX_THREADS", "workers + 8", "workers plus spare threads for hand-off"),
    ("OPENCORO_LISTEN_BACKLOG", "128", "the least backlog listen passes to the kernel (0 keeps the program's own)"),
    ("OPENCORO_LOG", "off", "debug traces start-up and scheduling decisions to stderr"),
    ("OPENCORO_STATS", "0", "1 prints the runtime's statistics to stderr at exit; an interval (1s, 500ms) also every so often"),
    ("OPENCORO_STATS_FORMAT", "text", "json: each statistics report is one JSON object a line"),
    ("OPENCORO_DUMP_SIGNAL", "unset", "a signal (SIGQUIT, SIGUSR2, 3...) on which every coroutine is listed to stderr"),
    ("OPENCORO_SPAWN_OWN_TLS", "1", "0: C API coroutines share their worker's thread-locals and stay on it"),
    ("OPENCORO_WARN_OS_THREADS", "0", "1 prints a line for each pthread_create that makes an OS thread"),
    ("OPENCORO_INHERIT", "1", "0 takes the library out of LD_PRELOAD: programs this one runs do not get it"),
    ("OPENCORO_PRINT", "unset", "switches or version: print that to stdout at start-up and exit 0 (the launcher's --help, --version)"),
    ("OPENCORO_LIB", "beside the launcher", "the library the launcher preloads (read by the launcher only)"),
];

/// Switches that act only once the process has company (workers, stacks,
/// green threads, preemption). The front library (`stub/`, which reads
/// this list through build.rs) loads the runtime at start-up when any
/// other `OPENCORO_*` variable is set (`OPENCORO_STATS`, `OPENCORO_LOG`,
/// `OPENCORO_DUMP_SIGNAL`, `OPENCORO_INHERIT`, `OPENCORO_PRINT`, a
/// misspelling to warn about), and otherwise at the first company.
pub const READ_AT_COMPANY: &[&str] = &[
    "OPENCORO_WORKERS",
    "OPENCORO_STACK_SIZE",
    "OPENCORO_GUARDED_STACKS",
    "OPENCORO_BLOCKING_THREADS",
    "OPENCORO_THREADS",
    "OPENCORO_PREEMPT",
    "OPENCORO_SLICE_MS",
    "OPENCORO_HANDOFF_MS",
    "OPENCORO_MAX_THREADS",
    "OPENCORO_LISTEN_BACKLOG",
    "OPENCORO_STATS_FORMAT",
    "OPENCORO_SPAWN_OWN_TLS",
    "OPENCORO_WARN_OS_THREADS",
    "OPENCORO_LIB",
];

/// The library's version and the commit it was built from, NUL-terminated
/// for the C API (`opencoro_version`).
pub const VERSION_NUL: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("OPENCORO_COMMIT"), ")\0");

/// The library's version and the commit it was built from.
pub fn version() -> &'static str {
    VERSION_NUL.trim_end_matches('\0')
}

/// `OPENCORO_PRINT`: prints the switch table or the version to stdout and
/// ends the process (status 0) before the program starts; anything else
/// set there is one warning line.
fn print_and_exit(what: &str) {
    let text = match what {
        "switches" => {
            let mut t = String::new();
            for (name, default, doc) in SWITCHES {
                t.push_str(&format!("  {name:<26} {doc} (default: {default})\n"));
            }
            t
        }
        "version" => format!("opencoro {}\n", version()),
        other => {
            crate::diag!("OPENCORO_PRINT={other:?} is not valid (expected `switches` or `version`); ignored");
            return;
        }
    };
    crate::sys::raw_write_all(1, text.as_bytes());
    // SAFETY: _exit has no preconditions; nothing of the program has run.
    unsafe { libc::_exit(0) }
}

/// One line for each `OPENCORO_*` variable in the environment that is no
/// switch but within two edits of one (a misspelling would otherwise be
/// ignored without a word); names further off are someone else's.
fn warn_misspelled(names: impl Iterator<Item = String>) {
    for name in names {
        if SWITCHES.iter().any(|(s, _, _)| *s == name) {
            continue;
        }
        if let Some((near, _, _)) = SWITCHES.iter().find(|(s, _, _)| edits(s, &name) <= 2) {
            crate::diag!("{name} is not a switch of opencoro; did you mean {near}? (it is ignored)");
        }
    }
}

/// The names of the environment's `OPENCORO*` variables (the others are
/// only looked at, not copied: every process under the library pays this).
fn opencoro_names() -> Vec<String> {
    extern "C" {
        static environ: *const *const libc::c_char;
    }
    let mut names = Vec::new();
    // SAFETY: the process's environment: a null-terminated array of C
    // strings; read at start-up, in the constructor, before any thread.
    unsafe {
        let mut p = environ;
        while !p.is_null() && !(*p).is_null() {
            let e = std::ffi::CStr::from_ptr(*p).to_bytes();
            if e.starts_with(b"OPENCORO") {
                let name = e.split(|&b| b == b'=').next().unwrap_or(e);
                names.push(String::from_utf8_lossy(name).into_owned());
            }
            p = p.add(1);
        }
    }
    names
}

/// The edit distance of two ASCII names (insertions, deletions, changes).
fn edits(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut diag = row[0];
        row[0] = i;
        for j in 1..=b.len() {
            let up = row[j];
            row[j] = (up + 1).min(row[j - 1] + 1).min(diag + usize::from(a[i - 1] != b[j - 1]));
            diag = up;
        }
    }
    row[b.len()]
}

/// Set by the library's constructor once the configuration has been read
/// and the layers are wired, when the runtime is on (the hooks call
/// straight through until then: the configuration itself opens files).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Is the runtime on (configuration read, `OPENCORO` not 0, not a Go
/// program)?
#[inline]
pub(crate) fn active() -> bool {
    ACTIVE.load(Ordering::Acquire)
}

/// Turns the hooks on or off: on (if `OPENCORO` allows) by the library's
/// constructor once it has wired the layers together (`lib.rs`), off for
/// good in a Go program (see `foreign`).
pub(crate) fn set_active(on: bool) {
    ACTIVE.store(on, Ordering::Release);
}

/// Reads the environment once. Safe to call more than once.
pub fn init() -> &'static Config {
    CONFIG.get_or_init(|| {
        // In secure-execution mode (setuid or setgid, file capabilities)
        // the environment is the invoking user's, not the program's owner's:
        // the switches keep their defaults, as glibc ignores `MALLOC_*`.
        let secure = secure_execution();
        let c = from_env(|k| if secure { None } else { std::env::var(k).ok() });
        crate::log::DEBUG.store(c.debug, core::sync::atomic::Ordering::Relaxed);
        if !secure {
            if let Ok(what) = std::env::var("OPENCORO_PRINT") {
                print_and_exit(&what);
            }
            warn_misspelled(opencoro_names().into_iter());
        }
        crate::debug!(
            "config: workers={} stack_size={} guarded_stacks={:?} enabled={}",
            c.workers,
            c.stack_size,
            c.guarded_stacks,
            c.enabled
        );
        c
    })
}

/// Is the process in secure-execution mode (`AT_SECURE`)?
fn secure_execution() -> bool {
    // SAFETY: getauxval has no preconditions.
    unsafe { libc::getauxval(libc::AT_SECURE) != 0 }
}

/// The configuration (initialising it on first use).
#[inline]
pub fn get() -> &'static Config {
    match CONFIG.get() {
        Some(c) => c,
        None => init(),
    }
}

/// Builds a configuration from a variable lookup; bad values are reported and
/// replaced by defaults. Separate from [`init`] so tests can drive it.
pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Config {
    // Each worker's poller takes two fds: at most a quarter of the soft fd
    // limit goes to them, so that the program keeps its fds (a count the
    // limit cannot hold is refused here, not met later as an abort).
    let fd_room = (crate::sys::nofile().map_or(usize::MAX, |(soft, _)| soft) / 8).max(1);
    let enabled = parse_switch(&var, "OPENCORO", true);
    // The CPUs and the cgroup's quota are not read with the runtime off.
    let cpus = if enabled { default_workers() } else { 1 };
    let workers_explicit = var("OPENCORO_WORKERS").is_some();
    let workers = parse(&var, "OPENCORO_WORKERS", cpus.min(fd_room), |s| {
        s.parse::<usize>().ok().filter(|&n| (1..=1024).contains(&n) && n <= fd_room)
    }, &format!("a whole number from 1 to {}, two fds each within a quarter of the fd limit", fd_room.min(1024)));
    let stack_size = parse(&var, "OPENCORO_STACK_SIZE", DEFAULT_STACK_SIZE, |s| {
        parse_size(s).filter(|&n| (MIN_STACK_SIZE..=(1 << 32)).contains(&n))
    }, "a size from 16K to 4G, such as 262144, 256K or 8M");
    // None: the default, read from the kernel when a second stack is made.
    let guarded_stacks = parse(&var, "OPENCORO_GUARDED_STACKS", OrQuarterOfMapCount(None), |s| s.parse::<usize>().ok().map(|n| OrQuarterOfMapCount(Some(n))), "a whole number").0;
    let blocking_threads = parse(&var, "OPENCORO_BLOCKING_THREADS", 1024, |s| {
        s.parse::<usize>().ok().filter(|&n| (1..=65536).contains(&n))
    }, "a whole number from 1 to 65536");
    let debug = parse(&var, "OPENCORO_LOG", false, |s| match s {
        "debug" => Some(true),
        "off" | "" | "warn" => Some(false),
        _ => None,
    }, "`debug` or `off`");
    let green_threads = parse(&var, "OPENCORO_THREADS", true, |s| match s {
        "green" => Some(true),
        "os" => Some(false),
        _ => None,
    }, "`green` or `os`");
    let preempt = parse_switch(&var, "OPENCORO_PREEMPT", true);
    let slice_ms = parse(&var, "OPENCORO_SLICE_MS", 10, |s| s.parse::<u64>().ok().filter(|&n| (1..=10_000).contains(&n)), "a whole number of milliseconds from 1 to 10000");
    let handoff_ms = parse(&var, "OPENCORO_HANDOFF_MS", 20, |s| s.parse::<u64>().ok().filter(|&n| (1..=60_000).contains(&n)), "a whole number of milliseconds from 1 to 60000");
    let max_threads = parse(&var, "OPENCORO_MAX_THREADS", workers + DEFAULT_SPARES, |s| {
        s.parse::<usize>().ok().filter(|&n| (workers..=workers + 1024).contains(&n))
    }, "a whole number, at least OPENCORO_WORKERS");
    let inherit = parse_switch(&var, "OPENCORO_INHERIT", true);
    // 0: off; 1: at exit only; an interval (at least 10 ms): also that often.
    let stats_setting = parse(&var, "OPENCORO_STATS", 0u64, |s| match s {
        "0" | "off" => Some(0),
        "1" | "on" => Some(1),
        _ => parse_interval_ms(s),
    }, "0, 1, or an interval such as 1s or 500ms");
    let (stats, stats_every_ms) = (stats_setting != 0, if stats_setting > 1 { stats_setting } else { 0 });
    let dump_signal = parse(&var, "OPENCORO_DUMP_SIGNAL", 0, parse_signal, "a signal such as SIGQUIT or 3 (not SIGKILL, SIGSTOP or SIGURG)");
    let stats_json = parse(&var, "OPENCORO_STATS_FORMAT", false, |s| match s {
        "json" => Some(true),
        "text" | "" => Some(false),
        _ => None,
    }, "`text` or `json`");
    let warn_os_threads = parse_switch(&var, "OPENCORO_WARN_OS_THREADS", false);
    let spawn_own_tls = parse_switch(&var, "OPENCORO_SPAWN_OWN_TLS", true);
    let listen_backlog = parse(&var, "OPENCORO_LISTEN_BACKLOG", 128, |s| s.parse::<i32>().ok().filter(|&n| (0..=65_535).contains(&n)), "a whole number from 0 to 65535");
    Config {
        workers,
        workers_explicit,
        stack_size,
        guarded_stacks,
        blocking_threads,
        debug,
        green_threads,
        preempt,
        slice_ms,
        handoff_ms,
        max_threads,
        enabled,
        inherit,
        stats,
        stats_every_ms,
        stats_json,
        dump_signal,
        warn_os_threads,
        spawn_own_tls,
        listen_backlog,
    }
}

/// An on/off switch: `1`/`on` or `0`/`off`.
fn parse_switch(var: &impl Fn(&str) -> Option<String>, name: &str, default: bool) -> bool {
    parse(var, name, default, |s| match s {
        "1" | "on" => Some(true),
        "0" | "off" => Some(false),
        _ => None,
    }, "0 or 1")
}

fn parse<T: Copy + std::fmt::Display>(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
    f: impl Fn(&str) -> Option<T>,
    expected: &str,
) -> T {
    match var(name) {
        None => default,
        Some(raw) => match f(raw.trim()) {
            Some(v) => v,
            None => {
                crate::diag!("{name}={raw:?} is not valid (expected {expected}); using the default {default}");
                default
            }
        },
    }
}

/// Parses a signal for `OPENCORO_DUMP_SIGNAL`: `SIGQUIT`, `QUIT` or `3`;
/// not one that cannot be caught or that the runtime needs (SIGURG), nor
/// one the kernel sends for a fault.
pub fn parse_signal(s: &str) -> Option<i32> {
    const NAMES: &[(&str, i32)] = &[
        ("HUP", libc::SIGHUP),
        ("INT", libc::SIGINT),
        ("QUIT", libc::SIGQUIT),
        ("USR1", libc::SIGUSR1),
        ("USR2", libc::SIGUSR2),
        ("TERM", libc::SIGTERM),
        ("WINCH", libc::SIGWINCH),
        ("PWR", libc::SIGPWR),
    ];
    let name = s.strip_prefix("SIG").unwrap_or(s);
    let n = match NAMES.iter().find(|(n, _)| *n == name) {
        Some((_, n)) => *n,
        None => s.parse::<i32>().ok()?,
    };
    let refused = [libc::SIGKILL, libc::SIGSTOP, libc::SIGURG, libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE, libc::SIGTRAP, libc::SIGABRT];
    ((1..=64).contains(&n) && !refused.contains(&n)).then_some(n)
}

/// Parses an interval of 10 ms to a day: `250ms`, `1s`, `2m`.
pub fn parse_interval_ms(s: &str) -> Option<u64> {
    let (digits, mult) = if let Some(d) = s.strip_suffix("ms") {
        (d, 1)
    } else if let Some(d) = s.strip_suffix('s') {
        (d, 1000)
    } else if let Some(d) = s.strip_suffix('m') {
        (d, 60_000)
    } else {
        return None;
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(mult).filter(|ms| (10..=86_400_000).contains(ms))
}

/// Parses `4096`, `64K`, `8M`, `1G` (binary units, case-insensitive).
pub fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let (digits, mult) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 1usize << 10),
        b'm' | b'M' => (&s[..s.len() - 1], 1 << 20),
        b'g' | b'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    digits.parse::<usize>().ok()?.checked_mul(mult)
}

/// The default worker count as far as the configuration knows it: the
/// CPUs in the calling thread's affinity mask. The scheduler lowers it to
/// the cgroup's CPU quota ([`cgroup_workers`]) when its threads start, so
/// that a process that never has company reads no cgroup files.
pub fn default_workers() -> usize {
    affinity_cpus()
}

/// The CPUs the process's cgroup allows (cgroup v2 `cpu.max`, v1
/// `cpu.cfs_quota_us`, of its group or any ancestor), the quota rounded up
/// as Go's runtime does since 1.25; None without a quota.
pub fn cgroup_workers() -> Option<usize> {
    let c = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    cgroup_cpu_limit(std::path::Path::new("/sys/fs/cgroup"), &c)
}

/// The smallest CPU quota (rounded up, at least 1) of the group named in
/// `proc_cgroup` (the text of `/proc/self/cgroup`) and its ancestors, under
/// the cgroup file system mounted at `root`; None without a quota.
pub fn cgroup_cpu_limit(root: &std::path::Path, proc_cgroup: &str) -> Option<usize> {
    let read = |p: std::path::PathBuf| std::fs::read_to_string(p).ok();
    let mut best: Option<usize> = None;
    let mut note = |quota: i64, period: i64| {
        if quota > 0 && period > 0 {
            let n = ((quota + period - 1) / period).max(1) as usize;
            best = Some(best.map_or(n, |b| b.min(n)));
        }
    };
    for line in proc_cgroup.lines() {
        let mut f = line.splitn(3, ':');
        let (Some(_), Some(ctrl), Some(path)) = (f.next(), f.next(), f.next()) else { continue };
        let v2 = ctrl.is_empty();
        if !v2 && !ctrl.split(',').any(|c| c == "cpu") {
            continue;
        }
        let base = if v2 { root.to_path_buf() } else { root.join("cpu") };
        let mut dir = std::path::PathBuf::from(path.trim_start_matches('/'));
        loop {
            let d = base.join(&dir);
            if v2 {
                // "max 100000" or "150000 100000"
                if let Some(t) = read(d.join("cpu.max")) {
                    let mut w = t.split_whitespace();
                    if let (Some(q), Some(p)) = (w.next(), w.next()) {
                        note(q.parse().unwrap_or(-1), p.parse().unwrap_or(-1));
                    }
                }
            } else if let (Some(q), Some(p)) = (read(d.join("cpu.cfs_quota_us")), read(d.join("cpu.cfs_period_us"))) {
                note(q.trim().parse().unwrap_or(-1), p.trim().parse().unwrap_or(-1));
            }
            if !dir.pop() {
                break;
            }
        }
    }
    best
}

/// CPUs in the calling thread's affinity mask (at least 1).
fn affinity_cpus() -> usize {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity fills it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0 {
            let n = libc::CPU_COUNT(&set);
            if n > 0 {
                return n as usize;
            }
        }
    }
    1
}

/// A number, or (None) the default of `OPENCORO_GUARDED_STACKS`.
#[derive(Clone, Copy)]
struct OrQuarterOfMapCount(Option<usize>);

impl std::fmt::Display for OrQuarterOfMapCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(n) => write!(f, "{n}"),
            None => f.write_str("(a quarter of vm.max_map_count)"),
        }
    }
}

/// A quarter of `vm.max_map_count`: guarded stacks then use at most half of
/// the process's mapping budget, leaving the rest to malloc, libraries and
/// the program itself.
pub fn default_guarded_stacks() -> usize {
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(65530)
        / 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("64k"), Some(65536));
        assert_eq!(parse_size("8M"), Some(8 << 20));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size(""), None);
    }

    #[test]
    fn stats_take_an_interval() {
        let c = |v: &str| {
            let v = v.to_string();
            from_env(move |k| (k == "OPENCORO_STATS").then(|| v.clone()))
        };
        assert_eq!((c("1").stats, c("1").stats_every_ms), (true, 0));
        assert_eq!((c("0").stats, c("250ms").stats_every_ms, c("2s").stats_every_ms), (false, 250, 2000));
        assert!(!c("fast").stats, "a bad value keeps the default (off)");
        assert_eq!(parse_interval_ms("5ms"), None, "below 10 ms");
    }

    #[test]
    fn cgroup_quota_limits_workers() {
        let root = std::env::temp_dir().join(format!("opencoro-cgroup-{}", std::process::id()));
        let w = |p: &str, t: &str| {
            let f = root.join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, t).unwrap();
        };
        // v2: the group's own quota (1.5 CPUs: 2) and a parent's (3)
        w("a/b/cpu.max", "150000 100000\n");
        w("a/cpu.max", "300000 100000\n");
        w("cpu.max", "max 100000\n");
        assert_eq!(cgroup_cpu_limit(&root, "0::/a/b\n"), Some(2));
        // v1: the cpu controller's files; a quota of -1 is none
        w("cpu/x/cpu.cfs_quota_us", "50000\n");
        w("cpu/x/cpu.cfs_period_us", "100000\n");
        w("cpu/cpu.cfs_quota_us", "-1\n");
        w("cpu/cpu.cfs_period_us", "100000\n");
        assert_eq!(cgroup_cpu_limit(&root, "4:memory:/m\n1:cpu,cpuacct:/x\n0::/\n"), Some(1));
        assert_eq!(cgroup_cpu_limit(&root, "1:cpu:/\n"), None, "no quota");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn dump_signals_parse() {
        assert_eq!(parse_signal("SIGQUIT"), Some(libc::SIGQUIT));
        assert_eq!(parse_signal("USR2"), Some(libc::SIGUSR2));
        assert_eq!(parse_signal("3"), Some(3));
        assert_eq!(parse_signal("SIGKILL"), None);
        assert_eq!(parse_signal("23"), None, "SIGURG is the runtime's");
        assert_eq!(parse_signal("x"), None);
    }

    #[test]
    fn switches_read_at_company_are_switches() {
        for name in READ_AT_COMPANY {
            assert!(SWITCHES.iter().any(|(n, _, _)| n == name), "{name} is not in SWITCHES");
        }
    }

    #[test]
    fn misspellings_are_near_a_switch() {
        assert_eq!(edits("OPENCORO_WORKERS", "OPENCORO_WORKRS"), 1);
        assert_eq!(edits("OPENCORO_LOG", "OPENCORO_ROOT"), 3);
    }

    #[test]
    fn bad_values_fall_back_to_defaults() {
        let c = from_env(|k| match k {
            "OPENCORO_WORKERS" => Some("zero".into()),
            "OPENCORO_STACK_SIZE" => Some("1".into()),
            _ => None,
        });
        assert_eq!(c.workers, default_workers());
        assert_eq!(c.stack_size, DEFAULT_STACK_SIZE);
        let c = from_env(|k| match k {
            "OPENCORO_WORKERS" => Some("3".into()),
            "OPENCORO_STACK_SIZE" => Some("64K".into()),
            "OPENCORO" => Some("0".into()),
            "OPENCORO_THREADS" => Some("os".into()),
            _ => None,
        });
        assert_eq!((c.workers, c.stack_size, c.enabled, c.green_threads), (3, 65536, false, false));
    }
}
