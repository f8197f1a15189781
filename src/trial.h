/* trial.h - from a validated config to finished trials: load and check the data once, bind the
 * plugins, build each trial's model, train it, and write its trial file.
 *
 * An experiment is prepared once per process (datasets are loaded, split and standardized
 * once and then shared read-only by every trial); each trial then gets its own model, work
 * buffers and optimizer state.
 */
#ifndef BP_TRIAL_H
#define BP_TRIAL_H

#include <signal.h>
#include <stdint.h>

#include "config.h"
#include "data.h"
#include "err.h"
#include "model.h"
#include "plugin.h"
#include "runlog.h"
#include "trialread.h"
#include "train.h"

struct bp_resume;

typedef struct bp_experiment {
    bp_config *cfg;            /* borrowed; plugin hyperparameters are filled in by prepare */
    bp_registry *reg;          /* borrowed */
    bp_dataset *train, *val, *test;   /* owned */
    double *mean, *std;        /* standardization (NULL when off), d values each */
    const bp_loaded *opt;      /* the optimizer plugin */
    double opt_hp[BP_MAX_HPARAMS];
    const bp_loaded **hidden;  /* activation plugin per hidden layer */
    const bp_loaded *output;   /* output activation plugin, NULL for softmax */
    double (*act_hp)[BP_MAX_HPARAMS]; /* bound hyperparameters per layer (hidden..., output) */
    int owns_data;             /* 0 when the datasets are borrowed from another experiment */
    char *data_key;            /* what the datasets depend on (refs, split, seed, standardize) */
    double (*phase_hp)[BP_MAX_HPARAMS]; /* train.phases: the optimizer's bound hyperparameters
                                         * of each phase (NULL when none) */
} bp_experiment;

/* Load the data, check shapes against model.layers, bind every plugin (checking
 * hyperparameters; filling defaults into cfg so dumps show them). Config, data and plugin
 * errors come back with their codes; a non-constant train.schedule with an optimizer that has
 * no "lr" hyperparameter is a config error at train.schedule. */
int bp_experiment_prepare(bp_config *cfg, bp_registry *reg, bp_experiment **out, bp_err *e);
/* The same for one trial of a sweep: the validation split is drawn with split_seed (the
 * experiment's seed, the same for every repeat), and when `share` (may be NULL) loaded the
 * same datasets the same way, they are borrowed from it instead of loaded again (share must
 * outlive the new experiment). */
int bp_experiment_prepare_shared(bp_config *cfg, bp_registry *reg, const bp_experiment *share,
                                 uint64_t split_seed, bp_experiment **out, bp_err *e);
void bp_experiment_free(bp_experiment *x);
/* What an experiment's datasets depend on, as a string (malloc'd): equal keys, equal data. */
char *bp_experiment_data_key(const bp_config *c, uint64_t split_seed, bp_err *e);

/* A fresh model: activations bound, parameters initialized from the config's scheme with the
 * random stream (cfg->seed, stream, BP_RNG_INIT), or loaded from init.from. Trials pass stream
 * 0: their seeds already differ per repeat, and equal seeds give equal initial weights, so the
 * points of a sweep are compared from the same start. */
bp_model *bp_experiment_model(const bp_experiment *x, uint64_t stream, bp_err *e);

typedef struct bp_trial_opts {
    unsigned trial;
    int threads;
    int quiet;                     /* no per-epoch lines on stderr */
    volatile sig_atomic_t *stop;   /* set by SIGINT/SIGTERM handlers */
    const struct bp_resume *resume; /* MAY be NULL; else continue that trial (resume.h): its
                                     * rows are copied first, and trial SHOULD be its id */
    int replace;                   /* the trial's own file may exist (an interrupted trial of
                                    * a resumed sweep) and is replaced when this one finishes */
    /* called after every epoch (may be NULL; called from the trial's thread) */
    void (*progress)(void *ud, unsigned trial, int epoch, int epochs, double loss);
    void *progress_ud;
    /* group commit (bp_trial_meta.group_commit): the finished file is left as its .part for
     * bp_trials_commit */
    int group_commit;
} bp_trial_opts;

