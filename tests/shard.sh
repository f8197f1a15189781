#!/bin/sh
# Job arrays without MPI (docs/CLUSTER.md): `bprun run --shard I/N` runs the trials whose id
# mod N is I-1; shards 1/3, 2/3, 3/3 run at once on one folder while `bprun merge` runs over
# and over; afterwards every trial file and the index equal a single-process run's (tests/
# h5check.py same: all but timings and provenance). merge records missing trials as pending
# and says how many; a killed shard resumes; every misuse is a one-line error. Successive
# halving in shards 1/2 and 2/2 (rounds as barriers, trials paused at rungs in their files)
# gives the trial files and index of one process, also when a shard is killed and resubmitted.
# Without MPI built, a bprun started by mpirun with several processes refuses to run.
. "$BP_SRCDIR/tests/lib.sh"
need_python
py="$PYTHON_H5 $BP_SRCDIR/tests/h5check.py"
cd "$T" || exit 1
write_config s.yaml <<'YAML'
experiment: shard
seed: 3
data: {train: "builtin:spirals", standardize: true}
model: {layers: [2, 16, 1], activation: tanh, output: sigmoid, loss: binary_cross_entropy}
train: {epochs: 40, batch_size: 32, shuffle: true, optimizer: {name: sgd, lr: 0.1, momentum: 0.9}}
sweep: {grid: {train.optimizer.lr: [0.02, 0.05, 0.1, 0.2]}, repeats: 2}
YAML
run_bprun 0 run s.yaml -o ref -t 1 --quiet || finish

# same_run DIR: every file of DIR equals ref's
same_run() {
  same_files ref "$1" "the single-process run"
  [ -z "$(ls "$1"/trials/*.part "$1"/index.h5.part 2>/dev/null)" ] || fail "$1: .part files left"
}

# the three shards at once on one new folder, merges running meanwhile
for k in 1 2 3; do
  "$BPRUN" run s.yaml -o sh --shard "$k/3" -t 1 --quiet >"sh$k.out" 2>"sh$k.err" &
  eval "pid$k=\$!"
done
merges=0
while kill -0 "$pid1" 2>/dev/null || kill -0 "$pid2" 2>/dev/null || kill -0 "$pid3" 2>/dev/null; do
  if [ -e sh/index.h5 ]; then
    "$BPRUN" merge sh >merge.out 2>merge.err
    rc=$?
    # 2: no trial finished yet
    if [ $rc -ne 0 ] && ! { [ $rc -eq 2 ] && grep -qxF "bprun: sh: no finished trial files (trials/NNNN.h5) yet; nothing to merge" merge.err; }; then
      fail "merge during the shards exited $rc: $(cat merge.err)"
    fi
    merges=$((merges + 1))
  fi
  sleep 0.05
done
for k in 1 2 3; do
  eval "wait \$pid$k" || fail "shard $k/3 failed: $(cat "sh$k.err")"
done
echo "shard: $merges merges while the shards ran" >&2
# each shard rebuilt the index at its end: the last one left the complete index
same_run sh
run_bprun 0 merge sh || finish
grep -qxF "merged sh/index.h5: 8 trials, 8 finished" "$T/out" || fail "merge said: $(cat "$T/out")"
same_run sh
# a second merge changes nothing
run_bprun 0 merge sh -q || finish
[ -s "$T/out" ] && fail "merge --quiet printed: $(cat "$T/out")"
same_run sh

# merge keeps the index's row of a finished trial whose file has not changed since the index
# was written (ctime older than the index's mtime) and reads the others
cp -r sh keep
run_bprun 0 merge keep -q || finish
sleep 1
echo "not a trial file" >keep/trials/0003.h5   # changed after the index: read, refused
"$BPRUN" merge keep >keep.out 2>keep.err && fail "merge took a changed trial file: $(cat keep.out)"
grep -qF "keep/trials/0003.h5" keep.err || fail "merge of a changed trial file said: $(cat keep.err)"
cp sh/trials/0003.h5 keep/trials/0003.h5
run_bprun 0 merge keep -q || finish
# an index newer than every file: no trial file is opened, so a broken one goes unseen
touch -d "@$(($(date +%s) + 3600))" keep/index.h5
echo "not a trial file" >keep/trials/0005.h5
run_bprun 0 merge keep || finish
grep -qxF "merged keep/index.h5: 8 trials, 8 finished" "$T/out" || fail "merge said: $(cat "$T/out")"
$py same ref/index.h5 keep/index.h5 >&2 || fail "keep: the index of kept rows differs"

