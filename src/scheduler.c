#include "autoconf.h"
#include "scheduler.h"

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "cluster.h"
#include "points.h"
#include "race.h"
#include "guard.h"
#include "resume.h"
#include "runlog.h"
#include "trial.h"

/* below this many multiply-adds per batch a trial cannot keep several cores busy */
#define BP_SMALL_MODEL_WORK (1u << 21)

typedef struct sched {
    bp_sweep *s;
    char *race_log;               /* sweep.race: the decisions so far (owned) */
    const bp_sched_opts *o;
    bp_sched_result *res;
    bp_experiment **x;
    bp_resume **resume;           /* interrupted trials of a resumed run: continue them */
    unsigned char *replace;       /* 1: the trial's file exists (interrupted) and is replaced */
    bp_run *run;
    bp_trial_summary *rows;
    unsigned char *todo;          /* 1: run it in this invocation */
    int *epoch, *epochs;          /* progress per trial */
    size_t next, running, done, total_todo;
    long done_epochs, total_epochs;
    int kernel_threads, jobs, tty, per_epoch_lines;
    double t0, last_print, best;
    long best_id;
    pthread_mutex_t mu;
    /* successive halving: the trials of the current round, their jobs, their outcome */
    size_t *round, n_round, next_round;
    bp_trial_job **job;
    unsigned char *alive;
    int until;
    int failed;                   /* an error outside the trials: stop */
    bp_err err;
    char *resolved0;
    int rank, size;               /* MPI (cluster.h): this rank and the number of ranks */
    int local_left;               /* rank 0 under MPI: its worker threads still running */
} sched;

static void pending_row(bp_trial_summary *r, const bp_trial_spec *t)
{
    memset(r, 0, sizeof *r);
    r->trial = t->id;
    r->seed = t->seed;
    r->status = "pending";
    r->final_loss = r->final_val_loss = r->final_accuracy = r->final_val_accuracy = NAN;
    r->best_val_loss = r->wall_seconds = r->final_test_loss = r->final_test_accuracy = NAN;
}

static double score(const bp_trial_summary *r)
{
    return !isnan(r->final_val_loss) ? r->final_val_loss : r->final_loss;
}

static void fmt_hms(double s, char *buf, size_t n)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%02ld:%02ld", t / 60, t % 60);
}

/* the live line (terminal only); caller holds mu */
static void print_live(sched *c, int force)
{
    if (!c->tty || c->o->quiet || c->per_epoch_lines)
        return; /* before the clock read: on_progress calls this every epoch */
    double t = bp_seconds();
    if (!force && t - c->last_print < 0.2)
        return;
    c->last_print = t;
    char el[32], eta[32] = "--:--", line[512];
    fmt_hms(t - c->t0, el, sizeof el);
    if (c->done_epochs > 0)
        fmt_hms((t - c->t0) * (double)(c->total_epochs - c->done_epochs) / (double)c->done_epochs,
                eta, sizeof eta);
    int n = snprintf(line, sizeof line, "\r[%zu/%zu done, %zu running", c->done,
                     c->total_todo, c->running);
    for (size_t i = 0, shown = 0; i < c->s->n_trials && shown < 4 && n < (int)sizeof line - 40; i++)
        if (c->epoch[i] > 0 && !strcmp(c->rows[i].status, "running")) {
            n += snprintf(line + n, sizeof line - (size_t)n, "%s #%04zu e%d/%d", shown ? "," : ":",
                          i, c->epoch[i], c->epochs[i]);
            shown++;
        }
    n += snprintf(line + n, sizeof line - (size_t)n, "] %s elapsed, ETA %s", el, eta);
    if (c->best_id >= 0 && n < (int)sizeof line - 40)
        snprintf(line + n, sizeof line - (size_t)n, ", best %.4g (#%04ld)", c->best, c->best_id);
    fprintf(stderr, "%s\033[K", line);
    fflush(stderr);
}

static void on_progress(void *ud, unsigned trial, int epoch, int epochs, double loss)
{
    (void)loss;
    sched *c = ud;
    pthread_mutex_lock(&c->mu);
    c->epoch[trial] = epoch;
    c->epochs[trial] = epochs;
    c->done_epochs++;
    print_live(c, 0);
    pthread_mutex_unlock(&c->mu);
}

static void print_finished(sched *c, const bp_trial_summary *r)
{
    if (c->o->quiet || c->per_epoch_lines)
        return;
    if (c->tty)
        fputs("\r\033[K", stderr);
    const bp_trial_spec *t = &c->s->trials[r->trial];
    fprintf(stderr, "trial %04u %-11s epochs %-5d loss %-10.6g", r->trial, r->status, r->epochs,
            r->final_loss);
    if (!isnan(r->final_val_loss))
        fprintf(stderr, " val_loss %-10.6g", r->final_val_loss);
    if (isnan(r->wall_seconds))
        fprintf(stderr, " %6s ", "-"); /* a trial process that did not finish */
    else
        fprintf(stderr, " %6.2fs", r->wall_seconds);
    for (size_t a = 0; a < c->s->n_axes; a++)
        fprintf(stderr, "%s%s=%s", a ? " " : "  ", c->s->axes[a], t->values[a]);
    if (c->s->repeats > 1)
        fprintf(stderr, " (repeat %u)", t->repeat);
    if (r->message[0])
        fprintf(stderr, "  [%s]", r->message);
    fputc('\n', stderr);
    print_live(c, 1);
}

static int write_index(sched *c, bp_err *e)
{
    const bp_config *c0 = c->s->trials[0].cfg;
    return bp_run_write_index(c->run, c0->text, c->resolved0, c->rows, c->s->n_trials,
                              c->o->threads, e);
}

static int trial_path(char *buf, size_t n, const char *dir, unsigned id, const char *suffix)
{
    return (size_t)snprintf(buf, n, "%s/trials/%04u.h5%s", dir, id, suffix) >= n ? -1 : 0;
}

/* The next trial to run, or -1 when there is none (or the sweep is stopping). Holds mu. */
static long take_next(sched *c)
{
    while (c->next < c->s->n_trials && !c->todo[c->next])
        c->next++;
    if (c->next >= c->s->n_trials || c->failed || (c->o->stop && *c->o->stop))
        return -1;
    size_t id = c->next++;
    c->running++;
    c->rows[id].status = "running";
    print_live(c, 1);
    return (long)id;
}

/* A trial ended (its file written): count it, print it, rewrite the index. Caller holds mu. */
static void record(sched *c, size_t id, const bp_trial_summary *sum)
{
    c->rows[id] = *sum;
    c->done++;
    if (!strcmp(sum->status, "completed")) {
        c->res->completed++;
        double sc = score(sum);
        if (!isnan(sc) && (c->best_id < 0 || sc < c->best)) {
            c->best = sc;
            c->best_id = (long)id;
        }
    } else if (!strcmp(sum->status, "interrupted")) {
        c->res->interrupted = 1;
    } else if (!strcmp(sum->status, "pruned")) {
        c->res->pruned++;
    } else {
        c->res->failed++;
        if (c->o->fail_fast && c->o->stop && !*c->o->stop)
            *c->o->stop = -1;
    }
    print_finished(c, sum);
    if (c->rank > 0 || c->o->shard_n > 0)
        return;   /* rank 0 writes the index; a shard only at its start and end, locked */
    bp_err ie;
    bp_err_clear(&ie);
    if (write_index(c, &ie) && !c->failed) {
        c->failed = 1;
        c->err = ie;
    }
}

/* An error outside a trial: keep the first. Caller holds mu. */
static void record_error(sched *c, size_t id, const bp_err *e)
{
    if (c->failed)
        return;
    c->failed = 1;
    c->err = *e;
    if (c->s->n_trials > 1)
        bp_err_prefix(&c->err, "trial %04zu", id);
}

/* A trial run returned rc (0: its file was written and sum holds its row). Caller holds mu. */
static void record_result(sched *c, size_t id, int rc, const bp_trial_summary *sum,
                          const bp_err *e)
{
    c->running--;
    if (rc) {
        record_error(c, id, e);
        c->rows[id].status = "pending";
    } else {
        record(c, id, sum);
    }
}

