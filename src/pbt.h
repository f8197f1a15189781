/* pbt.h - population-based training (sweep.pbt; Jaderberg et al. 2017), synchronous.
 *
 *   sweep:
 *     pbt: {population: 8, interval: 5, metric: val_loss, exploit: {truncation: 0.25},
 *           explore: {perturb: [0.8, 1.2], resample: 0.25},
 *           params: {train.optimizer.lr: {log_uniform: [0.01, 1]},
 *                    train.optimizer.momentum: {uniform: [0, 0.95]}}}
 *
 * Member m is trial m (point m, seed = the experiment's seed for every member, like every point
 * of a sweep: members differ in their hyperparameters only). Its initial hyperparameters are
 * random-search sample m of params (sweep.h). Training runs in generations of `interval`
 * epochs (the last one ends at train.epochs); after every generation but the last, the live
 * members are ranked by the metric at that epoch (lower is better, NaN last, ties by member
 * index) and each of the worst ceil(truncation * n) (at most n / 2) copies the whole training
 * state of a member drawn uniformly from the best as many (exploit), then changes its
 * hyperparameters (explore): with probability `resample` a value is drawn afresh from its
 * distribution, else it is multiplied by perturb[0] or perturb[1] (even odds; int parameters
 * rounded), clamped to the distribution's range. Members that stopped (diverged, failed) are
 * out of the population. Every draw comes from bp_rng_stream(seed, member, BP_RNG_PBT,
 * 2 * generation (+ 1 for explore)), so decisions depend on metrics and seeds only: the same
 * for any -j.
 *
 * params are the optimizer's hyperparameters (`train.optimizer.NAME`), the only values a
 * trainer can change between two epochs with the same bits as a fresh config would give
 * (train.phases); distributions uniform, log_uniform or int (not choice). Because every member
 * trains with the same seed, the shuffle of epoch e is the same for every member, and the
 * state a member copies needs no stream of its own: the winner's history is replayable as one
 * plain config, its first generation's member's config plus train.phases (report_pbt.h).
 */
#ifndef BP_PBT_H
#define BP_PBT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

enum { BP_PBT_UNIFORM, BP_PBT_LOG_UNIFORM, BP_PBT_INT };

typedef struct bp_pbt_param {
    char *key;                 /* "train.optimizer.lr" (owned) */
    const char *name;          /* "lr": points into key */
    int dist;                  /* BP_PBT_* */
    double lo, hi;             /* the range (integers for BP_PBT_INT) */
    const bp_mark *key_mark;   /* borrowed from the config tree: valid while the sweep loads */
    const bp_node *spec;       /* borrowed likewise: the distribution map */
} bp_pbt_param;

/* sweep.pbt, resolved (population 0: none). */
typedef struct bp_pbt {
    unsigned population;       /* >= 2 */
    int interval;              /* epochs per generation, >= 1 */
    int val;                   /* 1: rank by val_loss (default), 0: by loss */
    double truncation;         /* (0, 0.5], default 0.2 */
    double perturb[2];         /* factors > 0; default 0.8 and 1.2 */
    double resample;           /* [0, 1], default 0 */
    size_t n_params;
    bp_pbt_param *params;      /* owned */
} bp_pbt;

/* Parse the map n (sweep.pbt; km the key's mark). Errors are BP_ECONFIG
 * "FILE:LINE:COL: sweep.pbt.KEY: problem (got X)". */
int bp_pbt_parse(const bp_node *n, const bp_mark *km, bp_pbt *out, bp_err *e);
/* The cross-checks against a member's resolved config c: interval < train.epochs; no
 * train.phases, early stopping or target (they would end members out of step); an lr param
 * needs the constant schedule; metric val_loss needs validation data. */
int bp_pbt_check(const bp_pbt *p, const bp_config *c, const bp_mark *km, bp_err *e);
void bp_pbt_clear(bp_pbt *p);
/* A text that changes with every setting (for the sweep hash). */
int bp_pbt_spec(const bp_pbt *p, char *buf, size_t size);

/* Exploit after generation gen (1-based): metric[i] of the n members, alive[i] 0 for those out.
 * parent[i] := the member i copies, or -1. Returns how many copy. */
size_t bp_pbt_exploit(const bp_pbt *p, uint64_t seed, unsigned gen, const double *metric,
                      const unsigned char *alive, size_t n, long *parent);
