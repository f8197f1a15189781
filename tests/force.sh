#!/bin/sh
# The run folder is bprun's and nothing else: --force removes exactly the files bprun wrote
# there (the index, trial files and their .part files, each checked by its attributes), never
# follows a symbolic link out of the folder, refuses a folder bprun did not make and names
# what it leaves; nothing outside the run folder is read through a link, written or removed,
# with --force or without; `bprun merge` names what it leaves out.
. "$BP_SRCDIR/tests/lib.sh"
cd "$T" || exit 1
write_config ok.yaml <<'YAML'
experiment: ok
data: {train: "builtin:xor"}
model: {layers: [2, 2, 1]}
train: {epochs: 5, batch_size: 1, optimizer: {name: sgd, lr: 0.5}}
YAML
write_config two.yaml <<'YAML'
experiment: two
data: {train: "builtin:xor"}
model: {layers: [2, 2, 1]}
train: {epochs: 5, batch_size: 1, optimizer: {name: sgd, lr: 0.5}}
sweep: {grid: {train.optimizer.lr: [0.5, 1.0]}}
YAML
# a user's folder: its listing and contents, to compare after every attack
mkdir -p home/data home/etc
for f in a.h5 b.h5 c.h5.part 0000.h5 0001.h5.part; do echo "mine $f" > "home/data/$f"; done
echo "root:x:0:0" > home/etc/passwd
"$BPRUN" import builtin:xor -o home/data/foreign.h5#/train >/dev/null 2>&1 || fail "import"
snapshot() { (cd home && find . -type f | sort | xargs md5sum) > "$1"; }
snapshot home.ref
home_intact() {
  snapshot home.now
  cmp -s home.ref home.now || fail "$1: the user's files changed: $(diff home.ref home.now | head -5)"
}
fresh() { rm -rf "$1" && run_bprun 0 run ok.yaml -o "$1" --quiet || fail "fresh $1"; }
act="bprun neither removes nor writes over it (nothing was removed): move it away, or use -o to choose another folder"

# 1. trials/ replaced by a symbolic link to the user's data: nothing followed, nothing removed
fresh r
rm -r r/trials && ln -s "$T/home/data" r/trials
expect_err 2 "bprun: r/trials: a symbolic link, not the folder bprun made; $act" run ok.yaml -o r --force --quiet
home_intact "trials symlink, --force"
[ -f r/index.h5 ] || fail "trials symlink: the index was removed"
# ... and without --force (a resume) nothing is written through it either
expect_err 2 "bprun: r/trials: a symbolic link, not the folder bprun made; $act" run ok.yaml -o r --quiet
home_intact "trials symlink, resume"
rm r/trials
# a file where trials/ belongs
echo x > r/trials
expect_err 2 "bprun: r/trials: not a folder; $act" run ok.yaml -o r --force --quiet
rm r/trials

# 2. a user's own files in the run folder and in trials/ are kept, and named
fresh r
echo mine > r/trials/keep-mine.h5
echo notes > r/notes.txt
mkdir r/plots && echo png > r/plots/x.png
run_bprun 0 run ok.yaml -o r --force --quiet || fail "--force with a user's files"
grep -qxF "bprun: --force left 3 entries that bprun did not write: r/notes.txt, r/plots and r/trials/keep-mine.h5" err ||
  grep -qxF "bprun: --force left 3 entries that bprun did not write: r/plots, r/notes.txt and r/trials/keep-mine.h5" err ||
  fail "kept files not named: $(cat err)"
[ "$(cat r/trials/keep-mine.h5)" = mine ] && [ "$(cat r/notes.txt)" = notes ] && [ -f r/plots/x.png ] ||
  fail "--force removed a user's file"
[ -f r/trials/0000.h5 ] && [ -f r/index.h5 ] || fail "--force did not run"

# 3. a folder bprun did not make is refused, even with --force, and nothing is written into it
ln -s "$T/home/etc" L
expect_err 2 "bprun: L: not a bprun run folder (no index.h5 that bprun wrote); --force replaces only a run folder bprun made (nothing was removed): use -o to choose another folder" \
  run ok.yaml -o L --force --quiet
[ "$(ls -A home/etc)" = passwd ] || fail "a non-run folder got: $(ls -A home/etc)"
expect_err 2 "bprun: L: run folder exists and is not empty; use --force to replace it, or -o to choose another folder" \
  run ok.yaml -o L --quiet
