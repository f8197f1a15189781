/* hvp.h - exact Hessian-vector products of the mean training loss (Pearlmutter's R-operator).
 *
 * For parameters w (the flat layout of bp_model: per layer W_l then b_l) and a direction v in
 * the same layout, H v = d/dr grad L(w + r v) at r = 0, where L is the mean loss over the rows
 * used. With a_{-1} = x, z_l = a_{l-1} W_l^T + b_l, a_l = f_l(z_l), delta_l = dloss/dz_l:
 *   R-forward:  R{z_l} = a_{l-1} V_l^T + vb_l + R{a_{l-1}} W_l^T   (R{a_{-1}} = 0)
 *               R{a_l} = f_l'(z_l) R{z_l}
 *   output:     R{delta_L} = (d^2 loss/dz_L^2) R{z_L}:
 *                 mse (1/2 sum (o-t)^2):   (f'^2 + (o - t) f'') R{z}          (elementwise)
 *                 softmax cross-entropy:   T (o * R{z} - o <o, R{z}>),  T = sum_j t_j
 *                 sigmoid BCE:             f'(z) R{z}
 *   hidden:     g_l = delta_{l+1} W_{l+1},  delta_l = g_l f_l'(z_l),
 *               R{g_l} = R{delta_{l+1}} W_{l+1} + delta_{l+1} V_{l+1}
 *               R{delta_l} = R{g_l} f_l'(z_l) + g_l f_l''(z_l) R{z_l}
 *   products:   (Hv)_{W_l} = (1/n) sum_rows (R{delta_l}^T a_{l-1} + delta_l^T R{a_{l-1}})
 *               (Hv)_{b_l} = (1/n) sum_rows R{delta_l}
 * All arithmetic is in double; the activation plugins are called on float copies of z (their
 * ABI is float), so f, f', f'' carry float rounding. The same pass gives the gradient and the
 * loss, in double, consistent with the product (backprop.h's formulas). The products are
 * axpy loops over contiguous rows in 4-lane vectors (an AVX2 clone where the CPU has it), each
 * element summed in a fixed order, so the bits do not depend on the CPU.
 *
 * Forward cache: after a call over all rows of a dataset in one batch (idx NULL, n = d->n <=
 * cap) at the model's parameters (w NULL) with v set, the object keeps that forward pass (a,
 * f', f'', the deltas). A following call of the same kind that asks for H v alone (grad and
 * loss NULL), on the same dataset object with the model's parameters bit-identical (compared
 * at each call), reuses it and runs only the R-passes; it gives the bits of a full call. This
 * is what Lanczos and Hutchinson do. The dataset's contents MUST NOT change between calls.
 * Cost (tests/check_hvp's log, scripts/bench-hvp): docs/DIAGNOSTICS.md.
 */
#ifndef BP_HVP_H
#define BP_HVP_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "err.h"
#include "model.h"

typedef struct bp_hvp bp_hvp;

/* Buffers for batches of up to cap rows (cap >= 1). Fails with BP_EPLUGIN ("activation NAME
 * (layer L) has no second derivative (plugin slot `second`): Hessian-vector products need it")
 * when a layer whose f'' enters H lacks the `second` slot: every hidden layer, and the output
 * layer under mse. The model is borrowed and MUST outlive the object; its parameters are read
 * at each call (not copied). */
bp_hvp *bp_hvp_new(const bp_model *m, size_t cap, bp_err *e);
void bp_hvp_free(bp_hvp *h);

/* Over rows idx[0..n) of d (idx NULL: rows 0..n-1; n MUST be >= 1 and <= d->n), at parameters
 * w (n_params doubles; NULL: the model's float parameters): when v is not NULL, hv := H v;
 * grad (if not NULL) := the gradient; *loss (if not NULL) := the mean loss. Every output has
 * n_params doubles in the model's layout. Returns 0, or BP_ERUN when the loss or a product is
 * not finite (message says which). */
int bp_hvp_eval(bp_hvp *h, const double *w, const bp_dataset *d, const uint32_t *idx, size_t n,
                const double *v, double *hv, double *grad, double *loss, bp_err *e);

/* The model h was made for. */
const bp_model *bp_hvp_model(const bp_hvp *h);

/* Float in, float out, at the model's parameters, over all rows of d (double inside). */
int bp_hvp_eval_f(bp_hvp *h, const bp_dataset *d, const float *v, float *hv, bp_err *e);

#endif
