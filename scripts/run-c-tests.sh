#!/usr/bin/env bash
# Runs the C and C++ tests in tests/c/ under LD_PRELOAD=libopencoro.so.
#
#   scripts/run-c-tests.sh [NAME...]     (default: every tests/c/*.c, *.cpp)
#
# Each test NAME.c / NAME.cpp is compiled into tests/c/build/NAME, run with a
# timeout, and its stdout compared with tests/c/NAME.out; its exit status must
# match. Prints exactly one line per test, "PASS NAME" or "FAIL NAME: reason"
# (followed, on failure, by a few indented lines of detail), and exits 0 even
# when tests fail: scripts/check.sh counts the lines.
#
# Header comments in the source (anywhere at the start of a line) drive the run:
#   // expect-status: N           exit status as a shell reports it (default 0;
#                                 a death by signal S is 128+S, abort is 134)
#   // env: K=V K2=V2             extra environment (may repeat)
#   // args: a "b c"              arguments (shell quoting)
#   // expect-stderr: TEXT        stderr must contain TEXT (may repeat)
#   // expect-stderr-count: N TEXT  exactly N lines of stderr contain TEXT
#   // stderr: any                allow "opencoro:" lines on stderr (otherwise
#                                 a test without expect-stderr* headers fails
#                                 if the runtime printed any diagnostic)
#   // native: same               also run without the library: stdout and
#                                 status must be identical to the preloaded run
#   // timeout: SECONDS           default 30
#   // known-failure: WHY        a behaviour filed as a later issue: reported
#                                 as "XFAIL NAME: WHY" while it fails, and as
#                                 FAIL once it passes (so the header goes)
#   // preload: no                run without LD_PRELOAD
#   // link: no | yes             link with -lopencoro (default: yes when the
#                                 source mentions opencoro_)
#   // ulimit-s: KIB              run with this soft stack limit (ulimit -s)
#   // ulimit-n: N                run with this soft fd limit (ulimit -n)
#
# Every test runs with OPENCORO_LIB set to the absolute path of the library,
# stdin from /dev/null and core dumps disabled.
set -u
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$SELF")/.." || exit 0
ROOT=$PWD
LIBDIR=$ROOT/target/release
LIB=$LIBDIR/libopencoro.so
SRCDIR=tests/c
BUILD=$SRCDIR/build
export OPENCORO_LIB=$LIB
# A coroutine's pthread_create that makes an OS thread says so on stderr,
# which fails a test unless its headers expect it: a silent fallback from
# green threads cannot pass.
export OPENCORO_WARN_OS_THREADS=1
export LC_ALL=C
ulimit -c 0 2>/dev/null

CC=${CC:-gcc}
CXX=${CXX:-g++}

mkdir -p "$BUILD"
WORK=$(mktemp -d -t opencoro-c-tests.XXXXXX) || exit 0
trap 'rm -rf "$WORK"' EXIT

. "$ROOT/scripts/lib.sh"

# Values of header KEY in file $2, one per line.
header() {
    sed -n "s|^//[[:space:]]*$1:[[:space:]]*||p" "$2" | sed 's/[[:space:]]*$//'
}

# run_one OUT ERR PRELOAD(yes/no) -> exit status; uses the test's settings.
# The outer subshell reaps the test, so the shell's own report of a death by
# signal ("Aborted", "Segmentation fault") goes to /dev/null, not our output.
run_one() {
    local out=$1 err=$2 preload=$3
    (
        (
            cd "$ROOT" || exit 125
            if [ -n "$ulimit_s" ]; then
                ulimit -S -s "$ulimit_s" || exit 125
            fi
            if [ -n "$ulimit_n" ]; then
                ulimit -S -n "$ulimit_n" || exit 125
            fi
            unset LD_PRELOAD
            # Only the test gets the library, not env or timeout.
            pre=()
            if [ "$preload" = yes ]; then pre=(LD_PRELOAD="$LIB"); fi
            exec env "${envs[@]}" timeout -k 5 "$tmo" env "${pre[@]}" "$exe" "${args[@]}"
        ) <"/dev/null" >"$out" 2>"$err"
        exit $?
    ) 2>/dev/null
}

