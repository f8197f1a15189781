/* cluster.h - sweeps beyond one process: MPI ranks (built with ./configure --with-mpi).
 * Job-array shards need no MPI: bp_sched_opts.shard_* and bp_run_merge (runindex.h).
 *
 * MPI is started only when the process was launched by an MPI launcher (mpirun, mpiexec or
 * srun set one of OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_RANK, PMI_RANK); a plain `bprun run`
 * never touches MPI, so a --with-mpi build behaves as before outside mpirun. MPI is
 * initialized with MPI_THREAD_SERIALIZED (checked): MPI calls MAY come from several threads
 * of a rank, one at a time (the functions below serialize them).
 *
 * The protocol (docs/CLUSTER.md): rank 0 owns the run folder and the index; every other rank
 * asks rank 0 for trial ids (bp_mpi_next: one message asks, one reply hands out a batch of up
 * to BP_MPI_BATCH_MAX ids, kept in the rank and given to its workers one by one), trains them,
 * writes their trial files itself, and reports their ends with their summary rows
 * (bp_mpi_done: one message for a whole group commit), so that rank 0 never opens another
 * rank's trial file. When the sweep stops early (--fail-fast, an error, a signal) rank 0
 * tells every rank to stop, and a rank's workers take nothing more from their batch; every
 * rank gets that word exactly once (at the latest in answer to its bp_mpi_finished). When a
 * rank gets -1 on every worker it says bp_mpi_finished, which hands back the ids of its batch
 * it did not start and waits for that word if it has not come. Rank 0 serves these
 * requests on its main thread (bp_mpi_serve) while its own worker threads train trials too.
 * Without MPI built, or outside a launcher, size is 1 and rank 0.
 */
#ifndef BP_CLUSTER_H
#define BP_CLUSTER_H

#include "err.h"
#include "trialread.h"

/* The most trial ids one reply hands out. */
#define BP_MPI_BATCH_MAX 64

/* 1 when bprun was built with MPI. */
int bp_mpi_built(void);

/* Start MPI when launched by an MPI launcher (see above); otherwise do nothing. Errors: the
 * MPI library gives less than MPI_THREAD_SERIALIZED (BP_ERUN), or bprun was launched by
 * mpirun with more than one process but built without MPI (BP_EUSAGE: every process would run
 * the whole sweep). Call once, before any thread is started. */
int bp_mpi_start(int *argc, char ***argv, bp_err *e);
/* Finalize MPI if bp_mpi_start started it. */
void bp_mpi_stop(void);
int bp_mpi_rank(void);
int bp_mpi_size(void);

/* Collective (every rank MUST call it at the same point): every rank passes its own result;
 * all get the lowest (most negative) rc of all ranks and, in e, that rank's message (prefixed
 * with "rank K: " when K is not the caller). Returns that rc (0 when all succeeded). */
int bp_mpi_agree(int rc, bp_err *e);

/* Ranks > 0: the next trial id to run, or -1 when there is none (or rank 0 said stop): from
 * this rank's batch, or (when it is empty) from a new batch asked of rank 0. Thread-safe. */
long bp_mpi_next(void);
/* Ranks > 0: n trials ended (ids[i]; n >= 1); rc 0: their files trials/<id>.h5 are committed
 * and sums[i] holds each one's summary row; else e says why (sums MAY be NULL). One message. */
void bp_mpi_done(const unsigned *ids, const bp_trial_summary *sums, size_t n, int rc,
                 const bp_err *e);
/* Ranks > 0: this rank asks for nothing more; the ids of its batch it did not start go back. */
void bp_mpi_finished(void);

/* Rank 0: answer the other ranks until every one has said bp_mpi_finished and local_done()
 * returns 1. next() fills ids with up to max trial ids for rank (at least one while any is
 * left) and returns how many; 0 when none is left (and MUST keep returning 0 once it did).
 * done() records the end of a trial another rank ran (sum: its row when rc is 0). back()
 * takes back a trial id a rank was given and did not start. stopping() is 1 once the sweep
 * stops early (the ranks then start nothing more); next() then returns 0. Calls come from the calling thread only. */
typedef struct bp_mpi_server {
    void *ud;
    size_t (*next)(void *ud, int rank, long *ids, size_t max);
    void (*done)(void *ud, int rank, long id, int rc, const bp_trial_summary *sum,
                 const bp_err *e);
    void (*back)(void *ud, int rank, long id);
    int (*stopping)(void *ud);
    int (*local_done)(void *ud);
} bp_mpi_server;
void bp_mpi_serve(const bp_mpi_server *s);

/* Rounds (rounds.h) under MPI: each round is one hand-out as above, rank 0 serving only the
 * ids of the round; a rank whose workers got -1 says bp_mpi_finished and then waits, asleep,
 * in bp_mpi_round_share until every trial of the round has reported to rank 0.
 * Ranks > 0: bp_mpi_round_open before the round's first bp_mpi_next (forgets the last round's
 * batch and stop word). */
void bp_mpi_round_open(void);
/* Collective, after the round's hand-out ended on every rank (rank 0: bp_mpi_serve returned;
 * the others: bp_mpi_finished): every rank passes stop (1: this rank stops the sweep) and gets
 * 1 when any rank passed 1; when none did, rank 0's rows[ids[i]] (n of them) are copied to
 * every rank, so every rank takes the round's decision on the same rows. Without MPI: stop. */
int bp_mpi_round_share(bp_trial_summary *rows, const size_t *ids, size_t n, int stop);

#endif
