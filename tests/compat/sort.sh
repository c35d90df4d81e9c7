# sort of a ~6 MB file (D/big.txt, 300,000 lines "KEY NUMBER WORD"): whole
# sorts (GNU sort sorts large inputs with threads), by fields, unique, with
# a small buffer and two threads (so through temporary files and a merge),
# and a merge of sorted pieces. Prints hashes and counts of the outputs.
set -eu
big=$D/big.txt
h() { sha256sum | cut -c1-16; }
echo "plain:        $(sort "$big" | h)"
echo "reverse:      $(sort -r "$big" | h)"
echo "numeric k2:   $(sort -s -n -k2,2 "$big" | h)"
echo "k3 then k1:   $(sort -k3,3 -k1,1 "$big" | h)"
echo "unique keys:  $(cut -d' ' -f1 "$big" | sort -u | wc -l)"
mkdir tmp
sort --parallel=2 -S 512K -T tmp -o sorted.txt "$big"
echo "external:     $(h <sorted.txt) (temporary files left: $(ls tmp | wc -l))"
sort -c sorted.txt && echo "sort -c: sorted"
split -l 70000 "$big" part.
for p in part.*; do sort -o "$p" "$p"; done
echo "merged:       $(sort -m part.* | h)"
echo "top keys:"
cut -d' ' -f1 "$big" | sort | uniq -c | sort -k1,1nr -k2,2 | head -n 5
echo "random with a fixed source: $(sort -R --random-source="$big" "$big" | h)"
