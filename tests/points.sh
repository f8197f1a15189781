#!/bin/sh
# bprun report by points: every point's summary and every comparison in --format json equals
# what SciPy computes from the index's own values (paired Wilcoxon over shared seeds, the
# Mann-Whitney U test without one, Holm's adjustment, t and order-statistic intervals, Wilson
# intervals); failed repeats are counted, never dropped silently; the direction of each metric;
# csv and text carry the same numbers; usage errors.
. "$BP_SRCDIR/tests/lib.sh"
py=
for c in "${PYTHON_H5:-}" /usr/bin/python3 python3; do
  [ -n "$c" ] && "$c" -c 'import scipy, h5py' >/dev/null 2>&1 && { py=$c; break; }
done
[ -n "$py" ] || skip "no Python with SciPy and h5py (apt-get install python3-scipy python3-h5py)"
write_config "$T/p.yaml" <<'YAML'
experiment: points
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1], activation: tanh, output: identity, loss: mse}
train: {epochs: 60, batch_size: 1, optimizer: {name: sgd, lr: 0.1}, target_loss: 0.05}
sweep:
  grid: {train.optimizer.lr: [0.05, 0.2, 0.6, 1.6]}
  repeats: 8
YAML
# lr 1.6 diverges: failed repeats in a point
run_bprun 1 run "$T/p.yaml" -o "$T/p" --quiet -j 2 || { [ -f "$T/p/index.h5" ] || finish; }
run_bprun 0 report "$T/p" --format json || finish
cp "$T/out" "$T/p.json"
run_bprun 0 report "$T/p" --format json --all-pairs --by median || finish
cp "$T/out" "$T/pall.json"
run_bprun 0 report "$T/p" --format csv --table points || finish
cp "$T/out" "$T/p.csv"
run_bprun 0 report "$T/p" --format csv --table comparisons || finish
cp "$T/out" "$T/c.csv"
run_bprun 0 report "$T/p" || finish
cp "$T/out" "$T/p.txt"
run_bprun 0 report "$T/p" --format json --metric epochs_to_target || finish
cp "$T/out" "$T/e2t.json"
# unpaired: two points whose finished repeats share no seed (trials 0-2 of one point, seeds
# 1-3, and 9-11 of the other, seeds 4-6; the rest not run)
write_config "$T/u.yaml" <<'YAML'
experiment: unpaired
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1], activation: tanh}
train: {epochs: 40, batch_size: 1, optimizer: {name: sgd, lr: 0.3}}
seed: 1
sweep:
  variants: [{train.optimizer.lr: 0.3}, {train.optimizer.lr: 0.05}]
  repeats: 6
YAML
for t in 0 1 2 9 10 11; do
  run_bprun 0 run "$T/u.yaml" -o "$T/u" --quiet --trial $t || finish
done
run_bprun 0 report "$T/u" --format json --metric accuracy || finish
cp "$T/out" "$T/acc.json"
"$py" - "$T" <<'PY' || fail "report numbers differ from SciPy's"
import csv, json, math, sys
import h5py
import numpy as np
from scipy import stats

T = sys.argv[1]
bad = 0


def same(what, got, want, rel=1e-9):
    global bad
    # JSON and csv write NaN and infinities (a failed repeat's difference) as null / empty
    if got is None and (want is None or (isinstance(want, float) and not math.isfinite(want))):
        return
    if got is not None and want is not None and math.isclose(got, want, rel_tol=rel,
                                                             abs_tol=1e-12):
        return
    bad += 1
    print(f"FAIL: {what}: bprun {got!r}, expected {want!r}")


f = h5py.File(T + "/p/index.h5", "r")
rows = f["summary"][()]
params = f["params"][()]
trial = {int(r["trial"]): r for r in rows}
lr_of = {int(r["trial"]): params[i][0].decode() for i, r in enumerate(rows)}
status = {t: r["status"].decode() for t, r in trial.items()}
loss = {t: float(r["final_loss"]) for t, r in trial.items()}
seed = {t: int(r["seed"]) for t, r in trial.items()}
rep = json.load(open(T + "/p.json"))
assert rep["metric"] == "loss" and rep["by"] == "mean" and rep["higher_is_better"] is False, rep
pts = rep["points"]
assert sum(p["n"] for p in pts) == 32 and len(pts) == 4, pts
failed = sum(1 for t in status if status[t] in ("diverged", "failed"))
assert failed > 0, "no failed repeat: the test needs one"
assert sum(p["failed"] for p in pts) == failed, (failed, [p["failed"] for p in pts])
vals = {}
for p in pts:
    lr = p["params"]["train.optimizer.lr"]
    ids = [t for t in trial if lr_of[t] == lr]
    assert sorted(ids) == p["trials"], (lr, ids, p["trials"])
    v = np.array([loss[t] for t in ids if status[t] == "completed" and math.isfinite(loss[t])])
    vals[lr] = v
    assert p["n_value"] == len(v) and p["failed"] == sum(status[t] != "completed" for t in ids)
    if len(v):
        same(f"{lr} mean", p["mean"], v.mean())
        same(f"{lr} median", p["median"], float(np.median(v)))
        same(f"{lr} q1", p["q1"], float(np.percentile(v, 25)))
    if len(v) > 1:
        same(f"{lr} sd", p["sd"], v.std(ddof=1))
        lo, hi = stats.t.interval(0.95, len(v) - 1, loc=v.mean(), scale=stats.sem(v))
        same(f"{lr} ci_low", p["ci_low"], lo)
        same(f"{lr} ci_high", p["ci_high"], hi)
    # success against train.target_loss, Wilson interval
    fin = [t for t in ids if status[t] in ("completed", "diverged", "failed")]
    reached = sum(1 for t in fin if int(trial[t]["epochs_to_target"]) > 0)
    assert p["reached"] == reached, (lr, p["reached"], reached)
    ci = stats.binomtest(reached, len(fin)).proportion_ci(method="wilson")
    same(f"{lr} success_ci_low", p["success_ci_low"], ci.low)
    same(f"{lr} success_ci_high", p["success_ci_high"], ci.high)
