#!/usr/bin/env bash
# make install / make uninstall, into a scratch prefix: what is installed, a
# program built with pkg-config against the installed header and library,
# the installed launcher running it, and an uninstall that leaves nothing.
# Prints one PASS/FAIL line per check (scripts/check.sh counts them).
set -u
cd "$(dirname "$0")/.." || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "PASS $1"; }
bad() { echo "FAIL $1: $2"; }

p=$tmp/prefix
if ! out=$(make -s install PREFIX="$p" 2>&1); then
    bad install "make install failed: $(echo "$out" | tail -3)"; exit 0
fi
missing=
for f in lib/libopencoro.so lib/libopencoro.so.0 lib/libopencoro_runtime.so bin/opencoro include/opencoro.h \
    lib/pkgconfig/opencoro.pc share/man/man1/opencoro.1 share/doc/opencoro/LICENSE-MIT share/doc/opencoro/LICENSE-APACHE share/opencoro/opencoro-gdb.py; do
    [ -e "$p/$f" ] || missing="$missing $f"
done
[ -z "$missing" ] && ok install_files || bad install_files "missing:$missing"

soname=$(readelf -d "$p/lib/libopencoro.so" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = libopencoro.so.0 ] && ok install_soname || bad install_soname "SONAME '$soname'"

# the installed launcher finds the installed library (from another directory)
v=$(cd / && "$p/bin/opencoro" --version 2>&1)
case $v in "opencoro "[0-9]*) ok install_launcher_version;; *) bad install_launcher_version "'$v'";; esac

# a program built with the installed pkg-config file, run by the launcher
cat > "$tmp/v.c" <<'EOC'
#include <stdio.h>
#include <opencoro.h>
int main(void) {
    printf("%d %d\n", opencoro_active(), opencoro_version()[0] == '0' + OPENCORO_VERSION_MAJOR);
    return 0;
}
EOC
if ! command -v pkg-config >/dev/null; then
    bad install_pkgconfig "pkg-config is not installed"
elif ! flags=$(PKG_CONFIG_PATH="$p/lib/pkgconfig" pkg-config --cflags --libs opencoro 2>&1); then
    bad install_pkgconfig "pkg-config: $flags"
elif ! out=$(cc -o "$tmp/v" "$tmp/v.c" $flags -Wl,-rpath,"$p/lib" 2>&1); then
    bad install_pkgconfig "build: $out"
else
    got=$(cd / && timeout 20 "$p/bin/opencoro" "$tmp/v" 2>&1)
    [ "$got" = "1 1" ] && ok install_pkgconfig || bad install_pkgconfig "the program printed '$got' (main a coroutine: 1 1 expected)"
fi

make -s uninstall PREFIX="$p" >/dev/null 2>&1
left=$(find "$p" -type f -o -type l 2>/dev/null)
[ -z "$left" ] && ok uninstall || bad uninstall "left: $left"

# DESTDIR stages the same tree under another root
s=$tmp/stage
if make -s install DESTDIR="$s" PREFIX=/usr >/dev/null 2>&1 && [ -x "$s/usr/bin/opencoro" ] &&
    grep -q '^prefix=/usr$' "$s/usr/lib/pkgconfig/opencoro.pc"; then
    make -s uninstall DESTDIR="$s" PREFIX=/usr >/dev/null 2>&1
    left=$(find "$s" -type f -o -type l 2>/dev/null)
    [ -z "$left" ] && ok install_destdir || bad install_destdir "uninstall left: $left"
else
    bad install_destdir "make install DESTDIR=... PREFIX=/usr"
fi
