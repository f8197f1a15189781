#!/bin/sh
# sweep.pbt (population-based training, docs/SEARCH.md): the same files at -j 1 and -j 2; the
# winner's replay config gives its weights and its lineage's epoch rows bit for bit; a run
# killed with SIGKILL (or stopped with SIGINT) and resumed continues from its last generation's
# checkpoint and gives the uninterrupted run's files; the lineage in every
# report format; shards, --trial and unknown hyperparameters refused; and on a noisy linear
# regression whose optimum is known (validation targets without noise: val_loss -> 0), PBT
# beats the same population trained with fixed hyperparameters, by decaying the learning rate.
. "$BP_SRCDIR/tests/lib.sh"
need_python
py="$PYTHON_H5 $BP_SRCDIR/tests/h5check.py"
"$PYTHON_H5" - "$T/lin.h5" <<'PY'
import sys, numpy as np, h5py
rng = np.random.default_rng(1)
w = np.array([15, -20, 7, 3], dtype=np.float32)
with h5py.File(sys.argv[1], "w") as f:
    for name, noise in (("train", 1.0), ("val", 0.0)):
        X = rng.uniform(-1, 1, (200, 4)).astype(np.float32)
        Y = (X @ w + rng.normal(0, 1, 200) * noise)[:, None].astype(np.float32)
        g = f.create_group(name)
        g["X"] = X
        g["Y"] = Y
PY
write_config "$T/pbt.yaml" <<'YAML'
experiment: lin
seed: 3
data: {train: "lin.h5#/train", validation: "lin.h5#/val"}
model: {layers: [4, 1], output: identity, loss: mse}
train: {epochs: 30, batch_size: 1, optimizer: {name: sgd, lr: 0.1}}
sweep:
  pbt:
    population: 8
    interval: 3
    metric: val_loss
    exploit: {truncation: 0.25}
    explore: {perturb: [0.8, 1.2]}
    params: {train.optimizer.lr: {log_uniform: [0.0001, 0.3]}}
YAML

# determinism: -j 1 and -j 2 give the same files
run_bprun 0 run "$T/pbt.yaml" -o "$T/j1" -j 1 --threads 1 --quiet || finish
run_bprun 0 run "$T/pbt.yaml" -o "$T/j2" -j 2 --threads 1 --quiet || finish
same_files "$T/j1" "$T/j2" "-j 1"

# the lineage in every format
run_bprun 0 report "$T/j1" || finish
grep -q '^population-based training (sweep.pbt, 8 members, 3 epochs a generation): the winner is member' "$T/out" ||
  fail "report: no lineage: $(cat "$T/out")"
[ "$(grep -c '^[0-9][0-9]* *[0-9]*-[0-9]* *000[0-7] ' "$T/out")" -eq 10 ] || fail "report: not 10 generations"
run_bprun 0 report "$T/j1" --format markdown || finish
grep -q '^| generation | epochs | member | train.optimizer.lr | val_loss |$' "$T/out" || fail "markdown: no lineage table"
run_bprun 0 report "$T/j1" --format csv --table lineage || finish
head -1 "$T/out" | grep -qx 'generation,first_epoch,last_epoch,member,train.optimizer.lr,val_loss' ||
  fail "csv lineage header: $(head -1 "$T/out")"
[ "$(wc -l <"$T/out")" -eq 11 ] || fail "csv lineage: not 10 rows"
cp "$T/out" "$T/lineage.csv"
run_bprun 0 report "$T/j1" --format json || finish
"$PYTHON_H5" - "$T/out" "$T/replay.yaml" "$T/lineage.csv" <<'PY' || fail "json lineage"
import sys, json, csv
d = json.load(open(sys.argv[1]))["pbt"]
rows = list(csv.DictReader(open(sys.argv[3])))
assert d["population"] == 8 and d["interval"] == 3 and d["metric"] == "val_loss", d
assert [s["member"] for s in d["lineage"]] == [int(r["member"]) for r in rows]
assert d["lineage"][-1]["member"] == d["winner"]
assert len(set(s["member"] for s in d["lineage"])) > 1, "the winner's lineage shows no exploit"
open(sys.argv[2], "w").write(d["replay_config"])
PY

# the HTML report shows the lineage (with Chromium: the page's script draws the table)
run_bprun 0 report "$T/j1" --format html -o "$T/pbt.html" || finish
grep -q '"pbt": {"winner": ' "$T/pbt.html" || fail "html: no pbt in the page's report"
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$CHROME" ]; then
  HOME=$T timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$T/chrome" --dump-dom "file://$T/pbt.html" >"$T/dom" 2>/dev/null ||
    fail "chromium could not load the page"
  [ "$(grep -o '<table id="pbt-lineage">.*</table>' "$T/dom" | grep -o '<tr>' | wc -l)" -eq 11 ] ||
    fail "html: the lineage table has not 10 generations"
