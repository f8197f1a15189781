"""bprun: read bprun run folders into pandas DataFrames (docs/PYTHON.md).

    import bprun
    trials = bprun.read_run("runs/xor")       # one row per trial
    epochs = bprun.read_epochs("runs/xor")    # one row per trial and epoch

Needs h5py, numpy and pandas (Debian: python3-h5py python3-numpy python3-pandas). Reads the
files docs/FORMAT.md describes; works on a run still going (trial files, .part included, when
there is no index.h5 yet) and on several folders at once (a `run` column).
"""

import math
import os
import re

import h5py
import numpy as np
import pandas as pd

__all__ = ["read_run", "read_epochs", "parse_flow", "parse_value"]
__version__ = "1"

# The final metrics, in the column order of read_run: name -> /summary field.
METRICS = [
    ("loss", "final_loss"), ("val_loss", "final_val_loss"), ("accuracy", "final_accuracy"),
    ("val_accuracy", "final_val_accuracy"), ("best_val_loss", "best_val_loss"),
    ("test_loss", "final_test_loss"), ("test_accuracy", "final_test_accuracy"),
    ("seconds", "wall_seconds"), ("epochs_to_target", "epochs_to_target"),
    ("samples_per_second", "samples_per_second"), ("peak_rss_bytes", "peak_rss_bytes"),
    ("work_bytes", "work_bytes"),
]
_TRIAL_FILE = re.compile(r"^(\d{4,20})\.h5(\.part)?$")


# ---------------------------------------------------------------------------------------------
# YAML flow values as bprun writes them in /params and sweep_table (0.01, sgd, [2, 3, 1],
# {name: adam, lr: 0.001}); no PyYAML, and 1e-3 reads as a number. (The same reader as
# scripts/bprun_plot.py's.)

def _scalar(text):
    t = text.strip()
    if len(t) >= 2 and t[0] == t[-1] == '"':
        return bytes(t[1:-1], "utf-8").decode("unicode_escape")
    if len(t) >= 2 and t[0] == t[-1] == "'":
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


def _colon(s, i):
    return s[i] == ":" and (i + 1 == len(s) or s[i + 1].isspace() or s[i + 1] in ",]}")


def _flow_tokens(s):
    out, i, n = [], 0, len(s)
    while i < n:
        ch = s[i]
        if ch.isspace():
            i += 1
        elif ch in "[]{},":
            out.append(("p", ch))
            i += 1
        elif _colon(s, i):
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
            while j < n and s[j] not in "[]{}," and not _colon(s, j):
                j += 1
            out.append(("s", s[i:j].strip()))
            i = j
    return out


def parse_flow(s):
    """One YAML flow value (scalar, [list] or {map}); ValueError when it is not one."""
    toks = _flow_tokens(s)
    pos = 0

    def value():
        nonlocal pos
        if pos >= len(toks):
            return None
        kind, t = toks[pos]
        if kind == "p" and t in "[{":
            pos += 1
            close = "]" if t == "[" else "}"
            items = [] if t == "[" else {}
            while pos < len(toks) and toks[pos] != ("p", close):
                if t == "[":
                    items.append(value())
                else:
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
                raise ValueError("unclosed %s in %r" % (t, s))
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
    """A /params cell: the Python value of its YAML flow text, or the text when unreadable."""
    try:
        return parse_flow(text)
    except (ValueError, RecursionError):
        return text.strip()


def _flatten(prefix, value, out):
    if isinstance(value, dict) and value:
        for k, v in value.items():
            _flatten(prefix + "." + k, v, out)
    else:
        out[prefix] = value


def parse_block(text):
    """bprun's canonical block YAML ('key: value' lines, flow values) as nested dicts; lines of
    other forms (block sequences) are skipped."""
    root = {}
    stack = [(-1, root)]
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        m = re.match(r"^([^:#]+?):(?:\s+(.*))?$", line.strip())
        if not m:
            continue
        key, val = m.group(1).strip(), m.group(2)
        if val is not None and " #" in val and not val.lstrip().startswith(("'", '"')):
            val = val.split(" #", 1)[0]
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if not stack:
            return root
        parent = stack[-1][1]
        if val is None or val.strip() == "":
            parent[key] = {}
            stack.append((indent, parent[key]))
        else:
            parent[key] = parse_value(val)
    return root


def _lookup(cfg, path):
    cur = cfg
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _sweep_of(config_text):
    """(axes, repeats) of a config file's sweep section, in the order of docs/CONFIG.md's
    "Points and ids": grid, zip, the variants' keys, random."""
    sw = parse_block(config_text).get("sweep")
    if not isinstance(sw, dict):
        return [], 1
    axes = []
    for block in ("grid", "zip", "variants", "random"):
        b = sw.get(block)
        for m in (b if isinstance(b, list) else [b]):
            if isinstance(m, dict):
                axes += [k for k in m if k not in axes]
    race = sw.get("race")
    rep = sw.get("repeats")
    if isinstance(race, dict):
        rep = race.get("max_repeats", 50)
    return axes, rep if isinstance(rep, int) and rep > 0 else 1


