#include "autoconf.h"
#include "trial.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "backprop.h"
#include "diag.h"
#include "kernels.h"
#include "provenance.h"
#include "resume.h"
#include "trialfile.h"

static int load_ref(const bp_dataref *ref, const char *key, bp_dataset **out, bp_err *e)
{
    *out = bp_data_load(ref->ref, e);
    if (*out && !bp_provenance_add_data(ref->ref, e))
        return BP_OK;
    bp_data_free(*out);
    *out = NULL;
    if (ref->mark.src) {
        char where[256];
        bp_err_prefix(e, "%s: %s", bp_mark_str(&ref->mark, where, sizeof where), key);
    }
    return e->code;
}

static int check_shape(const bp_dataset *d, const bp_dataref *ref, const char *key,
                       const bp_config *c, bp_err *e)
{
    if (!d || !bp_data_check_shape(d, (size_t)c->model.sizes[0],
                                   (size_t)c->model.sizes[c->model.n_sizes - 1], e))
        return BP_OK;
    if (ref->mark.src) {
        char where[256];
        bp_err_prefix(e, "%s: %s", bp_mark_str(&ref->mark, where, sizeof where), key);
    }
    return e->code;
}

static int bind(bp_registry *reg, bp_pluginref *ref, int kind, const bp_loaded **out,
                double *values, bp_err *e)
{
    const bp_loaded *p = bp_registry_get_ref(reg, ref, kind, e);
    if (!p)
        return e->code;
    /* a plugin compiled into bprun (no handle) has no file of its own */
    int rc = p->handle ? bp_provenance_add_plugin(p->path, e) : 0;
    if (rc)
        return rc;
    *out = p;
    return bp_plugin_bind(p, ref, values, e);
}

char *bp_experiment_data_key(const bp_config *c, uint64_t split_seed, bp_err *e)
{
    size_t n = 64;
    const bp_dataref *r[3] = { &c->data.train, &c->data.validation, &c->data.test };
    for (int i = 0; i < 3; i++)
        n += (r[i]->ref ? strlen(r[i]->ref) : 0) + 2;
    char *k = bp_xcalloc(n, 1, e);
    if (k)
        snprintf(k, n, "%s|%s|%s|%.17g|%llu|%d", r[0]->ref ? r[0]->ref : "",
                 r[1]->ref ? r[1]->ref : "", r[2]->ref ? r[2]->ref : "", c->data.val_fraction,
                 (unsigned long long)split_seed, c->data.standardize);
    return k;
}

int bp_experiment_prepare(bp_config *cfg, bp_registry *reg, bp_experiment **out, bp_err *e)
{
    return bp_experiment_prepare_shared(cfg, reg, NULL, cfg->seed, out, e);
}

