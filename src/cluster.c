#include "autoconf.h"
#include "cluster.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef BP_HAVE_MPI
#include <mpi.h>
#endif

enum { TAG_NEXT = 11, TAG_REPLY, TAG_DONE, TAG_FINISHED, TAG_STOP };

/* TAG_DONE: a head, then n rows (the summary of each trial, fields copied one by one so that
 * no padding byte is sent uninitialized). Ranks run the same bprun, so native layout. */
typedef struct done_head {
    int32_t n, rc, code, pad;
    char msg[BP_ERR_MSG_MAX];
} done_head;

typedef struct wire_row {
    int64_t id;
    uint64_t seed;
    uint32_t trial;
    int32_t epochs, epochs_to_target, pad;
    double final_loss, final_val_loss, final_accuracy, final_val_accuracy, best_val_loss;
    double wall_seconds, final_test_loss, final_test_accuracy;
    double samples_per_second, peak_rss_bytes, work_bytes;
    char status[16], verdict[16];
    char message[BP_ERR_MSG_MAX];
} wire_row;

static int started, rank_, size_ = 1;
#ifdef BP_HAVE_MPI
static pthread_mutex_t mpi_mu = PTHREAD_MUTEX_INITIALIZER; /* MPI_THREAD_SERIALIZED */
/* ranks > 0: the ids of the last batch rank 0 handed out, given to the workers one by one */
static pthread_mutex_t batch_mu = PTHREAD_MUTEX_INITIALIZER;
static long batch[BP_MPI_BATCH_MAX];
static int batch_n, batch_at, batch_none, stop_heard;

/* Ranks > 0: whether rank 0's stop has come (taken now if so). Holds batch_mu. */
static int heard_stop(void)
{
    if (!stop_heard) {
        int flag = 0;
        char z;
        pthread_mutex_lock(&mpi_mu);
        MPI_Iprobe(0, TAG_STOP, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
        if (flag)
            MPI_Recv(&z, 0, MPI_CHAR, 0, TAG_STOP, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        pthread_mutex_unlock(&mpi_mu);
        stop_heard = flag;
    }
    return stop_heard;
}
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

#ifdef BP_HAVE_MPI
/* Wait for r to complete, sleeping between tests: a blocking MPI call busy-polls, which on
 * ranks that share cores (more ranks than cores) takes the CPU from the ranks that work. */
static void wait_req(MPI_Request *r, MPI_Status *st)
{
    for (;;) {
        int done = 0;
        pthread_mutex_lock(&mpi_mu);
        MPI_Test(r, &done, st ? st : MPI_STATUS_IGNORE);
        pthread_mutex_unlock(&mpi_mu);
        if (done)
            return;
        struct timespec ts = { 0, 200000 };
        nanosleep(&ts, NULL);
    }
}
#endif

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
    if (started && size_ > 1) {   /* the ranks that end first wait here asleep */
        MPI_Request r;
        pthread_mutex_lock(&mpi_mu);
        MPI_Ibarrier(MPI_COMM_WORLD, &r);
        pthread_mutex_unlock(&mpi_mu);
        wait_req(&r, NULL);
    }
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
    MPI_Request r;
    pthread_mutex_lock(&mpi_mu);
    MPI_Iallreduce(&in, &out, 1, MPI_2INT, MPI_MINLOC, MPI_COMM_WORLD, &r);
    pthread_mutex_unlock(&mpi_mu);
    wait_req(&r, NULL);
    if (out.v != 0) {
        if (out.r == rank_)
            memcpy(msg, e->msg, sizeof msg);
        pthread_mutex_lock(&mpi_mu);
        MPI_Ibcast(msg, (int)sizeof msg, MPI_CHAR, out.r, MPI_COMM_WORLD, &r);
        pthread_mutex_unlock(&mpi_mu);
        wait_req(&r, NULL);
    }
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
    pthread_mutex_lock(&batch_mu);
    if (heard_stop())
        batch_none = 1;   /* what is left of the batch goes back at bp_mpi_finished */
    if (batch_at == batch_n && !batch_none) {
        int want = BP_MPI_BATCH_MAX, got = 0;
        MPI_Status st;
        MPI_Request r;
        pthread_mutex_lock(&mpi_mu);
        MPI_Irecv(batch, BP_MPI_BATCH_MAX, MPI_LONG, 0, TAG_REPLY, MPI_COMM_WORLD, &r);
        MPI_Send(&want, (int)sizeof want, MPI_BYTE, 0, TAG_NEXT, MPI_COMM_WORLD);
        pthread_mutex_unlock(&mpi_mu);
        wait_req(&r, &st);
        MPI_Get_count(&st, MPI_LONG, &got);
        batch_n = got > 0 && got <= BP_MPI_BATCH_MAX ? got : 0;
        batch_at = 0;
        batch_none = batch_n == 0;
    }
    if (batch_at < batch_n && !batch_none)
        id = batch[batch_at++];
    pthread_mutex_unlock(&batch_mu);
#endif
    return id;
}

#ifdef BP_HAVE_MPI
static void to_wire(wire_row *w, long id, const bp_trial_summary *s)
{
    w->id = id;
    if (!s)
        return;
    w->seed = s->seed;
    w->trial = s->trial;
    w->epochs = s->epochs;
    w->epochs_to_target = s->epochs_to_target;
    w->final_loss = s->final_loss;
    w->final_val_loss = s->final_val_loss;
    w->final_accuracy = s->final_accuracy;
    w->final_val_accuracy = s->final_val_accuracy;
    w->best_val_loss = s->best_val_loss;
    w->wall_seconds = s->wall_seconds;
    w->final_test_loss = s->final_test_loss;
    w->final_test_accuracy = s->final_test_accuracy;
    w->samples_per_second = s->samples_per_second;
    w->peak_rss_bytes = s->peak_rss_bytes;
    w->work_bytes = s->work_bytes;
    snprintf(w->status, sizeof w->status, "%s", s->status ? s->status : "");
    memcpy(w->verdict, s->verdict, sizeof w->verdict < sizeof s->verdict ? sizeof w->verdict
                                                                           : sizeof s->verdict);
    w->verdict[sizeof w->verdict - 1] = '\0';
    memcpy(w->message, s->message, sizeof w->message);
    w->message[sizeof w->message - 1] = '\0';
}

/* the row's status as the static string bprun's own rows point to */
static const char *status_of(const char *st)
{
    static const char *const known[] = { "pending", "running", "completed", "diverged", "failed",
                                         "interrupted", "pruned", "skipped" };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(st, known[i]))
            return known[i];
    return "failed";
}

