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
} bp_trial_opts;

/* Train one trial into run r and fill its summary row (status strings are static).
 * Returns 0 when the trial file was written (whatever the trial's status), or an error. */
int bp_experiment_run_trial(const bp_experiment *x, bp_run *r, const bp_trial_opts *o,
                            bp_trial_summary *sum, bp_err *e);

/* A model from saved weights (bprun eval): activations loaded by name from the registry with the
 * saved hyperparameters. */
bp_model *bp_saved_model_build(const bp_saved_model *s, bp_registry *reg, bp_err *e);

#endif
