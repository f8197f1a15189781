#!/bin/sh
# scripts/bprun-plot: single-trial runs made by bprun (3 learning rates on XOR) and synthetic
# sweeps (tests/make_fake_run.py: 2 optimizers x 4 learning rates x 2 repeats, one diverged;
# map-valued axis with validation and diagnostic columns; a run still going without index.h5)
# give the expected PNGs (signature, size, IHDR dimensions), paths on stdout, notes on stderr;
# a folder that is not a run is refused with a clear message.
. "$BP_SRCDIR/tests/lib.sh"
need_python
"$PYTHON_H5" -c 'import h5py, matplotlib' >/dev/null 2>&1 ||
  skip "no Python with h5py and matplotlib (apt-get install python3-h5py python3-matplotlib)"
export BPRUN_PYTHON="$PYTHON_H5"
export MPLCONFIGDIR="$T/mpl"   # matplotlib's cache: keep it in the temp dir
PLOT=$BP_SRCDIR/scripts/bprun-plot
FAKE=$BP_SRCDIR/tests/make_fake_run.py

# run_plot EXPECTED_EXIT ARGS...: stdout in $T/pout, stderr in $T/perr
run_plot() {
  want=$1
  shift
  sh "$PLOT" "$@" >"$T/pout" 2>"$T/perr"
  got=$?
  if [ "$got" -ne "$want" ]; then
    fail "bprun-plot $* exited $got, expected $want; stderr: $(head -c 800 "$T/perr")"
    return 1
  fi
}

# expect_out 'line1' 'line2'...: stdout is exactly these lines
expect_out() {
  printf '%s\n' "$@" >"$T/want"
  cmp -s "$T/want" "$T/pout" || fail "stdout: expected $(cat "$T/want"); got $(cat "$T/pout")"
}

# check_png FILE WIDTH HEIGHT: a PNG of more than 10 kB with these IHDR dimensions
check_png() {
  f=$1
  [ -f "$f" ] || { fail "$f: missing"; return; }
  sig=$(od -An -tx1 -N16 "$f" | tr -d ' \n')
  [ "$sig" = "89504e470d0a1a0a0000000d49484452" ] || { fail "$f: not a PNG ($sig)"; return; }
  size=$(wc -c <"$f")
  [ "$size" -gt 10240 ] || fail "$f: only $size bytes"
  dims=$(od -An -tu1 -j16 -N8 "$f" |
    awk '{for (i = 1; i <= NF; i++) b[n++] = $i}
         END {printf "%dx%d", ((b[0]*256+b[1])*256+b[2])*256+b[3], ((b[4]*256+b[5])*256+b[6])*256+b[7]}')
  [ "$dims" = "$2x$3" ] || fail "$f: ${dims} pixels, expected $2x$3"
}

skipped_note='bprun-plot: final_vs_<axis>: skipped (no swept numeric axis)'

# 1. single-trial runs written by bprun: loss curves and the accuracy/lr fallback panel
for lr in 0.1 0.5 2; do
  run_bprun 0 run "$BP_SRCDIR/configs/xor.yaml" -o "$T/xor-$lr" --quiet \
    --set train.optimizer.lr=$lr --set train.epochs=200 || finish
  run_plot 0 "$T/xor-$lr" || continue
  expect_out "$T/xor-$lr/plots/loss_curves.png" "$T/xor-$lr/plots/diagnostics.png"
  grep -qxF "$skipped_note" "$T/perr" || fail "no skip note: $(cat "$T/perr")"
  check_png "$T/xor-$lr/plots/loss_curves.png" 990 616
  check_png "$T/xor-$lr/plots/diagnostics.png" 1144 450
done

# 2. a sweep: 2 optimizers x 4 learning rates x 2 repeats, the sgd trial at lr 1 diverged
"$PYTHON_H5" "$FAKE" "$T/grid" || fail "make_fake_run.py grid"
[ -f "$T/grid/trials/0015.h5" ] || fail "fake run: no trial 0015"
run_plot 0 "$T/grid" -o "$T/grid-plots" &&
  expect_out "$T/grid-plots/loss_curves.png" "$T/grid-plots/final_vs_lr.png" \
    "$T/grid-plots/diagnostics.png"
[ -s "$T/perr" ] && fail "unexpected stderr: $(cat "$T/perr")"
[ -e "$T/grid/plots" ] && fail "-o given, yet RUN/plots was created"
check_png "$T/grid-plots/loss_curves.png" 1342 616      # one panel per optimizer
check_png "$T/grid-plots/final_vs_lr.png" 990 616
check_png "$T/grid-plots/diagnostics.png" 1144 450      # accuracy and lr: 2 panels

# 3. one axis of maps {name: ..., lr: ...}, validation and diagnostic columns (5 panels: 3
# columns and a 2-D saturation column split per layer)
"$PYTHON_H5" "$FAKE" "$T/map" --layout map --val --diagnostics || fail "make_fake_run.py map"
run_plot 0 "$T/map" &&
  expect_out "$T/map/plots/loss_curves.png" "$T/map/plots/final_vs_lr.png" \
    "$T/map/plots/diagnostics.png"
check_png "$T/map/plots/loss_curves.png" 1342 616
check_png "$T/map/plots/final_vs_lr.png" 990 616
check_png "$T/map/plots/diagnostics.png" 1628 813

# 4. a run still going: no index.h5, the last trial only as a .part file
"$PYTHON_H5" "$FAKE" "$T/going" --running || fail "make_fake_run.py running"
[ -f "$T/going/trials/0015.h5.part" ] || fail "fake run: no .part file"
run_plot 0 "$T/going" &&
  expect_out "$T/going/plots/loss_curves.png" "$T/going/plots/final_vs_lr.png" \
    "$T/going/plots/diagnostics.png"
grep -qxF "bprun-plot: no index.h5 yet: swept keys taken from the trials' configs: train.optimizer.name, train.optimizer.lr" "$T/perr" ||
  fail "no inferred-axes note: $(cat "$T/perr")"
check_png "$T/going/plots/final_vs_lr.png" 990 616

# 5. --format svg
run_plot 0 "$T/grid" -o "$T/svg" --format svg &&
  expect_out "$T/svg/loss_curves.svg" "$T/svg/final_vs_lr.svg" "$T/svg/diagnostics.svg"
head -c 5 "$T/svg/final_vs_lr.svg" | grep -q '^<?xml' || fail "final_vs_lr.svg is not SVG"

# 6. not a run folder, no folder, bad option
mkdir "$T/empty"
run_plot 1 "$T/empty" &&
  grep -qxF "bprun-plot: $T/empty: not a bprun run folder (no index.h5 and no trials/*.h5)" \
    "$T/perr" || fail "empty folder: $(cat "$T/perr")"
[ -e "$T/empty/plots" ] && fail "plots/ created in a folder that is not a run"
run_plot 1 "$T/nope" &&
  grep -qxF "bprun-plot: $T/nope: no such folder" "$T/perr" || fail "missing folder: $(cat "$T/perr")"
run_plot 2 "$T/grid" --format gif
grep -q "invalid choice: 'gif'" "$T/perr" || fail "--format gif: $(cat "$T/perr")"
finish
