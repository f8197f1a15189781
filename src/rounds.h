/* rounds.h - sweeps decided in rounds: the next trials (or how far they train) depend on the
 * results of the last ones (sweep.race, sweep.halving; any strategy of that kind).
 *
 * A round is a set of trial ids, each to be trained up to epoch `until` of the round (0: to its
 * end, train.epochs). A round is a barrier: its decision is taken only once every trial of the
 * round has its row, whichever process ran it. Every process of a run -- the only one, every
 * shard (--shard I/N), every MPI rank -- runs the same loop, bp_rounds_drive:
 *
 *   for k = 0, 1, ...:
 *     plan(k)            -> the round: its ids and until; or the end of the rounds
 *     exec(round)        -> this process runs its share of the round (in one process all of
 *                           them; a shard the ids of its share; an MPI rank what rank 0 hands
 *                           it, rank 0 handing out only the ids of this round) and passes the
 *                           barrier: it returns once every trial of the round has its row in
 *                           rows (shards: from the trial files the others write; MPI: rank 0
 *                           collects the rows of the round and sends them to every rank)
 *     decide(k, rows)    -> the decision
 *
 * Contract for plan and decide (the strategy's side):
 *   - they MUST be pure functions of the rows passed to decide so far, of the sweep and of the
 *     trial files of trials the round did not run (a resumed run): never of timing, -j, which
 *     process ran a trial, or the process's rank or shard. Every process then plans the same
 *     rounds and takes the same decisions without talking to the others.
 *   - a round's ids MUST be distinct trial ids < n_trials; a trial whose row already reached
 *     the round (bp_round_reached: finished, or paused at or after `until`) is not run again,
 *     so a resumed run replays the decisions from the kept trials' rows.
 *   - decide MAY keep state for the next plan in ud; it MUST NOT write files (a strategy that
 *     changes a trial, e.g. ends it as pruned, does so by putting it in the next round: the
 *     process that runs that trial writes its file).
 *   - both return 0, or a negative bp_err code with e set; plan returns 1 when it filled a
 *     round to run and 0 when the rounds are over.
 *
 * Contract for exec (the scheduler's side): returns 0 when every trial of the round has its
 * row (the rows other processes ran included), 1 when the sweep stops (a signal, --fail-fast,
 * an error: no decision is taken, the rounds end), or a negative code with e set. Every
 * process MUST get the same answer under MPI (the ranks agree on stopping).
 *
 * Wiring a strategy: scheduler.c's round_exec is the executor for every mode (one process,
 * shards, MPI); run_race and run_halving show the call, bp_rounds_drive(&ops, &(bp_rounds_exec)
 * { c, round_exec, c->rows }, e). A round with until = 0 runs its trials to their end as any
 * sweep does; a strategy whose trials stop at an epoch and go on later does it as halving.h
 * does (the trial is paused in its file, bp_trial_pause, and continued from it), so that any
 * process can take it up in the next round.
 */
#ifndef BP_ROUNDS_H
#define BP_ROUNDS_H

#include <signal.h>
#include <stddef.h>

#include "err.h"
#include "trialread.h"

typedef struct bp_round {
    size_t *ids;   /* the round's trial ids (owned by the strategy) */
    size_t n;
    int until;     /* train each up to this epoch; 0: to train.epochs */
} bp_round;

typedef struct bp_rounds_ops {
    void *ud;
    int (*plan)(void *ud, size_t k, bp_round *r, bp_err *e);
    int (*decide)(void *ud, size_t k, const bp_round *r, const bp_trial_summary *rows, bp_err *e);
} bp_rounds_ops;

typedef struct bp_rounds_exec {
    void *ud;
    int (*exec)(void *ud, const bp_round *r, bp_err *e);
    const bp_trial_summary *rows;   /* every trial's row, filled by exec */
} bp_rounds_exec;

/* Plan, run and decide rounds until plan says they are over (0) or exec says stop (1).
 * Returns 0 (also after a stop), or the first error. */
int bp_rounds_drive(const bp_rounds_ops *ops, const bp_rounds_exec *x, bp_err *e);

/* Whether a trial's row shows it done for a round training to `until` (0: to its end): it
 * ended (completed, diverged, failed, pruned, skipped), or, for until > 0, it was paused
 * (status interrupted) at epoch until or later. */
int bp_round_reached(const bp_trial_summary *row, int until);

/* Shards: wait until every trial of round r has a file in run folder `dir` whose row reached
 * the round (rows[id] is updated from the file; rows already reached are not read again).
 * Checks every 50 ms, asleep in between; says once on stderr (unless quiet) that it waits,
 * naming `who` ("shard 2/3") and round k + 1. Returns 0 when all are there, 1 when *stop became
 * non-zero while waiting (stop MAY be NULL). `lock`, when not NULL, is held while a row is
 * written. */
int bp_rounds_wait_files(const char *dir, const bp_round *r, size_t k, bp_trial_summary *rows,
                         void *lock, volatile sig_atomic_t *stop, int quiet, const char *who);

#endif
