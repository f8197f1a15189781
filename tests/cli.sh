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
finish
