"""lrfind-check: is bprun lr-find's suggestion the best rate of a short sweep? (docs/LRFIND.md)

usage: python3 scripts/lrfind-check.py BPRUN OUT_DIR [TASK]...
  TASK: xor, iris, spirals, fashion (default: all four; iris and fashion need data/iris.h5 and
  data/fashion-mnist.h5: make data)

For each task: run `bprun lr-find CONFIG --steps N` (a task-appropriate number of steps); its
paired sweep trains E epochs per rate (E: the range test's epochs, lr-find's default). Then, independently, a
`bprun run` sweep of the learning rate on a grid of 10^(k/4) (factor 1.78) from 1e-4 to 10,
E epochs per trial, REPEATS seeds per rate (the config's seed and the next ones: other initial
weights and sample orders than lr-find saw), and the best rate = the lowest mean final
training loss over the seeds (a diverged trial counts as +inf). The check: the suggestion a is
within a factor 3 of that best rate, which is what the printed sweep a/3, a, 3a brackets.
Prints one line per task and exits 1 when a task fails the check.
Needs Python 3 with numpy and h5py.
"""
import math
import os
import subprocess
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
TASKS = {
    # name: (config, lr-find steps, epochs per rate (the range test's epochs: lr-find's
    # default), repeats of the check sweep, overrides of both)
    "xor": ("configs/xor.yaml", 400, 100, 5, []),
    "iris": ("configs/iris.yaml", 400, 50, 3, []),
    "spirals": ("configs/spirals.yaml", 300, 300, 3, []),
    # one epoch of 938 batches of 64 (60,000 training rows); a constant lr: the question is
    # the rate, and the config's cosine schedule needs more epochs than one
    "fashion": ("configs/fashion-mnist.yaml", 938, 1, 2, ["train.schedule=constant"]),
}
GRID = [10 ** (k / 4) for k in range(-16, 5)]


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode not in (0, 1):
        sys.exit("lrfind-check: %s exited %d: %s" % (" ".join(cmd), p.returncode, p.stderr))
    return p.stdout


def check(bprun, out, name):
    cfg, steps, epochs, repeats, sets = TASKS[name]
    cfg = os.path.join(SRC, cfg)
    sets = [a for kv in sets for a in ("--set", kv)]
    lf = os.path.join(out, name + "-lr-find.h5")
    text = run([bprun, "lr-find", cfg, "--steps", str(steps), "-o", lf, "--force"] + sets)
    with h5py.File(lf, "r") as f:
        a = float(f.attrs["suggested_lr"])
    line = next(l for l in text.splitlines() if l.startswith("sweep: --sweep"))
    printed = [float(v) for v in line.split("=", 1)[1].split(",")]
    rdir = os.path.join(out, name + "-sweep")
    subprocess.run(["rm", "-rf", rdir], check=True)
    run([bprun, "run", cfg, "-o", rdir, "--quiet", "--set", "train.epochs=%d" % epochs,
         "--set", "sweep.repeats=%d" % repeats, "--set", "train.early_stopping=null"] + sets + [
         "--sweep", "train.optimizer.lr=" + ",".join("%.6g" % g for g in GRID)])
    with h5py.File(os.path.join(rdir, "index.h5"), "r") as f:
        s = f["summary"][()]
    # trial id = point * repeats + repeat (docs/CONFIG.md); point k is GRID[k]
    loss = {}
    for r in s:
        k = int(r["trial"]) // repeats
        v = float(r["final_loss"])
        st = r["status"].decode() if isinstance(r["status"], bytes) else str(r["status"])
        loss.setdefault(k, []).append(v if st == "completed" and math.isfinite(v) else math.inf)
    mean = {k: float(np.mean(v)) for k, v in loss.items()}
    kb = min(mean, key=lambda k: (mean[k], k))
    best = float("%.6g" % GRID[kb])
    ratio = a / best
    ok = 1 / 3 * (1 - 1e-9) <= ratio <= 3 * (1 + 1e-9)
    brackets = printed[0] * (1 - 5e-3) <= best <= printed[2] * (1 + 5e-3)
    print("%-8s  steps %-5d  epochs/rate %-4d  suggested %-9.3g  sweep best %-9.3g (mean loss "
          "%.4g over %d seeds)  ratio %-6.3g  printed sweep [%s] %s  %s"
          % (name, steps, epochs, a, best, mean[kb], repeats, ratio, ", ".join("%.3g" % v for v in printed),
             "brackets it" if brackets else "MISSES it", "ok" if ok and brackets else "FAIL"))
    return ok and brackets


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    bprun, out = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or list(TASKS)
    os.makedirs(out, exist_ok=True)
    bad = [n for n in names if n not in TASKS]
    if bad:
        sys.exit("lrfind-check: unknown task %s (known: %s)" % (bad[0], ", ".join(TASKS)))
    good = [check(bprun, out, n) for n in names]
    sys.exit(0 if all(good) else 1)


main()
