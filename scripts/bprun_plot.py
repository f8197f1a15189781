"""bprun-plot: plots of a bprun run folder (docs/PLOTS.md).

Run through the scripts/bprun-plot wrapper, which picks a Python that has h5py and matplotlib.
Reads RUN/index.h5 (when present) and RUN/trials/*.h5 and *.h5.part (docs/FORMAT.md) and writes
loss_curves, final_vs_lr and diagnostics into OUT_DIR (default RUN/plots). With --lr-find FILE
instead of RUN_DIR: the loss against the learning rate of a `bprun lr-find` result, with its
suggestions marked, written next to FILE (or into OUT_DIR) as <FILE name>.<format>. Prints each
path it wrote, one per line; notes and warnings go to stderr. Exit status: 0 written, 1 error,
2 usage.
"""

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib import transforms as mtransforms  # noqa: E402
from matplotlib import ticker as mticker  # noqa: E402

PROG = "bprun-plot"
BASIC_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds")
TRIAL_FILE = re.compile(r"^(\d+)\.h5(\.part)?$")
DPI = 110

# Titles for the per-epoch columns the diagnostics module writes (issue 5); others use the name.
COLUMN_TITLES = {
    "grad_norm": "gradient norm \u2016\u2207L\u2016",
    "weight_norm": "weight norm \u2016w\u2016",
    "update_ratio": "update-to-weight ratio \u2016\u0394w\u2016/\u2016w\u2016",
    "init_distance": "distance from initial weights \u2016w\u2212w\u2080\u2016",
    "distance_from_init": "distance from initial weights \u2016w\u2212w\u2080\u2016",
    "saturation": "fraction of saturated units",
    "dead_relu": "fraction of dead ReLUs",
    "plateau": "plateau flag (1 = on a plateau)",
    "accuracy": "accuracy (fraction correct)",
    "lr": "learning rate",
    "loss": "training loss",
    "seconds": "epoch wall time (s)",
}


class PlotError(Exception):
    """A user-facing error: one line, printed as 'bprun-plot: <line>'."""


