#include "autoconf.h"
#include "race.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

int bp_race_decide(const double *x, size_t b, size_t k, int higher, double alpha,
                   unsigned char *drop, double *p_post, double *p_holm, bp_race_decision *d)
{
    memset(d, 0, sizeof *d);
    d->stat = d->p = NAN;
    if (k < 2 || b < 2)
        return -1;
    memset(drop, 0, k);
    for (size_t j = 0; j < k; j++) {
        if (p_post)
            p_post[j] = NAN;
        if (p_holm)
            p_holm[j] = NAN;
    }
    /* lower is better from here on: ranks 1 = best */
    double *v = malloc(b * k * sizeof *v), *p = malloc(k * sizeof *p), *rs = malloc(k * sizeof *rs);
    double *adj = malloc(k * sizeof *adj);
    int rc = v && p && rs && adj ? 0 : -1;
    for (size_t i = 0; !rc && i < b * k; i++)
        v[i] = higher ? -x[i] : x[i];
    if (!rc && k >= 3) {
        d->test = 1;
        rc = bp_stats_friedman(v, b, k, &d->stat, &d->p);
        /* the best by rank sum (Conover's against point 0 gives every rank sum) */
        if (!rc)
            rc = bp_stats_conover(v, b, k, 0, p, rs);
        for (size_t j = 1; !rc && j < k; j++)
            if (rs[j] < rs[d->best])
                d->best = j;
        if (!rc && d->p < alpha) {
            rc = bp_stats_conover(v, b, k, d->best, p, rs);
            size_t m = 0;
            for (size_t j = 0; !rc && j < k; j++)
                if (j != d->best)
                    p[m++] = p[j];
            if (!rc)
                bp_stats_holm(p, m, adj);
            /* p[] is compacted: walk the points again in the same order */
            for (size_t j = 0, q = 0; !rc && j < k; j++) {
                if (j == d->best)
                    continue;
                if (p_post)
                    p_post[j] = p[q];
                if (p_holm)
                    p_holm[j] = adj[q];
                if (adj[q] < alpha && rs[j] > rs[d->best]) {
                    drop[j] = 1;
                    d->n_drop++;
                }
                q++;
            }
        }
    } else if (!rc) {
        d->test = 2;
        double *diff = malloc(b * sizeof *diff);
        bp_wilcoxon w;
        rc = diff ? 0 : -1;
        for (size_t i = 0; !rc && i < b; i++) {
            double a0 = v[i * 2], a1 = v[i * 2 + 1];
            diff[i] = isinf(a0) && isinf(a1) && a0 == a1 ? 0 : a1 - a0;   /* > 0: point 0 better */
        }
        if (!rc && !(rc = bp_stats_wilcoxon(diff, b, &w))) {
            d->stat = w.statistic;
            d->p = w.p;
            /* the better one by the rank sums within repeats, as with k >= 3 */
            rc = bp_stats_conover(v, b, 2, 0, p, rs);
            d->best = !rc && rs[1] < rs[0] ? 1 : 0;
            if (!rc && d->p < alpha && rs[0] != rs[1]) {
                size_t worse = 1 - d->best;
                drop[worse] = 1;
                d->n_drop = 1;
                if (p_post)
                    p_post[worse] = d->p;
                if (p_holm)
                    p_holm[worse] = d->p;
            }
        }
        free(diff);
    }
    free(v);
    free(p);
    free(rs);
    free(adj);
    return rc;
}
