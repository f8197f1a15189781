#!/bin/sh
# Two bprun processes on one run folder: the second refuses at once (exit 1) with the pid of
# the first, also with --force, and writes nothing; once the first ends, the folder resumes; a
# lock left by a process killed with SIGKILL blocks nothing (the kernel drops it).
. "$BP_SRCDIR/tests/lib.sh"
cd "$T" || exit 1
write_config slow.yaml <<'YAML'
experiment: slow
data: {train: "builtin:spirals"}
model: {layers: [2, 64, 64, 1], activation: tanh}
train: {epochs: 100000, batch_size: 1}
YAML

# wait_for FILE: until FILE exists (at most 10 s)
wait_for() {
  i=0
  while [ ! -e "$1" ] && [ $i -lt 200 ]; do
    sleep 0.05
    i=$((i + 1))
  done
  [ -e "$1" ]
}

"$BPRUN" run slow.yaml -o run --quiet --threads 1 >first.out 2>first.err &
pid=$!
wait_for run/trials/0000.h5.part || fail "the first run did not start: $(cat first.err)"
[ "$(cat run/.lock 2>/dev/null)" = "$pid" ] || fail "run/.lock holds '$(cat run/.lock 2>/dev/null)', expected $pid"
# names and inodes: the running trial's .part grows and changes as it trains (its rows are
# flushed in bursts), but a refused run must neither create, remove nor replace a file
ls -i1 run/trials > before.txt
# refuse ARGS...: bprun must refuse at once (a broken lock would let it train: timeout)
refuse() {
  timeout 20 "$BPRUN" "$@" >"$T/out" 2>"$T/err"
  got=$?
  [ "$got" -eq 1 ] && [ "$(cat "$T/err")" = "bprun: run: in use by another bprun (pid $pid); wait for it or use -o" ] ||
    fail "bprun $*: exited $got; stderr: $(cat "$T/err")"
}
refuse run slow.yaml -o run --quiet
refuse run slow.yaml -o run --quiet --force
refuse run slow.yaml -o run --quiet --set train.epochs=7
ls -i1 run/trials > after.txt
cmp -s before.txt after.txt || fail "the refused runs changed run/trials"
kill -0 "$pid" 2>/dev/null || fail "the first run died: $(cat first.err)"
# report reads a running run without the lock
run_bprun 0 report run || true

# SIGKILL: the lock goes with the process; the next run resumes the folder
kill -9 "$pid"
wait "$pid" 2>/dev/null
[ -e run/.lock ] || fail "run/.lock vanished"
run_bprun 0 run slow.yaml -o run --quiet --set train.epochs=2 --force ||
  fail "a killed run's lock blocked the next run"
run_bprun 0 run slow.yaml -o run --quiet --set train.epochs=2 || fail "resume after the run ended"
grep -q '^0000 *completed' "$T/out" || grep -q 'completed' "$T/out" || fail "report: $(cat "$T/out")"

# a run killed before its index was written (only .lock and trials/*.part) is not "not empty"
mkdir -p early/trials && printf '%s\n' 99999 > early/.lock && printf 'x' > early/trials/0000.h5.part
run_bprun 0 run slow.yaml -o early --quiet --set train.epochs=2 || fail "leftovers of a killed start"
[ -e early/trials/0000.h5 ] || fail "early: no trial file"

# many at once: exactly one wins each folder, the others refuse with the message
for k in 1 2 3 4 5 6; do
  "$BPRUN" run slow.yaml -o race --quiet --set train.epochs=3 >"race$k.out" 2>"race$k.err" &
done
wait
ok=0
for k in 1 2 3 4 5 6; do
  if [ -s "race$k.err" ]; then
    grep -Eqx "bprun: race: in use by another bprun \(pid [0-9]+\); wait for it or use -o" "race$k.err" ||
      fail "race $k: $(cat "race$k.err")"
  else
    ok=$((ok + 1))
  fi
done
[ "$ok" -ge 1 ] || fail "no racing run succeeded"
run_bprun 0 run slow.yaml -o race --quiet --set train.epochs=3 || fail "race folder does not resume"
finish
