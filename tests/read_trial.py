"""Independent reader check: open what check_runlog wrote with h5py and assert the values.

usage: read_trial.py RUN_DIR   (RUN_DIR holds index.h5 and trials 0000 (50 rows) and 0001 (7))
"""
import os
import sys

import h5py
import numpy as np

run = os.path.abspath(sys.argv[1])
os.chdir("/")  # links must resolve against the index's folder, not the working directory


def cell(row, col):
    return (row + 1) / 3.0 + col * 1e-3


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def check_trial(g, trial, rows):
    a = g.attrs
    assert int(a["format_version"]) == 1, a["format_version"]
    assert int(a["trial"]) == trial
    assert int(a["seed"]) == 12345678901234567890
    assert text(a["status"]) == "completed"
    assert int(a["epochs_done"]) == rows
    assert text(a["config"]) == "experiment: xor\nseed: 1\n"
    assert text(a["provenance"]).startswith("bprun: ")
    cols = [text(c) for c in g["epochs"].attrs["columns"]]
    assert cols == ["loss", "val_loss", "accuracy"], cols
    for c, name in enumerate(cols):
        d = g["epochs"][name]
        assert d.dtype == np.float64 and d.shape == (rows,), (d.dtype, d.shape)
        want = np.array([cell(i, c) for i in range(rows)], dtype=np.float64)
        assert np.array_equal(d[()], want), name
    m = g["model"]
    assert list(m.attrs["sizes"]) == [2, 3, 1]
    assert [text(x) for x in m.attrs["activations"]] == ["leaky_relu", "sigmoid"]
    assert text(m.attrs["output"]) == "sigmoid"
    assert text(m.attrs["loss"]) == "mse"
    l0 = m["layer_0"].attrs
    assert [text(x) for x in l0["hp_names"]] == ["slope"] and list(l0["hp"]) == [0.01]
    assert len(m["layer_1"].attrs["hp"]) == 0
    p = m["params"][()]
    want = np.array([(i * 0.37 - 5.0) / 7.0 for i in range(13)], dtype=np.float64)
    assert p.dtype == np.float32 and np.array_equal(p, want.astype(np.float32))
    o = m["optimizer"]
    assert text(o.attrs["name"]) == "adam" and int(o.attrs["step"]) == 777
    assert [text(x) for x in o.attrs["hp_names"]] == ["lr", "beta1", "beta2"]
    assert list(o.attrs["hp"]) == [0.001, 0.9, 0.999]
    st = o["state"][()]
    assert st.shape == (2, 13)
    assert np.array_equal(st.ravel(), np.arange(26, dtype=np.float32) * 0.5 - 3)


with h5py.File(os.path.join(run, "trials", "0000.h5"), "r") as f:
    check_trial(f, 0, 50)

with h5py.File(os.path.join(run, "index.h5"), "r") as f:
    assert int(f.attrs["n_trials"]) == 2
    assert text(f.attrs["config"]) == "cfg"
    s = f["summary"][()]
    assert list(s["trial"]) == [0, 1]
    assert [text(x) for x in s["status"]] == ["completed", "completed"]
    assert list(s["epochs"]) == [50, 7]
    assert int(s["seed"][1]) == 12345678901234567890
    assert s["best_val_loss"][0] == 0.125 and s["wall_seconds"][1] == 2.5
    link = f["trials"].get("0001", getlink=True)
    assert isinstance(link, h5py.ExternalLink) and link.filename == "trials/0001.h5", link
    check_trial(f["trials/0000"], 0, 50)
    check_trial(f["trials/0001"], 1, 7)

print("read_trial.py: trial files and index read back exactly with h5py", h5py.__version__)
