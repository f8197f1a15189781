#!/bin/sh
# MPI (./configure --with-mpi; docs/CLUSTER.md): `mpirun -np 2` and `-np 3` (oversubscribed)
# runs of a sweep give trial files and an index equal to a single-process run's (tests/
# h5check.py same: all but timings and provenance); every trial is run exactly once; a run
# whose trial files were partly lost resumes under mpirun and reruns only those; a run whose
# rank was killed resumes to the same results; isolated trials work under MPI; errors
# before the trials run are printed once (by rank 0); rounds are barriers: sweep.race runs
# the same trials and takes the same decisions as at -j 1 and -j 2, and sweep.halving gives
# every trial the same per-epoch values, statuses and state as in one process; a TPE search
# (sweep.search) is refused, while a random search runs as any sweep.
. "$BP_SRCDIR/tests/lib.sh"
[ -n "${BP_MPIRUN:-}" ] || skip "bprun was built without MPI (./configure --with-mpi)"
need_python
py="$PYTHON_H5 $BP_SRCDIR/tests/h5check.py"
# OpenMPI refuses root without these; set here only, not globally
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# no network and no binding needed for ranks on this machine
export OMPI_MCA_btl=self,vader OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_hwloc_base_binding_policy=none
mpi() {
  np=$1
  shift
  "$BP_MPIRUN" --oversubscribe -np "$np" -x BPRUN_PLUGIN_PATH -x OMP_WAIT_POLICY "$BPRUN" "$@"
}
cd "$T" || exit 1
write_config s.yaml <<'YAML'
experiment: mpi
seed: 5
data: {train: "builtin:spirals", standardize: true, validation: 0.2}
model: {layers: [2, 16, 1], activation: tanh, output: sigmoid, loss: binary_cross_entropy}
train: {epochs: 60, batch_size: 32, shuffle: true, optimizer: {name: sgd, lr: 0.1, momentum: 0.9}}
sweep: {grid: {train.optimizer.lr: [0.02, 0.05, 0.1, 0.2], train.optimizer.momentum: [0, 0.9]}, repeats: 2}
YAML
run_bprun 0 run s.yaml -o ref -t 1 --quiet || finish

# same_run DIR: every file of DIR equals ref's
same_run() {
  same_files ref "$1" "the single-process run"
  [ "$(ls "$1"/trials | wc -l)" = 16 ] || fail "$1: $(ls "$1"/trials | wc -l) trial files, expected 16"
}

for np in 2 3; do
  mpi "$np" run s.yaml -o "np$np" -t 1 >"np$np.out" 2>"np$np.err" || fail "mpirun -np $np: $(cat "np$np.err")"
  same_run "np$np"
  # rank 0 reports each trial once; the others print nothing
  [ "$(grep -c '^trial [0-9]* completed' "np$np.err")" = 16 ] || fail "-np $np: trial lines: $(cat "np$np.err")"
  grep -qxF "bprun: $np MPI ranks take the trials in batches as they finish; per rank:" "np$np.err" \
    || fail "-np $np: no MPI line: $(cat "np$np.err")"
  [ "$(grep -c '^run np' "np$np.out")" = 1 ] || fail "-np $np: the report is not printed once: $(cat "np$np.out")"
done

# trials handed out in batches (cluster.h): each trial runs exactly once, whether there are
# more ranks than trials or many more trials than ranks, and the results equal one process's
write_config x.yaml <<'YAML'
experiment: batches
seed: 9
data: {train: "builtin:xor"}
model: {layers: [2, 2, 1], activation: tanh, output: sigmoid, loss: mse}
train: {epochs: 1, batch_size: full, shuffle: false, optimizer: {name: sgd, lr: 0.5}}
sweep: {repeats: 3}
YAML
# once: every id of 0..n-1 on exactly one `trial NNNN completed` line of FILE
once() {
  grep '^trial [0-9]* completed' "$1" | awk '{ print $2 + 0 }' | sort -n | uniq -c |
    awk -v n="$2" '$1 != 1 { bad = 1 } { k++ } END { exit !(k == n && !bad) }' \
    || fail "$1: not every one of $2 trials recorded exactly once: $(grep -c '^trial' "$1") trial lines"
}
for n in 3 600; do
  run_bprun 0 run x.yaml -o "xref$n" -t 1 --quiet --set sweep.repeats=$n || finish
  for np in 5 3; do
    mpi "$np" run x.yaml -o "x$n-$np" -t 1 --set sweep.repeats=$n >"x$n-$np.out" 2>"x$n-$np.err" \
      || fail "mpirun -np $np, $n trials: $(cat "x$n-$np.err")"
    once "x$n-$np.err" "$n"
    [ "$(ls "x$n-$np"/trials | wc -l)" = "$n" ] || fail "x$n-$np: $(ls "x$n-$np"/trials | wc -l) trial files, expected $n"
    $py same "xref$n/index.h5" "x$n-$np/index.h5" >&2 || fail "-np $np, $n trials: the index differs from one process's"
  done
