#!/bin/sh
# sweep.search with TPE (docs/SEARCH.md): -j 1, -j 2 and shards run the same trials (the same
# points, the same bits, the same /params); a search killed with SIGKILL resumes to the same
# end; on a synthetic objective with a known best region (XOR 2-3-1 needs a large lr and a
# high momentum) TPE's median best loss over 7 seeds beats random search's, and its trials after
# the startup land in the good region more often; misuses are refused with file:line:col.
. "$BP_SRCDIR/tests/lib.sh"
need_python
py="$PYTHON_H5 $BP_SRCDIR/tests/h5check.py"
cd "$T" || exit 1
cfg="$BP_SRCDIR/tests/search/xor-tpe.yaml"
params() { "$PYTHON_H5" -c 'import h5py,sys; print("\n".join(" ".join(v.decode() for v in r) for r in h5py.File(sys.argv[1])["params"][()]))' "$1/index.h5"; }
digests() { for f in "$1"/trials/*.h5; do $py digest "$f"; done; }

run_bprun 0 run "$cfg" -o j1 -j 1 --quiet || finish
run_bprun 0 run "$cfg" -o j2 -j 2 --quiet || finish
[ "$(digests j2)" = "$(digests j1)" ] || fail "-j 2 trials differ from -j 1's"
params j1 >p1
grep -q '(tpe)' p1 && fail "the index still shows undecided trials: $(cat p1)"
[ "$(sort -u p1 | wc -l)" -eq 24 ] || fail "expected 24 distinct points: $(cat p1)"
# the batch after the startup (trials 8-11) is TPE's: sgd with a large lr
sed -n 9,12p p1 | grep -q 'name: sgd' || fail "TPE's first batch: $(sed -n 9,12p p1)"
# every trial file ran the point the index names (its resolved config)
"$PYTHON_H5" - j1 <<'PY' || fail "trial configs and /params disagree"
import h5py, sys, re
d = sys.argv[1]
rows = h5py.File(d + "/index.h5")["params"][()]
for i, r in enumerate(rows):
    opt = r[0].decode()
    m = re.search(r"lr: ([^,}]+)", opt)
    cfg = h5py.File("%s/trials/%04d.h5" % (d, i)).attrs["resolved_config"]
    cfg = cfg.decode() if isinstance(cfg, bytes) else cfg
    assert "lr: " + m.group(1) in cfg, (i, opt)
    assert "batch_size: " + r[1].decode() in cfg, (i, r[1])
PY

# the report: best so far against trials and epochs spent, in every format
run_bprun 0 report j1 || finish
grep -q '^search (sweep.search, tpe): best loss so far (lower is better), batches of 4, the first 8 trials from the prior$' out ||
  fail "text report: no search section: $(cat out)"
run_bprun 0 report j1 --format markdown && grep -q '^\*\*Search\*\* (sweep.search, tpe)' out ||
  fail "markdown report: no search section"
run_bprun 0 report j1 --format json && cp out rep.json
run_bprun 0 report j1 --format csv --table search && cp out rep.csv
"$PYTHON_H5" - j1 <<'PY' || fail "the best-so-far curve is wrong"
import csv, json, sys, h5py, numpy as np
loss = h5py.File(sys.argv[1] + "/index.h5")["summary"]["final_loss"]
best = np.minimum.accumulate(loss)
rows = list(csv.DictReader(open("rep.csv")))
assert [int(r["trial"]) for r in rows] == list(range(24))
assert all(float(r["best_so_far"]) == b for r, b in zip(rows, best)), rows
assert [int(r["epochs_spent"]) for r in rows] == [40 * (i + 1) for i in range(24)]
assert [int(r["batch"]) for r in rows] == [i // 4 for i in range(24)]
s = json.load(open("rep.json"))["search"]
assert s["method"] == "tpe" and s["metric"] == "loss" and s["batch"] == 4 and len(s["curve"]) == 24
assert s["curve"][-1]["best"] == best[-1] and s["curve"][-1]["best_trial"] == int(np.argmin(loss))
PY
run_bprun 0 run "$BP_SRCDIR/tests/search/xor-tpe.yaml" --set sweep=null -o plain --quiet || finish
expect_err 2 "bprun: plain: --table search: not the run of a sweep.search" report plain --format csv --table search
expect_err 2 "bprun report: --table: expected trials, points, comparisons, epochs, lineage or search (got 'serch')" report plain --format csv --table serch

# shards: each runs its share of a batch, waits for the others', decides the next alike
"$BPRUN" run "$cfg" -o sh --shard 1/2 -j 1 >s1.out 2>s1.err &
p1=$!
run_bprun 0 run "$cfg" -o sh --shard 2/2 -j 1 || fail "shard 2/2: $(cat err)"
wait $p1 || fail "shard 1/2: $(cat s1.err)"
[ "$(params sh)" = "$(cat p1)" ] || fail "shards decided other points: $(params sh)"
[ "$(digests sh)" = "$(digests j1)" ] || fail "shards' trials differ from one process's"

# SIGKILL in the middle, then resume: the same points and bits as the uninterrupted run
write_config slow.yaml <<YAML
experiment: slow
seed: 1
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1], activation: tanh}
train: {epochs: 3000, batch_size: 1, optimizer: {name: sgd, lr: 0.1}}
sweep:
  search:
    trials: 12
    batch: 3
    startup: 3
    metric: loss
    params: {train.optimizer.lr: {log_uniform: [1e-3, 3]}, train.optimizer.momentum: {uniform: [0, 0.9]}}
YAML
# (trials of 300000 epochs, tens of milliseconds each: the kill lands while batches remain)
kl="--set train.epochs=300000"
run_bprun 0 run slow.yaml -o ref -j 2 --quiet $kl || finish
"$BPRUN" run slow.yaml -o killed -j 2 --quiet $kl >/dev/null 2>&1 &
pk=$!
i=0
while [ "$(ls killed/trials 2>/dev/null | grep -c '^000[3-9].h5$')" -lt 1 ] && [ $i -lt 400 ]; do
  sleep 0.05
  i=$((i + 1))
done
kill -9 $pk 2>/dev/null
wait $pk 2>/dev/null
n=$(ls killed/trials | grep -c '\.h5$')
[ "$n" -lt 12 ] || fail "the kill came after the end ($n trial files): the test checked nothing"
run_bprun 0 run slow.yaml -o killed -j 2 --quiet $kl || fail "resume: $(cat err)"
[ "$(params killed)" = "$(params ref)" ] || fail "the resumed search decided other points"
[ "$(digests killed)" = "$(digests ref)" ] || fail "the resumed search's trials differ"

# SIGINT: the running trials end as interrupted with their state saved; the resumed search
# continues them (TPE's ones once their batch is decided again) to the same end
long="--set train.epochs=300000 --set sweep.search.trials=6"
run_bprun 0 run slow.yaml -o ref2 -j 2 --quiet $long || finish
"$BPRUN" run slow.yaml -o int -j 2 --quiet $long >/dev/null 2>int.err &
pk=$!
i=0
while [ "$(ls int/trials 2>/dev/null | grep -c '^000[3-5].h5')" -lt 1 ] && [ $i -lt 600 ]; do
  sleep 0.05
  i=$((i + 1))
done
kill -INT $pk 2>/dev/null
wait $pk
"$PYTHON_H5" -c 'import h5py,sys; s=h5py.File(sys.argv[1])["summary"]["status"]; sys.exit(0 if any(x.decode() == "interrupted" for x in s[3:]) else 1)' int/index.h5 ||
  fail "SIGINT: no trial of TPE's batch was interrupted (the test checked nothing)"
run_bprun 0 run slow.yaml -o int -j 2 --quiet $long || fail "resume after SIGINT: $(cat err)"
[ "$(params int)" = "$(params ref2)" ] || fail "the search resumed after SIGINT decided other points"
[ "$(digests int)" = "$(digests ref2)" ] || fail "the search resumed after SIGINT: trials differ"

# the known best region: TPE beats random on the median over 7 seeds
for m in tpe random; do
  for s in 1 2 3 4 5 6 7; do
    run_bprun 0 run "$cfg" --set seed=$s --set sweep.search.method=$m -o "$m$s" -j 2 --quiet ||
      finish
  done
done
"$PYTHON_H5" - <<'PY' || fail "TPE did not beat random search"
import h5py, numpy as np
best, good = {}, {}
for m in ("tpe", "random"):
    l = [h5py.File("%s%d/index.h5" % (m, s))["summary"]["final_loss"] for s in range(1, 8)]
    best[m] = np.median([x.min() for x in l])
    good[m] = np.median([(x[8:] < 0.01).sum() for x in l])
print("median best loss: tpe %.3g, random %.3g; median trials after the startup below 0.01: "
      "tpe %g, random %g" % (best["tpe"], best["random"], good["tpe"], good["random"]))
assert best["tpe"] < best["random"] and good["tpe"] > good["random"]
PY

# misuses
write_config bad1.yaml <<'YAML'
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1]}
sweep:
  grid: {train.epochs: [1, 2]}
  search: {trials: 4, params: {train.optimizer.lr: {uniform: [0.1, 1]}}}
YAML
expect_err 2 "bprun: bad1.yaml:5:3: sweep.search: cannot be combined with other sweep blocks or --sweep (got sweep.grid)" validate bad1.yaml
write_config bad2.yaml <<'YAML'
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1]}
sweep:
  search:
    trials: 4
    params:
      train.optimizer: {choice: [{name: sgd, lr: {log_uniform: [0, 1]}}, {name: adam}]}
YAML
expect_err 2 "bprun: bad2.yaml:7:64: sweep.search.params.train.optimizer.choice[0].lr.log_uniform: expected 0 < low < high (got [0, 1])" validate bad2.yaml
write_config bad3.yaml <<'YAML'
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1]}
sweep:
  search: {trials: 4, bach: 2, params: {train.optimizer.lr: {uniform: [0.1, 1]}}}
YAML
expect_err 2 "bprun: bad3.yaml:4:23: sweep.search.bach: unknown key (did you mean 'batch'?)" validate bad3.yaml
# a point TPE proposes that the config refuses stops the run, naming the trial and its value
# (seed 22: the prior draws of trials 0 and 1 and the stand-ins are valid, TPE proposes 0)
write_config inv.yaml <<'YAML'
experiment: inv
seed: 22
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1], activation: tanh}
train: {epochs: 20, batch_size: 1, optimizer: {name: sgd, lr: 0.5}}
sweep:
  search:
    trials: 12
    batch: 2
    startup: 2
    metric: loss
    params:
      model.layers[1]: {int: [0, 4]}
YAML
expect_err 2 "bprun: inv.yaml:13:24: model.layers[1]: must be >= 1 (got 0) (in trial 2: model.layers[1]=0)" run inv.yaml -o inv --quiet
[ "$(params inv | sed -n 3p)" = "0" ] || fail "the index does not name the refused point: $(params inv)"
expect_err 2 "bprun: --trial 3: the sweep uses sweep.search (tpe), whose decisions need every trial; run the whole sweep" run "$cfg" -o t --trial 3
finish
