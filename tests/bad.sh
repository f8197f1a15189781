#!/bin/sh
# The bad-input catalogue: every case in tests/bad/cases.txt runs bprun on a broken input and
# must exit with the expected status (1 or 2, never a crash), print exactly one stderr line,
# the expected one, and end within 20 s (a hang guard: a case is killed then; the slowest case
# is printed: speed is measured, not asserted). Inputs are the text files in tests/bad/ plus binary ones generated
# here (gen/: printf; h5/: h5py, skipped without PYTHON_H5).
# BAD_PRINT=1 prints each case with what bprun actually said, in the table's format.
. "$BP_SRCDIR/tests/lib.sh"
cp -R "$BP_SRCDIR/tests/bad" "$T/bad" || exit 1
chmod -R u+w "$T/bad"
cd "$T/bad" || exit 1
mkdir gen

# ---- generated configs ----
head='experiment: e
data: {train: "builtin:xor"}
model: {layers: [2, 2, 1]}
train: {epochs: 5}'
rep() { awk -v s="$1" -v n="$2" 'BEGIN { for (i = 0; i < n; i++) printf "%s", s }'; }
{ printf '%s\nx: ' "$head"; rep '[' 5000; rep ']' 5000; echo; } > gen/deep.yaml
{ printf '%s\nx: ' "$head"; rep '[' 400000; echo; } > gen/deep400k.yaml
{ printf '%s\nx:\n' "$head"; awk 'BEGIN { for (i = 1; i <= 100; i++) printf "%*sk%d:\n", 2 * i, "", i }'; } > gen/deepmap.yaml
{ printf '%s\n' "$head"; awk 'BEGIN { for (i = 0; i < 60000; i++) printf "# %077d\n", i }'; } > gen/huge.yaml
{ printf '%s\nx: [1' "$head"; rep ', 1' 150000; echo ']'; } > gen/nodes.yaml
printf '\211PNG\r\n\032\n\000\000\000\rIHDR\000\000\000\020' > gen/png.yaml
printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\003\000>\000' > gen/elf.yaml
printf 'experiment: e\001\n' > gen/ctrl.yaml
printf 'experiment: e\377\n' > gen/utf8.yaml
printf 'experiment: e\000\ndata: x\n' > gen/nul.yaml
printf '\357\273\277' > gen/bom.yaml
{ printf 'experiment: '; rep a 1048576; printf '\n%s\n' "$(sed 1d ok.yaml)"; } > gen/longname.yaml
{ printf '%s\noutput: ' "$head"; rep o/ 2000; echo; } > gen/longout.yaml
{ printf '%s\noutput: ""\n' "$head"; } > gen/emptyout.yaml
: > gen/empty.h5
printf 'not an ELF file\n' > notaplugin.so
cp ok.yaml gen/secret.yaml && chmod 600 gen/secret.yaml

# ---- IDX inputs (3 images of 2x2 uint8, labels 2 0 1) ----
printf '\000\000\010\003\000\000\000\003\000\000\000\002\000\000\000\002\000\377\001\002\003\004\005\006\007\010\011\012' > gen/img.idx
printf '\000\000\010\001\000\000\000\003\002\000\001' > gen/lab.idx
head -c 20 gen/img.idx > gen/trunc.idx
printf '\001\002\010\003\000\000\000\003\000\000\000\002\000\000\000\002' > gen/magic.idx
printf '\000\000\077\001\000\000\000\003\002\000\001' > gen/dtype.idx
printf '\000\000\010\001\000\000\000\002\002\000' > gen/lab2.idx
printf '\000\000\010\001\000\000\000\003\002\000\001\007' > gen/long.idx
printf '\000\000\010\002\000\000\000\003\000\000\000\001\002\000\001' > gen/lab2d.idx
printf '\000\000\010\003\377\377\377\377\377\377\377\377\377\377\377\377' > gen/huge.idx
printf '\000\000\010\003\000\001\000\000\000\001\000\000\000\000\001\000' > gen/big.idx
{ printf '\000\000\010\001\000\001\000\000'; head -c 65536 /dev/zero; } > gen/lab64k.idx
printf '\000\000\010\000' > gen/rank0.idx
printf '\000\000\015\001\000\000\000\003\000\000\000\000\177\300\000\000\000\000\200\077' > gen/fnan.idx
printf '\000\000\015\001\000\000\000\003\000\000\000\000\000\000\000\000\000\000\000\000' > gen/flab.idx
gzip -c gen/img.idx | head -c 24 > gen/bad.idx.gz
: > gen/empty.idx