[ "$(ls -A home/etc)" = passwd ] || fail "a non-run folder got (no --force): $(ls -A home/etc)"
home_intact "non-run folder"
# the same through the config's output key
printf 'output: %s\n' "$T/home" >> ok.yaml
sed 's/^experiment: ok/experiment: etc/' ok.yaml > etc.yaml
expect_err 2 "bprun: $T/home/etc: not a bprun run folder (no index.h5 that bprun wrote); --force replaces only a run folder bprun made (nothing was removed): use -o to choose another folder" \
  run etc.yaml --force --quiet
home_intact "output: key"

# 4. files with bprun's names that bprun did not write: refused before anything is removed
fresh r
cp home/data/foreign.h5 r/trials/0000.h5
expect_err 2 "bprun: r/trials/0000.h5: not this trial's file (no bprun attributes naming it); $act" run ok.yaml -o r --force --quiet
[ -f r/index.h5 ] || fail "a refused --force removed the index"
cmp -s r/trials/0000.h5 home/data/foreign.h5 || fail "foreign trial file changed"
fresh r
ln -sf "$T/home/data/a.h5" r/trials/0000.h5
ln -s "$T/home/data/c.h5.part" r/trials/0001.h5.part
expect_err 2 "bprun: r/trials/0000.h5: a symbolic link, not a file bprun wrote (and 1 more such files); $act" run ok.yaml -o r --force --quiet
home_intact "trial file symlinks"
fresh r
rm r/index.h5 && ln -s "$T/home/data/foreign.h5" r/index.h5
expect_err 2 "bprun: r/index.h5: a symbolic link, not a file bprun wrote; $act" run ok.yaml -o r --force --quiet
expect_err 2 "bprun: r/index.h5: a symbolic link, not a file bprun wrote; $act" run ok.yaml -o r --quiet
home_intact "index symlink"
rm r/index.h5 && cp home/data/foreign.h5 r/index.h5
expect_err 2 "bprun: r/index.h5: not a bprun index (no bprun attributes); $act" run ok.yaml -o r --force --quiet
cmp -s r/index.h5 home/data/foreign.h5 || fail "foreign index changed"
# a trial file of another trial under this name, a FIFO with a trial's name (no hang)
fresh r
cp r/trials/0000.h5 keep.h5
rm -rf r2 && run_bprun 0 run two.yaml -o r2 --quiet || fail "two"
cp r2/trials/0001.h5 r/trials/0000.h5
expect_err 2 "bprun: r/trials/0000.h5: not this trial's file (no bprun attributes naming it); $act" run ok.yaml -o r --force --quiet
rm r/trials/0000.h5 && mkfifo r/trials/0000.h5
expect_err 2 "bprun: r/trials/0000.h5: not a regular file; $act" run ok.yaml -o r --force --quiet
rm r/trials/0000.h5

# 5. the lock file and .part files are never written through a link
fresh r
ln -s "$T/home/etc/passwd" r/.lock 2>/dev/null || { rm -f r/.lock; ln -s "$T/home/etc/passwd" r/.lock; }
expect_err 1 "bprun: r: cannot create the lock file .lock: it is a symbolic link" run ok.yaml -o r --force --quiet
home_intact ".lock symlink"
rm r/.lock
rm -rf r && mkdir -p r/trials && ln -s "$T/home/data/0001.h5.part" r/trials/0000.h5.part
expect_err 2 "bprun: r/trials/0000.h5.part: a symbolic link, not a file bprun wrote; $act" run ok.yaml -o r --quiet
home_intact ".part symlink in a new folder"
# a resumed run whose unfinished trial's .part is a link: that trial fails, nothing written through it
rm -rf r && run_bprun 0 run two.yaml -o r --quiet || fail "two"
rm r/trials/0001.h5 && ln -s "$T/home/data/0001.h5.part" r/trials/0001.h5.part
run_bprun 2 run two.yaml -o r --quiet
grep -qF "r/trials/0001.h5.part: a symbolic link; bprun will not write through it" out err ||
  fail "resume through a .part link: $(cat out err)"
home_intact ".part symlink on resume"

# a resumed run never reads a finished trial through a link, nor opens a FIFO with its name
rm -rf r && run_bprun 0 run two.yaml -o r --quiet || fail "two"
rm r/trials/0001.h5 && mkfifo home.fifo && ln -s "$T/home.fifo" r/trials/0001.h5
expect_err 2 "bprun: r/trials/0001.h5: a symbolic link; bprun reads no trial file through it: move it away, or use -o to choose another folder" \
  run two.yaml -o r --quiet
