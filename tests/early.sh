#!/bin/sh
# Early stopping, target loss and accuracy, and successive halving (docs/CONFIG.md
# train.early_stopping, train.target_loss, train.target_accuracy, sweep.halving), checked
# against uninterrupted runs read with h5py:
# patience + min_delta stop at the epoch the rule gives on the full run's val_loss, with the
# message and attributes; restore_best saves the best epoch's parameters (bit-identical to a
# run of best_epoch epochs); target_loss stops at the first epoch whose loss reaches it;
# bprun report shows epochs to target and success rates over repeats; successive halving
# prunes the trials the rule picks on a full run's metrics, its survivors are bit-identical to
# the full run's trials, and the results do not depend on -j or on a resume.
. "$BP_SRCDIR/tests/lib.sh"
need_python
H5C="$PYTHON_H5 $BP_SRCDIR/tests/h5check.py"

write_config "$T/c.yaml" <<'YAML'
experiment: early
seed: 5
data: {train: "builtin:spirals", validation: 0.25, standardize: true}
model: {layers: [2, 24, 1], activation: tanh, output: sigmoid, loss: binary_cross_entropy}
train:
  epochs: 60
  batch_size: 16
  optimizer: {name: sgd, lr: 0.3, momentum: 0.9}
YAML
run_bprun 0 run "$T/c.yaml" -o "$T/full" --quiet || finish

# expected_stop COLUMN MODE PATIENCE MIN_DELTA: "STOP BEST BEST_VALUE" by the rule on the full run
expected_stop() {
  "$PYTHON_H5" - "$T/full/trials/0000.h5" "$@" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
v = f["epochs"][sys.argv[2]][()]
mx, p, md = sys.argv[3] == "max", int(sys.argv[4]), float(sys.argv[5])
best, be = None, 0
for e, x in enumerate(v, 1):
    if best is None or (x > best + md if mx else x < best - md):
        best, be = x, e
    elif e - be >= p:
        print(e, be, "%.6g" % best)
        break
else:
    print("none")
PY
}

# es NAME METRIC MODE PATIENCE MIN_DELTA [RESTORE]: run with early stopping, check against the rule
es() {
  name=$1 metric=$2 mode=$3 p=$4 md=$5 rb=${6:-false}
  set -- $(expected_stop "$metric" "$mode" "$p" "$md")
  if [ "$1" = none ] || [ "$1" -ge 60 ]; then
    fail "$name: the full run gives no early stop to test ($*)"
    return
  fi
  stop=$1 best=$2 bv=$3
  run_bprun 0 run "$T/c.yaml" -o "$T/$name" --quiet --set "train.early_stopping={metric: $metric, \
patience: $p, min_delta: $md, restore_best: $rb}" || return
  f="$T/$name/trials/0000.h5"
  [ "$($H5C attr "$f" status)" = completed ] || fail "$name: status $($H5C attr "$f" status)"
  [ "$($H5C attr "$f" epochs_done)" = "$stop" ] || fail "$name: epochs_done $($H5C attr "$f" epochs_done), expected $stop"
  [ "$($H5C attr "$f" best_epoch)" = "$best" ] || fail "$name: best_epoch $($H5C attr "$f" best_epoch), expected $best"
  [ "$($H5C attr "$f" stopped_early)" = 1 ] || fail "$name: stopped_early $($H5C attr "$f" stopped_early)"
  msg="early stop at epoch $stop: no $metric improvement over $p epochs (best $bv at epoch $best)"
  [ "$($H5C attr "$f" message)" = "$msg" ] || fail "$name: message '$($H5C attr "$f" message)', expected '$msg'"
  # the rows are the full run's first $stop rows
  "$PYTHON_H5" - "$T/full/trials/0000.h5" "$f" "$stop" <<'PY' || fail "$name: rows differ from the full run's"
import sys, h5py
a, b, n = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r"), int(sys.argv[3])
for c in a["epochs"]:
    if c != "seconds":
        assert (a["epochs"][c][()][:n] == b["epochs"][c][()]).all(), c
PY
}

es pat5 val_loss min 5 0.01
es pat3 val_loss min 3 0
es acc accuracy max 4 0
es rb val_loss min 5 0.01 true
# patience counts from the best epoch, min_delta makes a smaller gain no improvement
[ "$(expected_stop val_loss min 5 0.01)" != "$(expected_stop val_loss min 5 0)" ] ||
  fail "min_delta makes no difference on this run: the test cannot see it"