def note(msg):
    print("%s: %s" % (PROG, msg), file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# A small YAML reader for what bprun writes: block mappings (resolved_config) and flow values
# (/params cells such as 0.01, sgd, [2, 3, 1], {name: adam, lr: 0.001}). No PyYAML dependency,
# and numbers like 1e-3 read as numbers (PyYAML's YAML 1.1 reads them as text).



def _scalar(text):
    t = text.strip()
    if t.startswith('"') and t.endswith('"') and len(t) >= 2:
        return bytes(t[1:-1], "utf-8").decode("unicode_escape")
    if t.startswith("'") and t.endswith("'") and len(t) >= 2:
        return t[1:-1].replace("''", "'")
    low = t.lower()
    if low in ("null", "~", ""):
        return None
    if low == "true":
        return True
    if low == "false":
        return False
    if low in (".inf", "+.inf", "inf"):
        return math.inf
    if low in ("-.inf", "-inf"):
        return -math.inf
    if low in (".nan", "nan"):
        return math.nan
    try:
        return int(t, 10)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return t


def _flow_tokens(s):
    out, i, n = [], 0, len(s)
    while i < n:
        ch = s[i]
        if ch.isspace():
            i += 1
        elif ch in "[]{},":
            out.append(("p", ch))
            i += 1
        elif ch == ":" and (i + 1 == n or s[i + 1].isspace() or s[i + 1] in ",]}"):
            out.append(("p", ":"))
            i += 1
        elif ch in "\"'":
            j = i + 1
            while j < n and s[j] != ch:
                j += 2 if ch == '"' and s[j] == "\\" else 1
            if j >= n:
                raise ValueError("unclosed quote in %r" % s)
            out.append(("s", s[i:j + 1]))
            i = j + 1
        else:
            j = i
            while j < n and s[j] not in "[]{},":
                if s[j] == ":" and (j + 1 == n or s[j + 1].isspace() or s[j + 1] in ",]}"):
                    break
                j += 1
            out.append(("s", s[i:j].strip()))
            i = j
    return out


def parse_flow(s):
    """One YAML flow value (scalar, [list] or {map}); raises ValueError when it is not one."""
    toks = _flow_tokens(s)
    pos = 0

    def value():
        nonlocal pos
        if pos >= len(toks):
            return None
        kind, t = toks[pos]
        if kind == "p" and t == "[":
            pos += 1
            items = []
            while pos < len(toks) and toks[pos] != ("p", "]"):
                items.append(value())
                if pos < len(toks) and toks[pos] == ("p", ","):
                    pos += 1
            if pos >= len(toks):
                raise ValueError("unclosed [ in %r" % s)
            pos += 1
            return items
        if kind == "p" and t == "{":
            pos += 1
            items = {}
            while pos < len(toks) and toks[pos] != ("p", "}"):
                k = value()
                v = None
                if pos < len(toks) and toks[pos] == ("p", ":"):
                    pos += 1
                    if pos < len(toks) and toks[pos] not in (("p", ","), ("p", "}")):
                        v = value()
                items[str(k)] = v
                if pos < len(toks) and toks[pos] == ("p", ","):
                    pos += 1
            if pos >= len(toks):
                raise ValueError("unclosed { in %r" % s)
            pos += 1
            return items
        if kind == "p":
            raise ValueError("unexpected %r in %r" % (t, s))
        pos += 1
        return _scalar(t)

    v = value()
    if pos != len(toks):
        raise ValueError("trailing text in %r" % s)
    return v


def parse_value(text):
    """A /params cell or a config value: parsed when it is YAML we read, else the text itself."""
    try:
        return parse_flow(text)
    except (ValueError, RecursionError):
        return text.strip()


def parse_block(text):
    """Block mappings with 'key: value' lines (bprun's canonical YAML); {} when unreadable."""
    root = {}
    stack = [(-1, root)]
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        body = line.strip()
        m = re.match(r"^([^:#]+?):(?:\s+(.*))?$", body)
        if not m:
            continue  # block sequences and other forms: not needed for plotting
        key, val = m.group(1).strip(), m.group(2)
        if val is not None and " #" in val and not val.lstrip().startswith(("'", '"')):
            val = val.split(" #", 1)[0]
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if not stack:
            return root
        parent = stack[-1][1]
        if val is None or val.strip() == "":
            child = {}
            parent[key] = child
            stack.append((indent, child))
        else:
            parent[key] = parse_value(val)
    return root


def lookup(cfg, path):
    cur = cfg
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def flatten(prefix, value, out):
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(prefix + "." + k if prefix else k, v, out)
    else:
        out[prefix] = value


# ---------------------------------------------------------------------------------------------
# Reading a run folder


def _text(v):
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace").rstrip("\0")
    if isinstance(v, np.ndarray):
        return [_text(x) for x in v.tolist()]
    return v if isinstance(v, str) else str(v)


class Trial:
    def __init__(self, tid):
        self.id = tid
        self.path = None
        self.partial = False  # only a .part file: still running, or killed
        self.status = "unknown"
        self.columns = {}  # name -> 1-D float64, all of the same length
        self.order = []  # column names in the trainer's order
        self.config = {}
        self.params = {}  # flattened axis key -> parsed value
        self.final = {}  # summary fields
        self.landscape = None  # (alpha, loss) of /diagnostics/path, or None
        self.verdict = ""  # the diagnostics verdict (minimum, saddle, plateau, ...), if any

    @property
    def loss(self):
        return self.columns.get("loss", np.zeros(0))

    @property
    def diverged(self):
        if self.status in ("diverged", "failed"):
            return True
        loss = self.loss
        return len(loss) > 0 and not np.isfinite(loss[-1])

    def label(self):
        return "%04d" % self.id


class Run:
    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(os.path.normpath(path))
        self.trials = []
        self.axes = []  # flattened axis keys, in order
        self.experiment = None
        self.loss_name = None
        self.has_index = False
        self.search = None  # the index's `search` attribute: {"method": ..., "metric": ...}


def _read_trial_file(t, path):
    with _h5open(path) as f:
        t.status = _text(f.attrs.get("status", "unknown"))
        t.config = parse_block(_text(f.attrs.get("resolved_config", "")))
        t.verdict = _text(f.attrs.get("verdict", "")) or ""
        if "diagnostics/path/alpha" in f and "diagnostics/path/loss" in f:
            t.landscape = (np.asarray(f["diagnostics/path/alpha"][()], dtype=np.float64),
                      np.asarray(f["diagnostics/path/loss"][()], dtype=np.float64))
        if "epochs" not in f:
            return
        g = f["epochs"]
        names = g.attrs.get("columns")
        names = _text(names) if names is not None else sorted(g.keys())
        for k in g.keys():
            if k not in names:
                names.append(k)
        cols, order = {}, []
        for name in names:
            if name not in g or not isinstance(g[name], h5py.Dataset):
                continue
            d = g[name][()]
            if d.dtype.kind not in "fiu":
                continue
            d = np.asarray(d, dtype=np.float64)
            if d.ndim == 1:
                cols[name] = d
                order.append(name)
            elif d.ndim == 2:  # one column per layer (or unit): name[j]
                for j in range(d.shape[1]):
                    cols["%s[%d]" % (name, j)] = d[:, j]
                    order.append("%s[%d]" % (name, j))
        if cols:  # a killed writer may leave columns one row apart: trust the shortest
            n = min(len(c) for c in cols.values())
            cols = {k: v[:n] for k, v in cols.items()}
        t.columns, t.order = cols, order


_LOCKING = None


def _h5py_has_locking():
    # bprun writes trial files without a file lock so they can be read while it runs; h5py
    # >= 3.5 can open without one, which a file being written needs on HDF5 >= 1.10.7.
    global _LOCKING
    if _LOCKING is None:
        try:
            _LOCKING = tuple(int(x) for x in h5py.__version__.split(".")[:2]) >= (3, 5)
        except ValueError:
            _LOCKING = False
    return _LOCKING


def _h5open(path):
    return h5py.File(path, "r", locking=False) if _h5py_has_locking() else h5py.File(path, "r")


def load_run(path):
    if not os.path.isdir(path):
        raise PlotError("%s: no such folder" % path)
    run = Run(path)
    index = os.path.join(path, "index.h5")
    tdir = os.path.join(path, "trials")
    files = {}
    if os.path.isdir(tdir):
        for fn in os.listdir(tdir):
            m = TRIAL_FILE.match(fn)
            if not m:
                continue
            tid, part = int(m.group(1)), bool(m.group(2))
            if tid in files and part:
                continue  # the finished file wins over a stale .part
            files[tid] = (os.path.join(tdir, fn), part)
    if not os.path.isfile(index) and not files:
        raise PlotError("%s: not a bprun run folder (no index.h5 and no trials/*.h5)" % path)

    summary, params_rows, axes, root_cfg = {}, {}, [], {}
    if os.path.isfile(index):
        run.has_index = True
        try:
            with _h5open(index) as f:
                root_cfg = parse_block(_text(f.attrs.get("resolved_config", "")))
                if "search" in f.attrs:
                    run.search = dict(kv.split("=", 1) for kv in _text(f.attrs["search"]).split()
                                      if "=" in kv)
                if "axes" in f.attrs:
                    a = f.attrs["axes"]
                    axes = [_text(a)] if isinstance(a, (str, bytes)) else list(_text(np.asarray(a)))
                if "summary" in f:
                    s = f["summary"][()]
                    names = s.dtype.names or ()
                    for i, row in enumerate(s):
                        tid = int(row["trial"]) if "trial" in names else i
                        rec = {}
                        for n in names:
                            v = row[n]
                            rec[n] = _text(v) if isinstance(v, bytes) else v
                        summary[tid] = rec
                        params_rows[tid] = i
                    ptab = f["params"][()] if "params" in f and axes else None
                    if ptab is not None:
                        ptab = np.asarray(ptab).reshape(len(s), -1) if ptab.size else None
        except (OSError, KeyError, ValueError) as e:
            raise PlotError("%s: cannot read (%s)" % (index, e))
    else:
        ptab = None

    for tid in sorted(set(files) | set(summary)):
        t = Trial(tid)
        if tid in files:
            t.path, t.partial = files[tid]
            try:
                _read_trial_file(t, t.path)
            except (OSError, KeyError, ValueError) as e:
                note("%s: unreadable, skipped (%s)" % (t.path, str(e).splitlines()[0]))
                if tid not in summary:
                    continue
        else:
            note("%s: trial %04d has no trial file; only its summary is plotted"
                 % (path, tid))
        if tid in summary:
            t.final = summary[tid]
            if not t.partial or t.status == "unknown":
                t.status = t.final.get("status", t.status) or t.status
        if t.partial and t.status in ("unknown", "completed"):
            t.status = "running"
        raw = {}
        if ptab is not None and tid in params_rows:
            for j, key in enumerate(axes):
                if j < ptab.shape[1]:
                    raw[key] = parse_value(_text(ptab[params_rows[tid], j]))
        for key in axes:
            if key not in raw:
                raw[key] = lookup(t.config, key)
        for key, v in raw.items():
            flatten(key, v, t.params)
        run.trials.append(t)
    if not run.trials:
        raise PlotError("%s: no readable trials" % path)

    if axes:
        run.axes = _flat_axes(run.trials, axes)
    elif len(run.trials) > 1:
        run.axes = _infer_axes(run.trials)
    cfg = root_cfg or run.trials[0].config
    run.experiment = lookup(cfg, "experiment")
    run.loss_name = lookup(cfg, "model.loss")
    return run


def _flat_axes(trials, axes):
    """Axis keys after flattening map values ({name: adam, lr: 0.001} -> .name, .lr); of a
    map-valued axis only the sub-keys that vary are kept."""
    keys = []
    for key in axes:
        sub = []
        for t in trials:
            for k in t.params:
                if (k == key or k.startswith(key + ".")) and k not in sub and \
                        not any(o != key and (k == o or k.startswith(o + ".")) and
                                len(o) > len(key) for o in axes):
                    sub.append(k)  # (a key of another, deeper axis is that axis's own)
        if sub == [key]:
            keys.append(key)
            continue
        varying = [k for k in sub if len({_hashable(t.params.get(k)) for t in trials}) > 1]
        keys.extend(k for k in (varying or sub[:1]) if k not in keys)
    return keys


def _infer_axes(trials):
    """No index yet (a run still going): the config keys whose values differ between trials."""
    flat = []
    for t in trials:
        d = {}
        flatten("", t.config, d)
        flat.append(d)
    common = set(flat[0])
    for d in flat[1:]:
        common &= set(d)
    keys = [k for k in flat[0] if k in common and k != "seed" and not k.startswith("sweep.")
            and k not in ("output", "experiment")
            and len({_hashable(d[k]) for d in flat}) > 1]
    for t, d in zip(trials, flat):
        for k in keys:
            t.params[k] = d[k]
    if keys:
        note("no index.h5 yet: swept keys taken from the trials' configs: %s" % ", ".join(keys))
    return keys


def _hashable(v):
    if isinstance(v, (list, dict)):
        return repr(v)
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    return v


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def numeric_axes(run):
    return [k for k in run.axes
            if all(_is_number(t.params.get(k)) for t in run.trials)]


def fmt_value(v):
    if isinstance(v, float):
        return "%g" % v
    if isinstance(v, list):
        return "[" + ", ".join(fmt_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join("%s: %s" % (k, fmt_value(x)) for k, x in v.items()) + "}"
    return "null" if v is None else str(v)


def short_key(key):
    return key.rsplit(".", 1)[-1] if "." in key else key


# ---------------------------------------------------------------------------------------------
# Points: the repeats of one setting. Their statistics (mean, t interval, median and its
# interval, success with Wilson interval, Kaplan-Meier steps) come from `bprun report RUN
# --format json`, the one source of truth; when no bprun can be run they are computed here by
# the rules of docs/REPORT.md (and a note says so).

METRICS = ("auto", "loss", "val_loss", "best_val_loss", "accuracy", "val_accuracy", "test_loss",
           "test_accuracy", "epochs_to_target", "seconds")
HIGHER = ("accuracy", "val_accuracy", "test_accuracy")
# metric -> (summary field, per-epoch column for a trial without a summary)
METRIC_FIELD = {"loss": ("final_loss", "loss"), "val_loss": ("final_val_loss", "val_loss"),
                "best_val_loss": ("best_val_loss", None),
                "accuracy": ("final_accuracy", "accuracy"),
                "val_accuracy": ("final_val_accuracy", "val_accuracy"),
                "test_loss": ("final_test_loss", None),
                "test_accuracy": ("final_test_accuracy", None),
                "epochs_to_target": ("epochs_to_target", None),
                "seconds": ("wall_seconds", None)}
Z975 = 1.959963984540054
# t(0.975, df) for df = 1..30; beyond, the Cornish-Fisher expansion (error < 1e-4)
T975 = (12.706204736, 4.30265273, 3.182446305, 2.776445105, 2.570581836, 2.446911851,
        2.364624252, 2.306004135, 2.262157163, 2.228138852, 2.200985160, 2.178812830,
        2.160368656, 2.144786688, 2.131449546, 2.119905299, 2.109815578, 2.100922040,
        2.093024054, 2.085963447, 2.079613845, 2.073873068, 2.068657610, 2.063898562,
        2.059538553, 2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456)
try:
    from scipy import stats as _sps
except ImportError:  # the t table above instead
    _sps = None


def t975(df):
    """t(0.975, df): SciPy when it is there, else the table / Cornish-Fisher expansion."""
    if _sps is not None:
        return float(_sps.t.ppf(0.975, df))
    if df <= 30:
        return T975[int(df) - 1]
    z = Z975
    return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)


def mean_band(values):
    """(mean, low, high, n) of the finite values: the 95% t interval of the mean, mean ±
    t(0.975, n-1)·sd/√n (sd with n-1); low = high = mean for one value, all NaN for none."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    n = len(v)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    m = float(np.mean(v))
    if n == 1:
        return m, m, m, 1
    h = t975(n - 1) * float(np.std(v, ddof=1)) / math.sqrt(n)
    return m, m - h, m + h, n


def wilson(k, n):
    if n == 0:
        return math.nan, math.nan
    z = Z975
    p = k / float(n)
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / d
    return max(0.0, c - h), min(1.0, c + h)


def median_interval(sorted_v):
    """x(k), x(n+1-k): k the largest with P(Binomial(n, 1/2) < k) <= 0.025; None below 6."""
    n = len(sorted_v)
    if n < 6:
        return math.nan, math.nan, math.nan
    cdf, k = 0.0, 0  # cdf = P(B < k+1) as k grows
    while True:
        nxt = cdf + math.comb(n, k) / 2.0 ** n  # P(B <= k) = P(B < k + 1)
        if nxt > 0.025:
            break
        cdf, k = nxt, k + 1
    # k: the largest with P(B < k) <= 0.025
    if k < 1:
        return math.nan, math.nan, math.nan
    return float(sorted_v[k - 1]), float(sorted_v[n - k]), 1 - 2 * cdf


def kaplan_meier(times, events):
    """bprun's bp_stats_km: one step per distinct event time, log(-log S) Greenwood interval."""
    o = sorted(zip(times, events), key=lambda p: (p[0], -p[1]))
    n, s, gw, steps, i = len(o), 1.0, 0.0, [], 0
    while i < n:
        j, d = i, 0
        while j < n and o[j][0] == o[i][0]:
            d += o[j][1]
            j += 1
        at_risk = n - i
        if d:
            s *= 1 - d / float(at_risk)
            lo = hi = 0.0
            if d < at_risk and s > 0:
                gw += d / float(at_risk * (at_risk - d))
                se, th = math.sqrt(gw) / abs(math.log(s)), math.log(-math.log(s))
                lo, hi = math.exp(-math.exp(th + Z975 * se)), math.exp(-math.exp(th - Z975 * se))
            steps.append({"epoch": o[i][0], "at_risk": at_risk, "events": d, "survival": s,
                          "ci_low": lo, "ci_high": hi})
        i = j
    return steps


def _km_median(steps, field):
    for st in steps:
        if st[field] <= 0.5 + 1e-12:
            return st["epoch"]
    return None


def _num(v):
    return None if v is None or not math.isfinite(v) else v


def _summary_value(t, field, col):
    if t.final and field in t.final:
        v = t.final[field]
        try:
            return float(v)
        except (TypeError, ValueError):
            return math.nan
    if col and col in t.columns and len(t.columns[col]):
        return float(t.columns[col][-1])
    return math.nan


def _trial_value(t, metric):
    if t.status != "completed":
        return math.nan
    if metric == "epochs_to_target":
        v = _summary_value(t, "epochs_to_target", None)
        return v if v > 0 else math.nan
    field, col = METRIC_FIELD[metric]
    v = _summary_value(t, field, col)
    return v if math.isfinite(v) else math.nan


def points_in_python(run, metric, by):
    """The report json's per-point fields, computed here by docs/REPORT.md's rules."""
    if metric == "auto":
        metric = "val_loss" if any(math.isfinite(_summary_value(t, "final_val_loss", "val_loss"))
                                   for t in run.trials) else "loss"
    groups = {}
    for t in run.trials:
        groups.setdefault(tuple(_hashable(t.params.get(k)) for k in run.axes), []).append(t)
    pts, ranked = [], []
    for ts in groups.values():
        vals = [_trial_value(t, metric) for t in ts]
        for t, v in zip(ts, vals):
            rec = {"trial": t.id, "status": t.status, metric: _num(v)}
            if t.verdict:
                rec["verdict"] = t.verdict
            ranked.append(rec)
        v = np.sort(np.array([x for x in vals if math.isfinite(x)]))
        mean, lo, hi, n = mean_band(v)
        p = {"params": {k: ts[0].params.get(k) for k in run.axes}, "trials": [t.id for t in ts],
             "n": len(ts), "n_value": n,
             "failed": sum(t.status in ("diverged", "failed") for t in ts),
             "mean": _num(mean), "ci_low": _num(lo) if n > 1 else None,
             "ci_high": _num(hi) if n > 1 else None,
             "sd": float(np.std(v, ddof=1)) if n > 1 else None,
             "median": float(np.median(v)) if n else None,
             "q1": float(np.percentile(v, 25)) if n else None,
             "q3": float(np.percentile(v, 75)) if n else None}
        ml, mh, lev = median_interval(v)
        p.update(median_ci_low=_num(ml), median_ci_high=_num(mh), median_ci_level=_num(lev))
        p["score"] = p["median"] if by == "median" else p["mean"]
        tt = [_summary_value(t, "epochs_to_target", None) for t in ts]
        if any(math.isfinite(x) and x != 0 for x in tt):
            fin = [(t, x) for t, x in zip(ts, tt)
                   if t.status in ("completed", "diverged", "failed")]
            reached = sum(1 for _, x in fin if x > 0)
            p["reached"] = reached
            p["success"] = reached / float(len(fin)) if fin else None
            lo, hi = wilson(reached, len(fin))
            p["success_ci_low"], p["success_ci_high"] = _num(lo), _num(hi)
            km = kaplan_meier([x if x > 0 else float(t.final.get("epochs", len(t.loss)))
                               for t, x in fin], [1 if x > 0 else 0 for _, x in fin])
            p["km"] = km
            p["epochs_to_target_median"] = _km_median(km, "survival")
            p["epochs_to_target_ci_low"] = _km_median(km, "ci_low")
            p["epochs_to_target_ci_high"] = _km_median(km, "ci_high")
        pts.append(p)
    sign = -1 if metric in HIGHER else 1
    pts.sort(key=lambda p: (p["score"] is None, sign * (p["score"] or 0), min(p["trials"])))
    for i, p in enumerate(pts):
        p["rank"] = i + 1
    return {"metric": metric, "by": by, "points": pts, "ranked": ranked,
            "source": "computed by bprun-plot (docs/REPORT.md rules)"}


def find_bprun():
    """The bprun to ask for the report: $BPRUN; else the build tree's bprun next to this
    script's folder (scripts/../bprun) or beside the wrapper (its bindir); else bprun on
    PATH. None when there is none."""
    env = os.environ.get("BPRUN")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    cands = [os.path.join(here, os.pardir, "bprun")]
    wdir = os.environ.get("BPRUN_PLOT_WRAPPER_DIR")
    if wdir:
        cands.append(os.path.join(wdir, "bprun"))
    for c in cands:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return os.path.normpath(c)
    return shutil.which("bprun")


def report_points(run, metric, by):
    """The points of `bprun report RUN --format json` (with --metric, --by), params parsed and
    flattened like the trials' own; else points_in_python, with a note saying why."""
    why = None
    if not run.has_index:
        why = "no index.h5 yet"
    else:
        exe = find_bprun()
        if exe is None:
            why = "no bprun found ($BPRUN, the build tree, PATH)"
        else:
            cmd = [exe, "report", run.path, "--format", "json", "--by", by]
            if metric != "auto":
                cmd += ["--metric", metric]
            try:
                r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                if r.returncode != 0:
                    err = r.stderr.decode("utf-8", "replace").strip().splitlines()
                    why = "%s exited %d%s" % (" ".join(cmd[:2]), r.returncode,
                                              ": " + err[0] if err else "")
                else:
                    rep = json.loads(r.stdout.decode("utf-8"))
            except (OSError, ValueError) as e:
                why = "%s report: %s" % (exe, e)
    if why is not None:
        note("%s: the points' statistics are computed here by docs/REPORT.md's rules" % why)
        return points_in_python(run, metric, by)
    rep["source"] = "bprun report (%s)" % exe
    for p in rep.get("points", []):
        flat = {}
        for k, v in (p.get("params") or {}).items():
            flatten(k, parse_value(v) if isinstance(v, str) else v, flat)
        p["params"] = {k: flat.get(k) for k in run.axes} if run.axes else flat
    return rep


# ---------------------------------------------------------------------------------------------
# Colour by a swept value


class Coloring:
    """Trial colours from the first swept numeric axis (log colorbar over > 1 decade, else one
    colour per value with a legend), else the first swept axis, else per trial."""

    def __init__(self, run):
        self.key, self.norm, self.cmap, self.categories = None, None, None, None
        trials = run.trials
        num = numeric_axes(run)
        self.colors = {}
        if num:
            self.key = num[0]
            vals = np.array([float(t.params[self.key]) for t in trials])
            distinct = sorted(set(vals.tolist()))
            lo, hi = min(distinct), max(distinct)
            if lo > 0 and hi / lo > 10:
                self.norm = mcolors.LogNorm(vmin=lo, vmax=hi)
            elif len(distinct) > 12:
                self.norm = mcolors.Normalize(vmin=lo, vmax=hi)
            if self.norm is not None:
                self.cmap = plt.get_cmap("viridis")
                rgba = self.cmap(self.norm(vals))
                self.colors = {t.id: tuple(c) for t, c in zip(trials, rgba)}
                return
            self._categorical([(v, fmt_value(t.params[self.key])) for t, v in zip(trials, vals)],
                              trials)
            return
        if run.axes:
            self.key = run.axes[0]
            pairs = [(i, fmt_value(t.params.get(self.key))) for i, t in enumerate(trials)]
            self._categorical(pairs, trials, by_label=True)
            return
        self.key = "trial" if len(trials) > 1 else None
        if len(trials) <= 10:
            self._categorical([(t.id, t.label()) for t in trials], trials)
        else:
            self.colors = {t.id: mcolors.to_rgba("C0") for t in trials}

    def _categorical(self, pairs, trials, by_label=False):
        if by_label:  # keep the first-seen order of labels
            seen = []
            for _, lab in pairs:
                if lab not in seen:
                    seen.append(lab)
            order = seen
        else:
            order = [lab for _, lab in sorted(set(pairs))]
            order = list(dict.fromkeys(order))
        palette = plt.get_cmap("tab10" if len(order) <= 10 else "tab20")
        self.categories = [(lab, mcolors.to_rgba(palette(i % palette.N)))
                           for i, lab in enumerate(order)]
        lut = dict(self.categories)
        self.colors = {t.id: lut[lab] for t, (_, lab) in zip(trials, pairs)}

    def decorate(self, fig, axs, legend_ax=None, extra_handles=()):
        """A colorbar beside axs, or a legend of categories (plus extra_handles) in legend_ax."""
        handles = []
        title = None
        if self.norm is not None:
            sm = plt.cm.ScalarMappable(norm=self.norm, cmap=self.cmap)
            sm.set_array([])
            cb = fig.colorbar(sm, ax=axs, pad=0.01, fraction=0.05, aspect=30)
            cb.set_label(self.key + (" (log scale)" if isinstance(self.norm, mcolors.LogNorm)
                                     else ""))
        elif self.categories and (len(self.categories) > 1 or self.key):
            cats = self.categories[:20]
            handles = [Line2D([], [], color=c, lw=2, label=lab) for lab, c in cats]
            if len(self.categories) > 20:
                handles.append(Line2D([], [], color="none",
                                      label="... %d more" % (len(self.categories) - 20)))
            title = self.key
        handles += list(extra_handles)
        if handles and legend_ax is not None:
            legend_ax.legend(handles=handles, title=title, fontsize="small",
                             title_fontsize="small", loc="best", framealpha=0.85)


# ---------------------------------------------------------------------------------------------
# Plots


def _segments(x, y, positive):
    ok = np.isfinite(y) & np.isfinite(x)
    if positive:
        ok &= y > 0
    if not ok.any():
        return None, None
    last = np.nonzero(ok)[0][-1]
    xs, ys = x[: last + 1].copy(), y[: last + 1].copy()
    ys[~ok[: last + 1]] = np.nan  # a gap rather than a jump
    return np.column_stack([xs, ys]), (xs[-1], ys[-1])


def _epochs(t):
    n = len(t.loss)
    e = t.columns.get("epoch")
    return e if e is not None and len(e) == n else np.arange(1, n + 1, dtype=np.float64)


def _style(n):
    alpha = float(min(0.9, max(0.12, 25.0 / max(n, 1))))
    lw = 1.4 if n <= 20 else (1.0 if n <= 200 else 0.6)
    return alpha, lw


class _PlainLog(mticker.Formatter):
    """Log-axis tick labels as plain numbers (0.02, 0.15); when more than 9 ticks are in view,
    only those with mantissa 1, 2 or 5 are labelled."""

    def __call__(self, x, pos=None):
        if not x > 0:
            return ""
        lo, hi = sorted(self.axis.get_view_interval()) if self.axis else (x, x)
        if sum(1 for v in self.locs if lo <= v <= hi) > 9:
            m = x / 10.0 ** math.floor(math.log10(x) + 1e-9)
            if min(abs(m - k) for k in (1, 2, 5)) > 1e-6 * m:
                return ""
        return "%.3g" % x


def _fit_y(axs, values, log):
    """Y limits from the finite (and, on a log axis, positive) values, with a margin; on a log
    axis spanning less than ~1.5 decades every tick is labelled as a plain number."""
    v = np.concatenate([np.ravel(a) for a in values]) if values else np.zeros(0)
    v = v[np.isfinite(v)]
    if log:
        v = v[v > 0]
    if not len(v):
        return
    lo, hi = float(v.min()), float(v.max())
    if log:
        if hi / lo < 1.0 + 1e-9:
            lo, hi = lo / 1.5, hi * 1.5
        f = (hi / lo) ** 0.04
        lim = (lo / f, hi * f)
    else:
        d = (hi - lo) * 0.05 or abs(hi) * 0.1 or 0.1
        lim = (lo - d, hi + d)
    for ax in axs:
        ax.set_ylim(*lim)
        if log and lim[1] / lim[0] < 30:
            ax.yaxis.set_major_formatter(_PlainLog())
            ax.yaxis.set_minor_formatter(_PlainLog())


def _status_handles(diverged, running):
    h = []
    if diverged:
        h.append(Line2D([], [], ls="none", marker="x", color="k", mew=1.6, ms=7,
                        label="diverged (last finite point)"))
    if running:
        h.append(Line2D([], [], ls="none", marker="o", mfc="none", color="k", ms=6,
                        label="still running (.part)"))
    return h


def _title(run, what):
    exp = run.experiment or run.name
    n = len(run.trials)
    return "%s: %s (%d trial%s)" % (exp, what, n, "" if n == 1 else "s")


def _loss_label(run, what):
    return "%s (%s, log scale)" % (what, run.loss_name) if run.loss_name else \
        "%s (log scale)" % what


def point_label(run, params, skip=()):
    parts = []
    for k in run.axes:
        if k in skip or (params.get(k) is None and "." in k):
            continue  # a key of a map value that this point does not set
        v = fmt_value(params.get(k))
        parts.append(v if k.endswith("optimizer.name") else "%s=%s" % (short_key(k), v))
    return " \u00b7 ".join(parts)


def point_curve(trials, col):
    """The mean curve of one point's repeats for column col: per epoch the mean of the repeats
    that have a finite value there and the 95% t interval of that mean. A repeat counts up to
    its last epoch; a diverged repeat up to its first non-finite value (it drops out there).
    The curve stops where fewer than 2 repeats remain (a point of one repeat: that repeat).
    Returns a dict (epoch, mean, low, high, n lists; drops: the epochs where a diverged repeat
    dropped out) or None when no repeat has a finite value."""
    rows = []
    for t in trials:
        y = t.columns.get(col)
        if y is None or not len(y):
            continue
        y = np.array(y, dtype=np.float64)
        if t.diverged:
            bad = np.nonzero(~np.isfinite(y))[0]
            if len(bad):
                y[bad[0]:] = np.nan
        rows.append((t, _epochs(t), y))
    if not rows:
        return None
    L = max(len(y) for _, _, y in rows)
    m = np.full((len(rows), L), np.nan)
    for i, (_, _, y) in enumerate(rows):
        m[i, :len(y)] = y
    x = next(e for _, e, y in rows if len(y) == L)
    ok = np.isfinite(m)
    n = ok.sum(axis=0)
    need = 2 if len(rows) > 1 else 1
    keep = np.nonzero(n >= need)[0]
    if not len(keep):
        return None
    last = keep[-1] + 1
    mean, lo, hi = [], [], []
    for j in range(last):
        a, b, c, k = mean_band(m[ok[:, j], j])
        mean.append(a)
        lo.append(b)
        hi.append(c)
    drops = []
    for i, (t, e, y) in enumerate(rows):
        if t.diverged:
            f = np.nonzero(ok[i])[0]
            if len(f) and f[-1] < last:
                drops.append(float(x[f[-1]]))
    return {"column": col, "epoch": [float(v) for v in x[:last]], "mean": mean, "low": lo,
            "high": hi, "n": [int(v) for v in n[:last]], "repeats": len(rows),
            "drops": drops}


def _pos(a):
    a = np.asarray(a, dtype=np.float64)
    return np.where(a > 0, a, np.nan)


class PointColors:
    """One colour per point label (the swept values but the panel's), tab10/tab20; over 20
    labels, the trial colouring's colour of the point's first repeat."""

    def __init__(self, labels, coloring, first_trial):
        self.labels = list(dict.fromkeys(labels))
        self.lut = {}
        if len(self.labels) <= 20:
            pal = plt.get_cmap("tab10" if len(self.labels) <= 10 else "tab20")
            self.lut = {lab: mcolors.to_rgba(pal(i % pal.N)) for i, lab in enumerate(self.labels)}
        self.coloring, self.first = coloring, first_trial

    def __call__(self, lab):
        return self.lut.get(lab) or self.coloring.colors[self.first[lab]]


def plot_loss_curves(run, coloring, out, pts, opts, dump):
    trials = run.trials
    by_id = {t.id: t for t in trials}
    has_val = any(np.isfinite(t.columns.get("val_loss", np.zeros(0))).any() for t in trials)
    panel_key, panels = None, [None]
    num = set(numeric_axes(run))
    for k in run.axes:
        if k in num or k == coloring.key:
            continue
        vals = list(dict.fromkeys(fmt_value(t.params.get(k)) for t in trials))
        if 2 <= len(vals) <= 6:
            panel_key, panels = k, vals
        break
    # the points in sweep order (their first trial)
    plist = sorted(pts["points"], key=lambda p: min(p["trials"]) if p["trials"] else 0)
    plist = [p for p in plist if any(i in by_id for i in p["trials"])]
    single = len(plist) == 1 and not run.axes
    skip = [panel_key] if panel_key else []
    for k in run.axes:  # keys with one value within every panel say nothing
        if k not in skip and all(len({_hashable(p["params"].get(k)) for p in plist
                                      if pv is None or
                                      fmt_value(p["params"].get(panel_key)) == pv}) <= 1
                                 for pv in panels):
            skip.append(k)
    labels = {id(p): point_label(run, p["params"], skip) or
              (("trial %04d" % p["trials"][0] if len(p["trials"]) == 1 else
                "all %d repeats" % len(p["trials"])) if single else "all trials") for p in plist}
    first = {labels[id(p)]: min(i for i in p["trials"] if i in by_id) for p in plist}
    pcol = PointColors([labels[id(p)] for p in plist], coloring, first)
    ncols = len(panels)
    fig, axs = plt.subplots(1, ncols, figsize=(5.0 * ncols + 2.2 if ncols > 1 else 9.0, 5.6),
                            dpi=DPI, sharey=True, squeeze=False, layout="constrained")
    axs = list(axs[0])
    raw_alpha, raw_lw = _style(len(trials) / ncols)
    raw_lw = min(raw_lw, 1.0)
    any_div = any_run = any_band = any_raw = any_thin = False
    yvals = []
    curves = []
    for ax, pv in zip(axs, panels):
        for p in plist:
            if pv is not None and fmt_value(p["params"].get(panel_key)) != pv:
                continue
            lab = labels[id(p)]
            c = pcol(lab)
            ts = [by_id[i] for i in p["trials"] if i in by_id]
            raw = opts.raw or len(ts) == 1
            for col, ls in (("loss", "-"), ("val_loss", "--")):
                if raw:
                    any_raw = True
                    for t in ts:
                        y = t.columns.get(col)
                        if y is None or not len(y):
                            continue
                        seg, end = _segments(_epochs(t), y, True)
                        if seg is None:
                            continue
                        yvals.append(seg[:, 1])
                        ax.plot(seg[:, 0], seg[:, 1], ls, color=c, lw=raw_lw,
                                alpha=min(0.3, raw_alpha) if len(ts) > 1 else 0.9)
                        if col == "loss" and t.diverged:
                            ax.plot([end[0]], [end[1]], "x", color=c, ms=7, mew=1.8, zorder=3)
                            any_div = True
                        elif col == "loss" and t.partial:
                            ax.plot([end[0]], [end[1]], "o", mfc="none", mec=c, ms=6,
                                    mew=1.4, zorder=3)
                            any_run = True
                    if len(ts) == 1:
                        continue
                cv = point_curve(ts, col)
                if cv is None:
                    continue
                cv["params"] = {k: p["params"].get(k) for k in p["params"]}
                cv["trials"] = list(p["trials"])
                curves.append(cv)
                x, mean = np.array(cv["epoch"]), np.array(cv["mean"])
                n = np.array(cv["n"])
                full = n >= cv["repeats"]
                yvals.append(mean)
                ax.fill_between(x, _pos(cv["low"]), _pos(cv["high"]), color=c,
                                alpha=0.22 if ls == "-" else 0.12, lw=0, step=None)
                any_band = True
                yvals.append(np.array(cv["high"]))
                low = np.array(cv["low"])  # the band may run out at the bottom where its
                yvals.append(low[low >= mean / 10])  # low end is under a tenth of the mean
                # solid while every repeat is in, thinner once some have stopped
                if full.all():
                    ax.plot(x, _pos(mean), ls, color=c, lw=2.0)
                else:
                    k = int(np.argmin(full)) if not full[0] else int(np.argmin(full))
                    ax.plot(x[:k + 1], _pos(mean[:k + 1]), ls, color=c, lw=2.0)
                    ax.plot(x[k:], _pos(mean[k:]), ls, color=c, lw=1.0, alpha=0.8)
                    any_thin = True
                if col == "loss" and cv["drops"]:
                    idx = np.searchsorted(x, cv["drops"])
                    idx = np.clip(idx, 0, len(x) - 1)
                    ax.plot(x[idx], _pos(mean[idx]), "x", color=c, ms=8, mew=2, zorder=3)
                    any_div = True
        ax.set_yscale("log")
        ax.autoscale_view()
        ax.set_xlabel("epoch")
        ax.grid(True, which="major", alpha=0.3)
        if pv is not None:
            ax.set_title("%s = %s" % (panel_key, pv), fontsize="medium")
    _fit_y(axs, yvals, True)
    axs[0].set_ylabel(_loss_label(run, "loss per sample"))
    handles = [Line2D([], [], color=pcol(lab), lw=2, label=lab) for lab in pcol.labels[:20]]
    if len(pcol.labels) > 20:
        handles.append(Line2D([], [], color="none", label="... %d more" % (len(pcol.labels) - 20)))
    if any_band:
        handles.append(Patch(color="0.5", alpha=0.3, label="95% interval of the mean"))
    if any_thin:
        handles.append(Line2D([], [], color="0.3", lw=1.0,
                              label="mean after some repeats stopped"))
    handles.append(Line2D([], [], color="0.3", ls="-", label="training loss"))
    if has_val:
        handles.append(Line2D([], [], color="0.3", ls="--", label="validation loss"))
    if any_div:
        handles.append(Line2D([], [], ls="none", marker="x", color="k", mew=1.6, ms=7,
                              label="a repeat diverged (drops out)" if not opts.raw else
                              "diverged (last finite point)"))
    if any_run:
        handles.append(Line2D([], [], ls="none", marker="o", mfc="none", color="k", ms=6,
                              label="still running (.part)"))
    axs[-1].legend(handles=handles, fontsize="small", loc="best", framealpha=0.85,
                   title=None if single else "points (mean of repeats)")
    what = "training loss" + (" (solid) and validation loss (dashed)" if has_val else "")
    how = ", mean of repeats with 95% band" if curves else ""
    fig.suptitle(_title(run, what + " per epoch" + how))
    if dump is not None:
        dump["curves"] = curves
    return _save(fig, out)


def _metric_label(metric, by):
    return {"loss": "final training loss", "val_loss": "final validation loss",
            "best_val_loss": "best validation loss", "accuracy": "final training accuracy",
            "val_accuracy": "final validation accuracy", "test_loss": "final test loss",
            "test_accuracy": "final test accuracy", "epochs_to_target": "epochs to target",
            "seconds": "wall time (s)"}.get(metric, metric)


def _axis_names(keys):
    names = {}
    for k in keys:
        s = short_key(k)
        names[k] = s if sum(1 for j in keys if short_key(j) == s) == 1 else k.replace(".", "_")
    return names


def plot_final_vs_axis(run, key, fname, out, pts, opts, dump):
    metric, by = pts["metric"], pts.get("by", opts.by)
    lo_f, hi_f = ("median_ci_low", "median_ci_high") if by == "median" else ("ci_low", "ci_high")
    values = {}
    for r in pts.get("ranked", []):
        v = r.get(metric)
        if isinstance(v, (int, float)) and r.get("status") == "completed":
            values[r["trial"]] = float(v)
    others = [k for k in run.axes if k != key]
    others.sort(key=lambda k: 0 if k.endswith("optimizer.name") else 1)
    series = {}
    for p in sorted(pts["points"], key=lambda p: min(p["trials"]) if p["trials"] else 0):
        x = p["params"].get(key)
        if not _is_number(x):
            continue
        lab = " \u00b7 ".join(("%s" if k.endswith("optimizer.name") else short_key(k) + "=%s")
                              % fmt_value(p["params"].get(k)) for k in others
                              if p["params"].get(k) is not None or "." not in k)
        series.setdefault(lab, []).append(p)
    if len(series) == 1 and "" in series:
        name = lookup(run.trials[0].config, "train.optimizer.name")
        series = {str(name) if name else "all points": series[""]}
    xs_all = sorted({float(p["params"][key]) for ps in series.values() for p in ps})
    logx = bool(xs_all) and xs_all[0] > 0 and xs_all[-1] / xs_all[0] > 10
    fig, ax = plt.subplots(figsize=(9.0, 5.6), dpi=DPI, layout="constrained")
    palette = plt.get_cmap("tab10" if len(series) <= 10 else "tab20")
    markers = "osD^vP*<>h"
    n_series = len(series)
    span = (xs_all[-1] - xs_all[0]) if xs_all and not logx else 0.0
    ys_all, handles, div_pts, drawn = [], [], [], []
    for i, (lab, ps) in enumerate(series.items()):
        c = palette(i % palette.N)
        m = markers[i % len(markers)]
        off = i - (n_series - 1) / 2.0 if n_series > 1 else 0.0
        shift = (lambda x: x * (1.0 + 0.025 * off)) if logx else \
            (lambda x: x + 0.012 * off * (span or 1.0))
        line = []
        for p in ps:
            x = float(p["params"][key])
            y, lo, hi = p.get("score"), p.get(lo_f), p.get(hi_f)
            reps = [values[t] for t in p["trials"] if t in values]
            if reps:
                ax.plot([shift(x)] * len(reps), reps, m, ls="none", color=c, ms=4,
                        alpha=float(min(0.4, max(0.12, 20.0 / len(reps)))))
                ys_all.extend(reps)
            if y is None:
                div_pts.append((shift(x), c))
                drawn.append({"series": lab, "params": p["params"], "x": x, "y": None,
                              "low": None, "high": None, "failed": p.get("failed", 0)})
                continue
            ys_all.append(y)
            line.append((shift(x), y))
            if lo is not None and hi is not None:
                ax.errorbar([shift(x)], [y], yerr=[[max(0.0, y - lo)], [max(0.0, hi - y)]], fmt="none", ecolor=c,
                            elinewidth=1.6, capsize=4, zorder=3)
                ys_all.extend([lo, hi])
            if p.get("failed"):
                ax.annotate("\u2715%d" % p["failed"], (shift(x), y), textcoords="offset points",
                            xytext=(6, 6), fontsize="small", color=c)
            drawn.append({"series": lab, "params": p["params"], "x": x, "y": y, "low": lo,
                          "high": hi, "failed": p.get("failed", 0), "n_value": p.get("n_value")})
        if line:
            line = np.array(sorted(line))
            ax.plot(line[:, 0], line[:, 1], "-", color=c, lw=2, marker=m, ms=8, mec="k",
                    mew=0.6, zorder=4)
        handles.append(Line2D([], [], color=c, lw=2, marker=m, ms=7, mec="k", mew=0.6,
                              label=lab))
    if logx:
        ax.set_xscale("log")
    pos = [y for y in ys_all if y > 0]
    if pos and len(pos) == len(ys_all) and max(pos) / min(pos) > 10:
        ax.set_yscale("log")
    if not ys_all:
        ax.set_ylim(0.0, 1.0)
    ax.autoscale_view()
    _fit_y([ax], [ys_all], ax.get_yscale() == "log")
    if div_pts:
        tr = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
        ax.scatter([x for x, _ in div_pts], [0.97] * len(div_pts), marker="X",
                   c=[c for _, c in div_pts], edgecolors="k", linewidths=0.8, s=100,
                   transform=tr, clip_on=False, zorder=4)
        handles.append(Line2D([], [], ls="none", marker="X", color="0.5", mec="k", ms=9,
                              label="no repeat with a value (all failed), at the top edge"))
    handles.append(Line2D([], [], ls="none", marker="o", color="0.4", alpha=0.5, ms=4,
                          label="single repeats"))
    handles.append(Line2D([], [], color="0.3", marker="_", ms=10, lw=1.6,
                          label="95%% interval of the %s" % by))
    if any(d.get("failed") for d in drawn if d["y"] is not None):
        handles.append(Line2D([], [], color="none", label="\u2715k: k repeats diverged/failed"))
    ml = _metric_label(metric, by)
    ax.set_xlabel("%s%s" % (key, " (log scale)" if logx else ""))
    ax.set_ylabel("%s of %s over repeats%s" % (by, ml, " (log scale)"
                                               if ax.get_yscale() == "log" else ""))
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(handles=handles, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0),
              borderaxespad=0.0)
    fig.suptitle(_title(run, "%s of %s vs %s" % (by, ml, short_key(key))))
    if dump is not None:
        dump.setdefault("final", {})[fname] = {"axis": key, "log_x": logx, "points": drawn}
    return _save(fig, out)


