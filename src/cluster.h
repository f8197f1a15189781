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
 * asks rank 0 for a trial id (bp_mpi_next), trains it, writes its trial file itself, reports
 * the end (bp_mpi_done) and asks again; rank 0 reads the reported trial file's summary for the
 * index. When a rank gets -1 on every worker it says bp_mpi_finished. Rank 0 serves these
 * requests on its main thread (bp_mpi_serve) while its own worker threads train trials too.
 * Without MPI built, or outside a launcher, size is 1 and rank 0.
 */
#ifndef BP_CLUSTER_H
#define BP_CLUSTER_H

#include "err.h"

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

/* Ranks > 0: the next trial id to run, or -1 when there is none. Thread-safe. */
long bp_mpi_next(void);
/* Ranks > 0: trial id ended; rc 0: its file trials/<id>.h5 is written, else e says why. */
void bp_mpi_done(long id, int rc, const bp_err *e);
/* Ranks > 0: this rank asks for nothing more. */
void bp_mpi_finished(void);

/* Rank 0: answer the other ranks until every one has said bp_mpi_finished and local_done()
 * returns 1. next() gives a trial id or -1 (and MUST keep giving -1 once it did); done()
 * records the end of a trial another rank ran. Calls come from the calling thread only. */
typedef struct bp_mpi_server {
    void *ud;
    long (*next)(void *ud, int rank);
    void (*done)(void *ud, int rank, long id, int rc, const bp_err *e);
    int (*local_done)(void *ud);
} bp_mpi_server;
void bp_mpi_serve(const bp_mpi_server *s);

#endif
