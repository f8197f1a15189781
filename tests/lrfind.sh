#!/bin/sh
# bprun lr-find on least-squares linear regression, where the good range is known: for the
# batch-mean loss (1/2n) sum (w.x + b - y)^2 the Hessian is H = (1/n) sum [x;1][x;1]^T, and full-
# batch gradient descent converges for lr < 2/lambda_max(H) and diverges above it. With N steps
# of rates rising exponentially, the loss cannot have fallen by more than ~10% before the rate
# reaches 1/(N lambda_max) (the rates so far sum to < lr*N/ln(max/min), and each step shrinks
# the stiffest error component by at most lr*lambda_max), so the steepest descent, and the
# minimum, lie above that. Both suggestions must fall in [1/(N lambda_max), 2/lambda_max];
# a run at the suggestion converges, a run at 2x the limit diverges. Also: the HDF5 output,
# the default output path, refusing to overwrite, too few steps, an optimizer without lr, and
# exit codes and messages for bad options.
. "$BP_SRCDIR/tests/lib.sh"
need_python
cd "$T" || exit 1
"$PYTHON_H5" - <<'PYEOF' >lambda || fail "making the data"
import h5py, numpy as np
rng = np.random.default_rng(7)
X = (rng.standard_normal((64, 2)) * np.array([2.0, 0.5])).astype(np.float32)
Y = (X @ np.array([3.0, -2.0]) + 1 + 0.1 * rng.standard_normal(64)).reshape(-1, 1).astype(np.float32)
with h5py.File("linreg.h5", "w") as f:
    g = f.create_group("train")
    g["X"] = X
    g["Y"] = Y
A = np.hstack([X.astype(np.float64), np.ones((64, 1))])
print("%.17g" % np.linalg.eigvalsh(A.T @ A / 64).max())
PYEOF
lmax=$(cat lambda)
cat >lin.yaml <<'YEOF'
experiment: linreg
seed: 1
data: {train: linreg.h5#/train}
model:
  layers: [2, 1]
  output: identity
  loss: mse
  init: {scheme: uniform, range: 0.1}
train:
  epochs: 1
  batch_size: full
  shuffle: false
  optimizer: {name: sgd, lr: 0.1}
YEOF

N=200
run_bprun 0 lr-find lin.yaml --steps $N || finish
cp "$T/out" lf.out
grep -qx 'lr-find of lin.yaml' lf.out || fail "first line: $(head -1 lf.out)"
grep -q '^lr-find: sgd, lr from 1e-06 to 10 over 200 steps; [0-9]* recorded, stopped at step [0-9]* (lr [0-9.e+-]*): smoothed loss .* > 4 x the best (.*)$' lf.out ||
  fail "no blow-up stop: $(sed -n 2p lf.out)"
grep -qx 'output: runs/linreg-lr-find.h5' lf.out || fail "default output: $(tail -1 lf.out)"
[ -f runs/linreg-lr-find.h5 ] || fail "no runs/linreg-lr-find.h5"
a=$(sed -n 's/^(a) steepest descent of the smoothed loss: lr \([^ ]*\) .*/\1/p' lf.out)
b=$(sed -n 's/^(b) one tenth of the lr at the minimum: \(.*\)$/\1/p' lf.out)
s=$(sed -n "s/^suggested lr: \([^ ]*\) (the paired sweep's)$/\1/p" lf.out)
v=$(sed -n 's/^(v) valley of the smoothed loss: lr \([^ ]*\) .*/\1/p' lf.out)
[ -n "$a" ] && [ -n "$b" ] && [ -n "$s" ] && [ -n "$v" ] || fail "suggestions: $(cat lf.out)"
grep -qx "range-test candidate: $v (v)" lf.out || fail "candidate: $(cat lf.out)"
grep -qx "paired sweep from the same start, $N epochs per rate (training loss of the last epoch):" lf.out ||
  fail "paired sweep: $(cat lf.out)"
awk -v a="$a" -v b="$b" -v s="$s" -v l="$lmax" -v n=$N 'BEGIN {
  lo = 1 / (n * l); hi = 2 / l
  if (!(a > lo && a < hi)) { print "(a) " a " not in (" lo ", " hi ")"; bad = 1 }
  if (!(b > lo && b < hi)) { print "(b) " b " not in (" lo ", " hi ")"; bad = 1 }
  if (!(s > lo && s < hi)) { print "suggested " s " not in (" lo ", " hi ")"; bad = 1 }
  exit bad }' >bounds || fail "suggestion outside the known range: $(cat bounds)"