def has_target(pts):
    return any(p.get("success") is not None for p in pts["points"])


def plot_success(run, out, pts, dump):
    by_id = {t.id: t for t in run.trials}
    plist = sorted([p for p in pts["points"] if p.get("success") is not None],
                   key=lambda p: min(p["trials"]) if p["trials"] else 0)
    labels = [point_label(run, p["params"]) or "all trials" for p in plist]
    pal = plt.get_cmap("tab10" if len(plist) <= 10 else "tab20")
    cols = [pal(i % pal.N) for i in range(len(plist))]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13.0, 5.6), dpi=DPI, layout="constrained",
                                 gridspec_kw={"width_ratios": [1, 1.4]})
    xs = np.arange(len(plist))
    for i, (p, c) in enumerate(zip(plist, cols)):
        s, lo, hi = p["success"], p.get("success_ci_low"), p.get("success_ci_high")
        a1.bar([i], [s], color=c, alpha=0.55, width=0.7)
        if lo is not None and hi is not None:
            a1.errorbar([i], [s], yerr=[[max(0.0, s - lo)], [max(0.0, hi - s)]], fmt="none", ecolor="k",
                        capsize=4, elinewidth=1.4)
        fin = p["n"] - p.get("pruned", 0) - p.get("unfinished", 0)
        a1.annotate("%d/%d" % (p.get("reached", 0), fin), (i, 0.02), ha="center",
                    fontsize="x-small", rotation=90 if len(plist) > 12 else 0)
    a1.set_xticks(xs)
    a1.set_xticklabels(labels, rotation=45 if len(plist) > 3 else 0, ha="right"
                       if len(plist) > 3 else "center", fontsize="small")
    a1.set_ylim(0, 1.05)
    a1.set_ylabel("share of repeats that reached the target")
    a1.set_title("success rate, 95% Wilson interval", fontsize="medium")
    a1.grid(True, axis="y", alpha=0.3)
    kms = []
    for p, c, lab in zip(plist, cols, labels):
        steps = p.get("km") or []
        ends = [int(by_id[t].final.get("epochs", len(by_id[t].loss))) if by_id[t].final
                else len(by_id[t].loss) for t in p["trials"] if t in by_id]
        end = max(ends + [st["epoch"] for st in steps] + [1])
        x = [0.0] + [float(st["epoch"]) for st in steps] + [float(end)]
        s = [1.0] + [st["survival"] for st in steps]
        lo = [1.0] + [st["ci_low"] for st in steps]
        hi = [1.0] + [st["ci_high"] for st in steps]
        s.append(s[-1])
        lo.append(lo[-1])
        hi.append(hi[-1])
        a2.step(x, s, where="post", color=c, lw=2 if p.get("reached") else 1.2,
                ls="-" if p.get("reached") else (0, (4, 2 + 2 * (len(kms) % 3))),
                label="%s (%d/%d)" % (lab, p.get("reached", 0), len(ends)))
        a2.fill_between(x, lo, hi, step="post", color=c, alpha=0.15, lw=0)
        med = p.get("epochs_to_target_median")
        if med is not None:
            a2.plot([med], [0.5], "o", color=c, ms=5, mec="k", mew=0.5, zorder=3)
        kms.append({"params": p["params"], "epoch": x, "survival": s, "low": lo, "high": hi})
    a2.axhline(0.5, color="0.5", lw=0.8, ls=":")
    a2.set_ylim(-0.02, 1.02)
    a2.set_xlabel("epoch")
    a2.set_ylabel("share of repeats not yet solved (Kaplan-Meier)")
    a2.set_title("epochs to reach the target: Kaplan-Meier, 95% band (dot: median)",
                 fontsize="medium")
    a2.grid(True, alpha=0.3)
    a2.legend(fontsize="small", loc="best", framealpha=0.85)
    fig.suptitle(_title(run, "success at the target per point"))
    if dump is not None:
        dump["success"] = [{"params": p["params"], "success": p["success"],
                            "low": p.get("success_ci_low"), "high": p.get("success_ci_high")}
                           for p in plist]
        dump["km"] = kms
    return _save(fig, out)


