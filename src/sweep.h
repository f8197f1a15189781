/* sweep.h - expand a config's `sweep` section (and --sweep axes) into numbered trials.
 *
 * A config file may hold a top-level `sweep` map (docs/CONFIG.md; the blocks below are examples
 * of each, not one valid section: a key path may be swept in one block only):
 *   sweep:
 *     grid:     {train.optimizer.lr: [0.001, 0.01, 0.1], train.optimizer.name: [sgd, adam]}
 *     zip:      {train.optimizer.lr: [0.1, 0.01], train.optimizer.momentum: [0.0, 0.9]}
 *     variants: [{model.layers: [2, 2, 1]}, {model.layers: [2, 3, 1], train.epochs: 200}]
 *     random:   {trials: 20, params: {train.optimizer.lr: {log_uniform: [1e-4, 1]},
 *                                     train.batch_size: {int: [8, 64]},
 *                                     model.activation: {choice: [relu, tanh]},
 *                                     train.optimizer.momentum: {uniform: [0, 0.99]}}}
 *     repeats:  20
 *     halving:  {rungs: [3, 9, 27], eta: 3, metric: val_loss}
 *     race:     {metric: val_loss, min_repeats: 5, max_repeats: 50, alpha: 0.05, step: 1}
 *     hyperband: {max_epochs: 27, eta: 3, metric: val_loss}
 * Points are the cartesian product of the blocks present (grid axes x zip rows x variants x
 * random samples, always in this block order; grid axes in the order written), enumerated with
 * the FIRST axis varying slowest (like nested loops); each point runs `repeats` times (default
 * 1, at most 100000). Trial id = point * repeats + repeat. Repeat r of every point uses seed (experiment seed + r), so points are compared on
 * the same initial weights and sample orders (paired comparison); random-search samples are
 * drawn from the stream (seed, 0, BP_RNG_SWEEP, sample index). The same config always yields
 * the same trials, ids and seeds.
 *
 * --sweep KEY=V1,V2,... on the command line adds a grid axis (at the end of the grid), or
 * replaces the values of the grid axis with the same key (values are YAML; commas inside [], {}
 * or quotes do not split; marks "--sweep", line 1, column in the whole list). A key swept in
 * zip/variants/random, a malformed --sweep ("--sweep X: expected key.path=value1,value2,...")
 * are BP_EUSAGE. A key path may be swept in one block only; seed, experiment and output cannot
 * be swept. --set applies to the whole file, the sweep section included (sweep.repeats=5).
 *
 * Every trial's config is the file's tree with the `sweep` section removed, the --set
 * overrides applied, then the point's values applied (bp_node_set_path), then validated by
 * bp_config_from_node: an invalid swept value is reported at the mark of the value in the
 * sweep section (or "--sweep"), an unknown swept key at the key's mark, and the message ends
 * with " (in trial ID: key=value, ...)". Each trial's cfg has path, text (the file's text) and
 * overrides (the --set assignments) filled as bp_config_load fills them, and seed = its seed
 * (for repeat r > 0 also written into cfg->root as `seed`). Errors are BP_ECONFIG unless said.
 *
 * `halving` (successive halving, synchronous): rungs are increasing epochs (integers >= 1);
 * every trial MUST have the same train.epochs E, every rung MUST be <= E, and a last rung equal
 * to E is the end, not a decision. eta (number > 1, default 3) or keep (number in (0, 1), =
 * 1/eta; not both); metric val_loss (default; needs validation data in every trial) or loss.
 * It changes the sweep hash (a run with halving is another run).
 *
 * `search` (search.h, docs/SEARCH.md): {method: tpe|random, trials, batch, startup, metric,
 * params}: the only block when present (with grid, zip, variants, random, repeats, race,
 * halving or --sweep: BP_ECONFIG at sweep.search). Parameters may be conditional (space.h).
 *
 * `race` (F-Race, docs/CONFIG.md): the points race over repeats; min_repeats (integer >= 2,
 * default 5), max_repeats (integer >= min_repeats, default 50: the sweep expands to every point
 * x max_repeats trials, of which the race runs those it needs), step (repeats added per round,
 * default 1), alpha (in (0, 1), default 0.05), metric (loss, val_loss, best_val_loss, accuracy,
 * val_accuracy, test_loss, test_accuracy or epochs_to_target; default val_loss, which needs
 * validation data in every trial). It needs at least 2 points, excludes sweep.repeats and
 * sweep.halving, and changes the sweep hash.
 *
 * `hyperband` (docs/SEARCH.md, hyperband.h): max_epochs (integer >= eta, required; equal to
 * train.epochs in every trial), eta (integer >= 2, default 3), metric (val_loss or loss, default
 * val_loss: validation data needed). The sweep must have exactly the points its brackets draw
 * (bp_hyperband_points). It excludes sweep.halving and sweep.race, and changes the sweep hash.
 */
