"""Compare tests/stats_cli (src/stats.c) with SciPy on fixed inputs.

usage: stats.py STATS_CLI       exit 0 when every value agrees, 1 naming each difference
"""
import math
import subprocess
import sys

import numpy as np
from scipy import stats

cli = sys.argv[1]
bad = 0


def run(*args):
    out = subprocess.run([cli] + [str(a) for a in args], capture_output=True, text=True,
                         check=True).stdout
    return [line.split() for line in out.splitlines()]


def same(what, got, want, rel=1e-9, absol=1e-12):
    global bad
    got = float(got)
    if (math.isnan(want) and math.isnan(got)) or math.isclose(got, want, rel_tol=rel,
                                                              abs_tol=absol):
        return
    bad += 1
    print(f"FAIL: {what}: got {got!r}, SciPy {want!r}")


# distribution functions
for t, df in [(0.5, 1), (-2.2, 3), (1.96, 9), (12.0, 4), (-0.1, 120), (3.5, 0.7)]:
    same(f"t_cdf({t}, {df})", run("t_cdf", t, df)[0][0], stats.t.cdf(t, df))
for p, df in [(0.975, 1), (0.975, 2), (0.975, 9), (0.995, 29), (0.025, 5), (0.6, 200)]:
    same(f"t_quantile({p}, {df})", run("t_quantile", p, df)[0][0], stats.t.ppf(p, df))
for x, df in [(0.5, 1), (3.84, 1), (10.0, 4), (0.01, 2), (50.0, 7), (200.0, 150)]:
    same(f"chi2_sf({x}, {df})", run("chi2_sf", x, df)[0][0], stats.chi2.sf(x, df), absol=1e-300)
for p in [0.975, 0.5, 0.001, 0.999999]:
    same(f"norm_quantile({p})", run("norm_quantile", p)[0][0], stats.norm.ppf(p))
for k, n, p in [(3, 10, 0.5), (0, 6, 0.5), (12, 40, 0.3), (39, 40, 0.9)]:
    same(f"binom_cdf({k}, {n}, {p})", run("binom_cdf", k, n, p)[0][0], stats.binom.cdf(k, n, p))

# describe: mean, sd, quartiles, t interval, the order-statistic interval of the median
samples = [
    [0.158, 0.092, 0.311, 0.087, 0.095, 0.6, 0.09, 0.101, 0.088, 0.094],
    [2.0, 1.0],
    [3.25],
    [5.0, 1.0, 4.0, 2.0, 3.0, 7.5],
    list(np.linspace(-1, 2, 37) ** 3),
]
for x in samples:
    g = run("describe", *x)[0]
    n = len(x)
    a = np.array(x)
    same(f"describe n={n} mean", g[1], a.mean())
    same(f"describe n={n} sd", g[2], a.std(ddof=1) if n > 1 else float("nan"))
    same(f"describe n={n} median", g[3], np.median(a))
    same(f"describe n={n} q1", g[4], np.percentile(a, 25))
    same(f"describe n={n} q3", g[5], np.percentile(a, 75))
    if n > 1:
        lo, hi = stats.t.interval(0.95, n - 1, loc=a.mean(), scale=stats.sem(a))
    else:
        lo = hi = float("nan")
    same(f"describe n={n} ci_low", g[6], lo)
    same(f"describe n={n} ci_high", g[7], hi)
    # the largest k with P(B <= k - 1) <= 0.025, B ~ Binomial(n, 1/2)
    k = 0
    while k + 1 <= (n + 1) // 2 and stats.binom.cdf(k, n, 0.5) <= 0.025:
        k += 1
    s = np.sort(a)
    want = (s[k - 1], s[n - k], 1 - 2 * stats.binom.cdf(k - 1, n, 0.5)) if k else (math.nan,) * 3
    same(f"describe n={n} med_low", g[8], want[0])
    same(f"describe n={n} med_high", g[9], want[1])
    same(f"describe n={n} med_level", g[10], want[2])