rm r/trials/0001.h5 && mkfifo r/trials/0001.h5
expect_err 2 "bprun: r/trials/0001.h5: not a regular file; bprun reads no trial file through it: move it away, or use -o to choose another folder" \
  run two.yaml -o r --quiet
rm home.fifo

# 6. --force removes exactly bprun's files: the index, trial files, the HTML report, .part files of its own
rm -rf r && run_bprun 0 run two.yaml -o r --quiet || fail "two"
rep=
[ -e r/report.html ] && rep=' ./report.html'   # the HTML report, beside the index (with dygraphs)
cp r/trials/0001.h5 r/trials/0001.h5.part
: > r/trials/0007.h5.part
echo x > r/index.h5.part
printf '<!DOCTYPE html>' > r/report.html.part   # a report writer killed early
run_bprun 0 run ok.yaml -o r --force --quiet || fail "--force over a two-trial run"
[ "$(cd r && find . -type f | sort | tr '\n' ' ')" = "./.lock ./index.h5$rep ./trials/0000.h5 " ] ||
  fail "after --force: $(cd r && find . | sort | tr '\n' ' ')"
[ -s err ] && fail "--force over bprun's own files printed: $(cat err)"

# 7. merge names what it leaves out of the index
rm -rf m && run_bprun 0 run two.yaml -o m --quiet || fail "two"
cp home/data/foreign.h5 m/trials/other.h5
echo x > m/trials/00000000000000000001.h5
cp m/trials/0001.h5 m/trials/0009.h5
run_bprun 0 merge m
grep -qxF "bprun: merge left out 3 entries of m/trials that are not trial files of this run: m/trials/00000000000000000001.h5, m/trials/other.h5 and m/trials/0009.h5" err ||
  grep -qxF "bprun: merge left out 3 entries of m/trials that are not trial files of this run: m/trials/other.h5, m/trials/00000000000000000001.h5 and m/trials/0009.h5" err ||
  fail "merge: $(cat err)"
rm m/trials/0009.h5 m/trials/00000000000000000001.h5
mv m/trials/0001.h5 keep1.h5 && ln -s "$T/keep1.h5" m/trials/0001.h5
run_bprun 0 merge m
grep -qxF "merged m/index.h5: 2 trials, 1 finished, 1 not finished (recorded as pending)" out || fail "merge of a linked trial: $(cat out)"
grep -qxF "bprun: merge left out 2 entries of m/trials that are not trial files of this run: m/trials/other.h5 and m/trials/0001.h5" err ||
  grep -qxF "bprun: merge left out 2 entries of m/trials that are not trial files of this run: m/trials/0001.h5 and m/trials/other.h5" err ||
  fail "merge of a linked trial: $(cat err)"

# 8. a plugin that calls chdir("/") moves nothing: the run folder is opened by its absolute
# path, isolated or not, with a relative -o
lib="$BP_BUILDDIR/tests/crash/.libs"
if [ -f "$lib/chdir.so" ]; then
  write_config cd.yaml <<YAML
experiment: cd
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1], activation: tanh}
train: {epochs: 6, batch_size: 2, shuffle: false, optimizer: {name: sgd, lr: 0.1}}
sweep: {grid: {train.optimizer: [{name: $lib/chdir.so}, {name: sgd}]}}
YAML
  for mode in --isolate --no-isolate; do
    rm -rf cdr
    run_bprun 0 run cd.yaml -o cdr -j 1 --quiet $mode || continue
    [ -f cdr/trials/0000.h5 ] && [ -f cdr/trials/0001.h5 ] && [ -f cdr/index.h5 ] ||
      fail "chdir plugin $mode: $(find cdr | tr '\n' ' ')"
    [ -e /trials ] && fail "chdir plugin $mode: wrote /trials"
  done
else
  echo "no tests/crash/chdir.so: the chdir case is skipped" >&2
fi

# 9. run folder paths: too long is refused with the bound, before anything is made
long=$(printf 'd%.0s' $(seq 1 250))
expect_err 2 "bprun: -o: path too long (4266 bytes; at most 4095)" run ok.yaml -o "$long/$long/$long/$long/$long/$long/$long/$long/$long/$long/$long/$long/$long/$long/$long/$long/$long" --quiet
home_intact "the end"
finish