static void from_wire(bp_trial_summary *s, wire_row *w)
{
    memset(s, 0, sizeof *s);
    s->trial = w->trial;
    s->seed = w->seed;
    s->epochs = w->epochs;
    s->epochs_to_target = w->epochs_to_target;
    s->final_loss = w->final_loss;
    s->final_val_loss = w->final_val_loss;
    s->final_accuracy = w->final_accuracy;
    s->final_val_accuracy = w->final_val_accuracy;
    s->best_val_loss = w->best_val_loss;
    s->wall_seconds = w->wall_seconds;
    s->final_test_loss = w->final_test_loss;
    s->final_test_accuracy = w->final_test_accuracy;
    s->samples_per_second = w->samples_per_second;
    s->peak_rss_bytes = w->peak_rss_bytes;
    s->work_bytes = w->work_bytes;
    w->status[sizeof w->status - 1] = '\0';
    w->verdict[sizeof w->verdict - 1] = '\0';
    w->message[sizeof w->message - 1] = '\0';
    s->status = status_of(w->status);
    memcpy(s->verdict, w->verdict, sizeof s->verdict < sizeof w->verdict ? sizeof s->verdict
                                                                         : sizeof w->verdict);
    s->verdict[sizeof s->verdict - 1] = '\0';
    memcpy(s->message, w->message, sizeof s->message);
}
#endif

void bp_mpi_done(const unsigned *ids, const bp_trial_summary *sums, size_t n, int rc,
                 const bp_err *e)
{
#ifdef BP_HAVE_MPI
    if (size_ <= 1 || rank_ == 0 || n == 0)
        return;
    /* split so that one message stays below 2^31 bytes; the rows are in one allocation */
    size_t per = ((size_t)1 << 30) / sizeof(wire_row);
    for (size_t at = 0; at < n; at += per) {
        size_t k = n - at < per ? n - at : per;
        size_t len = sizeof(done_head) + k * sizeof(wire_row);
        unsigned char *buf = calloc(1, len);
        static done_head lone;   /* out of memory: still report, one trial at a time */
        if (!buf) {
            for (size_t i = 0; i < k; i++) {
                pthread_mutex_lock(&mpi_mu);
                memset(&lone, 0, sizeof lone);
                lone.n = -(int32_t)ids[at + i] - 1;   /* the id alone, no row: failed */
                lone.rc = BP_ENOMEM;
                lone.code = BP_ENOMEM;
                snprintf(lone.msg, sizeof lone.msg, "out of memory");
                MPI_Send(&lone, (int)sizeof lone, MPI_BYTE, 0, TAG_DONE, MPI_COMM_WORLD);
                pthread_mutex_unlock(&mpi_mu);
            }
            continue;
        }
        done_head *h = (done_head *)buf;
        h->n = (int32_t)k;
        h->rc = rc;
        if (rc && e) {
            h->code = e->code;
            memcpy(h->msg, e->msg, sizeof h->msg);
            h->msg[sizeof h->msg - 1] = '\0';
        }
        wire_row *w = (wire_row *)(buf + sizeof *h);
        for (size_t i = 0; i < k; i++)
            to_wire(&w[i], (long)ids[at + i], rc || !sums ? NULL : &sums[at + i]);
        MPI_Request r;
        pthread_mutex_lock(&mpi_mu);
        MPI_Isend(buf, (int)len, MPI_BYTE, 0, TAG_DONE, MPI_COMM_WORLD, &r);
        pthread_mutex_unlock(&mpi_mu);
        wait_req(&r, NULL);
        free(buf);
    }
#else
    (void)ids;
    (void)sums;
    (void)n;
    (void)rc;
    (void)e;
#endif
}

