/* halving.h - successive halving (sweep.halving, sweep.h) and Hyperband (sweep.hyperband:
 * brackets of successive halving, hyperband.h, one after another) as rounds (rounds.h), the
 * same in one process, in shards and under MPI.
 *
 * Round k < n_rungs trains the trials in play up to rung k; a trial that reaches it without
 * stopping is paused there: its file is written with status `interrupted` (weights, optimizer
 * and schedule state, epochs done) and the next round continues it from that file
 * (resume.h), so it gives the same bits as without halving. The decision at rung k ranks the
 * points (all repeats of one setting) whose repeats reached the rung without stopping by the
 * mean of the metric at that epoch over those repeats (NaN last, ties by the lower point); the
 * best ceil(n / eta) of the n points go on (Hyperband: the bracket's floor(n_i / eta)) with
 * all their repeats. The others' repeats are
 * put in round k + 1 to be ended as `pruned` (the process that runs the trial writes its
 * file). Round n_rungs trains the survivors to train.epochs. A trial that stops on its own
 * (early stopping, target, divergence) ends with its own status and takes no place.
 *
 * The decisions read the rows of the round, and, for a trial whose row has gone past the rung
 * (a resumed run kept it), the metric at the rung from its trial file: so a resumed run, any
 * -j, any shard and any MPI rank take the same decisions.
 */
#ifndef BP_HALVING_H
#define BP_HALVING_H

#include "err.h"
#include "rounds.h"
#include "sweep.h"

typedef struct bp_halving_rounds bp_halving_rounds;

/* What the process that runs trial id in the current round does with it. */
typedef enum bp_halving_act {
    BP_HALVING_NONE,    /* not in the round */
    BP_HALVING_TRAIN,   /* train to the round's until; pause there (bp_trial_pause) when alive */
    BP_HALVING_PRUNE    /* end it as pruned where it stands (bp_trial_end with the message) */
} bp_halving_act;

/* For sweep s (s->halving.n_rungs > 0) in run folder dir (both borrowed, outliving it). */
bp_halving_rounds *bp_halving_rounds_new(const bp_sweep *s, const char *dir, bp_err *e);
void bp_halving_rounds_free(bp_halving_rounds *h);
/* The plan and decide callbacks (rounds.h) of h. */
bp_rounds_ops bp_halving_rounds_ops(bp_halving_rounds *h);
/* Trial id in the current round: its action, and *message: the pause message (TRAIN) or the
 * pruned message (PRUNE), borrowed until the next plan. */
bp_halving_act bp_halving_action(const bp_halving_rounds *h, size_t id, const char **message);

#endif