# ---------------------------------------------------------------------------------------------
# HDF5

def _text(v):
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace").rstrip("\0")
    if isinstance(v, np.ndarray):
        return [_text(x) for x in v.tolist()]
    return v if isinstance(v, str) else str(v)


def _open(path):
    # bprun writes trial files without a file lock so that they can be read while it runs
    try:
        return h5py.File(path, "r", locking=False)
    except TypeError:  # h5py < 3.5
        return h5py.File(path, "r")


def _trial_files(path):
    """{trial id: (file, is_part)}; a finished file wins over a stale .part."""
    files = {}
    tdir = os.path.join(path, "trials")
    if os.path.isdir(tdir):
        for fn in sorted(os.listdir(tdir)):
            m = _TRIAL_FILE.match(fn)
            if not m:
                continue
            tid, part = int(m.group(1)), bool(m.group(2))
            if tid in files and part:
                continue
            files[tid] = (os.path.join(tdir, fn), part)
    return files


def _sweep_table(text):
    """{trial: (point, repeat)} from the index's sweep_table attribute (id point repeat seed ...)."""
    out = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 3 and f[0].isdigit() and f[1].isdigit() and f[2].isdigit():
            out[int(f[0])] = (int(f[1]), int(f[2]))
    return out


def _attr(f, name, default=None):
    return _text(f.attrs[name]) if name in f.attrs else default


def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _read_one_run(path):
    if not os.path.isdir(path):
        raise FileNotFoundError("%s: no such folder" % path)
    index = os.path.join(path, "index.h5")
    files = _trial_files(path)
    rows, axes, ptext, pvalue, table, repeats = {}, [], {}, {}, {}, None
    if os.path.isfile(index):
        with _open(index) as f:
            if "axes" in f.attrs:
                a = f.attrs["axes"]
                axes = [_text(a)] if isinstance(a, (str, bytes)) else list(_text(np.asarray(a)))
            table = _sweep_table(_attr(f, "sweep_table", ""))
            repeats = _sweep_of(_attr(f, "config", ""))[1]
            s = f["summary"][()]
            names = s.dtype.names or ()
            P = f["params"][()] if "params" in f and axes else None
            for i, row in enumerate(s):
                tid = int(row["trial"])
                rec = {"seed": int(row["seed"]), "status": _text(row["status"]),
                       "epochs": int(row["epochs"])}
                for col, field in METRICS:
                    rec[col] = float(row[field]) if field in names else math.nan
                # 0 in the index: no target (or not finished) for epochs_to_target, not
                # measured for the cost records (docs/FORMAT.md)
                for col in ("epochs_to_target", "samples_per_second", "peak_rss_bytes",
                            "work_bytes"):
                    if rec[col] == 0:
                        rec[col] = math.nan
                rec["verdict"] = _text(row["verdict"]) if "verdict" in names else ""
                rows[tid] = rec
                if P is not None:
                    ptext[tid] = [_text(P[i, j]) for j in range(len(axes))]
    # trials the index does not list yet (a run still going, or no index at all)
    for tid, (fn, part) in files.items():
        if tid in rows and rows[tid]["status"] not in ("pending", "running"):
            continue  # the index row of a finished trial
        try:
            with _open(fn) as f:
                rec = {"seed": int(f.attrs.get("seed", 0)),
                       "status": "running" if part else _attr(f, "status", ""),
                       "epochs": int(f.attrs.get("epochs_done", 0))}
                ep = {}
                if "epochs" in f:
                    for c in ("loss", "val_loss", "accuracy", "val_accuracy", "seconds"):
                        if c in f["epochs"]:
                            ep[c] = np.asarray(f["epochs/" + c][()], dtype=np.float64)
                n = min((len(v) for v in ep.values()), default=0)
                if part:
                    rec["epochs"] = n
                for col, _ in METRICS:
                    rec[col] = math.nan
                for c in ("loss", "val_loss", "accuracy", "val_accuracy"):
                    if c in ep and n:
                        rec[c] = float(ep[c][n - 1])
                if "val_loss" in ep and n:
                    rec["best_val_loss"] = float(np.nanmin(ep["val_loss"][:n])) \
                        if np.isfinite(ep["val_loss"][:n]).any() else math.nan
                for c in ("test_loss", "test_accuracy", "samples_per_second", "peak_rss_bytes",
                          "work_bytes"):
                    if c in f.attrs:
                        rec[c] = _num(f.attrs[c])
                if "wall_seconds" in f.attrs:
                    rec["seconds"] = _num(f.attrs["wall_seconds"])
                if "epochs_to_target" in f.attrs:
                    rec["epochs_to_target"] = _num(f.attrs["epochs_to_target"])
                rec["verdict"] = _attr(f, "verdict", "")
                if repeats is None:  # no index: the sweep of the config file as given
                    axes, repeats = _sweep_of(_attr(f, "config", ""))
                if tid not in ptext and tid not in pvalue:
                    cfg = parse_block(_attr(f, "resolved_config", ""))
                    pvalue[tid] = [_lookup(cfg, a) for a in axes]
                rows[tid] = rec
        except (OSError, KeyError, ValueError):
            continue  # a .part a killed writer left unreadable
    out = []
    for tid in sorted(rows):
        rec = {"trial": tid}
        if tid in table:
            rec["point"], rec["repeat"] = table[tid]
        elif repeats:
            rec["point"], rec["repeat"] = divmod(tid, repeats)
        else:
            rec["point"], rec["repeat"] = tid, 0
        rec.update(rows[tid])
        texts = ptext.get(tid, [None] * len(axes))
        values = pvalue.get(tid) or [parse_value(t) if t is not None else None for t in texts]
        params = {}
        for a, t, v in zip(axes, texts, values):
            params[a] = t
            flat = {}
            _flatten(a, v, flat)
            rec.update(flat)
        rec["params"] = params
        out.append(rec)
    return out


