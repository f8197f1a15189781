"""bench.py - the Python part of scripts/bench: workloads W1-W4 of issue 6 for bprun, PyTorch
and FANN, repeated, printed as one table of medians, min-max and ratios (bprun / peer).

Run it through scripts/bench (which finds the python with torch and h5py and compiles the FANN
program). Timing: bprun = the trial's wall_seconds attribute (model set-up, every epoch with its
per-epoch HDF5 logging, final evaluation and save; not process start nor dataset load), except W4
= wall time of the whole `bprun run` process; PyTorch = its training loop (time.perf_counter
around the epochs, data already in tensors), W4 = wall time of the worker processes; FANN = its
training loop.
"""
import argparse
import shutil
import json
import math
import os
import statistics
import subprocess
import sys
import time

import h5py
import numpy as np

# ---------------------------------------------------------------- workload configs

W1 = """experiment: w1
seed: 3
data: {train: builtin:xor}
model: {layers: [2, 2, 1], activation: sigmoid, output: sigmoid, loss: mse,
        init: {scheme: uniform, range: 1.0}}
train: {epochs: %(epochs)d, batch_size: 1, shuffle: false, optimizer: {name: sgd, lr: 0.5}}
"""

W2 = """experiment: w2
seed: 1
data: {train: %(data)s}
model: {layers: [64, 128, 10], activation: sigmoid, output: softmax, loss: cross_entropy}
train: {epochs: %(epochs)d, batch_size: 32, shuffle: true, optimizer: %(opt)s}
"""

W3 = """experiment: w3
seed: 1
data: {train: %(data)s}
model: {layers: [784, 256, 128, 10], activation: relu, output: softmax, loss: cross_entropy,
        init: he_uniform}
train: {epochs: %(epochs)d, batch_size: %(batch)d, shuffle: true,
        optimizer: {name: sgd, lr: 0.01, momentum: 0.9}}
"""

W4_LRS = [10 ** (-3 + 3 * i / 15) for i in range(16)]

# W5: restarts of W1's net (the workload of distinct-minima diagnostics and of repeats), and the
# growth rows: many 10-epoch XOR trials, where the bookkeeping per trial is what is measured
W5 = W1 + """sweep: {repeats: %(repeats)d}
"""

W4 = W2 + """sweep:
  grid:
    train.optimizer.lr: [%(lrs)s]
"""


def w2_data(path):
    """1797 x 64 features (sklearn's digits shape), 10 classes, from a fixed seed: class means
    plus noise, so the task is learnable."""
    if os.path.exists(path):
        return
    rng = np.random.default_rng(1797)
    y = rng.integers(0, 10, 1797).astype(np.int32)
    means = rng.uniform(0, 16, (10, 64))
    X = (means[y] + rng.normal(0, 4, (1797, 64))).clip(0, 16) / 16
    with h5py.File(path + ".part", "w") as f:
        f["X"] = X.astype(np.float32)
        f["y"] = y
        f["y"].attrs["n_classes"] = 10
    os.replace(path + ".part", path)
    with open(path[:-3] + ".fann", "w") as f:  # the same data in FANN's text format
        f.write("1797 64 10\n")
        for xi, yi in zip(X, y):
            f.write(" ".join("%.7g" % v for v in xi) + "\n")
            f.write(" ".join("1" if k == yi else "0" for k in range(10)) + "\n")


# ---------------------------------------------------------------- runners


def run(cmd, env=None):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if p.returncode != 0:
        sys.exit("bench: %s failed (%d):\n%s%s" % (" ".join(cmd), p.returncode, p.stdout,
                                                   p.stderr))
    return p.stdout


def bprun_trial(a, cfg_text, name, threads, loop=None):
    """The trial's wall_seconds; with a list `loop`, also appends the sum of its epochs/seconds
    column (every epoch's training and per-epoch logging, without the trial file's creation,
    final save and fsyncs)."""
    cfg = os.path.join(a.work, name + ".yaml")
    with open(cfg, "w") as f:
        f.write(cfg_text)
    out = os.path.join(a.work, "runs", name)
    run([a.bprun, "run", cfg, "-o", out, "--force", "-q", "--threads", str(threads)])
    with h5py.File(os.path.join(out, "trials", "0000.h5"), "r") as f:
        if loop is not None:
            loop.append(float(np.sum(f["epochs/seconds"][()])))
        return float(f.attrs["wall_seconds"])


def bprun_sweep(a, cfg_text, name):
    cfg = os.path.join(a.work, name + ".yaml")
    with open(cfg, "w") as f:
        f.write(cfg_text)
    out = os.path.join(a.work, "runs", name)
    t0 = time.perf_counter()
    run([a.bprun, "run", cfg, "-o", out, "--force", "-q", "--threads", "2"])
    return time.perf_counter() - t0


