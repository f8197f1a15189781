#!/bin/sh
# Diagnostics (docs/DIAGNOSTICS.md): per-epoch columns, /diagnostics, the verdict attribute,
# verdict counts in bprun report, and config errors of the diagnostics section.
. "$BP_SRCDIR/tests/lib.sh"

cfg=$BP_SRCDIR/configs/xor.yaml
# XOR 2-2-1 from seed 3 solves it: a minimum (small gradient, no negative curvature)
run_bprun 0 run "$cfg" -o "$T/ok" --quiet --set diagnostics=true || finish
grep -qx "diagnostics: verdicts over 1 trials: minimum 1" "$T/out" || fail "verdict: $(cat "$T/out")"
run_bprun 0 report "$T/ok" || finish
grep -qx "diagnostics: verdicts over 1 trials: minimum 1" "$T/out" || fail "report: $(cat "$T/out")"
# a linear output with a huge rate diverges
run_bprun 1 run "$cfg" -o "$T/div" --quiet --set diagnostics=true --set model.output=identity \
    --set train.optimizer.lr=50 --set train.epochs=50 || finish
grep -qx "diagnostics: verdicts over 1 trials: diverged 1" "$T/out" || fail "diverged: $(cat "$T/out")"
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
[ -n "$PYTHON_H5" ] || finish
"$PYTHON_H5" - "$T" <<'PY' || fail "HDF5 contents"
import sys, h5py, math
T = sys.argv[1]
f = h5py.File(T + "/ok/trials/0000.h5", "r")
cols = sorted(f["epochs"].keys())
want = {"grad_norm", "weight_norm", "update_ratio", "distance", "sat_l0", "sat_l1", "dead_l0",
        "plateau"}
assert want <= set(cols), cols
assert f.attrs["verdict"] == "minimum"
d = f["diagnostics"].attrs
assert d["grad_norm"] <= 1e-3 and d["lambda_min"] > -1e-3 * d["lambda_max"], dict(d)
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
