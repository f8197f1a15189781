#!/bin/sh
# bprun predict and the C API (bprun/model.h, libbprun-model): on a trained iris run (tanh,
# softmax, standardized) and a trained xor net (sigmoid, one output), predict's outputs match
# an independent numpy forward pass from the trial file's weights to 1e-6, its classes give
# bprun eval's accuracy, its CSV and HDF5 outputs are the same floats, a run folder means its
# best trial; the library, installed into a DESTDIR and used out of tree through pkg-config as
# a user would (tests/predict/rows.c and examples/predict.c), gives predict's outputs bit for
# bit; and the errors name the file or object.
. "$BP_SRCDIR/tests/lib.sh"
need_python
py() { "$PYTHON_H5" "$BP_SRCDIR/tests/predict_check.py" "$@"; }

# ---- 1. an iris sweep of two trials; a run folder means its best trial ----
run_bprun 0 import csv "$BP_SRCDIR/data/iris.csv" --label-column species -o "$T/iris.h5#/iris" || finish
write_config "$T/iris.yaml" <<YAML
experiment: iris
data: {train: "$T/iris.h5#/iris", validation: 0.2, standardize: true}
model: {layers: [4, 6, 3], activation: tanh, output: softmax, loss: cross_entropy}
train: {epochs: 30, batch_size: 10, optimizer: {name: sgd, lr: 0.1, momentum: 0.5}}
YAML
run_bprun 0 run "$T/iris.yaml" -o "$T/iris" --quiet --sweep train.optimizer.lr=0.02,0.3 || finish
run_bprun 0 report "$T/iris" --format csv || finish
best=$(awk -F, 'NR == 2 {print $2 + 0}' "$T/out")
[ "$best" = 0 ] || [ "$best" = 1 ] || { fail "no best trial in: $(cat "$T/out")"; finish; }
tf=$T/iris/trials/000$best.h5
run_bprun 0 predict "$T/iris" "$T/iris.h5#/iris" -o "$T/p.h5" || finish
[ ! -s "$T/out" ] || fail "predict -o printed: $(cat "$T/out")"
run_bprun 0 predict "$tf" "$T/iris.h5#/iris" -o "$T/p_file.h5" || finish
run_bprun 0 predict "$T/iris#$((1 - best))" "$T/iris.h5#/iris" -o "$T/p_other.h5" || finish
for f in p p_file p_other; do   # the outputs as text, without the file name's line
  "$PYTHON_H5" -c "import h5py,sys; print(h5py.File(sys.argv[1],'r')['outputs'][()].tobytes().hex())" \
    "$T/$f.h5" >"$T/$f.hex" || fail "reading $f.h5"
done
cmp -s "$T/p.hex" "$T/p_file.hex" || fail "predict RUN is not its best trial $tf"
cmp -s "$T/p.hex" "$T/p_other.hex" && fail "the two trials predict the same: the test cannot tell them apart"
"$PYTHON_H5" - "$T/p.h5" "$T/iris#$best" "$T/iris.h5#/iris" <<'PY' || fail "p.h5 layout"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    t = lambda v: v.decode() if isinstance(v, bytes) else str(v)
    assert t(f.attrs["model"]) == sys.argv[2], f.attrs["model"]
    assert t(f.attrs["data"]) == sys.argv[3], f.attrs["data"]
    assert f["outputs"].shape == (150, 3) and f["class"].shape == (150,)
    assert f["class"].dtype.kind == "i" and f["outputs"].dtype == "float32"
PY

# ---- 2. numpy's forward pass; eval's accuracy ----
acc=$(py forward "$tf" "$T/iris.h5#/iris" "$T/p.h5") || fail "predict and numpy disagree (iris)"
run_bprun 0 eval "$tf" "$T/iris.h5#/iris" || finish
eacc=$(awk '/^accuracy/ {print $2}' "$T/out")
[ "$acc" = "$eacc" ] || fail "predict's classes give accuracy $acc, bprun eval $eacc"