# restore_best: the saved parameters are those of the best epoch, bit for bit (a run of exactly
# best_epoch epochs), while a run without restore_best saves the last epoch's
best=$($H5C attr "$T/rb/trials/0000.h5" best_epoch)
run_bprun 0 run "$T/c.yaml" -o "$T/upto" --quiet --set train.epochs="$best" || finish
"$PYTHON_H5" - "$T/rb/trials/0000.h5" "$T/upto/trials/0000.h5" "$T/pat5/trials/0000.h5" <<'PY' ||
import sys, h5py
rb, upto, last = (h5py.File(p, "r") for p in sys.argv[1:])
assert (rb["model/params"][()] == upto["model/params"][()]).all()
assert not (last["model/params"][()] == upto["model/params"][()]).all()
assert (rb["model/params"][()] != last["model/params"][()]).any()
PY
  fail "restore_best: saved parameters are not the best epoch's"

# target_loss: stops at the first epoch whose training loss <= X (X taken from the full run)
write_config "$T/t.yaml" <<'YAML'
experiment: target
seed: 7
data: {train: "builtin:xor"}
model: {layers: [2, 2, 1], init: {scheme: uniform, range: 1.0}}
train:
  epochs: 400
  batch_size: 1
  shuffle: false
  optimizer: {name: sgd, lr: 0.3, momentum: 0.9}
YAML
run_bprun 0 run "$T/t.yaml" -o "$T/tfull" --quiet || finish
"$PYTHON_H5" - "$T/tfull/trials/0000.h5" >"$T/x" <<'PY'
import sys, h5py
loss = h5py.File(sys.argv[1], "r")["epochs/loss"][()]
x = loss[59]  # the loss of epoch 60 as the target
first = next(e for e, v in enumerate(loss, 1) if v <= x)
print("%.17g %d" % (x, first))
PY
read -r x first <"$T/x"
run_bprun 0 run "$T/t.yaml" -o "$T/tgt" --quiet --set train.target_loss="$x" || finish
f="$T/tgt/trials/0000.h5"
[ "$($H5C attr "$f" epochs_to_target)" = "$first" ] || fail "epochs_to_target $($H5C attr "$f" epochs_to_target), expected $first"
[ "$($H5C attr "$f" epochs_done)" = "$first" ] || fail "target: epochs_done $($H5C attr "$f" epochs_done), expected $first"
[ "$($H5C attr "$f" status)" = completed ] || fail "target: status $($H5C attr "$f" status)"
case $($H5C attr "$f" message) in
  "target loss "*" reached at epoch $first (loss "*")") ;;
  *) fail "target: message $($H5C attr "$f" message)" ;;
esac
# a target never reached: -1, the trial still completes all its epochs
run_bprun 0 run "$T/t.yaml" -o "$T/never" --quiet --set train.target_loss=1e-9 || finish
[ "$($H5C attr "$T/never/trials/0000.h5" epochs_to_target)" = -1 ] || fail "unreached target: epochs_to_target $($H5C attr "$T/never/trials/0000.h5" epochs_to_target)"
[ "$($H5C attr "$T/never/trials/0000.h5" epochs_done)" = 400 ] || fail "unreached target: epochs_done"

# target_accuracy: stops at the first epoch whose training accuracy >= A (A = 1 here: every
# row classified correctly), with its message and epochs_to_target
"$PYTHON_H5" - "$T/tfull/trials/0000.h5" >"$T/x" <<'PY'
import sys, h5py
acc = h5py.File(sys.argv[1], "r")["epochs/accuracy"][()]
print(next(e for e, v in enumerate(acc, 1) if v >= 1.0))
PY
read -r afirst <"$T/x"
[ "$afirst" -gt 1 ] && [ "$afirst" -lt 400 ] || fail "target_accuracy: the full run gives no epoch to test ($afirst)"
run_bprun 0 run "$T/t.yaml" -o "$T/tacc" --quiet --set train.target_accuracy=1 || finish
f="$T/tacc/trials/0000.h5"
[ "$($H5C attr "$f" epochs_to_target)" = "$afirst" ] || fail "target_accuracy: epochs_to_target $($H5C attr "$f" epochs_to_target), expected $afirst"
[ "$($H5C attr "$f" epochs_done)" = "$afirst" ] || fail "target_accuracy: epochs_done $($H5C attr "$f" epochs_done), expected $afirst"
case $($H5C attr "$f" message) in
  "target accuracy 1 reached at epoch $afirst (accuracy 1)") ;;
  *) fail "target_accuracy: message $($H5C attr "$f" message)" ;;
