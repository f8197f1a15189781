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
import math
import os
import re
import sys

import numpy as np
import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
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


def _read_trial_file(t, path):
    with _h5open(path) as f:
        t.status = _text(f.attrs.get("status", "unknown"))
        t.config = parse_block(_text(f.attrs.get("resolved_config", "")))
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
                if (k == key or k.startswith(key + ".")) and k not in sub:
                    sub.append(k)
        if sub == [key]:
            keys.append(key)
            continue
        varying = [k for k in sub if len({_hashable(t.params.get(k)) for t in trials}) > 1]
        keys.extend(varying or sub[:1])
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


def plot_loss_curves(run, coloring, out):
    trials = run.trials
    has_val = any(np.isfinite(t.columns.get("val_loss", np.zeros(0))).any() for t in trials)
    # one panel per value of a swept non-numeric axis with 2-6 values (e.g. the optimizer)
    panel_key, panels = None, [None]
    num = set(numeric_axes(run))
    for k in run.axes:
        if k in num or k == coloring.key:
            continue
        vals = list(dict.fromkeys(fmt_value(t.params.get(k)) for t in trials))
        if 2 <= len(vals) <= 6:
            panel_key, panels = k, vals
        break
    ncols = len(panels)
    fig, axs = plt.subplots(1, ncols, figsize=(5.0 * ncols + 2.2 if ncols > 1 else 9.0, 5.6),
                            dpi=DPI, sharey=True, squeeze=False, layout="constrained")
    axs = list(axs[0])
    alpha, lw = _style(len(trials) / ncols)
    any_div = any_run = False
    yvals = []
    for ax, pv in zip(axs, panels):
        sel = [t for t in trials if pv is None or fmt_value(t.params.get(panel_key)) == pv]
        for col, ls in (("loss", "-"), ("val_loss", "--")):
            segs, cols, ends, end_cols, part_ends = [], [], [], [], []
            for t in sel:
                y = t.columns.get(col)
                if y is None or not len(y):
                    continue
                seg, end = _segments(_epochs(t), y, True)
                if seg is None:
                    continue
                segs.append(seg)
                yvals.append(seg[:, 1])
                cols.append(coloring.colors[t.id])
                if col == "loss" and t.diverged:
                    ends.append(end)
                    end_cols.append(coloring.colors[t.id])
                elif col == "loss" and t.partial:
                    part_ends.append((end, coloring.colors[t.id]))
            if segs:
                ax.add_collection(LineCollection(segs, colors=cols, linewidths=lw,
                                                 linestyles=ls, alpha=alpha if ls == "-"
                                                 else alpha * 0.8))
            if ends:
                e = np.array(ends)
                ax.scatter(e[:, 0], e[:, 1], marker="x", c=end_cols, s=55, linewidths=1.8,
                           zorder=3)
                any_div = True
            for (x, y), c in part_ends:
                ax.plot([x], [y], "o", mfc="none", mec=c, ms=6, mew=1.4, zorder=3)
                any_run = True
        ax.set_yscale("log")
        ax.autoscale_view()
        ax.set_xlabel("epoch")
        ax.grid(True, which="major", alpha=0.3)
        if pv is not None:
            ax.set_title("%s = %s" % (panel_key, pv), fontsize="medium")
    _fit_y(axs, yvals, True)
    axs[0].set_ylabel(_loss_label(run, "loss per sample"))
    extra = [Line2D([], [], color="0.3", ls="-", label="training loss")]
    if has_val:
        extra.append(Line2D([], [], color="0.3", ls="--", label="validation loss"))
    extra += _status_handles(any_div, any_run)
    coloring.decorate(fig, axs, legend_ax=axs[-1], extra_handles=extra)
    what = "training loss" + (" (solid) and validation loss (dashed)" if has_val else "")
    fig.suptitle(_title(run, what + " per epoch"))
    return _save(fig, out)


def _final_value(t, key, col):
    if t.final and not t.partial and key in t.final:
        v = float(t.final[key])
        if not math.isnan(v) or col not in t.columns:
            return v
    y = t.columns.get(col)
    return float(y[-1]) if y is not None and len(y) else math.nan


def lr_axis(run):
    num = numeric_axes(run)
    for k in num:
        if k == "train.optimizer.lr" or k.endswith(".lr"):
            return k
    return num[0] if num else None