/* Train one trial into run r and fill its summary row (status strings are static). With
 * train.early_stopping the trial file gets root attributes best_epoch and stopped_early, with
 * train.target_loss epochs_to_target (-1: not reached); sum->epochs_to_target likewise (0 when
 * no target is set). Continuing (o->resume) a trial saved with restore_best whose best epoch is
 * not its last is refused (BP_EUSAGE).
 * Returns 0 when the trial file was written (whatever the trial's status), or an error. */
int bp_experiment_run_trial(const bp_experiment *x, bp_run *r, const bp_trial_opts *o,
                            bp_trial_summary *sum, bp_err *e);

/* The same in stages (successive halving): begin creates the model, the trainer and the trial
 * file (as the start of bp_experiment_run_trial, continuing o->resume when set); advance
 * trains up to epoch `until` (at most train.epochs; a later call continues, with the same bits
 * as one call) and sets *alive when the trial can go on: it reached `until` < train.epochs
 * without stopping for any reason (early stopping, target loss, divergence, failure,
 * interruption); end writes the trial file (model, extras, early-stopping and target
 * attributes, outcome) and fills sum. With `pruned` non-NULL the trial is recorded as
 * `pruned` with that message (its parameters are those of its last epoch). end frees the job
 * (also on error); bp_trial_job_free abandons one (its .part file stays). A job MUST be used by
 * one thread at a time; jobs of different trials MAY run at once. */
typedef struct bp_trial_job bp_trial_job;
int bp_trial_begin(const bp_experiment *x, bp_run *r, const bp_trial_opts *o, bp_trial_job **out,
                   bp_err *e);
int bp_trial_advance(bp_trial_job *j, int until, int *alive, bp_err *e);
/* The last epoch's row (BP_COL_COUNT values; NaN before the first epoch). */
const double *bp_trial_job_last(const bp_trial_job *j);
int bp_trial_end(bp_trial_job *j, const char *pruned, bp_trial_summary *sum, bp_err *e);
void bp_trial_job_free(bp_trial_job *j);
/* Rounds (rounds.h): end the job as bp_trial_end does, with status `interrupted` and message
 * (non-NULL), so that the trial is continued from its file (bp_resume_load) with the same
 * bits as if it had trained on. */
int bp_trial_pause(bp_trial_job *j, const char *message, bp_trial_summary *sum, bp_err *e);

/* Population-based training (pbt.h) between two advances of synchronous jobs. copy makes dst's
 * trainer continue from src's state exactly: parameters, optimizer state and step, schedule
 * state, hyperparameters, the divergence rule's first loss (both MUST have the same
 * experiment shape and epochs_done; their trial files keep their own rows). set_hp is
 * bp_trainer_set_hp on the job's trainer; hp reads the hyperparameters in force (the optimizer
 * plugin's table order); file is the job's trial file, for groups written before end. */
int bp_trial_job_copy(bp_trial_job *dst, const bp_trial_job *src, bp_err *e);
void bp_trial_job_set_hp(bp_trial_job *j, uint32_t i, double v);
const double *bp_trial_job_hp(const bp_trial_job *j);
int bp_trial_job_epochs_done(const bp_trial_job *j);
struct bp_trial_file *bp_trial_job_file(bp_trial_job *j);
/* Save the job's state as bp_trial_end saves it (model, optimizer and schedule state, in its
 * trial file, replacing the last one; the file flushed when on disk): `bprun run`'s resume
 * continues from it (sweep.pbt's generation boundaries). */
int bp_trial_job_checkpoint(bp_trial_job *j, bp_err *e);

/* A model from saved weights (bprun eval): activations loaded by name from the registry with the
 * saved hyperparameters. */
bp_model *bp_saved_model_build(const bp_saved_model *s, bp_registry *reg, bp_err *e);

#endif
