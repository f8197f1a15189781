#!/usr/bin/env python3
"""bench-search: bprun's random search, bprun's TPE and Optuna's TPE on the same objectives
(docs/SEARCH.md). Run by `scripts/bench --only SEARCH`; never by `make check`.

Each method gets the same budget of trials on the same objective, for each of --seeds seeds:
the experiment trains with `seed: S` whichever method proposes the point, so a point gives the
same validation loss to all three. bprun's searches are one `bprun run` of a config with
sweep.search (batch --batch, startup 10); Optuna 3.1's TPESampler(seed=S) (its defaults:
10 startup trials, 24 candidates, univariate) drives bprun through one `bprun run --set ...`
per trial. Printed: the median over the seeds (and min-max) of the best validation loss found
after n trials, and, with --csv, every curve.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

TASKS = {
    # name: (base config text, the search space as (key, kind, low, high))
    "iris": ("""experiment: bench-search-iris
seed: 1
data: {train: %(data)s/iris.h5#/iris, validation: 0.2, standardize: true}
model: {layers: [4, 16, 3], activation: tanh, output: softmax, loss: cross_entropy,
        init: xavier_uniform}
train: {epochs: 60, batch_size: 16, shuffle: true,
        optimizer: {name: sgd, lr: 0.1, momentum: 0.9, weight_decay: 0}}
""", 60),
    "fashion": ("""experiment: bench-search-fashion
seed: 1
data: {train: %(data)s/fashion-mnist.h5#/train, validation: 0.2, standardize: true}
model: {layers: [784, 128, 10], activation: relu, output: softmax, loss: cross_entropy,
        init: he_uniform}
train: {epochs: 2, batch_size: 64, shuffle: true,
        optimizer: {name: sgd, lr: 0.1, momentum: 0.9, weight_decay: 0}}
""", 2),
}
SPACE = [("train.optimizer.lr", "log", 1e-4, 1.0),
         ("train.optimizer.momentum", "float", 0.0, 0.99),
         ("train.optimizer.weight_decay", "log", 1e-6, 1e-1),
         ("train.batch_size", "int", 4, 64)]


def search_yaml(method, trials, batch):
    kinds = {"log": "log_uniform", "float": "uniform", "int": "int"}
    params = "\n".join("      %s: {%s: [%r, %r]}" % (k, kinds[t], lo, hi) for k, t, lo, hi in SPACE)
    return ("sweep:\n  search:\n    method: %s\n    trials: %d\n    batch: %d\n    startup: 10\n"
            "    metric: val_loss\n    params:\n%s\n" % (method, trials, batch, params))


def val_losses(run_dir):
    with h5py.File(os.path.join(run_dir, "index.h5"), "r") as f:
        s = f["summary"][()]
    out = np.full(len(s), np.inf)
    for r in s:
        v = float(r["final_val_loss"])
        if r["status"].decode() == "completed" and np.isfinite(v):
            out[int(r["trial"])] = v
    return out


def bprun_search(a, base, method, seed, work):
    cfg = os.path.join(work, "%s-%d.yaml" % (method, seed))
    with open(cfg, "w") as f:
        f.write(base + search_yaml(method, a.trials, a.batch))
    out = os.path.join(work, "%s-%d" % (method, seed))
    r = subprocess.run([a.bprun, "run", cfg, "-o", out, "--quiet", "--set", "seed=%d" % seed,
                        "--force"], stdout=subprocess.DEVNULL)
    if r.returncode not in (0, 1):  # 1: some trial diverged or failed (the worst value)
        raise SystemExit("bench-search: bprun run %s exited %d" % (cfg, r.returncode))
    return val_losses(out)


def optuna_search(a, base, seed, work):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    cfg = os.path.join(work, "optuna-base.yaml")
    with open(cfg, "w") as f:
        f.write(base)
    out = os.path.join(work, "optuna-trial")

    def objective(trial):
        sets = ["--set", "seed=%d" % seed]
        for k, t, lo, hi in SPACE:
            if t == "int":
                v = trial.suggest_int(k, lo, hi)
            else:
                v = trial.suggest_float(k, lo, hi, log=(t == "log"))
            sets += ["--set", "%s=%r" % (k, v)]
        r = subprocess.run([a.bprun, "run", cfg, "-o", out, "--quiet", "--force"] + sets,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        v = val_losses(out)[0] if os.path.exists(os.path.join(out, "index.h5")) else np.inf
        return float(v) if r.returncode in (0, 1) else float("inf")

    st = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    st.optimize(objective, n_trials=a.trials)
    return np.array([t.value if t.value is not None else np.inf for t in st.trials])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bprun", required=True)
    ap.add_argument("--data", required=True, help="the folder of iris.h5 and fashion-mnist.h5")
    ap.add_argument("--task", choices=sorted(TASKS), default="iris")
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--csv", metavar="FILE", help="write every best-so-far curve here")
    ap.add_argument("--work")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="bprun-bench-search.")
    os.makedirs(work, exist_ok=True)
    base = TASKS[a.task][0] % {"data": os.path.abspath(a.data)}
    curves = {m: [] for m in ("bprun random", "bprun tpe", "optuna tpe")}
    for s in range(1, a.seeds + 1):
        curves["bprun random"].append(np.minimum.accumulate(bprun_search(a, base, "random", s, work)))
        curves["bprun tpe"].append(np.minimum.accumulate(bprun_search(a, base, "tpe", s, work)))
        curves["optuna tpe"].append(np.minimum.accumulate(optuna_search(a, base, s, work)))
        print("seed %d: best after %d trials: %s" % (s, a.trials, ", ".join(
            "%s %.4f" % (m, c[-1][-1]) for m, c in curves.items())), file=sys.stderr, flush=True)
    ns = sorted(set([5, 10, 15, 20, 30, 40, 50, a.trials]) & set(range(1, a.trials + 1)))
    print("%s: median (min-max) over %d seeds of the best val_loss after n trials; bprun batch %d"
          % (a.task, a.seeds, a.batch))
    print("| n | " + " | ".join(curves) + " |")
    print("|---|" + "---|" * len(curves))
    for n in ns:
        cells = []
        for m, cs in curves.items():
            v = np.array([c[n - 1] for c in cs])
            cells.append("%.4f (%.4f-%.4f)" % (np.median(v), v.min(), v.max()))
        print("| %d | %s |" % (n, " | ".join(cells)))
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("method,seed,trial,best_so_far\n")
            for m, cs in curves.items():
                for s, c in enumerate(cs, 1):
                    for i, v in enumerate(c):
                        f.write("%s,%d,%d,%.17g\n" % (m, s, i, v))
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
