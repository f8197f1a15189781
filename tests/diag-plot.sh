#!/bin/sh
# The plot script on diagnostics runs: the diagnostics figure gets the panel of the loss along
# the path (/diagnostics/path) when the trials have one. Three per-epoch columns fill one row of
# panels; the path panel adds a second, so the figure is taller than with diagnostics.path off.
# The trials are coloured by their diagnostics verdict (--dump: the verdicts and the legend).
. "$BP_SRCDIR/tests/lib.sh"
need_python
"$PYTHON_H5" -c 'import h5py, matplotlib' >/dev/null 2>&1 ||
  skip "no Python with h5py and matplotlib (apt-get install python3-h5py python3-matplotlib)"
export BPRUN_PYTHON="$PYTHON_H5"
export MPLCONFIGDIR="$T/mpl"
cfg=$BP_SRCDIR/configs/xor.yaml
cols='grad_norm: true, weight_norm: true, distance: true, update_ratio: false, saturation: false, dead_relu: false, plateau: false, hessian: {at: off}'
for p in on off; do
  path='path: {points: 9, extend: 0.5}'
  [ $p = off ] && path='path: false'
  run_bprun 0 run "$cfg" -o "$T/$p" --quiet --set train.epochs=200 --set sweep.repeats=2 \
      --set "diagnostics={$cols, $path}" || finish
  sh "$BP_SRCDIR/scripts/bprun-plot" "$T/$p" -o "$T/$p-plots" --dump "$T/$p.dump" \
      >"$T/pout" 2>"$T/perr" ||
    fail "bprun-plot $p: $(cat "$T/perr")"
  f=$T/$p-plots/diagnostics.png
  [ -s "$f" ] || { fail "no $f: $(cat "$T/pout" "$T/perr")"; finish; }
  # PNG height: IHDR bytes 20..23
  od -An -tx1 -j20 -N4 "$f" | tr -d ' \n' >"$T/h-$p"
done
h_on=$((0x$(cat "$T/h-on"))); h_off=$((0x$(cat "$T/h-off")))
[ "$h_on" -gt "$h_off" ] || fail "path panel missing: height $h_on with the path, $h_off without"
# the trials are coloured by their verdict (here "stationary": no curvature without the
# Hessian), as the trial files' attribute says, with a legend that counts them
"$PYTHON_H5" - "$T/on" "$T/on.dump" <<'EOF' || fail "verdict colouring"
import glob, json, os, sys
import h5py
run, dump = sys.argv[1:]
want = {}
for f in glob.glob(os.path.join(run, "trials", "*.h5")):
    with h5py.File(f, "r") as h:
        v = h.attrs["verdict"]
        want["%04d" % int(h.attrs["trial"])] = v.decode() if isinstance(v, bytes) else v
d = json.load(open(dump))
legend = {}
for v in want.values():
    legend[v] = legend.get(v, 0) + 1
legend = sorted("%s (%d)" % kv for kv in legend.items())
if not want or d.get("verdicts") != want or sorted(d.get("verdict_colors", {})) != legend:
    print("FAIL: verdicts %s, legend %s; the trials say %s" % (d.get("verdicts"),
          d.get("verdict_colors"), want), file=sys.stderr)
    sys.exit(1)
EOF
finish
