/* resume.h - continuing a finished or interrupted trial: `bprun run CONFIG --continue FROM`.
 *
 * FROM names a trial as bp_saved_model_read takes it (a trial file, a run folder for its trial
 * 0000, RUN#ID, INDEX.h5#ID). The new run's trial starts from FROM's parameters, optimizer state
 * and step, schedule state and epochs_done, begins its trial file with FROM's per-epoch rows,
 * and trains epochs epochs_done + 1 .. train.epochs with FROM's trial id (so its shuffles are
 * the ones the uninterrupted trial would have drawn). The promise: N epochs continued for M more
 * give the same bits (every epoch value but `seconds`, parameters, optimizer and schedule state)
 * as N + M epochs in one run.
 */
#ifndef BP_RESUME_H
#define BP_RESUME_H

#include "err.h"
#include "model.h"
#include "trialread.h"
#include "train.h"
#include "trial.h"

typedef struct bp_resume {
    bp_trial_record *rec;     /* FROM's trial: file, id, status, epochs_done; rows in the order
                               * of bp_epoch_col_names */
    bp_saved_model *model;    /* FROM's weights, optimizer state and step, schedule state */
} bp_resume;

/* Read FROM and check that experiment x (prepared: plugin defaults filled in) continues it.
 * Errors, besides those of reading the files (BP_EIO):
 *   BP_EUSAGE  "FROM: trial status is 'diverged'; only a completed or interrupted trial can be
 *              continued" (also for a trial file without epochs_done: it never finished)
 *   BP_ECONFIG the resolved configs differ other than in train.epochs, naming the first key that
 *              differs (bp_resume_compare_configs);
 *              "CONFIG: train.epochs: FROM has done N epochs, train.epochs is M; raise it to
 *              train longer (--set train.epochs=N+10, say)" when N >= M
 *   BP_EDATA   FROM's saved state does not fit the config (optimizer, state size, schedule,
 *              history length), naming FROM.
 * *out is owned by the caller (bp_resume_free accepts NULL). */
int bp_resume_load(const char *from, const bp_experiment *x, bp_resume **out, bp_err *e);
void bp_resume_free(bp_resume *r);

/* Start model m (built by bp_experiment_model) and trainer t (its hp, schedule, epochs set from
 * the config) from r: parameters, optimizer state (a malloc'd copy the trainer owns) and step,
 * schedule state, epochs_done. */
int bp_resume_apply(const bp_resume *r, const bp_experiment *x, bp_model *m, bp_trainer *t,
                    bp_err *e);

/* The run folder dir MUST NOT be the one FROM's trial file lives in (a new run there, with
 * --force, would delete it): BP_EUSAGE "DIR: holds the trial being continued (FILE); give the
 * new run another folder with -o DIR". dir need not exist. */
int bp_resume_check_output(const bp_resume *r, const char *dir, bp_err *e);

/* Compare two canonical config dumps (bp_config_dump) line by line, ignoring train.epochs.
 * 0 when they agree; else BP_ECONFIG with
 *   "HERE_NAME: KEY.PATH differs from the config of THERE_NAME: VALUE here, VALUE there (only
 *   train.epochs may change when continuing)"
 * where KEY.PATH is the first differing key ("train.optimizer", "model.activation[1]") and a
 * key missing on one side reads "(none)". */
int bp_resume_compare_configs(const char *here, const char *there, const char *here_name,
                              const char *there_name, bp_err *e);

#endif