# ---- files that are not regular files: FIFOs (no writer: opening one to read blocks), a
# directory, a socket (when python3 can make one) ----
mkfifo gen/fifo.yaml gen/fifo.h5 gen/fifo.csv gen/fifo.idx gen/fifo.so
mkdir gen/rfifo gen/rdir gen/rdir/index.h5 && mkfifo gen/rfifo/index.h5
sock=
for py in "${PYTHON_H5:-}" python3; do
  [ -n "$py" ] && "$py" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
    gen/sock 2>/dev/null && { sock=1; break; }
done

# ---- output folders ----
printf 'x\n' > gen/afile
mkdir gen/full && printf 'x\n' > gen/full/x
mkdir gen/ro && chmod 555 gen/ro
"$BPRUN" run ok.yaml -o gen/r1 --quiet >/dev/null 2>&1 || fail "setup: bprun run ok.yaml failed"
# a run whose weights became NaN (the growth rule off, so the NaN rule ends it)
"$BPRUN" run ok.yaml -o gen/rnan --quiet --set train.optimizer.lr=0.45 --set model.output=identity \
  --set model.activation=identity --set train.batch_size=1 --set train.epochs=6 \
  --set train.diverge_factor=0 >/dev/null 2>&1
[ -f gen/rnan/trials/0000.h5 ] || fail "setup: the NaN run gen/rnan has no trial file"
# a run folder whose trial file is a FIFO
mkdir gen/rtf gen/rtf/trials && cp gen/r1/index.h5 gen/rtf/ && mkfifo gen/rtf/trials/0000.h5

# ---- HDF5 inputs ----
have_h5=0
if [ -n "${PYTHON_H5:-}" ]; then
  mkdir h5 && "$PYTHON_H5" gen_data.py h5 && have_h5=1 || fail "setup: gen_data.py failed"
  cp h5/data.h5 h5/secret.h5 && chmod 600 h5/secret.h5
  # external links to a FIFO: a group, and X
  mkfifo h5/fifo.h5
  "$PYTHON_H5" -c 'import h5py, sys
f = h5py.File(sys.argv[1], "w")
f["grp"] = h5py.ExternalLink("fifo.h5", "/")
f.create_group("x")["X"] = h5py.ExternalLink("fifo.h5", "/X")' h5/elink.h5 || fail "setup: h5/elink.h5"
else
  echo "NOTE: PYTHON_H5 is empty: the cases that read h5py-generated files (h5/) are skipped"
fi

# "nobody" cases run without privileges: as root through setpriv, else as the user (for whom
# chmod already denies access).
nobody=
if [ "$(id -u)" = 0 ]; then
  probe="setpriv --reuid=65534 --regid=65534 --clear-groups"
  sgd=$(echo "$BPRUN_PLUGIN_PATH" | cut -d: -f1)/sgd.so
  if ! command -v setpriv >/dev/null 2>&1; then
    nobody=none
  elif ! $probe sh -c "test -x '$BPRUN' && test -r '$sgd'" 2>/dev/null; then
    # the build tree is in a folder an unprivileged user cannot enter (e.g. under /root)
    nobody=none
  else
    nobody=$probe
    chmod -R a+rX "$T"
    chmod 600 gen/secret.yaml
    [ -f h5/secret.h5 ] && chmod 600 h5/secret.h5
  fi
fi

# The plugin search path, as messages list it ("a, b, c").
SEARCHED=$("$BPRUN" plugins 2>/dev/null | sed -n 's/^search path: //p' | sed 's/:/, /g')

