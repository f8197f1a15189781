/* train.h - the epoch loop: shuffling, batches, optimizer steps, divergence.
 *
 * One trial: data already loaded (shared read-only), a model built, an optimizer bound.
 * Each epoch: draw the sample order from (seed, trial, BP_RNG_SHUFFLE, epoch) when shuffling;
 * for each batch: gather, forward, loss, backward, optimizer step; then evaluate the
 * validation set; then hand the epoch's row to the callback (the run log appends and flushes
 * it). A non-finite training loss, or one above diverge_factor times epoch 1's, ends the trial
 * as `diverged` after logging that epoch.
 *
 * Training helpers (schedule.h): before each epoch the optimizer's "lr" hyperparameter is set
 * to the schedule's lr for that epoch (the row's lr column records it); after each epoch the
 * schedule steps with the epoch's metric; each batch gradient is clipped (by norm or value)
 * before the optimizer step.
 *
 * Stopping early (zero = off): after each epoch, once the row is handed to the callback and
 * the epoch did not diverge, target_loss > 0 stops training as soon as the epoch's training
 * loss <= target_loss, its training accuracy >= target_accuracy, or every output of every
 * training row lies within target_max_error of its target after it (epochs_to_target = that
 * epoch); else early stopping with patience P on
 * column es_col (minimized for losses, maximized for accuracies) counts an epoch as an
 * improvement when its value beats the best so far by more than es_min_delta (min: v < best -
 * min_delta; the first finite value always improves) and stops when P epochs in a row brought
 * none. Both end the trial `completed` with a message saying why. With es_restore_best the
 * parameters of the best epoch are copied into the model when training stops or ends (the
 * optimizer state stays the final one).
 *
 * Training in stages (successive halving): calling bp_train again on the same trainer with a
 * larger epochs continues it (sched_restored is set after the first call), giving the same bits
 * as one call with the larger epochs. restore_best is applied only when stopped_early or when
 * epochs_done == final_epochs (0 = epochs).
 *
 * Continuing a trial: set epochs_done, step, opt_state (and sched with sched_restored) to a
 * saved state; training then runs epochs epochs_done + 1 .. epochs, and gives the same bits
 * as an uninterrupted run.
 */
#ifndef BP_TRAIN_H
#define BP_TRAIN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "err.h"
#include "model.h"
#include "plugin.h"
#include "schedule.h"

typedef enum bp_status_kind {
    BP_TRIAL_PENDING, BP_TRIAL_RUNNING, BP_TRIAL_COMPLETED, BP_TRIAL_DIVERGED, BP_TRIAL_FAILED,
    BP_TRIAL_INTERRUPTED, BP_TRIAL_PRUNED, BP_TRIAL_STATUS_COUNT
} bp_status_kind;
/* "pending", "running", "completed", "diverged", "failed", "interrupted", "pruned" (stopped by
 * successive halving at a rung, sweep.halving; never set by bp_train) */
extern const char *const bp_trial_status_names[BP_TRIAL_STATUS_COUNT];

/* The per-epoch columns, in the order of bp_epoch_row.v. */
enum bp_epoch_col {
    BP_COL_EPOCH, BP_COL_LOSS, BP_COL_ACCURACY, BP_COL_VAL_LOSS, BP_COL_VAL_ACCURACY, BP_COL_LR,
    BP_COL_SECONDS, BP_COL_COUNT
};
/* "epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds" */
extern const char *const bp_epoch_col_names[BP_COL_COUNT];

typedef struct bp_epoch_row {
    double v[BP_COL_COUNT];   /* NaN where not measured (val_* without validation data) */
} bp_epoch_row;

/* Called after each epoch; a non-zero return stops training with that error. */
typedef int (*bp_epoch_fn)(void *ud, const bp_epoch_row *row, const bp_model *m, bp_err *e);

struct bp_trainer;
struct bp_work;

/* One batch of the epoch loop, as a batch hook sees it (bprun trace, bprun lr-find). */
typedef enum bp_batch_phase {
    BP_BATCH_GRADIENT,  /* forward, loss, backward and clipping done; the step not yet taken */
    BP_BATCH_STEPPED    /* the optimizer step was applied to the parameters */
} bp_batch_phase;

typedef struct bp_batch_info {
    bp_batch_phase phase;
    int epoch;                   /* 1-based */
    uint64_t step;               /* the optimizer step of this batch: 1 for the trial's first */
    const uint32_t *rows;        /* the batch's nb training rows, in the epoch's order */
    size_t nb;
    double loss;                 /* mean loss of the batch before the step (always finite) */
    const struct bp_work *work;  /* the batch's Z, A, D buffers (backprop.h); Xb its inputs */
    const float *grad;           /* the gradient the step uses, after clipping (n_params): of
                                  * the batch-mean loss, or with summed of the batch-sum loss */
    int summed;                  /* the trainer's reduction_sum */
} bp_batch_info;

/* Called twice per batch (phase GRADIENT, then STEPPED) when set. In phase GRADIENT it MAY
 * change t->hp (the step then uses the changed values). Returns 0 to go on, > 0 to stop
 * training at once (in phase GRADIENT: without the step; status completed, message "stopped
 * by the batch hook at step N", epochs_done counts only whole epochs), or a negative code
 * after filling e (bp_train returns it). A batch whose loss is not finite ends the trial as
 * diverged before the hook sees it. */
