#!/bin/sh
# quickprop's defaults are FANN's (docs/PLUGINS.md): on the 10-5-10 encoder (Fahlman 1988)
# they solve every restart in a few tens of epochs, under either train.reduction. (With the
# decay ten times stronger, what FANN's default meant on this problem before the plugin summed
# the gradient as FANN does, it stalls above the target: checked too, so the test can fail.)
. "$BP_SRCDIR/tests/lib.sh"
need_python

write_config "$T/enc.yaml" <<'YAML'
experiment: qp
seed: 1
data: {train: "builtin:encoder:10"}
model: {layers: [10, 5, 10], activation: sigmoid, output: sigmoid, loss: mse,
        init: {scheme: uniform, range: 1.0}}
train: {epochs: 150, batch_size: full, shuffle: false, optimizer: quickprop, target_loss: 0.01}
sweep: {repeats: 6}
YAML
run_bprun 0 run "$T/enc.yaml" -o "$T/mean" --quiet || finish
run_bprun 0 run "$T/enc.yaml" -o "$T/sum" --quiet --set train.reduction=sum || finish
run_bprun 0 run "$T/enc.yaml" -o "$T/strong" --quiet --set train.optimizer.decay=-1e-3 || finish
"$PYTHON_H5" - "$T" >"$T/py" 2>&1 <<'PY' || fail "quickprop on the encoder: $(cat "$T/py")"
import sys, h5py
t = sys.argv[1]
def e2t(r):
    return [int(x["epochs_to_target"]) for x in h5py.File(t + "/" + r + "/index.h5", "r")["summary"][()]]
for r in ("mean", "sum"):
    e = e2t(r)
    assert all(0 < x <= 60 for x in e), (r, e)
assert all(x == -1 for x in e2t("strong")), e2t("strong")
PY
finish
