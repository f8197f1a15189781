/* The page of `bprun report --format html` (src/report_html.c inlines it after dygraphs).
 * Data: #bp-report holds the `bprun report --format json` document as it is (points,
 * comparisons, ranked trials); #bp-extra the run folders, the text report's best setting, the
 * t quantiles of the bands (tq[df - 1]) and the trials' per-epoch columns (curves.trials[]:
 * run, id, running, status, verdict, ep, c, d, path). The page writes what it drew into
 * <div id="status">: data-state (ok or error), data-series (mean curves drawn), data-points,
 * data-rows (trial rows of the table), data-curves (trials with curves), data-errors, and
 * data-ms: milliseconds since the script started when each view began, and at the end. */
(function () {
  'use strict';
  var t0 = performance.now(), times = [];
  function lap(what) { times.push(what + ' ' + Math.round(performance.now() - t0)); }
  var R = JSON.parse(document.getElementById('bp-report').textContent);
  var X = JSON.parse(document.getElementById('bp-extra').textContent);
  var app = document.getElementById('app');
  var status = document.getElementById('status');
  var PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2',
                 '#7f7f7f', '#bcbd22', '#17becf'];
  var VERDICT_COLORS = { minimum: '#2ca02c', saddle: '#ff7f0e', plateau: '#d62728',
                         diverged: '#000000' };
  var VERDICT_EXTRA = ['#9467bd', '#8c564b', '#e377c2', '#bcbd22', '#17becf', '#1f77b4'];
  var SVGNS = 'http://www.w3.org/2000/svg';
  var drawn = { series: 0 };
  var graphs = [];

  /* ---- helpers ---- */
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'onclick' || k === 'onchange' || k === 'oninput') e[k] = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    return e;
  }
  function tip(node, text) {
    var t = svg('title');
    t.textContent = text;
    node.appendChild(t);
    return node;
  }
  function fmt(v) {
    if (v === null || v === undefined || (typeof v === 'number' && !isFinite(v))) return '-';
    if (typeof v !== 'number') return String(v);
    if (v === 0) return '0';
    var a = Math.abs(v);
    return a >= 1e-3 && a < 1e6 ? String(+v.toPrecision(6)) : v.toExponential(4);
  }
  function section(id, title, note) {
    var s = el('section', { id: id }, [el('h2', { text: title })]);
    if (note) s.appendChild(el('p', { 'class': 'note', text: note }));
    app.appendChild(s);
    return s;
  }
  // dygraphs writes labels into its legend as HTML: swept values are text
  function esc(s) { return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'); }
  function isNum(s) { return s !== '' && s !== null && isFinite(Number(s)); }
  var higher = !!R.higher_is_better;

  /* ---- points, their labels and colours ---- */
  var axes = R.axes || [];
  var points = R.points || [];
  var ranked = R.ranked || [];
  // short axis names: the last key part, unless two axes end alike
  var shortName = {};
  axes.forEach(function (a) {
    var s = a.split('.').pop();
    var clash = axes.filter(function (b) { return b !== a && b.split('.').pop() === s; }).length;
    shortName[a] = clash ? a : s;
  });
  // axes with more than one value among the points label them
  var varying = axes.filter(function (a) {
    var seen = {};
    points.forEach(function (p) { seen[p.params[a]] = 1; });
    return Object.keys(seen).length > 1;
  });
  function pointLabel(p) {
    if (!axes.length) return 'all trials';
    var ax = varying.length ? varying : axes;
    return ax.map(function (a) { return shortName[a] + '=' + p.params[a]; }).join(' ');
  }
  function pointColor(k) { return PALETTE[k % PALETTE.length]; }
  var verdictOrder = [];
  function verdictColor(v) {
    if (!v) return '#7f7f7f';
    if (VERDICT_COLORS[v]) return VERDICT_COLORS[v];
    var i = verdictOrder.indexOf(v);
    if (i < 0) { verdictOrder.push(v); i = verdictOrder.length - 1; }
    return VERDICT_EXTRA[i % VERDICT_EXTRA.length];
  }

  // the trials' curves by run index and id; the point of each trial
  var curves = {};
  var ctrials = (X.curves && X.curves.trials) || [];
  ctrials.forEach(function (t) { curves[t.run + ':' + t.id] = t; });
  function runIndex(p) {
    if (X.runs.length < 2) return 0;
    var i = X.runs.indexOf(p.params.run);
    return i < 0 ? 0 : i;
  }
  var trialPoint = {};
  points.forEach(function (p, k) {
    var r = runIndex(p);
    p.trials.forEach(function (id) { trialPoint[r + ':' + id] = k; });
  });
  var rankedByKey = {};
  ranked.forEach(function (t) {
    var r = X.runs.length > 1 ? Math.max(0, X.runs.indexOf(t.params.run)) : 0;
    rankedByKey[r + ':' + t.trial] = t;
  });
  function verdictOf(key) {
    var c = curves[key], t = rankedByKey[key];
    return (c && c.verdict) || (t && t.verdict) || null;
  }

  /* ---- header ---- */
  var title = X.runs.length > 1 ? 'runs ' + X.runs.join(', ') : 'run ' + X.runs[0];
  app.appendChild(el('h1', { text: 'bprun report: ' + title }));
  app.appendChild(el('p', { 'class': 'summary', text:
    R.trials + ' trials, ' + R.finished + ' finished, ' + R.completed + ' completed; points ranked by the ' +
    R.by + ' of ' + R.metric + ' (' + (higher ? 'higher' : 'lower') + ' is better), ' +
    'comparisons at alpha ' + R.alpha + '. Every number is the one bprun report gives (docs/REPORT.md).' }));
  var nav = el('nav');
  app.appendChild(nav);
  function navLink(id, text) { nav.appendChild(el('a', { href: '#' + id, text: text })); }

  /* ---- the best setting ---- */
  lap('best');
  (function best() {
    navLink('best', 'best');
    var s = section('best', 'Best setting');
    if (!points.length || points[0].n_value === 0) {
      s.appendChild(el('p', { text: 'No completed trial with a value of ' + R.metric + ' yet.' }));
      return;
    }
    var p = points[0];
    var byMedian = R.by === 'median';
    var lo = byMedian ? p.median_ci_low : p.ci_low, hi = byMedian ? p.median_ci_high : p.ci_high;
    var dl = el('dl', { 'class': 'best' });
    function row(k, v) { dl.appendChild(el('dt', { text: k })); dl.appendChild(el('dd', { text: v })); }
    axes.forEach(function (a) { row(a, p.params[a]); });
    row(R.by + ' ' + R.metric, fmt(p.score) + '  (95% CI ' + fmt(lo) + ' to ' + fmt(hi) + ')');
    row('repeats', p.n + ' (' + p.n_value + ' with a value, ' + p.failed + ' diverged or failed)');
    if (p.success !== undefined) row('success', fmt(p.success) + ' (' + fmt(p.success_ci_low) + ' to ' + fmt(p.success_ci_high) + ')');
    if (p.verdicts) row('verdicts', Object.keys(p.verdicts).map(function (v) { return v + ' ' + p.verdicts[v]; }).join(', ') || '-');
    s.appendChild(dl);
    var cmp = (R.comparisons || []).filter(function (c) { return c.a === 1; });
    if (cmp.length) {
      var ul = el('ul', { 'class': 'cmp' });
      cmp.forEach(function (c) {
        var q = points[c.b - 1];
        var how = c.verdict === 'not distinguishable'
          ? 'not distinguishable from ' : (c.verdict === 'better' ? 'better than ' : 'worse than ');
        var li = el('li', { 'class': c.verdict === 'better' ? 'better' : c.verdict === 'worse' ? 'worse' : 'same',
          text: how + pointLabel(q) + (c.paired ? ' (' + c.wins_a + ' wins, ' + c.losses_a + ' losses of ' + c.n_pairs + ' seeds; ' : ' (unpaired; ') +
                'p = ' + fmt(c.p_value) + ', Holm ' + fmt(c.p_holm) + ')' });
        ul.appendChild(li);
      });
      s.appendChild(ul);
    }
    if (X.best) s.appendChild(el('details', {}, [el('summary', { text: 'complete config, ready to rerun' }),
                                                 el('pre', { text: X.best })]));
  })();

  /* ---- mean curves with bands ---- */
  var colNames = [];
  ctrials.forEach(function (t) {
    Object.keys(t.c).forEach(function (k) { if (colNames.indexOf(k) < 0) colNames.push(k); });
  });
  function hasValues(col) {
    return ctrials.some(function (t) { return (t.c[col] || []).some(function (v) { return v !== null; }); });
  }
  colNames = colNames.filter(hasValues);
  var BASIC = ['loss', 'val_loss', 'accuracy', 'val_accuracy', 'test_loss', 'test_accuracy', 'lr'];
  function tq(df) { return X.tq[Math.min(df, X.tq.length) - 1]; }
  // per point: epoch -> [mean, low, high] over the repeats with a finite value there
  function meanCurve(k, col) {
    var p = points[k], r = runIndex(p), by = {};
    var ts = p.trials.map(function (id) { return curves[r + ':' + id]; }).filter(Boolean);
    ts.forEach(function (t) {
      var v = t.c[col];
      if (!v) return;
      for (var i = 0; i < t.ep.length; i++) {
        if (v[i] === null || t.ep[i] === null) continue;
        (by[t.ep[i]] = by[t.ep[i]] || []).push(v[i]);
      }
    });
    var out = {};
    Object.keys(by).forEach(function (e) {
      var xs = by[e], n = xs.length;
      if (ts.length === 1) { out[e] = [xs[0], xs[0], xs[0]]; return; }
      if (n < 2) return;
      var m = 0;
      xs.forEach(function (x) { m += x; });
      m /= n;
      var ss = 0;
      xs.forEach(function (x) { ss += (x - m) * (x - m); });
      var h = tq(n - 1) * Math.sqrt(ss / (n - 1)) / Math.sqrt(n);
      out[e] = [m - h, m, m + h];
    });
    return out;
  }
  lap('curvesView');
  (function curvesView() {
    navLink('curves', 'curves');
    var s = section('curves', 'Curves per point',
      'The mean over each point\'s repeats per epoch with its 95% t band (repeats that stopped or diverged leave; ' +
      'the curve stops where fewer than 2 remain). Hover for values, drag to zoom, double-click to zoom out. ' +
      (X.curves.stride > 1 ? 'Curves keep every ' + X.curves.stride + 'th epoch (and each trial\'s last).' : ''));
    if (!colNames.length || !points.length) {
      s.appendChild(el('p', { text: 'No per-epoch rows yet.' }));
      return;
    }
    var sel = el('select', { id: 'curve-col' });
    colNames.forEach(function (c) { sel.appendChild(el('option', { value: c, text: c })); });
    if (colNames.indexOf(R.metric) >= 0) sel.value = R.metric;
    var logBox = el('input', { type: 'checkbox', id: 'curve-log', checked: 'checked' });
    var rawBox = el('input', { type: 'checkbox', id: 'curve-raw' });
    var pick = el('select', { id: 'raw-point' });
    pick.appendChild(el('option', { value: '-1', text: 'every point' }));
    points.forEach(function (p, k) { pick.appendChild(el('option', { value: String(k), text: '#' + p.rank + ' ' + pointLabel(p) })); });
    s.appendChild(el('div', { 'class': 'controls' }, [
      el('label', { text: 'column ' }, [sel]), el('label', {}, [logBox, document.createTextNode(' log y')]),
      el('label', {}, [rawBox, document.createTextNode(' raw trials of ')]), pick]));
    var box = el('div', { id: 'curve-graph', 'class': 'graph' });
    var legend = el('div', { 'class': 'legend' });
    var rawDiv = el('div', { id: 'raw-graph', 'class': 'graph', style: 'display:none' });
    s.appendChild(box);
    s.appendChild(legend);
    s.appendChild(rawDiv);
    var g = null, rg = null;
    function draw() {
      var col = sel.value, eps = {}, per = [];
      points.forEach(function (p, k) {
        var mc = meanCurve(k, col);
        per.push(mc);
        Object.keys(mc).forEach(function (e) { eps[e] = 1; });
      });
      var xs = Object.keys(eps).map(Number).sort(function (a, b) { return a - b; });
      var data = xs.map(function (e) {
        return [e].concat(per.map(function (mc) { return mc[e] ? mc[e] : null; }));
      });
      var labels = ['epoch'].concat(points.map(function (p) { return esc('#' + p.rank + ' ' + pointLabel(p)); }));
      var logy = logBox.checked && !data.some(function (r) { return r.slice(1).some(function (b) { return b && b[1] <= 0; }); });
      // on a log axis a band's lower end at or below 0 runs out at the bottom: the y range
      // follows the means, the upper ends and the lower ends down to a tenth of the mean
      var range = null;
      if (logy) {
        var ymin = Infinity, ymax = -Infinity;
        data.forEach(function (r) {
          r.slice(1).forEach(function (b) {
            if (!b) return;
            ymin = Math.min(ymin, Math.max(b[0], b[1] / 10));
            ymax = Math.max(ymax, b[2]);
            if (!(b[0] > 0)) b[0] = b[1] * 1e-12;
          });
        });
        if (isFinite(ymin) && isFinite(ymax) && ymin > 0) range = [ymin / 1.5, ymax * 1.5];
      }
      if (g) g.destroy();
      if (!data.length) { box.textContent = 'no values of ' + col; drawn.series = 0; return; }
      box.textContent = '';
      g = new Dygraph(box, data, {
        labels: labels, customBars: true, fillAlpha: 0.1, logscale: logy, valueRange: range, colors: points.map(function (p, k) { return pointColor(k); }),
        xlabel: 'epoch', ylabel: esc(col), labelsDiv: legend, labelsSeparateLines: true, legend: 'always',
        highlightSeriesOpts: { strokeWidth: 3 }, strokeWidth: 1.5, width: box.clientWidth || 900, height: 380
      });
      graphs.push(g);
      drawn.series = per.filter(function (mc) { return Object.keys(mc).length > 0; }).length;
      drawRaw();
    }
    function drawRaw() {
      if (rg) { rg.destroy(); rg = null; }
      rawDiv.style.display = rawBox.checked ? '' : 'none';
      if (!rawBox.checked) return;
      var col = sel.value, k = Number(pick.value), ids = [];
      points.forEach(function (p, j) {
        if (k >= 0 && j !== k) return;
        var r = runIndex(p);
        p.trials.forEach(function (id) { if (curves[r + ':' + id]) ids.push([r + ':' + id, j, id]); });
      });
      var note = '';
      if (ids.length > 300) { note = ' (the first 300 of ' + ids.length + ')'; ids = ids.slice(0, 300); }
      var eps = {};
      ids.forEach(function (x) { curves[x[0]].ep.forEach(function (e) { if (e !== null) eps[e] = 1; }); });
      var xs = Object.keys(eps).map(Number).sort(function (a, b) { return a - b; });
      var index = {};
      xs.forEach(function (e, i) { index[e] = i; });
      var data = xs.map(function (e) { return [e].concat(ids.map(function () { return null; })); });
      ids.forEach(function (x, j) {
        var t = curves[x[0]], v = t.c[col] || [];
        t.ep.forEach(function (e, i) { if (e !== null && v[i] !== null && v[i] !== undefined) data[index[e]][j + 1] = v[i]; });
      });
      if (!data.length) { rawDiv.textContent = 'no rows'; return; }
      rawDiv.textContent = '';
      var logy = logBox.checked && !data.some(function (r) { return r.slice(1).some(function (v) { return v !== null && v <= 0; }); });
      rg = new Dygraph(rawDiv, data, {
        labels: ['epoch'].concat(ids.map(function (x) { return esc('trial ' + x[2] + (X.runs.length > 1 ? ' (' + X.runs[x[0].split(':')[0]] + ')' : '')); })),
        colors: ids.map(function (x) { return pointColor(x[1]); }), logscale: logy, connectSeparatedPoints: false,
        title: 'raw trials' + note, xlabel: 'epoch', ylabel: esc(col), strokeWidth: 1,
        highlightSeriesOpts: { strokeWidth: 2.5 }, width: rawDiv.clientWidth || 900, height: 320
      });
      graphs.push(rg);
    }
    sel.onchange = draw;
    logBox.onchange = draw;
    rawBox.onchange = drawRaw;
    pick.onchange = drawRaw;
    draw();
  })();

  /* ---- values of the metric per trial, from the report's ranked trials ---- */
  var METRIC_FIELD = { loss: 'loss', val_loss: 'val_loss', best_val_loss: 'best_val_loss', accuracy: 'accuracy',
    val_accuracy: 'val_accuracy', test_accuracy: 'test_accuracy', seconds: 'seconds', epochs_to_target: 'epochs_to_target' };
  function trialValue(t) {
    var f = METRIC_FIELD[R.metric];
    if (!f || t.status !== 'completed') return null;
    var v = t[f];
    return typeof v === 'number' && isFinite(v) ? v : null;
  }

  /* ---- an SVG scatter frame: x categories or numbers, y numbers ---- */
  function scale(vals, log) {
    var lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals);
    if (log) { lo = Math.log10(lo); hi = Math.log10(hi); }
    if (lo === hi) { lo -= 0.5; hi += 0.5; }
    var pad = (hi - lo) * 0.06;
    lo -= pad; hi += pad;
    return { lo: lo, hi: hi, log: log, f: function (v) { var x = log ? Math.log10(v) : v; return (x - lo) / (hi - lo); } };
  }
  function ticks(sc, n) {
    var out = [];
    if (sc.log) {
      for (var e = Math.ceil(sc.lo); e <= Math.floor(sc.hi); e++) out.push(Math.pow(10, e));
      if (out.length >= 2) return out;
    }
    var lo = sc.log ? Math.pow(10, sc.lo) : sc.lo, hi = sc.log ? Math.pow(10, sc.hi) : sc.hi;
    // round steps: 1, 2 or 5 times a power of ten
    var raw = (hi - lo) / n, p10 = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (m) { return m * p10; }).filter(function (s) { return s >= raw; })[0];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
      out.push(Math.abs(v) < step * 1e-9 ? 0 : +v.toPrecision(12));
    return out;
  }
  function positiveSpan(vals) {
    var pos = vals.every(function (v) { return v > 0; });
    return pos && Math.max.apply(null, vals) / Math.min.apply(null, vals) > 10;
  }

  /* ---- final metric against each swept axis ---- */
  lap('finalView');
  (function finalView() {
    if (!axes.length || !points.length) return;
    navLink('final', 'final vs axes');
    var s = section('final', 'Final ' + R.metric + ' against each swept axis',
      'Each point\'s ' + R.by + ' with its 95% interval (as bprun report), its repeats as faint dots; ' +
      'one line per setting of the other axes; ✕k marks k diverged or failed repeats. Hover for values.');
    var byMedian = R.by === 'median';
    axes.forEach(function (a, ai) {
      var vals = [];
      points.forEach(function (p) { if (vals.indexOf(p.params[a]) < 0) vals.push(p.params[a]); });
      var numeric = vals.every(isNum);
      if (numeric) vals.sort(function (x, y) { return Number(x) - Number(y); });
      var others = axes.filter(function (b) { return b !== a && varying.indexOf(b) >= 0; });
      var groups = [];
      points.forEach(function (p) {
        var key = others.map(function (b) { return shortName[b] + '=' + p.params[b]; }).join(' ');
        if (groups.indexOf(key) < 0) groups.push(key);
      });
      var xsNum = numeric ? vals.map(Number) : null;
      var xlog = numeric && positiveSpan(xsNum);
      var xsc = numeric ? scale(xsNum, xlog) : null;
      function xpos(v) { return numeric ? xsc.f(Number(v)) : (vals.indexOf(v) + 0.5) / vals.length; }
      var ys = [];
      points.forEach(function (p, k) {
        var lo = byMedian ? p.median_ci_low : p.ci_low, hi = byMedian ? p.median_ci_high : p.ci_high;
        [p.score, lo, hi].forEach(function (v) { if (typeof v === 'number' && isFinite(v)) ys.push(v); });
      });
      ranked.forEach(function (t) { var v = trialValue(t); if (v !== null) ys.push(v); });
      if (!ys.length) return;
      var ysc = scale(ys, positiveSpan(ys));
      var W = 520, H = 300, L = 64, B = 40, T = 16, Rm = 16;
      var fig = svg('svg', { width: W, height: H, 'class': 'final', viewBox: '0 0 ' + W + ' ' + H });
      function X_(f) { return L + f * (W - L - Rm); }
      function Y_(f) { return H - B - f * (H - B - T); }
      fig.appendChild(svg('rect', { x: L, y: T, width: W - L - Rm, height: H - B - T, 'class': 'frame' }));
      ticks(ysc, 4).forEach(function (v) {
        var y = Y_(ysc.f(v));
        fig.appendChild(svg('line', { x1: L - 4, x2: W - Rm, y1: y, y2: y, 'class': 'grid' }));
        var t = svg('text', { x: L - 6, y: y + 4, 'text-anchor': 'end', 'class': 'tick' });
        t.textContent = fmt(v);
        fig.appendChild(t);
      });
      (numeric ? (xlog ? ticks(xsc, 4) : xsNum) : vals).forEach(function (v) {
        var x = X_(xpos(v));
        var t = svg('text', { x: x, y: H - B + 16, 'text-anchor': 'middle', 'class': 'tick' });
        t.textContent = numeric ? fmt(Number(v)) : v;
        fig.appendChild(t);
      });
      var xl = svg('text', { x: L + (W - L - Rm) / 2, y: H - 4, 'text-anchor': 'middle', 'class': 'axis-label' });
      xl.textContent = a;
      fig.appendChild(xl);
      var yl = svg('text', { x: 12, y: T + (H - B - T) / 2, 'text-anchor': 'middle', 'class': 'axis-label',
                             transform: 'rotate(-90 12 ' + (T + (H - B - T) / 2) + ')' });
      yl.textContent = R.by + ' ' + R.metric;
      fig.appendChild(yl);
      groups.forEach(function (gk, gi) {
        var color = PALETTE[gi % PALETTE.length];
        var pts = points.map(function (p, k) { return [p, k]; }).filter(function (pk) {
          return others.map(function (b) { return shortName[b] + '=' + pk[0].params[b]; }).join(' ') === gk;
        });
        pts.sort(function (u, v) { return xpos(u[0].params[a]) - xpos(v[0].params[a]); });
        var dx = groups.length > 1 ? (gi - (groups.length - 1) / 2) * 4 : 0;
        var line = [];
        pts.forEach(function (pk) {
          var p = pk[0], x = X_(xpos(p.params[a])) + dx, r = runIndex(p);
          p.trials.forEach(function (id) {
            var t = rankedByKey[r + ':' + id], v = t ? trialValue(t) : null;
            if (v === null) return;
            fig.appendChild(tip(svg('circle', { cx: x + 6, cy: Y_(ysc.f(v)), r: 2, fill: color, 'class': 'dot' }),
                                'trial ' + id + ': ' + fmt(v)));
          });
          var lo = byMedian ? p.median_ci_low : p.ci_low, hi = byMedian ? p.median_ci_high : p.ci_high;
          if (typeof p.score !== 'number') {
            var tx = svg('text', { x: x, y: T + 12, 'text-anchor': 'middle', fill: color, 'class': 'fail' });
            tx.textContent = '✕';
            fig.appendChild(tip(tx, pointLabel(p) + ': no value (' + p.failed + ' diverged or failed)'));
            return;
          }
          var y = Y_(ysc.f(p.score));
          line.push(x + ',' + y);
          if (typeof lo === 'number' && typeof hi === 'number' && (!ysc.log || lo > 0))
            fig.appendChild(svg('line', { x1: x, x2: x, y1: Y_(ysc.f(lo)), y2: Y_(ysc.f(hi)), stroke: color, 'class': 'bar' }));
          fig.appendChild(tip(svg('circle', { cx: x, cy: y, r: 4, fill: color, 'class': 'mean' }),
            '#' + p.rank + ' ' + pointLabel(p) + '\n' + R.by + ' ' + fmt(p.score) + ' [' + fmt(lo) + ', ' + fmt(hi) + ']\n' +
            p.n_value + ' of ' + p.n + ' repeats' + (p.failed ? ', ' + p.failed + ' diverged or failed' : '')));
          if (p.failed) {
            var ft = svg('text', { x: x + 6, y: y - 6, fill: color, 'class': 'fail' });
            ft.textContent = '✕' + p.failed;
            fig.appendChild(ft);
          }
        });
        if (line.length > 1)
          fig.insertBefore(svg('polyline', { points: line.join(' '), stroke: color, fill: 'none', 'class': 'join' }), fig.childNodes[1]);
      });
      var wrap = el('div', { 'class': 'figure' }, [fig]);
      if (groups.length > 1 || groups[0]) {
        var lg = el('div', { 'class': 'keys' });
        groups.forEach(function (gk, gi) {
          lg.appendChild(el('span', { 'class': 'key', style: 'color:' + PALETTE[gi % PALETTE.length], text: '● ' + (gk || 'all') }));
        });
        wrap.appendChild(lg);
      }
      s.appendChild(wrap);
      void ai;
    });
  })();

  /* ---- parallel coordinates ---- */
  lap('parallel');
  (function parallel() {
    if (axes.length < 2) return;
    navLink('parallel', 'parallel coordinates');
    var s = section('parallel', 'Parallel coordinates',
      'One line per trial through its swept values and its final ' + R.metric + ' (diverged or failed: at the ✕ row); ' +
      'coloured by the metric (dark = better) or by verdict. Hover a line for the trial.');
    var colorBy = el('select', {});
    colorBy.appendChild(el('option', { value: 'metric', text: 'colour by ' + R.metric }));
    colorBy.appendChild(el('option', { value: 'verdict', text: 'colour by verdict' }));
    s.appendChild(el('div', { 'class': 'controls' }, [colorBy]));
    var holder = el('div', { 'class': 'figure' });
    s.appendChild(holder);
    var dims = axes.slice();
    var W = Math.max(560, 150 * (dims.length + 1)), H = 340, T = 30, B = 30, L = 60, Rm = 60;
    function draw() {
      holder.textContent = '';
      var fig = svg('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, 'class': 'parallel' });
      var nd = dims.length + 1;
      function X_(i) { return L + i * (W - L - Rm) / (nd - 1); }
      var cats = dims.map(function (a) {
        var v = [];
        ranked.forEach(function (t) { if (v.indexOf(t.params[a]) < 0) v.push(t.params[a]); });
        if (v.every(isNum)) v.sort(function (x, y) { return Number(x) - Number(y); }); else v.sort();
        return v;
      });
      var mv = ranked.map(trialValue).filter(function (v) { return v !== null; });
      var msc = mv.length ? scale(mv, positiveSpan(mv)) : null;
      function Y_(f) { return H - B - f * (H - B - T); }
      function catY(i, v) { var c = cats[i]; return Y_(c.length > 1 ? 0.05 + 0.9 * c.indexOf(v) / (c.length - 1) : 0.5); }
      ranked.slice().reverse().forEach(function (t) {
        var v = trialValue(t), ptsv = [];
        dims.forEach(function (a, i) { ptsv.push(X_(i) + ',' + catY(i, t.params[a])); });
        ptsv.push(X_(nd - 1) + ',' + (v !== null && msc ? Y_(msc.f(v)) : T - 12));
        var color;
        if (colorBy.value === 'verdict') color = verdictColor(t.verdict);
        else if (v === null || !msc) color = '#999';
        else { var f = msc.f(v); if (higher) f = 1 - f; color = 'hsl(' + Math.round(250 - 200 * f) + ',70%,' + Math.round(30 + 35 * f) + '%)'; }
        fig.appendChild(tip(svg('polyline', { points: ptsv.join(' '), stroke: color, fill: 'none', 'class': 'pline' }),
          'trial ' + t.trial + ' (rank ' + t.rank + ', ' + t.status + (t.verdict ? ', ' + t.verdict : '') + ')\n' +
          dims.map(function (a) { return shortName[a] + '=' + t.params[a]; }).join(' ') + '\n' + R.metric + ' ' + fmt(v)));
      });
      dims.forEach(function (a, i) {
        fig.appendChild(svg('line', { x1: X_(i), x2: X_(i), y1: T, y2: H - B, 'class': 'paxis' }));
        var lab = svg('text', { x: X_(i), y: H - 8, 'text-anchor': 'middle', 'class': 'axis-label' });
        lab.textContent = shortName[a];
        fig.appendChild(tip(lab, a));
        cats[i].forEach(function (v) {
          var t = svg('text', { x: X_(i) + 5, y: catY(i, v) + 4, 'class': 'tick' });
          t.textContent = v;
          fig.appendChild(t);
        });
      });
      fig.appendChild(svg('line', { x1: X_(nd - 1), x2: X_(nd - 1), y1: T, y2: H - B, 'class': 'paxis' }));
      var ml = svg('text', { x: X_(nd - 1), y: H - 8, 'text-anchor': 'middle', 'class': 'axis-label' });
      ml.textContent = R.metric;
      fig.appendChild(ml);
      var xt = svg('text', { x: X_(nd - 1) + 5, y: T - 8, 'class': 'tick' });
      xt.textContent = '✕ no value';
      fig.appendChild(xt);
      if (msc) ticks(msc, 4).forEach(function (v) {
        var t = svg('text', { x: X_(nd - 1) + 5, y: Y_(msc.f(v)) + 4, 'class': 'tick' });
        t.textContent = fmt(v);
        fig.appendChild(t);
      });
      holder.appendChild(fig);
    }
    colorBy.onchange = draw;
    draw();
  })();

  /* ---- sortable tables ---- */
  function table(container, cols, rows, id) {
    var LIMIT = 1000, shown = Math.min(rows.length, LIMIT), key = null, asc = true;
    var t = el('table', { 'class': 'sortable', id: id });
    var thead = el('thead'), tbody = el('tbody'), hr = el('tr');
    cols.forEach(function (c, i) {
      var th = el('th', { text: c.name, title: 'sort by ' + c.name });
      th.onclick = function () {
        asc = key === i ? !asc : true;
        key = i;
        rows.sort(function (x, y) {
          var a = c.get(x), b = c.get(y), na = a === null || a === undefined || a === '', nb = b === null || b === undefined || b === '';
          if (na || nb) return na === nb ? 0 : na ? 1 : -1;
          if (typeof a === 'number' && typeof b === 'number') return asc ? a - b : b - a;
          if (isNum(a) && isNum(b)) return asc ? Number(a) - Number(b) : Number(b) - Number(a);
          return asc ? String(a).localeCompare(String(b)) : String(b).localeCompare(String(a));
        });
        Array.prototype.forEach.call(hr.children, function (h, j) { h.className = j === i ? (asc ? 'asc' : 'desc') : ''; });
        body();
      };
      hr.appendChild(th);
    });
    thead.appendChild(hr);
    t.appendChild(thead);
    t.appendChild(tbody);
    var more = el('button', { text: 'show all ' + rows.length + ' rows' });
    more.onclick = function () { shown = rows.length; body(); more.style.display = 'none'; };
    function body() {
      tbody.textContent = '';
      rows.slice(0, shown).forEach(function (r) {
        var tr = el('tr');
        cols.forEach(function (c) {
          var v = c.get(r), td = el('td', { text: c.fmt ? c.fmt(v, r) : fmt(v) });
          if (c.style) { var st = c.style(v, r); if (st) td.setAttribute('style', st); }
          tr.appendChild(td);
        });
        tbody.appendChild(tr);
      });
    }
    body();
    container.appendChild(el('div', { 'class': 'table-wrap' }, [t]));
    if (rows.length > LIMIT) container.appendChild(more);
    return rows.length;
  }
  var nRows = 0;
  lap('tables');
  (function tables() {
    navLink('points', 'points');
    var s = section('points', 'Points', 'A point is one setting of the swept keys; click a header to sort.');
    var byMedian = R.by === 'median';
    var pcols = [{ name: 'rank', get: function (p) { return p.rank; } }];
    axes.forEach(function (a) { pcols.push({ name: shortName[a], get: function (p) { return p.params[a]; } }); });
    pcols = pcols.concat([
      { name: 'n', get: function (p) { return p.n; } },
      { name: 'failed', get: function (p) { return p.failed; } },
      { name: R.by, get: function (p) { return p.score; } },
      { name: '95% low', get: function (p) { return byMedian ? p.median_ci_low : p.ci_low; } },
      { name: '95% high', get: function (p) { return byMedian ? p.median_ci_high : p.ci_high; } },
      { name: 'mean', get: function (p) { return p.mean; } },
      { name: 'sd', get: function (p) { return p.sd; } },
      { name: 'median', get: function (p) { return p.median; } }]);
    if (points.some(function (p) { return p.success !== undefined; }))
      pcols.push({ name: 'success', get: function (p) { return p.success; } },
                 { name: 'epochs to solve', get: function (p) { return p.epochs_to_target_median; } });
    if (points.some(function (p) { return p.verdicts; }))
      pcols.push({ name: 'verdicts', get: function (p) {
        return p.verdicts ? Object.keys(p.verdicts).map(function (v) { return v + ' ' + p.verdicts[v]; }).join(', ') : '';
      } });
    table(s, pcols, points.slice(), 'points-table');
    navLink('trials', 'trials');
    var s2 = section('trials', 'Trials', 'Ranked as bprun report ranks them' + (R.trials > ranked.length ? ' (the first ' + ranked.length + ' of ' + R.trials + ': --top)' : '') + '; click a header to sort.');
    var tcols = [{ name: 'rank', get: function (t) { return t.rank; } }, { name: 'trial', get: function (t) { return t.trial; } },
                 { name: 'seed', get: function (t) { return t.seed; } }];
    axes.forEach(function (a) { tcols.push({ name: shortName[a], get: function (t) { return t.params[a]; } }); });
    tcols = tcols.concat([
      { name: 'status', get: function (t) { return t.status; } },
      { name: 'epochs', get: function (t) { return t.epochs; } },
      { name: 'loss', get: function (t) { return t.loss; } },
      { name: 'accuracy', get: function (t) { return t.accuracy; } },
      { name: 'val_loss', get: function (t) { return t.val_loss; } },
      { name: 'val_accuracy', get: function (t) { return t.val_accuracy; } },
      { name: 'seconds', get: function (t) { return t.seconds; } }]);
    if (ranked.some(function (t) { return t.epochs_to_target !== null && t.epochs_to_target !== undefined; }))
      tcols.push({ name: 'to target', get: function (t) { return t.epochs_to_target; } });
    if (ranked.some(function (t) { return t.verdict !== undefined; }))
      tcols.push({ name: 'verdict', get: function (t) { return t.verdict; },
                   style: function (v) { return v ? 'color:' + verdictColor(v) + ';font-weight:bold' : ''; } });
    nRows = table(s2, tcols, ranked.slice(), 'trials-table');
  })();

  /* ---- diagnostics ---- */
  lap('diagnostics');
  (function diagnostics() {
    var withVerdict = ctrials.filter(function (t) { return verdictOf(t.run + ':' + t.id); });
    var withD = ctrials.filter(function (t) { return t.d && (t.d.lambda_max !== undefined); });
    var withPath = ctrials.filter(function (t) { return t.path; });
    var diagCols = colNames.filter(function (c) { return BASIC.indexOf(c) < 0; });
    if (!withVerdict.length && !withD.length && !withPath.length && !diagCols.length) return;
    navLink('diagnostics', 'diagnostics');
    var s = section('diagnostics', 'Diagnostics',
      'Trials coloured by their verdict (docs/DIAGNOSTICS.md): minimum green, saddle orange, plateau red, none grey.');
    // verdict counts, overall and per point
    var counts = {};
    ctrials.forEach(function (t) { var v = verdictOf(t.run + ':' + t.id) || 'none'; counts[v] = (counts[v] || 0) + 1; });
    var order = Object.keys(counts).sort(function (a, b) { return counts[b] - counts[a]; });
    var bars = el('div', { 'class': 'verdicts', id: 'verdict-counts' });
    var total = ctrials.length || 1;
    order.forEach(function (v) {
      bars.appendChild(el('div', { 'class': 'vbar' }, [
        el('span', { 'class': 'vname', text: v }),
        el('span', { 'class': 'vfill', style: 'width:' + (300 * counts[v] / total) + 'px;background:' + verdictColor(v === 'none' ? null : v) }),
        el('span', { 'class': 'vcount', text: String(counts[v]) })]));
    });
    s.appendChild(el('h3', { text: 'Verdicts' }));
    s.appendChild(bars);
    if (axes.length && withVerdict.length) {
      var rowsP = points.map(function (p, k) {
        var r = runIndex(p), c = {};
        p.trials.forEach(function (id) { var v = verdictOf(r + ':' + id) || 'none'; c[v] = (c[v] || 0) + 1; });
        return { p: p, c: c };
      });
      var cols = [{ name: 'rank', get: function (x) { return x.p.rank; } },
                  { name: 'point', get: function (x) { return pointLabel(x.p); } }];
      order.forEach(function (v) {
        cols.push({ name: v, get: function (x) { return x.c[v] || 0; },
                    style: function (n) { return n ? 'color:' + verdictColor(v === 'none' ? null : v) + ';font-weight:bold' : ''; } });
      });
      table(s, cols, rowsP, 'verdicts-table');
    }
    // curvature: lambda_min against lambda_max (sign-preserving log scale)
    if (withD.length) {
      s.appendChild(el('h3', { text: 'Curvature at the final weights' }));
      var W = 480, H = 320, L = 70, B = 40, T = 14, Rm = 14;
      function sl(v) { return v === null ? null : (v < 0 ? -1 : 1) * Math.log10(1 + Math.abs(v) / 1e-6); }
      function inv(u) { return (u < 0 ? -1 : 1) * (Math.pow(10, Math.abs(u)) - 1) * 1e-6; }
      var xv = withD.map(function (t) { return sl(t.d.lambda_max); }).filter(function (v) { return v !== null; });
      var yv = withD.map(function (t) { return sl(t.d.lambda_min); }).filter(function (v) { return v !== null; });
      if (xv.length && yv.length) {
        var xs = scale(xv.concat([0]), false), ys = scale(yv.concat([0]), false);
        var fig = svg('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, 'class': 'curv' });
        function X_(f) { return L + f * (W - L - Rm); }
        function Y_(f) { return H - B - f * (H - B - T); }
        fig.appendChild(svg('rect', { x: L, y: T, width: W - L - Rm, height: H - B - T, 'class': 'frame' }));
        fig.appendChild(svg('line', { x1: L, x2: W - Rm, y1: Y_(ys.f(0)), y2: Y_(ys.f(0)), 'class': 'zero' }));
        fig.appendChild(svg('line', { x1: X_(xs.f(0)), x2: X_(xs.f(0)), y1: T, y2: H - B, 'class': 'zero' }));
        ticks(ys, 4).forEach(function (u) {
          var t = svg('text', { x: L - 6, y: Y_(ys.f(u)) + 4, 'text-anchor': 'end', 'class': 'tick' });
          t.textContent = fmt(+inv(u).toPrecision(2));
          fig.appendChild(t);
        });
        ticks(xs, 4).forEach(function (u) {
          var t = svg('text', { x: X_(xs.f(u)), y: H - B + 16, 'text-anchor': 'middle', 'class': 'tick' });
          t.textContent = fmt(+inv(u).toPrecision(2));
          fig.appendChild(t);
        });
        var a1 = svg('text', { x: L + (W - L - Rm) / 2, y: H - 4, 'text-anchor': 'middle', 'class': 'axis-label' });
        a1.textContent = 'lambda_max (sign-preserving log scale)';
        fig.appendChild(a1);
        var a2 = svg('text', { x: 12, y: T + (H - B - T) / 2, 'text-anchor': 'middle', 'class': 'axis-label',
                               transform: 'rotate(-90 12 ' + (T + (H - B - T) / 2) + ')' });
        a2.textContent = 'lambda_min';
        fig.appendChild(a2);
        withD.forEach(function (t) {
          if (t.d.lambda_max === null || t.d.lambda_min === null) return;
          var v = verdictOf(t.run + ':' + t.id);
          fig.appendChild(tip(svg('circle', { cx: X_(xs.f(sl(t.d.lambda_max))), cy: Y_(ys.f(sl(t.d.lambda_min))), r: 4,
                                              fill: verdictColor(v), 'class': 'cdot' }),
            'trial ' + t.id + ': ' + (v || 'no verdict') + '\nlambda_max ' + fmt(t.d.lambda_max) + ', lambda_min ' + fmt(t.d.lambda_min) +
            (t.d.loss !== undefined ? '\nloss ' + fmt(t.d.loss) : '') + (t.d.grad_norm !== undefined ? ', grad_norm ' + fmt(t.d.grad_norm) : '')));
        });
        s.appendChild(el('div', { 'class': 'figure' }, [fig]));
      }
    }
    // per-trial lines coloured by verdict: a per-epoch diagnostic column, the loss along the path
    function verdictLines(div, rows, xlabel, ylabel, getX, getY, title) {
      var list = rows.slice(0, 300), eps = {};
      list.forEach(function (t) { getX(t).forEach(function (e) { if (e !== null) eps[e] = 1; }); });
      var xsv = Object.keys(eps).map(Number).sort(function (a, b) { return a - b; }), idx = {};
      xsv.forEach(function (e, i) { idx[e] = i; });
      var data = xsv.map(function (e) { return [e].concat(list.map(function () { return null; })); });
      list.forEach(function (t, j) {
        var xv = getX(t), yv = getY(t) || [];
        xv.forEach(function (e, i) { if (e !== null && yv[i] !== null && yv[i] !== undefined) data[idx[e]][j + 1] = yv[i]; });
      });
      if (!data.length) return null;
      var pos = data.every(function (r) { return r.slice(1).every(function (v) { return v === null || v > 0; }); });
      var vals = [];
      data.forEach(function (r) { r.slice(1).forEach(function (v) { if (v !== null) vals.push(v); }); });
      var logy = pos && vals.length && Math.max.apply(null, vals) / Math.min.apply(null, vals) > 100;
      var g = new Dygraph(div, data, {
        labels: [xlabel].concat(list.map(function (t) {
          return esc((X.runs.length > 1 ? X.runs[t.run] + ' ' : '') + 'trial ' + t.id + ' ' + (verdictOf(t.run + ':' + t.id) || ''));
        })),
        colors: list.map(function (t) { return verdictColor(verdictOf(t.run + ':' + t.id)); }), logscale: !!logy,
        xlabel: xlabel, ylabel: esc(ylabel), title: esc(title) + (rows.length > 300 ? ' (the first 300 of ' + rows.length + ' trials)' : ''),
        strokeWidth: 1, highlightSeriesOpts: { strokeWidth: 2.5 }, width: div.clientWidth || 900, height: 300
      });
      graphs.push(g);
      return g;
    }
    if (diagCols.length) {
      s.appendChild(el('h3', { text: 'Per-epoch diagnostics' }));
      var dsel = el('select', { id: 'diag-col' });
      diagCols.forEach(function (c) { dsel.appendChild(el('option', { value: c, text: c })); });
      s.appendChild(el('div', { 'class': 'controls' }, [el('label', { text: 'column ' }, [dsel])]));
      var ddiv = el('div', { id: 'diag-graph', 'class': 'graph' });
      s.appendChild(ddiv);
      var dg = null;
      var drawDiag = function () {
        if (dg) dg.destroy();
        var col = dsel.value, rows = ctrials.filter(function (t) { return (t.c[col] || []).some(function (v) { return v !== null; }); });
        dg = verdictLines(ddiv, rows, 'epoch', col, function (t) { return t.ep; }, function (t) { return t.c[col]; }, col);
      };
      dsel.onchange = drawDiag;
      drawDiag();
    }
    if (withPath.length) {
      s.appendChild(el('h3', { text: 'Loss along the path' }));
      s.appendChild(el('p', { 'class': 'note', text: 'The training loss from the initial weights (alpha 0) to the final ones (alpha 1) and a little beyond.' }));
      var pdiv = el('div', { id: 'path-graph', 'class': 'graph' });
      s.appendChild(pdiv);
      verdictLines(pdiv, withPath, 'alpha', 'loss', function (t) { return t.path.alpha; }, function (t) { return t.path.loss; }, 'loss along the path');
    }
  })();

  /* ---- the race and the text report ---- */
  if (R.race) {
    navLink('race', 'race');
    section('race', 'Race (sweep.race)').appendChild(el('pre', { text: R.race.join('\n') }));
  }
  /* ---- population-based training: the winner's lineage (docs/SEARCH.md) ---- */
  if (R.pbt) {
    var P = R.pbt;
    navLink('pbt', 'PBT lineage');
    var ps = section('pbt', 'Population-based training (sweep.pbt)', P.population + ' members, ' + P.interval +
      ' epochs a generation; the winner is member ' + P.winner + '. Its lineage: at each generation, the member ' +
      'whose state the winner\'s state was then, its hyperparameters and its ' + P.metric + ' at the generation\'s end.');
    var head = el('tr', {}, ['generation', 'epochs', 'member'].concat(P.params, [P.metric]).map(function (h) {
      return el('th', { text: h });
    }));
    var body = el('tbody', {}, P.lineage.map(function (g) {
      return el('tr', {}, [String(g.generation), g.first_epoch + '-' + g.last_epoch, String(g.member)].concat(
        P.params.map(function (k) { return fmt(g.params[k]); }), [fmt(g[P.metric])]).map(function (v) {
        return el('td', { text: v });
      }));
    }));
    ps.appendChild(el('table', { id: 'pbt-lineage' }, [el('thead', {}, [head]), body]));
    if (P.replay_config)
      ps.appendChild(el('details', {}, [el('summary', { text: 'the winner\'s schedule as a plain config (train.phases)' }),
        el('pre', { text: P.replay_config })]));
  }
  navLink('text', 'text report');
  section('text', 'Text report', 'bprun report ' + X.runs.join(' ') + ', as text.')
    .appendChild(el('details', {}, [el('summary', { text: 'show' }), el('pre', { text: X.text })]));

  /* ---- what was drawn ---- */
  if (!window.bpErrors.length) {
    status.setAttribute('data-state', 'ok');
    status.textContent = 'drawn: ' + drawn.series + ' mean curves, ' + points.length + ' points, ' + nRows + ' trial rows, ' +
      ctrials.length + ' trials with curves';
  }
  status.setAttribute('data-series', String(drawn.series));
  status.setAttribute('data-points', String(points.length));
  status.setAttribute('data-rows', String(nRows));
  status.setAttribute('data-curves', String(ctrials.length));
  status.setAttribute('data-graphs', String(graphs.length));
  lap('end');
  status.setAttribute('data-ms', times.join(', '));
})();
