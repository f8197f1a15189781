#!/bin/sh
# scripts/bprun-plot: single-trial runs made by bprun (3 learning rates on XOR) and synthetic
# sweeps (tests/make_fake_run.py: 2 optimizers x 4 learning rates x 2 repeats, one diverged;
# map-valued axis with validation and diagnostic columns; a run still going without index.h5)
# give the expected PNGs (signature, size, IHDR dimensions), paths on stdout, notes on stderr;
# a folder that is not a run is refused with a clear message. The numbers drawn (--dump) are
# checked: mean curves and bands against numpy and the t interval of the repeats, the points of
# final_vs_<axis>, success and Kaplan-Meier against bprun report's json (mean, median, another
# metric), the script's own statistics (no bprun) against the same json, success.png only with
# a target, verdicts from the trial files.
. "$BP_SRCDIR/tests/lib.sh"
need_python
"$PYTHON_H5" -c 'import h5py, matplotlib' >/dev/null 2>&1 ||
  skip "no Python with h5py and matplotlib (apt-get install python3-h5py python3-matplotlib)"
export BPRUN_PYTHON="$PYTHON_H5"
export MPLCONFIGDIR="$T/mpl"   # matplotlib's cache: keep it in the temp dir
PLOT=$BP_SRCDIR/scripts/bprun-plot
FAKE=$BP_SRCDIR/tests/make_fake_run.py

# run_plot EXPECTED_EXIT ARGS...: stdout in $T/pout, stderr in $T/perr
run_plot() {
  want=$1
  shift
  sh "$PLOT" "$@" >"$T/pout" 2>"$T/perr"
  got=$?
  if [ "$got" -ne "$want" ]; then
    fail "bprun-plot $* exited $got, expected $want; stderr: $(head -c 800 "$T/perr")"
    return 1
  fi
}

# expect_out 'line1' 'line2'...: stdout is exactly these lines
expect_out() {
  printf '%s\n' "$@" >"$T/want"
  cmp -s "$T/want" "$T/pout" || fail "stdout: expected $(cat "$T/want"); got $(cat "$T/pout")"
}

