#!/bin/sh
# sweep.race (F-Race): on points with a known order (XOR at five learning rates: the smallest
# barely learn in 100 epochs) the race keeps the best and drops the clearly worse ones in its
# first round; -j 1, -j 2 and --isolate run the same trials with the same bits and take the
# same decisions; a run killed mid-race resumes to the same end; the report and the index say
# who won, after how many repeats, and why each other point was dropped; misuses are refused.
. "$BP_SRCDIR/tests/lib.sh"
need_python
py="$PYTHON_H5 $BP_SRCDIR/tests/h5check.py"
cd "$T" || exit 1
write_config race.yaml <<'YAML'
experiment: race
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1], activation: tanh}
train: {epochs: 100, batch_size: 1, optimizer: {name: sgd, lr: 0.1}}
sweep:
  grid: {train.optimizer.lr: [0.001, 0.01, 0.1, 0.3, 1.0]}
  race: {metric: loss, min_repeats: 5, max_repeats: 30}
YAML
run_bprun 0 run race.yaml -o j1 -j 1 --quiet || finish
cp out j1.txt
run_bprun 0 run race.yaml -o j2 -j 2 --quiet || finish
run_bprun 0 run race.yaml -o iso --isolate -j 2 --quiet || finish
# the same trials ran, with the same bits, and the same decisions
statuses() { "$PYTHON_H5" -c 'import h5py,sys; print(" ".join(r["status"].decode() for r in h5py.File(sys.argv[1])["summary"][()]))' "$1/index.h5"; }
race_attr() { "$PYTHON_H5" -c 'import h5py,sys; print(h5py.File(sys.argv[1]).attrs["race"])' "$1/index.h5"; }
[ "$(statuses j1)" = "$(statuses j2)" ] || fail "-j 1 and -j 2 ran other trials"
[ "$(statuses j1)" = "$(statuses iso)" ] || fail "--isolate ran other trials"
[ "$(race_attr j1)" = "$(race_attr j2)" ] && [ "$(race_attr j1)" = "$(race_attr iso)" ] ||
  fail "the decisions differ: $(race_attr j1) / $(race_attr j2)"
