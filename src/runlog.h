/* runlog.h - a run folder: created, opened to resume, shared by shards, attached by MPI ranks,
 * locked, closed; what its index will record of the sweep. Trial files are written by
 * trialfile.h, read by trialread.h; the index is runindex.h's. Format: docs/FORMAT.md.
 *
 * Lock: bp_run_create and bp_run_open take a POSIX write lock on RUN/.lock (created if missing)
 * and hold it until bp_run_close; when another process holds it they fail with BP_ERUN
 * ("DIR: in use by another bprun (pid N); wait for it or use -o") before touching anything,
 * --force included. The lock is per process: a process MUST NOT open one run folder twice.
 *
 * Errors: every file system failure is BP_EIO with one line naming the folder or the file.
 */
#ifndef BP_RUNLOG_H
#define BP_RUNLOG_H

#include <stddef.h>

#include "err.h"

typedef struct bp_run bp_run;

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

/* Record the sweep in the index bp_run_write_index writes next: attrs sweep_hash,
 * sweep_table, axes (list of key paths), and /params (n_trials x n_axes text, the swept values
 * of each row: row i holds params[rows[i].trial]). Borrowed until the run is closed. */
void bp_run_set_sweep(bp_run *r, const char *hash, const char *table, size_t n_axes,
                      char *const *axes, char *const *const *params);
/* Added with sweep.race: the race's decisions so far, written by bp_run_write_index as the
 * index's text attribute `race` (borrowed until the run is closed; NULL: none). */
void bp_run_set_race(bp_run *r, const char *text);
/* Added with sweep.search: its settings ("method=tpe metric=val_loss trials=N batch=B
 * startup=K", search.h bp_search_describe), the index's text attribute `search` (borrowed
 * until the run is closed; NULL: none). */
void bp_run_set_search(bp_run *r, const char *text);

/* What the index of a run records besides its rows, for runindex.c: the folder's absolute
 * path (bp_run_path) and what bp_run_set_sweep and bp_run_set_race recorded (NULL / 0 when
 * nothing was). Borrowed from the run. */
typedef struct bp_run_info {
    const char *path;
    const char *hash, *table;
    size_t n_axes;
    char *const *axes;
    char *const *const *params;
    const char *race;
    const char *search;   /* added with sweep.search */
} bp_run_info;
bp_run_info bp_run_info_of(const bp_run *r);

/* Take the run folder's lock: a POSIX write lock on .lock in the folder dfd (dir, as messages
 * name it; created if missing, never through a symbolic link), waiting up to wait_s seconds
 * while another process holds it (then BP_ERUN "DIR: in use by another bprun (pid N); wait
 * for it or use -o"). *fd_out holds it until closed. For bp_run_create, bp_run_open and
 * bprun merge (runindex.h). */
int bp_run_lock_wait(bp_err *e, int dfd, const char *dir, int *fd_out, double wait_s);

#endif
