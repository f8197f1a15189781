#include "autoconf.h"
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- distribution functions ---- */

double bp_stats_norm_cdf(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

/* The x in [lo, hi] where the increasing f(x) = p, by bisection to the last bit. */
static double invert(double (*f)(double, double), double arg, double p, double lo, double hi)
{
    for (int i = 0; i < 400 && lo < hi; i++) {
        double mid = 0.5 * (lo + hi);
        if (mid <= lo || mid >= hi)
            break;
        if (f(mid, arg) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

static double norm_cdf2(double z, double unused)
{
    (void)unused;
    return bp_stats_norm_cdf(z);
}

double bp_stats_norm_quantile(double p)
{
    if (!(p > 0 && p < 1))
        return NAN;
    return invert(norm_cdf2, 0, p, -40, 40);
}

/* Continued fraction of the regularized incomplete beta function (modified Lentz). */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    if (fabs(d) < tiny)
        d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 10000; m++) {
        double m2 = 2.0 * m;
        double num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
        d = 1 + num * d;
        c = 1 + num / c;
        d = 1 / (fabs(d) < tiny ? tiny : d);
        c = fabs(c) < tiny ? tiny : c;
        h *= d * c;
        num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
        d = 1 + num * d;
        c = 1 + num / c;
        d = 1 / (fabs(d) < tiny ? tiny : d);
        c = fabs(c) < tiny ? tiny : c;
        double step = d * c;
        h *= step;
        if (fabs(step - 1) < 1e-16)
            break;
    }
    return h;
}

/* I_x(a, b), the regularized incomplete beta function */
static double beta_inc(double a, double b, double x)
{
    if (x <= 0)
        return 0;
    if (x >= 1)
        return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1) / (a + b + 2))
        return exp(lbt) * beta_cf(a, b, x) / a;
    return 1 - exp(lbt) * beta_cf(b, a, 1 - x) / b;
}

double bp_stats_t_cdf(double t, double df)
{
    if (isnan(t) || !(df > 0))
        return NAN;
    if (isinf(t))
        return t > 0 ? 1 : 0;
    double tail = 0.5 * beta_inc(df / 2, 0.5, df / (df + t * t));
    return t > 0 ? 1 - tail : tail;
}

double bp_stats_t_quantile(double p, double df)
{
    if (!(p > 0 && p < 1) || !(df > 0))
        return NAN;
    if (p == 0.5)
        return 0;
    double hi = 1;
    while (bp_stats_t_cdf(hi, df) < (p > 0.5 ? p : 1 - p) && hi < 1e300)
        hi *= 2;
    double q = invert(bp_stats_t_cdf, df, p > 0.5 ? p : 1 - p, 0, hi);
    return p > 0.5 ? q : -q;
}

/* Q(a, x), the regularized upper incomplete gamma function */
static double gamma_q(double a, double x)
{
    if (x <= 0)
        return 1;
    double lpre = -x + a * log(x) - lgamma(a);
    if (x < a + 1) {   /* the series of P(a, x) */
        double sum = 1 / a, term = sum;
        for (int n = 1; n < 100000; n++) {
            term *= x / (a + n);
            sum += term;
            if (fabs(term) < fabs(sum) * 1e-17)
                break;
        }
        return 1 - sum * exp(lpre);
    }
    const double tiny = 1e-300;   /* the continued fraction of Q(a, x) */
    double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
    for (int i = 1; i < 100000; i++) {
        double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        d = 1 / (fabs(d) < tiny ? tiny : d);
        c = b + an / c;
        c = fabs(c) < tiny ? tiny : c;
        double step = d * c;
        h *= step;
        if (fabs(step - 1) < 1e-16)
            break;
    }
    return exp(lpre) * h;
}

double bp_stats_chi2_sf(double x, double df)
{
    if (isnan(x) || !(df > 0))
        return NAN;
    return gamma_q(df / 2, x / 2);
}

double bp_stats_binom_cdf(size_t k, size_t n, double p)
{
    if (k >= n)
        return 1;
    /* P(X <= k) = I_{1-p}(n - k, k + 1) */
    return beta_inc((double)(n - k), (double)k + 1, 1 - p);
}

/* ---- samples ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* numpy's default percentile of sorted v */
static double percentile(const double *v, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    if (lo + 1 >= n || v[lo] == v[lo + 1] || pos == (double)lo)
        return v[lo + 1 >= n ? n - 1 : lo];   /* also for infinities: no inf - inf */
    return v[lo] + (pos - (double)lo) * (v[lo + 1] - v[lo]);
}

