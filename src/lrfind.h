/* lrfind.h - the learning-rate range test (bprun lr-find).
 *
 * From the configured start (trial 0's model, seed and optimizer), train with bp_train (the
 * batches bprun run draws: the epoch's sample order and batch size, clipping; no validation,
 * no schedule) while the optimizer's "lr" hyperparameter is raised exponentially:
 *   lr_k = min * (max / min)^(k / (N - 1)),   k = 0 .. N-1  (lr_0 = min when N = 1)
 * Step k+1 records its batch's mean loss L_k (before its update) at lr_k, and the smoothed
 * loss, an exponential moving average with bias correction (beta = smooth):
 *   m_k = beta m_{k-1} + (1 - beta) L_k (m_{-1} = 0),   S_k = m_k / (1 - beta^(k+1)).
 * It stops after N steps, at the first S_k > blowup x min_{i<k} S_i (that point is recorded,
 * its step not taken), or when a loss is not finite (the trainer's divergence; not recorded).
 *
 * Suggestions (bp_lrfind_suggest; n recorded points, the first and last n/10 ignored for (a)):
 *   (a) steepest: the lr_i at the most negative slope of S over ln lr, measured as the central
 *       difference (S_{i+h} - S_{i-h}) / (ln lr_{i+h} - ln lr_{i-h}), h = max(1, round(n/40)),
 *       for n/10 <= i < n - n/10 (and h <= i < n - h); none when no slope is negative;
 *   (b) tenth_min: one tenth of the lr_i at the smallest S_i (over all points).
 * The suggestion is (a), or (b) when (a) is none. At least 10 points are needed.
 */
#ifndef BP_LRFIND_H
#define BP_LRFIND_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "trial.h"

typedef struct bp_lrfind_opts {
    double lr_min, lr_max;    /* 0 < lr_min < lr_max, finite */
    uint64_t steps;           /* N; 0 = one epoch (batches per epoch) */
    double smooth;            /* beta, 0 <= beta < 1 */
    double blowup;            /* stop factor, > 1 (bprun uses 4) */
    int threads;
} bp_lrfind_opts;

typedef struct bp_lrfind {
    uint64_t planned;          /* N */
    size_t n;                  /* points recorded */
    double *lr, *loss, *smooth;   /* n each (capacity planned) */
    char stop[256];            /* why it ended: one line */
    double steepest_lr, steepest_slope;   /* (a); NaN when none */
    long steepest_i;           /* index of (a), -1 when none */
    double min_lr, min_smooth, tenth_min_lr;   /* (b); NaN when no points */
    long min_i;
    double suggested;          /* (a), else (b); NaN when there is no suggestion */
    char why_none[160];        /* when suggested is NaN: why ("" otherwise) */
    double lr_min, lr_max, beta, blowup;   /* the options used */
    const char *opt_name;      /* borrowed from the optimizer plugin */
} bp_lrfind;

/* The rule in words (stored in the output file's `rule` attribute). */
extern const char bp_lrfind_rule[];

/* Run the range test. Errors: BP_EUSAGE for invalid options, BP_ECONFIG when the optimizer
 * has no "lr" hyperparameter (naming train.optimizer), BP_ERUN when the optimizer step fails,
 * BP_ENOMEM. */
int bp_lrfind_run(const bp_experiment *x, const bp_lrfind_opts *o, bp_lrfind **out, bp_err *e);
/* Fill the suggestion fields from r->lr and r->smooth (r->n points). Pure; called by
 * bp_lrfind_run. */
void bp_lrfind_suggest(bp_lrfind *r);
void bp_lrfind_free(bp_lrfind *r);

/* Write the result to path (through path.part and a rename): 1-D float64 datasets lr, loss,
 * smooth_loss; root attributes format_version, bprun_version, config (the config file's
 * text), resolved_config, rule, stop, optimizer, lr_min, lr_max, smooth, blowup, steps
 * (planned), suggested_lr, steepest_lr, steepest_step, min_smooth_loss, min_lr, tenth_min_lr
 * (NaN / -1 where none; steps are 1-based). An existing file is refused unless overwrite
 * (BP_EEXIST); I/O errors BP_EIO. */
int bp_lrfind_write(const bp_lrfind *r, const char *path, const bp_config *cfg, int overwrite,
                    bp_err *e);

/* The human summary: range and stop, both rules' values, the suggestion and the lines ready
 * to paste into a sweep (--sweep train.optimizer.lr=a/3,a,3a and the YAML form). */
void bp_lrfind_print(FILE *f, const bp_lrfind *r);

#endif
