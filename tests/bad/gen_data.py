# Writes the HDF5 inputs of the bad-input catalogue (tests/bad.sh) into the folder argv[1]:
# data.h5 (one broken group per case, plus a good one), truncated.h5 (data.h5 cut short),
# model.h5 (a file that looks like a trial file but holds no model).
import os, sys
import h5py
import numpy as np

out = sys.argv[1]
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
y = np.array([0, 1, 1, 0], dtype=np.int32)
path = os.path.join(out, "data.h5")
with h5py.File(path, "w") as f:
    def grp(name, **ds):
        g = f.create_group(name)
        for k, v in ds.items():
            g[k] = v
        return g
    grp("ok", X=X, y=y)
    grp("no_x", y=y)
    grp("no_y", X=X)
    grp("x_3d", X=X.reshape(4, 2, 1), y=y)
    grp("x_1d", X=X[:, 0], y=y)
    grp("x_int", X=X.astype(np.int32), y=y)
    grp("x_str", X=np.array([b"a", b"b", b"c", b"d"]), y=y)
    grp("y_float", X=X, y=y.astype(np.float64) + 0.5)
    grp("y_2d", X=X, y=y.reshape(2, 2))
    grp("y_neg", X=X, y=np.array([0, -1, 1, 0], dtype=np.int32))
    g = grp("y_nclasses", X=X, y=y)
    g["y"].attrs["n_classes"] = np.int32(1)
    bad = X.copy()
    bad[2, 1] = np.nan
    grp("x_nan", X=bad, y=y)
    Y = y.astype(np.float32).reshape(4, 1).repeat(2, axis=1)
    Y[3, 0] = np.inf
    grp("Y_inf", X=X, Y=Y)
    grp("rows", X=X, y=y[:3])
    grp("zero_rows", X=np.zeros((0, 2), np.float32), y=np.zeros(0, np.int32))
    grp("both_y", X=X, y=y, Y=Y)
    grp("labels5", X=X, y=np.array([0, 4, 1, 0], dtype=np.int32))
    g = grp("x_group", y=y)
    g.create_group("X")
with open(path, "rb") as f:
    whole = f.read()
with open(os.path.join(out, "truncated.h5"), "wb") as f:
    f.write(whole[: len(whole) // 2])
with h5py.File(os.path.join(out, "model.h5"), "w") as f:
    f.attrs["format_version"] = np.int32(1)