VERDICT_COLORS = {"minimum": "C2", "descending": "C0", "saddle": "C1", "plateau": "C3", "diverged": "k"}


def verdict_coloring(run, pts, base):
    """Trials coloured by their diagnostics verdict (trial file attribute `verdict`, else the
    report's ranked[].verdict), or None when no trial has one."""
    rv = {r["trial"]: r.get("verdict") for r in pts.get("ranked", []) if r.get("verdict")}
    verd = {t.id: (t.verdict or rv.get(t.id) or "") for t in run.trials}
    if not any(verd.values()):
        return None
    order = [v for v in ("minimum", "descending", "saddle", "plateau") if v in verd.values()]
    order += sorted(set(v for v in verd.values() if v and v not in order))
    c = Coloring.__new__(Coloring)
    c.key, c.norm, c.cmap = "verdict", None, None
    extra = iter(["C4", "C5", "C6", "C8", "C9"])
    lut = {v: mcolors.to_rgba(VERDICT_COLORS.get(v) or next(extra, "C7")) for v in order}
    cats = [("%s (%d)" % (v, sum(1 for x in verd.values() if x == v)), lut[v]) for v in order]
    if "" in verd.values():
        lut[""] = mcolors.to_rgba("0.6")
        cats.append(("no verdict (%d)" % sum(1 for x in verd.values() if not x), lut[""]))
    c.categories = cats
    c.colors = {t: lut[v] for t, v in verd.items()}
    c.verdicts = verd
    return c