# check_png FILE WIDTH HEIGHT: a PNG of more than 10 kB with these IHDR dimensions
check_png() {
  f=$1
  [ -f "$f" ] || { fail "$f: missing"; return; }
  sig=$(od -An -tx1 -N16 "$f" | tr -d ' \n')
  [ "$sig" = "89504e470d0a1a0a0000000d49484452" ] || { fail "$f: not a PNG ($sig)"; return; }
  size=$(wc -c <"$f")
  [ "$size" -gt 10240 ] || fail "$f: only $size bytes"
  dims=$(od -An -tu1 -j16 -N8 "$f" |
    awk '{for (i = 1; i <= NF; i++) b[n++] = $i}
         END {printf "%dx%d", ((b[0]*256+b[1])*256+b[2])*256+b[3], ((b[4]*256+b[5])*256+b[6])*256+b[7]}')
  [ "$dims" = "$2x$3" ] || fail "$f: ${dims} pixels, expected $2x$3"
}

skipped_note='bprun-plot: final_vs_<axis>: skipped (no swept numeric axis)'

# 1. single-trial runs written by bprun: loss curves and the accuracy/lr fallback panel
for lr in 0.1 0.5 2; do
  run_bprun 0 run "$BP_SRCDIR/configs/xor.yaml" -o "$T/xor-$lr" --quiet \
    --set train.optimizer.lr=$lr --set train.epochs=200 || finish
  run_plot 0 "$T/xor-$lr" || continue
  expect_out "$T/xor-$lr/plots/loss_curves.png" "$T/xor-$lr/plots/diagnostics.png"
  grep -qxF "$skipped_note" "$T/perr" || fail "no skip note: $(cat "$T/perr")"
  check_png "$T/xor-$lr/plots/loss_curves.png" 990 616
  check_png "$T/xor-$lr/plots/diagnostics.png" 1144 450
done

# 2. a sweep: 2 optimizers x 4 learning rates x 2 repeats, the sgd trial at lr 1 diverged
"$PYTHON_H5" "$FAKE" "$T/grid" || fail "make_fake_run.py grid"
[ -f "$T/grid/trials/0015.h5" ] || fail "fake run: no trial 0015"
run_plot 0 "$T/grid" -o "$T/grid-plots" &&
  expect_out "$T/grid-plots/loss_curves.png" "$T/grid-plots/final_vs_lr.png" \
    "$T/grid-plots/diagnostics.png"
[ -s "$T/perr" ] && fail "unexpected stderr: $(cat "$T/perr")"
[ -e "$T/grid/plots" ] && fail "-o given, yet RUN/plots was created"
check_png "$T/grid-plots/loss_curves.png" 1342 616      # one panel per optimizer
check_png "$T/grid-plots/final_vs_lr.png" 990 616
check_png "$T/grid-plots/diagnostics.png" 1144 450      # accuracy and lr: 2 panels

# 3. one axis of maps {name: ..., lr: ...}, validation and diagnostic columns (5 panels: 3
# columns and a 2-D saturation column split per layer)
"$PYTHON_H5" "$FAKE" "$T/map" --layout map --val --diagnostics || fail "make_fake_run.py map"
run_plot 0 "$T/map" &&
  expect_out "$T/map/plots/loss_curves.png" "$T/map/plots/final_vs_lr.png" \
    "$T/map/plots/diagnostics.png"
check_png "$T/map/plots/loss_curves.png" 1342 616
check_png "$T/map/plots/final_vs_lr.png" 990 616
check_png "$T/map/plots/diagnostics.png" 1628 813

# 4. a run still going: no index.h5, the last trial only as a .part file
"$PYTHON_H5" "$FAKE" "$T/going" --running || fail "make_fake_run.py running"
[ -f "$T/going/trials/0015.h5.part" ] || fail "fake run: no .part file"
run_plot 0 "$T/going" &&
  expect_out "$T/going/plots/loss_curves.png" "$T/going/plots/final_vs_lr.png" \
    "$T/going/plots/diagnostics.png"
grep -qxF "bprun-plot: no index.h5 yet: swept keys taken from the trials' configs: train.optimizer.name, train.optimizer.lr" "$T/perr" ||
  fail "no inferred-axes note: $(cat "$T/perr")"
check_png "$T/going/plots/final_vs_lr.png" 990 616

# 5. --format svg
run_plot 0 "$T/grid" -o "$T/svg" --format svg &&
  expect_out "$T/svg/loss_curves.svg" "$T/svg/final_vs_lr.svg" "$T/svg/diagnostics.svg"
head -c 5 "$T/svg/final_vs_lr.svg" | grep -q '^<?xml' || fail "final_vs_lr.svg is not SVG"

# 6. not a run folder, no folder, bad option
mkdir "$T/empty"
run_plot 1 "$T/empty" &&
  grep -qxF "bprun-plot: $T/empty: not a bprun run folder (no index.h5 and no trials/*.h5)" \
    "$T/perr" || fail "empty folder: $(cat "$T/perr")"
[ -e "$T/empty/plots" ] && fail "plots/ created in a folder that is not a run"
run_plot 1 "$T/nope" &&
  grep -qxF "bprun-plot: $T/nope: no such folder" "$T/perr" || fail "missing folder: $(cat "$T/perr")"
run_plot 2 "$T/grid" --format gif
grep -q "invalid choice: 'gif'" "$T/perr" || fail "--format gif: $(cat "$T/perr")"
# 7. the numbers drawn (--dump): a sweep of 5 optimizer x lr points x 6 repeats whose repeats
# stop at a target (different lengths), one diverged. The mean curve and band per epoch must be
# numpy's mean and the t interval (SciPy's t quantile) of the repeats that have that epoch, the
# curve ending where fewer than 2 remain; final_vs_lr's points, the success rates and the
# Kaplan-Meier steps must be bprun report's json numbers, also with --by median; success.png
# only with a target. Without a bprun to ask (BPRUN pointing nowhere) the same numbers come out
# of the script's own statistics, with a note.
"$PYTHON_H5" "$FAKE" "$T/tgt" --repeats 6 --target 0.01 --verdicts || fail "make_fake_run.py target"
run_bprun 0 report "$T/tgt" --format json && cp "$T/out" "$T/tgt-mean.json"
run_bprun 0 report "$T/tgt" --format json --by median && cp "$T/out" "$T/tgt-median.json"
run_plot 0 "$T/tgt" -o "$T/tgt-plots" --dump "$T/tgt-mean.dump" &&
  expect_out "$T/tgt-plots/loss_curves.png" "$T/tgt-plots/final_vs_lr.png" \
    "$T/tgt-plots/success.png" "$T/tgt-plots/diagnostics.png"
[ -s "$T/perr" ] && fail "unexpected stderr: $(cat "$T/perr")"
check_png "$T/tgt-plots/success.png" 1430 616
run_plot 0 "$T/tgt" -o "$T/tgt-med" --by median --raw --dump "$T/tgt-median.dump"
keep=$BPRUN
BPRUN=$T/no-such-bprun
run_plot 0 "$T/tgt" -o "$T/tgt-py" --dump "$T/tgt-py.dump" &&
  grep -q "^bprun-plot: .*no-such-bprun.*the points' statistics are computed here" "$T/perr" ||
  fail "no fallback note: $(cat "$T/perr")"
run_plot 0 "$T/tgt" -o "$T/tgt-pymed" --by median --dump "$T/tgt-pymedian.dump"
BPRUN=$keep
run_bprun 0 report "$T/tgt" --format json --metric accuracy && cp "$T/out" "$T/tgt-acc.json"
run_plot 0 "$T/tgt" -o "$T/tgt-acc" --metric accuracy --dump "$T/tgt-acc.dump"
# 5 repeats: at some points one repeat runs on alone after the others reached the target
"$PYTHON_H5" "$FAKE" "$T/tgt5" --repeats 5 --target 0.01 || fail "make_fake_run.py target 5"
run_plot 0 "$T/tgt5" -o "$T/tgt5-plots" --dump "$T/tgt5.dump"
# no target: no success.png, no success numbers
run_plot 0 "$T/grid" -o "$T/grid-d" --dump "$T/grid.dump"
[ -e "$T/grid-d/success.png" ] && fail "success.png drawn without a target"
"$PYTHON_H5" - "$T" <<'EOF' || fail "the numbers drawn differ from the expected ones"
import glob, json, math, os, sys
import h5py
import numpy as np
T = sys.argv[1]
bad = []
def close(a, b, what):
    a = np.array(a, dtype=float)
    b = np.array(b, dtype=float)
    if a.shape != b.shape or not np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True):
        bad.append("%s: %s != %s" % (what, a.tolist()[:8], b.tolist()[:8]))
