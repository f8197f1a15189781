#!/bin/sh
# bprun trace: the worked example of docs/BACKPROP.md (the doc's blocks are what bprun and the
# independent script print; bprun's csv agrees with the script's hand computation digit for
# digit, updates within float32 resolution); trace goes through run's own training path (the
# weights after K traced steps are the weights run saves); --sample, --batch, --step, formats;
# exit codes and messages for bad options.
. "$BP_SRCDIR/tests/lib.sh"
DOC=$BP_SRCDIR/docs/BACKPROP.md
WE=$BP_SRCDIR/configs/worked-example.yaml
PY=${PYTHON_H5:-}
[ -n "$PY" ] || PY=$(command -v python3 || true)

# doc_block MARKER: the fenced block after the line "<!-- worked-example: MARKER -->"
doc_block() {
  awk -v m="<!-- worked-example: $1 -->" '
    $0 == m {found = 1; next}
    found == 1 && /^```/ {found = 2; next}
    found == 2 && /^```/ {exit}
    found == 2 {print}' "$DOC"
}

# 1. the worked example, as the doc shows it
run_bprun 0 trace "$WE" || finish
doc_block 'the output of bprun trace configs/worked-example.yaml' >"$T/doc-trace"
[ -s "$T/doc-trace" ] || fail "no trace block in docs/BACKPROP.md"
# the doc shows the path as typed from the source tree
sed "s|$WE|configs/worked-example.yaml|" "$T/out" >"$T/trace"
cmp -s "$T/doc-trace" "$T/trace" || fail "docs/BACKPROP.md trace block differs from bprun trace: $(diff "$T/doc-trace" "$T/trace")"
# a few numbers of the derivation, spelled out (so a change of the doc's block alone fails)
grep -qx '2      0         0.839131      0.698282    -0.0635672    -0.0635672' "$T/out" || fail "output node: $(cat "$T/out")"
grep -qx '1      2             0.71      0.670401   -0.00842761   -0.00842761' "$T/out" || fail "hidden node 2"
grep -qx 'loss before the step  0.0455168' "$T/out" || fail "loss before"
grep -qx 'loss after the step   0.0411947  (the same batch)' "$T/out" || fail "loss after"
grep -qx '2      0     w2               0.6    -0.0426155     0.0213078      0.621308' "$T/out" || fail "W2[2] row"

if [ -n "$PY" ]; then
  "$PY" "$BP_SRCDIR/tests/trace/worked_example.py" >"$T/hand" || fail "worked_example.py failed"
  doc_block 'the output of python3 tests/trace/worked_example.py' >"$T/doc-hand"
  cmp -s "$T/doc-hand" "$T/hand" || fail "docs/BACKPROP.md hand block differs from worked_example.py: $(diff "$T/doc-hand" "$T/hand")"
  "$PY" "$BP_SRCDIR/tests/trace/worked_example.py" --csv >"$T/hand.csv" || fail "worked_example.py --csv failed"
  run_bprun 0 trace "$WE" --format csv || finish
  cp "$T/out" "$T/trace.csv"
  # every field equal, but the update (column 10): |bprun - hand| <= float32 resolution of w
  paste -d '|' "$T/trace.csv" "$T/hand.csv" | awk -F'|' '
    function abs(v) { return v < 0 ? -v : v }
    { n = split($1, a, ","); m = split($2, b, ",")
      if (n != m) { print "line " NR ": " n " vs " m " fields"; bad = 1; next }
      for (i = 1; i <= n; i++) {
        if (a[i] == b[i]) continue
        if (i == 10 && abs(a[i] - b[i]) <= 6e-8 * (abs(a[9]) + abs(a[11])) + 1e-5 * abs(b[i])) continue
        print "line " NR " field " i ": bprun " a[i] ", by hand " b[i]; bad = 1 } }
    END { exit bad }' >"$T/csvdiff" || fail "bprun trace --format csv differs from the hand computation: $(cat "$T/csvdiff")"
  [ "$(wc -l <"$T/trace.csv")" -eq 18 ] || fail "csv has $(wc -l <"$T/trace.csv") lines"
else
  echo "SKIP (part): no python3 for the hand computation" >&2
fi

# 2. trace uses run's training path: after K steps of trace (batch mode), the "before" weights
#    of step K+1 are the weights run saves after K steps (xor: 4 steps per epoch, no shuffle)
XOR=$BP_SRCDIR/configs/xor.yaml
run_bprun 0 trace "$XOR" --step 4 --format csv || finish
cp "$T/out" "$T/step5.csv"
run_bprun 0 run "$XOR" -o "$T/xor1" --quiet --set train.epochs=1 || finish
if [ -n "${PYTHON_H5:-}" ]; then
  "$PYTHON_H5" - "$T/xor1/trials/0000.h5" "$T/step5.csv" <<'PYEOF' || fail "trace --step 4 does not start from run's weights after 4 steps"