# shards one after another; merge with trials missing records them as pending
run_bprun 0 run s.yaml -o part --shard 2/3 -t 1 --quiet || finish
grep -qxF "bprun: shard 2/3: trials whose id mod 3 is 1" "$T/err" && fail "--quiet printed the shard line"
run_bprun 0 merge part || finish
grep -qxF "merged part/index.h5: 8 trials, 3 finished, 5 not finished (recorded as pending)" "$T/out" \
  || fail "merge with missing trials said: $(cat "$T/out")"
got=$("$PYTHON_H5" -c '
import sys, h5py
s = h5py.File(sys.argv[1], "r")["summary"][()]
print(" ".join("%d:%s" % (r["trial"], r["status"].decode()) for r in s))' part/index.h5)
[ "$got" = "0:pending 1:completed 2:pending 3:pending 4:completed 5:pending 6:pending 7:completed" ] \
  || fail "index after shard 2/3: $got"
ls part/trials > files.txt
[ "$(tr '\n' ' ' < files.txt)" = "0001.h5 0004.h5 0007.h5 " ] || fail "shard 2/3 wrote: $(cat files.txt)"
run_bprun 0 run s.yaml -o part --shard 3/3 -t 1 || finish
grep -qxF "bprun: shard 3/3: trials whose id mod 3 is 2" "$T/err" || fail "no shard line: $(cat "$T/err")"
run_bprun 0 run s.yaml -o part --shard 1/3 -t 1 --quiet || finish
run_bprun 0 merge part || finish
grep -qxF "merged part/index.h5: 8 trials, 8 finished" "$T/out" || fail "merge said: $(cat "$T/out")"
same_run part

# a shard killed with SIGKILL mid-trial resumes: its interrupted trial is continued
# (bit-identical), the other shard's files are untouched
long="--set train.epochs=1500 --sweep train.optimizer.lr=0.05,0.1"
# shellcheck disable=SC2086
run_bprun 0 run s.yaml -o longref -t 1 --quiet $long || finish
# shellcheck disable=SC2086
"$BPRUN" run s.yaml -o kill --shard 1/2 -t 1 --quiet $long >/dev/null 2>&1 &
pid=$!
i=0
while [ ! -e kill/trials/0000.h5.part ] && [ $i -lt 200 ]; do sleep 0.02; i=$((i + 1)); done
sleep 0.1
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
for k in 2 1; do
  # shellcheck disable=SC2086
  run_bprun 0 run s.yaml -o kill --shard "$k/2" -t 1 --quiet $long || fail "shard $k/2 after the kill"
done
for f in longref/index.h5 longref/trials/*.h5; do
  $py same "$f" "kill/${f#longref/}" >&2 || fail "kill: ${f#longref/} differs after resuming the shard"
done

# successive halving in shards: each shard trains its share to the rung, waits for the
# other's files, takes the same decision; survivors go on from their paused files
H='sweep.halving={rungs: [10, 20], eta: 2, metric: loss}'
run_bprun 0 run s.yaml -o href -t 1 -j 1 --quiet --set "$H" || finish
"$BPRUN" run s.yaml -o hsh --shard 1/2 -t 1 --quiet --set "$H" >hs1.out 2>hs1.err &
hp=$!
run_bprun 0 run s.yaml -o hsh --shard 2/2 -t 1 --quiet --set "$H" || fail "halving shard 2/2: $(cat "$T/err")"
wait "$hp" || fail "halving shard 1/2: $(cat hs1.err)"
for f in href/index.h5 href/trials/*.h5; do
  $py same "$f" "hsh/${f#href/}" >&2 || fail "halving in shards: ${f#href/} differs"
done
"$PYTHON_H5" -c 'import h5py,sys; st=[r["status"].decode() for r in h5py.File(sys.argv[1])["summary"][()]]; sys.exit(not (st.count("pruned") == 6 and st.count("completed") == 2))' hsh/index.h5 ||
  fail "halving in shards: not 6 pruned and 2 completed"
# a halving shard killed mid-round, then both resubmitted: the same files
# shellcheck disable=SC2086
"$BPRUN" run s.yaml -o hkill --shard 1/2 -t 1 --quiet --set "$H" $long >/dev/null 2>&1 &
hp=$!
# shellcheck disable=SC2086
"$BPRUN" run s.yaml -o hkill --shard 2/2 -t 1 --quiet --set "$H" $long >/dev/null 2>&1 &
hp2=$!
i=0
while [ "$(ls hkill/trials 2>/dev/null | grep -c '\.h5$')" -lt 2 ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 "$hp" 2>/dev/null
wait "$hp" 2>/dev/null
# shellcheck disable=SC2086
run_bprun 0 run s.yaml -o hkill --shard 1/2 -t 1 --quiet --set "$H" $long || fail "halving shard 1/2 after the kill: $(cat "$T/err")"
wait "$hp2" || fail "halving shard 2/2 beside the killed one"
# shellcheck disable=SC2086
run_bprun 0 run s.yaml -o hkref -t 1 --quiet --set "$H" $long || finish
for f in hkref/index.h5 hkref/trials/*.h5; do
  $py same "$f" "hkill/${f#hkref/}" >&2 || fail "halving kill: ${f#hkref/} differs after resubmitting the shard"
done

# misuse: one line each, exit 2
for bad in 0/3 4/3 a/3 1/0 1/ /3 1/3x 3 -1/3 1/-3; do
  expect_err 2 "bprun run: --shard: expected I/N, integers with 1 <= I <= N (got '$bad')" \
    run s.yaml -o bad --shard "$bad"
done
expect_err 2 "bprun: --shard cannot be used with --force (remove the run folder before the first shard starts)" \
  run s.yaml -o sh --shard 1/3 --force
expect_err 2 "bprun: --shard cannot be used with --trial" run s.yaml -o bad --shard 1/3 --trial 2
[ -e bad ] && fail "a refused shard created its folder"
# a shard of a different config is refused like any resume
run_bprun 2 run s.yaml -o sh --shard 1/3 --set train.epochs=41 --quiet
grep -q "^bprun: sh: holds a run of a different config" "$T/err" || fail "changed config: $(cat "$T/err")"
# a bprun built without MPI, started by mpirun with 2 processes (as OpenMPI tells them)
if [ -z "${BP_MPIRUN:-}" ]; then
  OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_RANK=0 "$BPRUN" run s.yaml -o nompi -q >"$T/out" 2>"$T/err"
  rc=$?
  [ $rc = 2 ] || fail "non-MPI bprun under mpirun: exit $rc"
  [ "$(cat "$T/err")" = "bprun: started by an MPI launcher with 2 processes, but this bprun was built without MPI (./configure --with-mpi); every process would run the whole sweep" ] \
    || fail "non-MPI bprun under mpirun said: $(cat "$T/err")"
  [ -e nompi ] && fail "non-MPI bprun under mpirun created its folder"
fi
mkdir notrun empty
echo x > notrun/file
expect_err 2 "bprun: nothere: no such run folder" merge nothere
expect_err 2 "bprun: notrun: not a bprun run folder (no index.h5)" merge notrun
expect_err 2 "bprun: empty: not a bprun run folder (no index.h5)" merge empty
expect_err 2 "bprun: s.yaml: not a folder" merge s.yaml
expect_err 2 "bprun merge: missing RUN" merge
expect_err 2 "bprun merge: expected one RUN folder" merge sh part
# a run folder whose trial files are gone
rm part/trials/*.h5
expect_err 2 "bprun: part: no finished trial files (trials/NNNN.h5) yet; nothing to merge" merge part
# a shard into a folder that is no run folder is refused before anything is written
expect_err 2 "bprun: notrun: run folder exists and is not empty; use --force to replace it, or -o to choose another folder" \
  run s.yaml -o notrun --shard 1/2
[ -e notrun/.lock ] && fail "a refused shard left notrun/.lock"
finish