esac
# the report counts it as the target (a to_target column)
run_bprun 0 report "$T/tacc" || finish
grep -q "to_target" "$T/out" || fail "target_accuracy: report without to_target: $(cat "$T/out")"

# target_max_error: stops after the first epoch whose weights put every output within X of its
# target (Fahlman's 40-20-40 with X = 0.4); checked on the saved weights of runs of that many
# epochs and one fewer, with numpy
run_bprun 0 run "$T/t.yaml" -o "$T/tme" --quiet --set train.target_max_error=0.4 || finish
f="$T/tme/trials/0000.h5"
me=$($H5C attr "$f" epochs_to_target)
[ "$me" -gt 1 ] && [ "$me" -lt 400 ] && [ "$($H5C attr "$f" epochs_done)" = "$me" ] ||
  fail "target_max_error: epochs_to_target $me, epochs_done $($H5C attr "$f" epochs_done)"
case $($H5C attr "$f" message) in
  "target max error 0.4 reached at epoch $me (every output within "*" of its target)") ;;
  *) fail "target_max_error: message $($H5C attr "$f" message)" ;;
esac
run_bprun 0 run "$T/t.yaml" -o "$T/tme1" --quiet --set train.epochs=$((me - 1)) || finish
"$PYTHON_H5" - "$f" "$T/tme1/trials/0000.h5" >"$T/py" 2>&1 <<'PY' || fail "target_max_error: $(cat "$T/py")"
import sys, h5py, numpy as np
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
Y = np.array([0, 1, 1, 0], float)
def err(path):
    p = h5py.File(path, "r")["model/params"][()].astype(float)
    W1, b1, W2, b2 = p[:4].reshape(2, 2), p[4:6], p[6:8], p[8]
    h = 1 / (1 + np.exp(-(X @ W1.T + b1)))
    o = 1 / (1 + np.exp(-(h @ W2 + b2)))
    return np.max(np.abs(o - Y))
assert err(sys.argv[1]) < 0.4 <= err(sys.argv[2]), (err(sys.argv[1]), err(sys.argv[2]))
PY

# the report: epochs to target per trial, success rate and mean/median epochs per point
cat "$T/t.yaml" - >"$T/ts.yaml" <<'YAML'
sweep:
  grid: {train.optimizer.lr: [0.3, 1.0]}
  repeats: 4
YAML
run_bprun 0 run "$T/ts.yaml" -o "$T/ts" --quiet --set train.target_loss=0.02 || finish
run_bprun 0 report "$T/ts" --format json || finish
cp "$T/out" "$T/report.json"
run_bprun 0 report "$T/ts" || finish
"$PYTHON_H5" - "$T/ts" "$T/report.json" "$T/out" <<'PY' || fail "report of epochs to target: $(cat "$T/out")"
import sys, json, statistics, h5py
run, rep, text = sys.argv[1], json.load(open(sys.argv[2])), open(sys.argv[3]).read()
idx = h5py.File(run + "/index.h5", "r")["summary"][()]
e2t = {int(r["trial"]): int(r["epochs_to_target"]) for r in idx}
for t, v in e2t.items():
    a = h5py.File("%s/trials/%04d.h5" % (run, t), "r").attrs["epochs_to_target"]
    assert a == v, (t, a, v)
assert -1 in e2t.values() and any(v > 0 for v in e2t.values()), e2t  # both kinds present
for r in rep["ranked"]:
    want = e2t[r["trial"]]
    assert r["epochs_to_target"] == (want if want > 0 else None), r
