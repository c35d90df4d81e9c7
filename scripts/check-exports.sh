#!/usr/bin/env bash
# The hook tables (src/hooks/*.rs, with the hooks written out by hand, and
# the C API in src/capi.rs, the debug list's statics in src/coro/debug.rs)
# and the built library must name the same
# symbols: build.rs makes the library's export list from the same tables,
# read its own way. Prints one PASS/FAIL line.
set -u
cd "$(dirname "$0")/.."
lib=target/release/libopencoro.so
declared=$( (grep -ohE '^\s+(co|company|shared|co_guard|co_unwind|any|always) fn [A-Za-z0-9_]+' src/hooks/*.rs | awk '{print $3}';
             # hooks written out by hand: the exported functions after a
             # `cfg_attr(feature = "preload", no_mangle)` line
             grep -h -A1 'cfg_attr(feature = "preload", no_mangle)' src/hooks/*.rs | grep -oE 'extern "C(-unwind)?" fn [A-Za-z0-9_]+' | sed -E 's/.* fn //';
             grep -ohE 'pub (unsafe )?extern "C" fn opencoro_[a-z_]+' src/capi.rs | sed -E 's/.* fn //';
             # the debug list's statics, for debuggers
             grep -ohE '^pub static opencoro_[a-z_]+' src/coro/debug.rs | sed -E 's/.* //') | sort -u)
exported=$(nm -D --defined-only "$lib" 2>/dev/null | awk '{print $3}' | sed 's/@.*//' | sort -u)
fail=""
[ "$(echo "$declared" | wc -l)" -gt 100 ] || fail="only $(echo "$declared" | wc -l) hooks found in the tables (is this script's reading broken?)"
d=$(diff <(echo "$declared") <(echo "$exported")) || fail="$fail hook tables vs $lib: $(echo "$d" | grep '^[<>]' | tr '\n' ' ')"
if [ -z "$fail" ]; then echo "PASS exports"; else echo "FAIL exports: $fail"; fi