# ranked by mean loss, lower first; points without a value last
means = [p["mean"] for p in pts if p["mean"] is not None]
assert means == sorted(means), means
# the best against the others: Wilcoxon over shared seeds (failed repeats worst), Holm
cmp = rep["comparisons"]
assert [(c["a"], c["b"]) for c in cmp] == [(1, k) for k in range(2, 5)], cmp


def worst_or_value(t):
    if status[t] in ("diverged", "failed"):
        return math.inf
    return loss[t] if status[t] == "completed" and math.isfinite(loss[t]) else None


ps = []
for c in cmp:
    la, lb = pts[c["a"] - 1]["params"]["train.optimizer.lr"], pts[c["b"] - 1]["params"]["train.optimizer.lr"]
    a = {seed[t]: worst_or_value(t) for t in trial if lr_of[t] == la}
    b = {seed[t]: worst_or_value(t) for t in trial if lr_of[t] == lb}
    common = sorted(s for s in a if s in b and a[s] is not None and b[s] is not None)
    d = [a[s] - b[s] if not (math.isinf(a[s]) and math.isinf(b[s])) else 0.0 for s in common]
    assert c["paired"] and c["n_pairs"] == len(common), c
    assert c["wins_a"] == sum(x < 0 for x in d) and c["losses_a"] == sum(x > 0 for x in d), c
    od = [-x for x in d]
    nz = [x for x in od if x != 0]
    if nz:
        exact = len(nz) <= 50 and len(nz) == len(od) and len(set(abs(x) for x in nz)) == len(nz)
        r = stats.wilcoxon(od, method="exact" if exact else "approx")
        same(f"1 vs {c['b']} p", c["p_value"], r.pvalue)
        same(f"1 vs {c['b']} statistic", c["statistic"], r.statistic)
        same(f"1 vs {c['b']} diff", c["diff"], float(np.median(d)))
    ps.append(c["p_value"])
order = np.argsort(ps, kind="stable")
run_max, holm = 0.0, [0.0] * len(ps)
for j, i in enumerate(order):
    run_max = max(run_max, (len(ps) - j) * ps[i])
    holm[i] = min(1.0, run_max)
for c, h in zip(cmp, holm):
    same(f"1 vs {c['b']} p_holm", c["p_holm"], h)
    if h < 0.05:
        assert c["verdict"] == ("better" if c["wins_a"] > c["losses_a"] else "worse"), c
    else:
        assert c["verdict"] == "not distinguishable", c
# --all-pairs --by median: every pair, Holm over all of them
allp = json.load(open(T + "/pall.json"))
assert allp["by"] == "median" and len(allp["comparisons"]) == 6, allp["comparisons"]
med = [p["median"] for p in allp["points"] if p["median"] is not None]
assert med == sorted(med), med
# csv carries the json's numbers, numbers as numbers, missing as empty
with open(T + "/p.csv") as fh:
    prow = list(csv.DictReader(fh))
for p, r in zip(pts, prow):
    for k in ("mean", "sd", "ci_low", "ci_high", "median", "median_ci_low", "success"):
        want = p[k]
        got = float(r[k]) if r[k] != "" else None
        same(f"csv points {k}", got, want, rel=0)
with open(T + "/c.csv") as fh:
    crow = list(csv.DictReader(fh))
for c, r in zip(cmp, crow):
    for k in ("p_value", "p_holm", "diff"):
        same(f"csv comparisons {k}", float(r[k]) if r[k] != "" else None, c[k], rel=0)
    assert r["verdict"] == c["verdict"]
# text: the same verdicts, and the points table
txt = open(T + "/p.txt").read()
assert "points over their repeats, ranked by the mean of the final loss (lower is better)" in txt, txt
for c in cmp:
    assert c["verdict"] in txt