def _finite_any(trials, col):
    return any(np.isfinite(t.columns.get(col, np.zeros(0))).any() for t in trials)


def diagnostic_panels(run):
    """[(title, [(column, linestyle)...])]: the non-basic columns, else accuracy and lr."""
    trials = run.trials
    extra = []
    for t in trials:
        for c in t.order:
            if c not in BASIC_COLUMNS and c not in extra:
                extra.append(c)
    extra = [c for c in extra if _finite_any(trials, c)]
    if extra:
        panels = [(c, [(c, "-")]) for c in extra]
        if any(t.landscape is not None for t in trials):
            panels.append((PATH_PANEL, []))
        return panels, True
    panels = []
    acc = [(c, ls) for c, ls in (("accuracy", "-"), ("val_accuracy", "--"))
           if _finite_any(trials, c)]
    if acc:
        panels.append(("accuracy", acc))
    if _finite_any(trials, "lr"):
        panels.append(("lr", [("lr", "-")]))
    if not panels:
        panels = [(c, [(c, "-")]) for c in ("loss", "seconds") if _finite_any(trials, c)]
    if not panels:
        panels = [("loss", [("loss", "-")])]
    return panels, False


PATH_PANEL = "loss along the path"


def _plot_path(ax, trials, coloring, lw, alpha):
    """Loss at w0 + a (w1 - w0): a = 0 the initial, a = 1 the final weights."""
    vals = []
    for t in trials:
        if t.landscape is None:
            continue
        a, y = t.landscape
        ok = np.isfinite(y)
        if not ok.any():
            continue
        ax.plot(a[ok], y[ok], color=coloring.colors[t.id], lw=lw, alpha=alpha)
        vals.append(y[ok])
    for x in (0.0, 1.0):
        ax.axvline(x, color="0.5", lw=0.8, ls=":")
    v = np.concatenate(vals) if vals else np.zeros(0)
    logy = bool(len(v) and (v > 0).all() and v.max() / v.min() > 100)
    if logy:
        ax.set_yscale("log")
    ax.set_title("training loss from initial (0) to final (1) weights" +
                 (" (log scale)" if logy else ""), fontsize="medium")
    ax.set_xlabel("alpha: w0 + alpha (w1 - w0)")
    ax.grid(True, alpha=0.3)