# Wilson intervals (SciPy 1.10's binomtest(...).proportion_ci(method='wilson'))
for k, n in [(0, 10), (3, 10), (10, 10), (18, 20), (1, 1), (57, 120)]:
    g = run("wilson", k, n)[0]
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    same(f"wilson({k}, {n}) lo", g[0], ci.low)
    same(f"wilson({k}, {n}) hi", g[1], ci.high)

# Wilcoxon signed-rank: exact (n <= 50, no zeros, no ties), and the normal approximation
rng = np.random.default_rng(7)
cases = [
    ([0.5, -0.2, 1.3, 0.8, 0.1, 2.2, -0.7, 0.9, 1.1, 0.3], "exact"),
    ([1.0, 2.0, 3.0, 4.0, 5.0], "exact"),
    (list(rng.normal(0.3, 1, 18)), "exact"),
    (list(rng.normal(0.0, 1, 50)), "exact"),
    (list(rng.normal(0.2, 1, 80)), "approx"),
    ([0.5, -0.5, 1.0, 1.0, 2.0, -3.0, 0.25, 1.0, 0.5, 4.0, 2.0, -1.0], "approx"),   # ties
    ([0.0, 0.3, -0.1, 0.7, 0.0, 1.2, 0.4, -0.2, 0.9, 1.5, 0.6], "approx"),        # zeros
]
for d, method in cases:
    g = run("wilcoxon", *d)[0]
    r = stats.wilcoxon(d, method=method)
    same(f"wilcoxon n={len(d)} {method} statistic", g[4], r.statistic)
    same(f"wilcoxon n={len(d)} {method} p", g[5], r.pvalue)
    if int(g[6]) != (method == "exact"):
        bad += 1
        print(f"FAIL: wilcoxon n={len(d)}: exact flag {g[6]}, expected {method}")
    a = np.array(d)
    if [int(g[1]), int(g[2]), int(g[3])] != [int((a > 0).sum()), int((a < 0).sum()),
                                             int((a == 0).sum())]:
        bad += 1
        print(f"FAIL: wilcoxon n={len(d)}: wins/losses/ties {g[1:4]}")

# Friedman: blocks x treatments, with and without ties
for x in [
    np.array([[1.0, 2.0, 3.0], [2.0, 1.0, 3.0], [1.0, 3.0, 2.0], [1.0, 2.0, 3.0]]),
    np.array([[0.3, 0.5, 0.5, 0.9], [0.2, 0.6, 0.4, 0.8], [0.4, 0.4, 0.7, 0.7],
              [0.1, 0.9, 0.3, 0.8], [0.35, 0.55, 0.45, 1.0]]),
    rng.normal(0, 1, (12, 5)) + np.arange(5) * 0.4,
]:
    n, k = x.shape
    g = run("friedman", n, k, *x.ravel())[0]
    r = stats.friedmanchisquare(*x.T)
    same(f"friedman {n}x{k} statistic", g[0], r.statistic)
    same(f"friedman {n}x{k} p", g[1], r.pvalue)

# Conover's post-hoc test after Friedman's (Conover 1999, p. 371), from its formula with
# SciPy's rankdata and Student's t
for x, ref in [
    (np.array([[1.0, 2.0, 3.0], [2.0, 1.0, 3.0], [1.0, 3.0, 2.0], [1.0, 2.0, 3.0]]), 0),
    (np.array([[0.3, 0.5, 0.5, 0.9], [0.2, 0.6, 0.4, 0.8], [0.4, 0.4, 0.7, 0.7],
               [0.1, 0.9, 0.3, 0.8], [0.35, 0.55, 0.45, 1.0]]), 2),
    (rng.normal(0, 1, (12, 5)) + np.arange(5) * 0.4, 0),
    (np.array([[1.0, 2.0], [1.0, 3.0], [2.0, 1.0]]), 1),
]:
    n, k = x.shape
    g = run("conover", n, k, ref, *x.ravel())
    r = np.array([stats.rankdata(row) for row in x])
    R = r.sum(axis=0)
    A = (r ** 2).sum()
    var = 2 * (n * A - (R ** 2).sum()) / ((n - 1) * (k - 1))
    for j in range(k):
        d = abs(R[j] - R[ref])
        want = 1.0 if d == 0 else (0.0 if var <= 0 else
                                   2 * stats.t.sf(d / math.sqrt(var), (n - 1) * (k - 1)))
        same(f"conover {n}x{k} ref {ref} p[{j}]", g[0][j], want)
        same(f"conover {n}x{k} rank sum[{j}]", g[1][j], R[j])

