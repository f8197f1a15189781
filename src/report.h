/* report.h - read a run folder back: ranked trials, a summary per sweep point over its repeats,
 * and the best setting as a config ready to rerun. Works on a run that is still going (the
 * index is rewritten atomically as each trial finishes).
 *
 * Ranking: completed trials by final validation loss (final training loss without validation
 * data), ascending; then pruned trials (sweep.halving) by the same; then trials that diverged
 * or failed; then those not finished. Ties by id.
 *
 * With train.target_loss (an index whose epochs_to_target is non-zero somewhere) the tables get
 * epochs to target per trial (`to_target`; "never" when not reached) and, per point, success =
 * the fraction of its trials that reached the target (else the fraction completed) and the
 * mean and median epochs to target over those that did.
 */
#ifndef BP_REPORT_H
#define BP_REPORT_H

#include <stdio.h>

#include "err.h"

typedef enum bp_report_format {
    BP_REPORT_TEXT, BP_REPORT_CSV, BP_REPORT_MARKDOWN, BP_REPORT_JSON, BP_REPORT_FORMAT_COUNT
} bp_report_format;
extern const char *const bp_report_format_names[BP_REPORT_FORMAT_COUNT];

typedef struct bp_report_opts {
    bp_report_format format;
    long top;                /* rows of the ranked table (0 = all) */
} bp_report_opts;

/* Print the report of the run folder dir to f. */
int bp_report(const char *dir, const bp_report_opts *o, FILE *f, bp_err *e);

#endif
