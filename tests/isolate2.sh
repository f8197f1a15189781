#!/bin/sh
# What a plugin does to bprun's process: exit (any status, _exit), loop while ignoring SIGINT and
# SIGTERM, print to stdout, exhaust memory, exit in its load-time constructor. In a trial
# process only that trial fails (or is interrupted), with a one-line note, and the other trial
# completes; without isolation an exit is never taken for success. The plugins (tests/crash/)
# are sgd but for what they do at step 9, the first step of epoch 5 here.
. "$BP_SRCDIR/tests/lib.sh"
# every epoch acknowledged at once: the checks below count the epochs a broken trial keeps, and by
# default a trial's first 100 ms are not flushed (docs/FORMAT.md)
export BPRUN_FLUSH_MS=0
need_python
py="$PYTHON_H5 $BP_SRCDIR/tests/h5check.py"
lib="$BP_BUILDDIR/tests/crash/.libs"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0:handle_abort=0:allow_user_segv_handler=1"

# sweep.yaml PLUGIN [EPOCHS]: trial 0000 uses tests/crash/PLUGIN.so, trial 0001 sgd
sweep() {
  write_config "$T/$1.yaml" <<YAML
experiment: $1
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1], activation: tanh}
train: {epochs: ${2:-6}, batch_size: 2, shuffle: false, optimizer: {name: sgd, lr: 0.1}}
sweep: {grid: {train.optimizer: [{name: $lib/$1.so}, {name: sgd}]}}
YAML
}

# status DIR ID: the status attribute of trial ID's file
status() {
  $py attr "$1/trials/$2.h5" status 2>/dev/null
}

# note_case PLUGIN 'note after "trial 0000 failed: "' [RUN OPTIONS]: exit status 1, the note, the
# sgd trial completed, the broken one failed keeping its 4 epochs, nothing blamed on a file
note_case() {
  p=$1 note=$2
  shift 2
  sweep "$p"
  run_bprun 1 run "$T/$p.yaml" -o "$T/r-$p" --quiet "$@" || return
  grep -qxF "note: trial 0000 failed: $note" "$T/out" || fail "$p: note: $(cat "$T/out" "$T/err")"
  [ "$(status "$T/r-$p" 0001)" = completed ] || fail "$p: the sgd trial did not complete"
  [ "$(status "$T/r-$p" 0000)" = failed ] || fail "$p: the broken trial is not failed"
  [ "$($py epochs "$T/r-$p/trials/0000.h5" loss | wc -l)" = 4 ] || fail "$p: the broken trial lost its epochs"
  ! grep -q "cannot open\|No such file" "$T/err" || fail "$p: blames a file: $(cat "$T/err")"
}

# 1-3: exit(0), exit(3), _exit(0) in a trial process
note_case exit0 "plugin $lib/exit0.so exited with status 0 during epoch 5"
note_case exit3 "plugin $lib/exit3.so exited with status 3 during epoch 5"
note_case uexit "trial process exited with status 0 during epoch 5 before the trial finished (did plugin $lib/uexit.so call _exit?)"

