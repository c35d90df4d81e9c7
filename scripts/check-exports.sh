#!/usr/bin/env bash
# The hook tables (src/hooks/*.rs, with the hooks written out by hand, and
# the C API in src/capi.rs) and the built libraries must name the same
# symbols: build.rs makes the runtime's export list and the front
# library's jumps from the same tables, read its own way. The runtime also
# exports the front library's entry points (src/front.rs) and the debug
# list's statics (src/coro/debug.rs). Prints one PASS/FAIL line.
set -u
cd "$(dirname "$0")/.."
front=target/release/libopencoro.so
lib=target/release/libopencoro_runtime.so
declared=$( (grep -ohE '^\s+(co|company|shared|co_guard|co_unwind|any|always) fn [A-Za-z0-9_]+' src/hooks/*.rs | awk '{print $3}';
             # hooks written out by hand: the exported functions after a
             # `cfg_attr(feature = "preload", no_mangle)` line
             grep -h -A1 'cfg_attr(feature = "preload", no_mangle)' src/hooks/*.rs | grep -oE 'extern "C(-unwind)?" fn [A-Za-z0-9_]+' | sed -E 's/.* fn //';
             grep -ohE 'pub (unsafe )?extern "C" fn opencoro_[a-z_]+' src/capi.rs | sed -E 's/.* fn //') | sort -u)
own=$( (grep -ohE 'pub (unsafe )?extern "C" fn opencoro_rt_[a-z_]+' src/front.rs | sed -E 's/.* fn //';
        # the debug list's statics, for debuggers
        grep -ohE '^pub static opencoro_[a-z_]+' src/coro/debug.rs | sed -E 's/.* //') | sort -u)
exports() { nm -D --defined-only "$1" 2>/dev/null | awk '{print $3}' | sed 's/@.*//' | sort -u; }
fail=""
[ "$(echo "$declared" | wc -l)" -gt 100 ] || fail="only $(echo "$declared" | wc -l) hooks found in the tables (is this script's reading broken?)"
[ "$(echo "$own" | wc -l)" -ge 5 ] || fail="$fail only $(echo "$own" | wc -l) of the runtime's own exports found"
d=$(diff <( (echo "$declared"; echo "$own") | sort -u) <(exports "$lib")) || fail="$fail hook tables vs $lib: $(echo "$d" | grep '^[<>]' | tr '\n' ' ')"
d=$(diff <(echo "$declared") <(exports "$front")) || fail="$fail hook tables vs $front: $(echo "$d" | grep '^[<>]' | tr '\n' ' ')"
if [ -z "$fail" ]; then echo "PASS exports"; else echo "FAIL exports: $fail"; fi