# ---- 3. CSV: standard output, -o x.csv, a labelled CSV and a CSV of features only ----
run_bprun 0 predict "$tf" "$T/iris.h5#/iris" || finish
head -n 1 "$T/out" | grep -qx 'output_0,output_1,output_2,class' || fail "CSV header: $(head -n 1 "$T/out")"
cp "$T/out" "$T/p_stdout.csv"
py same "$T/p.h5" "$T/p_stdout.csv" 1 || fail "CSV on standard output differs from OUT.h5"
run_bprun 0 predict "$tf" "$T/iris.h5#/iris" -o "$T/p.csv" || finish
cmp -s "$T/p.csv" "$T/p_stdout.csv" || fail "-o p.csv differs from standard output"
run_bprun 0 predict "$tf" "$BP_SRCDIR/data/iris.csv" -o "$T/p_lab.csv" || finish
cmp -s "$T/p_lab.csv" "$T/p.csv" || fail "a labelled CSV predicts differently from its HDF5 import"
cut -d, -f1-4 "$BP_SRCDIR/data/iris.csv" >"$T/features.csv"
run_bprun 0 predict "$tf" "$T/features.csv" -o "$T/p_feat.csv" || finish
cmp -s "$T/p_feat.csv" "$T/p.csv" || fail "a CSV of features only predicts differently"

# ---- 4. xor: sigmoid, one output, no standardization ----
write_config "$T/xor.yaml" <<YAML
experiment: xor
data: {train: "builtin:xor"}
model: {layers: [2, 3, 1], activation: sigmoid, output: sigmoid, loss: mse}
train: {epochs: 400, optimizer: {name: sgd, lr: 2.0, momentum: 0.5}}
YAML
run_bprun 0 run "$T/xor.yaml" -o "$T/xor" --quiet || finish
run_bprun 0 import builtin:xor -o "$T/xor.h5#/xor" || finish
run_bprun 0 predict "$T/xor" builtin:xor -o "$T/x.h5" || finish
run_bprun 0 predict "$T/xor" "$T/xor.h5#/xor" -o "$T/x2.h5" || finish
xacc=$(py forward "$T/xor/trials/0000.h5" "$T/xor.h5#/xor" "$T/x.h5") || fail "predict and numpy disagree (xor)"
run_bprun 0 eval "$T/xor" builtin:xor || finish
[ "$xacc" = "$(awk '/^accuracy/ {print $2}' "$T/out")" ] || fail "xor: accuracy $xacc, eval: $(cat "$T/out")"

# ---- 5. the C API out of tree: install into a DESTDIR, build with pkg-config ----
cc=${BP_CC:-cc}
pkgconfig=${BP_PKG_CONFIG:-pkg-config}
if ! command -v "$pkgconfig" >/dev/null 2>&1; then
  echo "no pkg-config: the out-of-tree C API checks are skipped" >&2
  finish
fi
inst=$T/inst
MAKEFLAGS= MFLAGS= MAKELEVEL= ${BP_MAKE:-make} -C "$BP_BUILDDIR" install-libLTLIBRARIES \
  install-bpincludeHEADERS install-pkgconfigDATA DESTDIR="$inst" >"$T/install.log" 2>&1 ||
  { fail "library install failed: $(tail -5 "$T/install.log")"; finish; }
pc=$(find "$inst" -name bprun-model.pc)
[ -f "$pc" ] || { fail "bprun-model.pc not installed"; finish; }
find "$inst" -path '*/include/bprun/model.h' | grep -q . || fail "bprun/model.h not installed"
PKG_CONFIG_LIBDIR=$(dirname "$pc")
PKG_CONFIG_PATH=
PKG_CONFIG_SYSROOT_DIR=$inst
export PKG_CONFIG_LIBDIR PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
flags=$("$pkgconfig" --cflags --libs bprun-model) || { fail "pkg-config bprun-model failed"; finish; }
libdir=$(dirname "$(find "$inst" -name 'libbprun-model.so' | head -n 1)")
mkdir "$T/user" && cp "$BP_SRCDIR/tests/predict/rows.c" "$BP_SRCDIR/examples/predict.c" "$T/user/" &&
  chmod u+w "$T/user/rows.c" "$T/user/predict.c"
