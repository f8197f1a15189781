/* schedule.h - the training helpers every optimizer gets from the host: learning-rate schedules
 * and gradient clipping. Pure arithmetic: no I/O, no allocation, no threads.
 *
 * Schedules follow torch.optim.lr_scheduler, stepped once per epoch. Epochs count from 1; the
 * lr of epoch e is fixed before epoch e starts and is what torch's scheduler holds when its
 * last_epoch is e - 1 (after e - 1 calls of scheduler.step()):
 *
 *   constant     lr = base
 *   step         StepLR: lr *= gamma whenever last_epoch is a multiple of step_size (the
 *                chainable form torch's step() uses: one multiplication per decay, in double)
 *   exponential  ExponentialLR: lr *= gamma every epoch after the first (chainable form)
 *   cosine       CosineAnnealingLR's closed form eta_min + (base - eta_min)(1 + cos(pi k / T)) / 2
 *                with k = last_epoch - warmup_epochs and T = t_max - warmup_epochs; before it,
 *                warmup_epochs epochs of linear warmup (LinearLR's closed form)
 *                base * (warmup_start + (1 - warmup_start) * last_epoch / warmup_epochs)
 *   plateau      ReduceLROnPlateau (threshold_mode 'rel'): after each epoch, with metric m,
 *                better = m < best (1 - threshold) (mode min) or m > best (1 + threshold)
 *                (mode max); a better m resets the bad-epoch count, a worse one increments it;
 *                in cooldown the counter ticks down and bad epochs are forgotten; more than
 *                patience bad epochs multiply lr by factor (not below min_lr; changes smaller
 *                than eps are ignored) and start the cooldown.
 *
 * The whole state of a running schedule is bp_lr_sched; saving bp_lr_state() values and
 * restoring them with bp_lr_restore() continues it exactly.
 */
#ifndef BP_SCHEDULE_H
#define BP_SCHEDULE_H

#include <stddef.h>

#include "err.h"

typedef enum bp_lr_kind {
    BP_LR_CONSTANT, BP_LR_STEP, BP_LR_EXPONENTIAL, BP_LR_COSINE, BP_LR_PLATEAU,
    BP_LR_COUNT
} bp_lr_kind;
/* "constant", "step", "exponential", "cosine", "plateau" */
extern const char *const bp_lr_names[BP_LR_COUNT];

/* The metric a plateau schedule watches (mode min or max). */
typedef enum bp_lr_metric { BP_METRIC_VAL_LOSS, BP_METRIC_LOSS, BP_METRIC_COUNT } bp_lr_metric;
extern const char *const bp_lr_metric_names[BP_METRIC_COUNT]; /* "val_loss", "loss" */
typedef enum bp_lr_mode { BP_MODE_MIN, BP_MODE_MAX, BP_MODE_COUNT } bp_lr_mode;
extern const char *const bp_lr_mode_names[BP_MODE_COUNT];     /* "min", "max" */

/* A schedule as configured (config.c fills it; docs/CONFIG.md lists keys and ranges). Fields of
 * other kinds are ignored. */
typedef struct bp_lr_params {
    bp_lr_kind kind;
    int step_size;            /* step: >= 1 */
    double gamma;             /* step, exponential: (0, 1] */
    int t_max;                /* cosine: > warmup_epochs */
    double eta_min;           /* cosine: >= 0 */
    int warmup_epochs;        /* cosine: >= 0 */
    double warmup_start;      /* cosine: [0, 1], a fraction of the base lr */
    bp_lr_metric metric;      /* plateau */
    bp_lr_mode mode;
    double factor;            /* (0, 1) */
    int patience, cooldown;   /* >= 0 */
    double threshold;         /* >= 0, relative */
    double min_lr;            /* >= 0 */
    double eps;               /* >= 0: smaller lr changes are ignored (torch default 1e-8) */
} bp_lr_params;

/* Set p to the defaults of kind (step_size 1, gamma 0.1, t_max 1, ...; config.c replaces the
 * defaults that depend on other keys). */
void bp_lr_defaults(bp_lr_params *p, bp_lr_kind kind);

/* A running schedule. */
typedef struct bp_lr_sched {
    bp_lr_params p;
    double base_lr;
    int last_epoch;           /* epochs stepped (torch's last_epoch) */
    double lr;                /* the lr of epoch last_epoch + 1 */
    double best;              /* plateau: best metric so far (+-inf at the start) */
    int bad_epochs;           /* plateau: torch's num_bad_epochs */
    int cooldown_counter;     /* plateau */
} bp_lr_sched;

/* Start a schedule at epoch 1: s->lr becomes the lr of epoch 1. p NULL means constant. */
void bp_lr_start(bp_lr_sched *s, const bp_lr_params *p, double base_lr);
/* After an epoch: metric is that epoch's value of p.metric (only plateau reads it; NaN counts
 * as not better). s->lr becomes the lr of the next epoch. */
void bp_lr_step(bp_lr_sched *s, double metric);

/* The state that continues a schedule: BP_LR_NSTATE doubles named bp_lr_state_names
 * ("last_epoch", "lr", "best", "bad_epochs", "cooldown_counter"). */
#define BP_LR_NSTATE 5
extern const char *const bp_lr_state_names[BP_LR_NSTATE];
void bp_lr_state(const bp_lr_sched *s, double v[BP_LR_NSTATE]);
/* Continue a schedule from saved state: names/values as saved (any order; every name of
 * bp_lr_state_names MUST be present, integers integral and >= 0, lr finite and >= 0, or
 * NaN when base_lr is NaN (an optimizer without "lr"), best not NaN).
 * BP_EDATA with "schedule state: ..." otherwise. */
int bp_lr_restore(bp_lr_sched *s, const bp_lr_params *p, double base_lr,
                     const char *const *names, const double *v, size_t n, bp_err *e);

/* Gradient clipping, applied to the batch gradient before the optimizer step. */
typedef enum bp_clip_kind { BP_CLIP_NONE, BP_CLIP_NORM, BP_CLIP_VALUE } bp_clip_kind;

/* torch.nn.utils.clip_grad_norm_ with norm_type 2 over all n values: the total norm is
 * accumulated in double, in index order; coef = max_norm / (norm + 1e-6); when coef < 1 every
 * value is multiplied by it (in double, rounded to float). Returns the norm before clipping. */
double bp_clip_norm(float *g, size_t n, double max_norm);
/* torch.nn.utils.clip_grad_value_: clamp every value to [-v, v]. */
void bp_clip_value(float *g, size_t n, double v);

#endif