/* Successive halving: run the trials of the round (begun when new) up to epoch c->until; end
 * those that cannot go on. */
static void *halving_worker(void *arg)
{
    sched *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        if (c->next_round >= c->n_round || c->failed || (c->o->stop && *c->o->stop)) {
            pthread_mutex_unlock(&c->mu);
            return NULL;
        }
        size_t id = c->round[c->next_round++];
        c->running++;
        c->rows[id].status = "running";
        print_live(c, 1);
        pthread_mutex_unlock(&c->mu);

        bp_trial_opts to = { .trial = (unsigned)id, .threads = c->kernel_threads, .quiet = 1,
                             .stop = c->o->stop, .progress = on_progress, .progress_ud = c };
        bp_err e;
        bp_err_clear(&e);
        int alive = 0, rc = c->job[id] ? 0 : bp_trial_begin(c->x[id], c->run, &to, &c->job[id], &e);
        if (!rc)
            rc = bp_trial_advance(c->job[id], c->until, &alive, &e);
        bp_trial_summary sum;
        if (!rc && !alive) {
            rc = bp_trial_end(c->job[id], NULL, &sum, &e);
            c->job[id] = NULL;
        }
        pthread_mutex_lock(&c->mu);
        c->running--;
        c->alive[id] = (unsigned char)alive;
        if (rc) {
            record_error(c, id, &e);
            c->rows[id].status = "pending";
        } else if (!alive) {
            record(c, id, &sum);
        }
        pthread_mutex_unlock(&c->mu);
        if (rc)
            return NULL;
    }
}

typedef struct cand {
    size_t id;
    double v;
} cand;

