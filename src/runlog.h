/* runlog.h - bprun's HDF5 output: the run folder, trial files, per-epoch appends, weights,
 * provenance, the index. Format: docs/FORMAT.md (BP_FORMAT_VERSION).
 *
 *   RUN/index.h5          root attrs: format_version, bprun_version, config (text as given),
 *                         resolved_config, provenance attrs; /summary table (one row per trial);
 *                         /trials/<id>: external link to trials/<id>.h5
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
 * Lock: bp_run_create and bp_run_open take a POSIX write lock on RUN/.lock (created if missing)
 * and hold it until bp_run_close; when another process holds it they fail with BP_ERUN
 * ("DIR: in use by another bprun (pid N); wait for it or use -o") before touching anything,
 * --force included. The lock is per process: a process MUST NOT open one run folder twice.
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
#ifndef BP_RUNLOG_H
#define BP_RUNLOG_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "model.h"

#define BP_FORMAT_VERSION 1

typedef struct bp_run bp_run;
typedef struct bp_trial_file bp_trial_file;

/* Open a new run folder. If dir exists and holds anything, fail with BP_EEXIST ("DIR: run
 * folder exists and is not empty; use --force to replace it, or -o to choose another folder")
 * unless force, in which case the folder MUST be a run folder bprun made (its index.h5 bprun's,
 * else BP_EEXIST "DIR: not a bprun run folder ...") and bprun's files in it (runfolder.h: the
 * index, trial files, their .part files, each checked by its attributes) are removed first,
 * then trials/ if that emptied it; nothing else is touched, nothing is followed through a
 * symbolic link, and what is left is named by bp_run_kept. A file with bprun's name that is
 * not bprun's (a symbolic link, a folder, a foreign HDF5 file) is refused before anything is
 * removed or written (BP_EEXIST naming it). Creates dir (and parents) and dir/trials ("DIR:
 * cannot create run folder: <strerror>", BP_EIO). dir's absolute path (from the current
 * folder now) must leave room for trial file names below PATH_MAX (else BP_EUSAGE "DIR...:
 * run folder path too long ..."). */
bp_run *bp_run_create(const char *dir, int force, bp_err *e);
const char *bp_run_dir(const bp_run *r);
/* Added with the run folder checks: the folder's absolute path, through which every file of
 * the run is opened (so a plugin that calls chdir moves nothing), and, after --force, one line
 * naming what it left because bprun did not write it ("--force left 2 entries that bprun did
 * not write: RUN/notes.txt and RUN/trials/mine.h5"), or NULL. Borrowed. */
const char *bp_run_path(const bp_run *r);
const char *bp_run_kept(const bp_run *r);
void bp_run_close(bp_run *r);

/* What a trial file records about its trial at creation. */
typedef struct bp_trial_meta {
    unsigned trial;
    uint64_t seed;
    const char *config_text;      /* the config file as given */
    const char *resolved_config;  /* bp_config_dump of the trial's config */
    const char *const *columns;   /* per-epoch column names */
    size_t n_columns;
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
} bp_trial_meta;

/* Creates trials/<id>.h5.part (BP_EEXIST when trials/<id>.h5 exists: a finished trial file is
 * never overwritten). Column names MUST be non-empty, unique, without '/'. */
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
/* Record the outcome, flush, fsync, close, rename .part into place, fsync the folder. Frees t
 * (also on error). */
int bp_trial_finish(bp_trial_file *t, const char *status, const char *message, int epochs_done,
                    double wall_seconds, bp_err *e);
/* Close without renaming (the .part stays, as after a crash). Frees t. Accepts NULL. */
void bp_trial_abandon(bp_trial_file *t);

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

/* Open a run folder for a sweep whose resolved trials hash to `hash` (bp_sweep.hash) and print
 * as `table` (bp_sweep_print's text). A missing or empty folder is created (*resumed = 0). A
 * folder holding index.h5 with the same sweep_hash is resumed (*resumed = 1): finished trial
 * files are kept, stale .part files are the caller's to replace. A different hash is refused
 * (BP_EEXIST) with the first line of the trial table (or else of the resolved config of trial
 * 0, `resolved`) that changed, unless force (then bprun's
 * files are removed and the run starts over). A non-empty folder without index.h5 is refused
 * as bp_run_create does. */
bp_run *bp_run_open(const char *dir, const char *hash, const char *table, const char *resolved,
                    int force, int *resumed, bp_err *e);
/* Added for job-array shards (docs/CLUSTER.md): bp_run_open without force for processes that
 * share one folder. The folder (and its parents) is created when missing; a non-empty folder
 * without .lock or index.h5 is refused as bp_run_create does. The lock on RUN/.lock is taken
 * FIRST, waiting up to wait_s seconds while another process holds it (then BP_ERUN as
 * above), so concurrent shards never race on creating the folder or its index. The caller
 * MUST hold it only briefly (to write the first index) and release it with bp_run_unlock;
 * each trial file MUST then have exactly one writer (disjoint shares of the trials). */
bp_run *bp_run_open_shared(const char *dir, const char *hash, const char *table,
                           const char *resolved, double wait_s, int *resumed, bp_err *e);
