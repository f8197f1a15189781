#!/bin/sh
# Write failures (a full disk, simulated with an LD_PRELOAD shim that fails writes to chosen
# files with ENOSPC): a clear one-line error, exit status 1, and the trial files written before
# stay intact and complete.
. "$BP_SRCDIR/tests/lib.sh"
need_python
py="$PYTHON_H5 $BP_SRCDIR/tests/h5check.py"
shim="$BP_BUILDDIR/tests/shim/.libs/failwrite.so"
[ -f "$shim" ] || skip "no shim"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
# HDF5 leaks a buffer when a file cannot be created; that is HDF5's, not bprun's
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$BP_SRCDIR/tests/lsan.supp:print_suppressions=0"
write_config "$T/w.yaml" <<'YAML'
experiment: w
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1], activation: tanh}
train: {epochs: 20, batch_size: 1, optimizer: {name: sgd, lr: 0.2}}
sweep: {grid: {train.optimizer.lr: [0.1, 0.2, 0.3, 0.4]}}
YAML
run_bprun 0 run "$T/w.yaml" -o "$T/ref" -j 1 --quiet || finish
# trial 2's file cannot be written
BP_FAIL_PATH=trials/0002 LD_PRELOAD="$shim" "$BPRUN" run "$T/w.yaml" -o "$T/w" -j 1 --quiet >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] || fail "exit status $rc, expected 1; stderr: $(cat "$T/err")"
[ "$(wc -l < "$T/err")" = 1 ] || fail "expected one line: $(cat "$T/err")"
grep -qx "bprun: trial 0002: $T/w/trials/0002.h5.part: cannot create trial file (HDF5: write failed: No space left on device)" "$T/err" || fail "message: $(cat "$T/err")"
for t in 0000 0001; do
  [ "$($py digest "$T/w/trials/$t.h5")" = "$($py digest "$T/ref/trials/$t.h5")" ] || fail "trial $t damaged"
done
[ -e "$T/w/trials/0002.h5" ] && fail "a trial file that could not be written looks finished"
# the index cannot be written: nothing is trained, a clear message
BP_FAIL_PATH=index.h5 LD_PRELOAD="$shim" "$BPRUN" run "$T/w.yaml" -o "$T/i" -j 1 --quiet >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] || fail "index: exit status $rc, expected 1"
grep -qx "bprun: $T/i/index.h5.part: cannot create index file (HDF5: write failed: No space left on device)" "$T/err" || fail "index message: $(cat "$T/err")"
# after the disk has room again, the same command resumes and finishes
run_bprun 0 run "$T/w.yaml" -o "$T/w" -j 1 --quiet || fail "resume after the failure"
for t in 0000 0001 0002 0003; do
  [ "$($py digest "$T/w/trials/$t.h5")" = "$($py digest "$T/ref/trials/$t.h5")" ] || fail "trial $t after resume"
done
finish
