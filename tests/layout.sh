#!/bin/sh
# The module layout of src/ (docs/ARCHITECTURE.md): no circle among the modules' includes
# (scripts/include-cycles). The one circle src/ still has is listed below; any other fails,
# and so does this list when that circle is gone (then empty it).
. "$BP_SRCDIR/tests/lib.sh"
known='resume -> trial -> resume'
got=$(sh "$BP_SRCDIR/scripts/include-cycles" "$BP_SRCDIR/src")
rc=$?
[ "$got" = "$known" ] || fail "include circles in src/: got '$got', expected '$known'"
if [ -z "$known" ] && [ "$rc" -ne 0 ]; then
  fail "scripts/include-cycles exited $rc"
fi
# the script finds a circle made on purpose, and none where there is none
mkdir "$T/src" "$T/ok"
printf '#include "b.h"\n' > "$T/src/a.h"
printf '#include "c.h"\n' > "$T/src/b.c"
printf '#include "b.h"\n' > "$T/src/b.h"
printf '#include "a.h"\n#include <stdio.h>\n' > "$T/src/c.c"
: > "$T/src/c.h"
out=$(sh "$BP_SRCDIR/scripts/include-cycles" "$T/src") && fail "a -> b -> c -> a not found"
[ "$out" = "a -> b -> c -> a" ] || fail "circle a -> b -> c -> a reported as '$out'"
printf '#include "b.h"\n' > "$T/ok/a.c"
printf '#include "c.h"\n#include "b.h"\n' > "$T/ok/b.c"
: > "$T/ok/b.h"
: > "$T/ok/c.h"
out=$(sh "$BP_SRCDIR/scripts/include-cycles" "$T/ok") || fail "circle reported where none is: '$out'"
finish
