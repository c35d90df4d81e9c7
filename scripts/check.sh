#!/usr/bin/env bash
# make check: every test, each bounded by a timeout. Prints one PASS/FAIL line
# per test and a closing "N passed, N failed" line; exits non-zero on failure.
set -u
cd "$(dirname "$0")/.."
export OPENCORO_ROOT=$PWD
pass=0; fail=0
tally() { # reads PASS/FAIL lines of a sub-runner from stdin, echoing them
    while IFS= read -r line; do
        echo "$line"
        case "$line" in
            PASS*) pass=$((pass+1));;
            FAIL*) fail=$((fail+1));;
        esac
    done
}

echo "== Rust: runtime parts (cargo test, without the libc exports)"
out=$(timeout 600 cargo test --release --no-default-features 2>&1); rc=$?
echo "$out" | grep -E "^test |test result:|panicked|error" | sed 's/^/  /'
p=$(echo "$out" | awk '/^test result:/{for(i=1;i<=NF;i++) if($(i+1) ~ /^passed/) s+=$i} END{print s+0}')
f=$(echo "$out" | awk '/^test result:/{for(i=1;i<=NF;i++) if($(i+1) ~ /^failed/) s+=$i} END{print s+0}')
pass=$((pass+p)); fail=$((fail+f))
if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then echo "FAIL cargo test (exit $rc)"; fail=$((fail+1)); fi

# scripts/compat: the compatibility suite (its SKIP lines, for a program
# that cannot be installed, count neither way; its own closing line is left
# out, the one below counts its lines)
for runner in scripts/check-exports.sh scripts/run-c-tests.sh scripts/run-programs.sh scripts/compat; do
    [ -x "$runner" ] || continue
    echo "== $runner"
    tally < <(COMPAT_SUMMARY=0 "$runner" 2>&1)
done

echo
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
