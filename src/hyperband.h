/* hyperband.h - the brackets of Hyperband (Li, Jamieson, DeSalvo, Rostamizadeh and Talwalkar,
 * "Hyperband: A Novel Bandit-Based Approach to Hyperparameter Optimization", JMLR 18(185),
 * 2018; Algorithm 1) over train.epochs as the resource (sweep.hyperband, docs/SEARCH.md).
 *
 * With R = max_epochs and eta: s_max = floor(log_eta R), B = (s_max + 1) R. Bracket s
 * (s = s_max down to 0) draws n = ceil(B / R * eta^s / (s + 1)) configurations (points of the
 * sweep) and runs successive halving on them: stage i = 0 .. s trains the n_i = floor(n
 * eta^-i) in play to r_i = R eta^(i - s) epochs (floored; an integer number of epochs) and,
 * for i < s, keeps the best floor(n_i / eta) (at least one) for the next stage. Stage s trains
 * the survivors to R. A pure function of R and eta: every process computes the same brackets.
 * The points go to the brackets in order: bracket s_max takes the first n of them, and so on.
 */
#ifndef BP_HYPERBAND_H
#define BP_HYPERBAND_H

#include <stddef.h>

/* eta^s <= R for s <= 30 when R fits an int */
#define BP_HYPERBAND_MAX_BRACKETS 32

typedef struct bp_hyperband_bracket {
    int s;                                   /* the bracket's s (s_max .. 0) */
    size_t n;                                /* configurations (points) it draws */
    size_t n_stages;                         /* s + 1 */
    int rungs[BP_HYPERBAND_MAX_BRACKETS];    /* r_i, i < n_stages; the last is R */
    size_t keep[BP_HYPERBAND_MAX_BRACKETS];  /* points kept after stage i < s */
} bp_hyperband_bracket;

/* The brackets for R >= 1 and eta >= 2 (out: BP_HYPERBAND_MAX_BRACKETS entries), s_max first;
 * returns how many (s_max + 1). */
size_t bp_hyperband_brackets(int R, int eta, bp_hyperband_bracket *out);
/* The points all brackets draw together (the sweep must have exactly this many). */
size_t bp_hyperband_points(int R, int eta);

#endif
