"""tests/predict.sh's independent reader (h5py + numpy, not bprun's code).

predict_check.py forward TRIAL DATAREF OUT.h5
    numpy's forward pass from the trial file's weights (float64 products of the float32
    weights, the saved standardization) against `bprun predict`'s OUT.h5: outputs within
    1e-6, the same classes; prints the accuracy against DATAREF's labels (6 decimals).
predict_check.py rows DATAREF
    X's rows as text, each value %.9g (reads back as the same float32).
predict_check.py same OUT.h5 TABLE [SKIP_HEADER]
    TABLE (rows of outputs then the class, separated by blanks or commas) holds exactly
    OUT.h5's outputs (as float32, bit for bit) and classes.
"""
import sys

import h5py
import numpy as np


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def act(name, z):
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "identity":
        return z
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise SystemExit("predict_check: no reference for activation " + name)


def load_x(dataref):
    fname, _, group = dataref.partition("#")
    with h5py.File(fname, "r") as d:
        g = d[group or "/"]
        X = np.asarray(g["X"][()], dtype=np.float32)
        y = np.asarray(g["y"][()]) if "y" in g else None
        Y = np.asarray(g["Y"][()]) if "Y" in g else None
    return X, y, Y


def forward(trial, dataref, out):
    with h5py.File(trial, "r") as f:
        m = f["model"]
        sizes = [int(s) for s in m.attrs["sizes"]]
        acts = [text(a) for a in m.attrs["activations"]]
        p = np.asarray(m["params"][()], dtype=np.float64)
        mean = m["standardize_mean"][()] if "standardize_mean" in m else None
        std = m["standardize_std"][()] if "standardize_std" in m else None
    X, y, Y = load_x(dataref)
    a = X.astype(np.float64)
    if mean is not None:
        a = ((a - mean) / std).astype(np.float32).astype(np.float64)
    off = 0
    for l in range(len(sizes) - 1):
        nin, nout = sizes[l], sizes[l + 1]
        W = p[off:off + nin * nout].reshape(nout, nin)
        off += nin * nout
        b = p[off:off + nout]
        off += nout
        a = act(acts[l], a @ W.T + b)
    with h5py.File(out, "r") as f:
        got = np.asarray(f["outputs"][()])
        cls = np.asarray(f["class"][()])
    assert got.dtype == np.float32 and got.shape == a.shape, (got.dtype, got.shape, a.shape)
    err = np.abs(got - a).max()
    assert err <= 1e-6, "outputs differ from numpy's by %g" % err
    k = a.shape[1]
    want = (a[:, 0] >= 0.5).astype(int) if k == 1 else a.argmax(axis=1)
    assert (cls == want).all(), "classes differ in %d rows" % (cls != want).sum()
    if Y is not None:
        t = (Y[:, 0] >= 0.5).astype(int) if k == 1 else Y.argmax(axis=1)
    else:
        t = y
    print("%.6f" % (cls == t).mean())


def rows(dataref):
    X, _, _ = load_x(dataref)
    for r in X:
        print(" ".join("%.9g" % v for v in r))


def same(out, table, skip):
    with h5py.File(out, "r") as f:
        got = np.asarray(f["outputs"][()])
        cls = np.asarray(f["class"][()])
    lines = open(table).read().splitlines()[int(skip):]
    assert len(lines) == got.shape[0], "%d rows, expected %d" % (len(lines), got.shape[0])
    for i, line in enumerate(lines):
        v = line.replace(",", " ").split()
        o = np.array([np.float32(x) for x in v[:-1]], dtype=np.float32)
        assert o.tobytes() == got[i].tobytes(), "row %d: %s, expected %r" % (i, line, got[i])
        assert int(v[-1]) == cls[i], "row %d: class %s, expected %d" % (i, v[-1], cls[i])


if __name__ == "__main__":
    if sys.argv[1] == "forward":
        forward(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "rows":
        rows(sys.argv[2])
    elif sys.argv[1] == "same":
        same(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else 0)
