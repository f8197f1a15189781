#!/bin/sh
# sweep.hyperband (docs/SEARCH.md): on 17 random points of a small spirals net (max_epochs 9,
# eta 3: brackets of 9, 5 and 3 points) the statuses, epochs and per-epoch values are those of
# Hyperband replayed in Python on a full run of the same points; every trial's values are the
# full run's up to where it stopped (promotions continue, never retrain); -j 1, -j 2, shards
# 1/2 + 2/2 (and mpirun -np 2 when built with MPI) give the same trial files; the best point of
# the full run survives; a resumed run gives the same files; misuses are one-line errors.
. "$BP_SRCDIR/tests/lib.sh"
need_python
py="$PYTHON_H5 $BP_SRCDIR/tests/h5check.py"
cd "$T" || exit 1
write_config full.yaml <<'YAML'
experiment: hb
seed: 5
data: {train: "builtin:spirals", validation: 0.25, standardize: true}
model: {layers: [2, 16, 1], activation: tanh, output: sigmoid, loss: binary_cross_entropy}
train: {epochs: 9, batch_size: 16, optimizer: {name: sgd, lr: 0.1}}
sweep:
  random:
    trials: 17
    params:
      train.optimizer.lr: {log_uniform: [0.001, 0.05]}
YAML
cat full.yaml >hb.yaml
echo '  hyperband: {max_epochs: 9, eta: 3, metric: val_loss}' >>hb.yaml
run_bprun 0 run full.yaml -o full -t 1 --quiet || finish
run_bprun 0 run hb.yaml -o j1 -t 1 -j 1 --quiet || finish
run_bprun 0 run hb.yaml -o j2 -t 1 -j 2 --quiet || finish
"$BPRUN" run hb.yaml -o sh --shard 1/2 -t 1 --quiet >s1.out 2>s1.err &
p1=$!
run_bprun 0 run hb.yaml -o sh --shard 2/2 -t 1 --quiet || fail "shard 2/2: $(cat "$T/err")"
wait "$p1" || fail "shard 1/2: $(cat s1.err)"
dirs="j2 sh"
if [ -n "${BP_MPIRUN:-}" ]; then
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader \
    OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_hwloc_base_binding_policy=none \
    "$BP_MPIRUN" --oversubscribe -np 2 -x BPRUN_PLUGIN_PATH -x OMP_WAIT_POLICY "$BPRUN" run hb.yaml -o np2 -t 1 -q >np2.out 2>np2.err ||
    fail "mpirun -np 2: $(cat np2.err)"
  dirs="$dirs np2"
fi
for d in $dirs; do
  for f in j1/index.h5 j1/trials/*.h5; do
    $py same "$f" "$d/${f#j1/}" >&2 || fail "$d: ${f#j1/} differs from -j 1's"
  done
done
# Hyperband (Li et al. 2018, Algorithm 1) replayed on the full run's val_loss
"$PYTHON_H5" - full j1 <<'PY' || fail "hyperband decisions"
import sys, h5py, numpy as np
full, run = sys.argv[1], sys.argv[2]
def f(d, t): return h5py.File("%s/trials/%04d.h5" % (d, t), "r")
R, eta = 9, 3
vl = {t: f(full, t)["epochs/val_loss"][()] for t in range(17)}
s_max = 2
expect, first = {}, 0
for s in range(s_max, -1, -1):
    n = -(-(s_max + 1) * eta ** s // (s + 1))
    play = list(range(first, first + n))
    first += n
    for i in range(s + 1):
        r = R // eta ** (s - i)
        if i == s:
            for t in play:
                expect[t] = ("completed", R)
            break
        keep = max(1, (n // eta ** i) // eta)
        ranked = sorted(play, key=lambda t: (vl[t][r - 1], t))
        for t in ranked[keep:]:
            expect[t] = ("pruned", r)
        play = sorted(ranked[:keep])
assert first == 17 and len(expect) == 17, (first, expect)
for t in range(17):
    h = f(run, t)
    got = (h.attrs["status"], int(h.attrs["epochs_done"]))
    assert got == expect[t], (t, got, expect[t])
    e = got[1]
    for c in h["epochs"]:
        if c != "seconds":
            assert (h["epochs"][c][()] == f(full, t)["epochs"][c][()][:e]).all(), (t, c)
    if got[0] == "pruned":
        assert h.attrs["message"].startswith("pruned at epoch %d (bracket s=" % e), h.attrs["message"]
# the best point of the full run (lowest final val_loss; plain SGD with small rates ranks the
# points the same at every epoch here) survives its bracket
best = min(range(17), key=lambda t: (vl[t][-1], t))
assert expect[best][0] == "completed", (best, expect[best])
PY
# resumed: a completed trial's and a pruned trial's files gone, the same files again
st() { "$PYTHON_H5" -c 'import h5py,sys; print(h5py.File(sys.argv[1]).attrs["status"])' "$1"; }
c=$(for x in j1/trials/*.h5; do [ "$(st "$x")" = completed ] && { echo "$x"; break; }; done)
p=$(for x in j1/trials/*.h5; do [ "$(st "$x")" = pruned ] && { echo "$x"; break; }; done)
rm "$c" "$p"
run_bprun 0 run hb.yaml -o j1 -t 1 -j 2 --quiet || finish
for f in j2/index.h5 j2/trials/*.h5; do
  $py same "$f" "j1/${f#j2/}" >&2 || fail "resume: ${f#j2/} differs"
done
# misuses
expect_err 2 "bprun: hb.yaml:11:3: sweep.hyperband: max_epochs 9 and eta 3 draw 17 points (9 + 5 + 3 for brackets s = 2 .. 0), the sweep has 10; give the random block (or grid) exactly 17" \
  run hb.yaml -o bad --set sweep.random.trials=10
expect_err 2 "bprun: hb.yaml:11:3: sweep.hyperband: max_epochs 9 is the budget of a trial: train.epochs must equal it in every trial (trial 0 has 12)" \
  run hb.yaml -o bad --set train.epochs=12
expect_err 2 "bprun: --set:1:22: sweep.hyperband.max_epochs: must be >= eta (got 2, eta 3): with fewer epochs there is one bracket and nothing to prune" \
  run hb.yaml -o bad --set 'sweep.hyperband={eta: 3, max_epochs: 2}'
expect_err 2 "bprun: hb.yaml:11:3: sweep.hyperband: cannot be used with sweep.halving" \
  run hb.yaml -o bad --set 'sweep.halving={rungs: [3]}'
expect_err 2 "bprun: --trial 3: the sweep uses sweep.hyperband, whose decisions need every trial; run the whole sweep" \
  run hb.yaml -o bad --trial 3
expect_err 2 "bprun: hb.yaml:11:46: sweep.hyperband.metric: metric val_loss needs validation data (set data.validation, or use metric: loss)" \
  run hb.yaml -o bad --set data.validation=0
[ -e bad ] && fail "a refused run created its folder"
finish