int bp_experiment_prepare_shared(bp_config *cfg, bp_registry *reg, const bp_experiment *share,
                                 uint64_t split_seed, bp_experiment **out, bp_err *e)
{
    *out = NULL;
    int krc = bp_kernels_check(e);
    if (krc)
        return krc;
    bp_experiment *x = bp_xcalloc(1, sizeof *x, e);
    if (!x)
        return BP_ENOMEM;
    x->cfg = cfg;
    x->reg = reg;
    x->owns_data = 1;
    size_t nl = cfg->model.n_sizes - 1;
    int rc;
    if (!(x->data_key = bp_experiment_data_key(cfg, split_seed, e))) {
        rc = BP_ENOMEM;
        goto fail;
    }
    x->hidden = bp_xcalloc(nl, sizeof *x->hidden, e);
    x->act_hp = bp_xcalloc(nl, sizeof *x->act_hp, e);
    if (!x->hidden || !x->act_hp) {
        rc = BP_ENOMEM;
        goto fail;
    }
    /* plugins first: they are cheap to check and a typo there should not wait for the data */
    if ((rc = bind(reg, &cfg->train.optimizer, BP_OPTIMIZER, &x->opt, x->opt_hp, e)))
        goto fail;
    if (cfg->train.n_phases &&
        !(x->phase_hp = bp_xcalloc(cfg->train.n_phases, sizeof *x->phase_hp, e))) {
        rc = BP_ENOMEM;
        goto fail;
    }
    for (size_t k = 0; k < cfg->train.n_phases; k++)
        if ((rc = bp_plugin_bind(x->opt, &cfg->train.phases[k].optimizer, x->phase_hp[k], e)))
            goto fail;
    for (size_t l = 0; l + 1 < nl; l++)
        if ((rc = bind(reg, &cfg->model.hidden[l], BP_ACTIVATION, &x->hidden[l], x->act_hp[l], e)))
            goto fail;
    if (cfg->model.output_kind == BP_OUTPUT_ACTIVATION &&
        (rc = bind(reg, &cfg->model.output, BP_ACTIVATION, &x->output, x->act_hp[nl - 1], e)))
        goto fail;
    if (x->output && cfg->model.loss == BP_LOSS_MSE && !x->output->desc->u.activation->derivative) {
        rc = bp_err_set(e, BP_EPLUGIN, "%s: activation has no derivative", x->output->path);
        goto fail;
    }
    const bp_optimizer *opt = x->opt->desc->u.optimizer;
    if ((opt->flags & BP_OPT_FULL_BATCH) && cfg->train.batch_size != 0) {
        char where[256];
        rc = bp_err_set(e, BP_ECONFIG,
                        "%s: train.optimizer: %s is a full-batch method; set train.batch_size: full",
                        bp_mark_str(&cfg->train.optimizer.mark, where, sizeof where),
                        x->opt->desc->name);
        goto fail;
    }
    if (cfg->train.schedule.kind != BP_LR_CONSTANT) {
        uint32_t i = 0;
        while (i < opt->n_hparams && strcmp(opt->hparams[i].name, "lr"))
            i++;
        if (i == opt->n_hparams) {
            char where[256];
            rc = bp_err_set(e, BP_ECONFIG, "%s: train.schedule: optimizer %s has no "
                            "hyperparameter 'lr' to schedule",
                            bp_mark_str(&cfg->train.schedule_mark, where, sizeof where),
                            x->opt->desc->name);
            goto fail;
        }
    }
    if (share && !strcmp(share->data_key, x->data_key)) {
        x->owns_data = 0;
        x->train = share->train;
        x->val = share->val;
        x->test = share->test;
        x->mean = share->mean;
        x->std = share->std;
        *out = x;
        return BP_OK;
    }
    if ((rc = load_ref(&cfg->data.train, "data.train", &x->train, e)) ||
        (rc = check_shape(x->train, &cfg->data.train, "data.train", cfg, e)))
        goto fail;
    if (cfg->data.validation.ref) {
        if ((rc = load_ref(&cfg->data.validation, "data.validation", &x->val, e)) ||
            (rc = check_shape(x->val, &cfg->data.validation, "data.validation", cfg, e)))
            goto fail;
    } else if (cfg->data.val_fraction > 0) {
        bp_dataset *all = x->train;
        x->train = NULL;
        rc = bp_data_split(all, cfg->data.val_fraction, split_seed, &x->train, &x->val, e);
        bp_data_free(all);
        if (rc == BP_ECONFIG) {
            char where[256];
            bp_err_prefix(e, "%s: data.validation",
                          bp_mark_str(&cfg->data.validation.mark, where, sizeof where));
        }
        if (rc)
            goto fail;
    }
    if (cfg->data.test.ref && ((rc = load_ref(&cfg->data.test, "data.test", &x->test, e)) ||
                               (rc = check_shape(x->test, &cfg->data.test, "data.test", cfg, e))))
        goto fail;
    if (cfg->data.standardize) {
        size_t d = x->train->d;
        x->mean = bp_xcalloc(d, sizeof *x->mean, e);
        x->std = bp_xcalloc(d, sizeof *x->std, e);
        if (!x->mean || !x->std) {
            rc = BP_ENOMEM;
            goto fail;
        }
        bp_data_moments(x->train, x->mean, x->std);
        bp_data_standardize(x->train, x->mean, x->std);
        if (x->val)
            bp_data_standardize(x->val, x->mean, x->std);
        if (x->test)
            bp_data_standardize(x->test, x->mean, x->std);
    }
    *out = x;
    return BP_OK;
fail:
    bp_experiment_free(x);
    return rc;
}

void bp_experiment_free(bp_experiment *x)
{
    if (!x)
        return;
    if (x->owns_data) {
        bp_data_free(x->train);
        bp_data_free(x->val);
        bp_data_free(x->test);
        free(x->mean);
        free(x->std);
    }
    free(x->data_key);
    free(x->hidden);
    free(x->act_hp);
    free(x->phase_hp);
    free(x);
}

static void set_act(bp_act *a, const bp_loaded *p, const double *hp)
{
    a->name = p->desc->name;
    a->fn = p->desc->u.activation;
    a->n_hp = a->fn->n_hparams;
    memcpy(a->hp, hp, a->n_hp * sizeof *hp);
}

