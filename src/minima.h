/* minima.h - group the final solutions of restarts (trials differing only in the repeat) into
 * distinct minima by loss and by weight distance up to a permutation of the hidden units
 * (docs/DIAGNOSTICS.md, "Distinct minima").
 *
 * Distance: d(a, b) = min_P ||a - P b|| over the hidden-unit permutations P (P b: b with the
 * units of each hidden layer reordered, that is the rows of W_l and b_l and the columns of
 * W_{l+1} permuted together; a function-preserving change). P is found layer by layer from the
 * first hidden layer: the units of layer l of b are matched to those of a minimizing the sum
 * of squared differences of their incoming weights and bias (inputs already matched) plus
 * their outgoing weights (the next layer's columns, its rows in the order before its own
 * matching); exactly (all permutations, with pruning) for widths <= 8, greedily (cheapest
 * remaining pair first) above. With permute off P is the identity.
 *
 * Sign flips (flip given): a hidden layer whose activation satisfies f(-z) = c - f(z) (tanh,
 * softsign, identity: c = 0; sigmoid: c = 1) computes the same function after a unit's incoming
 * weights and bias and its outgoing weights change sign, the next layer's bias gaining c times
 * the unit's old outgoing weights. The matching then also tries each unit of b flipped (the
 * cheaper sign wins per pair), and applies the flips it chose. flip[l] is c for hidden layer l
 * (l = 0 .. n_sizes-3), NaN for none; flip NULL: no flips.
 *
 * Grouping: solutions are taken in ascending order of loss (ties by index); each joins the
 * first existing group whose representative r (its first, lowest-loss member) has
 * |loss - loss_r| <= loss_tol and d(r, s) <= dist_tol * max(||r||, ||s||); otherwise it opens
 * a new group. Groups are numbered in the order they open, so group 0 holds the lowest loss.
 */
#ifndef BP_MINIMA_H
#define BP_MINIMA_H

#include <stddef.h>

#include "err.h"

typedef struct bp_minima_opts {
    double loss_tol;   /* >= 0, absolute */
    double dist_tol;   /* >= 0, relative to the larger weight norm */
    int permute;       /* match hidden units */
    const double *flip;/* per hidden layer: c of f(-z) = c - f(z), NaN: none; NULL: no flips */
} bp_minima_opts;

/* c of f(-z) = c - f(z) for the activation plugin NAME (0 for tanh, softsign and identity, 1
 * for sigmoid), NaN for the others. */
double bp_minima_flip_constant(const char *name);

/* d(a, b) for parameters in the layout of bp_model with layer sizes sizes[0..n_sizes). The
 * matched (permuted, flipped) copy of b is written to pb (n_params floats; MAY be NULL).
 * Returns the distance, or a negative BP_E* code (BP_ENOMEM). */
double bp_minima_distance(const int *sizes, size_t n_sizes, const float *a, const float *b,
                          int permute, const double *flip, float *pb, bp_err *e);

/* Group n solutions w[i] (n_params floats each, same layout) with losses loss[i] (finite):
 * label[i] := the group of solution i. Returns the number of groups, or BP_ENOMEM. */
int bp_minima_group(const int *sizes, size_t n_sizes, const float *const *w,
                    const double *loss, size_t n, const bp_minima_opts *o, int *label, bp_err *e);

/* The distinct minima of a run folder's trials: ids[i] names trials/<id>.h5 and point[i] its
 * sweep point (trials with equal point are restarts of one point). Only trial files with the
 * /diagnostics attributes loss, minima_loss_tol and minima_dist_tol (finite) and a readable
 * model take part, grouped per point with that point's first such trial's tolerances, with
 * permutations when its minima_permute is 1 and sign flips (bp_minima_flip_constant of each
 * hidden layer's activation) when every trial of the point has minima_flip 1. minimum[i] :=
 * its minimum (0 = lowest loss of its point) or -1, loss[i] := the /diagnostics loss or NaN.
 * Returns the number of trials with a minimum, or BP_ENOMEM (unreadable files are skipped). */
int bp_minima_of_run(const char *dir, const unsigned *ids, const size_t *point, size_t n,
                     int *minimum, double *loss, bp_err *e);

#endif