ep = {int(r["trial"]): int(r["epochs"]) for r in idx}
assert len(rep["points"]) == 2, rep["points"]
for g in rep["points"]:
    ids = g["trials"]
    ok = [e2t[i] for i in ids if e2t[i] > 0]
    assert g["reached"] == len(ok) and g["success"] == len(ok) / len(ids), g
    # Kaplan-Meier: unsolved repeats censored at their last epoch; the median is the first
    # time the estimate reaches 1/2
    obs = sorted((e2t[i] if e2t[i] > 0 else ep[i], e2t[i] > 0) for i in ids)
    s, med, i = 1.0, None, 0
    while i < len(obs):
        t = obs[i][0]
        same = [o for o in obs if o[0] == t]
        d = sum(1 for o in same if o[1])
        if d:
            s *= 1 - d / (len(obs) - i)
            if med is None and s <= 0.5 + 1e-12:
                med = t
        i += len(same)
    assert g["epochs_to_target_median"] == med, (g, med)
lines = text.splitlines()
head = next(l for l in lines if l.startswith("rank"))
assert "to_target" in head.split(), head
for l in lines[:next(i for i, l in enumerate(lines) if l.startswith("points over"))]:
    w = l.split()
    if w and w[0].isdigit() and len(w) > 5:
        t = int(w[1]); col = w[head.split().index("to_target")]
        assert col == (str(e2t[t]) if e2t[t] > 0 else "never"), l
# the points table: "solved" is reached/finished per point
pts = [l.split() for l in lines if l.split()[:1] in (["1"], ["2"]) and len(l.split()) > 3
       and l.split()[1] in ("0.3", "1.0") and "/" in l]
assert len(pts) == 2, pts
for w in pts:
    ids = next(g["trials"] for g in rep["points"] if g["params"]["train.optimizer.lr"] == w[1])
    assert "%d/%d" % (sum(1 for i in ids if e2t[i] > 0), len(ids)) in w, w
PY

# ---- successive halving ----
write_config "$T/h.yaml" <<'YAML'
experiment: halving
seed: 5
data: {train: "builtin:spirals", validation: 0.25, standardize: true}
model: {layers: [2, 16, 1], activation: tanh, output: sigmoid, loss: binary_cross_entropy}
train:
  epochs: 12
  batch_size: 16
  optimizer: {name: sgd, lr: 0.1, momentum: 0.9}
sweep:
  grid: {train.optimizer.lr: [0.01, 0.03, 0.1, 0.3, 1.0]}
  repeats: 2
