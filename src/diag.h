/* diag.h - curvature of the training loss from Hessian-vector products: extreme eigenvalues by
 * Lanczos with full reorthogonalization, the trace by Hutchinson's estimator.
 *
 * Randomness: the Lanczos start vector is drawn (standard normal, normalized) from the stream
 * (seed, trial, BP_RNG_DIAG, 2 * at) and the Hutchinson probes (Rademacher +-1, one u64 draw per
 * entry, low bit) from (seed, trial, BP_RNG_DIAG, 2 * at + 1), where `at` is the epoch the
 * curvature is measured at; so results are a pure function of the trial and the epoch.
 */
#ifndef BP_DIAG_H
#define BP_DIAG_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "err.h"
#include "hvp.h"

/* y := A x for a symmetric operator of dimension n; 0 or a negative BP_E* code. */
typedef int (*bp_linop)(void *ud, const double *x, double *y, bp_err *e);

/* Lanczos: min(steps, n) steps from the start vector, with every new vector orthogonalized
 * twice against all previous ones; stops early when the Krylov space is invariant (beta <=
 * 1e-10 * max|T|). The Ritz values (eigenvalues of the tridiagonal T, by Sturm bisection to
 * full double precision) are written ascending into ritz (capacity steps; MAY be NULL) and
 * their number into *n_ritz (MAY be NULL); *lmin and *lmax get the extreme ones. steps >= 1. */
int bp_lanczos(bp_linop op, void *ud, size_t n, int steps, uint64_t seed, uint64_t trial,
               uint64_t at, double *lmin, double *lmax, double *ritz, int *n_ritz, bp_err *e);

/* Hutchinson: trace ~= (1/s) sum_k z_k^T A z_k over s = samples Rademacher probes; *se (MAY be
 * NULL) gets the standard error (sample sd / sqrt(s); 0 when s == 1). samples >= 1. */
int bp_hutchinson(bp_linop op, void *ud, size_t n, int samples, uint64_t seed, uint64_t trial,
                  uint64_t at, double *trace, double *se, bp_err *e);

/* The curvature summary of a trial at its parameters over the full training set. */
typedef struct bp_curvature {
    double lambda_max, lambda_min;  /* extreme Ritz values (NaN when not computed) */
    double trace, trace_se;         /* Hutchinson (NaN when samples == 0) */
    double grad_norm;               /* Euclidean norm of the full-batch gradient (double) */
    double loss;                    /* full-batch mean loss (double) */
} bp_curvature;

/* Fill c for the model h was made for, over all rows of d: lanczos_steps >= 1 and
 * trace_samples >= 0. Errors: those of bp_hvp_eval (BP_ERUN: not finite), BP_ENOMEM. */
int bp_curvature_measure(bp_hvp *h, const bp_dataset *d, int lanczos_steps, int trace_samples,
                         uint64_t seed, uint64_t trial, uint64_t at, bp_curvature *c, bp_err *e);
/* The same, also writing all Ritz values (ascending) into ritz (capacity lanczos_steps) and
 * their number into *n_ritz (0 when Lanczos did not run). */
int bp_curvature_measure_ritz(bp_hvp *h, const bp_dataset *d, int lanczos_steps,
                              int trace_samples, uint64_t seed, uint64_t trial, uint64_t at,
                              bp_curvature *c, double *ritz, int *n_ritz, bp_err *e);


/* ---- per-trial diagnostics (the config's `diagnostics` section; docs/DIAGNOSTICS.md) ---- */

#include "config.h"
#include "train.h"

/* Verdicts, in the order the rules try them (docs/DIAGNOSTICS.md). "stationary" is given only
 * when the Hessian is off (a stationary point that cannot be told apart). */
typedef enum bp_verdict {
    BP_VERDICT_DIVERGED, BP_VERDICT_MINIMUM, BP_VERDICT_SADDLE, BP_VERDICT_PLATEAU,
    BP_VERDICT_SATURATED, BP_VERDICT_NOT_CONVERGED, BP_VERDICT_STATIONARY, BP_VERDICT_DESCENDING,
    BP_VERDICT_COUNT
} bp_verdict;
extern const char *const bp_verdict_names[BP_VERDICT_COUNT];

typedef struct bp_diag_run bp_diag_run;

/* The diagnostics of one trial of m trained on train. NULL on error: BP_EPLUGIN when the
 * Hessian is on and an activation lacks its second derivative (bp_hvp_new's message, prefixed
 * "diagnostics.hessian: "); BP_ENOMEM. The initial weights are m's parameters now. */
bp_diag_run *bp_diag_run_new(const bp_config *c, const bp_model *m, const bp_dataset *train,
                             uint64_t seed, uint64_t trial, int nthreads, bp_err *e);
void bp_diag_run_free(bp_diag_run *d);

/* Take m's parameters now as the initial weights (distance) and the epoch's start (update_ratio):
 * for a trial continued from saved weights. */
void bp_diag_run_rebase(bp_diag_run *d, const bp_model *m);

/* The extra per-epoch column names (borrowed), in the order bp_diag_run_epoch fills them:
 * grad_norm, weight_norm, update_ratio, distance, sat_l<l> (layers with an activation plugin),
 * dead_l<l> (hidden layers), plateau, and with hessian.at every K: lambda_max, lambda_min,
 * trace -- each when switched on. */
size_t bp_diag_run_columns(const bp_diag_run *d, const char *const **names);

/* The batch hook's view (bp_batch_fn, phase GRADIENT): adds nb x the batch gradient. */
void bp_diag_run_batch(bp_diag_run *d, const bp_batch_info *b);

/* After epoch `epoch` with training loss `loss`: fill the extra columns (NaN where not
 * measurable), then start the next epoch's sums. BP_ENOMEM only; a non-finite Hessian leaves
 * NaN in the curvature columns. */
int bp_diag_run_epoch(bp_diag_run *d, const bp_model *m, int epoch, double loss, double *extra,
                      bp_err *e);

/* End of trial: curvature over the full training set (unless off or diverged) and the verdict. */
typedef struct bp_diag_result {
    bp_curvature curv;        /* NaN fields when not measured */
    double max_hidden_sat;    /* the last epoch's largest hidden-layer saturation (NaN: none) */
    int plateau_epochs;       /* epochs in a row flagged plateau at the end */
    bp_verdict verdict;
    /* the descent probe (diagnostics.verdict.probe_steps; NaN when not run): the relative fall
     * of the training loss over the probe's steps, the growth of the weights' norm over them,
     * and the relative fall when every weight grows by 1% */
    double probe_drop, probe_growth, probe_radial;
    const double *ritz;       /* the end-of-trial Ritz values, ascending (borrowed: valid until
                               * the next call or bp_diag_run_free); NULL when not measured */
    int n_ritz;
} bp_diag_result;
int bp_diag_run_finish(bp_diag_run *d, const bp_model *m, int diverged, int epoch,
                       bp_diag_result *r, bp_err *e);

/* The loss landscape along the path (diagnostics.path): with w0 the initial weights and w1 m's
 * parameters now, K = path.points values alpha_k = -x + k (1 + 2x) / (K - 1), x = path.extend,
 * and loss_k = the full-batch mean training loss at w0 + alpha_k (w1 - w0) (float forward
 * pass, as evaluation; sums in double). alpha and loss MUST hold path.points doubles each.
 * Returns K (0 when the path is off; then nothing is written) or BP_ENOMEM. A non-finite loss
 * is stored as it is. */
int bp_diag_run_path(bp_diag_run *d, const bp_model *m, double *alpha, double *loss, bp_err *e);

#endif