static int init_from(bp_model *m, const bp_config *c, bp_err *e)
{
    bp_saved_model *s = bp_saved_model_read(c->model.init.from, e);
    char where[256];
    bp_mark_str(&c->model.init.mark, where, sizeof where);
    if (!s)
        return bp_err_prefix(e, "%s: model.init.from", where);
    int same = s->n_sizes == m->n_layers + 1;
    for (size_t i = 0; same && i < s->n_sizes; i++)
        same = s->sizes[i] == m->sizes[i];
    if (!same || s->n_params != m->n_params) {
        char have[256] = "", *p = have;
        for (size_t i = 0; i < s->n_sizes && p < have + sizeof have - 16; i++)
            p += snprintf(p, 16, "%s%d", i ? ", " : "", s->sizes[i]);
        bp_saved_model_free(s);
        return bp_err_set(e, BP_ECONFIG, "%s: model.init.from: %s has layers [%s], which differ from model.layers",
                          where, c->model.init.from, have);
    }
    memcpy(m->params, s->params, m->n_params * sizeof *m->params);
    bp_saved_model_free(s);
    return BP_OK;
}

bp_model *bp_experiment_model(const bp_experiment *x, uint64_t stream, bp_err *e)
{
    const bp_config *c = x->cfg;
    bp_model *m = bp_model_new(c->model.sizes, c->model.n_sizes, e);
    if (!m)
        return NULL;
    size_t nl = m->n_layers;
    for (size_t l = 0; l + 1 < nl; l++)
        set_act(&m->act[l], x->hidden[l], x->act_hp[l]);
    if (x->output) {
        set_act(&m->act[nl - 1], x->output, x->act_hp[nl - 1]);
    } else {
        m->act[nl - 1].name = "softmax";
        m->softmax = 1;
    }
    m->loss = c->model.loss;
    if (c->model.init.scheme == BP_INIT_FROM) {
        if (init_from(m, c, e)) {
            bp_model_free(m);
            return NULL;
        }
    } else {
        bp_model_init(m, c->model.init.scheme, c->model.init.range, c->model.init.gain, c->seed,
                      stream);
    }
    return m;
}

typedef struct epoch_ctx {
    bp_trial_file *tf;
    const bp_trial_opts *o;
    int epochs;
    bp_trial_summary *sum;
    double last[BP_COL_COUNT];
    bp_diag_run *diag;  /* diagnostics (NULL: off): its columns follow the BP_COL_COUNT ones */
    size_t n_extra;
    double *row;        /* BP_COL_COUNT + n_extra */
    double next_line;   /* CLOCK_MONOTONIC seconds: the next per-epoch line is due */
} epoch_ctx;

/* Per-epoch lines on standard error: the first and the last epoch, and at most one a second
 * in between (10,000 XOR epochs are not 10,000 lines; a slow epoch still gets its line). */
#define EPOCH_LINE_S 1.0

/* Append a row to the trial file and the summary; extra: the diagnostics columns (NULL: NaN). */
static int note_row(epoch_ctx *c, const double *v, const double *extra, bp_err *e)
{
    if (c->n_extra) {
        memcpy(c->row, v, BP_COL_COUNT * sizeof *v);
        for (size_t i = 0; i < c->n_extra; i++)
            c->row[BP_COL_COUNT + i] = extra ? extra[i] : NAN;
        v = c->row;
    }
    int rc = bp_trial_append(c->tf, v, e);
    if (rc)
        return rc;
    memcpy(c->last, v, sizeof c->last);
    double vl = v[BP_COL_VAL_LOSS];
    if (!isnan(vl) && (isnan(c->sum->best_val_loss) || vl < c->sum->best_val_loss))
        c->sum->best_val_loss = vl;
    return BP_OK;
}

static int on_epoch(void *ud, const bp_epoch_row *row, const bp_model *m, bp_err *e)
{
    epoch_ctx *c = ud;
    int rc;
    if (c->diag && (rc = bp_diag_run_epoch(c->diag, m, (int)row->v[BP_COL_EPOCH],
                                           row->v[BP_COL_LOSS], c->row + BP_COL_COUNT, e)))
        return rc;
    rc = note_row(c, row->v, c->diag ? c->row + BP_COL_COUNT : NULL, e);
    if (rc)
        return rc;
    double vl = row->v[BP_COL_VAL_LOSS];
    if (c->o->progress)
        c->o->progress(c->o->progress_ud, c->o->trial, (int)row->v[BP_COL_EPOCH], c->epochs,
                       row->v[BP_COL_LOSS]);
    int ep = (int)row->v[BP_COL_EPOCH];
    double now = c->o->quiet ? 0.0 : bp_seconds_coarse();
    if (!c->o->quiet && (ep <= 1 || ep >= c->epochs || now >= c->next_line)) {
        c->next_line = now + EPOCH_LINE_S;
        fprintf(stderr, "trial %04u epoch %*d/%d  loss %.6g  acc %.4f", c->o->trial,
                c->epochs >= 1000 ? 5 : 3, (int)row->v[BP_COL_EPOCH], c->epochs,
                row->v[BP_COL_LOSS], row->v[BP_COL_ACCURACY]);
        if (!isnan(vl))
            fprintf(stderr, "  val_loss %.6g  val_acc %.4f", vl, row->v[BP_COL_VAL_ACCURACY]);
        fprintf(stderr, "  %.2fs\n", row->v[BP_COL_SECONDS]);
    }
    return BP_OK;
}