# a race's decision (src/race.c): Friedman, then Conover against the best (lowest rank sum),
# Holm over the others, drop below alpha; two points: Wilcoxon signed-rank
def race_ref(x, higher, alpha):
    v = -x if higher else x
    b, k = v.shape
    if k == 2:
        d = v[:, 1] - v[:, 0]
        r = stats.wilcoxon(d, method="exact" if len(set(abs(d))) == b and (d != 0).all() else "approx")
        R = np.array([stats.rankdata(row) for row in v]).sum(axis=0)
        best = 1 if R[1] < R[0] else 0
        drop = [0, 0]
        if r.pvalue < alpha and R[0] != R[1]:
            drop[1 - best] = 1
        return 2, r.pvalue, best, drop
    fr = stats.friedmanchisquare(*v.T)
    r = np.array([stats.rankdata(row) for row in v])
    R = r.sum(axis=0)
    best = int(np.argmin(R))
    drop = [0] * k
    if fr.pvalue < alpha:
        A = (r ** 2).sum()
        var = 2 * (b * A - (R ** 2).sum()) / ((b - 1) * (k - 1))
        others = [j for j in range(k) if j != best]
        p = [2 * stats.t.sf(abs(R[j] - R[best]) / math.sqrt(var), (b - 1) * (k - 1)) for j in others]
        order = np.argsort(p, kind="stable")
        run_max, adj = 0.0, [0.0] * len(p)
        for q, i in enumerate(order):
            run_max = max(run_max, (len(p) - q) * p[i])
            adj[i] = min(1.0, run_max)
        for j, a in zip(others, adj):
            drop[j] = int(a < alpha and R[j] > R[best])
    return 1, fr.pvalue, best, drop


for x, higher in [
    (rng.normal(0, 0.05, (6, 4)) + np.array([0.1, 0.5, 0.12, 0.9]), 0),
    (rng.normal(0, 1.0, (8, 3)), 0),
    (rng.normal(0, 0.05, (7, 5)) + np.array([0.9, 0.5, 0.95, 0.2, 0.92]), 1),
    (np.array([[0.1, 0.5], [0.2, 0.6], [0.15, 0.7], [0.1, 0.4], [0.3, 0.9], [0.2, 0.8]]), 0),
    (np.array([[0.1, 0.5], [0.2, 0.1], [0.15, 0.7], [0.6, 0.4], [0.3, 0.9]]), 0),
    (np.array([[0.1, np.inf, 0.3], [0.2, np.inf, 0.1], [0.1, 0.5, 0.3], [0.3, np.inf, 0.2],
               [0.2, np.inf, 0.25], [0.1, np.inf, 0.3]]), 0),
]:
    b, k = x.shape
    g = run("race", b, k, higher, 0.05, *x.ravel())
    test, p, best, drop = race_ref(x, higher, 0.05)
    if int(g[0][0]) != test or int(g[0][3]) != best or [int(v) for v in g[1]] != drop:
        bad += 1
        print(f"FAIL: race {b}x{k}: test/best/drop {g[0][0]}/{g[0][3]}/{g[1]}, expected {test}/{best}/{drop}")
    same(f"race {b}x{k} p", g[0][2], p)

