#!/bin/sh
# A tree built for one prefix, configured again for another and installed, gives a bprun that
# looks for its plugins and names its documentation under the new prefix, as pkg-config says
# (it used to keep the old prefix compiled in: "optimizer 'adam' not found").
# Runs on a copy of the build tree; the reconfiguration is config.status with the prefix
# changed (what `./configure --prefix=P2` would write, without configure's minutes of checks),
# so only the objects embedding the paths are rebuilt before the install.
. "$BP_SRCDIR/tests/lib.sh"
[ "$BP_SRCDIR" = "$BP_BUILDDIR" ] || skip "a build in a separate folder (its Makefile points at the source by a relative path)"
[ -f "$BP_BUILDDIR/config.status" ] || skip "no config.status"
grep -q '^S\["prefix"\]=' "$BP_BUILDDIR/config.status" ||
  skip "config.status keeps its prefix in another form"
# (files other tests create and remove meanwhile may be missing from the copy: not needed)
cp -a "$BP_BUILDDIR" "$T/tree" 2>/dev/null
cd "$T/tree" && [ -f config.status ] && [ -f Makefile ] || { fail "copying the build tree"; finish; }
p2="$T/p2"
sed -i "s|^S\\[\"prefix\"\\]=.*|S[\"prefix\"]=\"$p2\"|" config.status
./config.status >/dev/null 2>&1 || { fail "config.status failed"; finish; }
grep -q "^prefix = $p2\$" Makefile || { fail "Makefile has not the new prefix"; finish; }
${MAKE:-make} -s install >"$T/make.log" 2>&1 || { fail "make install: $(tail -5 "$T/make.log")"; finish; }
bprun="$p2/bin/bprun"
[ -x "$bprun" ] || { fail "no $bprun"; finish; }
# the installed bprun finds its installed plugins (no BPRUN_PLUGIN_PATH, not in a build tree)
env -u BPRUN_PLUGIN_PATH "$bprun" plugins >"$T/out" 2>&1 || fail "bprun plugins: $(cat "$T/out")"
grep -qx "search path: $p2/lib/bprun/plugins" "$T/out" || fail "search path: $(grep 'search path' "$T/out")"
env -u BPRUN_PLUGIN_PATH "$bprun" validate "$BP_SRCDIR/tests/bad/ok.yaml" \
  --set train.optimizer=adam >"$T/out" 2>&1 || fail "validate with adam: $(cat "$T/out")"
# pkg-config's plugindir is the folder bprun searches
if command -v pkg-config >/dev/null 2>&1; then
  pc=$(PKG_CONFIG_PATH="$p2/lib/pkgconfig" pkg-config --variable=plugindir bprun)
  [ "$pc" = "$p2/lib/bprun/plugins" ] || fail "pkg-config plugindir: $pc"
fi
# --help names the installed documentation folder, and the documents are there
"$bprun" --help >"$T/help" 2>&1
grep -qF "$p2/share/doc/bprun" "$T/help" || fail "--help: $(tail -3 "$T/help")"
for d in README.md CONFIG.md DATA.md FORMAT.md PLUGINS.md DIAGNOSTICS.md PERFORMANCE.md CLUSTER.md; do
  [ -f "$p2/share/doc/bprun/$d" ] || fail "$d not installed in $p2/share/doc/bprun"
done
[ -f "$p2/share/man/man1/bprun.1" ] || fail "man page not installed"
# bprun-plot finds its Python part under the new prefix too
grep -qF "$p2/share/bprun" "$p2/bin/bprun-plot" || fail "bprun-plot does not look in $p2/share/bprun"
[ -f "$p2/share/bprun/bprun_plot.py" ] || fail "bprun_plot.py not installed"
finish
