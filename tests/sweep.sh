#!/bin/sh
# Sweeps: the trial table, stable ids and seeds, bit-identical trials whatever -j, --threads or
# --trial, failures recorded while the sweep goes on, --fail-fast, the report's formats.
. "$BP_SRCDIR/tests/lib.sh"
need_python
py="$PYTHON_H5 $BP_SRCDIR/tests/h5check.py"
write_config "$T/s.yaml" <<'YAML'
experiment: sw
seed: 7
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1], activation: tanh, output: sigmoid, loss: mse, init: {scheme: uniform, range: 1.0}}
train: {epochs: 150, batch_size: 1, shuffle: true, optimizer: {name: sgd, lr: 0.5}}
sweep:
  grid: {train.optimizer.lr: [0.2, 0.5, 1.0]}
  repeats: 2
YAML
run_bprun 0 validate "$T/s.yaml" || finish
grep -q '^# 6 trials (3 points x 2 repeats), sweep hash [0-9a-f]\{16\}$' "$T/out" || fail "validate header: $(head -3 "$T/out")"
run_bprun 0 run "$T/s.yaml" -o "$T/a" -j 1 --threads 1 --quiet || finish
run_bprun 0 run "$T/s.yaml" -o "$T/b" -j 2 --threads 2 --quiet || finish
run_bprun 0 run "$T/s.yaml" -o "$T/c" -j 1 --threads 2 --quiet || finish
for i in 0000 0001 0002 0003 0004 0005; do
  da=$($py digest "$T/a/trials/$i.h5"); db=$($py digest "$T/b/trials/$i.h5"); dc=$($py digest "$T/c/trials/$i.h5")
  [ -n "$da" ] && [ "$da" = "$db" ] && [ "$da" = "$dc" ] || fail "trial $i differs across -j/--threads"
done
# seeds: repeat r uses seed + r; points share them (paired comparison)
[ "$($py attr "$T/a/trials/0000.h5" seed)" = 7 ] && [ "$($py attr "$T/a/trials/0001.h5" seed)" = 8 ] \
  && [ "$($py attr "$T/a/trials/0004.h5" seed)" = 7 ] || fail "seeds"
# one trial alone gives the same bits as inside the sweep
run_bprun 0 run "$T/s.yaml" -o "$T/one" --trial 3 --quiet || finish
[ "$($py digest "$T/one/trials/0003.h5")" = "$($py digest "$T/a/trials/0003.h5")" ] || fail "--trial 3 differs"
[ -e "$T/one/trials/0000.h5" ] && fail "--trial 3 ran other trials"
# --sweep replaces the grid axis
run_bprun 0 validate "$T/s.yaml" --sweep train.optimizer.lr=0.1,0.3 || finish
grep -q '^# 4 trials (2 points x 2 repeats)' "$T/out" || fail "--sweep replace: $(head -2 "$T/out")"
# the report, in every format
run_bprun 0 report "$T/a" --format csv || finish
[ "$(wc -l < "$T/out")" = 7 ] || fail "csv rows: $(cat "$T/out")"
head -n 1 "$T/out" | grep -q '^rank,trial,seed,train.optimizer.lr,status,' || fail "csv header"
run_bprun 0 report "$T/a" --format json || finish
"$PYTHON_H5" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["trials"] == 6 and len(d["ranked"]) == 6 and len(d["points"]) == 3, d' "$T/out" || fail "json report"
run_bprun 0 report "$T/a" --format markdown || finish
grep -q '^| rank | trial | train.optimizer.lr |' "$T/out" || fail "markdown header: $(head -3 "$T/out")"
run_bprun 0 report "$T/a" || finish
grep -q '^points over their repeats, ranked by the mean of the final loss' "$T/out" || fail "text points: $(cat "$T/out")"
grep -q '^best setting (trial [0-9]*), ready to rerun:$' "$T/out" || fail "best setting"
# the best setting is a config bprun accepts
sed -n '/^best setting/,$p' "$T/out" | tail -n +2 > "$T/best.yaml"
run_bprun 0 validate "$T/best.yaml" || fail "best setting does not validate"
# the best setting reruns from anywhere: relative data paths made absolute, the best point's
# first repeat with a note on its repeats, nothing after it
mkdir -p "$T/cfgs" "$T/data" "$T/else/where"
"$BPRUN" import builtin:xor -o "$T/data/x.h5#/train" >/dev/null 2>&1 || fail "import"
write_config "$T/cfgs/rel.yaml" <<'YAML'
experiment: rel
data: {train: ../data/x.h5#/train}
model: {layers: [2, 2, 1]}
train: {epochs: 5, batch_size: 1, optimizer: {name: sgd, lr: 0.5}}
sweep: {grid: {train.optimizer.lr: [0.5, 1.0]}, repeats: 2}
YAML
(cd "$T/cfgs" && "$BPRUN" run rel.yaml -o "$T/rel" --quiet >"$T/rel.out" 2>&1) || fail "rel run: $(cat "$T/rel.out")"
sed -n '/^best setting/,$p' "$T/rel.out" | tail -n +2 > "$T/else/where/best.yaml"
grep -qx "# the best point's first repeat; to rerun all 2 repeats, add: sweep: {repeats: 2}" "$T/else/where/best.yaml" ||
  fail "best setting: no repeats note: $(head -3 "$T/else/where/best.yaml")"
grep -qx "  train: $T/cfgs/../data/x.h5#/train" "$T/else/where/best.yaml" || fail "best setting: data path not absolute: $(grep train: "$T/else/where/best.yaml")"
[ "$(tail -n 1 "$T/rel.out")" = "output: runs" ] || fail "something follows the best setting: $(tail -n 2 "$T/rel.out")"
(cd / && "$BPRUN" validate "$T/else/where/best.yaml" >/dev/null 2>&1) || fail "the best setting does not validate elsewhere"
# a failing point does not stop the sweep; the exit status says it failed
write_config "$T/f.yaml" <<'YAML'
experiment: fails
data: {train: "builtin:xor"}
model: {layers: [2, 2, 1], activation: identity, output: identity}
train: {epochs: 20, batch_size: 1, shuffle: false, optimizer: {name: sgd, lr: 0.1}}
sweep: {grid: {train.optimizer.lr: [0.01, 1.5, 0.02]}}
YAML
run_bprun 1 run "$T/f.yaml" -o "$T/f" -j 1 --quiet || finish
grep -q 'note: trial 0001 diverged: training loss became NaN at epoch 2' "$T/out" || fail "diverged note: $(cat "$T/out")"
[ "$($py attr "$T/f/trials/0002.h5" status)" = completed ] || fail "sweep stopped at the failure"
run_bprun 1 run "$T/f.yaml" -o "$T/ff" -j 1 --fail-fast --quiet || finish
[ -e "$T/ff/trials/0002.h5" ] && fail "--fail-fast ran on"
finish