/* Release the run folder's lock now (bp_run_close would); trial files can still be written.
 * Accepts NULL and an unlocked run. */
void bp_run_unlock(bp_run *r);
/* Added for MPI ranks other than 0: a handle on a run folder that another process (rank 0)
 * opened and holds locked. No lock is taken and nothing is checked but that DIR/trials/
 * exists (else BP_EIO naming DIR). Only trial files (bp_trial_create, bp_trial_salvage) MAY
 * be written through it; never the index. */
bp_run *bp_run_attach(const char *dir, bp_err *e);

/* Added for `bprun merge RUN` (docs/CLUSTER.md): rebuild RUN/index.h5 from the trial files
 * that exist. The config, resolved config, threads, sweep hash, table, axes and /params are
 * taken from the existing index.h5 (so the result equals the index a single process writes);
 * each summary row is read from trials/<id>.h5 when that file exists (finished, whatever its
 * status), and is a `pending` row (the old row's trial and seed, NaN metrics) otherwise.
 * Takes the folder's lock, waiting up to wait_s seconds, so it is safe while shards run;
 * a run holding the lock longer fails it with BP_ERUN ("in use by another bprun"). Errors
 * (BP_EUSAGE): DIR missing or not a folder; no index.h5 ("DIR: not a bprun run folder (no
 * index.h5)"); no finished trial file ("DIR: no finished trial files (trials/NNNN.h5) yet;
 * nothing to merge"). res gets the counts. */
typedef struct bp_merge_result {
    size_t n_trials;   /* rows of the index */
    size_t finished;   /* rows read from trial files */
    size_t missing;    /* rows recorded as pending */
    /* Entries of trials/ left out (added with the run folder checks): files that are not
     * trial files (other names, ids not printed as bprun prints them), files with a trial's
     * name that are not bprun's (a symbolic link, a folder: that trial is pending), and trial
     * files of ids the index has no row for; named in `ignored` ("RUN/trials/a, RUN/trials/b
     * and N more"). */
    size_t n_ignored;
    char ignored[768];
} bp_merge_result;
int bp_run_merge(const char *dir, double wait_s, bp_merge_result *res, bp_err *e);
/* Added for races in shards: bp_run_merge that also records a race's decisions (x->race, the
 * index's `race` attribute) and gives the trials it did not need (x->skipped[id] != 0, n
 * entries) the status `skipped` instead of `pending`. x MAY be NULL (bp_run_merge). */
typedef struct bp_merge_extra {
    const char *race;
    const unsigned char *skipped;
    size_t n;
} bp_merge_extra;
int bp_run_merge_with(const char *dir, double wait_s, const bp_merge_extra *x,
                      bp_merge_result *res, bp_err *e);

/* Record the sweep in the index bp_run_write_index writes next: attrs sweep_hash,
 * sweep_table, axes (list of key paths), and /params (n_trials x n_axes text, the swept values
 * of each row: row i holds params[rows[i].trial]). Borrowed until the run is closed. */
void bp_run_set_sweep(bp_run *r, const char *hash, const char *table, size_t n_axes,
                      char *const *axes, char *const *const *params);
/* Added with sweep.race: the race's decisions so far, written by bp_run_write_index as the
 * index's text attribute `race` (borrowed until the run is closed; NULL: none). */
void bp_run_set_race(bp_run *r, const char *text);

/* Finish the trial file another process left as trials/<id>.h5.part (a trial process that
 * crashed or was killed): set status, message and epochs_done (the rows it flushed), then
 * fsync and rename it into place like bp_trial_finish. BP_EIO when the .part cannot be opened
 * (the process died while creating it); the .part is then removed. */
int bp_trial_salvage(bp_run *r, unsigned trial, const char *status, const char *message,
                     bp_err *e);

/* Read the summary of a finished trial file (status, message, epochs, the last epoch's loss,
 * accuracy, val_loss, val_accuracy, the best val_loss, wall_seconds, test metrics,
 * epochs_to_target: 0 when the file has no such attribute). */
int bp_trial_read_summary(const char *path, bp_trial_summary *s, bp_err *e);

/* Write RUN/index.h5 (through index.h5.part, fsync and rename): root attrs (format_version,
 * bprun_version, config text, resolved config, provenance, threads, n_trials) and /summary,
 * /trials/<id> external links to "trials/<id>.h5" (relative). A status longer than 16 bytes
 * is refused, never cut. */
int bp_run_write_index(bp_run *r, const char *config_text, const char *resolved_config,
                       const bp_trial_summary *rows, size_t n, int threads, bp_err *e);

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
    size_t n_rows, n_columns;
    double *rows;
} bp_trial_record;
bp_trial_record *bp_trial_record_read(const char *path, const char *const *columns,
                                      size_t n_columns, bp_err *e);
void bp_trial_record_free(bp_trial_record *r);

/* Provenance as "key: value" lines (bprun version, host, CPU model, compiler and flags, HDF5,
 * libyaml and zlib versions, threads, kernels, start time). malloc'd. */
char *bp_provenance_text(int threads);

#endif
