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
 *   (v) valley (fastai's rule): with the longest strictly decreasing subsequence of S (the
 *       first such, by its end i1; at least 2 points) and i0 = i1 - its length, the lr at
 *       i0 + floor((i1 - i0)/3) + floor((i1 - i0)/6), i.e. half way down; none when S never
 *       fell.
 * The range test's candidate is (v), else (a), else (b). At least 10 points are needed.
 *
 * The paired sweep (sweep_epochs > 0; the default is the range test's number of epochs): the
 * range test's rates act on weights that change as the rate rises, which mixes the early fall
 * of the loss with the effect of the rate. So from the same start (trial 0's initial weights,
 * the same batches) train sweep_epochs epochs at a constant lr for each rate of a factor-3 grid
 * from c/9 (not below min) up to the top (max, or 3x the rate at which the range test stopped
 * on a blow-up), extended by factors of 3 while its best is at an end (within [min, max]), then
 * at the best's neighbours at a factor sqrt(3). A rate scores the training loss of its last
 * epoch; one that diverges or fails scores +inf. The suggestion is the smallest rate tried
 * within [best/3, best] whose score is within 1% of the best's (near the edge of stability,
 * equal losses favour the lower rate); the best's factor-3 neighbours were tried and were
 * worse (unless outside [min, max]), so the printed sweep a/3, a, 3a brackets the sweep's
 * best. Without the sweep the suggestion is the candidate.
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
    long sweep_epochs;        /* epochs per rate of the paired sweep; 0: no sweep; < 0: the
                               * range test's epochs */
} bp_lrfind_opts;

#define BP_LRFIND_SWEEP_MAX 64 /* rates of the paired sweep, at most */

typedef struct bp_lrfind {
    uint64_t planned;          /* N */
    size_t n;                  /* points recorded */
    double *lr, *loss, *smooth;   /* n each (capacity planned) */
    char stop[256];            /* why it ended: one line */
    double steepest_lr, steepest_slope;   /* (a); NaN when none */
    long steepest_i;           /* index of (a), -1 when none */
    double min_lr, min_smooth, tenth_min_lr;   /* (b); NaN when no points */
    long min_i;
    double valley_lr;          /* (v); NaN when none */
    long valley_i;             /* index of (v), -1 when none */
    double candidate;          /* (v), else (a), else (b); NaN when none */
    size_t sweep_n;            /* rates tried by the paired sweep (0: none) */
    long sweep_epochs;         /* its epochs per rate */
    double sweep_lr[BP_LRFIND_SWEEP_MAX], sweep_loss[BP_LRFIND_SWEEP_MAX];  /* in the order
                                * tried; loss: the last epoch's training loss, +inf diverged */
    double suggested;          /* the paired sweep's best, else the candidate; NaN when there
                                * is no suggestion */
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
/* Fill the range test's suggestion fields ((a), (b), (v), candidate, suggested = candidate)
 * from r->lr and r->smooth (r->n points). Pure; called by bp_lrfind_run before the sweep. */
void bp_lrfind_suggest(bp_lrfind *r);
void bp_lrfind_free(bp_lrfind *r);

/* Write the result to path (through path.part and a rename): 1-D float64 datasets lr, loss,
 * smooth_loss; root attributes format_version, bprun_version, config (the config file's
 * text), resolved_config, rule, stop, optimizer, lr_min, lr_max, smooth, blowup, steps
 * (planned), suggested_lr, steepest_lr, steepest_step, min_smooth_loss, min_lr, tenth_min_lr,
 * valley_lr, candidate_lr, sweep_epochs (NaN / -1 where none; steps are 1-based); and the
 * paired sweep's sweep_lr, sweep_loss (float64, in the order tried; empty without it). An existing file is refused unless overwrite
 * (BP_EEXIST); I/O errors BP_EIO. */
int bp_lrfind_write(const bp_lrfind *r, const char *path, const bp_config *cfg, int overwrite,
                    bp_err *e);

/* The human summary: range and stop, both rules' values, the suggestion and the lines ready
 * to paste into a sweep (--sweep train.optimizer.lr=a/3,a,3a and the YAML form). */
void bp_lrfind_print(FILE *f, const bp_lrfind *r);

#endif
