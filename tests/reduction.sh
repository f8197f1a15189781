#!/bin/sh
# train.reduction (docs/CONFIG.md): sum steps on the gradient of the batch's summed loss, mean
# (the default) on the mean's, as torch's reduction='sum' and 'mean'. Checked against a numpy
# replay of one full-batch epoch from the same weights: the weights after it under sum at lr
# and under mean at N*lr match the replay (and so each other) to 1e-6, which is torch's
# identity grad(sum) = N * grad(mean); the logged loss is the mean loss per sample under both.
# Then bit for bit: full batch of 4 rows (a power of two) for 30 epochs, sum at lr against
# mean at 4*lr; online (batch 1) sum and mean at the same lr.
. "$BP_SRCDIR/tests/lib.sh"
need_python

write_config "$T/base.yaml" <<'YAML'
experiment: red
seed: 3
data: {train: "builtin:spirals"}
model: {layers: [2, 6, 1], activation: tanh, output: sigmoid, loss: binary_cross_entropy}
train: {epochs: 1, batch_size: full, shuffle: false, optimizer: {name: sgd, lr: 0.01}}
YAML
run_bprun 0 run "$T/base.yaml" -o "$T/w0" --quiet || finish
run_bprun 0 import builtin:spirals -o "$T/data.h5#/s" || finish
w0=$T/w0/trials/0000.h5
lr=0.002
run_bprun 0 run "$T/base.yaml" -o "$T/sum" --quiet --set "model.init={from: $w0}" \
  --set train.reduction=sum --set train.optimizer.lr=$lr || finish
run_bprun 0 run "$T/base.yaml" -o "$T/mean" --quiet --set "model.init={from: $w0}" \
  --set train.optimizer.lr=$(awk "BEGIN { print 194 * $lr }") || finish

"$PYTHON_H5" - "$T/data.h5" "$w0" "$T/sum/trials/0000.h5" "$T/mean/trials/0000.h5" "$lr" \
  >"$T/py" 2>&1 <<'PY' || fail "numpy replay: $(cat "$T/py")"
import sys, h5py, numpy as np
d = h5py.File(sys.argv[1], "r")["s"]
X, y = d["X"][()].astype(np.float64), d["Y"][()].astype(np.float64).reshape(-1)
w0 = h5py.File(sys.argv[2], "r")["model/params"][()].astype(np.float64)
ws, wm = (h5py.File(f, "r") for f in sys.argv[3:5])
lr, N = float(sys.argv[5]), X.shape[0]
assert N == 194, N
W1, b1 = w0[:12].reshape(6, 2), w0[12:18]
W2, b2 = w0[18:24].reshape(1, 6), w0[24:25]
h = np.tanh(X @ W1.T + b1)
z = (h @ W2.T + b2).reshape(-1)
o = 1 / (1 + np.exp(-z))
loss = np.logaddexp(0, z) - y * z            # per sample
d2 = (o - y)[:, None]                         # dL/dz for sigmoid + BCE
d1 = (d2 @ W2) * (1 - h * h)
G = np.concatenate([(d1.T @ X).ravel(), d1.sum(0), (d2.T @ h).ravel(), d2.sum(0)])  # summed
for name, f, step in (("sum", ws, lr * G), ("mean", wm, (N * lr) * (G / N))):
    w = f["model/params"][()].astype(np.float64)
    err = np.max(np.abs(w - (w0 - step)))
    assert err <= 1e-6, (name, err)
    # the step bprun took: sum's gradient is N times mean's (to float rounding of the weights)
    l = f["epochs/loss"][0]
    assert abs(l - loss.mean()) <= 1e-6 * loss.mean(), (name, l, loss.mean())
# the gradients bprun stepped on, read back from the weights: grad(sum) = N * grad(mean), up to
# the float rounding of the weights (a few ulps of |w| divided by the step's lr)
gs = (w0 - ws["model/params"][()]) / lr
gm = (w0 - wm["model/params"][()]) / (N * lr)
tol = 4 * np.finfo(np.float32).eps * (1 + np.max(np.abs(w0))) / lr
assert np.max(np.abs(gs - N * gm)) <= tol, (np.max(np.abs(gs - N * gm)), tol)
assert np.max(np.abs(gs - G)) <= tol + 1e-5 * np.max(np.abs(G)), np.max(np.abs(gs - G))
PY

# bit for bit: 4 rows, full batch: sum at lr == mean at 4 lr (1/4 and 4 are exact)
write_config "$T/xor.yaml" <<'YAML'
experiment: redx
seed: 5
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1], init: {scheme: uniform, range: 1.0}}
train: {epochs: 30, batch_size: full, shuffle: false, optimizer: {name: sgd, lr: 0.5, momentum: 0.5}}
YAML
run_bprun 0 run "$T/xor.yaml" -o "$T/xs" --quiet --set train.reduction=sum || finish
run_bprun 0 run "$T/xor.yaml" -o "$T/xm" --quiet --set train.optimizer.lr=2 || finish
# online: the same bits under both (the fused path, and the plugin path with BPRUN_FUSED=0)
run_bprun 0 run "$T/xor.yaml" -o "$T/os" --quiet --set train.batch_size=1 --set train.reduction=sum || finish
run_bprun 0 run "$T/xor.yaml" -o "$T/om" --quiet --set train.batch_size=1 || finish
BPRUN_FUSED=0 run_bprun 0 run "$T/xor.yaml" -o "$T/ou" --quiet --set train.batch_size=1 \
  --set train.reduction=sum || finish
"$PYTHON_H5" - "$T" >"$T/py" 2>&1 <<'PY' || fail "bit for bit: $(cat "$T/py")"
import sys, h5py, numpy as np
t = sys.argv[1]
def get(r):
    f = h5py.File("%s/%s/trials/0000.h5" % (t, r), "r")
    return f["model/params"][()], f["epochs/loss"][()]
for a, b in (("xs", "xm"), ("os", "om"), ("os", "ou")):
    (pa, la), (pb, lb) = get(a), get(b)
    assert np.array_equal(pa, pb), (a, b, pa, pb)
    assert np.array_equal(la, lb), (a, b)
assert not np.array_equal(get("xs")[0], get("os")[0])
PY
finish
