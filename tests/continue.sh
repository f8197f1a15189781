#!/bin/sh
# bprun run --continue: N epochs, then --continue for M more, give the same bits (h5check.py
# digest: every epoch column but `seconds`, parameters, optimizer step, hyperparameters and
# state, schedule state, status, epochs_done, seed, trial) as N + M epochs in one run: with
# sgd + momentum, with adam, with a plateau schedule that reduces the lr before and after the
# break, with a step schedule and clipping, with an optimizer that has no lr, and after a run
# stopped by SIGINT. Then the errors.
. "$BP_SRCDIR/tests/lib.sh"
need_python
H5C="$PYTHON_H5 $BP_SRCDIR/tests/h5check.py"
NOLR="$BP_BUILDDIR/tests/continue/.libs"

digest() { $H5C digest "$1"; }

# same_as_one_run NAME N M ARGS...: run N + M epochs; run N, continue to N + M; compare.
same_as_one_run() {
  name=$1 n=$2 m=$3
  shift 3
  run_bprun 0 run "$T/c.yaml" -o "$T/$name-all" --quiet --set train.epochs=$((n + m)) "$@" || return 1
  run_bprun 0 run "$T/c.yaml" -o "$T/$name-n" --quiet --set train.epochs="$n" "$@" || return 1
  run_bprun 0 run "$T/c.yaml" -o "$T/$name-m" --quiet --set train.epochs=$((n + m)) \
    --continue "$T/$name-n" "$@" || return 1
  grep -q "^1  *0000  *completed  *$((n + m)) " "$T/out" || fail "$name: summary: $(cat "$T/out")"
  a=$(digest "$T/$name-all/trials/0000.h5")
  b=$(digest "$T/$name-m/trials/0000.h5")
  c=$(digest "$T/$name-n/trials/0000.h5")
  [ -n "$a" ] && [ "$a" = "$b" ] || fail "$name: $n + $m epochs differ from $((n + m)): $a $b"
  [ "$a" != "$c" ] || fail "$name: the digest does not see the extra epochs"
}

write_config "$T/c.yaml" <<'YAML'
experiment: cont
seed: 3
data: {train: "builtin:spirals", validation: 0.25, standardize: true}
model: {layers: [2, 24, 1], activation: tanh, output: sigmoid, loss: binary_cross_entropy}
train:
  epochs: 20
  batch_size: 16
  optimizer: {name: sgd, lr: 0.3, momentum: 0.9}
YAML

same_as_one_run sgd 7 9
same_as_one_run adam 5 10 --set 'train.optimizer={name: adam, lr: 0.01}'
same_as_one_run step 6 8 --set 'train.schedule={name: step, step_size: 4, gamma: 0.5}' \
  --set 'train.clip={norm: 0.5}'
same_as_one_run value 4 5 --set 'train.clip={value: 0.01}' --set train.shuffle=false \
  --set train.batch_size=full
same_as_one_run nolr 3 4 --plugin-path "$NOLR" --set 'train.optimizer={name: fake_nolr}'
same_as_one_run plateau 8 12 --set 'train.schedule={name: plateau, patience: 1, factor: 0.5}'

# the plateau schedule really reduced the lr, before and after the break at epoch 8
$H5C epochs "$T/plateau-m/trials/0000.h5" lr >"$T/lr"
"$PYTHON_H5" - "$T/lr" <<'PY' || fail "plateau lr column: $(tr '\n' ' ' <"$T/lr")"
import sys
lr = [float(x) for x in open(sys.argv[1])]
assert len(lr) == 20 and lr[0] == 0.3, lr
drops = [e + 1 for e in range(1, 20) if lr[e] < lr[e - 1]]
assert any(d <= 8 for d in drops) and any(d > 9 for d in drops), drops
assert all(lr[e] in (lr[e - 1], lr[e - 1] * 0.5) for e in range(1, 20)), lr
PY
# the step schedule's lr column: 0.3 for epochs 1-4, 0.15 for 5-8, ...
[ "$($H5C epochs "$T/step-m/trials/0000.h5" lr | tr '\n' ' ')" = \
  "0.3 0.3 0.3 0.3 0.15 0.15 0.15 0.15 0.075 0.075 0.075 0.075 0.0375 0.0375 " ] ||
  fail "step lr column: $($H5C epochs "$T/step-m/trials/0000.h5" lr | tr '\n' ' ')"

# the continued trial file starts with FROM's rows, copied as they were (seconds included), and
# says what it continues
"$PYTHON_H5" - "$T/sgd-n/trials/0000.h5" "$T/sgd-m/trials/0000.h5" <<'PY' || fail "history copy"
import sys, h5py
with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
    assert list(b["epochs/epoch"][()]) == list(range(1, 17))
    for c in a["epochs"]:
        assert (a["epochs"][c][()] == b["epochs"][c][()][:7]).all(), c
        assert a["epochs"][c].shape == (7,), c
    assert b.attrs["continued_from"] == sys.argv[1], b.attrs["continued_from"]
    assert b.attrs["continued_at"] == 7
    assert b["model/optimizer"].attrs["step"] * 7 == a["model/optimizer"].attrs["step"] * 16
    assert b["model/schedule"].attrs["name"] == "constant"
    assert list(b["model/schedule"].attrs["state_names"]) == ["last_epoch", "lr", "best",
                                                             "bad_epochs", "cooldown_counter"]
    assert b["model/schedule"].attrs["state"][0] == 16
