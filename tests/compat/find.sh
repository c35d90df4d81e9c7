# find over D/tree: tests on type, name, size, times, perms, empty, links;
# -printf, -exec ... {} \; and {} + (child processes), and find | xargs -P2.
set -eu
cd "$D"
echo "-type f:"; find tree -type f | sort
echo "-type l:"; find tree -type l -printf '%p -> %l\n' | sort
echo "-type d:"; find tree -type d | sort
echo "-name '*.txt':"; find tree -name '*.txt' | sort
echo "-size +10k:"; find tree -size +10k -printf '%s %p\n' | sort
echo "-empty:"; find tree -empty | sort
echo "-newer main.txt:"; find tree -newer tree/src/main.txt | sort
echo "-perm -u+x -type f:"; find tree -perm -u+x -type f | sort
echo "-maxdepth 1 -printf:"; find tree -maxdepth 1 -printf '%y %m %TY-%Tm-%Td %p\n' | sort
echo "-L -type f:"; find -L tree -type f 2>/dev/null | sort
echo "-exec {} ;:"; find tree -name '*.txt' -exec wc -l {} \; | sort
echo "-exec {} +:"; find tree -type f -exec sha256sum {} + | sort | cut -c1-16,65-
echo "xargs -0 -P2:"; find tree -type f -print0 | xargs -0 -P2 -n2 wc -c | grep -v total | sort
echo "-delete in a copy:"
cp -a tree "$T/copy"
find "$T/copy" -name '*.bin' -delete
find "$T/copy" -type f | sed "s|$T/||" | sort
