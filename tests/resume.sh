#!/bin/sh
# Kill -9 a sweep at random moments, resume it each time: the final trial files and index equal
# an uninterrupted run's; no file named NNNN.h5 is incomplete; a changed config is refused;
# --force starts over.
. "$BP_SRCDIR/tests/lib.sh"
need_python
py="$PYTHON_H5 $BP_SRCDIR/tests/h5check.py"
write_config "$T/r.yaml" <<'YAML'
experiment: resume
seed: 3
data: {train: "builtin:spirals", standardize: true}
model: {layers: [2, 24, 24, 1], activation: tanh, output: sigmoid, loss: binary_cross_entropy}
train: {epochs: 120, batch_size: 16, shuffle: true, optimizer: {name: sgd, lr: 0.1, momentum: 0.9}}
sweep: {grid: {train.optimizer.lr: [0.02, 0.05, 0.1, 0.2]}, repeats: 2}
YAML
run_bprun 0 run "$T/r.yaml" -o "$T/ref" -j 2 --threads 2 --quiet || finish
kills=0
for k in 1 2 3 4 5 6 7 8; do
  "$BPRUN" run "$T/r.yaml" -o "$T/run" -j 2 --threads 2 --quiet >/dev/null 2>&1 &
  pid=$!
  # a random moment in the first ~1.2 s
  sleep "0.$(awk -v s="$k$$" 'BEGIN {srand(s); printf "%d", 1 + rand() * 11}')"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null
  # every file that looks finished is finished
  for f in "$T"/run/trials/*.h5; do
    [ -e "$f" ] || continue
    s=$($py attr "$f" status) || { fail "$f does not open"; continue; }
    case "$s" in completed|diverged|failed) ;; *) fail "$f looks finished but has status $s" ;; esac
  done
done
run_bprun 0 run "$T/r.yaml" -o "$T/run" -j 2 --threads 2 --quiet || finish
echo "resume: $kills kills" >&2
for f in "$T"/ref/trials/*.h5; do
  b=$(basename "$f")
  [ "$($py digest "$f")" = "$($py digest "$T/run/trials/$b")" ] || fail "$b differs after kills and resume"
done
[ -n "$(ls "$T"/run/trials/*.part 2>/dev/null)" ] && fail ".part files left"
"$PYTHON_H5" - "$T/ref/index.h5" "$T/run/index.h5" <<'PY' || fail "index summaries differ"
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r")["summary"][()] for p in sys.argv[1:3])
for name in a.dtype.names:
    if name in ("wall_seconds", "samples_per_second", "peak_rss_bytes", "work_bytes"):
        continue  # measurements, not results
    x, y = a[name], b[name]
    same = (x == y) | (np.isnan(x) & np.isnan(y)) if x.dtype.kind == "f" else (x == y)
    assert np.all(same), name
PY
# SIGTERM (and SIGINT) stop cleanly: running trials end with status interrupted after their
# current epoch, exit status 143 (130), and the next run resumes (continuing the interrupted
# trials from their saved state) to the same results as an uninterrupted run
long="--sweep train.optimizer.lr=0.05,0.1 --set train.epochs=8000"
# shellcheck disable=SC2086
run_bprun 0 run "$T/r.yaml" -o "$T/longref" -j 2 --threads 2 --quiet $long || finish
for sig in TERM INT; do
  # shellcheck disable=SC2086
  "$BPRUN" run "$T/r.yaml" -o "$T/$sig" -j 2 --threads 2 --quiet $long >"$T/sig.out" 2>&1 &
  pid=$!
  # signal once both trials have written some epochs: a trial file exists from its first
  # flush on, 100 ms into the trial (docs/FORMAT.md); each trial trains for about 0.6 s
  for _ in $(seq 200); do
    [ "$(ls "$T/$sig/trials/"*.part 2>/dev/null | wc -l)" = 2 ] && break
    sleep 0.02
  done
  sleep 0.05
  kill -"$sig" "$pid"
  wait "$pid"
  rc=$?
  want=143; [ "$sig" = INT ] && want=130
  [ "$rc" = "$want" ] || fail "SIG$sig: exit status $rc, expected $want"
  grep -q ' interrupted ' "$T/sig.out" || fail "SIG$sig: no trial interrupted: $(cat "$T/sig.out")"
  # shellcheck disable=SC2086
  run_bprun 0 run "$T/r.yaml" -o "$T/$sig" -j 2 --threads 2 --quiet $long || fail "resume after SIG$sig"
  for f in "$T"/longref/trials/*.h5; do
    [ "$($py digest "$f")" = "$($py digest "$T/$sig/trials/$(basename "$f")")" ] || fail "SIG$sig: $(basename "$f") differs after resume"
  done
done
# a second run of the same config changes nothing and runs nothing
run_bprun 0 run "$T/r.yaml" -o "$T/run" --quiet || fail "rerun of a finished sweep"
# a changed config is refused, naming what changed; --force starts over
run_bprun 2 run "$T/r.yaml" -o "$T/run" --quiet --set train.epochs=121
grep -qx "bprun: $T/run: holds a run of a different config (config line 15 was '  epochs: 120', now '  epochs: 121'); use --force to start over, or -o to choose another folder" "$T/err" \
  || fail "changed config: $(cat "$T/err")"
run_bprun 0 run "$T/r.yaml" -o "$T/run" --quiet --set train.epochs=2 --force || fail "--force"
finish
