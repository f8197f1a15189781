"""Independent reader for bprun's output (h5py + numpy), used by the shell tests.

  h5check.py digest TRIAL.h5          hash of everything a trial computed (epoch columns except
                                      'seconds', parameters, optimizer step, hyperparameters and
                                      state, schedule state, status, epochs_done, seed, trial)
  h5check.py forward TRIAL.h5 DATA.h5#/GROUP
                                      recompute loss and accuracy of the saved weights with numpy
  h5check.py epochs TRIAL.h5 COLUMN   print one per-epoch column, one value per line
  h5check.py attr FILE NAME           print a root attribute
"""
import hashlib
import sys

import h5py
import numpy as np


def digest(path):
    h = hashlib.sha256()
    with h5py.File(path, "r") as f:
        for name in sorted(f["epochs"].keys()):
            if name == "seconds":
                continue
            h.update(name.encode())
            h.update(np.asarray(f["epochs"][name][()], dtype="<f8").tobytes())
        h.update(np.asarray(f["model/params"][()], dtype="<f4").tobytes())
        if "model/optimizer" in f:
            opt = f["model/optimizer"]
            h.update(repr(int(opt.attrs["step"])).encode())
            h.update(np.asarray(opt.attrs["hp"], dtype="<f8").tobytes())
            if "state" in opt:
                h.update(np.asarray(opt["state"][()], dtype="<f4").tobytes())
        if "model/schedule" in f:
            h.update(np.asarray(f["model/schedule"].attrs["state"], dtype="<f8").tobytes())
        for a in ("status", "epochs_done", "seed", "trial"):
            h.update(repr(f.attrs[a]).encode())
    return h.hexdigest()


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
    raise SystemExit("h5check: no reference for activation " + name)


def forward(trial, dataref):
    fname, _, group = dataref.partition("#")
    with h5py.File(trial, "r") as f:
        m = f["model"]
        sizes = [int(s) for s in m.attrs["sizes"]]
        acts = [a.decode() if isinstance(a, bytes) else str(a) for a in m.attrs["activations"]]
        loss_name = m.attrs["loss"]
        loss_name = loss_name.decode() if isinstance(loss_name, bytes) else str(loss_name)
        p = np.asarray(m["params"][()], dtype=np.float64)
        mean = np.asarray(m["standardize_mean"][()]) if "standardize_mean" in m else None
        std = np.asarray(m["standardize_std"][()]) if "standardize_std" in m else None
    with h5py.File(fname, "r") as d:
        g = d[group or "/"]
        X = np.asarray(g["X"][()], dtype=np.float64)
        y = np.asarray(g["y"][()]) if "y" in g else None
        Y = np.asarray(g["Y"][()], dtype=np.float64) if "Y" in g else None
    if mean is not None:
        X = (X.astype(np.float32) - mean) / std
    a, off = X, 0
    zs = None
    for l in range(len(sizes) - 1):
        nin, nout = sizes[l], sizes[l + 1]
        W = p[off:off + nin * nout].reshape(nout, nin)
        off += nin * nout
        b = p[off:off + nout]
        off += nout
        zs = a @ W.T + b
        a = act(acts[l], zs)
    n, k = a.shape
    if Y is None:
        if k == 1:
            T = y.reshape(n, 1).astype(np.float64)
        else:
            T = np.zeros((n, k))
            T[np.arange(n), y] = 1.0
    else:
        T = Y
    if loss_name == "mse":
        loss = 0.5 * ((a - T) ** 2).sum(axis=1)
    elif loss_name == "cross_entropy":
        lse = zs.max(axis=1) + np.log(np.exp(zs - zs.max(axis=1, keepdims=True)).sum(axis=1))
        loss = (T * (lse[:, None] - zs)).sum(axis=1)
    else:
        loss = (np.logaddexp(0, zs) - T * zs).sum(axis=1)
    if k == 1:
        acc = ((a[:, 0] >= 0.5) == (T[:, 0] >= 0.5)).mean()
    else:
        acc = (a.argmax(axis=1) == T.argmax(axis=1)).mean()
    print("%.9g %.6f" % (loss.mean(), acc))


def main():
    cmd = sys.argv[1]
    if cmd == "digest":
        print(digest(sys.argv[2]))
    elif cmd == "forward":
        forward(sys.argv[2], sys.argv[3])
    elif cmd == "epochs":
        with h5py.File(sys.argv[2], "r") as f:
            for v in f["epochs"][sys.argv[3]][()]:
                print(repr(float(v)))
    elif cmd == "attr":
        with h5py.File(sys.argv[2], "r") as f:
            v = f.attrs[sys.argv[3]]
            print(v.decode() if isinstance(v, bytes) else v)
    else:
        raise SystemExit("h5check: unknown command " + cmd)


if __name__ == "__main__":
    main()
