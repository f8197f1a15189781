"""tests/python.sh's checks of the bprun Python module (python/bprun.py):
python_read.py RUN REPORT.json EPOCHS.csv NOINDEX_RUN PART_TRIAL RUN2D EPOCHS2D.csv TWO.csv
read_run against `bprun report --format json` and the HDF5 files read directly with h5py,
read_epochs against the trial files' /epochs and against `--format csv --table epochs`, and
read_run / read_epochs on a copy of the run without index.h5 and with one trial's file renamed
to .h5.part (a run still going); RUN2D is a copy of RUN whose trial 3 got a 2-D epoch column
w2 (epochs x 6) and EPOCHS2D.csv its epochs CSV; TWO.csv the epochs CSV of RUN and RUN2D
together. Prints one FAIL line per failed check; exit 1 if any."""
import json
import math
import sys

import h5py
import numpy as np
import pandas as pd

import bprun

run, report, csv, noindex, part_trial, run2d, csv2d, two = sys.argv[1:9]
part_trial = int(part_trial)
fails = []


def check(ok, what):
    if not ok:
        fails.append(what)
        print("FAIL: " + what)


def same(a, b):
    """bit-identical floats (NaN equal to NaN; None is NaN)"""
    a = math.nan if a is None else float(a)
    b = math.nan if b is None else float(b)
    return (math.isnan(a) and math.isnan(b)) or a == b


df = bprun.read_run(run)
rep = json.load(open(report))
check(list(df["trial"]) == sorted(r["trial"] for r in rep["ranked"]), "read_run: trials in order")
check(list(df.columns[:6]) == ["trial", "point", "repeat", "seed", "status", "epochs"],
      "read_run: leading columns %s" % list(df.columns[:6]))
by = df.set_index("trial")
for r in rep["ranked"]:
    t = r["trial"]
    x = by.loc[t]
    check(int(x["seed"]) == r["seed"] and x["status"] == r["status"] and x["epochs"] == r["epochs"],
          "trial %d: seed/status/epochs" % t)
    for c in ("loss", "accuracy", "val_loss", "val_accuracy", "best_val_loss", "test_accuracy",
              "seconds", "samples_per_second", "peak_rss_bytes", "work_bytes"):
        check(same(x[c], r[c]), "trial %d: %s %r != json %r" % (t, c, x[c], r[c]))
    # json: the epochs to target when reached, else null; read_run: -1 when never reached
    want = r["epochs_to_target"]
    check(same(x["epochs_to_target"], want) if want is not None else x["epochs_to_target"] == -1,
          "trial %d: epochs_to_target %r, json %r" % (t, x["epochs_to_target"], want))
    check(x["verdict"] == (r.get("verdict") or ""), "trial %d: verdict" % t)
    check(x["params"] == r["params"], "trial %d: params %r != %r" % (t, x["params"], r["params"]))
# the points: the same trials share a point id (and repeats are 0, 1, ... within it)
for p in rep["points"]:
    pts = set(by.loc[p["trials"], "point"])
    check(len(pts) == 1, "point of %s: %s" % (p["trials"], pts))
    check(sorted(by.loc[p["trials"], "repeat"]) == list(range(len(p["trials"]))),
          "repeats of %s" % p["trials"])
    vals = by.loc[p["trials"], rep["metric"]]
    check(abs(vals.mean() - p["mean"]) <= 1e-12 * abs(p["mean"]), "point mean %s" % p["trials"])
check(len(rep["points"]) == df["point"].nunique(), "number of points")
check(list(df["trial"]) == list(df["point"] * 2 + df["repeat"]), "trial = point x repeats + repeat")

# the HDF5 files, read directly
with h5py.File(run + "/index.h5", "r") as f:
    s = f["summary"][()]
    P = f["params"][()]
    axes = [a.decode() if isinstance(a, bytes) else a for a in f.attrs["axes"]]
    for i, row in enumerate(s):
        x = by.loc[int(row["trial"])]
        check(x["status"] == row["status"].rstrip(b"\0").decode(), "summary status %d" % i)
        for col, field in bprun.METRICS:
            v = float(row[field])
            if col in ("epochs_to_target", "samples_per_second", "peak_rss_bytes", "work_bytes") \
                    and v == 0:
                v = math.nan
            check(same(x[col], v), "summary %s of trial %d: %r != %r" % (col, i, x[col], v))
        for j, a in enumerate(axes):
            txt = P[i, j].decode() if isinstance(P[i, j], bytes) else P[i, j]
            check(x["params"][a] == txt, "params text %d %s" % (i, a))
for t in df["trial"]:
    x = by.loc[t]
    with h5py.File("%s/trials/%04d.h5" % (run, t), "r") as f:
        check(int(f.attrs["seed"]) == x["seed"] and int(f.attrs["epochs_done"]) == x["epochs"],
              "trial file %d: seed, epochs_done" % t)
        check(same(f.attrs["test_loss"], x["test_loss"]), "trial file %d: test_loss" % t)
        check(f.attrs["verdict"] == x["verdict"], "trial file %d: verdict" % t)
        # the flattened axes are the values the trial ran with
        o = f["model/optimizer"].attrs
        check(o["name"] == x["train.optimizer.name"], "trial %d: optimizer name" % t)
        hp = dict(zip([h.decode() if isinstance(h, bytes) else h for h in o["hp_names"]], o["hp"]))
        if isinstance(x["train.optimizer.lr"], float) and not math.isnan(x["train.optimizer.lr"]):
            check(hp["lr"] == x["train.optimizer.lr"], "trial %d: lr" % t)
        check(("batch_size: %d" % x["train.batch_size"]) in f.attrs["resolved_config"],
              "trial %d: batch_size %r" % (t, x["train.batch_size"]))