int bp_stats_describe(const double *x, size_t n, double level, bp_describe *out)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    out->mean = out->sd = out->median = out->q1 = out->q3 = NAN;
    out->ci_low = out->ci_high = out->med_low = out->med_high = out->med_level = NAN;
    if (n == 0)
        return 0;
    double *v = malloc(n * sizeof *v);
    if (!v)
        return -1;
    memcpy(v, x, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    out->mean = sum / (double)n;
    out->median = percentile(v, n, 0.5);
    out->q1 = percentile(v, n, 0.25);
    out->q3 = percentile(v, n, 0.75);
    if (n >= 2) {
        double ss = 0;
        for (size_t i = 0; i < n; i++)
            ss += (v[i] - out->mean) * (v[i] - out->mean);
        out->sd = sqrt(ss / (double)(n - 1));
        double half = bp_stats_t_quantile(1 - (1 - level) / 2, (double)(n - 1)) * out->sd /
                      sqrt((double)n);
        out->ci_low = out->mean - half;
        out->ci_high = out->mean + half;
    }
    /* the largest k with P(B < k) <= alpha / 2, B ~ Binomial(n, 1/2) */
    double alpha2 = (1 - level) / 2;
    size_t k = 0;
    while (k + 1 <= (n + 1) / 2 && bp_stats_binom_cdf(k, n, 0.5) <= alpha2)
        k++;
    if (k >= 1) {
        out->med_low = v[k - 1];
        out->med_high = v[n - k];
        out->med_level = 1 - 2 * bp_stats_binom_cdf(k - 1, n, 0.5);
    }
    free(v);
    return 0;
}

void bp_stats_wilson(size_t k, size_t n, double level, double *lo, double *hi)
{
    if (n == 0) {
        *lo = *hi = NAN;
        return;
    }
    double z = bp_stats_norm_quantile(1 - (1 - level) / 2), nn = (double)n;
    double ph = (double)k / nn, z2 = z * z;
    double centre = (ph + z2 / (2 * nn)) / (1 + z2 / nn);
    double half = z * sqrt(ph * (1 - ph) / nn + z2 / (4 * nn * nn)) / (1 + z2 / nn);
    *lo = centre - half < 0 ? 0 : centre - half;
    *hi = centre + half > 1 ? 1 : centre + half;
}

/* ---- tests ---- */

typedef struct ranked {
    double v;
    size_t i;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    return cmp_double(&((const ranked *)a)->v, &((const ranked *)b)->v);
}

/* Average ranks (1-based) of v[0..n) into r; the sum of t^3 - t over tie groups in *ties. */
static int rank_avg(const double *v, size_t n, double *r, double *ties)
{
    ranked *s = malloc((n ? n : 1) * sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < n; i++)
        s[i] = (ranked){ v[i], i };
    qsort(s, n, sizeof *s, cmp_ranked);
    *ties = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && s[j + 1].v == s[i].v)
            j++;
        double t = (double)(j - i + 1), avg = 0.5 * (double)(i + j) + 1;
        for (size_t m = i; m <= j; m++)
            r[s[m].i] = avg;
        *ties += t * t * t - t;
        i = j + 1;
    }
    free(s);
    return 0;
}

int bp_stats_wilcoxon(const double *d, size_t n, bp_wilcoxon *out)
{
    memset(out, 0, sizeof *out);
    out->statistic = NAN;
    out->p = NAN;
    double *a = malloc((n ? n : 1) * sizeof *a), *r = malloc((n ? n : 1) * sizeof *r);
    int *pos = malloc((n ? n : 1) * sizeof *pos);
    if (!a || !r || !pos) {
        free(a);
        free(r);
        free(pos);
        return -1;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (d[i] > 0)
            out->wins++;
        else if (d[i] < 0)
            out->losses++;
        else
            out->ties++;
        if (d[i] != 0) {
            pos[m] = d[i] > 0;
            a[m++] = fabs(d[i]);
        }
    }
    out->n = m;
    double ties = 0, rp = 0, rm = 0;
    int rc = m ? rank_avg(a, m, r, &ties) : 0;
    for (size_t i = 0; i < m && !rc; i++) {
        if (pos[i])
            rp += r[i];
        else
            rm += r[i];
    }
    out->statistic = m ? (rp < rm ? rp : rm) : 0;
    if (rc || m == 0) {
        out->p = m == 0 ? 1 : NAN;
    } else if (m <= 50 && out->ties == 0 && ties == 0) {
        /* counts of the subsets of ranks 1..m by their sum: the null distribution of R+ */
        size_t top = m * (m + 1) / 2;
        double *cnt = calloc(top + 1, sizeof *cnt);
        if (!cnt) {
            rc = -1;
        } else {
            cnt[0] = 1;
            for (size_t k = 1; k <= m; k++)
                for (size_t s = top; s >= k; s--)
                    cnt[s] += cnt[s - k];
            double total = ldexp(1.0, (int)m), less = 0, more = 0;
            size_t t = (size_t)rp;
            for (size_t s = 0; s <= top; s++) {
                if (s <= t)
                    less += cnt[s];
                if (s >= t)
                    more += cnt[s];
            }
            double p = t == top / 2 ? 1 : 2 * (less < more ? less : more) / total;
            out->p = p > 1 ? 1 : p;
            out->exact = 1;
            free(cnt);
        }
    } else {
        double mn = (double)m * ((double)m + 1) * 0.25;
        double se = (double)m * ((double)m + 1) * (2 * (double)m + 1) - 0.5 * ties;
        se = sqrt(se / 24);
        double z = (out->statistic - mn) / se;
        out->p = 2 * bp_stats_norm_cdf(-fabs(z));
        if (out->p > 1)
            out->p = 1;
    }
    free(a);
    free(r);
    free(pos);
    return rc;
}