#ifndef BP_SWEEP_H
#define BP_SWEEP_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "err.h"
#include "pbt.h"

/* Most trials one sweep may expand to (checked before expanding; BP_ECONFIG). */
#define BP_SWEEP_MAX_TRIALS 100000u

typedef struct bp_trial_spec {
    unsigned id;
    unsigned point, repeat;
    uint64_t seed;            /* experiment seed + repeat; also stored in cfg->seed */
    char **values;            /* the swept values of this trial, one per axis (YAML flow text,
                               * e.g. 0.01, [2, 3, 1], {name: adam}); a variant that does not
                               * set an axis shows the trial's value there ("null" if none) */
    bp_config *cfg;           /* the trial's resolved config (owned) */
    char hash[17];            /* 16 hex digits: hash of this trial's id, point, repeat, seed and
                               * canonical dump (appended: lets a resume compare one trial) */
} bp_trial_spec;

/* sweep.halving, resolved (n_rungs 0: none). */
typedef struct bp_halving {
    size_t n_rungs;           /* decision rungs, each < train.epochs */
    int *rungs;               /* increasing epochs (owned) */
    double eta;               /* after rung k the best ceil(n/eta) of the n trials still
                               * running at that epoch continue */
    int val;                  /* 1: rank by val_loss, 0: by loss (at the rung's epoch) */
} bp_halving;

/* sweep.race, resolved (active 0: none). metric is a bp_rank_metric (points.h). */
typedef struct bp_race {
    int active;
    int metric;
    unsigned min_repeats, max_repeats, step;
    double alpha;
} bp_race;

/* sweep.hyperband, resolved (active 0: none): brackets of successive halving over
 * train.epochs (hyperband.h). */
typedef struct bp_hyperband {
    int active;
    int max_epochs;           /* R: train.epochs of every trial */
    int eta;                  /* integer >= 2 */
    int val;                  /* 1: rank by val_loss, 0: by loss */
} bp_hyperband;

typedef struct bp_sweep {
    size_t n_axes;
    char **axes;              /* swept key paths, in table order */
    size_t n_points;
    unsigned repeats;
    size_t n_trials;
    bp_trial_spec *trials;    /* n_trials, by id */
    char hash[17];            /* 16 hex digits: FNV-1a 64 over the trials' hashes in id order
                               * (a changed config, override or sweep changes it) */
    bp_halving halving;       /* appended: sweep.halving */
    bp_race race;             /* appended: sweep.race (repeats = race.max_repeats) */
    bp_hyperband hyperband;   /* appended: sweep.hyperband */
    bp_pbt pbt;               /* appended: sweep.pbt (population 0: none; pbt.h). Its params
                               * are random-search axes: member m is sample m */
    /* appended: sweep.search (search.h; NULL: none). Its trials are its points (repeats 1);
     * a trial TPE decides later shows "(tpe)" in values and has a stand-in config (a prior
     * draw, validated) until bp_sweep_set_point gives it its point. */
    struct bp_search *search;
    struct bp_sweep_keep *keep; /* what bp_sweep_set_point rebuilds trials from (private) */
} bp_sweep;

/* Read a config file, apply --set overrides and --sweep axes, expand, validate every trial.
 * A config without a sweep section gives one trial (id 0, seed = experiment seed). NULL on
 * error (e may be NULL). */
bp_sweep *bp_sweep_load(const char *path, char *const *sets, size_t n_sets, char *const *sweeps,
                        size_t n_sweeps, bp_err *e);
/* The same for a config's text already in memory (len bytes, need not end in a NUL): path
 * names it in messages and trials' cfg->path as the file would. (Added for the fuzz targets,
 * which parse from memory.) */
bp_sweep *bp_sweep_load_text(const char *path, const char *text, size_t len, char *const *sets,
                             size_t n_sets, char *const *sweeps, size_t n_sweeps, bp_err *e);
void bp_sweep_free(bp_sweep *s);

/* sweep.search: rebuild trial id (its values, cfg and hash) from its point in s->search
 * (bp_search_suggest decided it). Invalidates the trial's old values and cfg. 0, or an
 * error: the point's config is invalid (message as the sweep's own), BP_ENOMEM. */
int bp_sweep_set_point(bp_sweep *s, size_t id, bp_err *e);

/* The trial table: id, point, repeat, seed, then one column per axis. */
void bp_sweep_print(FILE *f, const bp_sweep *s);

#endif
