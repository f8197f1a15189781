#!/bin/sh
# Diagnostics (docs/DIAGNOSTICS.md): per-epoch columns, /diagnostics, the verdict attribute,
# verdict counts in bprun report, and config errors of the diagnostics section.
. "$BP_SRCDIR/tests/lib.sh"

cfg=$BP_SRCDIR/configs/xor.yaml
# XOR 2-2-1 from seed 3 solves it, towards a minimum at infinity (sigmoid output, 0/1
# targets): descending (the loss falls when the weights grow)
run_bprun 0 run "$cfg" -o "$T/ok" --quiet --set diagnostics=true || finish
grep -qx "diagnostics: verdicts over 1 trial: descending 1" "$T/out" || fail "verdict: $(cat "$T/out")"
run_bprun 0 report "$T/ok" || finish
grep -qx "diagnostics: verdicts over 1 trial: descending 1" "$T/out" || fail "report: $(cat "$T/out")"
# a linear model fitted by least squares is at a finite minimum: the probe cannot lower it
run_bprun 0 run "$cfg" -o "$T/lin" --quiet --set diagnostics=true --set 'model.layers=[2, 1]' \
    --set model.output=identity --set train.batch_size=4 --set train.optimizer.lr=0.5 \
    --set train.epochs=3000 || finish
grep -qx "diagnostics: verdicts over 1 trial: minimum 1" "$T/out" || fail "least squares: $(cat "$T/out")"
# without the probe, the gradient test alone calls the solved XOR run a minimum
run_bprun 0 run "$cfg" -o "$T/noprobe" --quiet --set diagnostics.verdict.probe_steps=0 || finish
grep -qx "diagnostics: verdicts over 1 trial: minimum 1" "$T/out" || fail "probe_steps 0: $(cat "$T/out")"
expect_err 2 "bprun: --set:1:1: diagnostics.verdict.probe_steps: must be >= 0 (got -1)" \
    run "$cfg" -o "$T/x" --quiet --set diagnostics.verdict.probe_steps=-1
# a linear output with a huge rate diverges
run_bprun 1 run "$cfg" -o "$T/div" --quiet --set diagnostics=true --set model.output=identity \
    --set train.optimizer.lr=50 --set train.epochs=50 || finish
grep -qx "diagnostics: verdicts over 1 trial: diverged 1" "$T/out" || fail "diverged: $(cat "$T/out")"
# curvature every 100 epochs; a smaller column set
run_bprun 0 run "$cfg" -o "$T/every" --quiet --set train.epochs=300 \
    --set 'diagnostics={hessian: {at: every 100, lanczos_steps: 9}, dead_relu: false, distance: false}' || finish
# config errors
expect_err 2 "bprun: --set:1:1: diagnostics.hessian.at: expected end, off or 'every K' with an integer K >= 1 (got 'sometimes')" \
    run "$cfg" -o "$T/x" --quiet --set diagnostics.hessian.at=sometimes
expect_err 2 "bprun: --set:1:1: diagnostics.saturation.threshold: must be in (0, 1) (got 2)" \
    run "$cfg" -o "$T/x" --quiet --set diagnostics.saturation.threshold=2
expect_err 2 "bprun: --set:1:1: diagnostics.verdict.grad_tol: must be > 0 (got 0)" \
    run "$cfg" -o "$T/x" --quiet --set diagnostics.verdict.grad_tol=0
expect_err 2 "bprun: --set:1:1: diagnostics.path.points: must be >= 2 (got 1)" \
    run "$cfg" -o "$T/x" --quiet --set diagnostics.path.points=1
expect_err 2 "bprun: --set:1:1: diagnostics.minima.dist_tol: must be >= 0 (got -1)" \
    run "$cfg" -o "$T/x" --quiet --set diagnostics.minima.dist_tol=-1
# distinct minima over 6 restarts: everything in one with huge tolerances, all apart with none
run_bprun 0 run "$cfg" -o "$T/rs" --quiet --set train.epochs=1500 --set sweep.repeats=6 \
    --set 'diagnostics={hessian: {lanczos_steps: 9}, path: {points: 5, extend: 0}, minima: {loss_tol: 1e9, dist_tol: 1e9}}' || finish