static int diag_batch(void *ud, bp_trainer *t, const bp_batch_info *b, bp_err *e)
{
    (void)t;
    (void)e;
    bp_diag_run_batch(ud, b);
    return 0;
}

struct bp_trial_job {
    bp_diag_run *diag;
    const char **cols;
    double *row;
    const bp_experiment *x;
    bp_trial_opts o;
    bp_model *m;
    bp_trial_file *tf;
    bp_trainer t;
    epoch_ctx ec;
    bp_trial_summary *sum;
    bp_trial_summary own_sum;
    double t0;
    int epochs_at_start; /* epochs done before this process trained (continued trials) */
};

static int es_col_of(bp_es_metric m)
{
    static const int col[BP_ES_COUNT] = { BP_COL_VAL_LOSS, BP_COL_LOSS, BP_COL_VAL_ACCURACY,
                                          BP_COL_ACCURACY };
    return col[m];
}

void bp_trial_job_free(bp_trial_job *j)
{
    if (!j)
        return;
    bp_trial_abandon(j->tf);
    bp_diag_run_free(j->diag);
    free(j->cols);
    free(j->row);
    bp_trainer_release(&j->t);
    bp_model_free(j->m);
    free(j);
}

int bp_trial_begin(const bp_experiment *x, bp_run *r, const bp_trial_opts *o, bp_trial_job **out,
                   bp_err *e)
{
    const bp_config *c = x->cfg;
    *out = NULL;
    bp_trial_job *j = bp_xcalloc(1, sizeof *j, e);
    if (!j)
        return BP_ENOMEM;
    j->x = x;
    j->o = *o;
    j->t0 = bp_seconds();
    bp_trial_summary *sum = j->sum = &j->own_sum;
    sum->trial = o->trial;
    sum->seed = c->seed;
    sum->final_loss = sum->final_val_loss = sum->final_accuracy = sum->final_val_accuracy = NAN;
    sum->best_val_loss = sum->final_test_loss = sum->final_test_accuracy = NAN;
    char *resolved = bp_config_dump_string(c);
    if (!resolved) {
        free(j);
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    }
    if (!(j->m = bp_experiment_model(x, 0, e))) {
        free(resolved);
        free(j);
        return e->code;
    }
    bp_trial_meta meta = { .trial = o->trial, .seed = c->seed, .config_text = c->text,
                           .resolved_config = resolved, .columns = bp_epoch_col_names,
                           .n_columns = BP_COL_COUNT, .threads = o->threads,
                           .epochs_hint = c->train.epochs };
    size_t n_extra = 0;
    if (c->diagnostics.enabled) {
        const char *const *dn;
        if (!(j->diag = bp_diag_run_new(c, j->m, x->train, c->seed, 0, o->threads, e))) {
            free(resolved);
            int code = e->code;
            bp_trial_job_free(j);
            return code;
        }
        n_extra = bp_diag_run_columns(j->diag, &dn);
        j->cols = bp_xcalloc(BP_COL_COUNT + n_extra, sizeof *j->cols, e);
        j->row = bp_xcalloc(BP_COL_COUNT + n_extra, sizeof *j->row, e);
        if (!j->cols || !j->row) {
            free(resolved);
            bp_trial_job_free(j);
            return BP_ENOMEM;
        }
        for (size_t i = 0; i < BP_COL_COUNT + n_extra; i++)
            j->cols[i] = i < BP_COL_COUNT ? bp_epoch_col_names[i] : dn[i - BP_COL_COUNT];
        meta.columns = j->cols;
        meta.n_columns = BP_COL_COUNT + n_extra;
    }
    /* without validation data the val_ columns cannot have values: not stored */
    unsigned char *omit = x->val ? NULL : bp_xcalloc(meta.n_columns, 1, e);
    if (!x->val && !omit) {
        free(resolved);
        bp_trial_job_free(j);
        return BP_ENOMEM;
    }
    if (omit)
        omit[BP_COL_VAL_LOSS] = omit[BP_COL_VAL_ACCURACY] = 1;
    meta.omit = omit;
    meta.replace = o->replace;
    meta.group_commit = o->group_commit;
    if (o->resume) {
        meta.continued_from = o->resume->rec->file;
        meta.continued_at = o->resume->rec->epochs_done;
    }
    j->tf = bp_trial_create(r, &meta, e);
    free(resolved);
    free(omit);
    if (!j->tf) {
        bp_trial_job_free(j);
        return e->code;
    }
    j->ec = (epoch_ctx){ .tf = j->tf, .o = &j->o, .epochs = c->train.epochs, .sum = sum,
                         .diag = j->diag, .n_extra = n_extra, .row = j->row };
    for (int i = 0; i < BP_COL_COUNT; i++)
        j->ec.last[i] = NAN;
    j->t = (bp_trainer){ .model = j->m, .train = x->train, .val = x->val, .optimizer = x->opt,
                         .epochs = c->train.epochs, .batch_size = c->train.batch_size,
                         .shuffle = c->train.shuffle, .seed = c->seed, .trial = 0,
                         .nthreads = o->threads, .on_epoch = on_epoch, .ud = &j->ec,
                         .stop = o->stop, .schedule = &c->train.schedule, .clip = c->train.clip,
                         .clip_max = c->train.clip_max, .target_loss = c->train.target_loss,
                         .target_accuracy = c->train.target_accuracy,
                         .target_max_error = c->train.target_max_error,
                         .reduction_sum = c->train.reduction == BP_REDUCTION_SUM,
                         .es_patience = c->train.early_stopping.patience,
                         .es_col = es_col_of(c->train.early_stopping.metric),
                         .es_min_delta = c->train.early_stopping.min_delta,
                         .es_restore_best = c->train.early_stopping.restore_best,
                         .final_epochs = c->train.epochs,
                         .diverge_factor = c->train.diverge_factor, .first_loss = NAN };
    memcpy(j->t.hp, x->opt_hp, sizeof j->t.hp);
    if (j->diag) {
        j->t.on_batch = diag_batch;
        j->t.batch_ud = j->diag;
    }
    int rc = 0;
    if (o->resume) {
        const bp_trial_record *from = o->resume->rec;
        rc = bp_resume_apply(o->resume, x, j->m, &j->t, e);
        if (!rc && j->diag)
            bp_diag_run_rebase(j->diag, j->m);
        for (size_t i = 0; !rc && i < from->n_rows; i++)
            rc = note_row(&j->ec, from->rows + i * BP_COL_COUNT, NULL, e);
        if (!rc)
            bp_train_replay(&j->t, from->rows, from->n_rows);
        if (!rc && j->t.es_restore_best && j->t.best_epoch > 0 &&
            (size_t)j->t.best_epoch < from->n_rows)
            rc = bp_err_set(e, BP_EUSAGE, "%s: train.early_stopping.restore_best: its saved "
                            "parameters are those of its best epoch %d, not of its last epoch "
                            "%zu, so it cannot be continued", from->where, j->t.best_epoch,
                            from->n_rows);
    }
    if (rc) {
        bp_trial_job_free(j);
        return rc;
    }
    j->epochs_at_start = j->t.epochs_done;
    *out = j;
    return BP_OK;
}

