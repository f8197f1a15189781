#!/bin/sh
# bprun report --format html: a sweep over two axes with repeats (tests/html-sweep.yaml: 6
# points x 3 repeats, diagnostics) gives one self-contained page (no script, style or image
# fetched from anywhere) whose embedded report is bprun report --format json's document; a
# running trial's .part file is read; -o writes any format whole; the run folder holds
# report.html, refreshed by the run, which --force removes as bprun's (a report.html bprun did
# not write is refused). Headless Chromium loads the page: no script error, and the page's own
# count of what it drew (its status element) matches the run: 6 mean curves, 6 points, 18
# trial rows, 18 trials with curves. Two run folders as one (one diverged trial): 12 points.
# scripts/bprun-plot --html writes the very page. Skipped when bprun was built without dygraphs
# or no Chromium is installed (apt-get install libjs-dygraphs chromium).
. "$BP_SRCDIR/tests/lib.sh"
CFG=$BP_SRCDIR/tests/html-sweep.yaml

run_bprun 0 run "$CFG" -o "$T/run" -q || finish
if ! "$BPRUN" report "$T/run" --format html -o "$T/r.html" 2>"$T/err"; then
  grep -q 'built without dygraphs' "$T/err" &&
    skip "bprun was built without dygraphs (apt-get install libjs-dygraphs, then configure again)"
  fail "bprun report --format html: $(cat "$T/err")"
  finish
fi
[ -e "$T/r.html.part" ] && fail "-o left r.html.part"
head -c 40 "$T/r.html" | grep -q '^<!DOCTYPE html>' || fail "r.html: not an HTML page"

# self-contained: nothing loaded from elsewhere (no src/href attribute on script, link, img,
# iframe; no http(s) URL in an attribute or CSS url()/@import)
if grep -Eio '<(script|link|img|iframe|embed|object)[^>]*(src|href|data)=' "$T/r.html" | head -3 | grep .; then
  fail "r.html loads something from outside the page"
fi
if grep -Eio '(src|href|action)=["'"'"']?(https?:)?//|url\((["'"'"'])?(https?:)?//|@import' "$T/r.html" | head -3 | grep .; then
  fail "r.html references a network resource"
fi
grep -q 'Permission is hereby granted' "$T/r.html" || fail "r.html: dygraphs' license is missing"

# one source of truth: the embedded report is the json format's document
run_bprun 0 report "$T/run" --format json || finish
cp "$T/out" "$T/report.json"
"$PYTHON_H5" - "$T/r.html" "$T/report.json" <<'PY' || fail "the page's report differs from --format json"
import json, re, sys
page = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r'<script id="bp-report" type="application/json">(.*?)</script>', page, re.S)
assert m, "no bp-report element"
embedded, direct = json.loads(m.group(1)), json.load(open(sys.argv[2]))
assert embedded == direct, "embedded report != bprun report --format json"
extra = json.loads(re.search(r'<script id="bp-extra" type="application/json">(.*?)</script>', page, re.S).group(1))
assert len(extra["curves"]["trials"]) == 18, len(extra["curves"]["trials"])
assert extra["best"].startswith("best setting (trial "), extra["best"][:40]
t = extra["curves"]["trials"][0]
assert len(t["ep"]) == 150 and len(t["c"]["loss"]) == 150 and "val_loss" not in t["c"], t.keys()
assert t["verdict"] and "lambda_max" in t["d"] and len(t["path"]["alpha"]) == 25
PY

# a trial still running (its .part file): its curve as far as written, marked running
mkdir "$T/going" && cp -R "$T/run/index.h5" "$T/run/trials" "$T/going/" &&
  mv "$T/going/trials/0017.h5" "$T/going/trials/0017.h5.part"
run_bprun 0 report "$T/going" --format html -o "$T/going.html" || finish
"$PYTHON_H5" - "$T/going.html" <<'PY' || fail "a running trial's .part file: not in the page"
import json, re, sys
page = open(sys.argv[1], encoding="utf-8").read()
extra = json.loads(re.search(r'<script id="bp-extra" type="application/json">(.*?)</script>', page, re.S).group(1))
trials = extra["curves"]["trials"]
assert len(trials) == 18, len(trials)
assert [t["id"] for t in trials if t["running"]] == [17], [t["id"] for t in trials if t["running"]]
assert len(trials[17]["c"]["loss"]) == 150 and trials[17]["status"] == "running"
PY

