#!/bin/sh
# The bprun Python module (python/bprun.py, docs/PYTHON.md): read_run and read_epochs against
# `bprun report --format json`, the HDF5 files read with h5py, `--format csv --table epochs`,
# and a run still going (no index.h5, a .part trial); then `make install` into a DESTDIR puts
# the module under $(pythondir), where it imports from.
. "$BP_SRCDIR/tests/lib.sh"
# an interpreter with h5py, numpy and pandas: configure's PYTHON, else the usual places
PY=
for py in "${BP_PYTHON:-}" "${PYTHON_H5:-}" /usr/bin/python3 python3; do
  [ -n "$py" ] && [ "$py" != : ] || continue
  if "$py" -c 'import h5py, numpy, pandas' >/dev/null 2>&1; then PY=$py; break; fi
done
[ -n "$PY" ] || skip "no Python with h5py, numpy and pandas (apt-get install python3-h5py python3-pandas)"

write_config "$T/s.yaml" <<'YAML'
experiment: pyread
seed: 3
data: {train: "builtin:spirals", validation: 0.25, test: "builtin:spirals", standardize: true}
model: {layers: [2, 6, 1], activation: tanh, output: sigmoid, loss: binary_cross_entropy}
train: {epochs: 30, batch_size: 16, optimizer: {name: sgd, lr: 0.1}, target_loss: 0.69}
diagnostics: true
sweep:
  grid: {train.optimizer: [{name: sgd, lr: 0.1}, {name: adam}], train.batch_size: [8, 16]}
  repeats: 2
YAML
run_bprun 0 run "$T/s.yaml" -o "$T/r" -j 2 --threads 1 --quiet || finish
run_bprun 0 report "$T/r" --format json || finish
cp "$T/out" "$T/report.json"
run_bprun 0 report "$T/r" --format csv --table epochs || finish
cp "$T/out" "$T/epochs.csv"
# --table epochs is csv only, like the others
run_bprun 2 report "$T/r" --format json --table epochs
# a run still going: no index yet, trial 5 still being written
cp -R "$T/r" "$T/going"
rm -f "$T/going/index.h5"
mv "$T/going/trials/0005.h5" "$T/going/trials/0005.h5.part"
# a 2-D epoch column (epochs x 6) in one trial: split into w2[0], w2[1] by both readers
cp -R "$T/r" "$T/r2d"
"$PY" -c 'import h5py, numpy as np, sys
with h5py.File(sys.argv[1], "r+") as f:
    n = len(f["epochs/epoch"])
    f["epochs/w2"] = np.arange(6.0 * n).reshape(n, 6) / 3' "$T/r2d/trials/0003.h5" || fail "adding w2"
run_bprun 0 report "$T/r2d" --format csv --table epochs && cp "$T/out" "$T/epochs2d.csv"
run_bprun 0 report "$T/r" "$T/r2d" --format csv --table epochs && cp "$T/out" "$T/two.csv"
PYTHONPATH="$BP_SRCDIR/python" "$PY" "$BP_SRCDIR/tests/python_read.py" "$T/r" "$T/report.json" \
  "$T/epochs.csv" "$T/going" 5 "$T/r2d" "$T/epochs2d.csv" "$T/two.csv" >"$T/py.out" 2>&1 ||
  fail "python_read.py: $(cat "$T/py.out")"

# installed: the module lands under $(pythondir) of a DESTDIR install and imports from there
if [ -n "${BP_PYTHON:-}" ] && [ "$BP_PYTHON" != : ]; then
  # a make of its own: not the jobserver or flags of the make running the tests
  (cd "$BP_BUILDDIR" && MAKEFLAGS= MAKELEVEL= make install-pythonPYTHON DESTDIR="$T/dest" \
    >"$T/inst.out" 2>&1) || fail "make install-pythonPYTHON: $(tail -5 "$T/inst.out")"
  pydir=$BP_PYTHONDIR
  [ -f "$T/dest$pydir/bprun.py" ] || fail "installed module not at \$(pythondir): $T/dest$pydir/bprun.py"
  got=$(cd "$T" && PYTHONPATH="$T/dest$pydir" "$BP_PYTHON" -c \
    'import bprun; print(bprun.__file__); print(len(bprun.read_run("r")))' 2>&1)
  [ "$got" = "$T/dest$pydir/bprun.py
8" ] || fail "import from the install: $got"
fi
finish
