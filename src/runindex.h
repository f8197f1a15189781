/* runindex.h - a run folder's index (RUN/index.h5): written from the trials' summary rows,
 * rebuilt from the trial files that exist (bprun merge). Format: docs/FORMAT.md.
 *
 *   RUN/index.h5          root attrs: format_version, bprun_version, config (text as given),
 *                         resolved_config, provenance attrs; /summary table (one row per trial);
 *                         /trials/<id>: external link to trials/<id>.h5
 *
 * Errors: every HDF5 or file system failure is BP_EIO with one line naming the file and the
 * object. HDF5's own error printing is switched off (per thread) on entry to every function. */
#ifndef BP_RUNINDEX_H
#define BP_RUNINDEX_H

#include <stddef.h>

#include "err.h"
#include "runlog.h"
#include "trialread.h"

/* Write RUN/index.h5 (through index.h5.part, fsync and rename): root attrs (format_version,
 * bprun_version, config text, resolved config, provenance, threads, n_trials) and /summary,
 * /trials/<id> external links to "trials/<id>.h5" (relative). A status longer than 16 bytes
 * is refused, never cut. */
int bp_run_write_index(bp_run *r, const char *config_text, const char *resolved_config,
                       const bp_trial_summary *rows, size_t n, int threads, bp_err *e);

/* Added for `bprun merge RUN` (docs/CLUSTER.md): rebuild RUN/index.h5 from the trial files
 * that exist. The config, resolved config, threads, sweep hash, table, axes and /params are
 * taken from the existing index.h5 (so the result equals the index a single process writes);
 * each summary row is that of trials/<id>.h5 when that file exists (finished, whatever its
 * status), and is a `pending` row (the old row's trial and seed, NaN metrics) otherwise. A
 * trial file is read only when the old row cannot stand for it: the row is kept when it says
 * the trial ended (completed, diverged, failed, pruned) and the file's ctime is older than
 * the index's mtime (the file has not been written, renamed or linked since).
 * Takes the folder's lock, waiting up to wait_s seconds, so it is safe while shards run;
 * a run holding the lock longer fails it with BP_ERUN ("in use by another bprun"). Errors
 * (BP_EUSAGE): DIR missing or not a folder; no index.h5 ("DIR: not a bprun run folder (no
 * index.h5)"); no finished trial file ("DIR: no finished trial files (trials/NNNN.h5) yet;
 * nothing to merge"). res gets the counts. */
typedef struct bp_merge_result {
    size_t n_trials;   /* rows of the index */
    size_t finished;   /* rows of trials whose file exists */
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
    /* added with sweep.search: each trial's swept values by trial id (n_params trials x the
     * index's axes), written as /params instead of the index's own (NULL: keep those) */
    char *const *const *params;
    size_t n_params;
} bp_merge_extra;
int bp_run_merge_with(const char *dir, double wait_s, const bp_merge_extra *x,
                      bp_merge_result *res, bp_err *e);

#endif
