#!/bin/sh
# bprun import: IDX (plain and gzipped), CSV with text labels, built-in datasets; the result
# loads (bprun validate) and reads back with h5py.
. "$BP_SRCDIR/tests/lib.sh"
need_python
# a 3-image 2x2 IDX pair written byte by byte
printf '\000\000\010\003\000\000\000\003\000\000\000\002\000\000\000\002\000\377\001\002\003\004\005\006\007\010\011\012' > "$T/img.idx"
printf '\000\000\010\001\000\000\000\003\002\000\001' > "$T/lab.idx"
gzip -c "$T/img.idx" > "$T/img.idx.gz"
run_bprun 0 import idx "$T/img.idx" "$T/lab.idx" -o "$T/d.h5#/plain" || finish
grep -qx "wrote $T/d.h5#/plain: 3 rows x 4 features, 3 classes" "$T/out" || fail "idx summary: $(cat "$T/out")"
run_bprun 0 import idx "$T/img.idx.gz" "$T/lab.idx" -o "$T/d.h5#/gz" --scale 0.5 || finish
"$PYTHON_H5" - "$T/d.h5" <<'PY' || fail "idx contents"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    assert f["plain/X"].shape == (3, 4) and f["plain/X"].dtype == np.float32
    assert list(f["plain/X"][0]) == [0, 255, 1, 2], f["plain/X"][0]
    assert list(f["plain/y"][()]) == [2, 0, 1]
    assert list(f["gz/X"][1]) == [1.5, 2, 2.5, 3]
PY
expect_err 2 "bprun: $T/d.h5#/plain: group exists; use --force to replace it" import idx "$T/img.idx" "$T/lab.idx" -o "$T/d.h5#/plain"
run_bprun 0 import idx "$T/img.idx" "$T/lab.idx" -o "$T/d.h5#/plain" --force || fail "--force"
head -c 20 "$T/img.idx" > "$T/trunc.idx"
run_bprun 2 import idx "$T/trunc.idx" "$T/lab.idx" -o "$T/d.h5#/t"
grep -q "trunc.idx" "$T/err" || fail "truncated IDX message: $(cat "$T/err")"
# CSV with text labels by header name
run_bprun 0 import csv "$BP_SRCDIR/data/iris.csv" --label-column species -o "$T/iris.h5#/all" || finish
grep -qx "wrote $T/iris.h5#/all: 150 rows x 4 features, 3 classes" "$T/out" || fail "csv summary: $(cat "$T/out")"
printf 'a,b,label\n1,2,0\n3,x,1\n' > "$T/bad.csv"
run_bprun 2 import csv "$T/bad.csv" -o "$T/b.h5#/b"
grep -q "bad.csv:3: column 2: not a number ('x')" "$T/err" || fail "csv message: $(cat "$T/err")"
# built-in datasets
for b in xor parity:4 encoder:8 spirals; do
  run_bprun 0 import "builtin:$b" -o "$T/b.h5#/$b" || fail "builtin:$b"
done
grep -qx "wrote $T/b.h5#/spirals: 194 rows x 2 features, 1 target" "$T/out" || fail "spirals summary: $(cat "$T/out")"
finish