def bprun_many(a, cfg_text, name, jobs=2):
    """Wall seconds of a whole `bprun run -j jobs` (every trial file, the index, group commit),
    the files it created and their bytes."""
    cfg = os.path.join(a.work, name + ".yaml")
    with open(cfg, "w") as f:
        f.write(cfg_text)
    out = os.path.join(a.work, "runs", name)
    if os.path.exists(out):
        shutil.rmtree(out)
    t0 = time.perf_counter()
    run([a.bprun, "run", cfg, "-o", out, "-q", "-j", str(jobs), "--threads", str(jobs)])
    t = time.perf_counter() - t0
    files = [os.path.join(out, "trials", x) for x in os.listdir(os.path.join(out, "trials"))]
    size = sum(os.path.getsize(x) for x in files)
    shutil.rmtree(out)
    return t, len(files), size


def torch_run(a, spec, threads):
    """spec: dict for bench_torch(); run in a fresh process with `threads` (0: torch default)."""
    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    spec = dict(spec, threads=threads)
    out = run([sys.executable, os.path.abspath(__file__), "--torch-worker", json.dumps(spec)],
              env=env)
    return float(out.split()[-1])


def bench_torch(spec):
    import torch
    if spec["threads"]:
        torch.set_num_threads(spec["threads"])
    torch.manual_seed(1)
    w = spec["w"]
    if w == "w1":
        X = torch.tensor([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])
        Y = torch.tensor([[0.], [1.], [1.], [0.]])
        net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sigmoid(),
                                  torch.nn.Linear(2, 1), torch.nn.Sigmoid())
        opt = torch.optim.SGD(net.parameters(), lr=0.5)
        t0 = time.perf_counter()
        for _ in range(spec["epochs"]):
            for i in range(4):
                opt.zero_grad()
                loss = 0.5 * ((net(X[i:i + 1]) - Y[i:i + 1]) ** 2).sum()
                loss.backward()
                opt.step()
        return time.perf_counter() - t0
    with h5py.File(spec["file"], "r") as f:
        X = torch.from_numpy(f[spec["group"] + "/X"][...].astype(np.float32))
        y = torch.from_numpy(f[spec["group"] + "/y"][...].astype(np.int64))
    if w == "w2":
        net = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.Sigmoid(),
                                  torch.nn.Linear(128, 10))
    else:
        net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                  torch.nn.Linear(256, 128), torch.nn.ReLU(),
                                  torch.nn.Linear(128, 10))
    if spec["opt"] == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=spec["lr"])
    else:
        opt = torch.optim.SGD(net.parameters(), lr=spec["lr"], momentum=spec.get("momentum", 0))
    lossf = torch.nn.CrossEntropyLoss()
    n, b = X.shape[0], spec["batch"]
    t0 = time.perf_counter()
    for _ in range(spec["epochs"]):
        perm = torch.randperm(n)
        for s in range(0, n, b):
            idx = perm[s:s + b]
            opt.zero_grad()
            loss = lossf(net(X[idx]), y[idx])
            loss.backward()
            opt.step()
    return time.perf_counter() - t0


def torch_sweep_worker(spec):
    """W4 for PyTorch: this process trains its share of the 16 learning rates, 1 thread."""
    total = 0.0
    for lr in spec["lrs"]:
        total += bench_torch(dict(spec, lr=lr))
    return total


def torch_sweep(a, spec):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    t0 = time.perf_counter()
    procs = []
    for k in range(2):
        s = dict(spec, lrs=W4_LRS[k::2], threads=1, sweep=True)
        procs.append(subprocess.Popen([sys.executable, os.path.abspath(__file__),
                                       "--torch-worker", json.dumps(s)],
                                      stdout=subprocess.PIPE, env=env))
    for p in procs:
        p.communicate()
        if p.returncode:
            sys.exit("bench: torch sweep worker failed")
    return time.perf_counter() - t0


def fann_run(a, args):
    out = run([a.fann] + [str(x) for x in args])
    return float(out.split()[-1])


# ---------------------------------------------------------------- table