# the sweep lines: s/3, s, 3s
sweep=$(sed -n 's/^sweep: --sweep train.optimizer.lr=//p' lf.out)
echo "$sweep" | awk -F, -v a="$s" '{ exit !(NF == 3 && $2 == a && $1 > a / 3 * 0.99 && $1 < a / 3 * 1.01 &&
  $3 > 3 * a * 0.99 && $3 < 3 * a * 1.01) }' || fail "sweep line: $(grep '^sweep:' lf.out)"
grep -qxF "yaml:  sweep: {grid: {train.optimizer.lr: [$(echo "$sweep" | sed 's/,/, /g')]}}" lf.out || fail "yaml line"
run_bprun 0 validate lin.yaml --sweep "train.optimizer.lr=$sweep" || fail "the sweep line does not validate"

# the file: datasets of equal length, attributes matching the printed suggestion
"$PYTHON_H5" - runs/linreg-lr-find.h5 "$a" "$b" "$s" "$v" <<'PYEOF' || fail "lr-find.h5 contents"
import sys, math, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
lr, loss, s = f["lr"][:], f["loss"][:], f["smooth_loss"][:]
assert len(lr) == len(loss) == len(s) > 10, (len(lr), len(loss), len(s))
assert lr[0] == 1e-6 and np.all(np.diff(lr) > 0)
# the smoothed loss is the bias-corrected moving average of the raw loss
m = 0.0
for k in range(len(loss)):
    m = 0.98 * m + 0.02 * loss[k]
    assert abs(s[k] - m / (1 - 0.98 ** (k + 1))) <= 1e-12 * abs(s[k]), k
assert s[-1] > 4 * s[:-1].min()           # stopped at the blow-up
for k, v in (("suggested_lr", sys.argv[4]), ("steepest_lr", sys.argv[2]), ("tenth_min_lr", sys.argv[3]),
             ("valley_lr", sys.argv[5]), ("candidate_lr", sys.argv[5])):
    assert "%.3g" % f.attrs[k] == v, (k, f.attrs[k], v)
assert f.attrs["tenth_min_lr"] == lr[int(np.argmin(s))] / 10
assert f.attrs["format_version"] == 1 and f.attrs["steps"] == 200 and f.attrs["smooth"] == 0.98
assert f.attrs["optimizer"] == "sgd" and "steepest" in f.attrs["rule"] and "paired sweep" in f.attrs["rule"]
# the paired sweep: every rate's score; the suggestion is the smallest within 1% of the best
# among the rates from best/3 to best, and both factor-3 neighbours of the best were tried
sl, sv = f["sweep_lr"][:], f["sweep_loss"][:]
assert len(sl) == len(sv) >= 5 and f.attrs["sweep_epochs"] == 200, (sl, sv)
kb = int(np.argmin(sv))
best, a = sl[kb], f.attrs["suggested_lr"]
ok = [x for x, y in zip(sl, sv) if best / 3 * (1 - 1e-9) <= x <= best and y <= sv[kb] + 0.01 * abs(sv[kb])]
assert a == min(ok), (a, ok)
for nb in (best / 3, best * 3):
    assert np.any(np.abs(sl - nb) <= 1e-9 * nb), (nb, sl)
assert "batch_size: full" in f.attrs["config"] and "resolved_config" in f.attrs
PYEOF

# the plot: loss vs lr with the suggestions marked
if "$PYTHON_H5" -c 'import matplotlib' >/dev/null 2>&1; then
  MPLCONFIGDIR="$T/mpl" BPRUN_PYTHON="$PYTHON_H5" sh "$BP_SRCDIR/scripts/bprun-plot" --lr-find runs/linreg-lr-find.h5 -o plots >plot.out 2>plot.err ||
    fail "bprun-plot --lr-find: $(cat plot.err)"
  [ "$(cat plot.out)" = "plots/linreg-lr-find.png" ] || fail "plot path: $(cat plot.out)"
  [ "$(od -An -tx1 -N4 plots/linreg-lr-find.png | tr -d ' ')" = "89504e47" ] || fail "not a PNG"
  MPLCONFIGDIR="$T/mpl" BPRUN_PYTHON="$PYTHON_H5" sh "$BP_SRCDIR/scripts/bprun-plot" --lr-find lin.yaml >plot.out 2>plot.err && fail "plotting a non-HDF5 file succeeded"
  grep -q '^bprun-plot: lin.yaml: cannot open' plot.err || fail "plot error: $(cat plot.err)"
