#!/bin/sh
# scripts/lrfind-check.py on xor and the two spirals (docs/LRFIND.md, "Checked on real tasks"):
# bprun lr-find's suggestion is within a factor 3 of the best rate of an independent `bprun run`
# sweep (other seeds, a finer grid, the same epochs per rate), and the printed sweep brackets
# that rate. (iris needs data/iris.h5 and is left to the script.)
. "$BP_SRCDIR/tests/lib.sh"
need_python
"$PYTHON_H5" "$BP_SRCDIR/scripts/lrfind-check.py" "$BPRUN" "$T/check" xor spirals >"$T/out" 2>&1 ||
  fail "lrfind-check: $(cat "$T/out")"
[ "$(grep -c ' ok$' "$T/out")" = 2 ] || fail "lrfind-check: $(cat "$T/out")"
cat "$T/out"
finish