# 4-5: the same exits without isolation are failures, never success, and name the plugin
for p in exit0 exit3; do
  s=${p#exit}
  expect_err 1 "bprun: plugin $lib/$p.so called exit($s) during training; bprun stops with a failure (plugins must not exit)" \
    run "$T/$p.yaml" -o "$T/n-$p" --quiet --no-isolate
done

# 6: ... also outside run (trace runs the optimizer's steps)
expect_err 1 "bprun: plugin $lib/exit0.so called exit(0); bprun stops with a failure (plugins must not exit)" \
  trace "$T/exit0.yaml" --step 9

# stop_case PLUGIN SIGNAL STATUS [RUN OPTIONS]: sends SIGNAL once the sgd trial completed and
# the broken one is at step 9; bprun must end with STATUS within $limit ms (printed; generous)
stop_case() {
  p=$1 sig=$2 want=$3
  shift 3
  sweep "$p" 100000
  rm -rf "$T/s-$p"
  : >"$T/err" # not the last case's lines while bprun has not opened it yet
  "$BPRUN" run "$T/$p.yaml" -o "$T/s-$p" -j 2 "$@" >"$T/out" 2>"$T/err" &
  pid=$!
  i=0
  while ! grep -q "^trial 0001 completed" "$T/err" && [ $i -lt 600 ]; do
    sleep 0.05
    i=$((i + 1))
  done
  sleep 0.5
  t0=$(date +%s%N)
  kill -"$sig" $pid
  i=0
  while kill -0 $pid 2>/dev/null && [ $i -lt 400 ]; do
    sleep 0.05
    i=$((i + 1))
  done
  if kill -0 $pid 2>/dev/null; then
    fail "$p $*: still running 20 s after SIG$sig"
    kill -KILL $pid
    wait $pid
    return 1
  fi
  wait $pid
  got=$?
  ms=$((($(date +%s%N) - t0) / 1000000))
  echo "$p $* SIG$sig: bprun ended in $ms ms with status $got" >&2
  [ "$got" = "$want" ] || fail "$p $* SIG$sig: exit status $got, expected $want: $(cat "$T/err")"
  [ $ms -le "$limit" ] || fail "$p $* SIG$sig: took $ms ms to stop (more than $limit ms)"
}

# 7-8: a plugin that ignores and blocks SIGINT/SIGTERM and loops, in a trial process: killed
# after the grace period and recorded as interrupted; the other trial's results stay
limit=5000
for sig in INT:130 TERM:143; do
  stop_case sigloop "${sig%:*}" "${sig#*:}" && {
    grep -qxF "note: trial 0000 interrupted: did not stop within 0.5 s of SIG${sig%:*} during epoch 5; killed" "$T/out" \
      || fail "sigloop SIG${sig%:*}: note: $(cat "$T/out")"
    [ "$(status "$T/s-sigloop" 0000)" = interrupted ] || fail "sigloop: trial 0000 is not interrupted"
    [ "$(status "$T/s-sigloop" 0001)" = completed ] || fail "sigloop SIG${sig%:*}: the sgd trial is $(status "$T/s-sigloop" 0001): $(cat "$T/err")"
  }
done

# 9: without isolation, a plugin that never returns: bprun exits 3 s after SIGINT
limit=10000
stop_case hang INT 130 --no-isolate &&
  grep -qxF "bprun: the trials did not stop within 3 s of the signal (plugin code that does not return?); exiting, their files unfinished" "$T/err" \
    || fail "hang --no-isolate: message: $(cat "$T/err")"

# 10-11: what a plugin prints (printf, puts, write(1)) goes to stderr, never into the report
sweep print
for iso in --isolate --no-isolate; do
  run_bprun 0 run "$T/print.yaml" -o "$T/p$iso" --quiet $iso || continue
  ! grep -q PLUGIN- "$T/out" || fail "print $iso: plugin output in stdout: $(cat "$T/out")"
  [ "$(grep -c '^PLUGIN-' "$T/err")" = 3 ] || fail "print $iso: plugin output not on stderr: $(cat "$T/err")"
  sed -n 2p "$T/out" | grep -q "^run $T/p$iso: 2 trials, 2 finished, 2 completed" || fail "print $iso: report: $(cat "$T/out")"
done

# 12: a trial that exhausts its memory limit fails alone (RLIMIT_AS: not under AddressSanitizer,
# whose shadow memory is address space)
if ldd "$BPRUN" 2>/dev/null | grep -q libasan; then
  echo "SKIP: --trial-memory under AddressSanitizer" >&2
else
  note_case membomb "exceeded the trial memory limit of 512 MiB during epoch 5 (plugin $lib/membomb.so crashed: signal 11 (Segmentation fault))" \
    --trial-memory 512M
  run_bprun 2 run "$T/exit0.yaml" -o "$T/small" --trial-memory 16M -j 1
  grep -q "^bprun: trial 0000: --trial-memory 16 MiB is below the size of a trial process when it starts (" "$T/err" \
    || fail "--trial-memory 16M: $(cat "$T/err")"
fi

# 13: --trial-memory's usage errors
for v in 0 10x 1M -5G 4Q; do
  expect_err 2 "bprun run: --trial-memory: expected a size of at least 16M, such as 512M or 4G (got '$v')" \
    run "$T/exit0.yaml" -o "$T/u" --trial-memory "$v"
done
expect_err 2 "bprun run: --trial-memory: a per-trial limit needs trial processes; it cannot be used with --no-isolate" \
  run "$T/exit0.yaml" -o "$T/u" --trial-memory 1G --no-isolate
expect_err 2 "bprun run: --trial-timeout: a per-trial limit needs trial processes; it cannot be used with --no-isolate" \
  run "$T/exit0.yaml" -o "$T/u" --trial-timeout 5 --no-isolate

# 14: a constructor that exits, in every command that loads plugins: a plugin error (2)
sweep ctor_exit
msg="bprun: plugin $lib/ctor_exit.so called exit(0) while being loaded; bprun stops with a failure (plugins must not exit)"
expect_err 2 "$msg" validate "$T/ctor_exit.yaml"
expect_err 2 "$msg" run "$T/ctor_exit.yaml" -o "$T/ce"
expect_err 2 "$msg" plugins "$lib/ctor_exit.so"
expect_err 2 "$msg" trace "$T/ctor_exit.yaml"
expect_err 2 "$msg" lr-find "$T/ctor_exit.yaml" -o "$T/ce.h5"

# 15: a constructor that prints: validate's and plugins' output stay clean
sweep ctor_print
run_bprun 0 validate "$T/ctor_print.yaml" &&
  { ! grep -q CTOR- "$T/out" && head -n 1 "$T/out" | grep -qx "# $T/ctor_print.yaml: valid" &&
    grep -qx CTOR-PRINTF "$T/err"; } || fail "ctor_print validate: $(cat "$T/out" "$T/err")"
run_bprun 0 plugins "$lib/ctor_print.so" &&
  { ! grep -q CTOR- "$T/out" && grep -q "^optimizer  ctor_print " "$T/out"; } \
    || fail "ctor_print plugins: $(cat "$T/out" "$T/err")"

# 16: a crash without isolation still kills bprun, but names the plugin first
sweep segv
expect_err 139 "bprun: plugin $lib/segv.so crashed: signal 11 (Segmentation fault) during training; bprun dies with it (with --isolate only its trial would fail)" \
  run "$T/segv.yaml" -o "$T/c-segv" --quiet --no-isolate
sweep abort
expect_err 134 "bprun: plugin $lib/abort.so crashed: signal 6 (Aborted) during training; bprun dies with it (with --isolate only its trial would fail)" \
  run "$T/abort.yaml" -o "$T/c-abort" --quiet --no-isolate

# 17: ... and in eval, which loads the model's activation plugins (an activation whose
# constructor exits or prints only when asked, so the model can be trained first)
write_config "$T/act.yaml" <<YAML
experiment: act
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1], activation: {name: $lib/ctor_act.so}}
train: {epochs: 3, batch_size: 2, shuffle: false, optimizer: {name: sgd, lr: 0.1}}
YAML
if run_bprun 0 run "$T/act.yaml" -o "$T/act" --quiet --no-isolate; then
  export BP_TEST_CTOR_EXIT=1
  expect_err 2 "bprun: plugin $lib/ctor_act.so called exit(0) while being loaded; bprun stops with a failure (plugins must not exit)" \
    eval "$T/act" builtin:xor -P "$lib"
  unset BP_TEST_CTOR_EXIT
  export BP_TEST_CTOR_PRINT=1
  run_bprun 0 eval "$T/act" builtin:xor -P "$lib" &&
    { ! grep -q CTOR- "$T/out" && head -n 1 "$T/out" | grep -qx "model     $T/act" &&
      grep -qx CTOR-PRINTF "$T/err"; } || fail "ctor_act eval: $(cat "$T/out" "$T/err")"
  unset BP_TEST_CTOR_PRINT
fi
finish