void bp_mpi_finished(void)
{
#ifdef BP_HAVE_MPI
    if (size_ <= 1 || rank_ == 0)
        return;
    pthread_mutex_lock(&batch_mu);
    int left = batch_n - batch_at;
    long back[BP_MPI_BATCH_MAX + 1];
    memcpy(back, batch + batch_at, (size_t)left * sizeof *back);
    batch_at = batch_n;
    batch_none = 1;
    char z;
    MPI_Request r;
    pthread_mutex_lock(&mpi_mu);
    MPI_Send(back, left * (int)sizeof *back, MPI_BYTE, 0, TAG_FINISHED, MPI_COMM_WORLD);
    if (!stop_heard)   /* rank 0 sends it to every rank once: take it before MPI_Finalize */
        MPI_Irecv(&z, 0, MPI_CHAR, 0, TAG_STOP, MPI_COMM_WORLD, &r);
    pthread_mutex_unlock(&mpi_mu);
    if (!stop_heard)
        wait_req(&r, NULL);
    stop_heard = 1;
    pthread_mutex_unlock(&batch_mu);
#endif
}

void bp_mpi_round_open(void)
{
#ifdef BP_HAVE_MPI
    pthread_mutex_lock(&batch_mu);
    batch_n = batch_at = batch_none = stop_heard = 0;
    pthread_mutex_unlock(&batch_mu);
#endif
}

int bp_mpi_round_share(bp_trial_summary *rows, const size_t *ids, size_t n, int stop)
{
#ifdef BP_HAVE_MPI
    if (size_ <= 1)
        return stop;
    int in = stop ? 1 : 0, any = 0;
    MPI_Request r;
    pthread_mutex_lock(&mpi_mu);
    MPI_Iallreduce(&in, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD, &r);
    pthread_mutex_unlock(&mpi_mu);
    wait_req(&r, NULL);
    if (any || n == 0)
        return any;
    /* sent in slices of at most 2^30 bytes; every rank allocates the same */
    size_t per = ((size_t)1 << 30) / sizeof(wire_row);
    wire_row *w = calloc(n < per ? n : per, sizeof *w);
    int ok = w != NULL, all_ok = 0;
    pthread_mutex_lock(&mpi_mu);
    MPI_Iallreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &r);
    pthread_mutex_unlock(&mpi_mu);
    wait_req(&r, NULL);
    if (!all_ok) {
        free(w);
        return 1;
    }
    for (size_t at = 0; at < n; at += per) {
        size_t k = n - at < per ? n - at : per;
        if (rank_ == 0)
            for (size_t i = 0; i < k; i++)
                to_wire(&w[i], (long)ids[at + i], &rows[ids[at + i]]);
        pthread_mutex_lock(&mpi_mu);
        MPI_Ibcast(w, (int)(k * sizeof *w), MPI_BYTE, 0, MPI_COMM_WORLD, &r);
        pthread_mutex_unlock(&mpi_mu);
        wait_req(&r, NULL);
        if (rank_ > 0)
            for (size_t i = 0; i < k; i++)
                if (w[i].id == (int64_t)ids[at + i])
                    from_wire(&rows[ids[at + i]], &w[i]);
    }
    free(w);
    return 0;
#else
    (void)rows;
    (void)ids;
    (void)n;
    return stop;
#endif
}

