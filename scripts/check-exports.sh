#!/usr/bin/env bash
# The export list (preload/opencoro.map), the hook tables (src/hooks/*.rs,
# src/capi.rs, the process entry) and the built library must name the same
# symbols. Prints one PASS/FAIL line.
set -u
cd "$(dirname "$0")/.."
lib=target/release/libopencoro.so
declared=$( (grep -ohE '^\s+(co|co_guard|co_unwind|any|always) fn [A-Za-z0-9_]+' src/hooks/*.rs | awk '{print $3}';
             # hooks written out by hand: the exported functions after a
             # `cfg_attr(feature = "preload", no_mangle)` line
             grep -h -A1 'cfg_attr(feature = "preload", no_mangle)' src/hooks/*.rs | grep -oE 'extern "C(-unwind)?" fn [A-Za-z0-9_]+' | sed -E 's/.* fn //';
             grep -ohE 'pub (unsafe )?extern "C" fn opencoro_[a-z_]+' src/capi.rs | sed -E 's/.* fn //') | sort -u)
listed=$(sed -e 's|/\*.*\*/||g' preload/opencoro.map | tr ';' '\n' | sed -e 's/global://; s/local:.*//; s/[{} ]//g' | grep -E '^[A-Za-z_][A-Za-z0-9_]*$' | sort -u)
exported=$(nm -D --defined-only "$lib" 2>/dev/null | awk '{print $3}' | sed 's/@.*//' | sort -u)
fail=""
d=$(diff <(echo "$declared") <(echo "$listed")) || fail="hook tables vs opencoro.map: $(echo "$d" | grep '^[<>]' | tr '\n' ' ')"
e=$(diff <(echo "$listed") <(echo "$exported")) || fail="$fail opencoro.map vs $lib: $(echo "$e" | grep '^[<>]' | tr '\n' ' ')"
if [ -z "$fail" ]; then echo "PASS exports"; else echo "FAIL exports: $fail"; fi