def stats(xs):
    return statistics.median(xs), min(xs), max(xs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bprun")
    ap.add_argument("--fann", default="")
    ap.add_argument("--work")
    ap.add_argument("--fashion")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--bprun-only", action="store_true")
    ap.add_argument("--only", default="W1,W2,W3,W4,W5")
    ap.add_argument("--torch-worker")
    a = ap.parse_args()
    if a.torch_worker:
        spec = json.loads(a.torch_worker)
        print(torch_sweep_worker(spec) if spec.get("sweep") else bench_torch(spec))
        return
    only = a.only.split(",")
    os.makedirs(a.work, exist_ok=True)
    d2 = os.path.join(a.work, "w2.h5")
    w2_data(d2)
    q = a.quick
    e1 = 2000 if q else 10000
    e2 = 10 if q else 50
    e3 = 3 if a.full else 1  # the issue says 3; samples/s barely depends on it
    e4 = 10 if q else 50
    R = a.repeats
    rows = []  # (workload, system, unit, values, higher_is_better)
    notes = []  # lines printed under the table

    def rep(f):
        return [f() for _ in range(R)]

    def peer(f):  # a peer's runs; none with --bprun-only
        return [] if a.bprun_only else rep(f)

    def add(wl, system, unit, vals):
        if vals:
            rows.append((wl, system, unit, vals))

    if "W1" in only:
        n = 4 * e1
        loop = []
        add("W1", "bprun (1 thread)", "samples/s",
            [n / t for t in rep(lambda: bprun_trial(a, W1 % {"epochs": e1}, "w1", 1, loop))])
        add("W1", "bprun (1 thread), epoch loop", "samples/s", [n / t for t in loop])
        # PyTorch runs a tenth of the epochs (per-sample cost does not depend on the count)
        add("W1", "PyTorch (1 thread, epochs/10)", "samples/s",
            [n / 10 / t for t in peer(lambda: torch_run(a, {"w": "w1", "epochs": e1 // 10}, 1))])
        if a.fann:
            add("W1", "FANN incremental", "samples/s",
                [n / t for t in peer(lambda: fann_run(a, ["xor", e1]))])

    if "W2" in only:
        n = 1797 * e2
        for opt, ospec, lr in (("SGD", "{name: sgd, lr: 0.1}", 0.1),
                               ("Adam", "{name: adam, lr: 0.001}", 0.001)):
            cfg = W2 % {"data": d2, "epochs": e2, "opt": ospec}
            add("W2 " + opt, "bprun (2 threads)", "samples/s",
                [n / t for t in rep(lambda: bprun_trial(a, cfg, "w2", 2))])
            spec = {"w": "w2", "file": d2, "group": "", "epochs": e2, "batch": 32,
                    "opt": opt.lower(), "lr": lr}
            for th, label in ((0, "PyTorch (default threads)"), (1, "PyTorch (1 thread)"),
                              (2, "PyTorch (2 threads)")):
                add("W2 " + opt, label, "samples/s",
                    [n / t for t in peer(lambda: torch_run(a, spec, th))])
        if a.fann:
            add("W2 SGD", "FANN incremental (batch 1, MSE: not the same task)", "samples/s",
                [n / t for t in peer(lambda: fann_run(a, ["w2", e2, d2[:-3] + ".fann"]))])

    if "W3" in only:
        n = 60000 * e3
        for b in (256, 64):
            for th in (1, 2):
                cfg = W3 % {"data": a.fashion + "#/train", "epochs": e3, "batch": b}
                add("W3 b%d" % b, "bprun (%d thread%s)" % (th, "s" if th > 1 else ""),
                    "samples/s", [n / t for t in rep(lambda: bprun_trial(a, cfg, "w3", th))])
            spec = {"w": "w3", "file": a.fashion, "group": "/train", "epochs": e3, "batch": b,
                    "opt": "sgd", "lr": 0.01, "momentum": 0.9}
            for th, label in ((0, "PyTorch (default threads)"), (1, "PyTorch (1 thread)"),
                              (2, "PyTorch (2 threads)")):
                add("W3 b%d" % b, label, "samples/s",
                    [n / t for t in peer(lambda: torch_run(a, spec, th))])

    if "W5" in only:
        n5 = 200 if q else 1000
        e5 = 2000
        w5 = [bprun_many(a, W5 % {"epochs": e5, "repeats": n5}, "w5") for _ in range(R)]
        add("W5", "bprun (-j 2, all logging)", "seconds", [t for t, _, _ in w5])
        if a.fann:
            add("W5", "FANN fann_train_on_data loop (1 core, no output)", "seconds",
                peer(lambda: fann_run(a, ["w5", e5, n5])))
        t5, files5, bytes5 = w5[-1]
        notes.append("W5: %d restarts x %d epochs; %d trial files, %.1f KB per trial file"
                     % (n5, e5, files5, bytes5 / files5 / 1024))

    if "GROWTH" in only or "W5" in only:
        small, large = (100, 800) if q else (500, 4000)
        times = {}
        for k in (small, large):
            v = [bprun_many(a, W5 % {"epochs": 10, "repeats": k}, "g%d" % k) for _ in range(R)]
            times[k] = statistics.median(t for t, _, _ in v)
            add("growth", "bprun, %d trials of 10 epochs (-j 2)" % k, "seconds",
                [t for t, _, _ in v])
        notes.append("growth: time(%d trials) / time(%d trials) = %.2f (linear: %.1f); "
                     "%.3f ms per trial at %d" % (large, small, times[large] / times[small],
                                                  large / small, 1e3 * times[large] / large,
                                                  large))
        big = 10000 if q else 100000
        t, files, size = bprun_many(a, W5 % {"epochs": 10, "repeats": big}, "g%d" % big)
        add("growth", "bprun, %d trials of 10 epochs (-j 2)" % big, "seconds", [t])
        notes.append("%d trials: %.1f s, %.0f trials/s, %.3f ms per trial, %d files, %.1f KB "
                     "per trial file" % (big, t, big / t, 1e3 * t / big, files,
                                         size / files / 1024))

    if "SCALING" in only:
        scaling(a, R, e3)
        return

    if "W4" in only:
        lrs = ", ".join("%.6g" % v for v in W4_LRS)
        cfg = W4 % {"data": d2, "epochs": e4, "opt": "{name: sgd, lr: 0.1}", "lrs": lrs}
        add("W4", "bprun (-t 2, whole process)", "seconds", rep(lambda: bprun_sweep(a, cfg, "w4")))
        spec = {"w": "w2", "file": d2, "group": "", "epochs": e4, "batch": 32, "opt": "sgd"}
        add("W4", "PyTorch (2 processes x 1 thread)", "seconds", peer(lambda: torch_sweep(a, spec)))

    print_table(rows, a, dict(e1=e1, e2=e2, e3=e3, e4=e4))
    if notes:
        print()
        for line in notes:
            print("- " + line)


def fmt(v):
    if v >= 1e6:
        return "%.2fM" % (v / 1e6)
    if v >= 1e3:
        return "%.1fk" % (v / 1e3)
    return "%.3g" % v


def scaling(a, R, e3):
    """W3 b256 at 1, 2, 4, 8, 16 threads (as far as the machine has cores): samples/s of the
    trial's wall time, speedup and parallel efficiency against 1 thread."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    n = 60000 * e3
    cfg = W3 % {"data": a.fashion + "#/train", "epochs": e3, "batch": 256}
    print("W3 b256, %d epoch(s), %d repeats, %d cores; OMP_WAIT_POLICY=%s; load average "
          "before: %s" % (e3, R, cores, os.environ.get("OMP_WAIT_POLICY", "(unset)"),
                          " ".join("%.2f" % x for x in os.getloadavg())))
    print()
    print("| threads | samples/s median | min - max | speedup | efficiency |")
    print("|---|---|---|---|---|")
    base = None
    for th in (1, 2, 4, 8, 16):
        if th > cores:
            break
        vals = [n / t for t in [bprun_trial(a, cfg, "w3s", th) for _ in range(R)]]
        med, lo, hi = stats(vals)
        base = base or med
        print("| %d | %s | %s - %s | %.2fx | %.0f%% |" % (th, fmt(med), fmt(lo), fmt(hi),
                                                        med / base, 100 * med / base / th))
        sys.stdout.flush()


def print_table(rows, a, ep):
    print("epochs: W1 %(e1)d, W2 %(e2)d, W3 %(e3)d, W4 %(e4)d; " % ep +
          "repeats %d; load average before: %s" % (a.repeats, " ".join(
              "%.2f" % x for x in os.getloadavg())))
    print()
    print("| workload | system | unit | median | min - max | bprun / this |")
    print("|---|---|---|---|---|---|")
    best = {}
    fann = {}
    for wl, system, unit, vals in rows:
        if system.startswith("bprun") and "epoch loop" not in system:
            best.setdefault(wl, []).append(statistics.median(vals))
        if system.startswith("FANN") and "not the same" not in system:
            fann[wl] = statistics.median(vals)
    for wl, system, unit, vals in rows:
        med, lo, hi = stats(vals)
        if "epoch loop" in system:  # its own ratio, against FANN's training loop
            ratio = "%.2fx FANN" % (med / fann[wl]) if wl in fann else ""
        elif system.startswith("bprun"):
            ratio = ""
        else:
            b = best.get(wl)
            if not b or "not the same" in system:
                ratio = "n/c"
            elif unit == "seconds":  # lower is better: peer time / bprun time
                ratio = "%.2fx" % (med / min(b))
            else:  # bprun's best thread count against this peer
                ratio = "%.2fx" % (max(b) / med)
        print("| %s | %s | %s | %s | %s - %s | %s |" % (wl, system, unit, fmt(med), fmt(lo),
                                                        fmt(hi), ratio))


if __name__ == "__main__":
    main()