import sys, h5py
p = h5py.File(sys.argv[1], "r")["model/params"][:]
# params layout: W1 (2x2), b1 (2), W2 (1x2), b2 (1)
want = {("1", "0", "0"): p[0], ("1", "0", "1"): p[1], ("1", "1", "0"): p[2], ("1", "1", "1"): p[3],
        ("1", "0", ""): p[4], ("1", "1", ""): p[5], ("2", "0", "0"): p[6], ("2", "0", "1"): p[7],
        ("2", "0", ""): p[8]}
seen = 0
for line in open(sys.argv[2]).read().splitlines()[1:]:
    f = line.split(",")
    key = (f[1], f[2], f[3])
    if f[0] in ("node", "weight") and key in want:
        if "%.6g" % want[key] != f[8]:
            sys.exit("%s: run %.6g, trace before %s" % (key, want[key], f[8]))
        seen += 1
sys.exit(0 if seen == 9 else "saw %d of 9 parameters" % seen)
PYEOF
fi
# step 5 of run (epoch 2, row 0) is --sample 0 after 4 steps: same numbers
run_bprun 0 trace "$XOR" --step 4 --sample 0 --format csv || finish
cmp -s "$T/out" "$T/step5.csv" || fail "--sample 0 --step 4 differs from --step 4: $(diff "$T/out" "$T/step5.csv")"
run_bprun 0 trace "$XOR" --step 4 || finish
grep -qx 'step 5 of the run (epoch 2): its batch is 1 row, training row 0' "$T/out" || fail "step 5 header: $(head -3 "$T/out")"
run_bprun 0 trace "$XOR" --sample 3 --step 1 || finish
grep -qx 'step 2 of the run (epoch 1): one sample, training row 3' "$T/out" || fail "--sample header: $(head -3 "$T/out")"
grep -qx 'input x = (1, 1), target y = (0)' "$T/out" || fail "--sample 3 input: $(sed -n 5p "$T/out")"
# full batch: 4 rows, gradients are batch means; the batch loss is the mean of the 4 rows'
run_bprun 0 trace "$XOR" --batch --set train.batch_size=full || finish
grep -qx 'step 1 of the run (epoch 1): its batch is 4 rows, training rows 0, 1, 2, 3' "$T/out" || fail "batch header: $(head -3 "$T/out")"
grep -qx 'z, activation and error term: row 0; gradients: means over the batch' "$T/out" || fail "batch note"
grep -q '^weights into layer 1 (sigmoid): .* (batch mean); update = after - before$' "$T/out" || fail "batch-mean note"
# json parses and carries the same loss as text
run_bprun 0 trace "$WE" --format json || finish
if [ -n "$PY" ]; then
  "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["loss"]["before"] == 0.0455168, d["loss"]; assert d["layers"][1]["nodes"][0]["error_term"] == -0.0635672; assert d["optimizer"]["hp"]["nesterov"] is False; assert len(d["layers"][0]["nodes"][2]["weights"]["update"]) == 2' "$T/out" || fail "json: $(head -c 400 "$T/out")"
fi
# a wide layer: text shows 8 incoming weights and counts the rest; csv lists all
run_bprun 0 trace "$XOR" --set data.train=builtin:parity:10 --set 'model.layers=[10, 3, 1]' || finish
grep -qx '1      0     ...     (2 more weights; --format csv lists all)' "$T/out" || fail "wide layer: $(sed -n '/weights into layer 1/,+12p' "$T/out")"

# 3. bad options: usage errors exit 2 with the message and a hint
expect_err 2 "bprun trace: --sample and --batch exclude each other" trace "$XOR" --sample 1 --batch
expect_err 2 "bprun trace: --sample: expected a training row, 0 or more (got '-1')" trace "$XOR" --sample -1
expect_err 2 "bprun trace: --step: expected a number of steps, 0 or more (got 'x')" trace "$XOR" --step x
expect_err 2 "bprun trace: --format: expected text, csv or json (got 'xml')" trace "$XOR" --format xml
expect_err 2 "bprun trace: unknown option '--steps'" trace "$XOR" --steps 3
expect_err 2 "bprun trace: missing CONFIG" trace
grep -qx "Try 'bprun trace --help'." "$T/err" || fail "no help hint: $(cat "$T/err")"
expect_err 2 "bprun: --sample 4: the training set has 4 rows (0 to 3)" trace "$XOR" --sample 4
expect_err 2 "bprun: --step 20000: the run makes 20000 steps (5000 epochs x 4 batches); trace one of steps 1 to 20000 with --step 0 to 19999" trace "$XOR" --step 20000
# divergence before the traced step is a run-time failure
expect_err 1 "bprun: trace: step 61 was not reached: training loss became infinite at epoch 1" \
  trace "$XOR" --step 60 --set train.optimizer.lr=100 --set model.output=identity --set model.activation=identity
run_bprun 0 help trace || fail "help trace"
grep -q '^usage: bprun trace CONFIG' "$T/out" || fail "help trace text"
finish