done
for f in xref600/trials/0000.h5 xref600/trials/0299.h5 xref600/trials/0599.h5; do
  $py same "$f" "x600-3/${f#xref600/}" >&2 || fail "-np 3: ${f#xref600/} differs"
done
# --fail-fast: rank 0 tells the ranks to stop; the trials left in their batches go back and
# stay pending (never `running`); what ran is recorded once
mpi 3 run x.yaml -o ff -t 1 --fail-fast --set train.epochs=3 --sweep train.optimizer.lr=0.5,1e300 \
  --set sweep.repeats=100 >ff.out 2>ff.err && fail "--fail-fast under mpirun: exit 0"
grep -q '^trial [0-9]* diverged' ff.err || fail "--fail-fast: no diverged trial: $(cat ff.err)"
"$PYTHON_H5" - ff/index.h5 "$(ls ff/trials | grep -c '\.h5$')" "$(grep -c '^trial ' ff.err)" <<'PY' || fail "--fail-fast under mpirun: the index is wrong"
import sys, collections, h5py
st = collections.Counter(s.decode() for s in h5py.File(sys.argv[1], "r")["summary"]["status"])
ran = sum(v for k, v in st.items() if k != "pending")
ok = set(st) <= {"pending", "completed", "diverged"} and st["pending"] > 0 and ran == int(sys.argv[2]) == int(sys.argv[3])
print("fail-fast index:", dict(st), "files", sys.argv[2], "lines", sys.argv[3], file=sys.stderr)
sys.exit(0 if ok else 1)
PY

# trials lost (a rank died with them): the run resumes under mpirun and reruns only those
rm np3/trials/0003.h5 np3/trials/0010.h5
mpi 2 run s.yaml -o np3 -t 1 >res.out 2>res.err || fail "resume under mpirun: $(cat res.err)"
grep -qxF "bprun: resuming np3: 14 finished trials kept" res.err || fail "resume said: $(cat res.err)"
[ "$(grep -c '^trial [0-9]* completed' res.err)" = 2 ] || fail "resume ran: $(cat res.err)"
same_run np3

# a rank killed with SIGKILL: mpirun stops the job; run again, it resumes (finished trials
# kept, interrupted ones continued) to the same results
long="--set train.epochs=3000 --sweep train.optimizer.lr=0.05,0.2"
# shellcheck disable=SC2086
run_bprun 0 run s.yaml -o longref -t 1 --quiet $long || finish
# mpirun itself in the background (not through mpi(), a subshell), so that $! is its pid
# shellcheck disable=SC2086
"$BP_MPIRUN" --oversubscribe -np 2 -x BPRUN_PLUGIN_PATH -x OMP_WAIT_POLICY "$BPRUN" run s.yaml -o kill -t 1 --quiet $long >kill.out 2>kill.err &
mp=$!
i=0
while [ "$(ls kill/trials 2>/dev/null | grep -c '\.h5$')" -lt 2 ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
# the rank with the highest pid: not the first started (rank 0, normally); the children of
# mpirun from /proc (a minimal Debian has no pgrep)
children_of() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$1" '{ pid = $1; sub(/.*\) /, ""); if ($2 == p) print pid }'
}
ranks=$(children_of "$mp" | sort -n)
victim=$(echo "$ranks" | tail -n 1)
[ -n "$victim" ] && kill -9 "$victim"
wait "$mp"
# mpirun may exit before the other ranks have stopped (they end their epoch on SIGTERM)
for r in $ranks; do
  i=0
  while kill -0 "$r" 2>/dev/null && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