# subst TEXT: replaces $BP_FAKE_DIR, $BP_BUILDDIR, $BP_SRCDIR and $SEARCHED
subst() {
  printf '%s\n' "$1" | awk -v fake="$BP_FAKE_DIR" -v build="$BP_BUILDDIR" -v src="$BP_SRCDIR" \
    -v searched="$SEARCHED" '
    function rep(s, k, v,   i, out) {
      out = ""
      while ((i = index(s, k)) > 0) { out = out substr(s, 1, i - 1) v; s = substr(s, i + length(k)) }
      return out s
    }
    { s = rep($0, "$BP_FAKE_DIR", fake); s = rep(s, "$BP_BUILDDIR", build)
      s = rep(s, "$BP_SRCDIR", src); print rep(s, "$SEARCHED", searched) }'
}

# a case that hangs (a FIFO read without a writer) is killed after 20 s, and fails
guard=
command -v timeout >/dev/null 2>&1 && guard="timeout -s KILL 20"

slowest_ms=0 slowest=-
now_ms() { echo $(($(date +%s%N) / 1000000)); }

n=0
skipped=0
while IFS='|' read -r name cmd want msg; do
  case $name in ''|'#'*) continue ;; esac
  if [ "$have_h5" = 0 ]; then
    needs=0
    case $cmd in *h5/*) needs=1 ;; esac
    for w in $cmd; do
      case $w in *.yaml) [ -f "$w" ] && grep -q 'h5/' "$w" && needs=1 ;; esac
    done
    [ "$needs" = 1 ] && { skipped=$((skipped + 1)); continue; }
  fi
  case $cmd in *gen/sock*) [ -n "$sock" ] || { skipped=$((skipped + 1)); continue; } ;; esac
  n=$((n + 1))
  pre=
  case $cmd in
    'nobody '*)
      cmd=${cmd#nobody }
      if [ "$nobody" = none ]; then
        echo "NOTE: $name skipped: running as root without setpriv, or the build tree is not readable by an unprivileged user"
        skipped=$((skipped + 1))
        continue
      fi
      pre=$nobody ;;
  esac
  cmd=$(subst "$cmd")
  msg=$(subst "$msg")
  set -f
  # shellcheck disable=SC2086
  set -- $pre "$BPRUN" $cmd
  set +f
  t0=$(now_ms)
  $guard "$@" >"$T/out" 2>"$T/err" </dev/null
  got=$?
  ms=$(($(now_ms) - t0))
  if [ "${BAD_PRINT:-0}" = 1 ]; then
    printf '%s|%s|%s|%s\n' "$name" "$cmd" "$got" "$(cat "$T/err")"
    continue
  fi
  lines=$(wc -l < "$T/err")
  if [ "$got" -ne 1 ] && [ "$got" -ne 2 ]; then
    fail "$name: exited $got (a crash?), expected $want; stderr: $(head -c 600 "$T/err")"
  elif [ "$lines" -ne 1 ] || ! head -n 1 "$T/err" | grep -q '^bprun: '; then
    fail "$name: expected one stderr line starting 'bprun: ', got $lines: $(head -c 600 "$T/err")"
  elif [ "$got" -ne "$want" ]; then
    fail "$name: exited $got, expected $want; stderr: $(cat "$T/err")"
  elif [ "$(cat "$T/err")" != "$msg" ]; then
    fail "$name: stderr differs
  expected: $msg
  got:      $(cat "$T/err")"
  fi
  # a hang guard, not a speed target (those live in scripts/bench): the slowest case is printed
  [ "$ms" -lt 20000 ] || fail "$name: took $ms ms (a hang? limit 20 s)"
  [ "$ms" -le "$slowest_ms" ] || { slowest_ms=$ms; slowest=$name; }
done < cases.txt
echo "bad-input catalogue: $n cases run, $skipped skipped; slowest: $slowest ($slowest_ms ms)"
[ "$n" -ge 60 ] || fail "only $n cases ran (expected at least 60)"
finish