int bp_stats_mannwhitney(const double *x, size_t n1, const double *y, size_t n2,
                         bp_mannwhitney *out)
{
    out->statistic = out->p = NAN;
    out->exact = 0;
    size_t n = n1 + n2;
    double *v = malloc((n ? n : 1) * sizeof *v), *r = malloc((n ? n : 1) * sizeof *r), ties;
    if (!v || !r || !n1 || !n2) {
        free(v);
        free(r);
        return -1;
    }
    memcpy(v, x, n1 * sizeof *v);
    memcpy(v + n1, y, n2 * sizeof *v);
    if (rank_avg(v, n, r, &ties)) {
        free(v);
        free(r);
        return -1;
    }
    double r1 = 0, m = (double)n1, k = (double)n2;
    for (size_t i = 0; i < n1; i++)
        r1 += r[i];
    free(v);
    free(r);
    double u1 = r1 - m * (m + 1) / 2, u = u1 > m * k - u1 ? u1 : m * k - u1;
    out->statistic = u1;
    size_t small = n1 < n2 ? n1 : n2, big = n1 < n2 ? n2 : n1, top = n1 * n2;
    if ((n1 <= 8 || n2 <= 8) && ties == 0 && (big + 1) * (top + 1) <= 2000000) {
        /* c[j][t]: arrangements of `small` values among j others with statistic t, built one
         * value of the smaller sample at a time: f(i, j) = f(i - 1, j) q^j + f(i, j - 1) */
        size_t w = top + 1;
        double *prev = calloc((big + 1) * w, sizeof *prev), *cur = calloc((big + 1) * w,
                                                                              sizeof *cur);
        if (!prev || !cur) {
            free(prev);
            free(cur);
            return -1;
        }
        for (size_t j = 0; j <= big; j++)
            prev[j * w] = 1;   /* i = 0: one arrangement, statistic 0 */
        for (size_t i = 1; i <= small; i++) {
            memset(cur, 0, (big + 1) * w * sizeof *cur);
            cur[0] = 1;        /* j = 0 */
            for (size_t j = 1; j <= big; j++)
                for (size_t t = 0; t <= i * j; t++)
                    cur[j * w + t] = (t >= j ? prev[j * w + t - j] : 0) + cur[(j - 1) * w + t];
            double *sw = prev;
            prev = cur;
            cur = sw;
        }
        double total = 0, tail = 0;
        size_t ui = (size_t)u;
        for (size_t t = 0; t <= top; t++) {
            total += prev[big * w + t];
            if (t >= ui)
                tail += prev[big * w + t];
        }
        free(prev);
        free(cur);
        out->p = 2 * tail / total > 1 ? 1 : 2 * tail / total;
        out->exact = 1;
        return 0;
    }
    double nn = (double)n;
    double s = sqrt(m * k / 12 * ((nn + 1) - ties / (nn * (nn - 1))));
    double z = (u - m * k / 2 - 0.5) / s;
    out->p = 2 * bp_stats_norm_cdf(-z);
    if (out->p > 1)
        out->p = 1;
    return 0;
}

int bp_stats_friedman(const double *x, size_t n, size_t k, double *stat, double *p)
{
    *stat = *p = NAN;
    if (n < 2 || k < 3)
        return -1;
    double *r = malloc(k * sizeof *r), *sum = calloc(k, sizeof *sum), ties = 0;
    if (!r || !sum) {
        free(r);
        free(sum);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        double t;
        if (rank_avg(x + i * k, k, r, &t)) {
            free(r);
            free(sum);
            return -1;
        }
        ties += t;
        for (size_t j = 0; j < k; j++)
            sum[j] += r[j];
    }
    double ssbn = 0, nn = (double)n, kk = (double)k;
    for (size_t j = 0; j < k; j++)
        ssbn += sum[j] * sum[j];
    double c = 1 - ties / (kk * (kk * kk - 1) * nn);
    *stat = (12.0 / (kk * nn * (kk + 1)) * ssbn - 3 * nn * (kk + 1)) / c;
    *p = bp_stats_chi2_sf(*stat, kk - 1);
    free(r);
    free(sum);
    return 0;
}