/* Explore for member m after generation gen: out[k] from in[k] (the parent's values), params
 * order. */
void bp_pbt_explore(const bp_pbt *p, uint64_t seed, unsigned gen, size_t m, const double *in,
                    double *out);

/* The run: per member, the hyperparameters in force and the member whose state it continued
 * at every epoch. opt_index[k] is params[k]'s index in the optimizer's table. */
typedef struct bp_pbt_run {
    const bp_pbt *p;
    size_t n;                  /* members */
    int epochs;
    uint32_t opt_index[32];    /* n_params <= 32 (BP_MAX_HPARAMS) */
    double *hp;                /* [n][epochs][n_params] */
    double *parent;            /* [n][epochs]: member index */
} bp_pbt_run;

/* opt_names: the optimizer's hyperparameter names (n_opt). BP_ECONFIG when a param names none. */
bp_pbt_run *bp_pbt_run_new(const bp_pbt *p, size_t n, int epochs, const char *const *opt_names,
                           size_t n_opt, bp_err *e);
void bp_pbt_run_free(bp_pbt_run *r);
/* Member m trains epochs first..last with the optimizer hyperparameters opt_hp (the
 * optimizer's table order), continuing member `from`'s state. */
void bp_pbt_run_note(bp_pbt_run *r, size_t m, int first, int last, const double *opt_hp,
                     size_t from);
/* The /pbt group of member m's trial file, epochs_done rows: datasets parent and one per param
 * (named by its key), attributes member, population, interval (docs/FORMAT.md). */
struct bp_trial_file;
int bp_pbt_run_write(const bp_pbt_run *r, size_t m, int epochs_done, struct bp_trial_file *tf,
                     bp_err *e);

/* A generation boundary's checkpoint of member m's job (after its exploit and explore, before
 * epoch + 1): its state (bp_trial_job_checkpoint), its records up to epoch `recorded` (the next
 * generation's last) and the /pbt attribute checkpoint_epoch, in its trial file. */
struct bp_trial_job;
int bp_pbt_checkpoint(const bp_pbt_run *r, size_t m, int epoch, int recorded,
                      struct bp_trial_job *j, bp_err *e);
/* Member m's checkpoint in the trial file `part` a killed or stopped run left: its records into
 * r (up to the generation after the checkpoint), *checkpoint its epoch C, *out the state to
 * continue from (bp_trial_opts.resume: rows 1..C, the state saved at C). 0 when it reads
 * whole; 1 when there is none or it does not read (the member runs from the start); a negative
 * code for memory. */
struct bp_resume;
int bp_pbt_resume_member(bp_pbt_run *r, size_t m, const char *part, int *checkpoint,
                         struct bp_resume **out, bp_err *e);

/* A resumed run's plan: todo[i] the members that did not finish, ended_at[i] the last epoch of
 * those that did. When every unfinished member's trials/NNNN.h5.part below run_dir holds the
 * same checkpoint C and no finished member ended after C, *from = C and resume[i] holds each
 * unfinished member's state (bp_pbt_resume_member); else *from = 0 (the run starts over; the
 * caller frees what resume holds). 0 or a negative code (memory). */
int bp_pbt_resume_plan(bp_pbt_run *r, const char *run_dir, const unsigned char *todo,
                       const int *ended_at, struct bp_resume **resume, int *from, bp_err *e);

/* The generations (synchronous): train is called with the live members of each generation and
 * the epoch it ends at; it begins a member whose job is NULL, trains every one to `until`, and
 * ends those that cannot go on (job NULL, alive 0; the last generation ends all), returning
 * non-zero to stop (a failure or a signal). Between generations: exploit, explore, the records
 * and every live member's checkpoint. from: a resumed run's checkpoint epoch (its jobs begun
 * from it), 0 from the start (opt_hp[i]: member i's configured hyperparameters, the records of
 * generation 1). */
typedef struct bp_pbt_driver {
    bp_pbt_run *run;
    uint64_t seed;
    int from;
    const double *const *opt_hp;
    struct bp_trial_job **job;   /* run->n */
    unsigned char *alive;        /* run->n */
    int (*train)(void *ud, const size_t *ids, size_t n, int until);
    void *ud;
} bp_pbt_driver;
int bp_pbt_drive(bp_pbt_driver *d, bp_err *e);

#endif
