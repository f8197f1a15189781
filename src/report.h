/* report.h - read a run folder back: ranked trials, a summary per sweep point over its repeats,
 * and the best setting as a config ready to rerun. Works on a run that is still going (the
 * index is rewritten atomically while trials finish: docs/FORMAT.md).
 *
 * Ranking: completed trials by the metric (default: final validation loss, or final training
 * loss without validation data; lower first for losses, epochs and seconds, higher first for
 * accuracies); then pruned trials (sweep.halving) by the same; then trials that diverged
 * or failed; then those not finished. Ties by id.
 *
 * Points (all repeats of one setting, points.h) are ranked by the mean or median of the metric
 * with 95% intervals, and the best is compared with every other point (or all pairs) by paired
 * tests, Holm-adjusted, with a verdict (docs/REPORT.md). With train.target_loss (an index whose
 * epochs_to_target is non-zero somewhere) the tables get epochs to target per trial
 * (`to_target`; "never" when not reached) and, per point, the success rate with its Wilson
 * interval and the Kaplan-Meier median of the epochs to target with its interval (repeats that
 * never reached it are censored at their last epoch). Without a target there is no success
 * column.
 */
#ifndef BP_REPORT_H
#define BP_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "points.h"

typedef enum bp_report_format {
    BP_REPORT_TEXT, BP_REPORT_CSV, BP_REPORT_MARKDOWN, BP_REPORT_JSON,
    BP_REPORT_HTML,           /* report_html.h; bp_report_runs refuses it */
    BP_REPORT_FORMAT_COUNT
} bp_report_format;
extern const char *const bp_report_format_names[BP_REPORT_FORMAT_COUNT];

/* What --format csv writes (one table): the ranked trials, the points, the comparisons, or
 * (epochs) every trial file's per-epoch rows, one line per trial and epoch (docs/PYTHON.md). */
typedef enum bp_report_table {
    BP_TABLE_TRIALS, BP_TABLE_POINTS, BP_TABLE_COMPARISONS, BP_TABLE_EPOCHS,
    BP_TABLE_LINEAGE,          /* sweep.pbt: the winner's lineage (report_pbt.h) */
    BP_TABLE_SEARCH,           /* sweep.search: its best-so-far curve (report_search.h) */
    BP_TABLE_COUNT
} bp_report_table;
extern const char *const bp_report_table_names[BP_TABLE_COUNT];

typedef struct bp_report_opts {
    bp_report_format format;
    long top;                /* rows of the ranked table (0 = all) */
    /* Added with points (points.h): the ranking metric (BP_RANK_AUTO: final val_loss, or
     * loss without validation data), rank points by the median instead of the mean, the
     * significance level of the verdicts (0: 0.05), every pair compared, the csv table. */
    bp_rank_metric metric;
    int by_median;
    double alpha;
    int all_pairs;
    bp_report_table table;
} bp_report_opts;

/* Print the report of the run folder dir to f. */
int bp_report(const char *dir, const bp_report_opts *o, FILE *f, bp_err *e);
/* Added for comparing runs: the report of nd >= 1 run folders as one. With several, every
 * trial gets the first axis `run` (its folder, as given) and the union of the folders' swept
 * axes ("-" where a folder has no such axis); points of different folders are compared like
 * any others, paired over the seeds they share. */
int bp_report_runs(const char *const *dirs, size_t nd, const bp_report_opts *o, FILE *f,
                   bp_err *e);

/* The id of the run folder's best trial: the first row of the report's ranked table with the
 * default metric (the ranking above). BP_EDATA naming the folder when no trial completed. */
int bp_report_best_trial(const char *dir, uint32_t *trial, bp_err *e);

#endif
