#!/bin/sh
# Mistakes a user makes, end to end through the CLI: each gives one line naming the place and
# exit status 2 (config, data, plugin) or 1 (run time), and writes no run folder.
. "$BP_SRCDIR/tests/lib.sh"
cd "$T" || exit 1
base='experiment: e
data: {train: "builtin:xor"}
model: {layers: [2, 2, 1]}
train: {epochs: 5}'
printf '%s\n' "$base" > ok.yaml
run_bprun 0 validate ok.yaml || fail "ok.yaml should validate"

# config errors (the config module's catalogue is in tests/check_config.c)
printf '%s\n' "$base" 'tran: {}' > unknown.yaml
expect_err 2 "bprun: unknown.yaml:5:1: tran: unknown key (did you mean 'train'?)" validate unknown.yaml
printf 'experiment: e\ndata: {train: "builtin:xor"}\nmodel: {layers: [2, 2, 1]}\ntrain: {epochs: ten}\n' > type.yaml
expect_err 2 "bprun: type.yaml:4:17: train.epochs: expected an integer (got 'ten')" run type.yaml -o runfolder
[ -e runfolder ] && fail "a run folder was created for an invalid config"
printf 'experiment: e\ndata: {train: "builtin:xor"}\nmodel: {layers: [2, 2, 1]}\ntrain: {epochs: 5, epochs: 6}\n' > dup.yaml
expect_err 2 "bprun: dup.yaml:4:20: train.epochs: duplicate key (first at line 4)" validate dup.yaml
expect_err 2 "bprun: --set:1:1: train.epochs: expected an integer (got 'abc')" validate ok.yaml --set train.epochs=abc
expect_err 2 "bprun: --set foo: expected key.path=value" validate ok.yaml --set foo

# plugins
run_bprun 2 validate ok.yaml --set train.optimizer=adamm
grep -q "^bprun: --set:1:1: train.optimizer: optimizer 'adamm' not found (did you mean 'adam'?); searched: $(echo "$BPRUN_PLUGIN_PATH" | sed 's/:/, /g')" "$T/err" \
  || fail "unknown optimizer: $(cat "$T/err")"
run_bprun 2 validate ok.yaml --set train.optimizer.momentm=0.9
grep -q "^bprun: --set:1:1: train.optimizer.momentm: sgd has no hyperparameter 'momentm' (did you mean 'momentum'?; valid: lr, momentum, dampening, nesterov, weight_decay)$" "$T/err" \
  || fail "misspelt hyperparameter: $(cat "$T/err")"
expect_err 2 "bprun: --set:1:1: train.optimizer.lr: must be in (0, inf) (got -1)" validate ok.yaml --set train.optimizer.lr=-1
run_bprun 2 validate ok.yaml --set model.activation=sgd
grep -q "model.activation: .*sgd.so is an optimizer, but model.activation needs an activation$" "$T/err" || fail "kind mismatch: $(cat "$T/err")"
printf 'not a shared object\n' > broken.so
run_bprun 2 validate ok.yaml --set train.optimizer=./broken.so
grep -qx "bprun: --set:1:1: train.optimizer: ./broken.so: cannot load (dlopen): file too short" "$T/err" || fail "broken plugin: $(cat "$T/err")"

# data
expect_err 2 "bprun: --set:1:1: data.train: missing.h5: cannot open: No such file or directory" validate ok.yaml --set data.train=missing.h5
printf 'x\n' > notdata.h5
expect_err 2 "bprun: --set:1:1: data.train: notdata.h5: not an HDF5 file" validate ok.yaml --set data.train=notdata.h5
expect_err 2 "bprun: ok.yaml:2:15: data.train: builtin:xor: X has 2 features but model.layers[0] is 3" validate ok.yaml --set 'model.layers=[3, 2, 1]'
run_bprun 0 import builtin:spirals -o "$T/sp.h5#/s" || fail "import spirals"
expect_err 2 "bprun: --set:1:1: data.train: $T/sp.h5#/nope: no such group" validate ok.yaml --set "data.train=$T/sp.h5#/nope"

# output that cannot be written: a run-time error, exit 1
mkdir ro && chmod 500 ro
if [ "$(id -u)" != 0 ]; then
  run_bprun 1 run ok.yaml -o ro/run --quiet || true
fi
printf 'file\n' > afile
run_bprun 1 run ok.yaml -o afile/run --quiet
grep -q "^bprun: afile/run: cannot create run folder: Not a directory$" "$T/err" || fail "unwritable output: $(cat "$T/err")"
finish
