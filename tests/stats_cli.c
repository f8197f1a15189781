/* stats_cli: src/stats.c's functions on the command line, for tests/stats.sh to compare with
 * SciPy. One function per call, its inputs as arguments, results printed with 17 digits:
 *   describe X...            n mean sd median q1 q3 ci_low ci_high med_low med_high med_level
 *   wilson K N               lo hi
 *   wilcoxon D...            n wins losses ties statistic p exact
 *   friedman N K X...        stat p   (X: N rows of K values)
 *   mannwhitney N1 X... Y... statistic p exact
 *   conover N K REF X...     p[0..K) then rank sums
 *   race B K HIGHER ALPHA X...   test stat p best n_drop, then drop flags, p_post, p_holm
 *   holm P...                adjusted p-values
 *   km T:E...                median median_lo median_hi, then a line per step:
 *                            time at_risk events surv lo hi
 *   t_cdf T DF | t_quantile P DF | chi2_sf X DF | norm_quantile P | binom_cdf K N P */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "race.h"
#include "stats.h"

static double *nums(int n, char **v)
{
    double *x = malloc((size_t)(n > 0 ? n : 1) * sizeof *x);
    if (!x)
        exit(3);
    for (int i = 0; i < n; i++)
        x[i] = strtod(v[i], NULL);
    return x;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *f = argv[1];
    int n = argc - 2;
    char **a = argv + 2;
    double *x = nums(n, a);
    if (!strcmp(f, "describe")) {
        bp_describe d;
        if (bp_stats_describe(x, (size_t)n, 0.95, &d))
            return 3;
        printf("%zu %.17g %.17g %.17g %.17g %.17g %.17g %.17g %.17g %.17g %.17g\n", d.n, d.mean,
               d.sd, d.median, d.q1, d.q3, d.ci_low, d.ci_high, d.med_low, d.med_high,
               d.med_level);
    } else if (!strcmp(f, "wilson") && n == 2) {
        double lo, hi;
        bp_stats_wilson((size_t)x[0], (size_t)x[1], 0.95, &lo, &hi);
        printf("%.17g %.17g\n", lo, hi);
    } else if (!strcmp(f, "wilcoxon")) {
        bp_wilcoxon w;
        if (bp_stats_wilcoxon(x, (size_t)n, &w))
            return 3;
        printf("%zu %zu %zu %zu %.17g %.17g %d\n", w.n, w.wins, w.losses, w.ties, w.statistic,
               w.p, w.exact);
    } else if (!strcmp(f, "friedman") && n >= 2) {
        double s, p;
        size_t rows = (size_t)x[0], k = (size_t)x[1];
        if ((size_t)n != 2 + rows * k || bp_stats_friedman(x + 2, rows, k, &s, &p))
            return 3;
        printf("%.17g %.17g\n", s, p);
    } else if (!strcmp(f, "mannwhitney") && n >= 3) {
        bp_mannwhitney w;
        size_t n1 = (size_t)x[0];
        if (n1 + 1 >= (size_t)n || bp_stats_mannwhitney(x + 1, n1, x + 1 + n1, (size_t)n - 1 - n1,
                                                         &w))
            return 3;
        printf("%.17g %.17g %d\n", w.statistic, w.p, w.exact);
    } else if (!strcmp(f, "conover") && n >= 3) {
        size_t rows = (size_t)x[0], k = (size_t)x[1], ref = (size_t)x[2];
        double p[64], rs[64];
        if (k > 64 || (size_t)n != 3 + rows * k || bp_stats_conover(x + 3, rows, k, ref, p, rs))
            return 3;
        for (size_t j = 0; j < k; j++)
            printf("%.17g%c", p[j], j + 1 < k ? ' ' : '\n');
        for (size_t j = 0; j < k; j++)
            printf("%.17g%c", rs[j], j + 1 < k ? ' ' : '\n');
    } else if (!strcmp(f, "race") && n >= 4) {
        size_t b = (size_t)x[0], k = (size_t)x[1];
        unsigned char drop[64];
        double pp[64], ph[64];
        bp_race_decision d;
        if (k > 64 || (size_t)n != 4 + b * k ||
            bp_race_decide(x + 4, b, k, x[2] != 0, x[3], drop, pp, ph, &d))
            return 3;
        printf("%d %.17g %.17g %zu %zu\n", d.test, d.stat, d.p, d.best, d.n_drop);
        for (size_t j = 0; j < k; j++)
            printf("%d%c", drop[j], j + 1 < k ? ' ' : '\n');
        for (size_t j = 0; j < k; j++)
            printf("%.17g%c", pp[j], j + 1 < k ? ' ' : '\n');
        for (size_t j = 0; j < k; j++)
            printf("%.17g%c", ph[j], j + 1 < k ? ' ' : '\n');
    } else if (!strcmp(f, "holm")) {
        double *adj = nums(n, a);
        bp_stats_holm(x, (size_t)n, adj);
        for (int i = 0; i < n; i++)
            printf("%.17g%c", adj[i], i + 1 < n ? ' ' : '\n');
        free(adj);
    } else if (!strcmp(f, "km")) {
        int *ev = malloc((size_t)(n > 0 ? n : 1) * sizeof *ev);
        for (int i = 0; ev && i < n; i++) {
            const char *c = strchr(a[i], ':');
            ev[i] = c ? atoi(c + 1) : 1;
        }
        bp_km k;
        if (!ev || bp_stats_km(x, ev, (size_t)n, 0.95, &k))
            return 3;
        printf("%.17g %.17g %.17g\n", k.median, k.median_lo, k.median_hi);
        for (size_t i = 0; i < k.n_steps; i++)
            printf("%.17g %zu %zu %.17g %.17g %.17g\n", k.steps[i].time, k.steps[i].at_risk,
                   k.steps[i].events, k.steps[i].surv, k.steps[i].lo, k.steps[i].hi);
        free(k.steps);
        free(ev);
    } else if (!strcmp(f, "t_cdf") && n == 2) {
        printf("%.17g\n", bp_stats_t_cdf(x[0], x[1]));
    } else if (!strcmp(f, "t_quantile") && n == 2) {
        printf("%.17g\n", bp_stats_t_quantile(x[0], x[1]));
    } else if (!strcmp(f, "chi2_sf") && n == 2) {
        printf("%.17g\n", bp_stats_chi2_sf(x[0], x[1]));
    } else if (!strcmp(f, "norm_quantile") && n == 1) {
        printf("%.17g\n", bp_stats_norm_quantile(x[0]));
    } else if (!strcmp(f, "binom_cdf") && n == 3) {
        printf("%.17g\n", bp_stats_binom_cdf((size_t)x[0], (size_t)x[1], x[2]));
    } else {
        return 2;
    }
    free(x);
    return 0;
}
