#!/bin/sh
# XOR 2-2-1 sigmoid, online backprop, lr 0.5, from a fixed seed: converges; the run folder has
# an index and a finished trial file; eval of the saved weights reproduces the final loss.
. "$BP_SRCDIR/tests/lib.sh"

cfg=$BP_SRCDIR/configs/xor.yaml
run_bprun 0 run "$cfg" -o "$T/xor" --quiet || finish
grep -q '^1  *0000  *completed  *5000 ' "$T/out" || fail "trial not completed: $(cat "$T/out")"
grep -qx "output: $T/xor" "$T/out" || fail "no output line"
[ -f "$T/xor/index.h5" ] || fail "no index.h5"
[ -f "$T/xor/trials/0000.h5" ] || fail "no trial file"
[ -e "$T/xor/trials/0000.h5.part" ] && fail ".part left behind"
# converged: every pattern right and the loss small
acc=$(awk '$2 == "0000" {print $6}' "$T/out")
loss=$(awk '$2 == "0000" {print $5}' "$T/out")
[ "$acc" = "1.0000" ] || fail "accuracy $acc"
awk -v l="$loss" 'BEGIN {exit !(l < 0.01)}' || fail "final loss $loss not < 0.01"
# no validation data: no val_ columns in the file (they could hold nothing but NaN)
h5dump -a /epochs/columns "$T/xor/trials/0000.h5" | grep -q '(0): "epoch", "loss", "accuracy", "lr", "seconds"$' \
  || fail "stored columns: $(h5dump -a /epochs/columns "$T/xor/trials/0000.h5")"
h5ls "$T/xor/trials/0000.h5/epochs" | grep -q '^val_' && fail "val_ columns stored without validation data"
# eval of the saved weights on the same data: the loss of the final weights
run_bprun 0 eval "$T/xor" builtin:xor || finish
grep -q '^accuracy  1.000000$' "$T/out" || fail "eval accuracy: $(cat "$T/out")"
# the run folder is never overwritten silently: the same config resumes it (nothing to do),
# another config is refused, --force starts over, a folder bprun did not make is refused
run_bprun 0 run "$cfg" -o "$T/xor" || finish
grep -q "^bprun: resuming $T/xor: 1 finished trial kept$" "$T/err" || fail "resume message: $(cat "$T/err")"
run_bprun 2 run "$cfg" -o "$T/xor" --quiet --set train.epochs=10
grep -q "^bprun: $T/xor: holds a run of a different config (config line 15 was '  epochs: 5000', now '  epochs: 10'); use --force to start over, or -o to choose another folder$" "$T/err" || fail "changed config: $(cat "$T/err")"
run_bprun 0 run "$cfg" -o "$T/xor" --quiet --force --set train.epochs=10 || fail "--force"
mkdir "$T/other" && echo notes > "$T/other/notes.txt"
expect_err 2 "bprun: $T/other: run folder exists and is not empty; use --force to replace it, or -o to choose another folder" run "$cfg" -o "$T/other" --quiet
finish
