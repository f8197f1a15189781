#!/bin/sh
# Provenance a referee can check: a trial file (and the index) records the git describe of the
# build (when built from a git checkout; else the release), the command line (shell-quoted),
# the absolute path and SHA-256 of every plugin file and data file (sha256sum's digests).
# Resuming a run, or --continue of a trial, whose data file or user plugin changed is refused
# naming the file; --allow-changed goes on and records the change.
. "$BP_SRCDIR/tests/lib.sh"
need_python

mkdir "$T/plug"
cp "$BP_BUILDDIR/tests/continue/.libs/fake_nolr.so" "$T/plug/" || fail "no fake_nolr.so"
run_bprun 0 import builtin:xor -o "$T/xor data.h5#/train" || finish
write_config "$T/c.yaml" <<'YAML'
experiment: prov
seed: 2
data: {train: "xor data.h5#/train", validation: "builtin:xor"}
model: {layers: [2, 3, 1], activation: tanh, output: sigmoid, loss: binary_cross_entropy}
train: {epochs: 3, batch_size: 4, optimizer: {name: fake_nolr}}
YAML
cd "$T" || exit 1

# the provenance block: expected lines (the sha256sum digests) and the command line
sha() { sha256sum "$1" | cut -c1-64; }
expect_prov() { # FILE WHAT: FILE's provenance has the git line, the inputs and the command
  "$PYTHON_H5" - "$1" "$BP_SRCDIR" "$T" "$BPRUN" "$(sha "$T/plug/fake_nolr.so")" \
    "$(sha "$T/xor data.h5")" "$(sha "$BP_BUILDDIR/plugins/.libs/tanh.so")" \
    "$(sha "$BP_BUILDDIR/plugins/.libs/sigmoid.so")" "$(cd "$BP_SRCDIR" && git rev-parse --show-toplevel 2>/dev/null)" \
    "$(cd "$BP_SRCDIR" && git rev-parse -q --verify HEAD 2>/dev/null)" "$(cd "$BP_SRCDIR" && pwd -P)" <<'PY' || fail "$2"
import h5py, os, shlex, sys
f, src, t, bprun, s_nolr, s_data, s_tanh, s_sig, top, head, src_real = sys.argv[1:12]
lines = h5py.File(f, "r").attrs["provenance"]
lines = lines.decode() if isinstance(lines, bytes) else lines
lines = lines.splitlines()
assert all(": " in l for l in lines), lines
kv = [l.split(": ", 1) for l in lines]
one = {k: v for k, v in kv}
git = one["git"]
if top and head and top == src_real:  # built from a git checkout: its commit
    commit = git.replace("-dirty", "").rsplit("-g", 1)[-1]
    assert len(commit) >= 7 and head.startswith(commit), (git, head)
else:                              # a release tarball
    assert git.startswith("none (release "), git
argv = shlex.split(one["command"])
assert argv == [bprun, "run", os.path.join(t, "c.yaml"), "-o", "r un", "--quiet",
                "--plugin-path", os.path.join(t, "plug"), "--set", "experiment='prov'"] + \
    sys.argv[12:], (one["command"], argv)
real = os.path.realpath
plugins = [v for k, v in kv if k == "plugin"]
want = ["%s %s" % (s_nolr, real(t + "/plug/fake_nolr.so")),
        "%s %s" % (s_tanh, real(os.environ["BP_BUILDDIR"] + "/plugins/.libs/tanh.so")),
        "%s %s" % (s_sig, real(os.environ["BP_BUILDDIR"] + "/plugins/.libs/sigmoid.so"))]
assert sorted(plugins) == sorted(want), (plugins, want)
data = [v for k, v in kv if k == "data"]
assert data == ["%s %s" % (s_data, real(t + "/xor data.h5")), "builtin:xor"], data
assert "changed" not in one, lines
PY
}
run_bprun 0 run "$T/c.yaml" -o "r un" --quiet --plugin-path "$T/plug" --set "experiment='prov'" || finish
expect_prov "$T/r un/trials/0000.h5" "trial file provenance"
expect_prov "$T/r un/index.h5" "index provenance"

