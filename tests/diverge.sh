#!/bin/sh
# A run whose loss becomes NaN or infinite ends with status `diverged`, exit status 1, and
# keeps every epoch logged up to then.
. "$BP_SRCDIR/tests/lib.sh"
need_python
run_bprun 1 run "$BP_SRCDIR/configs/xor.yaml" -o "$T/d" --quiet --set train.optimizer.lr=1.5 \
  --set model.output=identity --set model.activation=identity || finish
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
finish
