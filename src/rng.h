/* rng.h - counter-based random streams keyed by (seed, trial, purpose, epoch).
 *
 * A stream is a pure function of its key and a counter (SplitMix64 over a keyed counter), so
 * any draw can be reproduced without replaying earlier ones, and results never depend on
 * which thread or process draws them.
 */
#ifndef BP_RNG_H
#define BP_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef enum bp_rng_purpose {
    BP_RNG_INIT = 1,      /* initial weights */
    BP_RNG_SHUFFLE = 2,   /* per-epoch sample order */
    BP_RNG_SPLIT = 3,     /* validation split */
    BP_RNG_SWEEP = 4,     /* random-search samples */
    BP_RNG_DIAG = 5,      /* Hutchinson / Lanczos start vectors */
    BP_RNG_TRIAL_SEED = 6, /* per-repeat derived seeds */
    BP_RNG_PBT = 7        /* population-based training: exploit and explore (pbt.h) */
} bp_rng_purpose;

typedef struct bp_rng {
    uint64_t key;
    uint64_t ctr;
} bp_rng;

/* A stream for (seed, trial, purpose, epoch). */
bp_rng bp_rng_stream(uint64_t seed, uint64_t trial, bp_rng_purpose purpose, uint64_t epoch);
uint64_t bp_rng_u64(bp_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double bp_rng_uniform(bp_rng *r);
/* Standard normal (Box-Muller, both values used in turn is NOT done: one value per call, so the
 * n-th draw is a function of the counter alone). */
double bp_rng_normal(bp_rng *r);
/* Uniform integer in [0, n), unbiased (rejection). n > 0. */
uint64_t bp_rng_below(bp_rng *r, uint64_t n);
/* idx := a uniformly random permutation of 0..n-1 (Fisher-Yates). */
void bp_rng_permutation(bp_rng *r, uint32_t *idx, size_t n);
/* The 64-bit mix function (SplitMix64 finalizer), exposed for deriving seeds and hashes. */
uint64_t bp_rng_mix(uint64_t x);

#endif