# resuming with the same files goes on
run_bprun 0 run "$T/c.yaml" -o "r un" --quiet --plugin-path "$T/plug" --set "experiment='prov'"

# a changed data file: refused, naming it; --allow-changed goes on and records it
old=$(sha "$T/xor data.h5")
printf 'x' >>"$T/xor data.h5"
new=$(sha "$T/xor data.h5")
real_t=$(cd "$T" && pwd -P)
expect_err 2 "bprun: $real_t/xor data.h5: changed since $real_t/r un/index.h5 recorded it (sha256 $(echo "$old" | cut -c1-16)..., now $(echo "$new" | cut -c1-16)...); rebuild or restore it, or use --allow-changed to go on and record the change" \
  run "$T/c.yaml" -o "r un" --quiet --plugin-path "$T/plug" --set "experiment='prov'"
run_bprun 0 run "$T/c.yaml" -o "r un" --quiet --plugin-path "$T/plug" --set "experiment='prov'" --allow-changed
"$PYTHON_H5" - "$T/r un/index.h5" "changed: $real_t/xor data.h5 $old -> $new" "data: $new $real_t/xor data.h5" <<'PY' || fail "--allow-changed: the change is not recorded"
import h5py, sys
p = h5py.File(sys.argv[1], "r").attrs["provenance"]
p = (p.decode() if isinstance(p, bytes) else p).splitlines()
assert sys.argv[2] in p and sys.argv[3] in p, p
PY
# recorded: the next resume compares with the new digest
run_bprun 0 run "$T/c.yaml" -o "r un" --quiet --plugin-path "$T/plug" --set "experiment='prov'"

# a rebuilt user plugin: --continue of a trial made with the old build is refused
old=$(sha "$T/plug/fake_nolr.so")
printf 'rebuilt' >>"$T/plug/fake_nolr.so"
new=$(sha "$T/plug/fake_nolr.so")
expect_err 2 "bprun: $real_t/plug/fake_nolr.so: changed since $T/r un/trials/0000.h5 recorded it (sha256 $(echo "$old" | cut -c1-16)..., now $(echo "$new" | cut -c1-16)...); rebuild or restore it, or use --allow-changed to go on and record the change" \
  run "$T/c.yaml" -o c2 --quiet --plugin-path "$T/plug" --set "experiment='prov'" \
  --set train.epochs=5 --continue "$T/r un"
[ ! -e c2 ] || fail "--continue refused, but it made its run folder"
run_bprun 0 run "$T/c.yaml" -o c2 --quiet --plugin-path "$T/plug" --set "experiment='prov'" \
  --set train.epochs=5 --continue "$T/r un" --allow-changed
"$PYTHON_H5" - "$T/c2/trials/0000.h5" "changed: $real_t/plug/fake_nolr.so $old -> $new" <<'PY' || fail "--continue --allow-changed: the change is not recorded"
import h5py, sys
f = h5py.File(sys.argv[1], "r")
p = f.attrs["provenance"]
p = (p.decode() if isinstance(p, bytes) else p).splitlines()
assert sys.argv[2] in p, p
assert int(f.attrs["epochs_done"]) == 5
PY
# and resuming the first run with the rebuilt plugin is refused too
run_bprun 2 run "$T/c.yaml" -o "r un" --quiet --plugin-path "$T/plug" --set "experiment='prov'"
grep -q "fake_nolr.so: changed since" "$T/err" || fail "resume with a rebuilt plugin: $(cat "$T/err")"
# an index bprun merge rebuilt records no inputs of its own: the first trial file is compared
run_bprun 0 merge "r un" --quiet
run_bprun 2 run "$T/c.yaml" -o "r un" --quiet --plugin-path "$T/plug" --set "experiment='prov'"
grep -qF "fake_nolr.so: changed since $real_t/r un/trials/0000.h5 recorded it" "$T/err" ||
  fail "resume after merge with a rebuilt plugin: $(cat "$T/err")"
finish
