"""Independent reader for bprun's output (h5py + numpy), used by the shell tests.

  h5check.py digest TRIAL.h5          hash of everything a trial computed (epoch columns except
                                      'seconds', parameters, optimizer step, hyperparameters and
                                      state, schedule state, status, epochs_done, seed, trial)
  h5check.py forward TRIAL.h5 DATA.h5#/GROUP
                                      recompute loss and accuracy of the saved weights with numpy
  h5check.py epochs TRIAL.h5 COLUMN   print one per-epoch column, one value per line
  h5check.py attr FILE NAME           print a root attribute
  h5check.py same A.h5 B.h5           exit 0 when two trial files or two index files hold the
                                      same results: every group, dataset, attribute and link,
                                      bit for bit, except what records time and place (VOLATILE:
                                      provenance, started, finished, created, wall_seconds,
                                      the cost records samples_per_second and peak_rss_bytes,
                                      continued_from and continued_at of a trial continued on
                                      resume, the epoch column 'seconds', the summary fields
                                      wall_seconds, samples_per_second, peak_rss_bytes);
                                      else print the first difference and exit 1
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


VOLATILE_ATTRS = {"provenance", "started", "finished", "created", "wall_seconds",
                  "continued_from", "continued_at", "samples_per_second", "peak_rss_bytes"}
VOLATILE_FIELDS = {"wall_seconds", "samples_per_second", "peak_rss_bytes"}


def _same_value(x, y):
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype.names or y.dtype.names:
        if x.dtype.names != y.dtype.names or x.shape != y.shape:
            return "fields or shape differ"
        for n in x.dtype.names:
            if n in VOLATILE_FIELDS:
                continue
            why = _same_value(x[n], y[n])
            if why:
                return "field " + n + ": " + why
        return None
    if x.shape != y.shape:
        return "shape %s != %s" % (x.shape, y.shape)
    if x.dtype.kind == "f" and y.dtype.kind == "f":
        same = (x == y) | (np.isnan(x) & np.isnan(y))
        return None if np.all(same) and x.dtype == y.dtype else "values differ"
    return None if np.array_equal(x, y) else "values differ: %.100r != %.100r" % (x.ravel()[:4], y.ravel()[:4])


def same(pa, pb):
    """The first difference between two bprun files (None when they are the same)."""
    with h5py.File(pa, "r") as a, h5py.File(pb, "r") as b:
        def attrs(obj_a, obj_b, where):
            ka = {k for k in obj_a.attrs.keys() if k not in VOLATILE_ATTRS}
            kb = {k for k in obj_b.attrs.keys() if k not in VOLATILE_ATTRS}
            if ka != kb:
                return "%s: attributes %s vs %s" % (where, sorted(ka), sorted(kb))
            for k in sorted(ka):
                why = _same_value(obj_a.attrs[k], obj_b.attrs[k])
                if why:
                    return "%s: attribute %s: %s" % (where, k, why)
            return None

        def walk(ga, gb, where):
            why = attrs(ga, gb, where or "/")
            if why:
                return why
            na, nb = sorted(ga.keys()), sorted(gb.keys())
            if na != nb:
                return "%s: members %s vs %s" % (where or "/", na, nb)
            for n in na:
                path = where + "/" + n
                la, lb = ga.get(n, getlink=True), gb.get(n, getlink=True)
                if isinstance(la, h5py.ExternalLink) or isinstance(lb, h5py.ExternalLink):
                    if not (isinstance(la, h5py.ExternalLink) and isinstance(lb, h5py.ExternalLink)
                            and la.filename == lb.filename and la.path == lb.path):
                        return path + ": links differ"
                    continue
                oa, ob = ga[n], gb[n]
                if isinstance(oa, h5py.Group) != isinstance(ob, h5py.Group):
                    return path + ": group vs dataset"
                if isinstance(oa, h5py.Group):
                    why = walk(oa, ob, path)
                elif path == "/epochs/seconds":
                    continue
                else:
                    why = attrs(oa, ob, path) or _same_value(oa[()], ob[()])
                    if why and not why.startswith(path):
                        why = path + ": " + why
                if why:
                    return why
            return None

        return walk(a, b, "")


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
    elif cmd == "same":
        why = same(sys.argv[2], sys.argv[3])
        if why:
            print("%s vs %s: %s" % (sys.argv[2], sys.argv[3], why))
            raise SystemExit(1)
    elif cmd == "attr":
        with h5py.File(sys.argv[2], "r") as f:
            v = f.attrs[sys.argv[3]]
            print(v.decode() if isinstance(v, bytes) else v)
    else:
        raise SystemExit("h5check: unknown command " + cmd)


if __name__ == "__main__":
    main()