typedef int (*bp_batch_fn)(void *ud, struct bp_trainer *t, const bp_batch_info *b, bp_err *e);

typedef struct bp_trainer {
    bp_model *model;                 /* trained in place (borrowed) */
    const bp_dataset *train;         /* borrowed */
    const bp_dataset *val;           /* may be NULL */
    const bp_loaded *optimizer;      /* borrowed */
    double hp[BP_MAX_HPARAMS];       /* the optimizer's hyperparameters (bound) */
    int epochs;
    int batch_size;                  /* 0 = full batch */
    int shuffle;
    uint64_t seed, trial;
    int nthreads;
    bp_epoch_fn on_epoch;
    void *ud;
    volatile sig_atomic_t *stop;     /* when set non-zero, stop after the current epoch */

    /* results */
    float *opt_state;                /* n_state * n_params (owned; saved with the weights) */
    uint64_t step;                   /* optimizer steps done */
    int epochs_done;
    bp_status_kind status;
    char message[BP_ERR_MSG_MAX];

    /* Added with the training helpers (zero = off). */
    const bp_lr_params *schedule; /* NULL: constant lr; a non-constant schedule needs an
                                         * optimizer hyperparameter named "lr" (BP_ECONFIG) */
    bp_clip_kind clip;
    double clip_max;
    bp_lr_sched sched;                  /* in, when sched_restored: the state to continue from
                                      * (bp_lr_restore); out: the state after the last epoch,
                                      * to be saved with the weights */
    int sched_restored;

    /* Added with early stopping (zero = off). */
    double target_loss;          /* > 0: stop at the first epoch with training loss <= it */
    int es_patience;             /* >= 1: early stopping on column es_col */
    int es_col;                  /* BP_COL_LOSS, BP_COL_VAL_LOSS, BP_COL_ACCURACY, ... */
    double es_min_delta;
    int es_restore_best;
    int final_epochs;            /* the trial's last epoch when trained in stages (0: epochs) */
    /* Added with the growth rule (0 = off): an epoch whose training loss is more than
     * diverge_factor times the first epoch's ends the trial `diverged`, like a non-finite one. */
    double diverge_factor;
    double first_loss;           /* state: epoch 1's training loss (NaN: not seen yet) */
    /* state and results */
    int epochs_to_target;        /* the epoch that reached target_loss; 0 none (yet) */
    int best_epoch;              /* early stopping: epoch of the best value; 0 none (yet) */
    double best_value;
    float *best_params;          /* es_restore_best: parameters at best_epoch (owned) */
    int stopped_early;           /* early stopping ended training (target_loss does not count) */
    /* Added for trace and lr-find (NULL = off): the batch hook and its user data. */
    bp_batch_fn on_batch;
    void *batch_ud;
    /* Added with the cost records (out): the bytes bp_train allocated (sample order, gradient,
     * optimizer state, best parameters, batch workspace), the largest over its calls. */
    size_t work_bytes;
    /* Added with train.reduction and train.target_accuracy (zero = off, mean). */
    int reduction_sum;           /* 1: each batch's gradient is the sum over its rows, not the
                                  * mean (the logged loss stays the mean per row) */
    double target_accuracy;      /* > 0: stop at the first epoch with training accuracy >= it,
                                  * like target_loss (either one reached stops) */
    double target_max_error;     /* > 0: after each epoch, bp_max_output_error over the
                                  * training set (an extra forward pass); below it stops, like
                                  * target_loss. Not in the epoch rows: bp_train_replay cannot
                                  * find the epoch it was reached at */
    double max_error;            /* state: the last epoch's bp_max_output_error (NaN: none) */
} bp_trainer;

/* Change the optimizer's hyperparameter i (its index in the plugin's table) to v between two
 * bp_train calls, from the next epoch on (train.phases, sweep.pbt). "lr" under the constant
 * schedule becomes the schedule's base and current lr as well (bp_train sets the optimizer's lr
 * from the schedule before every epoch); under another schedule lr belongs to the schedule and
 * is left alone (config.c refuses a phase's lr there). The optimizer state is kept as it is: a
 * plugin that reads a hyperparameter only in init_state (rprop's lr, adagrad's
 * initial_accumulator_value) is not affected by a later change. */
void bp_trainer_set_hp(bp_trainer *t, uint32_t i, double v);

/* Rebuild the early-stopping and target state from rows already trained (n rows of
 * BP_COL_COUNT values, epochs 1..n), as when they had been trained by t: for continuing a trial.
 * best_params is not restored. */
void bp_train_replay(bp_trainer *t, const double *rows, size_t n);

/* Run the trial. opt_state MAY be NULL (allocated, zero-filled or init_state'd when step is 0)
 * or hold a saved state (n_state * n_params floats, malloc'd: the trainer owns it then).
 * Returns 0 when training ran to its end or stopped for a recorded reason
 * (status says which: completed, diverged, failed, interrupted), or a negative code for an
 * error outside the trial (I/O from the callback, memory). */
int bp_train(bp_trainer *t, bp_err *e);
void bp_trainer_release(bp_trainer *t);

#endif