done
[ -n "$victim" ] || fail "no rank to kill: the run ended before 2 trial files were written"
[ "$(echo "$ranks" | wc -l)" = 2 ] || fail "mpirun -np 2 has children: $ranks"
# shellcheck disable=SC2086
mpi 2 run s.yaml -o kill -t 1 $long >kill.out 2>kill.err || fail "resume after a killed rank: $(cat kill.err)"
grep -q "^bprun: resuming kill: " kill.err || echo "note: the killed run had finished no trial" >&2
for f in longref/index.h5 longref/trials/*.h5; do
  $py same "$f" "kill/${f#longref/}" >&2 || fail "kill: ${f#longref/} differs after the resume"
done

# two threads per rank, trials in isolated child processes
mpi 2 run s.yaml -o iso -t 2 -j 2 --isolate >iso.out 2>iso.err || fail "mpirun --isolate: $(cat iso.err)"
run_bprun 0 run s.yaml -o isoref -t 2 -j 2 --quiet || finish
for f in isoref/index.h5 isoref/trials/*.h5; do
  $py same "$f" "iso/${f#isoref/}" >&2 || fail "iso: ${f#isoref/} differs"
done

# an error before the trials run: one message (rank 0's), exit 2, nothing written
mpi 2 run s.yaml -o bad -t 1 -q --set data.train=nothere.h5 >bad.out 2>bad.err
rc=$?
[ $rc = 2 ] || fail "config error under mpirun: exit $rc, expected 2"
[ "$(grep -c '^bprun: ' bad.err)" = 1 ] || fail "config error printed $(grep -c '^bprun: ' bad.err) times: $(cat bad.err)"
[ -e bad ] && fail "a refused MPI run created its folder"
tpe="$BP_SRCDIR/tests/search/xor-tpe.yaml"
mpi 2 run "$tpe" -o tpe -t 1 -q >tpe.out 2>tpe.err
grep -qxF "bprun: mpirun: the sweep uses sweep.search (tpe), whose batches need every earlier trial's results; run it in one process or in shards (--shard)" tpe.err \
  || fail "TPE under mpirun: $(cat tpe.err)"
[ "$(grep -c '^bprun: ' tpe.err)" = 1 ] || fail "the TPE error printed $(grep -c '^bprun: ' tpe.err) times"
[ -e tpe ] && fail "a refused TPE run under MPI created its folder"
run_bprun 0 run "$tpe" --set sweep.search.method=random -o rs1 -t 1 -q || finish
mpi 2 run "$tpe" --set sweep.search.method=random -o rs2 -t 1 -q >rs.out 2>rs.err || fail "random search under mpirun: $(cat rs.err)"
same_files rs1 rs2 "a random search in one process"

# rounds as barriers (src/rounds.h): rank 0 hands out only the current round's trials and
# every rank takes the round's decision on the same rows
write_config race.yaml <<'YAML'
experiment: race
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1], activation: tanh}
train: {epochs: 100, batch_size: 1, optimizer: {name: sgd, lr: 0.1}}
sweep:
  grid: {train.optimizer.lr: [0.001, 0.01, 0.1, 0.3, 1.0]}
  race: {metric: loss, min_repeats: 5, max_repeats: 30}
YAML
statuses() { "$PYTHON_H5" -c 'import h5py,sys; print(" ".join(r["status"].decode() for r in h5py.File(sys.argv[1])["summary"][()]))' "$1/index.h5"; }
race_attr() { "$PYTHON_H5" -c 'import h5py,sys; print(h5py.File(sys.argv[1]).attrs["race"])' "$1/index.h5"; }
run_bprun 0 run race.yaml -o rj1 -t 1 -j 1 --quiet || finish
run_bprun 0 run race.yaml -o rj2 -t 1 -j 2 --quiet || finish
for np in 2 3; do
  mpi "$np" run race.yaml -o "rnp$np" -t 1 -q >"rnp$np.out" 2>"rnp$np.err" || fail "race under mpirun -np $np: $(cat "rnp$np.err")"
  for ref in rj1 rj2; do
    [ "$(statuses "rnp$np")" = "$(statuses $ref)" ] || fail "race -np $np ran other trials than $ref: $(statuses "rnp$np")"
    [ "$(race_attr "rnp$np")" = "$(race_attr $ref)" ] || fail "race -np $np decided otherwise than $ref: $(race_attr "rnp$np")"
  done
  $py same rj1/index.h5 "rnp$np/index.h5" >&2 || fail "race -np $np: the index differs from -j 1's"
  for f in rj1/trials/*.h5; do
    $py same "$f" "rnp$np/${f#rj1/}" >&2 || fail "race -np $np: ${f#rj1/} differs"
  done
done
[ "$(ls rnp2/trials | wc -l)" -lt 150 ] || fail "the race under MPI ran every trial"
grep -q '^winner: point 4 (train.optimizer.lr=1.0)' rnp2.out || fail "race -np 2: no winner in the report: $(cat rnp2.out)"

# successive halving under MPI: trials pause at each rung in their files and go on from them;
# every trial file equals the one-process run's (per-epoch values, state, status, message)
H='sweep.halving={rungs: [20, 40], eta: 2, metric: val_loss}'
run_bprun 0 run s.yaml -o hj1 -t 1 -j 1 --quiet --set "$H" || finish
mpi 2 run s.yaml -o hnp2 -t 1 -q --set "$H" >hnp2.out 2>hnp2.err || fail "halving under mpirun: $(cat hnp2.err)"
$py same hj1/index.h5 hnp2/index.h5 >&2 || fail "halving -np 2: the index differs from -j 1's"
for f in hj1/trials/*.h5; do
  $py same "$f" "hnp2/${f#hj1/}" >&2 || fail "halving -np 2: ${f#hj1/} differs"
done
st=$(statuses hnp2)
[ "$(echo "$st" | tr ' ' '\n' | grep -c '^pruned$')" = 12 ] && [ "$(echo "$st" | tr ' ' '\n' | grep -c '^completed$')" = 4 ] ||
  fail "halving -np 2: statuses $st, expected 12 pruned and 4 completed"
finish
