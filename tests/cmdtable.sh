#!/bin/sh
# main.c only dispatches (docs/ARCHITECTURE.md): every command `bprun --help` lists has its own
# src/cmd_NAME.c and cmd_NAME.h (lr-find: cmd_lrfind) holding bp_cmd_NAME and its usage text
# bp_usage_NAME, built into libbprun (mk/*.am) and given a row in docs/ARCHITECTURE.md; `bprun
# NAME --help` and `bprun help NAME` print that usage; main.c stays a short table-driven
# dispatcher without option parsing or usage texts of commands.
. "$BP_SRCDIR/tests/lib.sh"
src="$BP_SRCDIR/src"
main="$src/main.c"
arch="$BP_SRCDIR/docs/ARCHITECTURE.md"

run_bprun 0 --help || finish
cmds=$(sed -n '/^commands:$/,/^$/p' "$T/out" | awk 'NF && $1 != "commands:" {print $1}')
n=$(printf '%s\n' "$cmds" | grep -c .)
[ "$n" -ge 10 ] || fail "bprun --help lists $n commands: $cmds"
for c in $cmds; do
  [ "$c" = help ] && continue
  f=$(printf '%s' "$c" | tr -d -)
  for x in c h; do
    [ -f "$src/cmd_$f.$x" ] || fail "command $c: no src/cmd_$f.$x"
  done
  [ -f "$src/cmd_$f.c" ] || continue
  grep -q "^int bp_cmd_$f(int argc, char \*\*argv, FILE \*out, bp_err \*e)$" "$src/cmd_$f.c" ||
    fail "src/cmd_$f.c does not define bp_cmd_$f"
  grep -q "^const char bp_usage_$f\[\] =$" "$src/cmd_$f.c" ||
    fail "src/cmd_$f.c does not hold the usage text bp_usage_$f"
  grep -q "{ \"$c\", bp_cmd_$f, bp_usage_$f," "$main" || fail "main.c's table has no row for $c"
  cat "$BP_SRCDIR/Makefile.am" "$BP_SRCDIR"/mk/*.am | grep -q "src/cmd_$f\.c" ||
    fail "src/cmd_$f.c is not built (Makefile.am, mk/*.am)"
  grep -q "^| \`cmd_$f\.c/h\` |" "$arch" || fail "docs/ARCHITECTURE.md has no row for cmd_$f.c/h"
  run_bprun 0 "$c" --help && grep -q "^usage: bprun $c " "$T/out" || fail "bprun $c --help"
  cp "$T/out" "$T/usage"
  run_bprun 0 help "$c" && cmp -s "$T/out" "$T/usage" || fail "bprun help $c differs from $c --help"
done
# main.c: the table, the global options, nothing else
lines=$(wc -l < "$main")
[ "$lines" -le 200 ] || fail "src/main.c has $lines lines (a dispatcher stays under 200)"
for word in getopt 'usage_[a-z]*\[\] =' 'static int cmd_' bp_sweep_ bp_registry_ bp_report ; do
  ! grep -q "$word" "$main" || fail "src/main.c holds '$word' (it belongs in a cmd_NAME.c or cli.c)"
done
n_cmd=$(ls "$src"/cmd_*.c | wc -l)
n_rows=$(grep -c '^    { "[a-z-]*", bp_cmd_' "$main")
[ "$n_cmd" -eq "$n_rows" ] || fail "src/ has $n_cmd cmd_*.c files, main.c's table $n_rows commands"
finish