def _column_title(name):
    base = name.split("[", 1)[0]
    t = COLUMN_TITLES.get(base)
    if t is None:
        for k, v in COLUMN_TITLES.items():
            if base.startswith(k + "_") or base.endswith("_" + k):
                t = "%s (%s)" % (v, name)
                break
    if t is None:
        return name
    return t if base == name else "%s %s" % (t, name[len(base):])


def plot_diagnostics(run, coloring, out):
    trials = run.trials
    verd = getattr(coloring, "verdicts", None)
    if verd:  # the commonest verdict first, so the rare ones are drawn on top
        count = {}
        for v in verd.values():
            count[v] = count.get(v, 0) + 1
        trials = sorted(trials, key=lambda t: -count[verd[t.id]])
    panels, have_extra = diagnostic_panels(run)
    n = len(panels)
    ncols = min(3, n)
    nrows = int(math.ceil(n / float(ncols)))
    fig, axs = plt.subplots(nrows, ncols, figsize=(4.4 * ncols + 1.6, 3.3 * nrows + 0.8),
                            dpi=DPI, squeeze=False, layout="constrained")
    flat = [a for row in axs for a in row]
    alpha, lw = _style(len(trials))
    any_div = any_run = False
    for ax, (title, cols) in zip(flat, panels):
        if title == PATH_PANEL:
            _plot_path(ax, trials, coloring, lw, alpha)
            continue
        vals = []
        for col, ls in cols:
            segs, cs = [], []
            for t in trials:
                y = t.columns.get(col)
                if y is None or not len(y):
                    continue
                seg, end = _segments(_epochs(t), y, False)
                if seg is None:
                    continue
                segs.append(seg)
                cs.append(coloring.colors[t.id])
                vals.append(seg[:, 1][np.isfinite(seg[:, 1])])
                if t.diverged:
                    ax.plot([end[0]], [end[1]], "x", color=coloring.colors[t.id], ms=6, mew=1.5)
                    any_div = True
                elif t.partial:
                    ax.plot([end[0]], [end[1]], "o", mfc="none", mec=coloring.colors[t.id],
                            ms=5)
                    any_run = True
            if segs:
                ax.add_collection(LineCollection(segs, colors=cs, linewidths=lw, linestyles=ls,
                                                 alpha=alpha))
        v = np.concatenate(vals) if vals else np.zeros(0)
        logy = bool(len(v) and (v > 0).all() and v.max() / v.min() > 100)
        if logy:
            ax.set_yscale("log")
        ax.autoscale_view()
        _fit_y([ax], [v], logy)
        name = _column_title(title) + (" (log scale)" if logy else "")
        if len(cols) > 1:
            name += " \u2014 training (solid), validation (dashed)"
        ax.set_title(name, fontsize="medium")
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
    for ax in flat[n:]:
        ax.set_visible(False)
    coloring.decorate(fig, flat[:n], legend_ax=flat[n - 1],
                      extra_handles=_status_handles(any_div, any_run))
    what = "per-epoch diagnostics" if have_extra else \
        "accuracy and learning rate per epoch (no diagnostic columns recorded)"
    fig.suptitle(_title(run, what))
    return _save(fig, out)


