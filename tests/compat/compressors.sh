# Multi-threaded compressors on D/compress.txt (40 MB of pseudo-random text):
# pigz -p4, xz -T2 and zstd -T2 compress it (file to stdout, and through a
# pipe) and decompress it again. Prints the sha256 of every compressed file
# (the same bytes with and without the library) and whether each round trip
# gave the input back. pigz -p16 (over 16 threads natively) must write the
# same bytes as pigz -p4. Each compressor's peak of threads is checked by
# tests/compat/green_peak.sh.
set -eu -o pipefail
g() { bash "$C/green_peak.sh" "$@"; }
in=$D/compress.txt
s() { sha256sum "$@" | cut -c1-64; }
same() { cmp -s "$1" "$2" && echo identical || echo DIFFERENT; }
echo "input: $(wc -c <"$in") bytes, sha256 $(s "$in")"

g "pigz -p4" 0 pigz -p4 -n -c "$in" >in.gz
echo "pigz -p4:  $(s in.gz)"
g "pigz -p16" 12 pigz -p16 -n -c "$in" >in16.gz
echo "pigz -p16: $(same in.gz in16.gz) to -p4"
g "pigz -d" 0 pigz -p4 -d -c in.gz >out
echo "pigz -d:   $(same out "$in")"
pigz -p4 -t in.gz && echo "pigz -t:   ok"
cat "$in" | pigz -p4 -n -1 | pigz -d | cmp - "$in" && echo "pigz -1 through a pipe: identical"

g "xz -T2" 0 xz -T2 -1 -c "$in" >in.xz
echo "xz -T2:    $(s in.xz)"
g "xz -T2 -d" 0 xz -T2 -d -c in.xz >out
echo "xz -d:     $(same out "$in")"
xz -T2 -t in.xz && echo "xz -t:     ok"
echo "xz -l:     $(xz --robot -l in.xz | awk '$1 == "totals" { print $2 " streams, " $3 " blocks, " $4 " bytes in " $5 " bytes out" }')"
cat "$in" | xz -T2 -0 | xz -d | cmp - "$in" && echo "xz -0 through a pipe: identical"

g "zstd -T2" 0 zstd -q -T2 -c "$in" >in.zst
echo "zstd -T2:  $(s in.zst)"
g "zstd -T2 -9" 0 zstd -q -T2 -9 -c "$in" >in9.zst
echo "zstd -T2 -9: $(s in9.zst)"
g "zstd -d" 0 zstd -q -T2 -d -c in.zst >out
echo "zstd -d:   $(same out "$in")"
zstd -q -t in9.zst && echo "zstd -t:   ok"
cat "$in" | zstd -q -T2 -1 | zstd -q -d | cmp - "$in" && echo "zstd -1 through a pipe: identical"
