# tar and gzip round trips of D/tree and D/big.txt: tar -z (tar runs gzip as a
# child process), tar through a pipeline, gzip levels, gzip -t, zcat, and a
# byte-for-byte comparison of what comes back. Prints listings and hashes.
set -eu
h() { sha256sum | cut -c1-16; }
tar -czf tree.tgz -C "$D" tree
gzip -t tree.tgz && echo "gzip -t: ok"
echo "listing:"
tar -tzvf tree.tgz --full-time | sort -k6
mkdir out
tar -xzf tree.tgz -C out
diff -r "$D/tree" out/tree && echo "extracted tree: identical"
echo "modes and times kept: $(cd out && find tree -printf '%M %TY-%Tm-%Td %p\n' | sort | h) vs $(cd "$D" && find tree -printf '%M %TY-%Tm-%Td %p\n' | sort | h)"
for level in 1 6 9; do
    echo "gzip -$level: $(gzip -"$level"n -c "$D/big.txt" | h) round trip $(gzip -"$level"n -c "$D/big.txt" | gzip -dc | h)"
done
echo "original:  $(h <"$D/big.txt")"
cp "$D/big.txt" copy.txt
gzip -n copy.txt
zcat copy.txt.gz | cmp - "$D/big.txt" && echo "zcat: identical"
gunzip copy.txt.gz
cmp copy.txt "$D/big.txt" && echo "gunzip: identical"
tar -cf - -C "$D" tree big.txt | gzip -1 | gzip -dc | tar -tf - | sort | h
tar -cjf t.tbz2 -C "$D" tree 2>/dev/null && echo "bzip2 too: $(tar -tjf t.tbz2 | sort | h)" || echo "bzip2 too: no bzip2"
