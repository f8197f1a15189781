/* points.h - the answer to "which setting is best, and how sure is that": the trials of a
 * sweep grouped into points (all repeats of one setting), each point summarized over its
 * repeats by a chosen metric with confidence intervals, a success rate and the time to solve
 * when a target was set, the points ranked, and the best point compared with every other
 * (or all pairs) by paired tests over the seeds they share, adjusted for multiplicity.
 * docs/REPORT.md states every rule; the numbers of every `bprun report` format come from
 * here.
 *
 * Rules in brief:
 *  - a repeat has a value when it completed and its metric is finite; diverged and failed
 *    repeats are counted (n_failed) and, in comparisons, count as worse than any value (so
 *    does, for epochs_to_target, a repeat that never reached the target);
 *    pruned and unfinished repeats are counted and left out;
 *  - points rank by the mean (or median) of their values, in the metric's direction; points
 *    without a value come last, in trial order;
 *  - two points are paired when they have repeats with the same seed (bprun gives repeat r the
 *    seed + r in every point): the Wilcoxon signed-rank test over those pairs, with the
 *    median paired difference and its order-statistic interval; without a shared seed the
 *    Mann-Whitney U test of their values (paired = 0);
 *  - p-values are Holm-adjusted over the comparisons made; the verdict is "better" or "worse"
 *    when the adjusted p is below alpha, else "not distinguishable".
 */
#ifndef BP_POINTS_H
#define BP_POINTS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "stats.h"

typedef enum bp_rank_metric {
    BP_RANK_AUTO,              /* val_loss when some trial has one, else loss */
    BP_RANK_LOSS,              /* final training loss */
    BP_RANK_VAL_LOSS,          /* final validation loss */
    BP_RANK_BEST_VAL_LOSS,     /* lowest validation loss of the run */
    BP_RANK_ACCURACY,
    BP_RANK_VAL_ACCURACY,
    BP_RANK_TEST_LOSS,
    BP_RANK_TEST_ACCURACY,
    BP_RANK_EPOCHS_TO_TARGET,  /* only repeats that reached the target have a value */
    BP_RANK_SECONDS,
    BP_RANK_COUNT
} bp_rank_metric;
/* "auto", "loss", "val_loss", "best_val_loss", "accuracy", "val_accuracy", "test_loss",
 * "test_accuracy", "epochs_to_target", "seconds" */
extern const char *const bp_rank_metric_names[BP_RANK_COUNT];
int bp_rank_metric_higher(bp_rank_metric m);

/* One trial, as the index records it. */
typedef struct bp_point_trial {
    unsigned trial;
    uint64_t seed;
    const char *status;          /* completed, diverged, failed, pruned, interrupted, ... */
    int epochs;
    double loss, val_loss, best_val_loss, accuracy, val_accuracy, test_loss, test_accuracy;
    double seconds;
    int to_target;               /* > 0 epochs to reach the target, -1 never, 0 no target */
    char *const *params;         /* the swept values (n_axes), NULL without axes */
} bp_point_trial;

typedef struct bp_points_opts {
    bp_rank_metric metric;
    int by_median;               /* rank by the median instead of the mean */
    double alpha;                /* 0.05 */
    int all_pairs;               /* compare every pair, not only the best with the others */
} bp_points_opts;

typedef struct bp_point {
    size_t *trials;              /* indices of its trials into the input, in input order */
    size_t n;
    size_t n_value, n_failed, n_pruned, n_unfinished;
    bp_describe d;               /* of the values; n = n_value */
    double score;                /* d.mean or d.median: what it is ranked by */
    int has_target;              /* some repeat had train.target_loss/target_accuracy */
    size_t reached;              /* repeats that reached it */
    double success_lo, success_hi;   /* Wilson 95% interval of reached / n (finished) */
    bp_km km;                    /* epochs to target: reached = event, else censored at the
                                  * epochs the repeat ran */
} bp_point;

typedef struct bp_comparison {
    size_t a, b;                 /* ranks (0 = best) of the two points */
    int paired;
    size_t n_pairs;              /* paired: shared seeds; unpaired: values of a + values of b */
    size_t wins_a, losses_a, ties;   /* pairs where a is better, worse, equal */
    double diff, diff_lo, diff_hi;   /* paired: median of a - b and its interval (NaN when
                                      * too few pairs); unpaired: median(a) - median(b) */
    double statistic, p, p_holm;
    int exact;
    const char *verdict;         /* "better", "worse", "not distinguishable": a against b */
} bp_comparison;

typedef struct bp_points {
    bp_rank_metric metric;            /* resolved (never AUTO) */
    int by_median;
    double alpha;
    size_t n_points;
    bp_point *points;            /* ranked best first */
    size_t n_cmp;
    bp_comparison *cmp;
} bp_points;

/* Group the n trials into points by equal params (every trial is one point without axes:
 * n_axes = 0 groups all trials into one), summarize, rank, compare. out MUST be freed with
 * bp_points_free, also after a failure (BP_ENOMEM). */
int bp_points_build(const bp_point_trial *t, size_t n, size_t n_axes, const bp_points_opts *o,
                    bp_points *out, bp_err *e);
void bp_points_free(bp_points *p);

/* The metric's value of a trial, NaN when it has none. */
double bp_point_value(const bp_point_trial *t, bp_rank_metric m);

#endif
