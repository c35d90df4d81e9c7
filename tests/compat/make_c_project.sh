# make building tests/compat/cproject with gcc: make -j2 (a sub-make for the
# library, the jobserver shared with it), the program run, make -q, a rebuild
# after touching a header and after changing the generated header's source,
# make clean. make's own lines are sorted where -j2 may order them either way.
set -u
cp -r "$C/cproject" proj
cd proj
m() { make --no-print-directory CC=gcc "$@"; }
echo "build:"; m -j2 2>&1 | sort; echo "status ${PIPESTATUS[0]}"
./app
m -q; echo "make -q when up to date: $?"
echo "after touching calc.h:"; sleep 0.01; touch calc.h; m -j2 2>&1 | sort
echo "after changing VERSION:"; echo 2.0 >VERSION; m -j2 2>&1 | sort
./app | head -n 1
echo "files: $(ls | sort | tr '\n' ' ')"
m -s clean
echo "after clean: $(ls | sort | tr '\n' ' ')"
echo "a failing build:"; echo 'int broken(' >bad.c; gcc -c bad.c >/dev/null 2>&1; echo "gcc status $?"
make --no-print-directory -f /dev/null nosuchtarget >/dev/null 2>&1; echo "make status $?"