#ifdef BP_HAVE_MPI
/* Rank 0: a TAG_DONE message of count bytes in buf, from src */
static void serve_done_msg(const bp_mpi_server *s, int src, unsigned char *buf, int count)
{
    done_head *h = (done_head *)buf;
    bp_err e;
    bp_err_clear(&e);
    if (count < (int)sizeof *h)
        return;   /* never sent by bprun */
    h->msg[sizeof h->msg - 1] = '\0';
    e.code = h->code;
    memcpy(e.msg, h->msg, sizeof e.msg);
    if (h->n < 0) {   /* one id, no row: the sender ran out of memory */
        s->done(s->ud, src, -(long)h->n - 1, h->rc ? h->rc : BP_ENOMEM, NULL, &e);
        return;
    }
    size_t n = (size_t)h->n;
    if ((size_t)count < sizeof *h + n * sizeof(wire_row))
        return;
    wire_row *w = (wire_row *)(buf + sizeof *h);
    for (size_t i = 0; i < n; i++) {
        bp_trial_summary sum;
        from_wire(&sum, &w[i]);
        s->done(s->ud, src, (long)w[i].id, h->rc, h->rc ? NULL : &sum, &e);
    }
}
#endif

void bp_mpi_serve(const bp_mpi_server *s)
{
#ifdef BP_HAVE_MPI
    int left = rank_ == 0 ? size_ - 1 : 0;
    unsigned char *buf = NULL;
    size_t cap = 0;
    long ids[BP_MPI_BATCH_MAX];
    char *told = calloc((size_t)size_, 1);   /* the ranks told to stop */
    char z = 0;
    int all_told = 0;
    while (left > 0 || !s->local_done(s->ud)) {
        int flag = 0;
        MPI_Status st;
        if (!all_told && left > 0 && s->stopping(s->ud)) {
            /* 0 bytes: sent at once, taken by the rank when its workers next ask */
            for (int r = 1; r < size_; r++)
                if (told && !told[r]) {
                    pthread_mutex_lock(&mpi_mu);
                    MPI_Send(&z, 0, MPI_CHAR, r, TAG_STOP, MPI_COMM_WORLD);
                    pthread_mutex_unlock(&mpi_mu);
                    told[r] = 1;
                }
            all_told = 1;
        }
        if (left > 0) {
            pthread_mutex_lock(&mpi_mu);
            MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
            pthread_mutex_unlock(&mpi_mu);
        }
        if (!flag) {
            nap();
            continue;
        }
        int src = st.MPI_SOURCE, count = 0;
        MPI_Get_count(&st, MPI_BYTE, &count);
        if (count < 0)
            count = 0;
        if ((size_t)count > cap) {
            unsigned char *nb = realloc(buf, (size_t)count);
            if (nb) {
                buf = nb;
                cap = (size_t)count;
            }
        }
        if ((size_t)count > cap) {   /* out of memory: the message cannot be taken */
            nap();
            continue;
        }
        /* every message to rank 0 is sent as bytes */
        pthread_mutex_lock(&mpi_mu);
        MPI_Recv(buf, count, MPI_BYTE, src, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        pthread_mutex_unlock(&mpi_mu);
        if (st.MPI_TAG == TAG_NEXT) {
            int want = BP_MPI_BATCH_MAX;
            if (count >= (int)sizeof want)
                memcpy(&want, buf, sizeof want);
            if (want < 1 || want > BP_MPI_BATCH_MAX)
                want = BP_MPI_BATCH_MAX;
            size_t n = s->next(s->ud, src, ids, (size_t)want);
            pthread_mutex_lock(&mpi_mu);
            MPI_Send(ids, (int)n, MPI_LONG, src, TAG_REPLY, MPI_COMM_WORLD);
            pthread_mutex_unlock(&mpi_mu);
        } else if (st.MPI_TAG == TAG_DONE) {
            serve_done_msg(s, src, buf, count);
        } else if (st.MPI_TAG == TAG_FINISHED) {
            for (size_t i = 0; i + sizeof(long) <= (size_t)count; i += sizeof(long)) {
                long id;
                memcpy(&id, buf + i, sizeof id);
                s->back(s->ud, src, id);
            }
            if (!told || !told[src]) {   /* the rank waits for it */
                pthread_mutex_lock(&mpi_mu);
                MPI_Send(&z, 0, MPI_CHAR, src, TAG_STOP, MPI_COMM_WORLD);
                pthread_mutex_unlock(&mpi_mu);
                if (told)
                    told[src] = 1;
            }
            left--;
        } /* else not ours: dropped (never sent by bprun) */
    }
    free(buf);
    free(told);
#else
    while (!s->local_done(s->ud))
        nap();
#endif
}
