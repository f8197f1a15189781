/* trialread.h - reading bprun's trial files back: a trial's summary (for the index), its saved
 * model and optimizer, its record of epochs (to continue it). Format: docs/FORMAT.md.
 *
 * Errors: every HDF5 or file system failure is BP_EIO with one line naming the file and the
 * object. HDF5's own error printing is switched off (per thread) on entry to every function. */
#ifndef BP_TRIALREAD_H
#define BP_TRIALREAD_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* One row of the index's /summary table. */
typedef struct bp_trial_summary {
    unsigned trial;
    uint64_t seed;
    const char *status;
    int epochs;
    double final_loss, final_val_loss, final_accuracy, final_val_accuracy;
    double best_val_loss;
    double wall_seconds;
    double final_test_loss, final_test_accuracy;   /* NaN without test data */
    char message[BP_ERR_MSG_MAX]; /* why the trial stopped early (diverged, failed, ...), or "" */
    /* Added with train.target_loss: the first epoch whose training loss reached the target;
     * -1 when a target was set and not reached; 0 when no target was set. */
    int epochs_to_target;
    /* Added with diagnostics: the trial's verdict (docs/DIAGNOSTICS.md), "" without one; the
     * index's /summary column `verdict`. */
    char verdict[16];
    /* Added with the cost records (docs/FORMAT.md): training samples per second of wall
     * time, the process's peak resident set and the trial's own working memory, in bytes;
     * 0 when not measured (a trial that did not run, a file from an older bprun). */
    double samples_per_second, peak_rss_bytes, work_bytes;
} bp_trial_summary;

/* Read the summary of a finished trial file (status, message, epochs, the last epoch's loss,
 * accuracy, val_loss, val_accuracy, the best val_loss, wall_seconds, test metrics,
 * epochs_to_target: 0 when the file has no such attribute). */
int bp_trial_read_summary(const char *path, bp_trial_summary *s, bp_err *e);

/* A model read back from a trial file, a run folder (its trial 0000, or the one given as
 * RUN#ID), or an index file (likewise INDEX#ID, through its link). The file's format_version
 * MUST be BP_FORMAT_VERSION; params are checked against sizes. Everything owned by the
 * struct; free with bp_saved_model_free (accepts NULL). */
typedef struct bp_saved_model {
    size_t n_sizes;
    int *sizes;
    char **act_names;        /* n_sizes - 1: hidden layers', then the output's ("softmax") */
    double **act_hp;         /* hyperparameter values per layer ... */
    char ***act_hp_names;    /* ... and their names */
    size_t *act_n_hp;
    char *loss;              /* bp_loss_names */
    size_t n_params;
    float *params;
    /* The optimizer saved with the model (bp_opt_record); opt_name is NULL when none was. */
    char *opt_name;
    uint64_t opt_step;
    size_t opt_n_hp;
    char **opt_hp_names;
    double *opt_hp;
    size_t opt_n_state;      /* floats per parameter; opt_state is opt_n_state x n_params */
    float *opt_state;
    /* Feature standardization the model was trained with (sizes[0] values each), or NULL. */
    double *mean, *std;
    /* The learning-rate schedule saved with the model (bp_opt_record.schedule); sched_name is
     * NULL when none was. */
    char *sched_name;
    size_t n_sched;
    char **sched_names;
    double *sched_state;
} bp_saved_model;
bp_saved_model *bp_saved_model_read(const char *path, bp_err *e);
void bp_saved_model_free(bp_saved_model *s);

/* A trial's record read back, to continue it (bprun run --continue): path names a trial as for
 * bp_saved_model_read. The per-epoch values of the given columns are read into rows (n_rows x
 * n_columns, row-major, in the order of columns); every column MUST exist as a 1-D float
 * dataset under /epochs and all MUST have the same length (BP_EIO naming the file and the
 * dataset otherwise). epochs_done is -1 when the trial file has no epochs_done attribute (it
 * never finished). Free with bp_trial_record_free (accepts NULL). */
typedef struct bp_trial_record {
    char *file;              /* the trial file: TRIAL.h5, RUN/trials/ID.h5, or the index's
                              * folder/trials/ID.h5 that INDEX#ID links to */
    char *where;             /* how messages name it: the file, or INDEX.h5#/trials/ID */
    unsigned trial;
    uint64_t seed;
    char *status;
    int epochs_done;
    char *resolved_config;
    char *provenance;        /* the provenance text; NULL when the file has none */
    size_t n_rows, n_columns;
    double *rows;
} bp_trial_record;
bp_trial_record *bp_trial_record_read(const char *path, const char *const *columns,
                                      size_t n_columns, bp_err *e);
void bp_trial_record_free(bp_trial_record *r);

#endif