static int by_value(const void *pa, const void *pb)
{
    const cand *a = pa, *b = pb;
    int na = isnan(a->v), nb = isnan(b->v);
    if (na != nb)
        return na - nb;
    if (!na && a->v != b->v)
        return a->v < b->v ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/* Run the jobs of one round on c->jobs threads. */
static void run_round(sched *c)
{
    pthread_t th[256];
    int started = 0;
    c->next_round = 0;
    for (int j = 1; j < c->jobs && j < 256; j++) {
        if (pthread_create(&th[j], NULL, halving_worker, c) != 0)
            break;
        started = j;
    }
    halving_worker(c);
    for (int j = 1; j <= started; j++)
        pthread_join(th[j], NULL);
}

/* Successive halving (sweep.halving): round k trains the trials still in play to rung k; the
 * points whose repeats reached it without stopping are ranked by the mean of the metric at
 * that epoch over those repeats (NaN last, ties by point) and the best ceil(n / eta) of the n
 * points go on with all their repeats, the others' repeats end as `pruned` (one repeat per
 * point: the trials themselves). Finished trials of a resumed run take part through their
 * saved rows, so the decisions are the same. */
static int run_halving(sched *c, bp_err *e)
{
    const bp_halving *hv = &c->s->halving;
    size_t n = c->s->n_trials;
    int rc = BP_OK, E = c->s->trials[0].cfg->train.epochs, col = hv->val ? 1 : 0;
    static const char *const cols[] = { "loss", "val_loss" };
    bp_trial_record **rec = bp_xcalloc(n, sizeof *rec, e);
    size_t *play = bp_xcalloc(n, sizeof *play, e), n_play = 0;
    cand *cd = bp_xcalloc(n, sizeof *cd, e), *pc = bp_xcalloc(n, sizeof *pc, e);
    size_t *cnt = bp_xcalloc(n, sizeof *cnt, e), R = c->s->repeats ? c->s->repeats : 1;
    c->round = bp_xcalloc(n, sizeof *c->round, e);
    c->job = bp_xcalloc(n, sizeof *c->job, e);
    c->alive = bp_xcalloc(n, 1, e);
    if (!rec || !play || !cd || !pc || !cnt || !c->round || !c->job || !c->alive) {
        rc = BP_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        play[n_play++] = i;
        if (c->todo[i])
            continue;
        char path[4096];
        if (trial_path(path, sizeof path, bp_run_path(c->run), (unsigned)i, "")) {
            rc = bp_err_set(e, BP_EUSAGE, "%s: path too long", c->o->run_dir);
            goto out;
        }
        if (!(rec[i] = bp_trial_record_read(path, cols, 2, e))) {
            rc = e->code;
            goto out;
        }
    }
    for (size_t k = 0; k <= hv->n_rungs; k++) {
        c->until = k < hv->n_rungs ? hv->rungs[k] : E;
        c->n_round = 0;
        for (size_t i = 0; i < n_play; i++)
            if (!rec[play[i]])
                c->round[c->n_round++] = play[i];
        run_round(c);
        if (c->failed || (c->o->stop && *c->o->stop) || k == hv->n_rungs)
            break;
        /* the decision at rung k */
        size_t nc = 0, r = (size_t)c->until;
        for (size_t i = 0; i < n_play; i++) {
            size_t id = play[i];
            const bp_trial_record *t = rec[id];
            int ok = t ? (t->epochs_done > c->until ||
                          (t->epochs_done == c->until && !strcmp(t->status, "pruned")))
                       : c->alive[id];
            if (!ok)
                continue;
            cd[nc].id = id;
            cd[nc++].v = t ? (t->n_rows >= r ? t->rows[(r - 1) * 2 + (size_t)col] : NAN)
                           : bp_trial_job_last(c->job[id])[hv->val ? BP_COL_VAL_LOSS : BP_COL_LOSS];
        }
        /* points, not trials: a point's value is the mean over its repeats in play (those
         * with a finite value; NaN when none), and all its repeats go on or stop together */
        size_t np = 0;
        memset(cnt, 0, n * sizeof *cnt);
        for (size_t i = 0; i < nc; i++) {
            size_t pid = cd[i].id / R, q = 0;
            while (q < np && pc[q].id != pid)
                q++;
            if (q == np)
                pc[np++] = (cand){ pid, NAN };
            if (isfinite(cd[i].v)) {
                cnt[q]++;
                pc[q].v = cnt[q] == 1 ? cd[i].v : pc[q].v + (cd[i].v - pc[q].v) / (double)cnt[q];
            }
        }
        qsort(pc, np, sizeof *pc, by_value);
        size_t keep = (size_t)ceil((double)np / hv->eta - 1e-9);
        if (keep < 1)
            keep = 1;
        n_play = 0;
        for (size_t i = 0; i < nc; i++) {
            size_t id = cd[i].id, q = 0;
            while (pc[q].id != id / R)
                q++;
            if (q < keep) {
                play[n_play++] = id;
                continue;
            }
            if (!c->job[id])
                continue; /* pruned in the run being resumed */
            char msg[BP_ERR_MSG_MAX];
            if (R > 1)
                snprintf(msg, sizeof msg, "pruned at epoch %d (rung %zu of %zu): point %zu's mean "
                         "%s %.6g over its repeats ranked %zu of %zu points, the best %zu go on",
                         c->until, k + 1, hv->n_rungs, pc[q].id, cols[col], pc[q].v, q + 1, np,
                         keep);
            else
                snprintf(msg, sizeof msg, "pruned at epoch %d (rung %zu of %zu): %s %.6g ranked "
                         "%zu of %zu, the best %zu go on", c->until, k + 1, hv->n_rungs,
                         cols[col], pc[q].v, q + 1, np, keep);
            bp_trial_summary sum;
            bp_err te;
            bp_err_clear(&te);
            int trc = bp_trial_end(c->job[id], msg, &sum, &te);
            c->job[id] = NULL;
            pthread_mutex_lock(&c->mu);
            if (trc)
                record_error(c, id, &te);
            else
                record(c, id, &sum);
            pthread_mutex_unlock(&c->mu);
        }
        if (c->failed)
            break;
    }
out:
    for (size_t i = 0; i < n; i++) {
        if (rec)
            bp_trial_record_free(rec[i]);
        if (c->job && c->job[i]) { /* interrupted between rounds: rerun on resume */
            bp_trial_job_free(c->job[i]);
            c->rows[i].status = "pending";
        }
    }
    free(rec);
    free(play);
    free(cd);
    free(pc);
    free(cnt);
    free(c->round);
    free(c->job);
    free(c->alive);
    c->round = NULL;
    c->job = NULL;
    c->alive = NULL;
    return rc;
}

/* The next trial for this worker: from this process's list, or (ranks > 0) from rank 0. */
static long next_trial(sched *c)
{
    long id = -1;
    if (c->rank > 0) {
        pthread_mutex_lock(&c->mu);
        int stopping = c->failed || (c->o->stop && *c->o->stop);
        pthread_mutex_unlock(&c->mu);
        if (stopping || (id = bp_mpi_next()) < 0 || (size_t)id >= c->s->n_trials)
            return -1;
        pthread_mutex_lock(&c->mu);
        c->running++;
        c->rows[id].status = "running";
        pthread_mutex_unlock(&c->mu);
        return id;
    }
    pthread_mutex_lock(&c->mu);
    id = take_next(c);
    pthread_mutex_unlock(&c->mu);
    return id;
}

/* A trial this process ran ended: record it (ranks > 0: and tell rank 0). */
static void end_trial(sched *c, size_t id, int rc, const bp_trial_summary *sum, const bp_err *e)
{
    pthread_mutex_lock(&c->mu);
    record_result(c, id, rc, sum, e);
    pthread_mutex_unlock(&c->mu);
    if (c->rank > 0)
        bp_mpi_done((long)id, rc, e);
}

static void *worker(void *arg)
{
    sched *c = arg;
    for (;;) {
        long id = next_trial(c);
        if (id < 0)
            return NULL;
        bp_trial_opts to = { .trial = (unsigned)id, .threads = c->kernel_threads,
                             .quiet = !c->per_epoch_lines || c->o->quiet, .stop = c->o->stop,
                             .progress = on_progress, .progress_ud = c,
                             .resume = c->resume[id], .replace = c->replace[id] };
        bp_trial_summary sum;
        bp_err e;
        bp_err_clear(&e);
        int rc = bp_experiment_run_trial(c->x[id], c->run, &to, &sum, &e);
        end_trial(c, (size_t)id, rc, &sum, &e);
    }
}

/* ---- trial isolation: one child process per trial ---- */

#define MAX_PLUGINS 64
static const char *crash_plugins[MAX_PLUGINS]; /* the child's plugin files, for crash reports */
static size_t n_crash_plugins;
static int crash_fd = -1;

static void child_progress(void *ud, unsigned trial, int epoch, int epochs, double loss)
{
    (void)trial;
    dprintf(*(int *)ud, "P %d %d %.17g\n", epoch, epochs, loss);
}

/* In the child: which plugin was running when the signal came (from the stack), then die of
 * the same signal. dladdr and backtrace are not async-signal-safe on paper; backtrace was
 * called once before, so it does not load libgcc here, and the process is dying anyway. */
static void on_crash(int sig, siginfo_t *si, void *uc)
{
    (void)si;
    (void)uc;
    void *frames[64];
    int n = backtrace(frames, 64);
    const char *who = "";
    for (int i = 0; i < n && !*who; i++) {
        Dl_info di;
        if (!dladdr(frames[i], &di) || !di.dli_fname)
            continue;
        for (size_t k = 0; k < n_crash_plugins; k++)
            if (!strcmp(di.dli_fname, crash_plugins[k]))
                who = crash_plugins[k];
    }
    dprintf(crash_fd, "V %zu\nC %d %s\n", bp_guard_vsize(), sig, who);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void note_plugin(const bp_loaded *p)
{
    if (!p || n_crash_plugins >= MAX_PLUGINS)
        return;
    for (size_t k = 0; k < n_crash_plugins; k++)
        if (crash_plugins[k] == p->path)
            return;
    crash_plugins[n_crash_plugins++] = p->path;
}

/* "256 MiB" */
static void fmt_size(char *buf, size_t n, size_t bytes)
{
    static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, n, "%.*f %s", u && v != (double)(long)v ? 1 : 0, v, units[u]);
}

static void run_child(sched *c, size_t id, int fd, pid_t parent)
{
    /* its own process group, killed as one; and it dies with the scheduler */
    setpgid(0, 0);
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    if (getppid() != parent)
        _exit(4);
    /* out of the terminal's foreground group now: writing to it (epoch lines, a plugin's
     * output) must not stop the trial (SIGTTOU with `stty tostop`), reading fails at once */
    signal(SIGTTOU, SIG_IGN);
    signal(SIGTTIN, SIG_IGN);
    const bp_experiment *x = c->x[id];
    n_crash_plugins = 0;
    note_plugin(x->opt);
    for (size_t l = 0; l + 2 < x->cfg->model.n_sizes; l++)
        note_plugin(x->hidden[l]);
    note_plugin(x->output);
    crash_fd = fd;
    void *warm[2];
    backtrace(warm, 2);
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS };
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_crash;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++)
        sigaction(sigs[k], &sa, NULL);
    bp_guard_trial(fd); /* a plugin's exit() is reported to the scheduler, not taken as done */
    bp_err e;
    bp_err_clear(&e);
    if (c->o->trial_memory) {
        size_t now = bp_guard_vsize();
        struct rlimit rl = { .rlim_cur = c->o->trial_memory, .rlim_max = c->o->trial_memory };
        char lim[32], cur[32];
        fmt_size(lim, sizeof lim, c->o->trial_memory);
        fmt_size(cur, sizeof cur, now);
        if (now >= c->o->trial_memory) {
            bp_err_set(&e, BP_EUSAGE, "--trial-memory %s is below the size of a trial process "
                       "when it starts (%s of address space: bprun, its libraries and the "
                       "datasets)", lim, cur);
            dprintf(fd, "E %d %s\n", e.code, e.msg);
            _exit(3);
        }
        if (setrlimit(RLIMIT_AS, &rl) != 0) {
            bp_err_set(&e, BP_ERUN, "--trial-memory: cannot set the limit: %s", strerror(errno));
            dprintf(fd, "E %d %s\n", e.code, e.msg);
            _exit(3);
        }
    }
    int pfd = fd;
    bp_trial_opts to = { .trial = (unsigned)id, .threads = c->kernel_threads,
                         .quiet = !c->per_epoch_lines || c->o->quiet, .stop = c->o->stop,
                         .progress = child_progress, .progress_ud = &pfd,
                         .resume = c->resume[id], .replace = c->replace[id] };
    bp_trial_summary sum;
    int rc = bp_experiment_run_trial(x, c->run, &to, &sum, &e);
    fflush(stdout); /* what plugins printed (fd 1 is stderr: guard.h) */
    if (rc) {
        dprintf(fd, "V %zu\nE %d %s\n", bp_guard_vsize(), e.code, e.msg);
        _exit(3);
    }
    dprintf(fd, "D\n"); /* the only way a trial process says it finished */
    _exit(0);
}

typedef struct child {
    pid_t pid;
    int fd;
    size_t id;
    double start;
    int sig;                    /* from a "C" line */
    char plugin[1024];
    int err_code;               /* from an "E" line */
    char err[BP_ERR_MSG_MAX];
    int done;                   /* a "D" line: the trial finished and its file is written */
    int exited;                 /* an "X" line: exit() called outside bprun */
    char exit_plugin[1024];     /* the plugin that called it, or "" */
    size_t vsize;               /* from a "V" line: address space when it ended */
    int timed_out, last_epoch;
    int stop_killed;            /* killed after BP_STOP_GRACE on SIGINT/SIGTERM */
    int trusted;                /* only bprun's own plugins: it stops at its epoch's end */
    char buf[2048];
    size_t len;
} child;

