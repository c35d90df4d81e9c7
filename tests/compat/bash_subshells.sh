# bash subshells: command substitution (nested, with status), ( ... ),
# BASH_SUBSHELL, variables and traps that do not leak out, exit statuses,
# functions in subshells, exec in a subshell, $(<file). Exits 6.
set -u
x=$(echo inner; exit 3); echo "got $x status $?"
echo "nested: $(echo "$(echo "$(echo deep)")")"
(exit 5); echo "subshell $?"
v=outer; (v=inner; echo "in subshell: $v"); echo "after: $v"
( ( echo "BASH_SUBSHELL $BASH_SUBSHELL" ) )
f() { echo "f in $BASH_SUBSHELL"; return 4; }
(f); echo "f status $?"
echo "$(f)"
( trap 'echo "subshell EXIT trap"' EXIT; echo "subshell body" )
(cd /; echo "cwd in subshell: $PWD"); [ "$PWD" != / ] && echo "cwd kept"
r=$( (exec sh -c 'echo from exec; exit 2') ); echo "exec in subshell: $r"
for i in 1 2 3; do echo "$i$(echo "$i" | tr 123 abc)"; done
printf 'abc\n' >f.txt; echo "from file: $(<f.txt)"
set -e; (false; echo "not reached") || echo "set -e subshell failed: $?"; set +e
big=$(seq 1 100000 | tr '\n' ' '); echo "big substitution: ${#big}"
a=( $(for i in $(seq 10); do echo $((i * i)); done) ); echo "array: ${a[*]}"
exit 6