# -o for another format: the very bytes of standard output
run_bprun 0 report "$T/run" --format json -o "$T/r.json" || finish
cmp -s "$T/r.json" "$T/report.json" || fail "-o r.json differs from standard output"
expect_err 1 "bprun: $T/none/r.html: cannot write: No such file or directory" \
  report "$T/run" --format html -o "$T/none/r.html"

# scripts/bprun-plot --html: the same page (it needs a Python with h5py and matplotlib)
if [ -n "${PYTHON_H5:-}" ] && "$PYTHON_H5" -c 'import h5py, matplotlib' >/dev/null 2>&1; then
  BPRUN_PYTHON=$PYTHON_H5 MPLCONFIGDIR=$T/mpl sh "$BP_SRCDIR/scripts/bprun-plot" "$T/run" --html \
    -o "$T/plots" >"$T/pout" 2>"$T/perr" || fail "bprun-plot --html: $(cat "$T/perr")"
  [ "$(cat "$T/pout")" = "$T/plots/report.html" ] || fail "bprun-plot --html printed: $(cat "$T/pout")"
  cmp -s "$T/plots/report.html" "$T/r.html" || fail "bprun-plot --html: not bprun report's page"
fi

# the run folder's report.html: written by the run, bprun's for --force
[ -s "$T/run/report.html" ] || fail "the run did not write report.html"
run_bprun 0 run "$CFG" -o "$T/run" -q --force --set train.epochs=20 || finish
[ -s "$T/run/report.html" ] || fail "report.html missing after --force"
grep -q '"epochs": 20' "$T/run/report.html" || fail "report.html was not rewritten by the run"
mkdir "$T/mine"
echo '<html>my notes</html>' >"$T/mine/report.html"
run_bprun 2 run "$CFG" -o "$T/mine" -q --force
grep -qF "$T/mine/report.html: not a report bprun wrote" "$T/err" ||
  fail "a report.html bprun did not write: expected a refusal naming it, got: $(cat "$T/err")"
[ "$(cat "$T/mine/report.html")" = '<html>my notes</html>' ] || fail "--force touched a user's report.html"

# in a browser
CHROME=${CHROMIUM:-}
[ -n "$CHROME" ] || CHROME=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROME" ] || { [ "$failures" -ne 0 ] && finish; skip "no Chromium to load the page (apt-get install chromium)"; }
# load FILE: the DOM after the page's scripts ran in $T/dom, the browser's log in $T/log
load() {
  HOME=$T timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$T/chrome" --enable-logging=stderr --v=0 --dump-dom "file://$1" \
    >"$T/dom" 2>"$T/log" || fail "chromium could not load $1: $(tail -3 "$T/log")"
}
# status NAME: the status element's data-NAME
status() {
  grep -o '<div id="status"[^>]*>' "$T/dom" | head -1 | sed -n "s/.* data-$1=\"\([^\"]*\)\".*/\1/p"
}
check_page() {  # FILE SERIES POINTS ROWS CURVES
  load "$1"
  [ "$(status state)" = ok ] || fail "$1: the page says: $(grep -o '<div id="status"[^<]*' "$T/dom" | head -1)"
  [ "$(status errors)" = 0 ] || fail "$1: $(status errors) script errors"
  if grep -E 'CONSOLE|Uncaught' "$T/log" | head -3 | grep .; then
    fail "$1: console messages"
  fi
  [ "$(status series)" = "$2" ] || fail "$1: $(status series) mean curves, expected $2"
  [ "$(status points)" = "$3" ] || fail "$1: $(status points) points, expected $3"
  [ "$(status rows)" = "$4" ] || fail "$1: $(status rows) trial rows, expected $4"
  [ "$(status curves)" = "$5" ] || fail "$1: $(status curves) trials with curves, expected $5"
  grep -q '<table class="sortable" id="trials-table">' "$T/dom" || fail "$1: no trials table"
  grep -q 'class="parallel"' "$T/dom" || fail "$1: no parallel coordinates"
  grep -q 'id="verdict-counts"' "$T/dom" || fail "$1: no verdict counts"
}
check_page "$T/r.html" 6 6 18 18
check_page "$T/run/report.html" 6 6 18 18

# two run folders as one: a first axis `run`, 12 points
run_bprun 1 run "$CFG" -o "$T/run2" -q --set seed=3 || finish   # trial 17 diverges: exit 1
run_bprun 0 report "$T/run" "$T/run2" --format html -o "$T/two.html" || finish
check_page "$T/two.html" 12 12 36 36
finish
