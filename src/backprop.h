/* backprop.h - forward pass, loss, backward pass (the delta rule) over a batch.
 *
 * With batch-major activations (DESIGN.md): Z_l = A_{l-1} W_l^T + b_l, A_l = f_l(Z_l).
 * Output error term delta_L = dLoss/dZ_L per sample:
 *   mse  (loss 1/2 sum_k (o_k - y_k)^2):          delta = (o - y) * f'(z)
 *   cross_entropy with softmax output:             delta = o - onehot(y)
 *   binary_cross_entropy with sigmoid output:      delta = o - y
 * Hidden: delta_{l-1} = (delta_l W_l) * f'_{l-1}(Z_{l-1}).
 * Gradients of the batch-mean loss: dW_l = (1/nb) delta_l^T A_{l-1}, db_l = (1/nb) colsum(delta_l).
 * Losses are accumulated in double.
 */
#ifndef BP_BACKPROP_H
#define BP_BACKPROP_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "err.h"
#include "model.h"

/* Per-batch buffers. Z[l], A[l], D[l] for layer l (0-based) hold nb x sizes[l+1] values. */
typedef struct bp_work {
    size_t cap;            /* largest batch */
    size_t n_layers;
    float **Z, **A, **D;
    float **T;             /* scratch: f'(Z[l]) */
    float *Xb;             /* gathered batch inputs, cap x sizes[0] */
    int32_t *yb;           /* gathered labels (cap), or */
    float *Yb;             /* gathered target rows (cap x k) */
    double *loss_row;      /* per-sample loss of the last bp_loss_batch */
    double *lse;           /* per-row log-sum-exp of a softmax output (bp_forward) */
    size_t bytes;          /* added with the cost records: bytes bp_work_new allocated */
} bp_work;

bp_work *bp_work_new(const bp_model *m, size_t cap, bp_err *e);
void bp_work_free(bp_work *w);

/* Copy rows idx[0..nb) of d (or rows first..first+nb when idx is NULL) into w->Xb/yb/Yb. */
void bp_gather(bp_work *w, const bp_dataset *d, const uint32_t *idx, size_t first, size_t nb);
/* bp_gather shared by up to nthreads threads when the batch is large */
void bp_gather_threads(bp_work *w, const bp_dataset *d, const uint32_t *idx, size_t first,
                       size_t nb, int nthreads);

/* Forward pass over nb rows of X (row stride sizes[0]); output in w->A[n_layers-1]. */
void bp_forward(const bp_model *m, bp_work *w, const float *X, size_t nb, int nthreads);

/* After bp_forward: per-sample losses in w->loss_row, their sum returned; *correct (if not
 * NULL) gets the number of correctly classified rows (argmax for multi-output, threshold 0.5
 * for one output; for matrix targets the argmax of the target row). With want_delta, the
 * output error term is written to w->D[n_layers-1]. Targets from w->yb or w->Yb. */
double bp_loss_batch(const bp_model *m, bp_work *w, const bp_dataset *d, size_t nb, size_t *correct,
               int want_delta);

/* After bp_loss_batch(..., want_delta=1): back-propagate and write the gradient of the batch-mean
 * loss into grad (n_params floats, the layout of m->params). X is the batch input. */
void bp_backward(const bp_model *m, bp_work *w, const float *X, size_t nb, float *grad,
                 int nthreads);
/* bp_backward with the per-sample gradients summed and multiplied by scale: 1/nb (as float) is
 * bp_backward's mean, 1 the gradient of the batch-sum loss (train.reduction sum). */
void bp_backward_scaled(const bp_model *m, bp_work *w, const float *X, size_t nb, float scale,
                        float *grad, int nthreads);

/* Online steps without the batch bookkeeping. bp_online_ok: 1 when every product of m for one
 * row takes small.h's functions (small_ok: a choice from the layer sizes only, never the thread
 * count) and every hidden layer has an activation plugin. bp_online_row (only when bp_online_ok)
 * MUST give the bits of bp_forward + bp_loss_batch(want_delta 1) + bp_backward with nb = 1: the
 * row's loss returned (also in w->loss_row[0]), *correct 0 or 1, the gradient in grad, w->Z/A/D
 * filled. Targets from w->yb[0] or w->Yb as bp_loss_batch; x is the row (sizes[0] floats). */
int bp_online_ok(const bp_model *m);
double bp_online_row(const bp_model *m, bp_work *w, const bp_dataset *d, const float *x,
                     float *grad, int *correct);

/* Fused online steps (issue 15; docs/ARCHITECTURE.md). For bp_online_ok models whose every
 * activation is one of bprun's own plugins sigmoid, tanh, relu or identity (or the softmax
 * output) and whose optimizer is bprun's own sgd, bp_fused_row does what bp_online_row and the
 * sgd plugin's step do for one row, with the activations and the update inlined: the same
 * float operations in the same order on every element, so the same bits (tests/check_small
 * trains every bundled activation and optimizer both ways). "bprun's own" is the table's
 * `bundled` field holding BP_BUNDLED_KEY (src/bundled.h), never the name alone: a user's
 * plugin called sigmoid takes the plugin path. */
enum bp_fused_act { BP_FUSED_SOFTMAX, BP_FUSED_SIGMOID, BP_FUSED_TANH, BP_FUSED_RELU,
                    BP_FUSED_IDENTITY };
typedef struct bp_fused {
    int *act;                       /* per layer, bp_fused_act (n_layers, the caller's) */
    float neg_lr, mom, keep, wd;    /* sgd's hyperparameters as its step converts them */
    int use_wd, use_mom, nesterov;
    int tiny;                       /* one hidden layer, at most 4 units a layer, mse: the row
                                     * is computed in registers (same operations) */
} bp_fused;
/* BPRUN_FUSED: unset, empty or 1: 1 (the fused path where it applies); 0: 0 (always the
 * plugins, for comparisons); anything else: BP_EUSAGE "BPRUN_FUSED: expected 0 or 1 (got
 * 'x')". */
int bp_fused_env(bp_err *e);
/* 1 when bp_fused_row applies to m with the optimizer opt and hyperparameters hp (online and
 * bp_online_ok, bundled activations and sgd, hyperparameters sgd accepts); fills f->act. */
int bp_fused_ok(const bp_model *m, const bp_plugin *opt, const double *hp, bp_fused *f);
/* sgd's float hyperparameters from hp (at each epoch start: the lr schedule changes lr) */
void bp_fused_hp(bp_fused *f, const double *hp);
/* One online step: the row's loss returned (w->loss_row[0]), *correct; when the loss is finite,
 * the update of m->params and sgd's state (slot 0, state_stride n_params) as step number
 * `step` (1: the first) would make it; a non-finite loss leaves both unchanged (the caller
 * stops there, as it does before a plugin's step). */
double bp_fused_row(const bp_model *m, bp_work *w, const bp_dataset *d, const float *x,
                    const bp_fused *f, float *state, uint64_t step, int *correct);

/* The largest |o_j - t_j| over every output j of every row of d (targets as bp_loss_batch's:
 * matrix rows, one-hot labels, or the label for one output), in batches of w->cap: Fahlman's
 * threshold criterion (train.target_max_error). NaN when an output is NaN. */
double bp_max_output_error(const bp_model *m, bp_work *w, const bp_dataset *d, int nthreads);

/* Mean loss and accuracy of m over a whole dataset (batches of w->cap). Row results do not
 * depend on how rows are grouped into batches, and the sums run row by row, so the result is
 * the same for any w->cap. */
void bp_evaluate(const bp_model *m, bp_work *w, const bp_dataset *d, int nthreads,
                 double *loss, double *accuracy);

#endif