tests=()
if [ $# -gt 0 ]; then
    for n in "$@"; do
        n=${n##*/}; n=${n%.c}; n=${n%.cpp}
        if [ -f "$SRCDIR/$n.c" ]; then tests+=("$SRCDIR/$n.c")
        elif [ -f "$SRCDIR/$n.cpp" ]; then tests+=("$SRCDIR/$n.cpp")
        else echo "FAIL $n: no such test"; fi
    done
else
    shopt -s nullglob
    tests=("$SRCDIR"/*.c "$SRCDIR"/*.cpp)
fi

for src in "${tests[@]}"; do
    file=${src##*/}
    name=${file%.*}
    exe=$BUILD/$name
    expected=$SRCDIR/$name.out
    log=$WORK/$name

    if [ ! -f "$LIB" ]; then
        echo "FAIL $name: $LIB is missing (run cargo build --release)"
        continue
    fi
    if [ ! -f "$expected" ]; then
        echo "FAIL $name: no expected output $expected"
        continue
    fi

    # --- settings from the header comments
    status=$(header expect-status "$src" | tail -n1); status=${status:-0}
    tmo=$(header timeout "$src" | tail -n1); tmo=${tmo:-30}
    native=$(header native "$src" | tail -n1)
    preload=$(header preload "$src" | tail -n1); preload=${preload:-yes}
    ulimit_s=$(header ulimit-s "$src" | tail -n1)
    ulimit_n=$(header ulimit-n "$src" | tail -n1)
    stderr_any=$(header stderr "$src" | tail -n1)
    link=$(header link "$src" | tail -n1)
    if [ -z "$link" ]; then
        if grep -q 'opencoro_' "$src"; then link=yes; else link=no; fi
    fi
    envs=()
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        read -r -a words <<<"$line"
        envs+=("${words[@]}")
    done < <(header env "$src")
    args=()
    argline=$(header args "$src" | tail -n1)
    if [ -n "$argline" ]; then
        eval "args=($argline)"
    fi

    # --- compile (skipped when the binary is newer than this script and
    # every file the compiler read, as listed in its dependency file)
    case "$file" in
        *.cpp) cmd=("$CXX" -O2 -std=c++17 -Wall) ;;
        *) cmd=("$CC" -O2 -Wall) ;;
    esac
    cmd+=(-MMD -MF "$exe.d" -o "$exe" "$src" -Ipreload -pthread -ldl)
    if [ "$link" = yes ]; then
        # the library's SONAME is libopencoro.so.0 (`make lib` links it too)
        [ -e "$LIBDIR/libopencoro.so.0" ] || ln -sf libopencoro.so "$LIBDIR/libopencoro.so.0"
        cmd+=(-L"$LIBDIR" -lopencoro -Wl,-rpath,"$LIBDIR")
    fi
    stale=no
    if [ ! -x "$exe" ] || [ ! -f "$exe.d" ] || [ "$SELF" -nt "$exe" ]; then
        stale=yes
    else
        for dep in $(sed -e 's/^[^:]*://' -e 's/\\$//' "$exe.d"); do
            if [ ! -e "$dep" ] || [ "$dep" -nt "$exe" ]; then stale=yes; break; fi
        done
    fi
    if [ "$stale" = yes ]; then
        rm -f "$exe" "$exe.d"
        if ! "${cmd[@]}" >"$log.cc" 2>&1; then
            echo "FAIL $name: does not compile"
            detail "$log.cc" 12
            continue
        fi
    fi

    # --- run under the library
    if [ "$preload" = no ]; then pre=no; else pre=yes; fi
    run_one "$log.stdout" "$log.stderr" "$pre"
    rc=$?

    reasons=()
    show_diff=no
    if [ "$rc" -eq 124 ]; then
        reasons+=("timed out after ${tmo}s")
    elif [ "$rc" != "$status" ]; then
        reasons+=("exit status $rc, expected $status")
    fi
    if ! cmp -s "$log.stdout" "$expected"; then
        reasons+=("stdout differs from $name.out")
        show_diff=yes
    fi
    have_stderr_checks=no
    while IFS= read -r want; do
        [ -n "$want" ] || continue
        have_stderr_checks=yes
        if ! grep -qF -- "$want" "$log.stderr"; then
            reasons+=("stderr lacks \"$want\"")
        fi
    done < <(header expect-stderr "$src")
    while IFS= read -r spec; do
        [ -n "$spec" ] || continue
        have_stderr_checks=yes
        n=${spec%% *}; text=${spec#* }
        got=$(grep -cF -- "$text" "$log.stderr")
        if [ "$got" != "$n" ]; then
            reasons+=("$got stderr lines contain \"$text\", expected $n")
        fi
    done < <(header expect-stderr-count "$src")
    if [ "$have_stderr_checks" = no ] && [ "$stderr_any" != any ] \
        && grep -q '^opencoro:' "$log.stderr"; then
        reasons+=("unexpected opencoro: diagnostic on stderr")
    fi

    # --- the same program without the library
    if [ "$native" = same ]; then
        run_one "$log.nstdout" "$log.nstderr" no
        nrc=$?
        if [ "$nrc" != "$rc" ]; then
            reasons+=("native exit status $nrc differs from $rc")
        fi
        if ! cmp -s "$log.nstdout" "$log.stdout"; then
            reasons+=("native stdout differs")
        fi
    fi

    known=$(header known-failure "$src" | tail -n1)
    if [ -n "$known" ]; then
        # A failure filed as a later issue: it must still fail, and says so.
        if [ ${#reasons[@]} -eq 0 ]; then
            echo "FAIL $name: passes now; remove its known-failure header ($known)"
        else
            echo "XFAIL $name: $known"
        fi
        continue
    fi
    if [ ${#reasons[@]} -eq 0 ]; then
        echo "PASS $name"
        continue
    fi
    reason=$(printf '%s; ' "${reasons[@]}")
    echo "FAIL $name: ${reason%; }"
    if [ "$show_diff" = yes ]; then
        diff "$expected" "$log.stdout" >"$log.diff"
        detail "$log.diff" 10
    fi
    if [ "$native" = same ] && ! cmp -s "$log.nstdout" "$log.stdout"; then
        diff "$log.nstdout" "$log.stdout" >"$log.ndiff"
        echo "    native vs preloaded:"
        detail "$log.ndiff" 8
    fi
    if [ -s "$log.stderr" ]; then
        echo "    stderr:"
        detail "$log.stderr" 6
    fi
done
exit 0
