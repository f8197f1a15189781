/* scheduler.h - run the trials of a sweep: concurrency, progress, failures, resume.
 *
 * Trials run on `jobs` worker threads at once, each trial's kernels on threads/jobs threads.
 * By default (jobs = 0) bprun chooses: trials side by side scale almost perfectly while one
 * trial's kernels scale well only for large batches, so min(threads, trials) trials run at
 * once, and a large model's kernels get the threads left over when there are fewer trials
 * than threads. The choice is printed. Results do not
 * depend on it: a trial's results are bit-identical however it is scheduled.
 *
 * Trial isolation: with isolation each trial runs in a child process forked from the
 * scheduler (which never starts OpenMP threads itself, so children start clean). A child that
 * crashes (SIGSEGV, abort, ...), ends in any other way than bprun's own "trial done" message
 * on its pipe (a plugin's exit(0), _exit, exit(3)), exceeds the time limit or runs out of
 * its memory limit (RLIMIT_AS) fails only its own trial: its trial file keeps the epochs it
 * flushed, with status `failed` and a one-line message naming the signal or exit status and,
 * when it can be told, the plugin's file. The sweep goes on. Each child is the leader of its
 * own process group (killed as a group, and dies with the scheduler: PR_SET_PDEATHSIG). On
 * SIGINT/SIGTERM (*stop > 0) the children get the signal, and those of trials with a user's
 * plugin still running BP_STOP_GRACE seconds later are killed and recorded as `interrupted`
 * (bprun's own plugins return, so those trials stop at the end of their epoch, saved).
 *
 * Datasets are loaded once per process and shared read-only by every trial that uses them.
 * The run folder's index.h5 is written before the first trial and at the end, and rewritten
 * while trials finish at doubling counts or at most about once a second (docs/FORMAT.md), so
 * `bprun report` can read a run that is still going. Running the same config
 * into an existing run folder resumes it (finished trials kept; unfinished ones rerun from the
 * start); a changed config is refused.
 *
 * Rounds (rounds.h): races (sweep.race) and successive halving (sweep.halving, halving.h)
 * run in rounds, each a barrier: this process runs its share of the round (all of it, its
 * shard's, or under MPI what rank 0 hands out of that round only), waits until every trial of
 * the round has its row, and takes the same decision as every other process. Halving pauses
 * a trial at each rung in its trial file and continues it from there (the same bits as
 * without halving); the losers end as `pruned`. --trial is refused (BP_EUSAGE) with races and
 * halving; --isolate, --trial-timeout and --trial-memory with halving.
 *
 * A search (sweep.search, search.h): the trials run in batches, each a barrier; before a batch
 * TPE decides its trials from the earlier batches' results (bp_search_drive), their configs
 * and experiments are rebuilt, and in shards each shard waits for the other shards' trial
 * files of the batch. --trial and MPI are refused (BP_EUSAGE) for TPE.
 *
 * MPI (cluster.h, when bp_mpi_size() > 1; every rank calls bp_sched_run with the same sweep
 * and options): every rank prepares the trials; rank 0 opens the run folder (lock, resume,
 * --force) and writes the index; the other ranks attach to it. Trials are handed out one at a
 * time: a worker thread of any rank asks for the next trial when it finished one (rank 0's
 * main thread answers while rank 0's own workers train trials too), and each rank runs its
 * trials with its own threads (-j/--threads per rank) and writes their files itself. Rank 0
 * reads each finished trial's summary from its file, so the index and every trial file equal
 * a single-process run's (timings and provenance aside). Errors before the trials run are
 * agreed on: every rank returns the same code and message. Ranks other than 0 print nothing
 * but errors.
 */
#ifndef BP_SCHEDULER_H
#define BP_SCHEDULER_H

#include <signal.h>

#include "err.h"
#include "plugin.h"
#include "sweep.h"
#include "trial.h"

/* seconds a trial process gets to stop on its own after SIGINT/SIGTERM before it is killed */
#define BP_STOP_GRACE 0.5