fi

# bprun-plot draws the members with the exploits and the winner's lineage (the same as the report's)
if "$PYTHON_H5" -c 'import matplotlib' >/dev/null 2>&1; then
  MPLCONFIGDIR="$T/mpl" "$BP_SRCDIR/scripts/bprun-plot" "$T/j1" -o "$T/plots" --dump "$T/plots.json" >"$T/pout" 2>&1 ||
    fail "bprun-plot: $(cat "$T/pout")"
  [ -s "$T/plots/pbt.png" ] || fail "bprun-plot wrote no pbt.png"
  "$PYTHON_H5" - "$T/plots.json" "$T/lineage.csv" <<'PY' || fail "bprun-plot's lineage differs from the report's"
import sys, json, csv
d = json.load(open(sys.argv[1]))["pbt_lineage"]
rows = list(csv.DictReader(open(sys.argv[2])))
assert [(x["first_epoch"], x["last_epoch"], x["member"]) for x in d] == \
    [(int(r["first_epoch"]), int(r["last_epoch"]), int(r["member"])) for r in rows], d
PY
fi

# the replay: a plain config (train.phases) that gives the winner's weights and optimizer state,
# and at every epoch the row of the member its lineage was at then, bit for bit
run_bprun 0 run "$T/replay.yaml" -o "$T/replay" --quiet || finish
"$PYTHON_H5" - "$T/j1" "$T/replay/trials/0000.h5" "$T/lineage.csv" <<'PY' || fail "the replay differs from the winner"
import sys, csv, h5py, numpy as np
run, rep, lin = sys.argv[1], h5py.File(sys.argv[2], "r"), list(csv.DictReader(open(sys.argv[3])))
win = h5py.File("%s/trials/%04d.h5" % (run, int(lin[-1]["member"])), "r")
for k in ("params", "optimizer/state"):
    a, b = rep["model/" + k][()], win["model/" + k][()]
    assert a.dtype == b.dtype and np.array_equal(a, b), k
assert "phases" in rep.attrs["resolved_config"]
for r in lin:
    m = h5py.File("%s/trials/%04d.h5" % (run, int(r["member"])), "r")
    for e in range(int(r["first_epoch"]) - 1, int(r["last_epoch"])):
        for c in ("loss", "val_loss", "lr", "accuracy"):
            a, b = rep["epochs/" + c][e], m["epochs/" + c][e]
            assert a == b or (np.isnan(a) and np.isnan(b)), (c, e, a, b)
        assert m["pbt/params/train.optimizer.lr"][e] == m["epochs/lr"][e]
PY

# the same with adam (moment estimates and step copied; beta1 perturbed as well)
run_bprun 0 run "$T/pbt.yaml" -o "$T/adam" -j 2 --quiet --set 'train.optimizer={name: adam, lr: 0.01}' \
  --set 'sweep.pbt.params={train.optimizer.lr: {log_uniform: [0.0001, 0.3]}, train.optimizer.beta1: {uniform: [0.5, 0.95]}}' || finish
run_bprun 0 report "$T/adam" --format json || finish
"$PYTHON_H5" - "$T/out" "$T/adam-replay.yaml" <<'PY' || fail "adam: json lineage"
import sys, json
d = json.load(open(sys.argv[1]))["pbt"]
assert len(set(s["member"] for s in d["lineage"])) > 1 and "beta1: " in d["replay_config"]
open(sys.argv[2], "w").write(d["replay_config"])
PY
win=$("$PYTHON_H5" -c 'import sys, json; print(json.load(open(sys.argv[1]))["pbt"]["winner"])' "$T/out")
run_bprun 0 run "$T/adam-replay.yaml" -o "$T/adam-replay" --quiet || finish
"$PYTHON_H5" - "$T/adam-replay/trials/0000.h5" "$(printf '%s/adam/trials/%04d.h5' "$T" "$win")" <<'PY' || fail "adam: the replay differs from the winner"
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
for k in ("params", "optimizer/state"):
    assert np.array_equal(a["model/" + k][()], b["model/" + k][()]), k
assert a["model/optimizer"].attrs["step"] == b["model/optimizer"].attrs["step"]
PY