try:
    from scipy.stats import t as tdist
    tq = lambda df: tdist.ppf(0.975, df)
except ImportError:
    tq = None
if tq:  # the t quantile the script uses without SciPy: a table, then Cornish-Fisher
    sys.path.insert(0, os.path.join(os.environ["BP_SRCDIR"], "scripts"))
    import bprun_plot
    bprun_plot._sps = None
    worst = max(abs(bprun_plot.t975(df) - tq(df)) for df in range(1, 400))
    if worst > 1e-4:
        bad.append("t975 without SciPy is off by %g" % worst)
# 1. curves: numpy's mean and the t interval of the repeats present at each epoch
def curve_cases():
  for run, dump in (("tgt", "tgt-mean"), ("tgt5", "tgt5")):
    loss = {}
    for f in glob.glob(os.path.join(T, run, "trials", "*.h5")):
        with h5py.File(f, "r") as h:
            loss[int(h.attrs["trial"])] = (h["epochs/loss"][()], h.attrs["status"])
    d = json.load(open(os.path.join(T, dump + ".dump")))
    curves = [c for c in d["curves"] if c["column"] == "loss"]
    if len(curves) != 8:
        bad.append("%s: %d loss curves, expected 8" % (dump, len(curves)))
    for c in curves:
        yield loss, c
