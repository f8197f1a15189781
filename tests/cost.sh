#!/bin/sh
# Per-trial cost records (docs/FORMAT.md): samples_per_second, peak_rss_bytes and work_bytes in
# the trial file, the same values in the index's /summary and in bprun report. The trial's
# working memory grows by exactly the batch workspace when the batch grows; BPRUN_KERNELS is
# checked and the kernels in use are named in the provenance; a parallel optimizer step that
# fails reports the plugin's message; a trial on one thread has no other thread beside it.
. "$BP_SRCDIR/tests/lib.sh"
need_python

write_config "$T/c.yaml" <<'YAML'
experiment: cost
seed: 3
data: {train: "builtin:encoder:16"}
model: {layers: [16, 32, 16], activation: sigmoid, output: sigmoid, loss: mse}
train: {epochs: 5, batch_size: 8, shuffle: true, optimizer: {name: sgd, lr: 0.5, momentum: 0.9}}
sweep: {grid: {train.batch_size: [8, 16]}}
YAML
run_bprun 0 run "$T/c.yaml" -o "$T/c" --quiet -j 1 || finish
"$PYTHON_H5" - "$T/c" <<'PY' || fail "cost records"
import sys, h5py
run = sys.argv[1]
idx = h5py.File(run + "/index.h5", "r")["summary"][()]
work = {}
for r in idx:
    t = int(r["trial"])
    f = h5py.File("%s/trials/%04d.h5" % (run, t), "r")
    a = f.attrs
    for k in ("samples_per_second", "peak_rss_bytes", "work_bytes"):
        assert r[k] == a[k], (t, k, r[k], a[k])
    # 5 epochs of 16 rows over the trial's wall time
    want = 5 * 16 / a["wall_seconds"]
    assert abs(a["samples_per_second"] - want) <= 1e-9 * want, (a["samples_per_second"], want)
    assert a["work_bytes"] > 0 and a["peak_rss_bytes"] > a["work_bytes"], dict(a)
    assert a["peak_rss_bytes"] > 1 << 20, a["peak_rss_bytes"]
    work[t] = a["work_bytes"]
# batch 8 -> 16 adds 8 rows of workspace: Z, A, D, f'(Z) of the 32- and 16-wide layers
# (4 x 48 floats), the gathered inputs and targets (16 + 16 floats), a label, a loss and a
# log-sum-exp (double each)
per_row = 4 * 48 * 4 + 16 * 4 + 16 * 4 + 4 + 8 + 8
assert work[1] - work[0] == 8 * per_row, (work, 8 * per_row)
PY
# bprun report shows them (text: samples/s, peak_rss, work_mem; csv and json: the numbers)
run_bprun 0 report "$T/c" || finish
head -n 3 "$T/out" | grep -q ' seconds  samples/s   peak_rss   work_mem$' || fail "report header: $(cat "$T/out")"
awk '$2 ~ /^000[01]$/ { if ($(NF-2) !~ /^[0-9]+$/ || $(NF-1) !~ /^[0-9.]+M$/ || $NF !~ /^[0-9.]+M$/) exit 1 }' "$T/out" || fail "report cost columns: $(cat "$T/out")"
run_bprun 0 report "$T/c" --format csv || finish
head -n 1 "$T/out" | grep -q ',seconds,samples_per_second,peak_rss_bytes,work_bytes$' || fail "csv header: $(head -n 1 "$T/out")"
run_bprun 0 report "$T/c" --format json || finish
"$PYTHON_H5" - "$T/c" "$T/out" <<'PY' || fail "json cost records"
import sys, json, h5py
rep = json.load(open(sys.argv[2]))
for r in rep["ranked"]:
    a = h5py.File("%s/trials/%04d.h5" % (sys.argv[1], r["trial"]), "r").attrs
    assert r["work_bytes"] == a["work_bytes"] and r["peak_rss_bytes"] == a["peak_rss_bytes"], r
    assert abs(r["samples_per_second"] - a["samples_per_second"]) <= 1e-9 * r["samples_per_second"], r
PY
# an elementwise optimizer steps on parameter slices across threads (65920 parameters: 5
# slices); a failing step ends the trial with the message of the first failing slice
write_config "$T/rp.yaml" <<'YAML'
experiment: rp
data: {train: "builtin:encoder:256"}
model: {layers: [256, 128, 256], output: sigmoid, loss: mse}
train: {epochs: 2, batch_size: full, optimizer: {name: rprop, step_size_min: 2, step_size_max: 1}}
YAML
for th in 1 2; do
  run_bprun 1 run "$T/rp.yaml" -o "$T/rp$th" --quiet --threads "$th" || finish
  grep -qx 'note: trial 0000 failed: optimizer rprop failed at epoch 1: rprop: step_size_min must not exceed step_size_max (got 2 > 1)' "$T/out" \
    || fail "failed note at $th threads: $(cat "$T/out")"
done
# the kernels: a bad BPRUN_KERNELS is refused; the one in use is in the provenance
BPRUN_KERNELS=fast expect_err 2 "bprun: BPRUN_KERNELS: expected 'builtin' or 'blas' (got 'fast') (in trial 0: train.batch_size=8)" run "$T/c.yaml" -o "$T/bad" --quiet
BPRUN_KERNELS=builtin run_bprun 0 run "$T/c.yaml" -o "$T/b" --quiet || finish
"$PYTHON_H5" - "$T/b/trials/0000.h5" "$T/c/trials/0000.h5" <<'PY' || fail "kernels in provenance"
import sys, h5py
p = [dict(l.split(": ", 1) for l in h5py.File(f, "r").attrs["provenance"].splitlines()) for f in sys.argv[1:3]]
assert p[0]["kernels"] == "builtin", p[0]["kernels"]
assert p[1]["kernels"] == "builtin" or p[1]["kernels"].startswith("blas: cblas_sgemm"), p[1]["kernels"]
PY
# a trial on one thread runs on one thread: OpenBLAS's pthread build starts idle workers when
# it is loaded (they spin on the trial's cores for ~0.1 s); bprun stops them at its first trial
if [ -d /proc/self/task ]; then
  write_config "$T/long.yaml" <<'YAML'
experiment: long
data: {train: "builtin:xor"}
model: {layers: [2, 2, 1], output: sigmoid, loss: mse}
train: {epochs: 100000000, batch_size: 1, shuffle: false, optimizer: {name: sgd, lr: 0.5}}
YAML
  : >"$T/long.err"
  "$BPRUN" run "$T/long.yaml" -o "$T/long" --threads 1 >/dev/null 2>>"$T/long.err" &
  pid=$!
  wait_training "$T/long.err"
  n=$(ls /proc/$pid/task | wc -l)
  kill $pid
  wait $pid
  [ "$n" = 1 ] || fail "a trial on --threads 1 ran with $n threads"
fi
finish
