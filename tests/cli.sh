#!/bin/sh
# The command line: help, version, usage errors and their exit codes.
. "$BP_SRCDIR/tests/lib.sh"

run_bprun 0 --version && grep -q '^bprun [0-9]' "$T/out" || fail "--version"
run_bprun 0 --help && grep -q 'commands:' "$T/out" || fail "--help"
for c in run validate plugins eval import; do
  run_bprun 0 "$c" --help && grep -q "^usage: bprun $c" "$T/out" || fail "$c --help"
  run_bprun 0 help "$c" && grep -q "^usage: bprun $c" "$T/out" || fail "help $c"
done
run_bprun 2 || fail "no arguments"
expect_err 2 "bprun: unknown command 'rnu' (did you mean 'run'?)" rnu
expect_err 2 "bprun run: missing CONFIG" run
expect_err 2 "bprun run: unknown option '--bogus'" run --bogus x.yaml
expect_err 2 "bprun run: --threads: expected an integer from 1 to 4096 (got '0')" run --threads 0 x.yaml
expect_err 2 "bprun validate: unknown option '-o'" validate -o x x.yaml
expect_err 2 "bprun: missing.yaml: cannot open: No such file or directory" run missing.yaml
expect_err 2 "bprun import: missing -o OUT.h5#/GROUP" import builtin:xor
expect_err 2 "bprun import: unknown KIND 'foo' (expected csv, idx or builtin:NAME)" import foo -o "$T/x.h5#/g"
expect_err 2 "bprun eval: expected MODEL and DATA" eval onlyone

# --set/--sweep with a space instead of '=': the value is not taken for the CONFIG file
ok="$BP_SRCDIR/tests/bad/ok.yaml"
expect_err 2 "bprun validate: --set: expected KEY.PATH=VALUE (got 'k'); did you write a space instead of '=' (--set k=0.1)?" \
  validate "$ok" --set k 0.1
expect_err 2 "bprun run: --set: expected KEY.PATH=VALUE (got 'train.epochs'); did you write a space instead of '=' (--set train.epochs=3)?" \
  run --set train.epochs 3 "$ok"
expect_err 2 "bprun validate: --sweep: expected KEY.PATH=V1,V2,... (got 'train.epochs'); did you write a space instead of '=' (--sweep train.epochs=1,2)?" \
  validate "$ok" --sweep train.epochs 1,2
expect_err 2 "bprun: --set foo: expected key.path=value" validate --set foo "$ok"

# the man page points to bprun-plot and the other tools (SEE ALSO), and both it and --help to
# the installed documentation folder
man1="$BP_SRCDIR/docs/bprun.1"
grep -qx '.SH SEE ALSO' "$man1" || fail "bprun.1 has no SEE ALSO"
sed -n '/^\.SH SEE ALSO/,$p' "$man1" | grep -q '^\.B bprun\\-plot$' || fail "bprun.1: SEE ALSO lacks bprun-plot"
grep -q 'DATAROOTDIR/doc/bprun' "$man1" || fail "bprun.1 does not say where the documentation is"
"$BPRUN" --help > "$T/help"
grep -q '^Documentation: man bprun; ' "$T/help" && grep -q '^installed in .*/share/doc/bprun\.$' "$T/help" ||
  fail "--help does not name the installed documentation folder: $(tail -3 "$T/help")"

# counts of one are singular
run_bprun 0 validate "$ok" &&
  { grep -qx '#   train      builtin:xor: 4 rows x 2 features, 1 target' "$T/out" || fail "validate: $(cat "$T/out")"; }
run_bprun 0 run "$ok" -o "$T/one" --quiet &&
  { grep -q "^run $T/one: 1 trial, 1 finished, 1 completed; " "$T/out" || fail "run: $(cat "$T/out")"; }
run_bprun 0 report "$T/one" &&
  { grep -q "^run $T/one: 1 trial, 1 finished, 1 completed; " "$T/out" || fail "report: $(cat "$T/out")"; }
run_bprun 0 run "$ok" -o "$T/two" --set train.epochs=6 --continue "$T/one" &&
  { grep -q "^bprun: continuing .* (completed after 5 epochs) up to epoch 6" "$T/err" || fail "continue: $(cat "$T/err")"; }
expect_err 2 "bprun: --step 5: the run makes 1 step (1 epoch x 1 batch); trace one of steps 1 to 1 with --step 0 to 0" \
  trace "$ok" --set train.epochs=1 --set train.batch_size=full --step 5
run_bprun 0 import builtin:parity:1 -o "$T/p1.h5#/p" &&
  { grep -qx "wrote $T/p1.h5#/p: 2 rows x 1 feature, 1 target" "$T/out" || fail "import: $(cat "$T/out")"; }
finish
