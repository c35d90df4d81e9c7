# Shell helpers shared by the test runners (sourced, not run).

# detail FILE [N]: up to N (default 8) lines of FILE, indented, for a
# failure report.
detail() {
    local n=${2:-8}
    [ -s "$1" ] || return 0
    head -n "$n" "$1" | cut -c1-200 | sed 's/^/    /'
    local total
    total=$(wc -l <"$1")
    if [ "$total" -gt "$n" ]; then echo "    ... ($total lines)"; fi
}
