/* race.h - one decision of a race (F-Race: Birattari, Stuetzle, Paquete and Varrentrapp 2002;
 * irace: Lopez-Ibanez et al. 2016): which of the points still racing are dropped, given the
 * metric of each over the repeats they all ran. A pure function of those values: the same
 * results give the same decision, whatever ran them, in whatever order.
 *
 * With k >= 3 points: Friedman's test over the repeats as blocks (ranks within a repeat, ties
 * averaged); when its p is below alpha, Conover's post-hoc test of every point against the
 * best (the lowest rank sum; ties: the lower index), Holm-adjusted over the k - 1 tests, and
 * the points whose adjusted p is below alpha are dropped. With k = 2: the Wilcoxon
 * signed-rank test of the paired differences; below alpha, the worse point is dropped. A
 * value that failed (a diverged or failed repeat) is passed as the worst value (+inf, or -inf
 * for metrics where higher is better) and ranks last.
 */
#ifndef BP_RACE_H
#define BP_RACE_H

#include <stddef.h>

typedef struct bp_race_decision {
    int test;          /* 1: Friedman (+ Conover post-hoc), 2: Wilcoxon signed-rank */
    double stat, p;    /* the test over all k points */
    size_t best;       /* index of the best point (lowest rank sum) */
    size_t n_drop;
} bp_race_decision;

/* x: b repeats x k points, row-major (repeat i, point j at x[i * k + j]); higher: the metric
 * is better when higher. drop (k entries) gets 1 for a dropped point; p_post and p_holm (k
 * entries, may be NULL) the post-hoc p against the best and its Holm adjustment (NaN for the
 * best, and for all when the first test did not reject). Returns 0, or -1 for k < 2, b < 2 or
 * no memory. */
int bp_race_decide(const double *x, size_t b, size_t k, int higher, double alpha,
                   unsigned char *drop, double *p_post, double *p_holm, bp_race_decision *d);

#endif