def _save(fig, out):
    try:
        fig.savefig(out, dpi=DPI)
    except OSError as e:
        raise PlotError("%s: cannot write (%s)" % (out, e.strerror or e))
    finally:
        plt.close(fig)
    return out


SEARCH_COLUMNS = {"loss": "final_loss", "val_loss": "final_val_loss",
                  "best_val_loss": "best_val_loss", "accuracy": "final_accuracy",
                  "val_accuracy": "final_val_accuracy", "test_loss": "final_test_loss",
                  "test_accuracy": "final_test_accuracy", "epochs_to_target": "epochs_to_target"}


def search_curve(run):
    """sweep.search's best so far, in trial order: [(trial, value, best, epochs spent)]
    (value None: no value: not finished, failed, diverged), as `bprun report` computes it."""
    metric = run.search.get("metric", "val_loss")
    col, higher = SEARCH_COLUMNS.get(metric, "final_val_loss"), "accuracy" in metric
    out, best, spent = [], None, 0
    for t in sorted(run.trials, key=lambda t: t.id):
        f = t.final or {}
        v = _num(f.get(col)) if f.get("status") == "completed" else None
        if v is not None and (not math.isfinite(v) or (col == "epochs_to_target" and v <= 0)):
            v = None
        if v is not None and (best is None or (v > best if higher else v < best)):
            best = v
        spent += max(int(f.get("epochs", 0) or 0), 0)
        out.append((t.id, v, best, spent))
    return out


def plot_search(run, out):
    curve = search_curve(run)
    metric = run.search.get("metric", "val_loss")
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13.0, 5.0), dpi=DPI, layout="constrained")
    ids = [c[0] for c in curve]
    for ax, xs, xl in ((a1, ids, "trial (the order the search decided them)"),
                       (a2, [c[3] for c in curve], "epochs spent")):
        pv = [(x, c[1]) for x, c in zip(xs, curve) if c[1] is not None]
        pb = [(x, c[2]) for x, c in zip(xs, curve) if c[2] is not None]
        if pv:
            ax.scatter(*zip(*pv), s=14, color="0.55", label="trial's %s" % metric)
        if pb:
            ax.step(*zip(*pb), where="post", color="C0", lw=2, label="best so far")
        ax.set_xlabel(xl)
        ax.set_ylabel(metric)
        if "loss" in metric and pv and min(v for _, v in pv) > 0:
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
    batch = int(run.search.get("batch", 0) or 0)
    if batch:
        for b in range(batch, len(ids), batch):
            a1.axvline(b - 0.5, color="0.85", lw=0.8, zorder=0)
    a1.legend(fontsize="small")
    fig.suptitle("%s: %s search, best %s so far (batches of %s)"
                 % (run.experiment or run.name, run.search.get("method", "?"), metric,
                    run.search.get("batch", "?")))
    return _save(fig, out)


def _lrfind_attr(f, name):
    v = f.attrs.get(name)
    if v is None:
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _experiment_of(resolved):
    for line in (resolved or "").splitlines():
        if line.startswith("experiment:"):
            return line.split(":", 1)[1].strip()
    return None


