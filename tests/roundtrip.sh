#!/bin/sh
# HDF5 round trip: the saved weights give the same loss and accuracy through `bprun eval` and
# through an independent reader (h5py + numpy forward pass), and the per-epoch history is
# readable with h5py while the index links to the trial file.
. "$BP_SRCDIR/tests/lib.sh"
need_python
run_bprun 0 import csv "$BP_SRCDIR/data/iris.csv" --label-column species -o "$T/iris.h5#/iris" || finish
write_config "$T/c.yaml" <<YAML
experiment: iris
data: {train: "$T/iris.h5#/iris", validation: 0.2, standardize: true}
model: {layers: [4, 6, 3], activation: tanh, output: softmax, loss: cross_entropy}
train: {epochs: 30, batch_size: 10, optimizer: {name: sgd, lr: 0.1, momentum: 0.5}}
YAML
run_bprun 0 run "$T/c.yaml" -o "$T/run" --quiet || finish
run_bprun 0 eval "$T/run" "$T/iris.h5#/iris" || finish
ours=$(awk '/^loss/ {l=$2} /^accuracy/ {a=$2} END {print l, a}' "$T/out")
theirs=$("$PYTHON_H5" "$BP_SRCDIR/tests/h5check.py" forward "$T/run/trials/0000.h5" "$T/iris.h5#/iris")
"$PYTHON_H5" - "$ours" "$theirs" <<'PY' || fail "eval ($ours) and numpy ($theirs) disagree"
import sys
a = [float(x) for x in sys.argv[1].split()]
b = [float(x) for x in sys.argv[2].split()]
assert abs(a[0] - b[0]) <= 1e-5 * max(1.0, abs(b[0])), (a, b)
assert a[1] == b[1], (a, b)
PY
"$PYTHON_H5" - "$T/run" <<'PY' || fail "index/trial layout"
import sys, h5py
run = sys.argv[1]
with h5py.File(run + "/index.h5", "r") as f:
    assert f.attrs["format_version"] == 1
    s = f["summary"][()]
    assert len(s) == 1 and s["trial"][0] == 0
    assert s["status"][0].decode().rstrip("\0") == "completed"
    t = f["trials/0000"]            # external link into trials/0000.h5
    assert t["epochs/loss"].shape == (30,)
    assert abs(t["epochs/loss"][-1] - s["final_loss"][0]) == 0
    assert (t["epochs/epoch"][()] == range(1, 31)).all()
PY
# a new run can start from saved weights (model.init.from): its first epoch starts where the
# first run ended, so its first loss is far below the first run's
run_bprun 0 run "$T/c.yaml" -o "$T/run2" --quiet --set "model.init.from=$T/run/trials/0000.h5" --set train.epochs=1 || finish
first=$("$PYTHON_H5" "$BP_SRCDIR/tests/h5check.py" epochs "$T/run/trials/0000.h5" loss | head -n 1)
again=$("$PYTHON_H5" "$BP_SRCDIR/tests/h5check.py" epochs "$T/run2/trials/0000.h5" loss | head -n 1)
last=$("$PYTHON_H5" "$BP_SRCDIR/tests/h5check.py" epochs "$T/run/trials/0000.h5" loss | tail -n 1)
awk -v a="$again" -v f="$first" -v l="$last" 'BEGIN {exit !(a < f / 2 && a < 2 * l)}' \
  || fail "init.from: first loss $again vs fresh $first, previous final $last"
expect_err 2 "bprun: --set:1:1: model.init.from: $T/run/trials/0000.h5 has layers [4, 6, 3], which differ from model.layers" \
  run "$T/c.yaml" -o "$T/run3" --quiet --set "model.init.from=$T/run/trials/0000.h5" --set 'model.layers=[4, 5, 3]'
finish