run_bprun 0 report "$T/rs" || finish
grep -qx "6 solutions, 1 distinct minimum, the best reached by 100%" "$T/out" || fail "minima: $(cat "$T/out")"
run_bprun 0 run "$cfg" -o "$T/rs0" --quiet --set train.epochs=1500 --set sweep.repeats=6 \
    --set 'diagnostics={hessian: {lanczos_steps: 9}, path: false, minima: {loss_tol: 0, dist_tol: 0}}' || finish
run_bprun 0 report "$T/rs0" || finish
grep -qx "6 solutions, 6 distinct minima, the best reached by 17%" "$T/out" || fail "minima 0: $(cat "$T/out")"
run_bprun 0 run "$cfg" -o "$T/rs1" --quiet --set train.epochs=1500 --set sweep.repeats=6 \
    --set 'diagnostics={hessian: {lanczos_steps: 9}, path: false}' || finish
for fmt in text csv markdown json; do
  run_bprun 0 report "$T/rs1" --format $fmt || finish
  cp "$T/out" "$T/rs1.$fmt"
done
grep -q "^| minimum | loss | max loss | reached | share | verdicts |$" "$T/rs1.markdown" || fail "markdown: $(cat "$T/rs1.markdown")"
# all nine eigenvalues of the 2-2-1 net's Hessian (nine Lanczos steps: exact)
run_bprun 0 run "$cfg" -o "$T/eig" --quiet --set train.epochs=500 \
    --set 'diagnostics={hessian: {lanczos_steps: 9, eigenvalues: 9, trace_samples: 400}, path: false}' || finish
expect_err 2 "bprun: --set:1:1: diagnostics.hessian.eigenvalues: must be >= 1 (got 0)" \
    run "$cfg" -o "$T/x" --quiet --set diagnostics.hessian.eigenvalues=0
[ -n "$PYTHON_H5" ] || finish
"$PYTHON_H5" - "$T" <<'PY' || fail "eigenvalues"
import sys, h5py
g = h5py.File(sys.argv[1] + "/eig/trials/0000.h5", "r")["diagnostics"]
top, bot, a = list(g["eigenvalues_top"][()]), list(g["eigenvalues_bottom"][()]), g.attrs
assert len(top) == 9 and top == sorted(top, reverse=True) and bot == sorted(top), (top, bot)
assert top[0] == a["lambda_max"] and bot[0] == a["lambda_min"]
# the eigenvalues sum to the trace; Hutchinson estimates it
assert abs(sum(top) - a["trace"]) <= 4 * a["trace_se"], (sum(top), a["trace"], a["trace_se"])
assert "eigenvalues_top" not in h5py.File(sys.argv[1] + "/ok/trials/0000.h5", "r")["diagnostics"]
PY
"$PYTHON_H5" - "$T" <<'PY' || fail "minima report"
import sys, csv, json, re, h5py
T = sys.argv[1]
rows = list(csv.DictReader(open(T + "/rs1.csv")))
assert len(rows) == 6 and all(r["verdict"] for r in rows), rows
lab = {int(r["trial"]): int(r["minimum"]) for r in rows}
loss = {t: h5py.File("%s/rs1/trials/%04d.h5" % (T, t), "r")["diagnostics"].attrs["loss"] for t in lab}
# members of one minimum are within loss_tol (default 0.01) of its lowest-loss member, and
# minimum 1 holds the lowest loss
for m in set(lab.values()):
    ls = [loss[t] for t in lab if lab[t] == m]
    assert max(ls) - min(ls) <= 0.01, (m, ls)