# accuracy: higher is better
acc = json.load(open(T + "/acc.json"))
assert acc["metric"] == "accuracy" and acc["higher_is_better"] is True
a = [p["mean"] for p in acc["points"]]
assert a == sorted(a, reverse=True), a
# epochs_to_target: the mean over the repeats that reached the target; in comparisons a repeat
# that never did (or failed) is slower than any that did
e2t = json.load(open(T + "/e2t.json"))
ept = {t: int(r["epochs_to_target"]) for t, r in trial.items()}
for p in e2t["points"]:
    v = [ept[t] for t in p["trials"] if status[t] == "completed" and ept[t] > 0]
    same(f"e2t {p['params']} mean", p["mean"], float(np.mean(v)) if v else None)
for c in e2t["comparisons"]:
    ta, tb = e2t["points"][c["a"] - 1]["trials"], e2t["points"][c["b"] - 1]["trials"]
    val = lambda t: ept[t] if status[t] == "completed" and ept[t] > 0 else math.inf
    d = [val(x) - val(y) if not (math.isinf(val(x)) and math.isinf(val(y))) else 0.0
         for x, y in zip(sorted(ta, key=lambda t: seed[t]), sorted(tb, key=lambda t: seed[t]))]
    assert c["wins_a"] == sum(x < 0 for x in d) and c["losses_a"] == sum(x > 0 for x in d), (c, d)
print(f"points: {bad} difference(s)")
sys.exit(1 if bad else 0)
PY
# two points with no seed in common: the Mann-Whitney U test, said so
"$py" - "$T/acc.json" "$T/u/index.h5" <<'PY' || fail "unpaired comparison"
import json, math, sys
import h5py
from scipy import stats
rep = json.load(open(sys.argv[1]))
rows = h5py.File(sys.argv[2], "r")["summary"][()]
acc = {int(r["trial"]): float(r["final_accuracy"]) for r in rows if r["status"] == b"completed"}
assert sorted(acc) == [0, 1, 2, 9, 10, 11], acc
c = rep["comparisons"][0]
assert c["paired"] is False and c["n_pairs"] == 6 and c["wins_a"] == 0, c
best = rep["points"][0]["trials"]
x = [acc[t] for t in best if t in acc]
y = [acc[t] for t in acc if t not in best]
r = stats.mannwhitneyu(x, y)
assert math.isclose(c["p_value"], r.pvalue, rel_tol=1e-9), (c, r)
assert math.isclose(c["statistic"], r.statistic, rel_tol=1e-12), (c, r)
assert all(p["unfinished"] == 3 for p in rep["points"]), rep["points"]
PY
# several run folders as one: a first axis `run`, points paired across folders by seed
write_config "$T/w.yaml" <<'YAML'
experiment: other
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1], activation: tanh}
train: {epochs: 40, batch_size: 1, optimizer: {name: sgd, lr: 0.6}}
seed: 1
sweep: {repeats: 6}
YAML
run_bprun 0 run "$T/w.yaml" -o "$T/w" --quiet || finish
run_bprun 0 run "$T/u.yaml" -o "$T/uu" --quiet || finish
run_bprun 0 report "$T/uu" "$T/w" --format json || finish
"$py" - "$T/out" "$T/uu" "$T/w" <<'PY' || fail "report of two run folders"
import json, sys
rep = json.load(open(sys.argv[1]))
assert rep["runs"] == sys.argv[2:], rep["runs"]
assert rep["axes"] == ["run", "train.optimizer.lr"], rep["axes"]
assert rep["trials"] == 18 and len(rep["points"]) == 3, rep["points"]
runs = sorted(p["params"]["run"] for p in rep["points"])
assert runs == sorted([sys.argv[2], sys.argv[2], sys.argv[3]]), runs
w = next(p for p in rep["points"] if p["params"]["run"] == sys.argv[3])
assert w["params"]["train.optimizer.lr"] == "-" and w["n"] == 6, w
# seeds 1..6 in both folders: every comparison is paired over 6 seeds
assert all(c["paired"] and c["n_pairs"] == 6 for c in rep["comparisons"]), rep["comparisons"]
PY
run_bprun 0 report "$T/uu" "$T/w" || finish
grep -q "^runs $T/uu, $T/w: 18 trials, 18 finished, 18 completed; ranked by final loss" "$T/out" || fail "two runs, text: $(head -3 "$T/out")"
# usage errors
expect_err 2 "bprun report: --metric: expected loss, val_loss, best_val_loss, accuracy, val_accuracy, test_loss, test_accuracy, epochs_to_target or seconds (got 'lss')" report "$T/p" --metric lss
expect_err 2 "bprun report: --by: expected mean or median (got 'mode')" report "$T/p" --by mode
expect_err 2 "bprun report: --alpha: expected a number between 0 and 1 (got '1.5')" report "$T/p" --alpha 1.5
expect_err 2 "bprun report: --table applies to --format csv only (got --format json: it holds every table)" report "$T/p" --format json --table points
finish
