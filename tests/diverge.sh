#!/bin/sh
# A run whose loss becomes NaN or infinite, or grows past train.diverge_factor times epoch 1's
# loss, ends with status `diverged`, exit status 1, and keeps every epoch logged up to then.
. "$BP_SRCDIR/tests/lib.sh"
need_python
# the NaN rule alone (the growth rule, off here, would stop this run at epoch 2)
run_bprun 1 run "$BP_SRCDIR/configs/xor.yaml" -o "$T/d" --quiet --set train.optimizer.lr=1.5 \
  --set model.output=identity --set model.activation=identity --set train.diverge_factor=0 || finish
grep -q '^1  *0000  *diverged  *3  *nan ' "$T/out" || fail "table: $(cat "$T/out")"
grep -qx 'note: trial 0000 diverged: training loss became NaN at epoch 3' "$T/out" || fail "note: $(cat "$T/out")"
py="$PYTHON_H5 $BP_SRCDIR/tests/h5check.py"
[ "$($py attr "$T/d/trials/0000.h5" status)" = diverged ] || fail "status attribute"
[ "$($py attr "$T/d/trials/0000.h5" message)" = "training loss became NaN at epoch 3" ] || fail "message attribute"
$py epochs "$T/d/trials/0000.h5" loss > "$T/loss"
[ "$(wc -l < "$T/loss")" = 3 ] || fail "expected 3 epoch rows, got $(cat "$T/loss")"
head -n 2 "$T/loss" | grep -qv nan || fail "first epochs should be finite"
tail -n 1 "$T/loss" | grep -q nan || fail "last epoch should be nan"
[ -f "$T/d/index.h5" ] || fail "index written"
# the growth rule: online XOR at lr 0.45 with identity units reaches a finite loss of 1.7e21 at
# epoch 3 (it used to end `completed` with exit status 0); the default factor is 1000
grow="--quiet --set train.optimizer.lr=0.45 --set model.output=identity --set model.activation=identity --set train.epochs=3 --set train.batch_size=1"
# shellcheck disable=SC2086
run_bprun 1 run "$BP_SRCDIR/tests/bad/ok.yaml" -o "$T/g" $grow || finish
grep -q '^1  *0000  *diverged  *3  *1.71824e+21 ' "$T/out" || fail "growth table: $(cat "$T/out")"
msg="training loss grew to 1.71824e+21 at epoch 3, more than train.diverge_factor (1000) times epoch 1's 1.10754"
grep -qxF "note: trial 0000 diverged: $msg" "$T/out" || fail "growth note: $(cat "$T/out")"
[ "$($py attr "$T/g/trials/0000.h5" status)" = diverged ] || fail "growth status attribute"
[ "$($py attr "$T/g/trials/0000.h5" message)" = "$msg" ] || fail "growth message attribute"
[ "$($py epochs "$T/g/trials/0000.h5" loss | wc -l)" = 3 ] || fail "growth: expected 3 epoch rows"
"$BPRUN" report "$T/g" > "$T/rep" 2>&1 || fail "report of a diverged run failed"
grep -q '0000  *diverged' "$T/rep" || fail "report: $(cat "$T/rep")"
# a larger factor lets it run; 0 turns the rule off
# shellcheck disable=SC2086
run_bprun 0 run "$BP_SRCDIR/tests/bad/ok.yaml" -o "$T/g2" $grow --set train.diverge_factor=1e30 ||
  fail "diverge_factor 1e30 should let the trial complete"
# shellcheck disable=SC2086
run_bprun 0 run "$BP_SRCDIR/tests/bad/ok.yaml" -o "$T/g3" $grow --set train.diverge_factor=0 ||
  fail "diverge_factor 0 should turn the rule off"
# and a continued trial measures growth against its first epoch, not the first one it runs
# shellcheck disable=SC2086
run_bprun 0 run "$BP_SRCDIR/tests/bad/ok.yaml" -o "$T/c2" $grow --set train.epochs=2 || finish
# shellcheck disable=SC2086
run_bprun 1 run "$BP_SRCDIR/tests/bad/ok.yaml" -o "$T/c3" $grow --continue "$T/c2" || finish
grep -qxF "note: trial 0000 diverged: $msg" "$T/out" || fail "continued growth note: $(cat "$T/out")"

# a plugin whose step reports a failure ends its trial as `failed` with the plugin's message
write_config "$T/rp.yaml" <<'YAML'
experiment: rp
data: {train: "builtin:xor"}
model: {layers: [2, 2, 1]}
train: {epochs: 5, batch_size: full, optimizer: {name: rprop, step_size_min: 2, step_size_max: 1}}
YAML
run_bprun 1 run "$T/rp.yaml" -o "$T/rp" --quiet || finish
grep -qx 'note: trial 0000 failed: optimizer rprop failed at epoch 1: rprop: step_size_min must not exceed step_size_max (got 2 > 1)' "$T/out" \
  || fail "failed note: $(cat "$T/out")"
[ "$($py attr "$T/rp/trials/0000.h5" status)" = failed ] || fail "failed status attribute"
# a plugin's message with newlines, a carriage return and a tab stays one line in the note, the
# trial file and the report
run_bprun 1 run "$T/rp.yaml" -o "$T/nl" --quiet \
  --set "train.optimizer=$BP_BUILDDIR/tests/msg/.libs/fake_nlerr.so" || finish
nl_note='note: trial 0000 failed: optimizer fake_nlerr failed at epoch 1: bad step see the log  for details'
grep -qxF "$nl_note" "$T/out" || fail "multi-line plugin message: $(cat "$T/out")"
grep -q '^see the log\|^for' "$T/out" "$T/err" && fail "a plugin's message split a line: $(cat "$T/out" "$T/err")"
[ "$($py attr "$T/nl/trials/0000.h5" message)" = "${nl_note#note: trial 0000 failed: }" ] ||
  fail "message attribute: $($py attr "$T/nl/trials/0000.h5" message)"
"$BPRUN" report "$T/nl" > "$T/rep" 2>&1
grep -qxF "$nl_note" "$T/rep" || fail "report note: $(cat "$T/rep")"
finish