assert min(loss[t] for t in lab if lab[t] == 1) == min(loss.values())
j = json.load(open(T + "/rs1.json"))
g = j["points"][0]
assert g["solutions"] == 6 and len(g["minima"]) == len(set(lab.values())), g
vs = [r["verdict"] for r in rows]
assert g["verdicts"] == {v: vs.count(v) for v in vs}, g["verdicts"]
assert [m["reached"] for m in g["minima"]] == [list(lab.values()).count(k + 1) for k in range(len(g["minima"]))]
assert all(r["minimum"] == lab[r["trial"]] for r in j["ranked"])
# the index's /minima (written when the last trial finished) gives the same grouping
mg = h5py.File(T + "/rs1/index.h5", "r")["minima"]
assert {int(t): int(m) for t, m in zip(mg["trial"][()], mg["minimum"][()])} == lab, (mg["minimum"][()], lab)
assert list(mg["point"][()]) == [0] * 6 and all(abs(mg["loss"][i] - loss[int(t)]) == 0 for i, t in enumerate(mg["trial"][()]))
# the index's /summary has the verdict column, equal to the trial files' attribute
summ = h5py.File(T + "/rs1/index.h5", "r")["summary"][()]
for row in summ:
    t = int(row["trial"])
    v = h5py.File("%s/rs1/trials/%04d.h5" % (T, t), "r").attrs["verdict"]
    assert row["verdict"].decode() == v, (t, row["verdict"], v)
    assert [r["verdict"] for r in rows if int(r["trial"]) == t] == [v]
txt = open(T + "/rs1.text").read()
n = len(set(lab.values()))
assert re.search(r"^6 solutions, %d distinct minim(um|a), the best reached by" % n, txt, re.M), txt
PY
"$PYTHON_H5" - "$T" <<'PY' || fail "path"
import sys, h5py
T = sys.argv[1]
f = h5py.File(T + "/ok/trials/0000.h5", "r")
a, l = f["diagnostics/path/alpha"][()], f["diagnostics/path/loss"][()]
assert len(a) == 25 and abs(a[0] + 0.25) < 1e-12 and abs(a[4]) < 1e-12 and abs(a[20] - 1) < 1e-12 and abs(a[24] - 1.25) < 1e-12, a
assert abs(l[20] - f["diagnostics"].attrs["loss"]) <= 1e-5 * (1 + l[20]), (l[20], f["diagnostics"].attrs["loss"])
assert l[4] > 0.1 and l[20] < 0.01, l
g = h5py.File(T + "/rs/trials/0000.h5", "r")["diagnostics/path"]
assert list(g["alpha"][()]) == [0, 0.25, 0.5, 0.75, 1.0], g["alpha"][()]
assert "path" not in h5py.File(T + "/rs0/trials/0000.h5", "r")["diagnostics"]
PY
"$PYTHON_H5" - "$T" <<'PY' || fail "HDF5 contents"
import sys, h5py, math
T = sys.argv[1]
f = h5py.File(T + "/ok/trials/0000.h5", "r")
cols = sorted(f["epochs"].keys())
want = {"grad_norm", "weight_norm", "update_ratio", "distance", "sat_l0", "sat_l1", "dead_l0",
        "plateau"}
assert want <= set(cols), cols
assert f.attrs["verdict"] == "descending"
d = f["diagnostics"].attrs
assert d["grad_norm"] <= 1e-3 and d["lambda_min"] > -1e-3 * d["lambda_max"], dict(d)
# the descent probe: 1 % larger weights lower the loss by about 10 %, 20 gradient steps by most
# of it, and the weights grow
assert 0.05 < d["probe_radial_drop"] < 0.2 and d["probe_drop"] > 0.5, dict(d)
assert d["probe_norm_growth"] > 1, dict(d)
l = h5py.File(T + "/lin/trials/0000.h5", "r")["diagnostics"].attrs
assert l["probe_radial_drop"] < 0 and abs(l["probe_drop"]) <= 1e-5 and abs(l["probe_norm_growth"]) < 1e-6, dict(l)
assert math.isnan(h5py.File(T + "/noprobe/trials/0000.h5", "r")["diagnostics"].attrs["probe_drop"])
assert d["lambda_max"] > 0 and d["trace"] > 0
# every diagnostics column has one value per epoch
ep = f["epochs"]
n = len(ep["epoch"])
assert all(len(ep[c]) == n for c in want)
assert ep["plateau"][0] == 0 and 0 <= ep["sat_l0"][-1] <= 1
e = h5py.File(T + "/every/trials/0000.h5", "r")["epochs"]
assert "dead_l0" not in e and "distance" not in e
lm = e["lambda_max"][()]
assert [i for i in range(len(lm)) if not math.isnan(lm[i])] == [99, 199, 299], lm
v = h5py.File(T + "/div/trials/0000.h5", "r")
assert v.attrs["verdict"] == "diverged" and math.isnan(v["diagnostics"].attrs["lambda_max"])
PY
finish