# Mann-Whitney U (points without shared seeds): exact and asymptotic
for x, y in [
    ([0.31, 0.12, 0.45, 0.22], [0.51, 0.62, 0.48, 0.70, 0.55]),
    ([1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0]),
    (list(rng.normal(0, 1, 8)), list(rng.normal(0.8, 1, 8))),
    (list(rng.normal(0, 1, 12)), list(rng.normal(0.5, 1, 15))),
    ([1.0, 2.0, 2.0, 3.0], [2.0, 3.0, 4.0, 4.0, 5.0]),                      # ties
]:
    g = run("mannwhitney", len(x), *x, *y)[0]
    r = stats.mannwhitneyu(x, y)
    exact = min(len(x), len(y)) <= 8 and len(set(x + y)) == len(x + y)
    same(f"mannwhitney {len(x)}x{len(y)} statistic", g[0], r.statistic)
    same(f"mannwhitney {len(x)}x{len(y)} p", g[1], r.pvalue)
    if int(g[2]) != exact:
        bad += 1
        print(f"FAIL: mannwhitney {len(x)}x{len(y)}: exact flag {g[2]}")

# Holm's step-down adjustment, by its definition
for p in [[0.01, 0.04, 0.03, 0.005], [0.5, 0.2], [0.001, 0.9, 0.02, 0.04, 0.03, 0.3]]:
    g = run("holm", *p)[0]
    order = np.argsort(p, kind="stable")
    m = len(p)
    want = np.empty(m)
    run_max = 0.0
    for j, i in enumerate(order):
        run_max = max(run_max, (m - j) * p[i])
        want[i] = min(1.0, run_max)
    for i in range(m):
        same(f"holm {p} [{i}]", g[i], want[i])

# Kaplan-Meier on a worked example: epochs to solve of 10 runs, 3 never solved by epoch 500
#   times 120 150 150 200 260 300 410 500+ 500+ 500+
#   at risk 10, 9, 7, 6, 5, 4 at the event times 120, 150 (2 events), 200, 260, 300, 410:
#   S = 0.9, 0.9 * 7/9 = 0.7, 0.7 * 6/7 = 0.6, 0.6 * 5/6 = 0.5, 0.4, 0.3;
#   the median is the first time S reaches 1/2: 260 (not 300, though 0.5 rounds above 1/2)
t = [120, 150, 150, 200, 260, 300, 410, 500, 500, 500]
e = [1, 1, 1, 1, 1, 1, 1, 0, 0, 0]
g = run("km", *[f"{a}:{b}" for a, b in zip(t, e)])
steps = [(120, 10, 1), (150, 9, 2), (200, 7, 1), (260, 6, 1), (300, 5, 1), (410, 4, 1)]
s, gw = 1.0, 0.0
z = stats.norm.ppf(0.975)
lows, highs = [], []
for (time, risk, d), line in zip(steps, g[1:]):
    s *= 1 - d / risk
    gw += d / (risk * (risk - d))
    se = math.sqrt(gw) / abs(math.log(s))
    lo = math.exp(-math.exp(math.log(-math.log(s)) + z * se))
    hi = math.exp(-math.exp(math.log(-math.log(s)) - z * se))
    lows.append((time, lo))
    highs.append((time, hi))
    for what, got, want in [("time", line[0], time), ("at_risk", line[1], risk),
                            ("events", line[2], d), ("surv", line[3], s), ("lo", line[4], lo),
                            ("hi", line[5], hi)]:
        same(f"km step {time} {what}", got, want)
if len(g) != 1 + len(steps):
    bad += 1
    print(f"FAIL: km: {len(g) - 1} steps, expected {len(steps)}")
same("km median", g[0][0], 260)
same("km median_lo", g[0][1], next((tt for tt, lo in lows if lo <= 0.5 + 1e-12), math.nan))
same("km median_hi", g[0][2], next((tt for tt, hi in highs if hi <= 0.5 + 1e-12), math.nan))
same("km S(260)", g[4][3], 0.5)
same("km S(410)", g[6][3], 0.3)

print(f"stats: {bad} difference(s) from SciPy {__import__('scipy').__version__}")
sys.exit(1 if bad else 0)