/* train.phases: the hyperparameters of epoch ep set on the trainer; returns the last epoch
 * before the next phase starts (INT_MAX when none follows). */
static int phase_enter(bp_trial_job *j, int ep)
{
    const bp_config *c = j->x->cfg;
    const double *hp = j->x->opt_hp;
    int next = INT_MAX;
    for (size_t k = 0; k < c->train.n_phases; k++) {
        if (c->train.phases[k].from > ep) {
            next = c->train.phases[k].from - 1;
            break;
        }
        hp = j->x->phase_hp[k];
    }
    const bp_optimizer *od = j->x->opt->desc->u.optimizer;
    for (uint32_t i = 0; i < od->n_hparams; i++)
        bp_trainer_set_hp(&j->t, i, hp[i]);
    return next;
}

int bp_trial_advance(bp_trial_job *j, int until, int *alive, bp_err *e)
{
    *alive = 0;
    if (until > j->x->cfg->train.epochs)
        until = j->x->cfg->train.epochs;
    int rc = 0;
    if (!j->x->cfg->train.n_phases) {
        j->t.epochs = until;
        rc = bp_train(&j->t, e);
    }
    /* phases: one bp_train call per stretch of equal hyperparameters, the way sweep.pbt's
     * generations train (the same bits: bp_train continues exactly) */
    while (j->x->cfg->train.n_phases && j->t.epochs_done < until) {
        int last = phase_enter(j, j->t.epochs_done + 1);
        j->t.epochs = last < until ? last : until;
        if ((rc = bp_train(&j->t, e)) || j->t.status != BP_TRIAL_COMPLETED ||
            j->t.epochs_done < j->t.epochs)
            break;
    }
    if (!rc)
        *alive = j->t.status == BP_TRIAL_COMPLETED && !j->t.stopped_early &&
                 !j->t.epochs_to_target && j->t.epochs_done == until &&
                 until < j->x->cfg->train.epochs;
    return rc;
}