PY
# RUN#ID and the index name the same trial; the new run may continue a continued one
run_bprun 0 run "$T/c.yaml" -o "$T/sgd-r" --quiet --set train.epochs=10 --continue "$T/sgd-n#0" || fail "RUN#0"
run_bprun 0 run "$T/c.yaml" -o "$T/sgd-r2" --quiet --set train.epochs=16 \
  --continue "$T/sgd-r/index.h5#0" || fail "INDEX#0"
[ "$(digest "$T/sgd-r2/trials/0000.h5")" = "$(digest "$T/sgd-all/trials/0000.h5")" ] ||
  fail "7 + 3 + 6 epochs differ from 16"

# SIGINT: the run stops after the current epoch as `interrupted` with the model saved; the
# interrupted trial continues to the same bits as a run that was never stopped
write_config "$T/big.yaml" <<'YAML'
experiment: big
seed: 7
data: {train: "builtin:spirals", validation: 0.2, standardize: true}
model: {layers: [2, 128, 128, 1], activation: tanh, output: sigmoid, loss: binary_cross_entropy}
train:
  epochs: 400
  batch_size: 4
  optimizer: {name: adam, lr: 0.002}
  schedule: {name: plateau, patience: 5, factor: 0.5}
  clip: {norm: 1}
YAML
: >"$T/int.err"   # exists before the loop reads it (the child creates it only after the fork)
"$BPRUN" run "$T/big.yaml" -o "$T/big-int" --threads 1 >"$T/int.out" 2>>"$T/int.err" &
pid=$!
# wait until training runs (bprun's handler is installed by then: a background job of a
# non-interactive shell starts with SIGINT ignored)
wait_training "$T/int.err"
sleep 0.2
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 130 ] || fail "interrupted run exited $rc, expected 130; $(tail -3 "$T/int.err")"
[ "$($H5C attr "$T/big-int/trials/0000.h5" status)" = interrupted ] || fail "status not interrupted"
done_at=$($H5C attr "$T/big-int/trials/0000.h5" epochs_done)
[ "$done_at" -ge 1 ] && [ "$done_at" -lt 400 ] || fail "interrupted after $done_at epochs"
grep -q "^note: trial 0000 interrupted: interrupted after epoch $done_at$" "$T/int.out" || fail "note: $(cat "$T/int.out")"
run_bprun 0 run "$T/big.yaml" -o "$T/big-cont" --quiet --continue "$T/big-int" || fail "continue interrupted"
run_bprun 0 run "$T/big.yaml" -o "$T/big-all" --quiet || fail "uninterrupted"
[ "$(digest "$T/big-cont/trials/0000.h5")" = "$(digest "$T/big-all/trials/0000.h5")" ] ||
  fail "interrupted after $done_at + continued differs from 400 epochs in one run"

# errors
R="$T/sgd-n/trials/0000.h5"
expect_err 2 "bprun: $T/c.yaml: train.optimizer differs from the config of $R: {name: sgd, lr: 0.2, momentum: 0.9, dampening: 0, nesterov: false, weight_decay: 0} here, {name: sgd, lr: 0.3, momentum: 0.9, dampening: 0, nesterov: false, weight_decay: 0} there (only train.epochs may change when continuing)" \
  run "$T/c.yaml" -o "$T/e1" --continue "$T/sgd-n" --set train.optimizer.lr=0.2
expect_err 2 "bprun: $T/c.yaml: model.layers differs from the config of $R: [2, 25, 1] here, [2, 24, 1] there (only train.epochs may change when continuing)" \
  run "$T/c.yaml" -o "$T/e1" --continue "$T/sgd-n" --set 'model.layers[1]=25'
expect_err 2 "bprun: $T/c.yaml: train.clip differs from the config of $R: {norm: 1} here, null there (only train.epochs may change when continuing)" \
  run "$T/c.yaml" -o "$T/e1" --continue "$T/sgd-n" --set 'train.clip.norm=1'
expect_err 2 "bprun: $T/c.yaml: train.epochs: $R has done 7 epochs, train.epochs is 7; raise it to train longer (--set train.epochs=17, say)" \
  run "$T/c.yaml" -o "$T/e1" --continue "$T/sgd-n" --set train.epochs=7
expect_err 2 "bprun: $T/sgd-n: holds the trial being continued ($R); give the new run another folder with -o DIR" \
  run "$T/c.yaml" -o "$T/sgd-n" --force --continue "$T/sgd-n"
[ -f "$R" ] || fail "--force deleted the trial being continued"
expect_err 1 "bprun: $T/nothere: cannot open: No such file or directory" \
  run "$T/c.yaml" -o "$T/e1" --continue "$T/nothere"
run_bprun 1 run "$T/c.yaml" -o "$T/div" --quiet --set train.optimizer.lr=1e300 --set train.epochs=3 ||
  fail "diverging run"
expect_err 2 "bprun: $T/div/trials/0000.h5: trial status is 'diverged'; only a completed or interrupted trial can be continued" \
  run "$T/c.yaml" -o "$T/e1" --set train.optimizer.lr=1e300 --continue "$T/div"
expect_err 2 "bprun run: option '--continue' needs a value" run "$T/c.yaml" --continue
[ -e "$T/e1" ] && fail "a failed --continue created its run folder"
# a schedule needs an optimizer with lr
expect_err 2 "bprun: --set:1:1: train.schedule: optimizer fake_nolr has no hyperparameter 'lr' to schedule" \
  run "$T/c.yaml" -o "$T/e2" --plugin-path "$NOLR" --set train.optimizer=fake_nolr \
  --set 'train.schedule={name: exponential, gamma: 0.5}'
finish