int bp_stats_conover(const double *x, size_t n, size_t k, size_t ref, double *p,
                     double *rank_sum)
{
    if (n < 2 || k < 2 || ref >= k)
        return -1;
    double *r = malloc(k * sizeof *r), *sum = calloc(k, sizeof *sum), a = 0, ties;
    if (!r || !sum) {
        free(r);
        free(sum);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (rank_avg(x + i * k, k, r, &ties)) {
            free(r);
            free(sum);
            return -1;
        }
        for (size_t j = 0; j < k; j++) {
            sum[j] += r[j];
            a += r[j] * r[j];
        }
    }
    double ss = 0, nn = (double)n, kk = (double)k;
    for (size_t j = 0; j < k; j++)
        ss += sum[j] * sum[j];
    double df = (nn - 1) * (kk - 1), var = 2 * (nn * a - ss) / df;
    for (size_t j = 0; j < k; j++) {
        double d = fabs(sum[j] - sum[ref]);
        if (j == ref || d == 0)
            p[j] = 1;
        else if (!(var > 0))
            p[j] = 0;
        else
            p[j] = 2 * (1 - bp_stats_t_cdf(d / sqrt(var), df));
        if (rank_sum)
            rank_sum[j] = sum[j];
    }
    free(r);
    free(sum);
    return 0;
}

void bp_stats_holm(const double *p, size_t m, double *adj)
{
    ranked *s = malloc((m ? m : 1) * sizeof *s);
    if (!s) {
        for (size_t i = 0; i < m; i++)
            adj[i] = 1;   /* the conservative answer */
        return;
    }
    for (size_t i = 0; i < m; i++)
        s[i] = (ranked){ p[i], i };
    qsort(s, m, sizeof *s, cmp_ranked);
    double run = 0;
    for (size_t j = 0; j < m; j++) {
        double a = (double)(m - j) * s[j].v;
        run = a > run ? a : run;
        adj[s[j].i] = run > 1 ? 1 : run;
    }
    free(s);
}

typedef struct obs {
    double t;
    int event;
} obs;

static int cmp_obs(const void *a, const void *b)
{
    return cmp_double(&((const obs *)a)->t, &((const obs *)b)->t);
}

int bp_stats_km(const double *time, const int *event, size_t n, double level, bp_km *out)
{
    memset(out, 0, sizeof *out);
    out->median = out->median_lo = out->median_hi = NAN;
    obs *o = malloc((n ? n : 1) * sizeof *o);
    out->steps = malloc((n ? n : 1) * sizeof *out->steps);
    if (!o || !out->steps) {
        free(o);
        free(out->steps);
        out->steps = NULL;
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        o[i] = (obs){ time[i], event[i] != 0 };
    qsort(o, n, sizeof *o, cmp_obs);
    double z = bp_stats_norm_quantile(1 - (1 - level) / 2), s = 1, gw = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i, d = 0;
        while (j < n && o[j].t == o[i].t)
            d += (size_t)o[j++].event;
        size_t at_risk = n - i;
        if (d) {
            s *= 1 - (double)d / (double)at_risk;
            double lo = 0, hi = 0;
            if (d < at_risk && s > 0) {
                gw += (double)d / ((double)at_risk * (double)(at_risk - d));
                double se = sqrt(gw) / fabs(log(s)), th = log(-log(s));
                lo = exp(-exp(th + z * se));
                hi = exp(-exp(th - z * se));
            }
            out->steps[out->n_steps++] =
                (bp_km_step){ o[i].t, at_risk, d, s, lo, hi };
        }
        i = j;
    }
    /* "reaches 1/2" allows for rounding: 0.9 * 7/9 * 6/7 * 5/6 is 0.5000000000000001 */
    const double half = 0.5 + 1e-12;
    for (size_t k = 0; k < out->n_steps; k++) {
        const bp_km_step *st = &out->steps[k];
        if (isnan(out->median) && st->surv <= half)
            out->median = st->time;
        if (isnan(out->median_lo) && st->lo <= half)
            out->median_lo = st->time;
        if (isnan(out->median_hi) && st->hi <= half)
            out->median_hi = st->time;
    }
    free(o);
    return 0;
}
