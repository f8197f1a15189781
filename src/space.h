/* space.h - the search space of sweep.search: distributions over key paths, some of them
 * conditional on a choice (docs/SEARCH.md).
 *
 *   params:
 *     train.batch_size: {int: [8, 64]}
 *     train.optimizer: {choice: [{name: sgd, lr: {log_uniform: [1e-3, 1]},
 *                                 momentum: {uniform: [0, 0.99]}},
 *                                {name: adam, lr: {log_uniform: [1e-5, 1e-2]}}]}
 *
 * Each key path gets one of uniform [low, high], log_uniform [low, high] (0 < low < high),
 * int [low, high] (whole numbers, both ends included) or choice [option, ...]. An option of a
 * choice that is a map may hold, as the values of its own keys, distributions again (a map
 * with the single key uniform, log_uniform, int or choice): those are conditional parameters,
 * drawn only when their option is chosen, and put into the option's map in their place. They
 * may nest (a conditional choice with conditional parameters of its own).
 *
 * A point of the space is a vector x of bp_space.n numbers, one per parameter in the order
 * parsed (a parent choice before its conditional parameters): the value (log_uniform: the
 * value itself, not its log), the whole number (int), the option's index (choice), or NaN for
 * a parameter whose option was not chosen.
 */
#ifndef BP_SPACE_H
#define BP_SPACE_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "rng.h"

typedef enum bp_dist {
    BP_DIST_UNIFORM,
    BP_DIST_LOG_UNIFORM,
    BP_DIST_INT,
    BP_DIST_CHOICE,
    BP_DIST_COUNT
} bp_dist;
extern const char *const bp_dist_names[BP_DIST_COUNT];

typedef struct bp_sparam {
    char *name;          /* the key path; a conditional one: PARENT[OPTION].KEY (owned) */
    bp_dist dist;
    double lo, hi;       /* uniform, log_uniform, int: the range */
    const bp_node *choice; /* choice: the sequence of options (borrowed from bp_space.tree) */
    long parent;         /* the choice it is conditional on (an index), -1: none */
    size_t option;       /* ... and the option of that choice it belongs to */
    size_t key;          /* ... and which key of that option's map it fills */
    bp_mark mark;        /* the distribution's mark: drawn values carry it (borrowed) */
    bp_mark key_mark;    /* the key's mark (borrowed) */
} bp_sparam;

typedef struct bp_space {
    size_t n;            /* parameters, conditional ones included */
    bp_sparam *p;
    size_t n_top;        /* those with parent -1: the swept key paths */
    bp_node *tree;       /* a copy of the params map (owned) */
} bp_space;

/* Parse the params map (disp: its path in messages, e.g. "sweep.search.params"). Messages
 * name file:line:col and the key path. NULL on error. */
bp_space *bp_space_parse(const bp_node *params, const char *disp, bp_err *e);
void bp_space_free(bp_space *s);

/* Whether parameter i is drawn at the point x (its parents' options chosen). */
int bp_space_active(const bp_space *s, const double *x, size_t i);
/* A draw of every active parameter from its prior (uniform; log-uniform; uniform integer;
 * uniform option), in parameter order from r. */
void bp_space_sample_prior(const bp_space *s, bp_rng *r, double *x);
/* The config value of top-level parameter i at the point x: a number, or the chosen option
 * with its conditional parameters filled in. Owned by the caller. NULL: no memory. */
bp_node *bp_space_value(const bp_space *s, const double *x, size_t i, bp_err *e);

#endif
