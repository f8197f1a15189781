#!/bin/sh
# Group commit (docs/FORMAT.md, "Writing protocol"): sweeps of many short trials, which end
# close together and share fsyncs, are killed with SIGKILL at random moments. Every trial the
# killed run reported finished (its progress line) must be complete on disk as trials/<id>.h5
# (h5py: status completed, every epoch, the model), and the resumed run must train exactly the
# trials that have no such file, ending with all of them completed. BP_TEST_KILLS=N kills N
# times (default 8; a stress run: BP_TEST_KILLS=200).
. "$BP_SRCDIR/tests/lib.sh"
need_python

write_config "$T/c.yaml" <<'YAML'
experiment: commit
seed: 3
data: {train: "builtin:xor"}
model: {layers: [2, 2, 1], activation: sigmoid, output: sigmoid, loss: mse}
train: {epochs: 20, batch_size: 1, shuffle: false, optimizer: {name: sgd, lr: 0.5}}
sweep: {repeats: 400}
YAML

check_complete() { # RUN IDS...: every listed trial file is complete
  "$PYTHON_H5" - "$@" <<'PY'
import sys, h5py
run, ids = sys.argv[1], sys.argv[2:]
bad = 0
for i in ids:
    try:
        with h5py.File("%s/trials/%s.h5" % (run, i), "r") as f:
            ok = (f.attrs["status"] == "completed" and int(f.attrs["epochs_done"]) == 20
                  and f["epochs/loss"].shape == (20,) and f["model/params"].shape == (9,))
    except Exception as e:
        ok = False
        print("trial %s: %s" % (i, e), file=sys.stderr)
    if not ok:
        bad += 1
        print("trial %s reported finished but not complete on disk" % i, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

# a bad interval is refused before the run folder is made
BPRUN_COMMIT_MS=5000 expect_err 2 "bprun: BPRUN_COMMIT_MS: expected milliseconds from 0 to 1000 (got '5000')" run "$T/c.yaml" -o "$T/bad"
[ -e "$T/bad" ] && fail "BPRUN_COMMIT_MS=5000: the run folder was made"
BPRUN_COMMIT_MS=x1 expect_err 2 "bprun: BPRUN_COMMIT_MS: expected milliseconds from 0 to 1000 (got 'x1')" run "$T/c.yaml" -o "$T/bad"

kills=${BP_TEST_KILLS:-8}
k=0
reported_total=0
lost=0
while [ $k -lt "$kills" ]; do
  k=$((k + 1))
  rm -rf "$T/run"
  BPRUN_COMMIT_MS=$(( (k % 3) * 100 )) "$BPRUN" run "$T/c.yaml" -o "$T/run" -j 2 \
    2>"$T/err.$k" >/dev/null &
  pid=$!
  # 20 to 600 ms after the start: before, during and after the first commits
  sleep "$(awk -v k=$k 'BEGIN { srand(k); printf "%.3f", 0.02 + rand() * 0.58 }')"
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  grep -aE '^trial [0-9]{4} completed .*\(repeat [0-9]+\)$' "$T/err.$k" |
    cut -d' ' -f2 >"$T/reported.$k"
  n=$(wc -l <"$T/reported.$k")
  reported_total=$((reported_total + n))
  if [ "$n" -gt 0 ] && ! check_complete "$T/run" $(cat "$T/reported.$k"); then
    lost=$((lost + 1))
    fail "kill $k: a trial reported finished is not complete on disk"
  fi
  [ -d "$T/run/trials" ] || continue
  on_disk=$(find "$T/run/trials" -name '*.h5' | wc -l)
  [ "$on_disk" -ge "$n" ] || fail "kill $k: $n trials reported, $on_disk trial files"
  # the resumed run trains exactly the others, and ends with all 400 completed
  "$BPRUN" run "$T/c.yaml" -o "$T/run" -j 2 2>"$T/resume.$k" >/dev/null ||
    fail "kill $k: resume failed: $(tail -n 3 "$T/resume.$k")"
  trained=$(grep -acE '^trial [0-9]{4} completed' "$T/resume.$k")
  [ "$trained" -eq $((400 - on_disk)) ] ||
    fail "kill $k: resume trained $trained trials, expected $((400 - on_disk)) (400 - $on_disk on disk)"
  [ "$(find "$T/run/trials" -name '*.h5' | wc -l)" -eq 400 ] ||
    fail "kill $k: after the resume, not 400 trial files"
  [ -z "$(find "$T/run/trials" -name '*.part')" ] || fail "kill $k: .part files left after the resume"
done
echo "groupcommit: $kills kills, $reported_total trials reported finished before a kill, $lost kills lost one" >&2
[ "$reported_total" -gt 0 ] || fail "no kill came after a commit: the test checked nothing"
finish