def plot_final_vs_lr(run, coloring, out):
    key = lr_axis(run)
    if key is None:
        note("final_vs_lr: skipped (no swept numeric axis such as train.optimizer.lr)")
        return None
    trials = run.trials
    use_val = any(math.isfinite(_final_value(t, "final_val_loss", "val_loss")) for t in trials)
    fkey, fcol = ("final_val_loss", "val_loss") if use_val else ("final_loss", "loss")
    # series: the optimizer name first, then every other swept axis but the x axis
    others = [k for k in run.axes if k != key]
    others.sort(key=lambda k: 0 if k == "train.optimizer.name" or
                k.endswith("optimizer.name") else 1)
    series = {}
    for t in trials:
        lab = " \u00b7 ".join(("%s" if k.endswith("optimizer.name") else short_key(k) + "=%s")
                              % fmt_value(t.params.get(k)) for k in others)
        series.setdefault(lab, []).append(t)
    if len(series) == 1 and "" in series:
        name = lookup(trials[0].config, "train.optimizer.name")
        series = {str(name) if name else "all trials": series[""]}

    fig, ax = plt.subplots(figsize=(9.0, 5.6), dpi=DPI, layout="constrained")
    palette = plt.get_cmap("tab10" if len(series) <= 10 else "tab20")
    ys_all = []
    markers = "osD^vP*<>h"
    div_pts, handles = [], []
    n_series = len(series)
    for i, (lab, ts) in enumerate(series.items()):
        c = palette(i % palette.N)
        m = markers[i % len(markers)]
        jit = 1.0 + 0.025 * (i - (n_series - 1) / 2.0) if n_series > 1 else 1.0
        by_x, pts = {}, {False: [], True: []}
        for t in ts:
            x = float(t.params[key])
            y = _final_value(t, fkey, fcol)
            if t.diverged or not math.isfinite(y):
                div_pts.append((x * jit, c))
                continue
            ys_all.append(y)
            pts[t.partial].append((x * jit, y))
            if not t.partial:
                by_x.setdefault(x, []).append(y)
        for partial, p in pts.items():
            if p:
                p = np.array(p)
                ax.plot(p[:, 0], p[:, 1], m, ls="none", color=c, ms=6,
                        alpha=float(min(0.55, max(0.15, 40.0 / len(ts)))),
                        mfc="none" if partial else c)
        xs = sorted(by_x)
        if xs:
            med = [float(np.median(by_x[x])) for x in xs]
            ax.plot(xs, med, "-", color=c, lw=2, marker=m, ms=8, mec="k", mew=0.6)
        handles.append(Line2D([], [], color=c, lw=2, marker=m, ms=7, mec="k", mew=0.6,
                              label="%s (median)" % lab))
    ax.set_xscale("log")
    pos = [y for y in ys_all if y > 0]
    if pos and max(pos) / min(pos) > 10:
        ax.set_yscale("log")
        ylab = _loss_label(run, "final %s loss" % ("validation" if use_val else "training"))
    else:
        ylab = "final %s loss%s" % ("validation" if use_val else "training",
                                    " (%s)" % run.loss_name if run.loss_name else "")
    if not ys_all:
        ax.set_ylim(0.0, 1.0)
    ax.autoscale_view()
    _fit_y([ax], [ys_all], ax.get_yscale() == "log")
    if div_pts:  # at the top edge, above every finite value
        tr = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
        ax.scatter([x for x, _ in div_pts], [0.97] * len(div_pts), marker="X",
                   c=[c for _, c in div_pts], edgecolors="k", linewidths=0.8, s=100,
                   transform=tr, clip_on=False, zorder=4)
        handles.append(Line2D([], [], ls="none", marker="X", color="0.5", mec="k", ms=9,
                              label="diverged (drawn at the top edge)"))
    handles.insert(len(series), Line2D([], [], ls="none", marker="o", color="0.4", alpha=0.55,
                                       label="single trials (repeats)"))
    if any(t.partial for t in trials):
        handles.append(Line2D([], [], ls="none", marker="o", mfc="none", color="0.3",
                              label="still running (last epoch so far)"))
    ax.set_xlabel("learning rate %s (log scale)" % key)
    ax.set_ylabel(ylab)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(handles=handles, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0),
              borderaxespad=0.0)
    fig.suptitle(_title(run, "final %s loss vs learning rate"
                        % ("validation" if use_val else "training")))
    return _save(fig, out)


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
    suggestions as vertical lines: (a) steepest descent, (b) a tenth of the minimum's lr."""
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
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss per sample")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    title = "lr-find%s: %s, %d steps" % (" of " + exp if exp else "", opt, len(lr))
    fig.suptitle(title + ("\n" + stop if stop else ""), fontsize="medium")
    return _save(fig, out)


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


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog=PROG, description="Plot a bprun run folder: loss curves, final loss vs learning "
        "rate, and a per-epoch diagnostics panel.")
    ap.add_argument("run_dir", metavar="RUN_DIR", nargs="?", help="a bprun run folder (holds "
                    "index.h5 and/or trials/)")
    ap.add_argument("--lr-find", metavar="FILE", help="plot a `bprun lr-find` result instead "
                    "of a run: loss against learning rate with the suggestions marked")
    ap.add_argument("-o", "--output", metavar="OUT_DIR",
                    help="where to write the plots (default RUN_DIR/plots)")
    ap.add_argument("--format", choices=("png", "svg", "pdf"), default="png",
                    help="image format (default png)")
    args = ap.parse_args(argv)
    if (args.run_dir is None) == (args.lr_find is None):
        ap.error("give either RUN_DIR or --lr-find FILE")
    try:
        if args.lr_find:
            main_lrfind(args)
            return 0
        run = load_run(args.run_dir)
        out = args.output or os.path.join(args.run_dir, "plots")
        try:
            os.makedirs(out, exist_ok=True)
        except OSError as e:
            raise PlotError("%s: cannot create folder (%s)" % (out, e.strerror or e))
        coloring = Coloring(run)
        written = []
        for name, fn in (("loss_curves", plot_loss_curves), ("final_vs_lr", plot_final_vs_lr),
                         ("diagnostics", plot_diagnostics)):
            p = fn(run, coloring, os.path.join(out, "%s.%s" % (name, args.format)))
            if p:
                written.append(p)
                print(p, flush=True)
    except PlotError as e:
        note(str(e))
        return 1
    except BrokenPipeError:  # stdout closed early (| head): not an error of ours
        sys.stderr.close()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