# PBT beats the same population with fixed hyperparameters (sweep.random draws the same initial
# values), and the winner's lineage decays the learning rate
run_bprun 0 run "$T/pbt.yaml" -o "$T/fixed" -j 2 --quiet \
  --set 'sweep={random: {trials: 8, params: {train.optimizer.lr: {log_uniform: [0.0001, 0.3]}}}}' || finish
"$PYTHON_H5" - "$T/j1" "$T/fixed" "$T/lineage.csv" <<'PY' || fail "PBT does not beat the fixed population"
import sys, csv, glob, h5py
def best(run):
    return min(h5py.File(f, "r")["epochs/val_loss"][-1] for f in glob.glob(run + "/trials/*.h5"))
lin = list(csv.DictReader(open(sys.argv[3])))
p, f = best(sys.argv[1]), best(sys.argv[2])
lr0, lr1 = float(lin[0]["train.optimizer.lr"]), float(lin[-1]["train.optimizer.lr"])
print("pbt: best val_loss %.6g (fixed population %.6g), winner's lr %.4g -> %.4g" % (p, f, lr0, lr1),
      file=sys.stderr)
assert p < 0.95 * f and lr1 < lr0
PY

# SIGKILL during the run, then resume: the run continues from the last generation boundary every
# member's .part holds (its checkpoint) and gives the uninterrupted run's files
run_bprun 0 run "$T/pbt.yaml" -o "$T/long" -j 2 --threads 1 --quiet --set train.epochs=6000 --set sweep.pbt.interval=600 || finish
# A kill must come after the first checkpoint (epoch 600) and before the end; how long that
# takes depends on the machine, so the delay doubles until a kill lands there. Every resume,
# from a checkpoint or (killed before the first one) from the start, gives the same files.
kills=0 continued=0
for d in 0.1 0.2 0.4 0.8 1.6 3.2 6.4; do
  rm -rf "$T/killed"
  "$BPRUN" run "$T/pbt.yaml" -o "$T/killed" -j 2 --threads 1 --quiet --set train.epochs=6000 \
    --set sweep.pbt.interval=600 >/dev/null 2>&1 &
  pid=$!
  sleep "$d"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null
  if [ -z "$(ls "$T"/killed/trials/*.part 2>/dev/null)" ]; then
    [ -n "$(ls "$T"/killed/trials/*.h5 2>/dev/null)" ] && break      # finished first: too late
    continue                                                         # no file yet: too early
  fi
  run_bprun 0 run "$T/pbt.yaml" -o "$T/killed" -j 1 --threads 1 --set train.epochs=6000 --set sweep.pbt.interval=600 || finish
  same_files "$T/long" "$T/killed" "the uninterrupted run (after kill -9 at ${d} s and resume)"
  if grep -q '^bprun: sweep.pbt: continuing from the checkpoint at epoch [0-9]*00 (generation [0-9]* of 10)$' "$T/err"; then
    continued=1
    break
  fi
done
echo "pbt: $kills kills, resumed from a checkpoint: $continued" >&2
[ "$continued" = 1 ] || fail "no kill came between the first checkpoint and the end (delays 0.1-6.4 s), or the resumed run did not continue from one: $(cat "$T/err")"

# SIGINT: the members stop where they are, their .part files keep the last checkpoint (exit
# 130); as above, the delay doubles until the signal comes after the first checkpoint
continued=0
for d in 0.2 0.4 0.8 1.6 3.2 6.4; do
  rm -rf "$T/int"
  "$BPRUN" run "$T/pbt.yaml" -o "$T/int" -j 2 --threads 1 --quiet --set train.epochs=6000 \
    --set sweep.pbt.interval=600 >/dev/null 2>&1 &
  pid=$!
  sleep "$d"
  kill -INT "$pid"
  wait "$pid"
  st=$?
  [ "$st" -eq 0 ] && break                                           # finished first: too late
  [ "$st" -eq 130 ] || fail "SIGINT at $d s: exit $st"
  run_bprun 0 run "$T/pbt.yaml" -o "$T/int" -j 2 --threads 1 --set train.epochs=6000 --set sweep.pbt.interval=600 || finish
  same_files "$T/long" "$T/int" "the uninterrupted run (after SIGINT at $d s and resume)"
  if grep -q 'continuing from the checkpoint' "$T/err"; then
    continued=1
    break
  fi
done
[ "$continued" = 1 ] || fail "SIGINT: no signal came between the first checkpoint and the end (delays 0.2-6.4 s), or the run did not continue from one: $(cat "$T/err")"

# train.phases: the values it names from its epoch on, the others train.optimizer's; errors
run_bprun 0 run "$T/pbt.yaml" -o "$T/ph" --quiet --set sweep=null \
  --set 'train.optimizer={name: sgd, lr: 0.01, momentum: 0.5}' \
  --set 'train.phases=[{from: 5, optimizer: {lr: 0.004}}, {from: 9, optimizer: {momentum: 0.9}}]' || finish