(cd "$T/user" && $cc ${BP_SAN_CFLAGS:-} rows.c $flags -o rows &&
  $cc ${BP_SAN_CFLAGS:-} predict.c $flags -o predict) >"$T/cc.log" 2>&1 ||
  { fail "building against the installed library failed: $(cat "$T/cc.log")"; finish; }
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

py rows "$T/iris.h5#/iris" >"$T/iris_rows.txt" || fail "rows"
"$T/user/rows" "$tf" <"$T/iris_rows.txt" >"$T/api.txt" 2>"$T/api.err" ||
  fail "rows (C API) on $tf: $(cat "$T/api.err")"
py same "$T/p.h5" "$T/api.txt" || fail "the C API's iris outputs are not predict's bits"
py rows "$T/xor.h5#/xor" >"$T/xor_rows.txt" || fail "rows"
"$T/user/rows" "$T/xor/trials/0000.h5" <"$T/xor_rows.txt" >"$T/xapi.txt" 2>"$T/api.err" ||
  fail "rows (C API) on xor: $(cat "$T/api.err")"
py same "$T/x.h5" "$T/xapi.txt" || fail "the C API's xor outputs are not predict's bits"

# with no plugin folder (none in BPRUN_PLUGIN_PATH; the program is not in a build tree; the
# configured plugin folder is not installed, or holds the same plugins), the library takes
# bprun's own activations compiled into it: the same bits
(unset BPRUN_PLUGIN_PATH; "$T/user/rows" "$tf" <"$T/iris_rows.txt" >"$T/api0.txt" 2>"$T/api.err") ||
  fail "rows (C API) without plugin folders: $(cat "$T/api.err")"
py same "$T/p.h5" "$T/api0.txt" || fail "the built-in activations do not give predict's bits"

# a user's activation named sigmoid (tests/fake/usersig.c: libm's expf, other bits than bprun's
# own) trained with and found on the search path: predict and the library run it through the
# plugin ABI, and it wins over the built-in sigmoid
userpath=$BP_BUILDDIR/tests/user/.libs:$BPRUN_PLUGIN_PATH
BPRUN_PLUGIN_PATH=$userpath run_bprun 0 run "$T/xor.yaml" -o "$T/xoru" --quiet || finish
BPRUN_PLUGIN_PATH=$userpath run_bprun 0 predict "$T/xoru" builtin:xor -o "$T/xu.h5" || finish
BPRUN_PLUGIN_PATH=$userpath "$T/user/rows" "$T/xoru/trials/0000.h5" <"$T/xor_rows.txt" \
  >"$T/xuapi.txt" 2>"$T/api.err" || fail "rows (C API) with a user's sigmoid: $(cat "$T/api.err")"
py same "$T/xu.h5" "$T/xuapi.txt" || fail "the C API's outputs with a user's sigmoid are not predict's bits"
(unset BPRUN_PLUGIN_PATH; "$T/user/rows" "$T/xoru/trials/0000.h5" <"$T/xor_rows.txt" >"$T/xu0.txt" 2>"$T/api.err") ||
  fail "rows (C API) on the user's net without plugin folders: $(cat "$T/api.err")"
py same "$T/xu.h5" "$T/xu0.txt" 2>/dev/null &&
  fail "the built-in sigmoid gave the user's sigmoid's bits: the test cannot tell them apart"

# the example: one row from the command line, the outputs of predict's first row
"$T/user/predict" "$tf" $(head -n 1 "$T/iris_rows.txt") >"$T/ex.txt" 2>"$T/ex.err" ||
  fail "examples/predict: $(cat "$T/ex.err")"
