# ripgrep with 4 threads (rg -j4) over /usr/share and /usr/include (read in
# place: the same tree for both runs of one check): match counts per file
# (printed in full, sorted), matching lines with line numbers, files with
# matches, the file list, fixed strings, word and case-insensitive regexes,
# mmap and stdin. Prints sorted results and their hashes; each rg's peak of
# threads is checked by tests/compat/green_peak.sh (natively rg -j4 has 5).
set -eu -o pipefail
g() { bash "$C/green_peak.sh" "$@"; }
h() { sha256sum | cut -c1-16; }
sum() { awk -F: '{ n++; s += $NF } END { printf "%d files, %d matching lines", n, s }'; }

g "rg -c" 4 rg -j4 -c --no-messages error /usr/share >counts
sort counts >counts.sorted
echo "'error' in /usr/share: $(sum <counts.sorted) ($(h <counts.sorted))"
g "rg -n -w -i" 4 rg -j4 -n -w -i 'pthread_[a-z_]+|thread' /usr/include >lines
echo "/usr/include, -n -w -i: $(sort lines | wc -l) lines ($(sort lines | h))"
g "rg -l -F" 4 rg -j4 -l -F --no-messages 'Copyright (C)' /usr/share /usr/include >files
echo "-l -F 'Copyright (C)': $(sort files | wc -l) files ($(sort files | h))"
g "rg --files" 4 rg -j4 --files /usr/share >list
echo "--files /usr/share: $(sort list | wc -l) files ($(sort list | h))"
g "rg --mmap" 4 rg -j4 -c --mmap --no-messages error /usr/share >counts.mmap
echo "--mmap counts the same: $(sort counts.mmap | cmp -s - counts.sorted && echo yes || echo no)"
g "rg -v -c" 4 rg -j4 -c -v --no-messages -e '^$' -e '^#' /usr/include >nonblank
echo "-v -c over /usr/include: $(sort nonblank | sum)"
echo "stdin: $(sort counts.sorted | rg -j4 -c ':1$')"
echo "per file:"
cat counts.sorted