for f in j1/trials/*.h5; do
  b=$(basename "$f")
  [ "$($py digest "$f")" = "$($py digest "j2/trials/$b")" ] || fail "trial $b differs between -j 1 and -j 2"
done
# in shards (a round is a barrier: each shard runs its share, waits for the others' trials,
# and takes the same decision): the trials, bits and decisions of the single process
"$BPRUN" run race.yaml -o sh --shard 1/3 -j 1 >s1.out 2>s1.err &
p1=$!
"$BPRUN" run race.yaml -o sh --shard 2/3 -j 1 >s2.out 2>s2.err &
p2=$!
run_bprun 0 run race.yaml -o sh --shard 3/3 -j 1 || fail "shard 3/3: $(cat err)"
wait $p1 || fail "shard 1/3: $(cat s1.err)"
wait $p2 || fail "shard 2/3: $(cat s2.err)"
[ "$(statuses sh)" = "$(statuses j1)" ] || fail "shards ran other trials: $(statuses sh)"
[ "$(race_attr sh)" = "$(race_attr j1)" ] || fail "shards decided otherwise: $(race_attr sh)"
for f in j1/trials/*.h5; do
  b=$(basename "$f")
  [ "$($py digest "$f")" = "$($py digest "sh/trials/$b")" ] || fail "trial $b differs in shards"
done
# the known order: lr 1.0 wins; 0.001 and 0.01 are dropped after the first round (5 repeats)
"$PYTHON_H5" - j1 <<'PY' || fail "race decisions: $(race_attr j1)"
import h5py, sys
f = h5py.File(sys.argv[1] + "/index.h5", "r")
race = f.attrs["race"]
rows = f["summary"][()]
st = [r["status"].decode() for r in rows]
assert set(st) == {"completed", "skipped"}, st
R = 30
ran = {p: sum(1 for r in range(R) if st[p * R + r] == "completed") for p in range(5)}
assert ran[0] == 5 and ran[1] == 5, ran          # dropped in round 1
assert ran[4] == max(ran.values()), ran          # the winner ran the most repeats
assert all(ran[p] <= ran[4] for p in ran), ran
# a point's repeats ran in order: 0 .. ran - 1
for p in range(5):
    assert all(st[p * R + r] == ("completed" if r < ran[p] else "skipped") for r in range(R)), (p, st[p*R:p*R+R])
lines = race.splitlines()
assert lines[0].startswith("race of 5 points on the final loss (lower is better)"), lines[0]
assert lines[1].startswith("round 1: 5 points x 5 repeats: Friedman chi2 "), lines[1]
assert "dropped point 0 (train.optimizer.lr=0.001): worse than the best" in race, race
assert "dropped point 1 (train.optimizer.lr=0.01): worse than the best" in race, race
assert lines[-1].startswith("winner: point 4 (train.optimizer.lr=1.0) after %d repeats; %d of 150 trials run" % (ran[4], sum(ran.values()))), lines[-1]
PY
# the report: the race's decisions, the winner's config last; skipped trials are not failures
grep -q "^race (sweep.race):$" j1.txt || fail "no race in the report: $(cat j1.txt)"
grep -q "^winner: point 4 (train.optimizer.lr=1.0) after " j1.txt || fail "no winner line"
sed -n '/^best setting/,$p' j1.txt | grep -q "optimizer: {name: sgd, lr: 1," || fail "best setting is not the winner's"
run_bprun 0 report j1 --format json || finish
"$PYTHON_H5" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["race"][-1].startswith("winner: point 4"), d["race"]; assert d["points"][0]["params"]["train.optimizer.lr"] == "1.0", d["points"][0]' out ||
  fail "json race"
# killed mid-race: the same command resumes and ends the same way
write_config slow.yaml <<'YAML'
experiment: race
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1], activation: tanh}
train: {epochs: 3000, batch_size: 1, optimizer: {name: sgd, lr: 0.1}}
sweep:
  grid: {train.optimizer.lr: [0.001, 0.01, 0.1, 0.3, 1.0]}
  race: {metric: loss, min_repeats: 5, max_repeats: 12}
YAML
run_bprun 0 run slow.yaml -o ref -j 2 --quiet || finish
"$BPRUN" run slow.yaml -o killed -j 2 --quiet >/dev/null 2>&1 &
pid=$!
i=0
while [ "$(ls killed/trials 2>/dev/null | grep -c '\.h5$')" -lt 12 ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
n_before=$(ls killed/trials | grep -c '\.h5$')
run_bprun 0 run slow.yaml -o killed -j 2 --quiet || fail "resume after SIGKILL"
[ "$(statuses killed)" = "$(statuses ref)" ] || fail "resumed race ran other trials ($n_before finished before the kill)"
[ "$(race_attr killed)" = "$(race_attr ref)" ] || fail "resumed race decided otherwise: $(race_attr killed)"
# misuse
write_config bad1.yaml <<'YAML'
experiment: r
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1]}
train: {epochs: 5}
sweep:
  grid: {train.optimizer.lr: [0.1, 1.0]}
  repeats: 3
  race: {metric: loss}
YAML
expect_err 2 "bprun: bad1.yaml:7:12: sweep.repeats: sweep.race sets the repeats (max_repeats): remove sweep.repeats" validate bad1.yaml
write_config bad2.yaml <<'YAML'
experiment: r
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1]}
train: {epochs: 5}
sweep:
  race: {metric: loss}
YAML
expect_err 2 "bprun: bad2.yaml:6:3: sweep.race: needs at least 2 points to race (the sweep has 1)" validate bad2.yaml
write_config bad3.yaml <<'YAML'
experiment: r
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1]}
train: {epochs: 5}
sweep:
  grid: {train.optimizer.lr: [0.1, 1.0]}
  race: {min_repeats: 4, max_repeats: 3}
YAML
expect_err 2 "bprun: bad3.yaml:7:39: sweep.race.max_repeats: must be >= min_repeats (got 3, min_repeats 4)" validate bad3.yaml
sed 's/race: {min_repeats: 4, max_repeats: 3}/race: {metric: loss, alpha: 1.5}/' bad3.yaml > bad4.yaml
expect_err 2 "bprun: bad4.yaml:7:31: sweep.race.alpha: must be in (0, 1) (got 1.5)" validate bad4.yaml
sed 's/race: {min_repeats: 4, max_repeats: 3}/race: {min_repeats: 2}/' bad3.yaml > bad5.yaml
expect_err 2 "bprun: bad5.yaml:7:3: sweep.race: metric val_loss needs validation data in every trial (set data.validation, or race on another metric)" validate bad5.yaml
sed 's/race: {min_repeats: 4, max_repeats: 3}/race: {metric: seconds}/' bad3.yaml > bad6.yaml
expect_err 2 "bprun: bad6.yaml:7:18: sweep.race.metric: expected loss, val_loss, best_val_loss, accuracy, val_accuracy, test_loss, test_accuracy or epochs_to_target (got 'seconds')" validate bad6.yaml
expect_err 2 "bprun: --trial 3: the sweep uses sweep.race, whose decisions need every trial; run the whole sweep" run race.yaml -o t3 --trial 3 --quiet
finish
