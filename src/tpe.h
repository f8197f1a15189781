/* tpe.h - the Tree-structured Parzen Estimator (Bergstra, Bardenet, Bengio and Kegl 2011,
 * "Algorithms for Hyper-Parameter Optimization"), univariate, with the defaults of Optuna's
 * TPESampler (docs/SEARCH.md gives the rules). Pure functions of their arguments: the same
 * observations and the same random stream give the same suggestion, bit for bit.
 *
 * Observations of one parameter come split in two: `below` (the trials whose objective is
 * among the best bp_tpe_gamma(n) of the n observed) and `above` (the others), each in trial
 * order. A numeric parameter lives on [lo, hi] as the estimator sees it: log(low), log(high)
 * for log_uniform; low - 0.5, high + 0.5 with integer = 1 for int. Each set becomes a mixture
 * of one truncated normal per observation plus the prior (centre (lo + hi) / 2, sigma hi - lo,
 * weight 1): a component's sigma is the larger gap to its sorted neighbours (the two ends use
 * their inner gap), clipped to [(hi - lo) / min(100, 1 + n), hi - lo]; weights 1 each, or for
 * n >= 25 a ramp from 1/n to 1 over the oldest n - 25 and 1 for the newest 25. A categorical
 * The score of a continuous x under a mixture is, as in Optuna 3.1, the weighted sum of each
 * component's truncated normal density in its own standardized units (without the 1/sigma of
 * a true density); an integer's is the mass of [x - 0.5, x + 0.5]. A categorical
 * parameter of k options, from n observations: component i puts (1 + a) / (1 + k a) on its
 * option and a / (1 + k a) on each other, a = 1 / (n + 1); the prior is uniform. The suggestion is the best of n_cand draws from l (below's
 * mixture) by log l(x) - log g(x).
 */
#ifndef BP_TPE_H
#define BP_TPE_H

#include <stddef.h>

#include "rng.h"

/* Optuna's default number of candidates drawn from l per suggestion. */
#define BP_TPE_CANDIDATES 24

/* How many of n observations are "below": min(ceil(0.1 n), 25). */
size_t bp_tpe_gamma(size_t n);

/* The weight of each of n observations in trial order (w: n entries, unnormalized). */
void bp_tpe_weights(size_t n, double *w);

/* Mark the best bp_tpe_gamma(n) of n objective values (lower is better; NaN counts as +inf;
 * ties: the lower index first): below[i] = 1 for them, 0 for the others. */
void bp_tpe_split(const double *loss, size_t n, unsigned char *below);

/* A fitted mixture over a numeric range (see above). */
typedef struct bp_parzen {
    size_t n;            /* components: the observations, then the prior */
    double *mu, *sigma, *w; /* w normalized to sum 1 */
    double lo, hi;
    int integer;         /* 1: densities are masses of [x - 0.5, x + 0.5] */
} bp_parzen;

/* Fit p to the n observations x (trial order). 0, or -1 out of memory. */
int bp_parzen_fit(bp_parzen *p, const double *x, size_t n, double lo, double hi, int integer);
void bp_parzen_clear(bp_parzen *p);
/* log score (see above; log mass for integers) of x under p. */
double bp_parzen_logpdf(const bp_parzen *p, double x);
/* A draw from p (integer: rounded to a whole number, within [lo + 0.5, hi - 0.5]). */
double bp_parzen_sample(const bp_parzen *p, bp_rng *r);

/* The mixture probabilities (prob: k entries) of a categorical parameter from n observed
 * options (trial order). */
void bp_tpe_categorical(const size_t *obs, size_t n, size_t k, double *prob);

/* One suggestion for a numeric parameter; NaN when out of memory. */
double bp_tpe_suggest_num(const double *below, size_t nb, const double *above, size_t na,
                          double lo, double hi, int integer, size_t n_cand, bp_rng *r);
/* One suggestion for a categorical parameter of k options; k when out of memory. */
size_t bp_tpe_suggest_cat(const size_t *below, size_t nb, const size_t *above, size_t na,
                          size_t k, size_t n_cand, bp_rng *r);

#endif