def plot_lrfind(path, out):
    """Loss (raw, faint) and smoothed loss against lr (log x) from `bprun lr-find`; the
    range test's candidates as vertical lines: (a) steepest descent, (b) a tenth of the minimum's
    lr, (v) the valley; and the suggestion (the paired sweep's, docs/LRFIND.md)."""
    try:
        f = _h5open(path)
    except OSError as e:
        raise PlotError("%s: cannot open (%s)" % (path, e))
    with f:
        for k in ("lr", "loss", "smooth_loss"):
            if k not in f:
                raise PlotError("%s: not a bprun lr-find file (no dataset '%s')" % (path, k))
        lr, loss, smooth = (np.asarray(f[k][()], dtype=float) for k in ("lr", "loss", "smooth_loss"))
        a, b = _lrfind_attr(f, "steepest_lr"), _lrfind_attr(f, "tenth_min_lr")
        m, ms = _lrfind_attr(f, "min_lr"), _lrfind_attr(f, "min_smooth_loss")
        sug = _lrfind_attr(f, "suggested_lr")
        v = _lrfind_attr(f, "valley_lr")
        opt = _text(f.attrs.get("optimizer", "")) or "optimizer"
        stop = _text(f.attrs.get("stop", ""))
        exp = _experiment_of(_text(f.attrs.get("resolved_config", "")))
    if not len(lr):
        raise PlotError("%s: no points recorded" % path)
    fig, ax = plt.subplots(figsize=(9.0, 5.6), dpi=DPI, layout="constrained")
    ok = np.isfinite(loss) & np.isfinite(smooth) & (lr > 0)
    ax.plot(lr[ok], loss[ok], "-", color="0.6", lw=0.8, alpha=0.7, label="loss of the batch")
    ax.plot(lr[ok], smooth[ok], "-", color="C0", lw=2.0, label="smoothed loss")
    ax.set_xscale("log")
    fin = smooth[ok]
    if len(fin):
        # the interesting part: from the minimum to the start, with the blow-up clipped
        lo = min(float(np.min(fin)), float(np.min(loss[ok])))
        hi = float(np.max(fin[: max(1, len(fin) // 2)]))
        hi = max(hi, float(fin[0])) if np.isfinite(fin[0]) else hi
        span = hi - lo if hi > lo else abs(hi) or 1.0
        ax.set_ylim(lo - 0.08 * span, hi + 0.25 * span)
    if math.isfinite(a):
        ax.axvline(a, color="C3", lw=1.6, ls="--",
                   label="(a) steepest descent: lr %s%s" % ("%.3g" % a,
                                                           " (suggested)" if a == sug else ""))
    if math.isfinite(m) and math.isfinite(ms):
        ax.plot([m], [ms], "o", color="C1", ms=7, zorder=3,
                label="minimum smoothed loss: lr %s" % "%.3g" % m)
    if math.isfinite(b):
        ax.axvline(b, color="C2", lw=1.6, ls=":",
                   label="(b) a tenth of the minimum's lr: %s%s" % (
                       "%.3g" % b, " (suggested)" if b == sug and a != sug else ""))
    if math.isfinite(v):
        ax.axvline(v, color="C4", lw=1.6, ls="-.",
                   label="(v) valley: lr %s%s" % ("%.3g" % v, " (suggested)" if v == sug else ""))
    if math.isfinite(sug) and sug not in (a, b, v):
        ax.axvline(sug, color="k", lw=2.0,
                   label="suggested (paired sweep from the same start): lr %s" % ("%.3g" % sug))
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss per sample")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    title = "lr-find%s: %s, %d steps" % (" of " + exp if exp else "", opt, len(lr))
    fig.suptitle(title + ("\n" + stop if stop else ""), fontsize="medium")
    return _save(fig, out)


def read_pbt(run_dir):
    """sweep.pbt: every member's metric per epoch, its /pbt/parent, and the winner's lineage
    (docs/SEARCH.md) read from the trial files; None when the run is not a PBT run."""
    tdir = os.path.join(run_dir, "trials")
    members = {}
    for name in sorted(os.listdir(tdir)) if os.path.isdir(tdir) else []:
        if not re.fullmatch(r"\d{4}\.h5", name):
            continue
        try:
            with _h5open(os.path.join(tdir, name)) as f:
                if "pbt" not in f:
                    return None
                g = f["pbt"]
                col = "val_loss" if g.attrs.get("metric_val_loss", 0) == 1 else "loss"
                members[int(name[:4])] = {
                    "metric": np.asarray(f["epochs/" + col][()], dtype=float),
                    "parent": np.asarray(g["parent"][()], dtype=float),
                    "status": f.attrs.get("status", b""),
                    "interval": int(g.attrs["interval"]), "col": col}
        except (OSError, KeyError):
            continue
    if not members:
        return None
    for m in members.values():
        st = m["status"]
        m["status"] = st.decode() if isinstance(st, bytes) else str(st)
        n = min(len(m["metric"]), len(m["parent"]))
        m["metric"], m["parent"] = m["metric"][:n], m["parent"][:n]
    done = [(m["metric"][-1], i) for i, m in members.items()
            if m["status"] == "completed" and len(m["metric"]) and np.isfinite(m["metric"][-1])]
    lineage = []
    if done:
        win = min(done)[1]
        E, K = len(members[win]["metric"]), members[win]["interval"]
        cur = win
        for g in range((E + K - 1) // K, 0, -1):
            first, last = (g - 1) * K + 1, min(g * K, E)
            lineage.append((first, last, cur))
            cur = int(members[cur]["parent"][first - 1])
            if cur not in members:
                break
        lineage.reverse()
    return {"members": members, "lineage": lineage}


def plot_pbt(run, pbt, out):
    """Every member's metric over the epochs (thin), its exploit events (a dot where it took
    another member's state), and the winner's lineage drawn over them (thick)."""
    members, lineage = pbt["members"], pbt["lineage"]
    col = next(iter(members.values()))["col"]
    fig, ax = plt.subplots(figsize=(8, 5))
    cmap = plt.get_cmap("tab20")
    for i, m in sorted(members.items()):
        ep = np.arange(1, len(m["metric"]) + 1)
        ax.plot(ep, m["metric"], lw=0.8, alpha=0.6, color=cmap(i % 20), label="member %04d" % i
                if len(members) <= 12 else None)
        ex = [e for e in range(len(m["parent"])) if int(m["parent"][e]) != i]
        if ex:
            ax.plot([e + 1 for e in ex], [m["metric"][e] for e in ex], "o", ms=4,
                    color=cmap(i % 20))
    if lineage:
        y = np.concatenate([members[mem]["metric"][first - 1:last] for first, last, mem in lineage])
        ax.plot(np.arange(1, len(y) + 1), y, lw=2.5, color="black", label="winner's lineage")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(_loss_label(run, col))
    ax.set_title(_title(run, "population-based training (dots: exploit)"))
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def main_lrfind(args):
    path = args.lr_find
    base = os.path.splitext(os.path.basename(path))[0]
    out_dir = args.output or os.path.dirname(path) or "."
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        raise PlotError("%s: cannot create folder (%s)" % (out_dir, e.strerror or e))
    p = plot_lrfind(path, os.path.join(out_dir, "%s.%s" % (base, args.format)))
    print(p, flush=True)


def _json_safe(v):
    """NaN and infinities as null, numpy numbers as numbers."""
    if isinstance(v, dict):
        return {str(k): _json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_safe(x) for x in v]
    if isinstance(v, (np.floating, float)):
        v = float(v)
        return v if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    return v


def main_html(args):
    """OUT_DIR/report.html by `bprun report RUN --format html -o FILE`: the same page, the
    same numbers; bprun's message and exit status when it fails."""
    if not os.path.isdir(args.run_dir):
        raise PlotError("%s: not a folder (expected a bprun run folder)" % args.run_dir)
    exe = find_bprun()
    if exe is None:
        raise PlotError("--html: no bprun found ($BPRUN, the build tree, PATH)")
    out = args.output or os.path.join(args.run_dir, "plots")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        raise PlotError("%s: cannot create folder (%s)" % (out, e.strerror or e))
    path = os.path.join(out, "report.html")
    cmd = [exe, "report", args.run_dir, "--format", "html", "-o", path, "--by", args.by]
    if args.metric != "auto":
        cmd += ["--metric", args.metric]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        msg = r.stderr.decode("utf-8", "replace").strip()
        raise PlotError("--html: %s" % (msg or "bprun report exited %d" % r.returncode))
    print(path, flush=True)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog=PROG, description="Plot a bprun run folder: mean loss curves per point, the "
        "final metric against each swept numeric axis, success and Kaplan-Meier curves (with "
        "a target), and a per-epoch diagnostics panel.")
    ap.add_argument("run_dir", metavar="RUN_DIR", nargs="?", help="a bprun run folder (holds "
                    "index.h5 and/or trials/)")
    ap.add_argument("--lr-find", metavar="FILE", help="plot a `bprun lr-find` result instead "
                    "of a run: loss against learning rate with the suggestions marked")
    ap.add_argument("-o", "--output", metavar="OUT_DIR",
                    help="where to write the plots (default RUN_DIR/plots)")
    ap.add_argument("--format", choices=("png", "svg", "pdf"), default="png",
                    help="image format (default png)")
    ap.add_argument("--raw", action="store_true",
                    help="loss_curves: draw every repeat as well, faint, under the mean")
    ap.add_argument("--metric", choices=METRICS, default="auto",
                    help="the final metric of final_vs_* (as bprun report --metric; default "
                    "val_loss when there is validation data, else loss)")
    ap.add_argument("--by", choices=("mean", "median"), default="mean",
                    help="final_vs_*: each point's mean with its t interval, or median with "
                    "its order-statistic interval (as bprun report --by)")
    ap.add_argument("--dump", metavar="FILE",
                    help="also write the numbers drawn (curves, bands, points, success, "
                    "Kaplan-Meier) as JSON to FILE")
    ap.add_argument("--html", action="store_true",
                    help="write the interactive HTML report OUT_DIR/report.html instead of "
                    "the figures: bprun report RUN --format html (with --metric and --by)")
    args = ap.parse_args(argv)
    if (args.run_dir is None) == (args.lr_find is None):
        ap.error("give either RUN_DIR or --lr-find FILE")
    if args.html and args.lr_find:
        ap.error("--html applies to a RUN_DIR, not to --lr-find")
    try:
        if args.lr_find:
            main_lrfind(args)
            return 0
        if args.html:
            return main_html(args)
        run = load_run(args.run_dir)
        out = args.output or os.path.join(args.run_dir, "plots")
        try:
            os.makedirs(out, exist_ok=True)
        except OSError as e:
            raise PlotError("%s: cannot create folder (%s)" % (out, e.strerror or e))
        pts = report_points(run, args.metric, args.by)
        dump = {"source": pts.get("source"), "metric": pts.get("metric"),
                "by": pts.get("by", args.by)} if args.dump else None
        coloring = Coloring(run)
        jobs = [("loss_curves", lambda o: plot_loss_curves(run, coloring, o, pts, args, dump))]
        num = numeric_axes(run)
        names = _axis_names(num)
        for k in num:
            fname = "final_vs_" + names[k]
            jobs.append((fname, lambda o, k=k, f=fname: plot_final_vs_axis(run, k, f, o, pts,
                                                                           args, dump)))
        if not num:
            note("final_vs_<axis>: skipped (no swept numeric axis)")
        if has_target(pts):
            jobs.append(("success", lambda o: plot_success(run, o, pts, dump)))
        dcol = verdict_coloring(run, pts, coloring) or coloring
        if dump is not None and getattr(dcol, "verdicts", None):
            dump["verdicts"] = {"%04d" % t: v for t, v in sorted(dcol.verdicts.items())}
            dump["verdict_colors"] = {lab: mcolors.to_hex(c) for lab, c in dcol.categories}
        jobs.append(("diagnostics", lambda o: plot_diagnostics(run, dcol, o)))
        if run.search:
            jobs.append(("search", lambda o: plot_search(run, o)))
        pbt = read_pbt(args.run_dir)
        if pbt:
            jobs.append(("pbt", lambda o: plot_pbt(run, pbt, o)))
            if dump is not None:
                dump["pbt_lineage"] = [{"first_epoch": a, "last_epoch": b, "member": m}
                                       for a, b, m in pbt["lineage"]]
        for name, fn in jobs:
            p = fn(os.path.join(out, "%s.%s" % (name, args.format)))
            if p:
                print(p, flush=True)
        if args.dump:
            try:
                with open(args.dump, "w") as f:
                    json.dump(_json_safe(dump), f, indent=1, allow_nan=False)
            except (OSError, ValueError) as e:
                raise PlotError("%s: cannot write (%s)" % (args.dump, e))
    except PlotError as e:
        note(str(e))
        return 1
    except BrokenPipeError:  # stdout closed early (| head): not an error of ours
        sys.stderr.close()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
