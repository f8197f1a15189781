#!/bin/sh
# Same config, same results, bit for bit: 1, 2 and 3 threads (--threads and OMP_NUM_THREADS),
# on a model large enough for the kernels to run in parallel.
. "$BP_SRCDIR/tests/lib.sh"
need_python
write_config "$T/c.yaml" <<'YAML'
experiment: det
seed: 5
data: {train: "builtin:spirals", validation: 0.25, standardize: true}
model: {layers: [2, 96, 80, 1], activation: tanh, output: sigmoid, loss: binary_cross_entropy}
train: {epochs: 15, batch_size: 64, optimizer: {name: sgd, lr: 0.2, momentum: 0.9}}
YAML
run_bprun 0 run "$T/c.yaml" -o "$T/t1" --threads 1 --quiet || finish
run_bprun 0 run "$T/c.yaml" -o "$T/t2" --threads 2 --quiet || finish
OMP_NUM_THREADS=3 run_bprun 0 run "$T/c.yaml" -o "$T/t3" --quiet || finish
d1=$("$PYTHON_H5" "$BP_SRCDIR/tests/h5check.py" digest "$T/t1/trials/0000.h5")
d2=$("$PYTHON_H5" "$BP_SRCDIR/tests/h5check.py" digest "$T/t2/trials/0000.h5")
d3=$("$PYTHON_H5" "$BP_SRCDIR/tests/h5check.py" digest "$T/t3/trials/0000.h5")
[ -n "$d1" ] && [ "$d1" = "$d2" ] && [ "$d1" = "$d3" ] || fail "digests differ: $d1 $d2 $d3"
# and the recorded thread counts really differ
[ "$("$PYTHON_H5" "$BP_SRCDIR/tests/h5check.py" attr "$T/t2/trials/0000.h5" threads)" = 2 ] || fail "threads attr"
# a model with more parameters than one thread updates alone (opt_step shares them out by
# layer rows, train.c), on the CBLAS path where there is one, with momentum and with Adam
write_config "$T/w.yaml" <<'YAML'
experiment: det-wide
seed: 5
data: {train: "builtin:spirals", standardize: true}
model: {layers: [2, 256, 130, 1], activation: relu, output: sigmoid, loss: binary_cross_entropy}
train: {epochs: 4, batch_size: 48, optimizer: {name: sgd, lr: 0.05, momentum: 0.9}}
sweep: {grid: {train.optimizer: [{name: sgd, lr: 0.05, momentum: 0.9}, {name: adam, lr: 0.001}]}}
YAML
for th in 1 2 3; do
  run_bprun 0 run "$T/w.yaml" -o "$T/w$th" --threads "$th" -j 1 --quiet || finish
done
for k in 0000 0001; do
  w1=$("$PYTHON_H5" "$BP_SRCDIR/tests/h5check.py" digest "$T/w1/trials/$k.h5")
  w2=$("$PYTHON_H5" "$BP_SRCDIR/tests/h5check.py" digest "$T/w2/trials/$k.h5")
  w3=$("$PYTHON_H5" "$BP_SRCDIR/tests/h5check.py" digest "$T/w3/trials/$k.h5")
  [ -n "$w1" ] && [ "$w1" = "$w2" ] && [ "$w1" = "$w3" ] || fail "wide model, trial $k: digests differ: $w1 $w2 $w3"
done
# a different seed gives a different result (the digest is not constant)
run_bprun 0 run "$T/c.yaml" -o "$T/s6" --set seed=6 --quiet || finish
d4=$("$PYTHON_H5" "$BP_SRCDIR/tests/h5check.py" digest "$T/s6/trials/0000.h5")
[ "$d1" != "$d4" ] || fail "seed has no effect"
finish
