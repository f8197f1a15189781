#include "autoconf.h"
#include "cluster.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef BP_HAVE_MPI
#include <mpi.h>
#endif

enum { TAG_NEXT = 11, TAG_REPLY, TAG_DONE, TAG_FINISHED };

typedef struct done_msg {
    long id;
    int rc, code;
    char msg[BP_ERR_MSG_MAX];
} done_msg;

static int started, rank_, size_ = 1;
#ifdef BP_HAVE_MPI
static pthread_mutex_t mpi_mu = PTHREAD_MUTEX_INITIALIZER; /* MPI_THREAD_SERIALIZED */
#endif

#ifndef BP_HAVE_MPI
static long env_long(const char *name)
{
    const char *v = getenv(name);
    char *end;
    long n = v && *v ? strtol(v, &end, 10) : -1;
    return v && *v && !*end ? n : -1;
}
#endif

static int launched(void)
{
    static const char *const vars[] = { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMI_RANK",
                                        "PMIX_RANK" };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i]))
            return 1;
    return 0;
}

static void nap(void)
{
    struct timespec ts = { 0, 1000000 };
    nanosleep(&ts, NULL);
}

int bp_mpi_built(void)
{
#ifdef BP_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

int bp_mpi_start(int *argc, char ***argv, bp_err *e)
{
    if (started || !launched())
        return BP_OK;
#ifdef BP_HAVE_MPI
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
        return bp_err_set(e, BP_ERUN, "MPI_Init_thread failed");
    started = 1;
    if (provided < MPI_THREAD_SERIALIZED)
        return bp_err_set(e, BP_ERUN, "the MPI library gives thread level %d, bprun needs "
                          "MPI_THREAD_SERIALIZED (%d)", provided, MPI_THREAD_SERIALIZED);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    return BP_OK;
#else
    (void)argc;
    (void)argv;
    long n = env_long("OMPI_COMM_WORLD_SIZE");
    if (n < 0)
        n = env_long("PMI_SIZE");
    if (n > 1)
        return bp_err_set(e, BP_EUSAGE, "started by an MPI launcher with %ld processes, but this "
                          "bprun was built without MPI (./configure --with-mpi); every process "
                          "would run the whole sweep", n);
    return BP_OK;
#endif
}

void bp_mpi_stop(void)
{
#ifdef BP_HAVE_MPI
    if (started)
        MPI_Finalize();
#endif
    started = 0;
    rank_ = 0;
    size_ = 1;
}

int bp_mpi_rank(void)
{
    return rank_;
}

int bp_mpi_size(void)
{
    return size_;
}

int bp_mpi_agree(int rc, bp_err *e)
{
#ifdef BP_HAVE_MPI
    if (size_ <= 1)
        return rc;
    struct { int v, r; } in = { rc, rank_ }, out;
    char msg[BP_ERR_MSG_MAX] = "";
    pthread_mutex_lock(&mpi_mu);
    MPI_Allreduce(&in, &out, 1, MPI_2INT, MPI_MINLOC, MPI_COMM_WORLD);
    if (out.v != 0) {
        if (out.r == rank_)
            memcpy(msg, e->msg, sizeof msg);
        MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, out.r, MPI_COMM_WORLD);
    }
    pthread_mutex_unlock(&mpi_mu);
    msg[sizeof msg - 1] = '\0';
    if (out.v != 0 && out.r != rank_)
        bp_err_set(e, out.v, "rank %d: %s", out.r, msg);
    return out.v;
#else
    (void)e;
    return rc;
#endif
}

long bp_mpi_next(void)
{
    long id = -1;
#ifdef BP_HAVE_MPI
    if (size_ <= 1 || rank_ == 0)
        return -1;
    char ask = 0;
    pthread_mutex_lock(&mpi_mu);
    MPI_Send(&ask, 1, MPI_CHAR, 0, TAG_NEXT, MPI_COMM_WORLD);
    MPI_Recv(&id, 1, MPI_LONG, 0, TAG_REPLY, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    pthread_mutex_unlock(&mpi_mu);
#endif
    return id;
}

void bp_mpi_done(long id, int rc, const bp_err *e)
{
#ifdef BP_HAVE_MPI
    if (size_ <= 1 || rank_ == 0)
        return;
    done_msg *m = calloc(1, sizeof *m);
    done_msg local;
    if (!m) { /* still report: the message is what is lost */
        memset(&local, 0, sizeof local);
        m = &local;
    }
    m->id = id;
    m->rc = rc;
    if (rc && e) {
        m->code = e->code;
        memcpy(m->msg, e->msg, sizeof m->msg);
    }
    pthread_mutex_lock(&mpi_mu);
    MPI_Send(m, (int)sizeof *m, MPI_BYTE, 0, TAG_DONE, MPI_COMM_WORLD);
    pthread_mutex_unlock(&mpi_mu);
    if (m != &local)
        free(m);
#else
    (void)id;
    (void)rc;
    (void)e;
#endif
}

void bp_mpi_finished(void)
{
#ifdef BP_HAVE_MPI
    if (size_ <= 1 || rank_ == 0)
        return;
    char bye = 0;
    pthread_mutex_lock(&mpi_mu);
    MPI_Send(&bye, 1, MPI_CHAR, 0, TAG_FINISHED, MPI_COMM_WORLD);
    pthread_mutex_unlock(&mpi_mu);
#endif
}

void bp_mpi_serve(const bp_mpi_server *s)
{
#ifdef BP_HAVE_MPI
    int left = rank_ == 0 ? size_ - 1 : 0;
    done_msg *m = calloc(1, sizeof *m);
    static done_msg fallback;
    if (!m)
        m = &fallback;  /* only this thread receives */
    while (left > 0 || !s->local_done(s->ud)) {
        int flag = 0;
        MPI_Status st;
        if (left > 0) {
            pthread_mutex_lock(&mpi_mu);
            MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
            pthread_mutex_unlock(&mpi_mu);
        }
        if (!flag) {
            nap();
            continue;
        }
        int src = st.MPI_SOURCE;
        char byte;
        pthread_mutex_lock(&mpi_mu);
        if (st.MPI_TAG == TAG_NEXT) {
            MPI_Recv(&byte, 1, MPI_CHAR, src, TAG_NEXT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            pthread_mutex_unlock(&mpi_mu);
            long id = s->next(s->ud, src);
            pthread_mutex_lock(&mpi_mu);
            MPI_Send(&id, 1, MPI_LONG, src, TAG_REPLY, MPI_COMM_WORLD);
            pthread_mutex_unlock(&mpi_mu);
        } else if (st.MPI_TAG == TAG_DONE) {
            MPI_Recv(m, (int)sizeof *m, MPI_BYTE, src, TAG_DONE, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            pthread_mutex_unlock(&mpi_mu);
            bp_err e;
            bp_err_clear(&e);
            e.code = m->code;
            m->msg[sizeof m->msg - 1] = '\0';
            memcpy(e.msg, m->msg, sizeof e.msg);
            s->done(s->ud, src, m->id, m->rc, &e);
        } else if (st.MPI_TAG == TAG_FINISHED) {
            MPI_Recv(&byte, 1, MPI_CHAR, src, TAG_FINISHED, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            pthread_mutex_unlock(&mpi_mu);
            left--;
        } else { /* not ours: drop it (never sent by bprun) */
            MPI_Recv(NULL, 0, MPI_BYTE, src, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            pthread_mutex_unlock(&mpi_mu);
        }
    }
    if (m != &fallback)
        free(m);
#else
    while (!s->local_done(s->ud))
        nap();
#endif
}