fi

# a run at the suggestion converges; at twice the divergence limit it diverges
run_bprun 0 run lin.yaml -o at-a --quiet --set train.epochs=500 --set "train.optimizer.lr=$s" || fail "run at the suggestion"
loss=$(awk '$2 == "0000" {print $5}' "$T/out")
awk -v l="$loss" 'BEGIN {exit !(l < 0.05)}' || fail "run at lr $s ends at loss $loss"
over=$(awk -v l="$lmax" 'BEGIN {printf "%.6g", 4 / l}')
run_bprun 1 run lin.yaml -o at-over --quiet --set train.epochs=100 --set "train.optimizer.lr=$over" || true
grep -q '^1  *0000  *diverged ' "$T/out" || fail "run at lr $over did not diverge: $(cat "$T/out")"

# the output is never overwritten silently
expect_err 2 "bprun: runs/linreg-lr-find.h5: exists; use --force to replace it, or -o to choose another file" lr-find lin.yaml --steps 20
run_bprun 0 lr-find lin.yaml --steps 50 --force --min 1e-4 --max 1 --smooth 0.5 -o other.h5 || fail "-o, --force"
grep -q '^lr-find: sgd, lr from 0.0001 to 1 over 50 steps; 50 recorded, ran all 50 steps$' "$T/out" || fail "options: $(sed -n 2p "$T/out")"
# --sweep-epochs 0: no paired sweep, the candidate is the suggestion
run_bprun 0 lr-find lin.yaml --steps $N --sweep-epochs 0 -o nosweep.h5 || fail "--sweep-epochs 0"
grep -qx "suggested lr: $v (v)" "$T/out" || fail "--sweep-epochs 0: $(cat "$T/out")"
grep -q 'paired sweep' "$T/out" && fail "--sweep-epochs 0 swept"
# too few points: results are written, no suggestion, exit 1
run_bprun 1 lr-find lin.yaml --steps 5 -o few.h5 || true
grep -qx 'bprun: lr-find: no suggestion: only 5 points recorded; at least 10 are needed (raise --steps)' "$T/err" || fail "too few: $(cat "$T/err")"
[ -f few.h5 ] || fail "few.h5 not written"
# one epoch by default (batch size 16: 4 steps)
run_bprun 1 lr-find lin.yaml --set train.batch_size=16 -o epoch.h5 || true
grep -q '^lr-find: sgd, lr from 1e-06 to 10 over 4 steps; 4 recorded' "$T/out" || fail "one epoch: $(cat "$T/out")"

# an optimizer without lr
NOLR=$BP_BUILDDIR/tests/continue/.libs
expect_err 2 "bprun: --set:1:1: train.optimizer: fake_nolr has no hyperparameter 'lr' for lr-find to vary" \
  lr-find lin.yaml --plugin-path "$NOLR" --set train.optimizer=fake_nolr -o x.h5
# bad options
expect_err 2 "bprun lr-find: --min: expected a positive number (got '0')" lr-find lin.yaml --min 0
expect_err 2 "bprun lr-find: --max: expected a positive number (got 'big')" lr-find lin.yaml --max big
expect_err 2 "bprun lr-find: --min must be below --max (got --min 1, --max 0.1)" lr-find lin.yaml --min 1 --max 0.1
expect_err 2 "bprun lr-find: --steps: expected a positive number of steps (got '0')" lr-find lin.yaml --steps 0
expect_err 2 "bprun lr-find: --steps: expected a positive number of steps (got '-3')" lr-find lin.yaml --steps -3
expect_err 2 "bprun lr-find: --smooth: expected a number from 0 to below 1 (got '1')" lr-find lin.yaml --smooth 1
expect_err 2 "bprun lr-find: --sweep-epochs: expected a number of epochs, 0 or more (got '-1')" lr-find lin.yaml --sweep-epochs -1
expect_err 2 "bprun lr-find: unknown option '--sample'" lr-find lin.yaml --sample 1
expect_err 2 "bprun lr-find: expected one CONFIG file" lr-find lin.yaml other.yaml
grep -qx "Try 'bprun lr-find --help'." "$T/err" || fail "no help hint"
[ -e x.h5 ] && fail "x.h5 written after an error"
run_bprun 0 lr-find --help || fail "--help"
grep -q 'steepest descent' "$T/out" || fail "--help explains the rule"
finish