int bp_trial_job_copy(bp_trial_job *dst, const bp_trial_job *src, bp_err *e)
{
    const bp_trainer *a = &src->t;
    bp_trainer *b = &dst->t;
    size_t np = src->m->n_params, ns = (size_t)src->x->opt->desc->u.optimizer->n_state * np;
    if (np != dst->m->n_params || a->epochs_done != b->epochs_done)
        return bp_err_set(e, BP_ERUN, "trial %u cannot take the state of trial %u (%zu/%zu "
                          "parameters, epoch %d/%d)", dst->o.trial, src->o.trial, dst->m->n_params,
                          np, b->epochs_done, a->epochs_done);
    memcpy(dst->m->params, src->m->params, np * sizeof *src->m->params);
    if (ns) {
        if (!b->opt_state && !(b->opt_state = bp_xcalloc(ns, sizeof *b->opt_state, e)))
            return BP_ENOMEM;
        memcpy(b->opt_state, a->opt_state, ns * sizeof *a->opt_state);
    }
    b->step = a->step;
    b->sched = a->sched;
    b->sched_restored = a->sched_restored;
    b->first_loss = a->first_loss;
    memcpy(b->hp, a->hp, sizeof b->hp);
    return BP_OK;
}

void bp_trial_job_set_hp(bp_trial_job *j, uint32_t i, double v)
{
    bp_trainer_set_hp(&j->t, i, v);
}

const double *bp_trial_job_hp(const bp_trial_job *j)
{
    return j->t.hp;
}

int bp_trial_job_epochs_done(const bp_trial_job *j)
{
    return j->t.epochs_done;
}

struct bp_trial_file *bp_trial_job_file(bp_trial_job *j)
{
    return j->tf;
}

const double *bp_trial_job_last(const bp_trial_job *j)
{
    return j->ec.last;
}

/* End-of-trial curvature under /diagnostics and the verdict attribute (docs/DIAGNOSTICS.md). */
static int write_diagnostics(bp_trial_job *j, bp_trial_summary *sum, bp_err *e)
{
    bp_diag_result r;
    int rc = bp_diag_run_finish(j->diag, j->m, j->t.status == BP_TRIAL_DIVERGED, j->t.epochs_done,
                                &r, e);
    if (rc)
        return rc;
    static const char *const names[] = { "lambda_max", "lambda_min", "trace", "trace_se",
                                         "grad_norm", "loss", "max_hidden_saturation",
                                         "plateau_epochs", "probe_drop", "probe_norm_growth",
                                         "probe_radial_drop" };
    double v[] = { r.curv.lambda_max, r.curv.lambda_min, r.curv.trace, r.curv.trace_se,
                   r.curv.grad_norm, r.curv.loss, r.max_hidden_sat, r.plateau_epochs,
                   r.probe_drop, r.probe_growth, r.probe_radial };
    if ((rc = bp_trial_set_group_doubles(j->tf, "/diagnostics", names, v, 11, e)))
        return rc;
    const bp_config *c = j->x->cfg;
    static const char *const mnames[] = { "minima_loss_tol", "minima_dist_tol",
                                          "minima_permute", "minima_flip" };
    double mv[] = { c->diagnostics.minima.loss_tol, c->diagnostics.minima.dist_tol,
                    c->diagnostics.minima.permute, c->diagnostics.minima.flip };
    if ((rc = bp_trial_set_group_doubles(j->tf, "/diagnostics", mnames, mv, 4, e)))
        return rc;
    if (c->diagnostics.eigenvalues > 1 && r.ritz && r.n_ritz > 0) {
        size_t k = (size_t)(c->diagnostics.eigenvalues < r.n_ritz ? c->diagnostics.eigenvalues
                                                                    : r.n_ritz);
        double top[64], *tp = k <= 64 ? top : bp_xcalloc(k, sizeof *tp, e);
        if (!tp)
            return BP_ENOMEM;
        for (size_t i = 0; i < k; i++)
            tp[i] = r.ritz[r.n_ritz - 1 - (int)i];
        rc = bp_trial_set_group_array(j->tf, "/diagnostics", "eigenvalues_top", tp, k, e);
        if (!rc)
            rc = bp_trial_set_group_array(j->tf, "/diagnostics", "eigenvalues_bottom", r.ritz, k, e);
        if (tp != top)
            free(tp);
        if (rc)
            return rc;
    }
    if (c->diagnostics.path_points > 0) {
        size_t K = (size_t)c->diagnostics.path_points;
        double *pa = bp_xcalloc(2 * K, sizeof *pa, e);
        if (!pa)
            return BP_ENOMEM;
        rc = bp_diag_run_path(j->diag, j->m, pa, pa + K, e);
        if (rc > 0)
            rc = bp_trial_set_group_array(j->tf, "/diagnostics/path", "alpha", pa, K, e);
        if (!rc)
            rc = bp_trial_set_group_array(j->tf, "/diagnostics/path", "loss", pa + K, K, e);
        free(pa);
        if (rc)
            return rc;
    }
    snprintf(sum->verdict, sizeof sum->verdict, "%s", bp_verdict_names[r.verdict]);
    return bp_trial_set_str(j->tf, "verdict", bp_verdict_names[r.verdict], e);
}

