#!/bin/sh
# With ./configure --enable-valgrind: end-to-end sweeps under valgrind's memcheck, threaded
# (-j 2, OpenMP kernels) and isolated (child processes), with no memory errors and no leaks;
# then report and predict on the run.
. "$BP_SRCDIR/tests/lib.sh"
[ -n "${BP_VALGRIND:-}" ] || skip "configure --enable-valgrind to run this test"
vg="$BP_VALGRIND --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect --trace-children=yes"
write_config "$T/v.yaml" <<'YAML'
experiment: vg
data: {train: "builtin:spirals", validation: 0.25, standardize: true}
model: {layers: [2, 16, 1], activation: tanh, output: sigmoid, loss: binary_cross_entropy}
train: {epochs: 4, batch_size: 8, optimizer: {name: adam, lr: 0.01}, schedule: {name: cosine}}
sweep: {grid: {train.optimizer.lr: [0.01, 0.1]}, repeats: 2}
YAML
n=0
for mode in "-j 2 --threads 2" "--isolate -j 2" "--threads 2 --trial 1"; do
  n=$((n + 1))
  # shellcheck disable=SC2086
  $vg "$BPRUN" run "$T/v.yaml" -o "$T/run$n" --quiet $mode >"$T/out" 2>"$T/vg.log"
  rc=$?
  [ "$rc" = 0 ] || fail "valgrind ($mode): exit $rc: $(grep -E 'Invalid|uninitialised|definitely|indirectly|ERROR SUMMARY' "$T/vg.log" | head -20)"
done
$vg "$BPRUN" report "$T/run1" >"$T/out" 2>"$T/vg.log" || fail "valgrind report: $(grep -E 'ERROR SUMMARY|lost' "$T/vg.log")"
# bprun predict: a run folder's best trial, HDF5 and CSV out; and an error (the data's width)
$vg "$BPRUN" predict "$T/run1" builtin:spirals -o "$T/p.h5" >"$T/out" 2>"$T/vg.log" ||
  fail "valgrind predict: $(grep -E 'ERROR SUMMARY|lost' "$T/vg.log")"
$vg "$BPRUN" predict "$T/run1#2" builtin:spirals >"$T/out" 2>"$T/vg.log" ||
  fail "valgrind predict to CSV: $(grep -E 'ERROR SUMMARY|lost' "$T/vg.log")"
$vg "$BPRUN" predict "$T/run1" builtin:parity:3 >"$T/out" 2>"$T/vg.log"
[ $? = 2 ] || fail "valgrind predict (wrong width): $(grep -E 'ERROR SUMMARY|lost' "$T/vg.log")"
# the HTML report (its curves, diagnostics attributes, -o's rename); without dygraphs, a refusal
$vg "$BPRUN" report "$T/run1" "$T/run2" --format html -o "$T/r.html" >"$T/out" 2>"$T/vg.log" ||
  grep -q 'built without dygraphs' "$T/vg.log" ||
  fail "valgrind report --format html: $(grep -E 'ERROR SUMMARY|lost' "$T/vg.log")"
finish
