# Sourced by the shell tests. Environment from Makefile.am's AM_TESTS_ENVIRONMENT:
# BPRUN, BP_SRCDIR, BP_BUILDDIR, BPRUN_PLUGIN_PATH, BP_FAKE_DIR, PYTHON_H5, H5DUMP.
set -u
: "${BPRUN:?run through make check}"
T=$(mktemp -d "${TMPDIR:-/tmp}/bprun-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

finish() {
  if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
  fi
  exit 0
}

skip() {
  echo "SKIP: $*" >&2
  exit 77
}

# run_bprun EXPECTED_EXIT ARGS...: runs bprun, stdout in $T/out, stderr in $T/err
run_bprun() {
  want=$1
  shift
  "$BPRUN" "$@" >"$T/out" 2>"$T/err"
  got=$?
  if [ "$got" -ne "$want" ]; then
    fail "bprun $* exited $got, expected $want; stderr: $(head -c 600 "$T/err")"
    return 1
  fi
  return 0
}

# expect_err EXPECTED_EXIT 'exact stderr line' ARGS...
expect_err() {
  want=$1
  msg=$2
  shift 2
  run_bprun "$want" "$@" || return 1
  if ! grep -qxF -- "$msg" "$T/err"; then
    fail "bprun $*: expected stderr line: $msg; got: $(cat "$T/err")"
    return 1
  fi
}

# write_config FILE <<EOF ... EOF
write_config() {
  cat >"$1"
}

need_python() {
  [ -n "${PYTHON_H5:-}" ] || skip "no Python with h5py (apt-get install python3-h5py)"
}

# same_files REF DIR WHAT: index.h5 and every trial file of run folder DIR equal REF's (tests/
# h5check.py same: bit for bit but for time and place); a difference fails naming WHAT
same_files() {
  for f in "$1"/index.h5 "$1"/trials/*.h5; do
    "$PYTHON_H5" "$BP_SRCDIR/tests/h5check.py" same "$f" "$2/${f#"$1"/}" >&2 ||
      fail "$2: ${f#"$1"/} differs from $3"
  done
}

# wait_training ERR: until bprun's stderr file ERR holds an epoch line (the first epoch's is
# always printed; its signal handlers are installed by then), at most 30 s
wait_training() {
  _i=0
  while ! grep -q ' epoch ' "$1" && [ $_i -lt 600 ]; do
    sleep 0.05
    _i=$((_i + 1))
  done
}
