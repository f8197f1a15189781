#!/bin/sh
# src/stats.c against SciPy on fixed inputs (tests/stats.py): t, chi-squared, normal and
# binomial distribution functions, sample summaries with t and order-statistic intervals,
# Wilson intervals, exact and approximate Wilcoxon signed-rank tests, Friedman tests, Holm's
# adjustment, and a worked Kaplan-Meier example.
. "$BP_SRCDIR/tests/lib.sh"
py=
for c in "${PYTHON_H5:-}" /usr/bin/python3 python3; do
  [ -n "$c" ] && "$c" -c 'import scipy, numpy' >/dev/null 2>&1 && { py=$c; break; }
done
[ -n "$py" ] || skip "no Python with SciPy (apt-get install python3-scipy)"
"$py" "$BP_SRCDIR/tests/stats.py" "$BP_BUILDDIR/tests/stats_cli" || fail "differences from SciPy"
finish
