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
# a different seed gives a different result (the digest is not constant)
run_bprun 0 run "$T/c.yaml" -o "$T/s6" --set seed=6 --quiet || finish
d4=$("$PYTHON_H5" "$BP_SRCDIR/tests/h5check.py" digest "$T/s6/trials/0000.h5")
[ "$d1" != "$d4" ] || fail "seed has no effect"
finish