/* Group commit. Trials run in bprun's own process (not isolated, not raced or halved) end by
 * leaving their closed trial file as trials/<id>.h5.part; a committer thread takes those that
 * ended within an interval, fsyncs each file, renames each into place and fsyncs trials/ once
 * (bp_trials_commit), and only then reports them: the progress line, the counts, the index,
 * and, on ranks > 0, rank 0. So a trial reported finished is complete on disk, and one not
 * yet reported is left as a .part that a resumed run trains again. The interval is
 * BPRUN_COMMIT_MS (milliseconds, an integer from 0 to 1000; unset or empty:
 * BP_COMMIT_MS_DEFAULT; anything else is refused when the sweep starts). The committer does not
 * wait when no other trial is running, nor for more than BP_COMMIT_MAX trials. */
/* The run folder's report.html (report_html.h) is kept up to date with the index only in
 * sweeps of at most this many trials: it reads every finished trial file (about a millisecond
 * each), so in larger sweeps `bprun report RUN --format html` makes it when asked. */
#define BP_HTML_LIVE_MAX 10000
/* ... and while trials finish, at most every this many seconds (or ten times its last rewrite) */
#define BP_HTML_EVERY_S 5.0
#define BP_COMMIT_MS_DEFAULT 200
#define BP_COMMIT_MAX 4096

typedef struct bp_sched_opts {
    const char *run_dir;          /* the run folder */
    int threads;                  /* total threads (>= 1) */
    int jobs;                     /* trials at once; 0 = choose */
    int quiet;                    /* nothing but errors and the final table */
    int fail_fast;                /* stop the sweep at the first failed or diverged trial */
    int force;                    /* start over in an existing run folder */
    long only;                    /* run only this trial id (-1: all) */
    int isolate;                  /* 1: each trial in a child process; 0: threads; -1: choose
                                   * (isolate when a plugin of the sweep is a user's: named by
                                   * path, or found outside bprun's own plugin folders) */
    double trial_timeout;         /* seconds; > 0: a trial running longer is killed and
                                   * recorded as failed (needs isolation, which it turns on) */
    size_t trial_memory;          /* bytes; > 0: each trial process's RLIMIT_AS (needs
                                   * isolation, which it turns on) */
    volatile sig_atomic_t *stop;  /* set by signal handlers */
    volatile sig_atomic_t *in_threads; /* NULL, or set to 1 while trials with a user's
                                   * plugin run as threads of this process (its code may keep
                                   * them from stopping), back to 0 after */
    /* Added for job arrays (docs/CLUSTER.md): shard_n > 0 runs only the trials i with
     * i mod shard_n == shard_i - 1 (1 <= shard_i <= shard_n, checked: BP_EUSAGE). Shards of
     * one sweep MAY run at once on one folder: a shard holds the folder's lock only while it
     * opens the folder (writing the first index when it is new) and while it rebuilds the
     * index from the trial files at its end (bp_run_merge); it never takes another shard's
     * trials. Refused with --force and --trial. 0: no sharding. */
    int shard_i, shard_n;
} bp_sched_opts;

typedef struct bp_sched_result {
    size_t n_trials, completed, failed, skipped, resumed;  /* failed: diverged or failed */
    int interrupted;
    int isolated;                 /* trials ran in child processes */
    size_t pruned;                /* stopped by successive halving (not a failure) */
} bp_sched_result;

/* Prepare every trial's experiment (x has s->n_trials slots): plugins bound (hyperparameters
 * checked), datasets loaded once and shared by the trials that use the same ones. On error
 * nothing is left allocated and the message names the trial (in a sweep). */
int bp_sched_prepare(bp_sweep *s, bp_registry *reg, bp_experiment **x, bp_err *e);

/* Prepare every trial (plugins bound, data loaded once), open (or resume) the run folder, run
 * the trials and write the index. Config/plugin/data errors come back before anything runs. */
int bp_sched_run(bp_sweep *s, bp_registry *reg, const bp_sched_opts *o, bp_sched_result *res,
                 bp_err *e);

/* 1 when one of the trial's plugins is a user's own (named by path or found outside bprun's
 * plugin folders): its code may crash, exit or never return. */
int bp_sched_user_plugin(const bp_experiment *x);

#endif
