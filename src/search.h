/* search.h - sweep.search: a sequential model-based search (TPE) or a random search over a
 * search space with conditional parameters (space.h), run in batches (docs/SEARCH.md).
 *
 *   sweep:
 *     search: {method: tpe, trials: 60, batch: 4, startup: 10, metric: val_loss,
 *              params: {train.optimizer.lr: {log_uniform: [1e-4, 1]}, ...}}
 *
 * The search is `trials` trials, numbered 0 .. trials - 1, run in batches of `batch` (a
 * setting of the search, never -j): batch b is trials b*batch .. (b+1)*batch - 1. A trial of
 * batch 0 or with an id below `startup`, and every trial of method random, is a draw from
 * the prior; any other trial is TPE's suggestion (tpe.h) from the objective values of every
 * trial of the batches before its own. Its random stream is (seed, 1 + b, BP_RNG_SWEEP,
 * index in its batch). So every trial's point depends on the config and the earlier batches'
 * results only: the same under any -j, shards or a resumed run.
 *
 * The objective is the final value of `metric` (the names of sweep.race: loss, val_loss
 * (default), best_val_loss, accuracy, val_accuracy, test_loss, test_accuracy,
 * epochs_to_target; the accuracies are better when higher). A trial that failed, diverged,
 * or has no value counts as the worst.
 */
#ifndef BP_SEARCH_H
#define BP_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "space.h"
#include "trialread.h"

typedef enum bp_search_method { BP_SEARCH_RANDOM, BP_SEARCH_TPE } bp_search_method;

typedef struct bp_search {
    bp_search_method method;
    size_t trials, batch, startup;
    int metric;               /* a bp_rank_metric (points.h) */
    bp_space *space;
    uint64_t seed;            /* the experiment seed (bp_search_init) */
    double *x;                /* trials x space->n: each trial's point */
    unsigned char *decided;   /* 1: x of the trial is final (a prior draw or a suggestion) */
} bp_search;

/* Parse the sweep.search map (km: the mark of its key). NULL on error (BP_ECONFIG with
 * file:line:col). */
bp_search *bp_search_parse(const bp_node *n, const bp_mark *km, bp_err *e);
void bp_search_free(bp_search *s);
/* Decide every trial that needs no results (prior draws), and give the others a prior draw
 * as a stand-in (decided 0) so their configs can be validated. 0 or BP_ENOMEM. */
int bp_search_init(bp_search *s, uint64_t seed, bp_err *e);
/* The sweep.search settings as text, for the sweep's hash. */
int bp_search_spec(const bp_search *s, char *buf, size_t n);
/* The settings as the index's `search` attribute records them: "method=tpe metric=val_loss
 * trials=N batch=B startup=K". */
int bp_search_describe(const bp_search *s, char *buf, size_t n);
/* Trial id's batch. */
size_t bp_search_batch_of(const bp_search *s, size_t id);
/* A finished trial's objective (lower is better; higher-is-better metrics negated), +inf
 * when it failed, diverged or has no value. */
double bp_search_objective(const bp_search *s, const bp_trial_summary *t);
/* Decide trial id (of a batch after 0, id >= startup) from obj[0 .. first trial of its
 * batch - 1], the earlier trials' objectives. 0 or BP_ENOMEM. */
int bp_search_suggest(bp_search *s, size_t id, const double *obj, bp_err *e);

/* The batch driver: what it needs from whoever runs the trials (the scheduler today; a
 * shared "rounds" mechanism later). */
typedef struct bp_search_ops {
    void *ud;
    /* trial id was just decided: rebuild its config and make it runnable. 0 or an error. */
    int (*set_point)(void *ud, size_t id, bp_err *e);
    /* run the unfinished trials of [first, end) and return when all of them finished
     * (whoever ran them); non-zero: stop (interrupted, failed). */
    int (*run)(void *ud, size_t first, size_t end, size_t batch);
    /* a finished trial's summary */
    const bp_trial_summary *(*row)(void *ud, size_t id);
} bp_search_ops;

/* Run the search batch by batch: decide the batch's trials from the earlier ones, run it.
 * 0 when every batch ran or it stopped (ops->run non-zero), else an error. */
int bp_search_drive(bp_search *s, const bp_search_ops *ops, bp_err *e);

#endif