/* samples/s of wall time, the process's peak RSS, the trial's working memory: the model's
 * parameters plus what bp_train allocated (docs/FORMAT.md) */
static int cost_records(bp_trial_job *j, bp_trial_summary *sum, bp_err *e)
{
    double samples = (double)(j->t.epochs_done - j->epochs_at_start) * (double)j->x->train->n;
    struct rusage ru;
    sum->samples_per_second = sum->wall_seconds > 0 ? samples / sum->wall_seconds : 0.0;
    sum->peak_rss_bytes = getrusage(RUSAGE_SELF, &ru) == 0 ? 1024.0 * (double)ru.ru_maxrss : 0.0;
    sum->work_bytes = (double)(j->m->n_params * sizeof *j->m->params + j->t.work_bytes);
    int rc = bp_trial_set_double(j->tf, "samples_per_second", sum->samples_per_second, e);
    if (!rc)
        rc = bp_trial_set_double(j->tf, "peak_rss_bytes", sum->peak_rss_bytes, e);
    if (!rc)
        rc = bp_trial_set_double(j->tf, "work_bytes", sum->work_bytes, e);
    return rc;
}

/* The model with the optimizer's hyperparameters and state and the schedule's state. */
static int save_state(bp_trial_job *j, bp_err *e)
{
    const bp_experiment *x = j->x;
    const bp_trainer *t = &j->t;
    const bp_optimizer *od = x->opt->desc->u.optimizer;
    const char *hp_names[BP_MAX_HPARAMS];
    for (uint32_t i = 0; i < od->n_hparams; i++)
        hp_names[i] = od->hparams[i].name;
    double sched_state[BP_LR_NSTATE];
    bp_lr_state(&t->sched, sched_state);
    bp_opt_record rec = { .name = x->opt->desc->name, .hp_names = hp_names, .hp = t->hp,
                          .n_hp = od->n_hparams, .state = t->opt_state, .n_state = od->n_state,
                          .step = t->step, .schedule = bp_lr_names[t->sched.p.kind],
                          .sched_names = bp_lr_state_names, .sched_state = sched_state,
                          .n_sched = BP_LR_NSTATE };
    return bp_trial_save_model(j->tf, j->m, &rec, e);
}

int bp_trial_job_checkpoint(bp_trial_job *j, bp_err *e)
{
    /* on disk first (a file still in memory is laid out for its last rows only) */
    int rc = bp_trial_flush(j->tf, e);
    return rc ? rc : save_state(j, e);
}