short = ndrops = 0
for loss, c in curve_cases():
    ys = []
    for tid in c["trials"]:
        y, st = loss[tid]
        y = np.array(y, dtype=float)
        if st == "diverged":
            nf = np.nonzero(~np.isfinite(y))[0]
            y = y[:nf[0]] if len(nf) else y
        ys.append(y)
    L = max(len(y) for y in ys)
    mean, lo, hi, n = [], [], [], []
    for j in range(L):
        v = np.array([y[j] for y in ys if len(y) > j and np.isfinite(y[j])])
        if len(v) < 2:
            break
        h = (tq(len(v) - 1) if tq else float("nan")) * v.std(ddof=1) / math.sqrt(len(v))
        mean.append(v.mean()); lo.append(v.mean() - h); hi.append(v.mean() + h); n.append(len(v))
    short += len(mean) < L
    # a diverged repeat drops out at its last finite loss: marked there (drops)
    drops = sorted(float(len(y)) for tid, y in zip(c["trials"], ys)
                   if loss[tid][1] == "diverged" and len(y) <= len(mean))
    close(sorted(c["drops"]), drops, "curve %s drops" % c["params"])
    ndrops += len(drops)
    what = "curve %s" % c["params"]
    close(c["mean"], mean, what + " mean")
    close(c["n"], n, what + " n")
    if tq:
        close(c["low"], lo, what + " low")
        close(c["high"], hi, what + " high")
# 2. final_vs_lr, success and Kaplan-Meier against bprun report's json (mean and median);
# the script's own statistics (BPRUN pointing nowhere) against the same json
key = lambda params: (params["train.optimizer.name"], float(params["train.optimizer.lr"]))
for dump, rep, by in (("tgt-mean", "tgt-mean", "mean"), ("tgt-median", "tgt-median", "median"),
                      ("tgt-acc", "tgt-acc", "mean"),
                      ("tgt-py", "tgt-mean", "mean"), ("tgt-pymedian", "tgt-median", "median")):
    d = json.load(open(os.path.join(T, dump + ".dump")))
    r = json.load(open(os.path.join(T, rep + ".json")))
    pts = {key(p["params"]): p for p in r["points"]}
    lo_f, hi_f = ("median_ci_low", "median_ci_high") if by == "median" else ("ci_low", "ci_high")
    got = d["final"]["final_vs_lr"]["points"]
    if len(got) != len(pts):
        bad.append("%s: %d final points, report has %d" % (dump, len(got), len(pts)))
    for g in got:
        p = pts[key(g["params"])]
        close([g["y"], g["low"], g["high"]], [p[by], p[lo_f], p[hi_f]],
              "%s final %s" % (dump, key(g["params"])))
    if len(d["success"]) != len(pts):
        bad.append("%s: %d success points" % (dump, len(d["success"])))
    for g in d["success"]:
        p = pts[key(g["params"])]
        close([g["success"], g["low"], g["high"]],
              [p["success"], p["success_ci_low"], p["success_ci_high"]],
              "%s success %s" % (dump, key(g["params"])))
    for g in d["km"]:
        steps = pts[key(g["params"])]["km"]
        for f, name in (("epoch", "epoch"), ("survival", "survival"), ("low", "ci_low"),
                        ("high", "ci_high")):
            close(g[f][1:len(steps) + 1], [s[name] for s in steps],
                  "%s km %s %s" % (dump, key(g["params"]), f))
