# git: init, add, commit (fixed author and committer dates, so the hashes are
# the same every run), log, diff, show, branch, merge, tag, describe,
# status, stash, rebase, blame, grep, archive, gc, fsck, a clone through
# upload-pack (--no-local), format-patch and am, bisect run.
set -eu
export HOME=$T/home GIT_CONFIG_NOSYSTEM=1 GIT_PAGER=cat PAGER=cat GIT_TERMINAL_PROMPT=0 GIT_EDITOR=true
mkdir -p "$HOME"
git config --global user.name "Compat Suite"
git config --global user.email compat@example.invalid
git config --global init.defaultBranch main
git config --global advice.detachedHead false
git config --global gc.auto 0
n=0
tick() { # the next fixed date
    n=$((n + 1))
    export GIT_AUTHOR_DATE="2021-03-04T05:$(printf %02d $n):00+0000" GIT_COMMITTER_DATE="2021-03-04T05:$(printf %02d $n):00+0000"
}
commit() { tick; git commit -q -m "$1"; }
git init -q repo
cd repo
seq 1 200 >numbers.txt
printf 'first\n' >notes.txt
git add . && commit "first commit"
for i in 1 2 3 4 5; do
    sed -i "s/^$((i * 10))\$/ten times $i/" numbers.txt
    echo "note $i" >>notes.txt
    git add -A && commit "change $i"
done
git log --format='%h %an <%ae> %ad %s' --date=iso
git log --stat --format='== %H' -n 2
git diff HEAD~3 HEAD -- numbers.txt
git show --format='%T %P' HEAD~1 | head -n 12
git branch feature
git checkout -q feature
echo "feature line" >feature.txt
git add feature.txt && commit "feature"
git checkout -q main
echo "main line" >>notes.txt
git commit -qam "main side" --date="$GIT_AUTHOR_DATE" && tick
tick; git merge -q --no-ff -m "merge feature" feature
git log --graph --oneline --all
tick; git tag -a v1.0 -m "version 1.0"
echo "describe: $(git describe)"
echo change >>feature.txt
echo untracked >new.txt
git status --porcelain=v1
git stash -q
echo "stash: $(git stash list)"
git status --porcelain=v1
git stash pop -q
git checkout -q -- feature.txt && rm new.txt
git checkout -q -b topic HEAD~1
echo topic >topic.txt && git add topic.txt && commit "topic"
tick; git rebase -q main
git log --oneline -n 3
git checkout -q main
git blame -s numbers.txt | sed -n '9,11p'
echo "grep:"; git grep -n "ten times" | head -n 5
echo "archive: $(git archive --format=tar HEAD | tar -tf - | sort | tr '\n' ' ')"
git gc -q
git fsck --full --no-progress && echo "fsck: ok"
echo "objects: $(git count-objects -v | grep -E '^(count|in-pack|packs):' | tr '\n' ' ')"
cd ..
git clone -q --no-local repo clone
git -C clone log --oneline --all | head -n 4
echo "clone matches: $( [ "$(git -C clone rev-parse HEAD)" = "$(git -C repo rev-parse HEAD)" ] && echo yes || echo no)"
git -C repo format-patch -q -2 -o "$T/patches" HEAD~0 --no-stat >/dev/null
git -C clone checkout -q -b applied HEAD~2
tick; git -C clone am -q "$T"/patches/*.patch
git -C clone log --format='%s' -n 2
cd repo
git bisect start HEAD "$(git rev-list --max-parents=0 HEAD)" >/dev/null
git bisect run sh -c '! grep -q "ten times 3" numbers.txt' >../bisect.out 2>&1
grep 'is the first bad commit' ../bisect.out
git bisect reset >/dev/null 2>&1
echo "HEAD: $(git rev-parse HEAD)"