/* bp_trial_end, and bp_trial_pause (status: BP_TRIAL_INTERRUPTED) */
static int end_as(bp_trial_job *j, bp_status_kind status, const char *message,
                  bp_trial_summary *sum, bp_err *e)
{
    const bp_experiment *x = j->x;
    const bp_trial_opts *o = &j->o;
    bp_model *m = j->m;
    bp_trainer *t = &j->t;
    int rc = 0;
    if (message) {
        t->status = status;
        snprintf(t->message, sizeof t->message, "%s", message);
    }
    *sum = *j->sum;
    sum->verdict[0] = '\0';
    if (x->test && t->status != BP_TRIAL_DIVERGED) {
        bp_work *w = bp_work_new(m, 256, e);
        if (!w) {
            rc = e->code;
            goto out;
        }
        bp_evaluate(m, w, x->test, o->threads, &sum->final_test_loss, &sum->final_test_accuracy);
        bp_work_free(w);
    }
    if ((rc = save_state(j, e)))
        goto out;
    if ((rc = bp_trial_save_extras(j->tf, x->mean, x->std, m->sizes[0], sum->final_test_loss,
                                   sum->final_test_accuracy, e)))
        goto out;
    const bp_config *c = x->cfg;
    int has_target = c->train.target_loss > 0 || c->train.target_accuracy > 0 ||
                     c->train.target_max_error > 0;
    sum->epochs_to_target = has_target ? (t->epochs_to_target ? t->epochs_to_target : -1) : 0;
    if (has_target &&
        (rc = bp_trial_set_int(j->tf, "epochs_to_target", sum->epochs_to_target, e)))
        goto out;
    if (c->train.early_stopping.patience > 0 &&
        ((rc = bp_trial_set_int(j->tf, "best_epoch", t->best_epoch, e)) ||
         (rc = bp_trial_set_int(j->tf, "stopped_early", t->stopped_early, e))))
        goto out;
    if (j->diag && (rc = write_diagnostics(j, sum, e)))
        goto out;
    sum->status = bp_trial_status_names[t->status];
    sum->epochs = t->epochs_done;
    sum->final_loss = j->ec.last[BP_COL_LOSS];
    sum->final_accuracy = j->ec.last[BP_COL_ACCURACY];
    sum->final_val_loss = j->ec.last[BP_COL_VAL_LOSS];
    sum->final_val_accuracy = j->ec.last[BP_COL_VAL_ACCURACY];
    sum->wall_seconds = bp_seconds() - j->t0;
    if ((rc = cost_records(j, sum, e)))
        goto out;
    snprintf(sum->message, sizeof sum->message, "%s", t->message);
    rc = bp_trial_finish(j->tf, sum->status, t->message, t->epochs_done, sum->wall_seconds, e);
    j->tf = NULL;
out:
    bp_trial_job_free(j);
    return rc;
}

int bp_trial_end(bp_trial_job *j, const char *pruned, bp_trial_summary *sum, bp_err *e)
{
    return end_as(j, BP_TRIAL_PRUNED, pruned, sum, e);
}

int bp_trial_pause(bp_trial_job *j, const char *message, bp_trial_summary *sum, bp_err *e)
{
    return end_as(j, BP_TRIAL_INTERRUPTED, message, sum, e);
}

int bp_experiment_run_trial(const bp_experiment *x, bp_run *r, const bp_trial_opts *o,
                            bp_trial_summary *sum, bp_err *e)
{
    bp_trial_job *j;
    int alive;
    memset(sum, 0, sizeof *sum);
    int rc = bp_trial_begin(x, r, o, &j, e);
    if (rc)
        return rc;
    if ((rc = bp_trial_advance(j, x->cfg->train.epochs, &alive, e))) {
        bp_trial_job_free(j);
        return rc;
    }
    return bp_trial_end(j, NULL, sum, e);
}

bp_model *bp_saved_model_build(const bp_saved_model *s, bp_registry *reg, bp_err *e)
{
    bp_model *m = bp_model_new(s->sizes, s->n_sizes, e);
    if (!m)
        return NULL;
    if (s->n_params != m->n_params) {
        bp_err_set(e, BP_EDATA, "saved model has %zu parameters, its layers need %zu", s->n_params,
                   m->n_params);
        goto fail;
    }
    memcpy(m->params, s->params, m->n_params * sizeof *m->params);
    int loss = -1;
    for (int i = 0; i < BP_LOSS_COUNT; i++)
        if (!strcmp(s->loss, bp_loss_names[i]))
            loss = i;
    if (loss < 0) {
        bp_err_set(e, BP_EDATA, "saved model has unknown loss '%s'", s->loss);
        goto fail;
    }
    m->loss = (bp_loss)loss;
    for (size_t l = 0; l < m->n_layers; l++) {
        if (l + 1 == m->n_layers && !strcmp(s->act_names[l], "softmax")) {
            m->act[l].name = "softmax";
            m->softmax = 1;
            continue;
        }
        const bp_loaded *p = bp_registry_get(reg, s->act_names[l], BP_ACTIVATION, e);
        if (!p)
            goto fail;
        const bp_activation *a = p->desc->u.activation;
        m->act[l].name = p->desc->name;
        m->act[l].fn = a;
        m->act[l].n_hp = a->n_hparams;
        for (uint32_t h = 0; h < a->n_hparams; h++) {
            m->act[l].hp[h] = a->hparams[h].def;
            for (size_t k = 0; k < s->act_n_hp[l]; k++)
                if (!strcmp(s->act_hp_names[l][k], a->hparams[h].name))
                    m->act[l].hp[h] = s->act_hp[l][k];
        }
    }
    return m;
fail:
    bp_model_free(m);
    return NULL;
}
