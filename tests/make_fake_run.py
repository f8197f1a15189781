"""Writes a synthetic bprun sweep run folder (docs/FORMAT.md layout) for tests/plot.sh.

make_fake_run.py DIR [--layout grid|map] [--repeats R] [--lrs N] [--epochs E] [--val]
                     [--diagnostics] [--running] [--target T] [--verdicts]

grid: axes train.optimizer.name x train.optimizer.lr (sgd, adam) x N learning rates x R
repeats; map: one axis train.optimizer whose values are maps {name: ..., lr: ...}. The sgd
trial at the largest rate, first repeat, diverges (inf loss at epoch E/3). --val writes finite
val_loss/val_accuracy; --diagnostics adds grad_norm, weight_norm, update_ratio and a 2-D
saturation column (epochs x 2 layers); --running leaves out index.h5 and leaves the last trial
as a .part file with status running and half its epochs. --target T sets train.target_loss: a
trial stops at the first epoch whose loss is <= T (its epochs_to_target, else -1), so repeats
have different lengths. --verdicts gives trial i the verdict attribute minimum, plateau or saddle
(i mod 3).
"""
import argparse
import os

import h5py
import numpy as np

STR = h5py.string_dtype("utf-8")


def lr_text(lr):
    return "%g" % lr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--layout", choices=("grid", "map"), default="grid")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--lrs", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--val", action="store_true")
    ap.add_argument("--diagnostics", action="store_true")
    ap.add_argument("--running", action="store_true")
    ap.add_argument("--target", type=float)
    ap.add_argument("--verdicts", action="store_true")
    a = ap.parse_args()

    lrs = [10.0 ** (-3 + 3.0 * i / max(a.lrs - 1, 1)) for i in range(a.lrs)]
    points = [(opt, lr) for opt in ("sgd", "adam") for lr in lrs]
    trials = [(p, r) for p in points for r in range(a.repeats)]
    os.makedirs(os.path.join(a.dir, "trials"), exist_ok=True)
    base = ("experiment: fake-sweep\nseed: %d\ndata:\n  train: builtin:xor\nmodel:\n"
            "  layers: [2, 3, 1]\n  loss: mse\ntrain:\n  epochs: %d\n"
            "  optimizer: {name: %s, lr: %s}\noutput: runs\n")
    rows, params = [], []
    if a.target is not None:  # inside the train: block, before output:
        base = base.replace("output:", "  target_loss: %g\noutput:" % a.target)
    rng = np.random.default_rng(7)
    for tid, ((opt, lr), rep) in enumerate(trials):
        seed = 1000 + tid
        e = np.arange(1, a.epochs + 1, dtype=np.float64)
        speed = (lr if opt == "sgd" else 30 * lr) ** 0.7 * 0.3
        floor = 0.002 * (1 + rep) + (0.05 if opt == "adam" and lr > 0.5 else 0.0)
        loss = floor + 0.25 * np.exp(-speed * e) * (1 + 0.05 * rng.standard_normal(a.epochs))
        status = "completed"
        diverge = opt == "sgd" and lr == lrs[-1] and rep == 0
        if diverge:
            k = a.epochs // 3
            loss = loss[:k].copy()
            loss[k // 2:] = loss[k // 2] * np.exp(np.arange(k - k // 2))
            loss[-1] = np.inf
            e = e[:k]
            status = "diverged"
        to_target = 0
        if a.target is not None:
            hit = np.nonzero(loss <= a.target)[0]
            to_target = -1
            if len(hit) and status == "completed":
                to_target = int(hit[0]) + 1
                loss, e = loss[:to_target], e[:to_target]
        n = len(e)
        cols = {"epoch": e, "loss": loss,
                "accuracy": np.clip(1.0 - 2 * loss, 0, 1),
                "val_loss": loss * 1.2 + 0.01 if a.val else np.full(n, np.nan),
                "val_accuracy": np.clip(1 - 2.4 * loss, 0, 1) if a.val else np.full(n, np.nan),
                "lr": np.full(n, lr), "seconds": np.full(n, 0.01)}
        if a.diagnostics:
            cols["grad_norm"] = np.sqrt(loss) * 3
            cols["weight_norm"] = 1 + np.log1p(e * speed)
            cols["update_ratio"] = lr * cols["grad_norm"] / cols["weight_norm"]
            sat = np.clip(np.column_stack([e / (e[-1] + 5), e / (2 * e[-1] + 5)]) * lr, 0, 1)
        running = a.running and tid == len(trials) - 1
        if running:
            half = n // 2
            cols = {k: v[:half] for k, v in cols.items()}
            sat = sat[:half] if a.diagnostics else None
            status = "running"
        name = os.path.join(a.dir, "trials", "%04d.h5" % tid) + (".part" if running else "")
        with h5py.File(name, "w") as f:
            f.attrs["format_version"] = np.int32(1)
            f.attrs["trial"] = np.uint64(tid)
            f.attrs["seed"] = np.uint64(seed)
            f.attrs["status"] = status
            f.attrs["resolved_config"] = base % (seed, a.epochs, opt, lr_text(lr))
            if a.verdicts:
                f.attrs["verdict"] = ("minimum", "plateau", "saddle")[tid % 3]
            g = f.create_group("epochs")
            order = list(cols)
            if a.diagnostics:
                order.append("saturation")
            g.attrs["columns"] = np.array(order, dtype=STR)
            for k, v in cols.items():
                g.create_dataset(k, data=v, maxshape=(None,), chunks=(256,))
            if a.diagnostics:
                g.create_dataset("saturation", data=sat, maxshape=(None, 2), chunks=(256, 2))
        if running:
            continue
        vl = loss[-1] * 1.2 + 0.01 if a.val else np.nan
        rows.append((tid, seed, status.encode(), n, loss[-1], vl, cols["accuracy"][-1],
                     np.nan, vl, 0.5, np.nan, np.nan) +
                    ((to_target,) if a.target is not None else ()))
        if a.layout == "grid":
            params.append([opt, lr_text(lr)])
        else:
            params.append(["{name: %s, lr: %s}" % (opt, lr_text(lr))])
    if a.running:
        return
    dt = np.dtype([("trial", "<u4"), ("seed", "<u8"), ("status", "S16"), ("epochs", "<i4"),
                   ("final_loss", "<f8"), ("final_val_loss", "<f8"), ("final_accuracy", "<f8"),
                   ("final_val_accuracy", "<f8"), ("best_val_loss", "<f8"),
                   ("wall_seconds", "<f8"), ("final_test_loss", "<f8"),
                   ("final_test_accuracy", "<f8")] +
                  ([("epochs_to_target", "<i4")] if a.target is not None else []))
    axes = (["train.optimizer.name", "train.optimizer.lr"] if a.layout == "grid"
            else ["train.optimizer"])
    with h5py.File(os.path.join(a.dir, "index.h5"), "w") as f:
        f.attrs["format_version"] = np.int32(1)
        f.attrs["config"] = "experiment: fake-sweep\n"
        f.attrs["resolved_config"] = base % (1, a.epochs, "sgd", "0.1")
        f.attrs["sweep_hash"] = "0123456789abcdef"
        f.attrs["axes"] = np.array(axes, dtype=STR)
        f.attrs["n_trials"] = np.uint64(len(rows))
        f.create_dataset("summary", data=np.array(rows, dtype=dt))
        f.create_dataset("params", data=np.array(params, dtype=object), dtype=STR)
        g = f.create_group("trials")
        for r in rows:
            g["%04d" % r[0]] = h5py.ExternalLink("trials/%04d.h5" % r[0], "/")


if __name__ == "__main__":
    main()