# the metric and the axis scale; verdicts (trial i: i mod 3) in the legend, from bprun report
# and, without it (tgt-py), from the trial files' attribute
for dump, metric in (("tgt-mean", "loss"), ("tgt-acc", "accuracy"), ("tgt-py", "loss")):
    d = json.load(open(os.path.join(T, dump + ".dump")))
    if d["metric"] != metric or d["final"]["final_vs_lr"]["log_x"] is not True:
        bad.append("%s: metric %s, log_x %s" % (dump, d["metric"],
                                              d["final"]["final_vs_lr"]["log_x"]))
    want = {"%04d" % i: ("minimum", "plateau", "saddle")[i % 3] for i in range(48)}
    if d.get("verdicts") != want:
        bad.append("%s: verdicts %s" % (dump, str(d.get("verdicts"))[:200]))
    if sorted(d.get("verdict_colors", {})) != ["minimum (16)", "plateau (16)", "saddle (16)"]:
        bad.append("%s: verdict legend %s" % (dump, d.get("verdict_colors")))
if not short or not ndrops:
    bad.append("no curve stopped where fewer than 2 repeats remain, or no repeat diverged "
               "within a curve: the rules are not tested")
d = json.load(open(os.path.join(T, "grid.dump")))
if d.get("success") or d.get("km"):
    bad.append("success numbers without a target")
for b in bad:
    print("FAIL:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF

# 8. two numeric axes made by bprun: one final_vs_<axis> each, log x only where the values are
# positive and span more than a decade (lr 0.1..2, not momentum 0..0.9), the points with
# --by median equal to bprun report --by median's, series per value of the other axis
run_bprun 0 run "$BP_SRCDIR/configs/xor.yaml" -o "$T/x2" --quiet --set train.epochs=100 \
  --set 'sweep={grid: {train.optimizer.lr: [0.1, 0.5, 2], train.optimizer.momentum: [0, 0.9]}, repeats: 6}' &&
  run_bprun 0 report "$T/x2" --format json --by median && cp "$T/out" "$T/x2.json"
run_plot 0 "$T/x2" -o "$T/x2-plots" --by median --dump "$T/x2.dump" &&
  expect_out "$T/x2-plots/loss_curves.png" "$T/x2-plots/final_vs_lr.png" \
    "$T/x2-plots/final_vs_momentum.png" "$T/x2-plots/diagnostics.png"
check_png "$T/x2-plots/final_vs_momentum.png" 990 616
"$PYTHON_H5" - "$T" <<'EOF' || fail "final_vs_<axis> of a two-axis sweep"
import json, os, sys
T = sys.argv[1]
d = json.load(open(os.path.join(T, "x2.dump")))
r = json.load(open(os.path.join(T, "x2.json")))
pts = {(float(p["params"]["train.optimizer.lr"]), float(p["params"]["train.optimizer.momentum"])):
       p for p in r["points"]}
bad = []
for name, axis, other, log in (("final_vs_lr", "train.optimizer.lr", "momentum", True),
                               ("final_vs_momentum", "train.optimizer.momentum", "lr", False)):
    f = d["final"][name]
    if f["axis"] != axis or f["log_x"] is not log or len(f["points"]) != 6:
        bad.append("%s: axis %s log_x %s, %d points" % (name, f["axis"], f["log_x"],
                                                         len(f["points"])))
    for g in f["points"]:
        k = (float(g["params"]["train.optimizer.lr"]),
             float(g["params"]["train.optimizer.momentum"]))
        p = pts[k]
        if g["x"] != float(g["params"][axis]) or not g["series"].startswith(other + "="):
            bad.append("%s: x %s series %s" % (name, g["x"], g["series"]))
        for a, b in ((g["y"], p["median"]), (g["low"], p["median_ci_low"]),
                     (g["high"], p["median_ci_high"])):
            if a != b and not (a is None and b is None) and abs(a - b) > 1e-12 * abs(b):
                bad.append("%s %s: %s != %s" % (name, k, a, b))
for b in bad:
    print("FAIL:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
finish