static void child_lines(sched *c, child *ch)
{
    char *line = ch->buf, *nl;
    while ((nl = memchr(line, '\n', ch->len - (size_t)(line - ch->buf)))) {
        *nl = '\0';
        int ep, eps;
        double loss;
        if (line[0] == 'P' && sscanf(line, "P %d %d %lg", &ep, &eps, &loss) == 3) {
            ch->last_epoch = ep;
            on_progress(c, (unsigned)ch->id, ep, eps, loss);
        } else if (line[0] == 'C') {
            char *sp = strchr(line + 2, ' ');
            ch->sig = atoi(line + 2);
            snprintf(ch->plugin, sizeof ch->plugin, "%s", sp ? sp + 1 : "");
        } else if (line[0] == 'E') {
            char *sp = strchr(line + 2, ' ');
            ch->err_code = atoi(line + 2);
            snprintf(ch->err, sizeof ch->err, "%s", sp ? sp + 1 : "");
        } else if (line[0] == 'D' && !line[1]) {
            ch->done = 1;
        } else if (line[0] == 'X') {
            char *sp = strchr(line + 2, ' ');
            ch->exited = 1;
            snprintf(ch->exit_plugin, sizeof ch->exit_plugin, "%s", sp ? sp + 1 : "");
        } else if (line[0] == 'V') {
            ch->vsize = (size_t)strtoull(line + 2, NULL, 10);
        }
        line = nl + 1;
    }
    size_t rest = ch->len - (size_t)(line - ch->buf);
    memmove(ch->buf, line, rest);
    ch->len = rest;
    if (ch->len == sizeof ch->buf) /* a line longer than the buffer: drop it */
        ch->len = 0;
}

static void child_read(sched *c, child *ch)
{
    for (;;) {
        ssize_t r = read(ch->fd, ch->buf + ch->len, sizeof ch->buf - ch->len);
        if (r <= 0)
            return;
        ch->len += (size_t)r;
        child_lines(c, ch);
    }
}

/* a plugin that is not one of bprun's own (installed, or in the build tree) */
static int user_plugin(const bp_loaded *p)
{
    if (!p)
        return 0;
    const char *slash = strrchr(p->path, '/');
    size_t dl = slash ? (size_t)(slash - p->path) : 0;
    static const char build[] = "/plugins/.libs";
    if (dl == strlen(BP_PLUGINDIR) && !strncmp(p->path, BP_PLUGINDIR, dl))
        return 0;
    if (dl >= sizeof build - 1 && !strncmp(p->path + dl - (sizeof build - 1), build, sizeof build - 1))
        return 0;
    return 1;
}

int bp_sched_user_plugin(const bp_experiment *x)
{
    if (user_plugin(x->opt) || user_plugin(x->output))
        return 1;
    for (size_t l = 0; l + 2 < x->cfg->model.n_sizes; l++)
        if (user_plugin(x->hidden[l]))
            return 1;
    return 0;
}

/* The trial's only user plugin, or NULL when it has none or several */
static const char *sole_user_plugin(const bp_experiment *x)
{
    const char *who = NULL;
    int n = 0;
    const bp_loaded *all[2] = { x->opt, x->output };
    for (size_t k = 0; k < 2; k++)
        if (user_plugin(all[k]) && (!who || strcmp(who, all[k]->path))) {
            who = all[k]->path;
            n++;
        }
    for (size_t l = 0; l + 2 < x->cfg->model.n_sizes; l++)
        if (user_plugin(x->hidden[l]) && (!who || strcmp(who, x->hidden[l]->path))) {
            who = x->hidden[l]->path;
            n++;
        }
    return n == 1 ? who : NULL;
}

/* Near the memory limit when it ended: the likely cause of its failure. */
static int hit_memory_limit(const sched *c, const child *ch)
{
    return c->o->trial_memory && ch->vsize >= c->o->trial_memory - c->o->trial_memory / 4;
}

