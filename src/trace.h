/* trace.h - one training step shown as the classic derivation writes it (bprun trace).
 *
 * The step is taken by bp_train itself (train.h, through its batch hook): the same forward
 * pass, loss, backward pass, clipping and optimizer plugin step that bprun run performs, on
 * the model bp_experiment_model builds for trial 0. Nothing here recomputes a derivative; the
 * trace copies the values the training code path produced:
 *   per layer, per node j of the sample shown: net input z_j, activation a_j, error term
 *   delta_j = dL/dz_j (backprop.h), the bias gradient dL/db_j; per weight W[j][i]: dL/dW[j][i],
 *   its value before and after the step and the update w_after - w_before the optimizer
 *   actually applied; the loss of the batch before the step and recomputed on the same batch
 *   after it (bp_forward + bp_loss_batch).
 *
 * Which batch. First `steps` (K) optimizer steps run exactly as in bprun run (the epoch's
 * sample order, batch size, schedule, clipping). Then:
 *   sample >= 0: one step on a batch of exactly training row `sample` (0-based, of the
 *                training set after the validation split), with the optimizer state,
 *                step number and learning rate run would have at step K+1;
 *   sample < 0:  step K+1 of the run itself, on its batch (all its rows). Gradients are
 *                batch means (what the optimizer sees); z, activation and error term are
 *                shown for the batch's first row (trace.rows[0]).
 * K MUST be less than the number of steps the run makes (train.epochs x batches per epoch).
 */
#ifndef BP_TRACE_H
#define BP_TRACE_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "trial.h"

typedef enum bp_trace_format {
    BP_TRACE_TEXT, BP_TRACE_CSV, BP_TRACE_JSON, BP_TRACE_FORMAT_COUNT
} bp_trace_format;
extern const char *const bp_trace_format_names[BP_TRACE_FORMAT_COUNT]; /* "text", "csv", "json" */

typedef struct bp_trace_opts {
    long sample;          /* a training row, or -1: the run's own batch of step K+1 */
    uint64_t steps;       /* K: steps trained before the traced one */
    int threads;          /* >= 1 */
} bp_trace_opts;

/* The values of the traced step. Layer l (1 .. n_layers) is the output of weight layer l-1
 * of the model (its parameters start at w_off[l-1]); layer 0 is the input. All arrays owned. */
typedef struct bp_trace {
    char *config;              /* the config path */
    uint64_t seed;
    uint64_t step;             /* K + 1 */
    int epoch;                 /* the run's epoch step K+1 falls in */
    size_t nb;                 /* rows in the traced batch */
    int summed;                /* train.reduction sum: the gradients are sums, not means */
    uint32_t *rows;            /* their training-row indices */
    int single_sample;         /* traced with --sample */
    size_t n_layers;
    int *sizes;                /* n_layers + 1 */
    const char **act;          /* n_layers activation names (the strings borrowed from the
                                * plugins: valid while the registry is) */
    const char *loss_name, *opt_name;
    size_t n_hp;
    const char **hp_names;     /* n_hp names (the strings borrowed from the optimizer plugin) */
    double *hp;                /* the hyperparameters the step used (the scheduled lr) */
    int *hp_bool;              /* 1 where the hyperparameter is boolean */
    float *x, *y;              /* the first row's input (sizes[0]) and target (sizes[L]) */
    float **z, **a, **d;       /* per layer 1..L (index l-1): the first row's values */
    size_t n_params;
    size_t *w_off, *b_off;     /* as in bp_model */
    float *grad, *before, *after;  /* n_params each */
    double loss_before, loss_after;    /* batch means */
} bp_trace;

/* Train K steps and trace the next one. x is prepared (bp_experiment_prepare). Errors:
 * BP_EUSAGE for a sample out of range or K too large (naming the limit), BP_ERUN when training
 * diverged or the optimizer failed before the traced step is done, BP_ENOMEM. */
int bp_trace_run(const bp_experiment *x, const bp_trace_opts *o, bp_trace **out, bp_err *e);
void bp_trace_free(bp_trace *t);

/* Write the trace: text (aligned tables: layer | node | z | activation | error term |
 * gradient, then per weight layer: before | gradient | update | after; at most 8 incoming
 * weights per node, the rest counted), csv (every value; columns section, layer, node, from,
 * z, activation, error_term, gradient, before, update, after) or json. Numbers with 6
 * significant digits (%.6g; JSON writes null for non-finite values). */
void bp_trace_print(FILE *f, const bp_trace *t, bp_trace_format fmt);

#endif