check(df["train.optimizer.name"].tolist() == ["sgd"] * 4 + ["adam"] * 4, "flattened optimizer.name")
check(df["train.batch_size"].dtype.kind == "i", "numeric axis parsed as a number")

# read_epochs against /epochs of every trial file
ep = bprun.read_epochs(run)
check(list(ep.columns[:4]) == ["trial", "epoch", "status", "running"], "read_epochs: leading columns")
for t in df["trial"]:
    e = ep[ep["trial"] == t]
    with h5py.File("%s/trials/%04d.h5" % (run, t), "r") as f:
        g = f["epochs"]
        check(len(e) == len(g["epoch"]), "trial %d: rows" % t)
        for c in g:
            d = g[c][()]
            cols = [c] if d.ndim == 1 else ["%s[%d]" % (c, j) for j in range(d.shape[1])]
            for j, name in enumerate(cols):
                want = d if d.ndim == 1 else d[:, j]
                check(np.array_equal(e[name].to_numpy(dtype=np.float64), want, equal_nan=True),
                      "trial %d: /epochs/%s" % (t, name))
        for c in ep.columns[4:]:
            if c.split("[")[0] not in g:
                check(e[c].isna().all(), "trial %d: a column it lacks is NaN" % t)
check(set(ep.columns[4:]) >= {"loss", "val_loss", "grad_norm", "sat_l0"}, "read_epochs: columns")

# the CSV export equals read_epochs
c = pd.read_csv(csv, float_precision="round_trip")  # the default parser is not exact
check(list(c.columns) == list(ep.columns), "csv columns %s" % list(c.columns))
if list(c.columns) == list(ep.columns) and len(c) == len(ep):
    for col in ep.columns:
        if ep[col].dtype.kind == "f":
            check(np.array_equal(c[col].to_numpy(dtype=np.float64), ep[col].to_numpy(),
                                 equal_nan=True), "csv column %s" % col)
        else:
            check(c[col].tolist() == ep[col].tolist(), "csv column %s" % col)
else:
    check(False, "csv rows %d, read_epochs %d" % (len(c), len(ep)))

# a run still going: no index.h5, one trial a .part
d2 = bprun.read_run(noindex)
check(list(d2["trial"]) == list(df["trial"]), "no index: trials")
x2 = d2.set_index("trial")
check(x2.loc[part_trial, "status"] == "running", "no index: the .part trial is running")
for t in df["trial"]:
    if t != part_trial:
        check(same(x2.loc[t, "loss"], by.loc[t, "loss"]) and
              same(x2.loc[t, "val_loss"], by.loc[t, "val_loss"]) and
              x2.loc[t, "status"] == by.loc[t, "status"], "no index: trial %d" % t)
    check(x2.loc[t, "point"] == by.loc[t, "point"] and x2.loc[t, "repeat"] == by.loc[t, "repeat"],
          "no index: point and repeat of %d" % t)
    for a in ("train.optimizer.name", "train.batch_size"):
        check(x2.loc[t, a] == by.loc[t, a], "no index: %s of %d" % (a, t))
e2 = bprun.read_epochs(noindex)
check(len(e2) == len(ep) and e2[e2["trial"] == part_trial]["running"].all()
      and not e2[e2["trial"] != part_trial]["running"].any(), "no index: read_epochs running flag")

# several folders: a run column
d3 = bprun.read_run([run, noindex])
check(list(d3.columns[:2]) == ["run", "trial"] and len(d3) == 2 * len(df), "two runs")

# a 2-D column is split into name[0], name[1], NaN in the trials without it; the CSV agrees
def same_frame(a, b, what):
    check(list(a.columns) == list(b.columns) and len(a) == len(b),
          "%s: columns %s / %s, rows %d / %d" % (what, list(a.columns), list(b.columns), len(a), len(b)))
    if list(a.columns) == list(b.columns) and len(a) == len(b):
        for col in a.columns:
            x, y = a[col].to_numpy(), b[col].to_numpy()
            ok = np.array_equal(x.astype(np.float64), y.astype(np.float64), equal_nan=True) \
                if a[col].dtype.kind == "f" else x.tolist() == y.tolist()
            check(ok, "%s: column %s" % (what, col))


e4 = bprun.read_epochs(run2d)
with h5py.File(run2d + "/trials/0003.h5", "r") as f:
    w2 = f["epochs/w2"][()]
check(w2.ndim == 2 and "w2[0]" in e4 and "w2[1]" in e4 and "w2" not in e4, "2-D column split")
if "w2[1]" in e4:
    check(np.array_equal(e4[e4["trial"] == 3]["w2[1]"].to_numpy(), w2[:, 1]), "w2[1] of trial 3")
    check(e4[e4["trial"] != 3]["w2[0]"].isna().all(), "w2 NaN in the other trials")
same_frame(pd.read_csv(csv2d, float_precision="round_trip"), e4, "csv with a 2-D column")
e5 = bprun.read_epochs([run, run2d])
same_frame(pd.read_csv(two, float_precision="round_trip"), e5, "csv of two runs")
check(list(e5.columns[:2]) == ["run", "trial"], "two runs: the run column")

print("python_read: %d trials, %d epoch rows, %d failed checks" % (len(df), len(ep), len(fails)))
sys.exit(1 if fails else 0)
