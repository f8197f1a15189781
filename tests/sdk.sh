#!/bin/sh
# The plugin SDK as a user meets it: install bprun's SDK (bprun/plugin.h and bprun.pc) into a
# temporary DESTDIR, build the out-of-tree optimizer tests/sdk/signsgd.c against the INSTALLED
# files with pkg-config, list it with `bprun plugins`, and train with it named by path.
. "$BP_SRCDIR/tests/lib.sh"

cc=${BP_CC:-cc}
pkgconfig=${BP_PKG_CONFIG:-pkg-config}
command -v "$pkgconfig" >/dev/null 2>&1 || skip "no pkg-config"

# 1. install the SDK (only the header and the .pc file; MAKEFLAGS of the running make check
#    must not leak into this one)
inst=$T/inst
MAKEFLAGS= MFLAGS= MAKELEVEL= ${BP_MAKE:-make} -C "$BP_BUILDDIR" \
  install-bpincludeHEADERS install-pkgconfigDATA DESTDIR="$inst" >"$T/install.log" 2>&1 ||
  { fail "SDK install failed: $(tail -5 "$T/install.log")"; finish; }
pc=$(find "$inst" -name bprun.pc)
hdr=$(find "$inst" -path '*/include/bprun/plugin.h')
[ -f "$pc" ] || { fail "bprun.pc not installed"; finish; }
[ -f "$hdr" ] || { fail "bprun/plugin.h not installed"; finish; }
cmp -s "$hdr" "$BP_SRCDIR/include/bprun/plugin.h" || fail "installed header differs from the source"

# 2. pkg-config as the user has it, pointed at the DESTDIR copy (SYSROOT prefixes -I paths)
PKG_CONFIG_LIBDIR=$(dirname "$pc")
PKG_CONFIG_PATH=
PKG_CONFIG_SYSROOT_DIR=$inst
export PKG_CONFIG_LIBDIR PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
cflags=$("$pkgconfig" --cflags bprun) || { fail "pkg-config --cflags bprun failed"; finish; }
cflags=$(echo $cflags)  # pkgconf ends the line with a blank
[ "$cflags" = "-I$(dirname "$(dirname "$hdr")")" ] ||
  fail "pkg-config --cflags bprun: '$cflags', expected -I$(dirname "$(dirname "$hdr")")"
plugindir=$("$pkgconfig" --variable=plugindir bprun)
case $plugindir in
  */bprun/plugins) ;;
  *) fail "pkg-config --variable=plugindir bprun: '$plugindir'" ;;
esac

# 3. build the plugin out of tree, exactly as docs/PLUGINS.md tells a user (from its own folder,
#    so nothing but the installed header can be found)
cp "$BP_SRCDIR/tests/sdk/signsgd.c" "$BP_SRCDIR/tests/sdk/signsgd.yaml" "$T/"
chmod u+w "$T/signsgd.c" "$T/signsgd.yaml"
(cd "$T" && $cc -shared -fPIC $cflags signsgd.c -o signsgd.so) >"$T/cc.log" 2>&1 ||
  { fail "cc -shared -fPIC $cflags signsgd.c failed: $(cat "$T/cc.log")"; finish; }

# 4. bprun shows it, by path and by name from a plugin directory
run_bprun 0 plugins "$T/signsgd.so" || finish
grep -q "^optimizer  signsgd  *$T/signsgd.so\$" "$T/out" || fail "plugins by path: $(cat "$T/out")"
grep -q 'signSGD/signum: w -= lr\*sign(m) (Bernstein et al., ICML 2018)' "$T/out" ||
  fail "no summary: $(cat "$T/out")"
grep -q '^ *lr  *default 0.001  *(0, inf)  step of every weight$' "$T/out" ||
  fail "no lr line: $(cat "$T/out")"
grep -q '^ *momentum  *default 0  *\[0, 1)  ' "$T/out" || fail "no momentum line: $(cat "$T/out")"
mkdir "$T/myplugins" && cp "$T/signsgd.so" "$T/myplugins/"
BPRUN_PLUGIN_PATH=$T/myplugins run_bprun 0 plugins signsgd || finish
grep -q "^optimizer  signsgd  *$T/myplugins/signsgd.so\$" "$T/out" ||
  fail "plugins by name: $(cat "$T/out")"

# 5. train with it: name: ./signsgd.so is relative to the config's folder. One epoch first, for
#    the starting loss; then the full run must end far lower, with XOR solved.
cd "$T" || finish
run_bprun 0 run signsgd.yaml -o "$T/run1" --quiet --set train.epochs=1 || finish
loss1=$(awk '/^0000/ {print $4}' "$T/out")
run_bprun 0 run signsgd.yaml -o "$T/run" --quiet || finish
grep -q '^0000   completed  *300 ' "$T/out" || fail "trial not completed: $(cat "$T/out")"
loss=$(awk '/^0000/ {print $4}' "$T/out")
acc=$(awk '/^0000/ {print $5}' "$T/out")
awk -v a="$loss1" -v b="$loss" 'BEGIN {exit !(a > 0.15 && b < 0.01 && b < a / 20)}' ||
  fail "loss did not decrease as expected: epoch 1 $loss1, epoch 300 $loss"
[ "$acc" = "1.0000" ] || fail "accuracy $acc"

# 6. a misspelt hyperparameter of the user's plugin lists the valid ones
expect_err 2 "bprun: --set:1:1: train.optimizer.momentun: signsgd has no hyperparameter 'momentun' (did you mean 'momentum'?; valid: lr, momentum)" \
  run signsgd.yaml -o "$T/run2" --quiet --set train.optimizer.momentun=0.5
expect_err 2 "bprun: --set:1:1: train.optimizer.momentum: must be in [0, 1) (got 1)" \
  run signsgd.yaml -o "$T/run2" --quiet --set train.optimizer.momentum=1
finish