static void child_done(sched *c, child *ch, int status)
{
    child_read(c, ch);
    close(ch->fd);
    bp_trial_summary sum;
    bp_err e;
    bp_err_clear(&e);
    char path[4096];
    snprintf(path, sizeof path, "%s/trials/%04zu.h5", bp_run_path(c->run), ch->id);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && ch->done && !ch->exited) {
        int rc = bp_trial_read_summary(path, &sum, &e);
        end_trial(c, ch->id, rc, &sum, &e);
        return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 3 && ch->err_code && !ch->exited &&
        !(ch->err_code == BP_ENOMEM && hit_memory_limit(c, ch))) {
        bp_err_set(&e, ch->err_code, "%s", ch->err);
        end_trial(c, ch->id, ch->err_code, &sum, &e);
        return;
    }
    char why[BP_ERR_MSG_MAX], msg[BP_ERR_MSG_MAX];
    char hint[BP_ERR_MSG_MAX] = "";
    const char *st = "failed";
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (ch->exited && ch->exit_plugin[0])
        snprintf(why, sizeof why, "plugin %.900s exited with status %d", ch->exit_plugin,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    else if (ch->exited)
        snprintf(why, sizeof why, "exit(%d) was called outside bprun's code",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    else if (sig && ch->plugin[0])
        snprintf(why, sizeof why, "plugin %.900s crashed: signal %d (%s)", ch->plugin, sig,
                 strsignal(sig));
    else if (sig)
        snprintf(why, sizeof why, "trial process died: signal %d (%s)%s", sig, strsignal(sig),
                 sig == SIGKILL && !ch->stop_killed && !ch->timed_out
                     ? ", killed from outside bprun (the kernel's out-of-memory killer?)" : "");
    else if (ch->err_code)
        snprintf(why, sizeof why, "%.900s", ch->err);
    else {
        snprintf(why, sizeof why, "trial process exited with status %d", WEXITSTATUS(status));
        const char *who = sole_user_plugin(c->x[ch->id]);
        snprintf(hint, sizeof hint, " before the trial finished (%s%.900s%s)",
                 who ? "did plugin " : "plugin code calling _exit?", who ? who : "",
                 who ? " call _exit?" : "");
    }
    if (ch->timed_out) {
        snprintf(msg, sizeof msg, "exceeded the trial time limit of %g s after epoch %d; killed",
                 c->o->trial_timeout, ch->last_epoch);
    } else if (ch->stop_killed || (c->o->stop && *c->o->stop > 0 && !ch->done)) {
        st = "interrupted";
        if (ch->stop_killed)
            snprintf(msg, sizeof msg, "did not stop within %g s of %s during epoch %d; killed",
                     BP_STOP_GRACE, *c->o->stop == SIGINT ? "SIGINT" : "SIGTERM",
                     ch->last_epoch + 1);
        else
            snprintf(msg, sizeof msg, "interrupted by %s during epoch %d (%.900s)",
                     *c->o->stop == SIGINT ? "SIGINT" : "SIGTERM", ch->last_epoch + 1, why);
    } else if (hit_memory_limit(c, ch)) {
        char lim[32];
        fmt_size(lim, sizeof lim, c->o->trial_memory);
        snprintf(msg, sizeof msg, "exceeded the trial memory limit of %s during epoch %d (%.900s)",
                 lim, ch->last_epoch + 1, why);
    } else {
        snprintf(msg, sizeof msg, "%.900s during epoch %d%s", why, ch->last_epoch + 1, hint);
    }
    int rc = bp_trial_salvage(c->run, (unsigned)ch->id, st, msg, &e);
    if (!rc)
        rc = bp_trial_read_summary(path, &sum, &e);
    if (rc) { /* nothing readable was left: record the failure in the index only */
        memset(&sum, 0, sizeof sum);
        sum.trial = (unsigned)ch->id;
        sum.seed = c->s->trials[ch->id].seed;
        sum.epochs = ch->last_epoch;
        sum.final_loss = sum.final_val_loss = sum.final_accuracy = sum.final_val_accuracy = NAN;
        sum.best_val_loss = sum.wall_seconds = sum.final_test_loss = sum.final_test_accuracy = NAN;
    }
    sum.status = st;
    snprintf(sum.message, sizeof sum.message, "%s", msg);
    end_trial(c, ch->id, 0, &sum, &e);
}

static void run_isolated(sched *c)
{
    child *ch = calloc((size_t)c->jobs, sizeof *ch);
    struct pollfd *pf = calloc((size_t)c->jobs, sizeof *pf);
    int n = 0, forwarded = 0;
    double stop_at = 0;
    if (!ch || !pf) {
        c->failed = 1;
        bp_err_set(&c->err, BP_ENOMEM, "out of memory");
        free(ch);
        free(pf);
        return;
    }
    for (;;) {
        while (n < c->jobs) {
            long id = next_trial(c);
            if (id < 0)
                break;
            int fds[2];
            fflush(NULL); /* bprun's own output stream too (guard.h) */
            if (pipe(fds) != 0) {
                c->failed = 1;
                bp_err_set(&c->err, BP_ERUN, "cannot create a pipe: %s", strerror(errno));
                break;
            }
            /* under mu: rank 0's MPI thread reads and writes HDF5 files under mu, and a
             * child forked while another thread holds HDF5's lock would hang in it */
            pthread_mutex_lock(&c->mu);
            pid_t parent = getpid();
            pid_t pid = fork();
            if (pid == 0)
                pthread_mutex_init(&c->mu, NULL);
            else
                pthread_mutex_unlock(&c->mu);
            if (pid == 0) {
                close(fds[0]);
                for (int k = 0; k < n; k++)
                    close(ch[k].fd);
                free(ch);
                free(pf);
                run_child(c, (size_t)id, fds[1], parent);
            }
            if (pid > 0)
                setpgid(pid, pid); /* as the child does: whichever runs first */
            close(fds[1]);
            if (pid < 0) {
                close(fds[0]);
                c->failed = 1;
                bp_err_set(&c->err, BP_ERUN, "cannot start a trial process: %s", strerror(errno));
                break;
            }
            fcntl(fds[0], F_SETFL, O_NONBLOCK);
            memset(&ch[n], 0, sizeof ch[n]);
            ch[n] = (child){ .pid = pid, .fd = fds[0], .id = (size_t)id, .start = bp_seconds(),
                             .trusted = !bp_sched_user_plugin(c->x[id]) };
            n++;
        }
        if (n == 0)
            break;
        for (int k = 0; k < n; k++)
            pf[k] = (struct pollfd){ .fd = ch[k].fd, .events = POLLIN };
        poll(pf, (nfds_t)n, forwarded ? 20 : 100);
        if (c->o->stop && *c->o->stop > 0 && !forwarded) {
            /* each trial may stop on its own (interrupted, its state saved) for a moment; one
             * with a user's plugin, which may loop or ignore the signal, gets SIGKILL after
             * BP_STOP_GRACE (bprun's own plugins return: those stop at their epoch's end) */
            for (int k = 0; k < n; k++)
                kill(-ch[k].pid, (int)*c->o->stop);
            forwarded = 1;
            stop_at = bp_seconds();
        }
        double now = bp_seconds();
        for (int k = 0; k < n;) {
            child_read(c, &ch[k]);
            if (c->o->trial_timeout > 0 && !ch[k].timed_out && !ch[k].stop_killed &&
                now - ch[k].start > c->o->trial_timeout) {
                ch[k].timed_out = 1;
                kill(-ch[k].pid, SIGKILL);
            }
            if (forwarded && !ch[k].trusted && !ch[k].stop_killed && !ch[k].timed_out &&
                now - stop_at > BP_STOP_GRACE) {
                ch[k].stop_killed = 1;
                kill(-ch[k].pid, SIGKILL);
            }
            /* ended? then, before reaping it (its pid, the group's id, stays reserved until
             * then), kill what the trial's plugins may have started in its group */
            siginfo_t si;
            memset(&si, 0, sizeof si);
            int status, ended = waitid(P_PID, (id_t)ch[k].pid, &si,
                                       WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == ch[k].pid;
            if (ended)
                kill(-ch[k].pid, SIGKILL);
            if (ended && waitpid(ch[k].pid, &status, 0) == ch[k].pid) {
                child_done(c, &ch[k], status);
                ch[k] = ch[--n];
                continue;
            }
            k++;
        }
    }
    free(ch);
    free(pf);
}

/* ---- MPI, rank 0: hand out trials to the other ranks, record what they ran ---- */

static long serve_next(void *ud, int rank)
{
    (void)rank;
    sched *c = ud;
    pthread_mutex_lock(&c->mu);
    long id = take_next(c);
    pthread_mutex_unlock(&c->mu);
    return id;
}

static void serve_done(void *ud, int rank, long id, int rc, const bp_err *e)
{
    sched *c = ud;
    bp_trial_summary sum;
    bp_err re = *e;
    if (id < 0 || (size_t)id >= c->s->n_trials)
        return;
    /* all under mu, HDF5 included: see run_isolated's fork */
    pthread_mutex_lock(&c->mu);
    if (!rc) {
        char path[4096];
        if (trial_path(path, sizeof path, bp_run_path(c->run), (unsigned)id, ""))
            rc = bp_err_set(&re, BP_EUSAGE, "%s: path too long", c->o->run_dir);
        else
            rc = bp_trial_read_summary(path, &sum, &re);
    }
    if (rc)
        bp_err_prefix(&re, "rank %d", rank);
    if (!rc)
        c->done_epochs += sum.epochs;
    record_result(c, (size_t)id, rc, &sum, &re);
    pthread_mutex_unlock(&c->mu);
}

static int serve_local_done(void *ud)
{
    sched *c = ud;
    pthread_mutex_lock(&c->mu);
    int d = c->local_left == 0;
    pthread_mutex_unlock(&c->mu);
    return d;
}

static void *local_worker(void *arg)
{
    sched *c = arg;
    worker(c);
    pthread_mutex_lock(&c->mu);
    c->local_left--;
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static void *local_isolated(void *arg)
{
    sched *c = arg;
    run_isolated(c);
    pthread_mutex_lock(&c->mu);
    c->local_left--;
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Rank 0 of several: n threads run fn (this rank's trials) while this thread serves the
 * other ranks until all are done. */
static int run_rank0(sched *c, void *(*fn)(void *), int n, bp_err *e)
{
    pthread_t *th = bp_xcalloc((size_t)n, sizeof *th, e);
    if (!th)
        return BP_ENOMEM;
    int started = 0;
    c->local_left = n;
    for (int j = 0; j < n; j++) {
        if (pthread_create(&th[j], NULL, fn, c) != 0)
            break;
        started++;
    }
    pthread_mutex_lock(&c->mu);
    c->local_left -= n - started;
    if (!started) {
        c->failed = 1;
        bp_err_set(&c->err, BP_ERUN, "cannot start a worker thread");
    }
    pthread_mutex_unlock(&c->mu);
    bp_mpi_server sv = { .ud = c, .next = serve_next, .done = serve_done,
                         .local_done = serve_local_done };
    bp_mpi_serve(&sv);
    for (int j = 0; j < started; j++)
        pthread_join(th[j], NULL);
    free(th);
    return 0;
}

static int wants_isolation(const sched *c)
{
    for (size_t i = 0; i < c->s->n_trials; i++)
        if (bp_sched_user_plugin(c->x[i]))
            return 1;
    return 0;
}

static size_t n_params_of(const bp_config *cfg)
{
    size_t n = 0;
    for (size_t l = 0; l + 1 < cfg->model.n_sizes; l++)
        n += (size_t)(cfg->model.sizes[l] + 1) * (size_t)cfg->model.sizes[l + 1];
    return n;
}

static void choose(sched *c)
{
    const bp_experiment *x0 = NULL;
    for (size_t i = 0; i < c->s->n_trials && !x0; i++)
        if (c->todo[i])
            x0 = c->x[i];
    int threads = c->o->threads;
    size_t todo = c->total_todo ? c->total_todo : 1;
    size_t params = x0 ? n_params_of(x0->cfg) : 0;
    size_t batch = x0 ? (x0->cfg->train.batch_size > 0 ? (size_t)x0->cfg->train.batch_size
                                                        : x0->train->n) : 1;
    if (x0 && batch > x0->train->n)
        batch = x0->train->n;
    int jobs = c->o->jobs;
    const char *why = "as asked with -j";
    if (jobs <= 0) {
        /* whole trials side by side scale almost perfectly; a trial's kernels only when the
         * batch is large: so use the threads for trials first, and for kernels only when
         * there are fewer trials than threads and the model is large */
        if (params * batch < BP_SMALL_MODEL_WORK) {
            jobs = threads;
            why = "small model: trials in parallel";
        } else if (todo >= (size_t)threads) {
            jobs = threads;
            why = "enough trials for every thread: trials in parallel";
        } else {
            jobs = (int)todo;
            why = "fewer trials than threads: parallel kernels";
        }
    }
    if ((size_t)jobs > todo)
        jobs = (int)todo;
    if (jobs < 1)
        jobs = 1;
    c->jobs = jobs;
    c->kernel_threads = threads / jobs > 0 ? threads / jobs : 1;
    if (!c->o->quiet && c->total_todo)
        fprintf(stderr, "bprun: %zu trial%s to run, %d at a time x %d thread%s (%s; %zu "
                "parameters, batch %zu)\n", c->total_todo, c->total_todo == 1 ? "" : "s", jobs,
                c->kernel_threads, c->kernel_threads == 1 ? "" : "s", why, params, batch);
}

/* A sweep trial's error ends with " (in trial ID: key=value, ...)", as the sweep's own do. */
static void name_trial(bp_err *e, const bp_sweep *s, size_t i)
{
    if (!e || s->n_trials < 2)
        return;
    size_t o = strlen(e->msg);
    o += (size_t)snprintf(e->msg + o, sizeof e->msg - o, " (in trial %u", s->trials[i].id);
    for (size_t k = 0; k < s->n_axes && o < sizeof e->msg; k++)
        o += (size_t)snprintf(e->msg + o, sizeof e->msg - o, "%s %s=%s", k ? "," : ":",
                              s->axes[k], s->trials[i].values[k]);
    if (o < sizeof e->msg)
        snprintf(e->msg + o, sizeof e->msg - o, ")");
}

int bp_sched_prepare(bp_sweep *s, bp_registry *reg, bp_experiment **x, bp_err *e)
{
    uint64_t base_seed = s->trials[0].seed - s->trials[0].repeat;
    for (size_t i = 0; i < s->n_trials; i++) {
        int rc = BP_OK;
        x[i] = NULL;
        /* datasets are shared with the first earlier trial that loaded the same ones */
        char *key = bp_experiment_data_key(s->trials[i].cfg, base_seed, e);
        const bp_experiment *share = NULL;
        if (!key)
            rc = BP_ENOMEM;
        for (size_t j = 0; key && j < i && !share; j++)
            if (x[j]->owns_data && !strcmp(x[j]->data_key, key))
                share = x[j];
        free(key);
        if (!rc)
            rc = bp_experiment_prepare_shared(s->trials[i].cfg, reg, share, base_seed, &x[i], e);
        if (rc) {
            if (rc != BP_ENOMEM)
                name_trial(e, s, i);
            for (size_t j = i; j-- > 0;) {
                bp_experiment_free(x[j]);
                x[j] = NULL;
            }
            return rc;
        }
    }
    return BP_OK;
}

/* A shard waits this long for the folder's lock (held briefly by other shards and merges). */
#define BP_SHARD_LOCK_WAIT 120.0

/* Run the trials marked in c->todo on c->jobs threads, or in child processes. */
static void run_pool(sched *c, int isolated)
{
    c->next = 0;
    if (isolated) {
        run_isolated(c);
        return;
    }
    pthread_t th[256];
    int started = 0;
    for (int j = 1; j < c->jobs && j < 256; j++) {
        if (pthread_create(&th[j], NULL, worker, c) != 0)
            break;
        started = j;
    }
    worker(c);
    for (int j = 1; j <= started; j++)
        pthread_join(th[j], NULL);
}

static int finished(const char *status)
{
    return !strcmp(status, "completed") || !strcmp(status, "diverged") ||
           !strcmp(status, "failed") || !strcmp(status, "pruned");
}

/* A finished trial's value of the race's metric; the worst one when it failed, diverged, has
 * none, or (epochs_to_target) never reached the target. */
static double race_value(const bp_trial_summary *t, int metric, int higher)
{
    double worst = higher ? -INFINITY : INFINITY, v = NAN;
    if (strcmp(t->status, "completed") != 0)
        return worst;
    switch (metric) {
    case BP_RANK_LOSS: v = t->final_loss; break;
    case BP_RANK_VAL_LOSS: v = t->final_val_loss; break;
    case BP_RANK_BEST_VAL_LOSS: v = t->best_val_loss; break;
    case BP_RANK_ACCURACY: v = t->final_accuracy; break;
    case BP_RANK_VAL_ACCURACY: v = t->final_val_accuracy; break;
    case BP_RANK_TEST_LOSS: v = t->final_test_loss; break;
    case BP_RANK_TEST_ACCURACY: v = t->final_test_accuracy; break;
    case BP_RANK_EPOCHS_TO_TARGET: v = t->epochs_to_target > 0 ? t->epochs_to_target : NAN; break;
    default: break;
    }
    return isfinite(v) ? v : worst;
}

/* "train.optimizer.lr=0.01 train.optimizer.name=sgd" for point p (its repeat 0), or "point P" */
static void race_point(FILE *f, const sched *c, size_t p)
{
    const bp_trial_spec *t = &c->s->trials[p * c->s->repeats];
    fprintf(f, "point %zu", p);
    for (size_t a = 0; a < c->s->n_axes; a++)
        fprintf(f, "%s%s=%s", a ? " " : " (", c->s->axes[a], t->values[a]);
    if (c->s->n_axes)
        fputc(')', f);
}

/* Racing (sweep.race, F-Race): round 1 runs repeats 0 .. min_repeats - 1 of every point; each
 * round after it adds `step` repeats to the points still racing, until one is left or they
 * ran max_repeats. After each round, the points' values over the repeats all of them ran are
 * handed to bp_race_decide, which drops the ones that are worse. Every decision depends on the
 * trials' results only: any -j, isolation, or a resumed run (finished trials are not rerun)
 * takes the same decisions. Trials the race did not need end as `skipped`; the decisions go
 * into the index as the text attribute `race`. */
static int run_race(sched *c, int isolated, bp_err *e)
{
    const bp_race *ra = &c->s->race;
    size_t n = c->s->n_trials, P = c->s->n_points, R = c->s->repeats;
    int higher = bp_rank_metric_higher((bp_rank_metric)ra->metric), rc = 0;
    unsigned char *alive = malloc(P), *drop = malloc(P);
    size_t *live = malloc(P * sizeof *live);
    double *x = malloc(P * R * sizeof *x), *pp = malloc(P * sizeof *pp), *ph = malloc(P * sizeof *ph);
    char *log = NULL;
    size_t log_len = 0, b = 0, target = ra->min_repeats, k = P, round = 0, trials_run = 0;
    FILE *lf = open_memstream(&log, &log_len);
    if (!alive || !drop || !live || !x || !pp || !ph || !lf) {
        rc = bp_err_set(e, BP_ENOMEM, "out of memory");
        goto out;
    }
    memset(alive, 1, P);
    fprintf(lf, "race of %zu points on the final %s (%s is better): rounds of %u repeats and then "
            "%u more, at most %u; alpha %g\n", P, bp_rank_metric_names[ra->metric],
            higher ? "higher" : "lower", ra->min_repeats, ra->step, ra->max_repeats, ra->alpha);
    for (;;) {
        round++;
        memset(c->todo, 0, n);
        c->total_todo = 0;
        for (size_t p = 0; p < P; p++)
            for (size_t r = b; alive[p] && r < target; r++)
                if (!finished(c->rows[p * R + r].status)) {
                    c->todo[p * R + r] = 1;
                    c->total_todo++;
                }
        run_pool(c, isolated);
        if (c->failed || (c->o->stop && *c->o->stop))
            break;
        b = target;
        k = 0;
        for (size_t p = 0; p < P; p++)
            if (alive[p])
                live[k++] = p;
        for (size_t i = 0; i < b; i++)
            for (size_t j = 0; j < k; j++)
                x[i * k + j] = race_value(&c->rows[live[j] * R + i], ra->metric, higher);
        bp_race_decision d;
        if (bp_race_decide(x, b, k, higher, ra->alpha, drop, pp, ph, &d)) {
            rc = bp_err_set(e, BP_ENOMEM, "out of memory");
            break;
        }
        fprintf(lf, "round %zu: %zu points x %zu repeats: %s %.4g, p = %.3g", round, k, b,
                d.test == 1 ? "Friedman chi2" : "Wilcoxon signed-rank W", d.stat, d.p);
        if (!(d.p < ra->alpha)) {
            fprintf(lf, " >= %g: no point dropped\n", ra->alpha);
        } else {
            fprintf(lf, " < %g; best: ", ra->alpha);
            race_point(lf, c, live[d.best]);
            fprintf(lf, d.n_drop ? "\n" : "; no point significantly worse\n");
        }
        for (size_t j = 0; j < k; j++)
            if (drop[j]) {
                alive[live[j]] = 0;
                fputs("  dropped ", lf);
                race_point(lf, c, live[j]);
                if (d.test == 1)
                    fprintf(lf, ": worse than the best (Conover p = %.3g, Holm %.3g)\n", pp[j],
                            ph[j]);
                else
                    fprintf(lf, ": worse than the other (p = %.3g)\n", pp[j]);
            }
        k -= d.n_drop;
        if (k == 1 || b >= ra->max_repeats)
            break;
        target = b + ra->step > ra->max_repeats ? ra->max_repeats : b + ra->step;
    }
    if (!c->failed && !(c->o->stop && *c->o->stop)) {
        for (size_t i = 0; i < n; i++) {
            if (!strcmp(c->rows[i].status, "pending"))
                c->rows[i].status = "skipped";   /* not needed: never run */
            else
                trials_run++;
        }
        if (k == 1) {
            size_t w = 0;
            while (!alive[w])
                w++;
            fputs("winner: ", lf);
            race_point(lf, c, w);
            fprintf(lf, " after %zu repeats; %zu of %zu trials run (%.0f%%)\n", b, trials_run, n,
                    100.0 * (double)trials_run / (double)n);
        } else {
            fprintf(lf, "no single winner after %zu repeats (max_repeats): %zu points left, not "
                    "distinguishable at alpha %g:", b, k, ra->alpha);
            for (size_t p = 0; p < P; p++)
                if (alive[p]) {
                    fputc(' ', lf);
                    race_point(lf, c, p);
                }
            fprintf(lf, "; %zu of %zu trials run (%.0f%%)\n", trials_run, n,
                    100.0 * (double)trials_run / (double)n);
        }
    }
out:
    if (lf)
        fclose(lf);
    free(c->race_log);
    c->race_log = log;
    if (c->race_log && c->run)
        bp_run_set_race(c->run, c->race_log);
    free(alive);
    free(drop);
    free(live);
    free(x);
    free(pp);
    free(ph);
    return rc;
}

int bp_sched_run(bp_sweep *s, bp_registry *reg, const bp_sched_opts *o_in, bp_sched_result *res,
                 bp_err *e)
{
    memset(res, 0, sizeof *res);
    res->n_trials = s->n_trials;
    bp_sched_opts lo = *o_in;
    const bp_sched_opts *o = &lo;
    sched c = { .s = s, .o = o, .res = res, .best_id = -1, .rank = bp_mpi_rank(),
                .size = bp_mpi_size() };
    if (c.rank > 0)
        lo.quiet = 1;   /* rank 0 reports every trial */
    int sharded = o->shard_n > 0;
    int rc = BP_OK, mu_ok = 0;
    /* the working folder, restored at the end: a plugin that calls chdir moves the run's own
     * files nothing (they are opened by absolute path), nor what the caller does next */
    int cwd_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    size_t n = s->n_trials;
    char *table = NULL;
    size_t table_len = 0;
    char ***param_rows = NULL;
    c.x = bp_xcalloc(n, sizeof *c.x, e);
    c.rows = bp_xcalloc(n, sizeof *c.rows, e);
    c.todo = bp_xcalloc(n, 1, e);
    c.epoch = bp_xcalloc(n, sizeof *c.epoch, e);
    c.epochs = bp_xcalloc(n, sizeof *c.epochs, e);
    c.resume = bp_xcalloc(n, sizeof *c.resume, e);
    c.replace = bp_xcalloc(n, 1, e);
    param_rows = bp_xcalloc(n, sizeof *param_rows, e);
    if (!c.x || !c.rows || !c.todo || !c.epoch || !c.epochs || !param_rows || !c.resume ||
        !c.replace) {
        rc = BP_ENOMEM;
        goto out;
    }
    if (o->only >= 0 && (s->halving.n_rungs || s->race.active)) {
        rc = bp_err_set(e, BP_EUSAGE, "--trial %ld: the sweep uses sweep.%s, whose decisions "
                        "need every trial; run the whole sweep", o->only,
                        s->race.active ? "race" : "halving");
        goto out;
    }
    if (o->only >= (long)n) {
        rc = bp_err_set(e, BP_EUSAGE, "--trial %ld: the sweep has trials 0 to %zu", o->only, n - 1);
        goto out;
    }
    if (sharded && (o->shard_i < 1 || o->shard_i > o->shard_n)) {
        rc = bp_err_set(e, BP_EUSAGE, "--shard %d/%d: expected I/N with 1 <= I <= N", o->shard_i,
                        o->shard_n);
        goto out;
    }
    if ((sharded || c.size > 1) && (s->halving.n_rungs || s->race.active)) {
        rc = bp_err_set(e, BP_EUSAGE, "%s: the sweep uses sweep.%s, whose rounds need every "
                        "trial's results; run it in one process", sharded ? "--shard" : "mpirun",
                        s->race.active ? "race" : "halving");
        goto out;
    }
    if (sharded && (o->force || o->only >= 0 || c.size > 1)) {
        rc = bp_err_set(e, BP_EUSAGE, "--shard cannot be used with %s", o->force ? "--force "
                        "(remove the run folder before the first shard starts)" : o->only >= 0 ?
                        "--trial" : "mpirun (the ranks share the trials already)");
        goto out;
    }
    /* everything that can be checked is checked before anything runs */
    rc = bp_sched_prepare(s, reg, c.x, e);
    if (c.size > 1)
        rc = bp_mpi_agree(rc, e);
    if (rc)
        goto out;
    for (size_t i = 0; i < n; i++) {
        pending_row(&c.rows[i], &s->trials[i]);
        param_rows[i] = s->trials[i].values;
    }
    if (!(c.resolved0 = bp_config_dump_string(s->trials[0].cfg))) {
        rc = bp_err_set(e, BP_ENOMEM, "out of memory");
        goto out;
    }
    FILE *tf = open_memstream(&table, &table_len);
    if (!tf) {
        rc = bp_err_set(e, BP_ENOMEM, "out of memory");
        goto out;
    }
    bp_sweep_print(tf, s);
    fclose(tf);
    int resumed = 0;
    if (c.rank == 0) {
        c.run = sharded ? bp_run_open_shared(o->run_dir, s->hash, table, c.resolved0,
                                             BP_SHARD_LOCK_WAIT, &resumed, e)
                        : bp_run_open(o->run_dir, s->hash, table, c.resolved0, o->force,
                                      &resumed, e);
        rc = c.run ? 0 : (e->code ? e->code : BP_ERUN);
        if (c.run && bp_run_kept(c.run))
            fprintf(stderr, "bprun: %s\n", bp_run_kept(c.run));
    }
    if (c.size > 1) {
        /* the others attach once rank 0 has the folder (created, locked, resumed or reset) */
        rc = bp_mpi_agree(rc, e);
        if (!rc && c.rank > 0) {
            resumed = 1;
            if (!(c.run = bp_run_attach(o->run_dir, e)))
                rc = e->code;
        }
        rc = bp_mpi_agree(rc, e);
    }
    if (rc)
        goto out;
    bp_run_set_sweep(c.run, s->hash, table, s->n_axes, s->axes, (char *const *const *)param_rows);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        c.todo[i] = (o->only < 0 || (size_t)o->only == i) &&
                    (!sharded || i % (size_t)o->shard_n == (size_t)o->shard_i - 1);
        if (trial_path(path, sizeof path, bp_run_path(c.run), (unsigned)i, "")) {
            rc = bp_err_set(e, BP_EUSAGE, "%s: path too long", o->run_dir);
            break;
        }
        struct stat tst;
        if (resumed && lstat(path, &tst) == 0 && !S_ISREG(tst.st_mode)) {
            /* a link or a FIFO with a trial's name: never read through (a FIFO would hang) */
            rc = bp_err_set(e, BP_EEXIST, "%s/trials/%04zu.h5: %s; bprun reads no trial file "
                            "through it: move it away, or use -o to choose another folder", o->run_dir, i,
                            S_ISLNK(tst.st_mode) ? "a symbolic link" : "not a regular file");
            break;
        }
        if (resumed && access(path, F_OK) == 0) {
            bp_trial_summary sum;
            if ((rc = bp_trial_read_summary(path, &sum, e)))
                break;
            if (strcmp(sum.status, "interrupted") != 0) {
                c.rows[i] = sum;
                if (c.todo[i])
                    res->resumed++;
                c.todo[i] = 0;
                if (!strcmp(sum.status, "completed")) {
                    double sc = score(&sum);
                    if (!isnan(sc) && (c.best_id < 0 || sc < c.best)) {
                        c.best = sc;
                        c.best_id = (long)i;
                    }
                }
                continue;
            }
            /* interrupted: continue it from its saved state (bit-identical to an uninterrupted
             * trial); its file is replaced when the continued trial finishes */
            c.rows[i] = sum;
            c.replace[i] = 1;
            if (c.todo[i] && bp_resume_load(path, c.x[i], &c.resume[i], e) != 0) {
                if (!o->quiet)
                    fprintf(stderr, "bprun: trial %04zu: cannot continue (%s); it runs again from "
                            "the start\n", i, e->msg);
                c.resume[i] = NULL;
            }
        }
        if (c.todo[i]) {
            c.total_todo++;
            c.total_epochs += s->trials[i].cfg->train.epochs;
        } else {
            res->skipped++;
        }
    }
    if (!rc && pthread_mutex_init(&c.mu, NULL) != 0)
        rc = bp_err_set(e, BP_ERUN, "cannot create a mutex");
    else if (!rc)
        mu_ok = 1;
    if (!rc && c.rank == 0)
        rc = write_index(&c, e);
    if (sharded)
        bp_run_unlock(c.run);   /* the other shards may open the folder now */
    if (c.size > 1)
        rc = bp_mpi_agree(rc, e);
    if (rc)
        goto out;
    c.tty = isatty(STDERR_FILENO);
    c.per_epoch_lines = n == 1 && !o->quiet;
    c.t0 = bp_seconds();
    if (!o->quiet && res->resumed)
        fprintf(stderr, "bprun: resuming %s: %zu finished trial%s kept\n", o->run_dir,
                res->resumed, res->resumed == 1 ? "" : "s");
    if (!o->quiet && c.size > 1)
        fprintf(stderr, "bprun: %d MPI ranks take the trials one at a time as they finish; per "
                "rank:\n", c.size);
    if (!o->quiet && sharded)
        fprintf(stderr, "bprun: shard %d/%d: trials whose id mod %d is %d\n", o->shard_i,
                o->shard_n, o->shard_n, o->shard_i - 1);
    choose(&c);
    if (s->halving.n_rungs) {
        /* rounds keep their trainers in memory between rungs: no child processes */
        if (o->isolate > 0 || o->trial_timeout > 0 || o->trial_memory) {
            rc = bp_err_set(e, BP_EUSAGE, "--isolate, --trial-timeout and --trial-memory cannot "
                            "be used with sweep.halving");
            goto out;
        }
        if (o->in_threads && wants_isolation(&c))
            *o->in_threads = 1;
        rc = run_halving(&c, e);
        if (o->in_threads)
            *o->in_threads = 0;
        if (rc)
            goto out;
        goto joined;
    }
    res->isolated = o->isolate > 0 || o->trial_timeout > 0 || o->trial_memory ||
                    (o->isolate < 0 && wants_isolation(&c));
    if (res->isolated) {
        if (!o->quiet && c.total_todo)
            fprintf(stderr, "bprun: each trial in its own process (%s)\n",
                    o->isolate > 0 ? "--isolate" : o->trial_timeout > 0 ? "--trial-timeout"
                    : o->trial_memory ? "--trial-memory" : "a user's plugin");
    }
    if (s->race.active) {
        if (!o->quiet)
            fprintf(stderr, "bprun: racing %zu points over up to %u repeats (round 1: %u "
                    "repeats each)\n", s->n_points, s->race.max_repeats, s->race.min_repeats);
        if (!res->isolated && o->in_threads && wants_isolation(&c))
            *o->in_threads = 1;
        if ((rc = run_race(&c, res->isolated, e)))
            goto out;
        goto joined;
    }
    if (res->isolated) {
        if (c.size > 1 && c.rank == 0)
            run_rank0(&c, local_isolated, 1, &c.err);
        else
            run_isolated(&c);
        goto joined;
    }
    if (o->in_threads && wants_isolation(&c))
        *o->in_threads = 1; /* a user's plugin may never return: main's stop watchdog */
    if (c.size > 1 && c.rank == 0) {
        if (run_rank0(&c, local_worker, c.jobs, &c.err))
            c.failed = 1;
        goto joined;
    }
    pthread_t *th = bp_xcalloc((size_t)c.jobs, sizeof *th, &c.err);
    if (!th) {
        c.failed = 1;
        goto joined;
    }
    int started = 0;
    for (int j = 1; j < c.jobs; j++) {
        if (pthread_create(&th[j], NULL, worker, &c) != 0)
            break;
        started = j;
    }
    worker(&c);
    for (int j = 1; j <= started; j++)
        pthread_join(th[j], NULL);
    free(th);
joined:
    if (o->in_threads)
        *o->in_threads = 0;
    if (c.rank > 0)
        bp_mpi_finished();
    if (c.tty && !o->quiet && !c.per_epoch_lines)
        fputs("\r\033[K", stderr);
    if (c.failed) {
        *e = c.err;
        rc = e->code ? e->code : BP_ERUN;
        bp_err clear;
        bp_merge_result mr;
        if (sharded)
            bp_run_merge(bp_run_path(c.run), BP_SHARD_LOCK_WAIT, &mr, &clear);
        else if (c.rank == 0)
            write_index(&c, &clear);
        goto out;
    }
    if (o->stop && *o->stop > 0)
        res->interrupted = 1;
    if (sharded) {
        /* the index from every shard's finished trials, under the lock; a shard that finished
         * no trial leaves the index as it is */
        bp_merge_result mr;
        rc = bp_run_merge(bp_run_path(c.run), BP_SHARD_LOCK_WAIT, &mr, e);
        if (rc == BP_EUSAGE && mr.n_trials && !mr.finished)
            rc = BP_OK;
    } else if (c.rank == 0) {
        rc = write_index(&c, e);
    }
out:
    if (mu_ok)
        pthread_mutex_destroy(&c.mu);
    bp_run_close(c.run);
    for (size_t i = n; c.x && i-- > 0;)
        bp_experiment_free(c.x[i]);
    free(c.x);
    free(c.rows);
    free(c.todo);
    free(c.epoch);
    free(c.epochs);
    for (size_t i = 0; c.resume && i < n; i++)
        bp_resume_free(c.resume[i]);
    free(c.resume);
    free(c.replace);
    free(param_rows);
    free(table);
    free(c.resolved0);
    free(c.race_log);
    if (cwd_fd >= 0) {
        if (fchdir(cwd_fd) != 0 && !rc)
            rc = bp_err_set(e, BP_EIO, "cannot return to the working folder: %s",
                            strerror(errno));
        close(cwd_fd);
    }
    return rc;
}