awk 'NR == 2' "$T/p_stdout.csv" | tr ',' '\n' >"$T/want.txt"
awk '{print $2}' "$T/ex.txt" >"$T/got.txt"
cmp -s "$T/want.txt" "$T/got.txt" || fail "examples/predict: $(cat "$T/ex.txt"); predict: $(cat "$T/want.txt")"
"$T/user/predict" "$T/nowhere.h5" 1 2 3 4 >/dev/null 2>"$T/ex.err" && fail "example on a missing file succeeded"
grep -qx "predict: $T/nowhere.h5: cannot open: No such file or directory" "$T/ex.err" ||
  fail "C API error for a missing file: $(cat "$T/ex.err")"

# ---- 6. errors: one line naming the file or object ----
expect_err 2 "bprun: builtin:xor: X has 2 features but the model $tf takes 4" predict "$tf" builtin:xor
expect_err 2 "bprun: $T/iris.h5#/iris: X has 4 features but the model $T/xor#0 takes 2" \
  predict "$T/xor" "$T/iris.h5#/iris"
cp "$tf" "$T/nomodel.h5" && chmod u+w "$T/nomodel.h5"
"$PYTHON_H5" -c "import h5py,sys; f=h5py.File(sys.argv[1],'a'); del f['model']" "$T/nomodel.h5"
expect_err 1 "bprun: $T/nomodel.h5: no saved model (/model missing); the trial may not have finished" \
  predict "$T/nomodel.h5" "$T/iris.h5#/iris"
cp "$tf" "$T/badact.h5" && chmod u+w "$T/badact.h5"
"$PYTHON_H5" - "$T/badact.h5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "a") as f:
    f["model/layer_0"].attrs["activation"] = "nosuchact"
    f["model"].attrs["activations"] = np.array(["nosuchact", "softmax"], dtype=h5py.string_dtype())
PY
run_bprun 2 predict "$T/badact.h5" "$T/iris.h5#/iris"
grep -q "^bprun: $T/badact.h5: activation 'nosuchact' not found; searched: .*, and the built-in activations\$" "$T/err" ||
  fail "unknown activation: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "more than one line: $(cat "$T/err")"
cp "$T/err" "$T/predict.err"
# bprun eval loads the net through the same loader (modelapi.c): the same message
run_bprun 2 eval "$T/badact.h5" "$T/iris.h5#/iris"
cmp -s "$T/err" "$T/predict.err" || fail "eval's unknown activation: $(cat "$T/err"); predict's: $(cat "$T/predict.err")"
"$T/user/predict" "$T/badact.h5" 1 2 3 4 >/dev/null 2>"$T/ex.err" && fail "example on badact.h5 succeeded"
grep -q "^predict: $T/badact.h5: activation 'nosuchact' not found" "$T/ex.err" ||
  fail "C API error for an unknown activation: $(cat "$T/ex.err")"
expect_err 2 "bprun: $T/p.h5: exists (use --force to replace it)" predict "$tf" "$T/iris.h5#/iris" -o "$T/p.h5"
run_bprun 0 predict "$tf" "$T/iris.h5#/iris" -o "$T/p.h5" --force
expect_err 2 "bprun predict: expected RUN or TRIAL_FILE, and DATA" predict "$tf"
expect_err 2 "bprun predict: --output: expected a file ending in .h5 or .csv (got 'x.txt')" \
  predict "$tf" "$T/iris.h5#/iris" -o x.txt
cut -d, -f1-3 "$BP_SRCDIR/data/iris.csv" >"$T/three.csv"
expect_err 2 "bprun: $T/three.csv: 3 columns but the model $tf takes 4 features (and optionally a last column of labels)" \
  predict "$tf" "$T/three.csv"
mkdir "$T/empty"
expect_err 2 "bprun: $T/empty/index.h5: no run index here (is it a bprun run folder?)" \
  predict "$T/empty" "$T/iris.h5#/iris"
run_bprun 0 help predict || finish
grep -q '^usage: bprun predict RUN|TRIAL_FILE DATA' "$T/out" || fail "help predict: $(cat "$T/out")"
finish