"$PYTHON_H5" - "$T/ph/trials/0000.h5" <<'PY' || fail "train.phases: the lr column"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
lr = list(f["epochs/lr"][()])
assert lr == [0.01] * 4 + [0.004] * 4 + [0.01] * 22, lr
assert "phases: [{from: 5, optimizer: {name: sgd, lr: 0.004, momentum: 0.5" in f.attrs["resolved_config"]
PY
expect_err 2 "bprun: --set:1:42: train.phases[1]: from must increase along the list (got 2 after 3)" \
  validate "$T/pbt.yaml" --set sweep=null --set 'train.phases=[{from: 3, optimizer: {lr: 0.1}}, {from: 2, optimizer: {lr: 1}}]'
expect_err 2 "bprun: --set:1:9: train.phases[0].from: must be <= train.epochs (got 31, train.epochs 30)" \
  validate "$T/pbt.yaml" --set sweep=null --set 'train.phases=[{from: 31, optimizer: {lr: 0.1}}]'
expect_err 2 "bprun: --set:1:30: train.phases[0].optimizer.name: a phase changes hyperparameters, not the optimizer (got adam, train.optimizer is sgd)" \
  validate "$T/pbt.yaml" --set sweep=null --set 'train.phases=[{from: 3, optimizer: {name: adam}}]'
expect_err 2 "bprun: --set:1:28: train.phases[0].optimizer.lr: needs the constant train.schedule (got cosine)" \
  validate "$T/pbt.yaml" --set sweep=null --set train.schedule=cosine --set 'train.phases=[{from: 3, optimizer: {lr: 0.1}}]'
expect_err 2 "bprun: $T/pbt.yaml:7:3: sweep.pbt: cannot be used with train.phases (PBT sets a member's hyperparameters)" \
  validate "$T/pbt.yaml" --set 'train.phases=[{from: 3, optimizer: {lr: 0.1}}]'

# under valgrind (configure --enable-valgrind): a small PBT run, its report and its replay
if [ -n "${BP_VALGRIND:-}" ]; then
  vg="$BP_VALGRIND --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect"
  $vg "$BPRUN" run "$T/pbt.yaml" -o "$T/vg" -j 2 --quiet --set train.epochs=6 --set sweep.pbt.interval=2 \
    --set sweep.pbt.population=4 >/dev/null 2>"$T/vg.log" || fail "valgrind run: $(grep -E 'ERROR SUMMARY|lost' "$T/vg.log")"
  $vg "$BPRUN" report "$T/vg" --format json >"$T/vg.json" 2>"$T/vg.log" || fail "valgrind report: $(grep -E 'ERROR SUMMARY|lost' "$T/vg.log")"
  "$PYTHON_H5" -c 'import sys, json; open(sys.argv[2], "w").write(json.load(open(sys.argv[1]))["pbt"]["replay_config"])' \
    "$T/vg.json" "$T/vg.yaml" || fail "valgrind: no replay config"
  $vg "$BPRUN" run "$T/vg.yaml" -o "$T/vg-replay" --quiet >/dev/null 2>"$T/vg.log" || fail "valgrind replay: $(grep -E 'ERROR SUMMARY|lost' "$T/vg.log")"
fi

# refused: beside Hyperband (the population is the whole search), shards (the generations
# need every member), --trial, a hyperparameter sgd lacks
expect_err 2 "bprun: $T/pbt.yaml:7:3: sweep.pbt: cannot be used with sweep.hyperband (the population is the whole search)" \
  run "$T/pbt.yaml" -o "$T/hb" --set 'sweep.hyperband={max_epochs: 9, eta: 3}'
expect_err 2 "bprun: --shard: the sweep uses sweep.pbt, whose rounds need every trial's results; run it in one process" \
  run "$T/pbt.yaml" -o "$T/sh" --shard 1/2
expect_err 2 "bprun: --trial 1: the sweep uses sweep.pbt, whose decisions need every trial; run the whole sweep" \
  run "$T/pbt.yaml" -o "$T/tr" --trial 1
run_bprun 2 run "$T/pbt.yaml" -o "$T/bad" --set 'sweep.pbt.params={train.optimizer.mu: {uniform: [0, 1]}}'
grep -q "^bprun: --set:1:22: train.optimizer.mu: sgd has no hyperparameter 'mu'" "$T/err" || fail "unknown hyperparameter: $(cat "$T/err")"
finish
