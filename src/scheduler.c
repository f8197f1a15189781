#include "autoconf.h"
#include "scheduler.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runlog.h"
#include "trial.h"

/* below this many multiply-adds per batch a trial cannot keep several cores busy */
#define BP_SMALL_MODEL_WORK (1u << 21)

typedef struct sched {
    bp_sweep *s;
    const bp_sched_opts *o;
    bp_sched_result *res;
    bp_experiment **x;
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
    int failed;                   /* an error outside the trials: stop */
    bp_err err;
    char *resolved0;
} sched;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

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
    double t = now();
    if (!c->tty || c->o->quiet || c->per_epoch_lines || (!force && t - c->last_print < 0.2))
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

static void *worker(void *arg)
{
    sched *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        while (c->next < c->s->n_trials && !c->todo[c->next])
            c->next++;
        if (c->next >= c->s->n_trials || c->failed || (c->o->stop && *c->o->stop)) {
            pthread_mutex_unlock(&c->mu);
            return NULL;
        }
        size_t id = c->next++;
        c->running++;
        c->rows[id].status = "running";
        print_live(c, 1);
        pthread_mutex_unlock(&c->mu);

        bp_trial_opts to = { .trial = (unsigned)id, .threads = c->kernel_threads,
                             .quiet = !c->per_epoch_lines || c->o->quiet, .stop = c->o->stop,
                             .progress = on_progress, .progress_ud = c };
        bp_trial_summary sum;
        bp_err e;
        bp_err_clear(&e);
        int rc = bp_experiment_run_trial(c->x[id], c->run, &to, &sum, &e);

        pthread_mutex_lock(&c->mu);
        c->running--;
        if (rc) {
            if (!c->failed) {
                c->failed = 1;
                c->err = e;
                if (c->s->n_trials > 1)
                    bp_err_prefix(&c->err, "trial %04zu", id);
            }
            c->rows[id].status = "pending";
            pthread_mutex_unlock(&c->mu);
            return NULL;
        }
        c->rows[id] = sum;
        c->done++;
        c->total_epochs -= c->epochs[id] > 0 ? 0 : 0;
        if (!strcmp(sum.status, "completed")) {
            c->res->completed++;
            double sc = score(&sum);
            if (!isnan(sc) && (c->best_id < 0 || sc < c->best)) {
                c->best = sc;
                c->best_id = (long)id;
            }
        } else if (!strcmp(sum.status, "interrupted")) {
            c->res->interrupted = 1;
        } else {
            c->res->failed++;
            if (c->o->fail_fast && c->o->stop && !*c->o->stop)
                *c->o->stop = -1;
        }
        print_finished(c, &sum);
        bp_err ie;
        bp_err_clear(&ie);
        if (write_index(c, &ie) && !c->failed) {
            c->failed = 1;
            c->err = ie;
        }
        pthread_mutex_unlock(&c->mu);
    }
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
    const char *why = "as asked (-j)";
    if (jobs <= 0) {
        if (params * batch < BP_SMALL_MODEL_WORK) {
            jobs = threads;
            why = "small model: trials in parallel";
        } else {
            jobs = 1;
            why = "large model: parallel kernels";
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

static int trial_path(char *buf, size_t n, const char *dir, unsigned id, const char *suffix)
{
    return (size_t)snprintf(buf, n, "%s/trials/%04u.h5%s", dir, id, suffix) >= n ? -1 : 0;
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

int bp_sched_run(bp_sweep *s, bp_registry *reg, const bp_sched_opts *o, bp_sched_result *res,
                 bp_err *e)
{
    memset(res, 0, sizeof *res);
    res->n_trials = s->n_trials;
    sched c = { .s = s, .o = o, .res = res, .best_id = -1 };
    int rc = BP_OK, mu_ok = 0;
    size_t n = s->n_trials;
    char *table = NULL;
    size_t table_len = 0;
    char ***param_rows = NULL;
    c.x = bp_xcalloc(n, sizeof *c.x, e);
    c.rows = bp_xcalloc(n, sizeof *c.rows, e);
    c.todo = bp_xcalloc(n, 1, e);
    c.epoch = bp_xcalloc(n, sizeof *c.epoch, e);
    c.epochs = bp_xcalloc(n, sizeof *c.epochs, e);
    param_rows = bp_xcalloc(n, sizeof *param_rows, e);
    if (!c.x || !c.rows || !c.todo || !c.epoch || !c.epochs || !param_rows) {
        rc = BP_ENOMEM;
        goto out;
    }
    if (o->only >= (long)n) {
        rc = bp_err_set(e, BP_EUSAGE, "--trial %ld: the sweep has trials 0 to %zu", o->only, n - 1);
        goto out;
    }
    /* everything that can be checked is checked before anything runs */
    if ((rc = bp_sched_prepare(s, reg, c.x, e)))
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
    if (!(c.run = bp_run_open(o->run_dir, s->hash, table, c.resolved0, o->force, &resumed, e))) {
        rc = e->code;
        goto out;
    }
    bp_run_set_sweep(c.run, s->hash, table, s->n_axes, s->axes, (char *const *const *)param_rows);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        c.todo[i] = o->only < 0 || (size_t)o->only == i;
        if (trial_path(path, sizeof path, o->run_dir, (unsigned)i, "")) {
            rc = bp_err_set(e, BP_EUSAGE, "%s: path too long", o->run_dir);
            goto out;
        }
        if (resumed && access(path, F_OK) == 0) {
            bp_trial_summary sum;
            if ((rc = bp_trial_read_summary(path, &sum, e)))
                goto out;
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
        }
        if (c.todo[i]) {
            c.total_todo++;
            c.total_epochs += s->trials[i].cfg->train.epochs;
        } else {
            res->skipped++;
        }
    }
    if (pthread_mutex_init(&c.mu, NULL) != 0) {
        rc = bp_err_set(e, BP_ERUN, "cannot create a mutex");
        goto out;
    }
    mu_ok = 1;
    if ((rc = write_index(&c, e)))
        goto out;
    c.tty = isatty(STDERR_FILENO);
    c.per_epoch_lines = n == 1 && !o->quiet;
    c.t0 = now();
    if (!o->quiet && res->resumed)
        fprintf(stderr, "bprun: resuming %s: %zu finished trial%s kept\n", o->run_dir,
                res->resumed, res->resumed == 1 ? "" : "s");
    choose(&c);
    pthread_t *th = bp_xcalloc((size_t)c.jobs, sizeof *th, e);
    if (!th) {
        rc = BP_ENOMEM;
        goto out;
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
    if (c.tty && !o->quiet && !c.per_epoch_lines)
        fputs("\r\033[K", stderr);
    if (c.failed) {
        *e = c.err;
        rc = e->code ? e->code : BP_ERUN;
        bp_err clear;
        write_index(&c, &clear);
        goto out;
    }
    if (o->stop && *o->stop > 0)
        res->interrupted = 1;
    rc = write_index(&c, e);
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
    free(param_rows);
    free(table);
    free(c.resolved0);
    return rc;
}