def _paths(path):
    return [os.fspath(path)] if isinstance(path, (str, bytes, os.PathLike)) else \
        [os.fspath(p) for p in path]


def read_run(path):
    """One row per trial, in trial order: trial, point, repeat, seed, status, epochs, the final
    metrics, verdict, one column per swept key (map values flattened: train.optimizer.name,
    train.optimizer.lr) and `params` (the axes' raw YAML flow text, a dict per row).
    path: a run folder, or a list of them (then a first column `run`)."""
    paths = _paths(path)
    recs = []
    for p in paths:
        for r in _read_one_run(p):
            if len(paths) > 1:
                r = dict(run=p, **r)
            recs.append(r)
    fixed = (["run"] if len(paths) > 1 else []) + ["trial", "point", "repeat", "seed", "status",
                                                   "epochs"] + [c for c, _ in METRICS] + ["verdict"]
    extra = []
    for r in recs:
        for k in r:
            if k not in fixed and k != "params" and k not in extra:
                extra.append(k)
    df = pd.DataFrame.from_records(recs, columns=fixed + extra + ["params"])
    for c in ("trial", "point", "repeat", "epochs"):
        df[c] = df[c].astype("int64")
    df["seed"] = df["seed"].astype("uint64")
    return df


def _epochs_of(fn):
    with _open(fn) as f:
        status = _attr(f, "status", "")
        if "epochs" not in f:
            return status, {}, []
        g = f["epochs"]
        names = g.attrs.get("columns")
        names = list(_text(np.asarray(names))) if names is not None else sorted(g.keys())
        names += [k for k in g.keys() if k not in names]
        cols, order = {}, []
        for name in names:
            if name not in g or not isinstance(g[name], h5py.Dataset):
                continue
            d = np.asarray(g[name][()])
            if d.dtype.kind not in "fiu":
                continue
            d = d.astype(np.float64)
            if d.ndim == 1:
                cols[name] = d
                order.append(name)
            elif d.ndim == 2:  # epochs x layers: name[0], name[1], ...
                for j in range(d.shape[1]):
                    cols["%s[%d]" % (name, j)] = d[:, j]
                    order.append("%s[%d]" % (name, j))
        if cols:  # a killed writer may leave columns one row apart: trust the shortest
            n = min(len(c) for c in cols.values())
            cols = {k: v[:n] for k, v in cols.items()}
        return status, cols, order


def read_epochs(path):
    """One row per trial and epoch: trial, status, running (a .part file), then every per-epoch
    column of every trial file (NaN where a trial has no such column). path: a run folder or a
    list of them (then a first column `run`)."""
    paths = _paths(path)
    frames, order = [], []
    for p in paths:
        for tid, (fn, part) in sorted(_trial_files(p).items()):
            try:
                status, cols, names = _epochs_of(fn)
            except (OSError, KeyError, ValueError):
                continue
            n = len(next(iter(cols.values()))) if cols else 0
            d = {}
            if len(paths) > 1:
                d["run"] = [p] * n
            d["trial"] = np.full(n, tid, dtype=np.int64)
            d["status"] = ["running" if part else status] * n
            d["running"] = np.full(n, part, dtype=bool)
            d.update(cols)
            frames.append(pd.DataFrame(d))
            order += [c for c in names if c not in order]
    lead = (["run"] if len(paths) > 1 else []) + ["trial", "status", "running"]
    if "epoch" in order:
        order.remove("epoch")
        lead.insert(len(lead) - 2, "epoch")
    if not frames:
        return pd.DataFrame(columns=lead + order)
    df = pd.concat(frames, ignore_index=True, sort=False)
    df = df.reindex(columns=lead + order)
    if "epoch" in df:
        df["epoch"] = df["epoch"].astype("int64")
    return df