YAML
run_bprun 0 run "$T/h.yaml" -o "$T/hfull" --quiet || finish
HV='sweep.halving={rungs: [2, 5, 12], eta: 3}'
run_bprun 0 run "$T/h.yaml" -o "$T/h1" --quiet -j 1 --set "$HV" || finish
run_bprun 0 run "$T/h.yaml" -o "$T/h2" --quiet -j 2 --set "$HV" || finish
"$PYTHON_H5" - "$T/hfull" "$T/h1" 2 5 12 <<'PY' >"$T/pruned" || fail "halving: $(cat "$T/pruned")"
import sys, math, h5py
full, run, rungs = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3:]]
def f(d, t): return h5py.File("%s/trials/%04d.h5" % (d, t), "r")
n, R = 10, 2
vl = {t: f(full, t)["epochs/val_loss"][()] for t in range(n)}
# points (trial // R) go on or stop with all their repeats, ranked by the mean over them
play, expect = list(range(n // R)), {}
for k, r in enumerate(rungs[:-1]):
    mean = {p: sum(vl[t][r - 1] for t in range(p * R, p * R + R)) / R for p in play}
    ranked = sorted(play, key=lambda p: (mean[p], p))
    keep = math.ceil(len(ranked) / 3)
    for p in ranked[keep:]:
        for t in range(p * R, p * R + R):
            expect[t] = ("pruned", r)
    play = ranked[:keep]
play = [t for p in play for t in range(p * R, p * R + R)]
for t in play:
    expect[t] = ("completed", 12)
assert sum(1 for s, _ in expect.values() if s == "pruned") == 8, expect
for t in range(n):
    h = f(run, t)
    got = (h.attrs["status"], int(h.attrs["epochs_done"]))
    assert got == expect[t], (t, got, expect[t])
    e = int(h.attrs["epochs_done"])
    for c in h["epochs"]:
        if c != "seconds":
            assert (h["epochs"][c][()] == f(full, t)["epochs"][c][()][:e]).all(), (t, c)
    if got[0] == "pruned":
        assert h.attrs["message"].startswith("pruned at epoch %d (rung " % e), h.attrs["message"]
print(" ".join(str(t) for t in range(n) if expect[t] == ("pruned", 5)))
PY
# survivors: the same bits as the full run's trials; -j 1 and -j 2: the same trial files
for t in 0 1 2 3 4 5 6 7 8 9; do
  id=$(printf %04d $t)
  a=$($H5C digest "$T/h1/trials/$id.h5") b=$($H5C digest "$T/h2/trials/$id.h5")
  [ "$a" = "$b" ] || fail "halving: trial $id differs between -j 1 and -j 2"
  if [ "$($H5C attr "$T/h1/trials/$id.h5" status)" = completed ]; then
    [ "$a" = "$($H5C digest "$T/hfull/trials/$id.h5")" ] || fail "halving: survivor $id differs from the full run's"
  fi
done
# a trial pruned at epoch 5 saved the weights and optimizer state of epoch 5
p=$(cut -d' ' -f1 "$T/pruned")
run_bprun 0 run "$T/h.yaml" -o "$T/h5" --quiet --trial "$p" --set train.epochs=5 || finish
"$PYTHON_H5" - "$T/h1/trials/$(printf %04d "$p").h5" "$T/h5/trials/$(printf %04d "$p").h5" <<'PY' ||
import sys, h5py
a, b = (h5py.File(x, "r") for x in sys.argv[1:])
assert (a["model/params"][()] == b["model/params"][()]).all()
assert (a["model/optimizer/state"][()] == b["model/optimizer/state"][()]).all()
PY
  fail "halving: pruned trial $p does not hold its epoch-5 state"
# the report ranks pruned trials after the completed ones
run_bprun 0 report "$T/h1" || finish
awk '/^points over/ { exit } $1 ~ /^[0-9]+$/ && NF > 8 { print $4 }' "$T/out" | tr '\n' ' ' >"$T/st"
[ "$(cat "$T/st")" = "completed completed pruned pruned pruned pruned pruned pruned pruned pruned " ] ||
  fail "halving report order: $(cat "$T/st")"
# resume: trials whose files are gone (a survivor, a pruned one) are redone with the same result
rm "$T/h1/trials/$(printf %04d "$p").h5"
for t in 0 1 2 3 4 5 6 7 8 9; do
  [ "$($H5C attr "$T/h2/trials/$(printf %04d $t).h5" status)" = completed ] && { rm "$T/h1/trials/$(printf %04d $t).h5"; break; }
done
run_bprun 0 run "$T/h.yaml" -o "$T/h1" --quiet -j 2 --set "$HV" || finish
for t in 0 1 2 3 4 5 6 7 8 9; do
  id=$(printf %04d $t)
  [ "$($H5C digest "$T/h1/trials/$id.h5")" = "$($H5C digest "$T/h2/trials/$id.h5")" ] ||
    fail "halving resume: trial $id differs"
done

# halving errors
expect_err 2 "bprun: --trial 3: the sweep uses sweep.halving, whose decisions need every trial; run the whole sweep" \
  run "$T/h.yaml" -o "$T/hx" --quiet --trial 3 --set "$HV"
expect_err 2 "bprun: --set:1:13: sweep.halving.rungs[1]: rungs must increase (got 2 after 5)" \
  run "$T/h.yaml" -o "$T/hx" --quiet --set 'sweep.halving={rungs: [5, 2]}'
expect_err 2 "bprun: --set:1:13: sweep.halving.rungs[1]: must be <= train.epochs (got 20, train.epochs 12)" \
  run "$T/h.yaml" -o "$T/hx" --quiet --set 'sweep.halving={rungs: [2, 20]}'
expect_err 2 "bprun: --set:1:19: sweep.halving.eta: must be > 1 (got 1)" \
  run "$T/h.yaml" -o "$T/hx" --quiet --set 'sweep.halving={rungs: [2], eta: 1}'
expect_err 2 "bprun: --set:1:9: sweep.halving.rungs: expected a rung below train.epochs (12), where trials are compared" \
  run "$T/h.yaml" -o "$T/hx" --quiet --set 'sweep.halving={rungs: [12]}'
expect_err 2 "bprun: --set:1:1: sweep.halving: metric val_loss needs validation data (set data.validation, or use metric: loss)" \
  run "$T/h.yaml" -o "$T/hx" --quiet --set 'sweep.halving={rungs: [2]}' --set data.validation=0

finish
