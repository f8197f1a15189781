/* trialfile.h - writing a trial's HDF5 file in a run folder (runlog.h): per-epoch appends,
 * weights, optimizer and schedule state, attributes, the outcome. Format: docs/FORMAT.md
 * (BP_FORMAT_VERSION, h5io.h).
 *
 *   RUN/trials/<id>.h5    attrs: format_version, trial, seed, status, message, epochs_done,
 *                         wall_seconds, resolved_config, provenance; /epochs/<column>: 1-D
 *                         float64, chunked, one row per epoch (written and flushed as
 *                         bp_trial_append says);
 *                         /model: sizes, activations, output, loss, params (flat float32),
 *                         layer_<l> (activation hyperparameters); /model/optimizer: name,
 *                         step, hyperparameters, state.
 * A trial file is written as trials/<id>.h5.part and renamed to trials/<id>.h5 when the trial
 * ends, after the file and the folder are fsync'ed, so a file that looks complete is complete.
 * A killed writer leaves a .part file that opens, with every acknowledged row (see
 * bp_trial_append) exact; rows past them (a flush the kill interrupted) may not read.
 * Trial ids are printed as 4 digits or more (%04u).
 *
 * Errors: every HDF5 or file system failure is BP_EIO with one line naming the file and the
 * object ("runs/x/trials/0000.h5.part#/epochs/loss: cannot ..."). HDF5's own error printing is
 * switched off (per thread) on entry to every function here.
 *
 * Threads: different bp_trial_file objects MAY be used from different threads at once, because
 * the HDF5 library is built thread-safe (H5_HAVE_THREADSAFE, as Debian's hdf5-serial); one
 * bp_trial_file MUST NOT be used by two threads at once. Trial files are created without an
 * HDF5 file lock, so other processes can read the history while a trial runs; each trial file
 * MUST have exactly one writer.
 */
#ifndef BP_TRIALFILE_H
#define BP_TRIALFILE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "model.h"
#include "runlog.h"

typedef struct bp_trial_file bp_trial_file;

/* What a trial file records about its trial at creation. */
typedef struct bp_trial_meta {
    unsigned trial;
    uint64_t seed;
    const char *config_text;      /* the config file as given */
    const char *resolved_config;  /* bp_config_dump of the trial's config */
    const char *const *columns;   /* per-epoch column names */
    size_t n_columns;
    /* MAY be NULL: omit[c] != 0 = column c has no values in this trial (validation metrics
     * without validation data) and is not stored: no dataset, not in the `columns`
     * attribute; its values in the rows given to bp_trial_append are ignored. */
    const unsigned char *omit;
    int threads;                  /* threads used by the trial's kernels */
    /* Added for `bprun run --continue` (MAY be NULL / 0): the trial file this trial continues
     * and how many epochs that one had done, stored as the root attributes continued_from and
     * continued_at (only when continued_from is non-NULL). */
    const char *continued_from;
    int continued_at;
    /* Added for resuming a sweep: 1 = an existing trials/<id>.h5 (an interrupted trial being
     * continued) is replaced when this trial finishes (by the atomic rename); otherwise an
     * existing trial file is an error. */
    int replace;
    /* Added for issue 6 (MAY be 0): the epochs the trial plans. It sets the length of the
     * /epochs chunks: epochs / 8 rounded up to a power of two, from 256 (also for 0) to 8192
     * rows, so a long run writes its rows in fewer, larger chunks (one write each) while a
     * short trial file stays small. Only the storage layout: the values are the same. */
    int epochs_hint;
    /* Group commit (MAY be 0): 1 = bp_trial_finish leaves the finished, closed trials/<id>.h5.part
     * for bp_trials_commit (neither fsync'ed nor renamed). */
    int group_commit;
} bp_trial_meta;

/* Prepares trials/<id>.h5.part (BP_EEXIST when trials/<id>.h5 exists: a finished trial file is
 * never overwritten). The file itself is created when it is first written: at once under
 * BPRUN_FLUSH_MS=0, else by the first flush of rows (on disk), or, for a trial whose training
 * ends before that, in memory by the first write after training (save_model, an attribute,
 * finish), its epoch columns one shuffled, deflated chunk each, and written out by
 * bp_trial_finish with one write. Column names MUST be non-empty, unique, without '/'. */
bp_trial_file *bp_trial_create(bp_run *r, const bp_trial_meta *m, bp_err *e);
/* Flush policy. BPRUN_FLUSH_MS=T (milliseconds, an integer 0 .. 60000; unset or empty:
 * BP_FLUSH_MS_DEFAULT; anything else makes bp_trial_create fail with BP_EUSAGE
 * "BPRUN_FLUSH_MS: expected milliseconds from 0 to 60000 (got 'x')") is read when the trial
 * file is created. A row is acknowledged once it is written to the file and the file flushed
 * (H5Fflush): from then on it survives a kill of the writer. */
#define BP_FLUSH_MS_DEFAULT 1000
/* Added with issue 15: with T > 0, no row is written by an append before the trial file is
 * D = min(T, BP_FLUSH_FIRST_MS) ms old (bp_trial_create to the append). A trial's first
 * epochs, which the doubling rule below would flush one by one (W1's 10000 epochs take a few
 * ms), are then written with the others; a writer killed in its first D ms leaves a .part
 * with no rows, and a resumed sweep trains that trial again. */
