#!/usr/bin/env bash
# make check: every test, each bounded by a timeout. Prints one PASS/FAIL line
# per test and a closing "N passed, N failed" line (and the SKIPs, if any);
# exits non-zero on failure.
#
# It cannot pass empty: a runner that is missing or not executable fails, and
# so does one that reports fewer tests than its stated minimum below (a
# runner whose set-up broke reports none). Raise a minimum when tests are
# added; never lower one to make a failure go away.
set -u
cd "$(dirname "$0")/.." || exit 1
export OPENCORO_ROOT=$PWD
pass=0; fail=0; skip=0
counted=0
tally() { # reads PASS/FAIL/SKIP lines of a sub-runner from stdin, echoing them
    counted=0
    while IFS= read -r line; do
        echo "$line"
        case "$line" in
            PASS*) pass=$((pass+1)); counted=$((counted+1));;
            FAIL*) fail=$((fail+1)); counted=$((counted+1));;
            SKIP*) skip=$((skip+1));;
        esac
    done
}
# at_least NAME MIN: the runner just run reported at least MIN tests
at_least() {
    if [ "$counted" -lt "$2" ]; then
        echo "FAIL $1: reported $counted tests, at least $2 expected (did its set-up fail?)"
        fail=$((fail+1))
    fi
}

echo "== Rust: runtime parts (cargo test, without the libc exports)"
out=$(timeout 600 cargo test --release --no-default-features 2>&1); rc=$?
echo "$out" | grep -E "^test |test result:|panicked|error" | sed 's/^/  /'
p=$(echo "$out" | awk '/^test result:/{for(i=1;i<=NF;i++) if($(i+1) ~ /^passed/) s+=$i} END{print s+0}')
f=$(echo "$out" | awk '/^test result:/{for(i=1;i<=NF;i++) if($(i+1) ~ /^failed/) s+=$i} END{print s+0}')
pass=$((pass+p)); fail=$((fail+f)); counted=$((p+f))
if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then echo "FAIL cargo test (exit $rc)"; fail=$((fail+1)); fi
at_least "cargo test" 15

echo "== clippy (every target, warnings denied; the crate denies undocumented unsafe blocks)"
if ! cargo clippy --version >/dev/null 2>&1; then
    echo "FAIL clippy: cargo clippy is not installed (rustup component add clippy)"; fail=$((fail+1))
elif out=$(timeout 900 cargo clippy --release --all-targets -- -D warnings 2>&1); then
    echo "PASS clippy"; pass=$((pass+1))
else
    echo "FAIL clippy"; echo "$out" | grep -E "^(warning|error)" -A4 | head -40 | sed 's/^/    /'; fail=$((fail+1))
fi

# scripts/compat: the compatibility suite (its SKIP lines, for a program
# that cannot be installed, are counted apart; its own closing line is left
# out, the one below counts its lines)
for spec in scripts/check-exports.sh:1 scripts/check-install.sh:6 scripts/run-c-tests.sh:166 scripts/run-programs.sh:46 scripts/compat:28; do
    runner=${spec%:*} min=${spec##*:}
    echo "== $runner"
    if [ ! -x "$runner" ]; then
        echo "FAIL $runner: missing or not executable"; fail=$((fail+1))
        continue
    fi
    tally < <(COMPAT_SUMMARY=0 "$runner" 2>&1)
    at_least "$runner" "$min"
done

echo
if [ "$skip" -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
