/* stats.h - the statistics bprun uses to compare sweep points: descriptive summaries with
 * confidence intervals, the Wilson interval of a success rate, the Wilcoxon signed-rank test,
 * the Friedman test, Holm's adjustment and the Kaplan-Meier estimate of time to solve.
 *
 * Pure functions of their inputs (no state, no allocation unless said, thread-safe); every
 * result is checked against SciPy 1.10 on fixed inputs (tests/stats.sh). Distribution
 * functions are computed in double from their series and continued fractions to a relative
 * accuracy of about 1e-12. NaN inputs MUST be left out by the caller (they are repeats that
 * produced no value: failed or diverged, counted apart).
 */
#ifndef BP_STATS_H
#define BP_STATS_H

#include <stddef.h>

/* Distribution functions. */
double bp_stats_norm_cdf(double z);
double bp_stats_norm_quantile(double p);             /* 0 < p < 1 */
double bp_stats_t_cdf(double t, double df);          /* Student's t, df > 0 */
double bp_stats_t_quantile(double p, double df);     /* 0 < p < 1, df > 0 */
double bp_stats_chi2_sf(double x, double df);        /* P(X > x), df > 0 */
double bp_stats_binom_cdf(size_t k, size_t n, double p);   /* P(X <= k) */

/* A sample of n values (not sorted; n >= 1). mean and sd (n - 1 in the denominator; NaN for
 * n = 1); median, q1, q3 as numpy's default percentile (linear interpolation between order
 * statistics); the two-sided `level` (0.95) t interval of the mean (NaN for n = 1); and the
 * distribution-free interval of the median [x(k), x(n+1-k)] between order statistics, k the
 * largest with P(Binomial(n, 1/2) < k) <= (1 - level) / 2 (its coverage, at least `level`,
 * in med_level); NaN bounds and med_level when n is too small for one (n < 6 at 0.95). */
typedef struct bp_describe {
    size_t n;
    double mean, sd, median, q1, q3;
    double ci_low, ci_high;          /* t interval of the mean */
    double med_low, med_high;        /* order-statistic interval of the median */
    double med_level;                /* its exact coverage */
} bp_describe;
int bp_stats_describe(const double *x, size_t n, double level, bp_describe *out);

/* Wilson score interval of a proportion k / n at `level` (n >= 1). */
void bp_stats_wilson(size_t k, size_t n, double level, double *lo, double *hi);

/* Wilcoxon signed-rank test of paired differences d (a - b), two-sided, zero differences
 * dropped (SciPy's zero_method 'wilcox'). statistic = min(R+, R-) over the non-zero
 * differences. The p-value is exact (the distribution of R+ over all sign assignments) when
 * there are at most 50 differences, no zero and no tie among |d|; otherwise the normal
 * approximation with the tie correction of the variance and no continuity correction
 * (SciPy's method 'approx', correction=False), exact = 0. With no non-zero difference, p = 1.
 * wins / losses / ties count d > 0, d < 0, d == 0. */
typedef struct bp_wilcoxon {
    size_t n, wins, losses, ties;
    double statistic, p;
    int exact;
} bp_wilcoxon;
int bp_stats_wilcoxon(const double *d, size_t n, bp_wilcoxon *out);

/* Mann-Whitney U test of two independent samples, two-sided (SciPy's mannwhitneyu): statistic
 * U1 = R1 - n1 (n1 + 1) / 2 (R1 the rank sum of x, ties averaged). Exact p (the distribution of
 * U over all arrangements) when min(n1, n2) <= 8, there is no tie, and the table fits 2e6
 * entries; otherwise the normal approximation with the tie correction and the continuity
 * correction (exact = 0). n1, n2 >= 1. */
typedef struct bp_mannwhitney {
    double statistic, p;
    int exact;
} bp_mannwhitney;
int bp_stats_mannwhitney(const double *x, size_t n1, const double *y, size_t n2,
                         bp_mannwhitney *out);

/* Friedman's test of k >= 3 treatments over n >= 2 blocks; x is n x k, row-major (block i,
 * treatment j at x[i * k + j]); ranks within each block, ties averaged, with the tie
 * correction. p from the chi-squared distribution with k - 1 degrees of freedom (SciPy's
 * friedmanchisquare). Returns 0, or -1 for bad sizes (stat and p NaN). */
int bp_stats_friedman(const double *x, size_t n, size_t k, double *stat, double *p);

/* Conover's post-hoc test after Friedman's (Conover 1999, Practical Nonparametric Statistics,
 * 3rd ed., p. 371; the test of F-Race): treatments j and ref differ when their rank sums do,
 * t = |R_j - R_ref| / sqrt(2 (b A - sum R^2) / ((b - 1)(k - 1))) with A the sum of the squared
 * within-block ranks (ties averaged), two-sided p from Student's t with (b - 1)(k - 1) degrees
 * of freedom; p[ref] = 1. x as for bp_stats_friedman; p and rank_sum (may be NULL) get k
 * values. When every block ranks the treatments alike (b A = sum R^2) a different rank sum
 * has p = 0. Returns 0, or -1 for bad sizes (n < 2, k < 2, ref >= k) or no memory. */
int bp_stats_conover(const double *x, size_t n, size_t k, size_t ref, double *p,
                     double *rank_sum);

/* Holm's step-down adjustment of m p-values (adj[i] for p[i]; adj may be p). */
void bp_stats_holm(const double *p, size_t m, double *adj);

/* Kaplan-Meier estimate of the survival function S(t) = P(T > t) from n observations: time[i]
 * and event[i] (1: the event happened at time[i], e.g. solved at that epoch; 0: censored,
 * e.g. not solved by the last epoch). One step per distinct event time (ascending), with the
 * number at risk and of events, S after the step, and the pointwise `level` interval on the
 * log(-log S) scale (Kalbfleisch and Prentice; Greenwood's variance), NaN where S is 0 or 1.
 * median: the first event time where S <= 1/2 (NaN if S never reaches it; "<=" within 1e-12,
 * so rounding does not skip an S of exactly 1/2); its interval: the first times where the
 * interval's lower and upper bound reach 1/2 (Brookmeyer and
 * Crowley's construction; NaN when a bound never does). Steps are malloc'd into *steps;
 * free them with free(). Returns 0, or BP_ENOMEM-like -1 when out of memory. */
typedef struct bp_km_step {
    double time;
    size_t at_risk, events;
    double surv, lo, hi;
} bp_km_step;
typedef struct bp_km {
    size_t n_steps;
    bp_km_step *steps;
    double median, median_lo, median_hi;
} bp_km;
int bp_stats_km(const double *time, const int *event, size_t n, double level, bp_km *out);

#endif