#define BP_FLUSH_FIRST_MS 100
/* Append one row (n_columns values) to /epochs. With T = 0 the row is written and the file
 * flushed before the call returns (no delay: T = 0 means every row at once). Otherwise rows
 * are kept in memory; once the file is D ms old (BP_FLUSH_FIRST_MS) they are written with one
 * flush when this append comes at least T ms after the previous flush (or the file's creation),
 * or when the rows kept would be at least as many as those acknowledged (so the first append
 * after D acknowledges every row kept, and after it the rows kept never outnumber those
 * acknowledged). So when append returns, every row appended T ms or more before this append
 * is acknowledged, and, when the file is D ms old or more, at least half of all rows (before
 * that, possibly none). The kept rows' buffer is sized for epochs_hint rows (up to 16384) when
 * the file is created, so a short trial does not grow it. Every other function here that writes to
 * the file (save_model, save_extras, set_*, finish, abandon) first writes and flushes the rows
 * kept, so the file never holds a model, an attribute or a status newer than its rows. */
int bp_trial_append(bp_trial_file *t, const double *row, bp_err *e);
/* Added with the buffered flush policy: write and flush the rows kept now (0 when none). */
int bp_trial_flush(bp_trial_file *t, bp_err *e);
/* Added with the buffered flush policy: the number of rows acknowledged so far. */
uint64_t bp_trial_rows_acked(const bp_trial_file *t);
/* Save the model (layout, activation names and hyperparameters, parameters) and optimizer
 * (name, hyperparameter names and values, step count, state of n_state floats per parameter)
 * under /model. Replaces an earlier save. */
typedef struct bp_opt_record {
    const char *name;
    const char *const *hp_names;
    const double *hp;
    size_t n_hp;
    const float *state;
    size_t n_state;              /* floats per parameter */
    uint64_t step;
    /* Added with the training helpers: the learning-rate schedule's name and the state that
     * continues it, saved as /model/schedule (attributes name, state_names, state). schedule
     * MAY be NULL: nothing is saved. */
    const char *schedule;
    const char *const *sched_names;
    const double *sched_state;
    size_t n_sched;
} bp_opt_record;
/* Hyperparameter names of an activation come from m->act[l].fn->hparams; a layer with n_hp > 0
 * and no matching declaration is refused. o MAY be NULL (no optimizer recorded). */
int bp_trial_save_model(bp_trial_file *t, const bp_model *m, const bp_opt_record *o, bp_err *e);
/* Save what a user of the weights needs besides the model: the feature standardization
 * (mean and std, d values each, as /model/standardize_mean and /model/standardize_std; skipped
 * when mean is NULL) and the final test metrics (root attributes test_loss and test_accuracy;
 * skipped when NaN). Call after bp_trial_save_model. */
int bp_trial_save_extras(bp_trial_file *t, const double *mean, const double *std, size_t d,
                         double test_loss, double test_accuracy, bp_err *e);
/* Set an integer root attribute of the trial file (best_epoch, stopped_early,
 * epochs_to_target: docs/FORMAT.md), replacing an earlier one of that name. */
int bp_trial_set_int(bp_trial_file *t, const char *name, int value, bp_err *e);
/* Added with the cost records: set a float64 root attribute (samples_per_second,
 * peak_rss_bytes, work_bytes: docs/FORMAT.md), replacing an earlier one of that name. */
int bp_trial_set_double(bp_trial_file *t, const char *name, double value, bp_err *e);
/* Added with diagnostics: set a string root attribute (verdict), replacing an earlier one. */
int bp_trial_set_str(bp_trial_file *t, const char *name, const char *value, bp_err *e);
/* Added with diagnostics: create the group /<group> (once; an existing one is reused) and set
 * n float64 scalar attributes on it (names[i] = values[i]). */
int bp_trial_set_group_doubles(bp_trial_file *t, const char *group, const char *const *names,
                               const double *values, size_t n, bp_err *e);
/* Added with diagnostics: create the group /<group> (and its parents; existing ones are reused)
 * and write a 1-D float64 dataset NAME of n values in it (refused if it exists). */
int bp_trial_set_group_array(bp_trial_file *t, const char *group, const char *name,
                             const double *values, size_t n, bp_err *e);
/* Added with population-based training: remove the object at path (a group or dataset, with
 * what it holds) when it exists, so that it can be written again (a checkpoint replaced). */
int bp_trial_unlink(bp_trial_file *t, const char *path, bp_err *e);
/* Record the outcome, flush, fsync, close, rename .part into place, fsync the folder. Frees t
 * (also on error). */
int bp_trial_finish(bp_trial_file *t, const char *status, const char *message, int epochs_done,
                    double wall_seconds, bp_err *e);
/* Close without renaming (the .part stays, as after a crash). Frees t. Accepts NULL. */
void bp_trial_abandon(bp_trial_file *t);
/* Group commit of trials whose files were finished with bp_trial_meta.group_commit: fsync each
 * trials/<id>.h5.part, rename each to trials/<id>.h5, then fsync trials/ once. After it
 * returns 0 every one of them is complete on disk under its final name. The ids MUST be
 * distinct finished trials of r. */
int bp_trials_commit(bp_run *r, const unsigned *ids, size_t n, bp_err *e);

/* Finish the trial file another process left as trials/<id>.h5.part (a trial process that
 * crashed or was killed): set status, message and epochs_done (the rows it flushed), then
 * fsync and rename it into place like bp_trial_finish. BP_EIO when the .part cannot be opened
 * (the process died while creating it); the .part is then removed. */
int bp_trial_salvage(bp_run *r, unsigned trial, const char *status, const char *message,
                     bp_err *e);

#endif
