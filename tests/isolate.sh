#!/bin/sh
# Trial isolation: a plugin that crashes (SIGSEGV, abort) or hangs fails only its own trial,
# with a message naming the plugin and the signal; the epochs it flushed are kept; the sweep
# finishes; isolated trials give the same bits as threaded ones.
. "$BP_SRCDIR/tests/lib.sh"
# every epoch acknowledged at once: the checks below count the epochs a broken trial keeps, and by
# default a trial's first 100 ms are not flushed (docs/FORMAT.md)
export BPRUN_FLUSH_MS=0
need_python
py="$PYTHON_H5 $BP_SRCDIR/tests/h5check.py"
lib="$BP_BUILDDIR/tests/crash/.libs"
# under AddressSanitizer, let the crashes reach bprun's own handler in the trial process
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0:handle_abort=0:allow_user_segv_handler=1"
write_config "$T/c.yaml" <<YAML
experiment: crash
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1], activation: tanh}
train: {epochs: 6, batch_size: 2, shuffle: false, optimizer: {name: sgd, lr: 0.1}}
sweep:
  grid:
    train.optimizer: [{name: sgd, lr: 0.1}, {name: $lib/segv.so}, {name: $lib/abort.so}, {name: sgd, lr: 0.2}]
YAML
# a user's plugin turns isolation on by itself
run_bprun 1 run "$T/c.yaml" -o "$T/a" -j 2 || finish
grep -q "^bprun: each trial in its own process (a user's plugin)$" "$T/err" || fail "isolation not announced: $(cat "$T/err")"
grep -qx "note: trial 0001 failed: plugin $lib/segv.so crashed: signal 11 (Segmentation fault) during epoch 5" "$T/out" \
  || fail "segv note: $(cat "$T/out")"
grep -qx "note: trial 0002 failed: plugin $lib/abort.so crashed: signal 6 (Aborted) during epoch 5" "$T/out" \
  || fail "abort note: $(cat "$T/out")"
for t in 0000 0003; do
  [ "$($py attr "$T/a/trials/$t.h5" status)" = completed ] || fail "trial $t did not complete"
done
# the crashed trials keep the 4 epochs they flushed (steps 1-8 = epochs 1-4, step 9 crashes)
[ "$($py epochs "$T/a/trials/0001.h5" loss | wc -l)" = 4 ] || fail "crashed trial lost its epochs"
[ "$($py attr "$T/a/trials/0001.h5" status)" = failed ] || fail "crashed trial status"
# isolated and threaded trials are the same bits
run_bprun 0 run "$T/c.yaml" -o "$T/t" --trial 3 --no-isolate --quiet || finish
[ "$($py digest "$T/a/trials/0003.h5")" = "$($py digest "$T/t/trials/0003.h5")" ] || fail "isolated trial differs from threaded"
# a trial that hangs is killed at the time limit and the sweep goes on
write_config "$T/h.yaml" <<YAML
experiment: hang
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1], activation: tanh}
train: {epochs: 6, batch_size: 2, shuffle: false, optimizer: {name: sgd, lr: 0.1}}
sweep: {grid: {train.optimizer: [{name: $lib/hang.so}, {name: sgd}]}}
YAML
run_bprun 1 run "$T/h.yaml" -o "$T/h" --trial-timeout 1.5 --quiet || finish
grep -qx "note: trial 0000 failed: exceeded the trial time limit of 1.5 s after epoch 4; killed" "$T/out" \
  || fail "hang note: $(cat "$T/out")"
[ "$($py attr "$T/h/trials/0001.h5" status)" = completed ] || fail "sweep stopped at the hang"
expect_err 2 "bprun run: --trial-timeout: expected a number of seconds > 0 (got '0')" run "$T/h.yaml" --trial-timeout 0
finish
