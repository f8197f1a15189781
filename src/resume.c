#include "autoconf.h"
#include "resume.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provenance.h"

/* ---- comparing canonical dumps ---- */

#define LEVELS 8

typedef struct walker {
    const char *p;
    char path[LEVELS][128];
    int idx[LEVELS];
} walker;

/* The next line of a dump but train.epochs: its key path and value. 0 at the end. */
static int next_line(walker *w, char *key, size_t ksz, const char **val, int *vlen)
{
    while (*w->p) {
        const char *s = w->p, *eol = strchr(s, '\n');
        if (!eol)
            eol = s + strlen(s);
        w->p = *eol ? eol + 1 : eol;
        size_t ind = 0;
        while (s + ind < eol && s[ind] == ' ')
            ind++;
        const char *t = s + ind;
        if (t == eol)
            continue;
        int lvl = (int)(ind / 2) < LEVELS ? (int)(ind / 2) : LEVELS - 1;
        size_t o = 0;
        key[0] = '\0';
        if (t[0] == '-' && (t[1] == ' ' || t + 1 == eol)) {
            int parent = lvl > 0 ? lvl - 1 : 0;
            for (int l = 0; l <= parent && o < ksz; l++)
                o += (size_t)snprintf(key + o, ksz - o, "%s%s", l ? "." : "", w->path[l]);
            if (o < ksz)
                snprintf(key + o, ksz - o, "[%d]", w->idx[parent]++);
            *val = t + 1 < eol ? t + 2 : eol;
        } else {
            const char *colon = memchr(t, ':', (size_t)(eol - t));
            const char *kend = colon ? colon : eol;
            snprintf(w->path[lvl], sizeof w->path[lvl], "%.*s", (int)(kend - t), t);
            w->idx[lvl] = 0;
            for (int l = 0; l <= lvl && o < ksz; l++)
                o += (size_t)snprintf(key + o, ksz - o, "%s%s", l ? "." : "", w->path[l]);
            *val = colon ? colon + 1 : eol;
            while (*val < eol && **val == ' ')
                (*val)++;
        }
        *vlen = (int)(eol - *val);
        if (!strcmp(key, "train.epochs"))
            continue;
        return 1;
    }
    return 0;
}

static const char *shown(const char *v, int len, int present, char *buf, size_t size)
{
    if (!present)
        return "(none)";
    if (len == 0)
        return "(a list)";
    if (len > 200)
        snprintf(buf, size, "%.200s...", v);
    else
        snprintf(buf, size, "%.*s", len, v);
    return buf;
}

int bp_resume_compare_configs(const char *here, const char *there, const char *here_name,
                              const char *there_name, bp_err *e)
{
    walker a = { .p = here }, b = { .p = there };
    char ka[512], kb[512], va_buf[256], vb_buf[256];
    const char *va = NULL, *vb = NULL;
    int la = 0, lb = 0;
    for (;;) {
        int ha = next_line(&a, ka, sizeof ka, &va, &la);
        int hb = next_line(&b, kb, sizeof kb, &vb, &lb);
        if (!ha && !hb)
            return BP_OK;
        if (ha && hb && !strcmp(ka, kb) && la == lb && !memcmp(va, vb, (size_t)la))
            continue;
        const char *key = ha ? ka : kb;
        int same_key = ha && hb && !strcmp(ka, kb);
        return bp_err_set(e, BP_ECONFIG, "%s: %s differs from the config of %s: %s here, %s there "
                          "(only train.epochs may change when continuing)", here_name, key,
                          there_name, shown(va, la, ha, va_buf, sizeof va_buf),
                          shown(vb, lb, hb && (!ha || same_key), vb_buf, sizeof vb_buf));
    }
}

/* ---- loading and applying ---- */

void bp_resume_free(bp_resume *r)
{
    if (!r)
        return;
    bp_trial_record_free(r->rec);
    bp_saved_model_free(r->model);
    free(r);
}

static int check_state(const bp_resume *r, const bp_experiment *x, bp_err *e)
{
    const bp_config *c = x->cfg;
    const bp_saved_model *s = r->model;
    const char *from = r->rec->where;
    const bp_optimizer *opt = x->opt->desc->u.optimizer;
    if (!s->opt_name)
        return bp_err_set(e, BP_EDATA, "%s: no optimizer state saved (/model/optimizer missing)",
                          from);
    if (strcmp(s->opt_name, x->opt->desc->name))
        return bp_err_set(e, BP_EDATA, "%s: the saved optimizer is '%s', the config's is '%s'",
                          from, s->opt_name, x->opt->desc->name);
    if (s->opt_n_state != opt->n_state)
        return bp_err_set(e, BP_EDATA, "%s: the saved optimizer state has %zu value%s per "
                          "parameter, %s keeps %u", from, s->opt_n_state, bp_s(s->opt_n_state),
                          x->opt->desc->name, opt->n_state);
    const char *want = bp_lr_names[c->train.schedule.kind];
    if (!s->sched_name && c->train.schedule.kind != BP_LR_CONSTANT)
        return bp_err_set(e, BP_EDATA, "%s: no schedule state saved (/model/schedule missing), "
                          "but the config has schedule %s", from, want);
    if (s->sched_name && strcmp(s->sched_name, want))
        return bp_err_set(e, BP_EDATA, "%s: the saved schedule is '%s', the config's is '%s'",
                          from, s->sched_name, want);
    if (r->rec->n_rows != (size_t)r->rec->epochs_done)
        return bp_err_set(e, BP_EDATA, "%s: %zu row%s of per-epoch history, but epochs_done is %d",
                          from, r->rec->n_rows, bp_s(r->rec->n_rows), r->rec->epochs_done);
    return BP_OK;
}

int bp_resume_load(const char *from, const bp_experiment *x, bp_resume **out, bp_err *e)
{
    *out = NULL;
    const bp_config *c = x->cfg;
    bp_resume *r = bp_xcalloc(1, sizeof *r, e);
    if (!r)
        return BP_ENOMEM;
    int rc;
    char *here = NULL;
    if (!(r->rec = bp_trial_record_read(from, bp_epoch_col_names, BP_COL_COUNT, e))) {
        rc = e->code;
        goto fail;
    }
    const bp_trial_record *t = r->rec;
    if (t->epochs_done < 0 ||
        (strcmp(t->status, "completed") && strcmp(t->status, "interrupted"))) {
        rc = bp_err_set(e, BP_EUSAGE, "%s: trial status is '%s'; only a completed or interrupted "
                        "trial can be continued", t->where, t->status);
        goto fail;
    }
    if (!(here = bp_config_dump_string(c))) {
        rc = bp_err_set(e, BP_ENOMEM, "out of memory");
        goto fail;
    }
    const char *name = c->path ? c->path : "config";
    if ((rc = bp_resume_compare_configs(here, t->resolved_config, name, t->where, e)))
        goto fail;
    if ((rc = bp_provenance_check(t->provenance, t->where, e)))
        goto fail;
    if (t->epochs_done >= c->train.epochs) {
        long more = (long)t->epochs_done + 10;
        rc = bp_err_set(e, BP_ECONFIG, "%s: train.epochs: %s has done %d epoch%s, train.epochs "
                        "is %d; raise it to train longer (--set train.epochs=%ld, say)", name,
                        t->where, t->epochs_done, t->epochs_done == 1 ? "" : "s",
                        c->train.epochs, more > INT_MAX ? (long)INT_MAX : more);
        goto fail;
    }
    if (!(r->model = bp_saved_model_read(from, e))) {
        rc = e->code;
        goto fail;
    }
    if ((rc = check_state(r, x, e)))
        goto fail;
    free(here);
    *out = r;
    return BP_OK;
fail:
    free(here);
    bp_resume_free(r);
    return rc;
}

static int lr_index(const bp_optimizer *o)
{
    for (uint32_t i = 0; i < o->n_hparams; i++)
        if (!strcmp(o->hparams[i].name, "lr"))
            return (int)i;
    return -1;
}

int bp_resume_apply(const bp_resume *r, const bp_experiment *x, bp_model *m, bp_trainer *t,
                    bp_err *e)
{
    const bp_saved_model *s = r->model;
    const bp_optimizer *opt = x->opt->desc->u.optimizer;
    const char *from = r->rec->where;
    if (s->n_params != m->n_params)
        return bp_err_set(e, BP_EDATA, "%s: %zu saved parameters, the model has %zu", from,
                          s->n_params, m->n_params);
    memcpy(m->params, s->params, m->n_params * sizeof *m->params);
    if (opt->n_state) {
        size_t n = (size_t)opt->n_state * m->n_params;
        float *st = bp_xcalloc(n, sizeof *st, e);
        if (!st)
            return BP_ENOMEM;
        memcpy(st, s->opt_state, n * sizeof *st);
        free(t->opt_state);
        t->opt_state = st;
    }
    t->step = s->opt_step;
    t->epochs_done = r->rec->epochs_done;
    int li = lr_index(opt);
    double base = li >= 0 ? t->hp[li] : NAN;
    if (s->sched_name) {
        if (bp_lr_restore(&t->sched, t->schedule, base, (const char *const *)s->sched_names,
                             s->sched_state, s->n_sched, e))
            return bp_err_prefix(e, "%s", from);
        if (t->sched.last_epoch != t->epochs_done)
            return bp_err_set(e, BP_EDATA, "%s: schedule state: last_epoch is %d, epochs_done %d",
                              from, t->sched.last_epoch, t->epochs_done);
    } else {
        bp_lr_start(&t->sched, t->schedule, base); /* constant: only the epoch count */
        t->sched.last_epoch = t->epochs_done;
    }
    t->sched_restored = 1;
    return BP_OK;
}

static char *real_dir(const char *path)
{
    char buf[PATH_MAX];
    if (!realpath(path, buf))
        return NULL;
    return strdup(buf);
}

int bp_resume_check_output(const bp_resume *r, const char *dir, bp_err *e)
{
    const char *file = r->rec->file;
    const char *slash = strrchr(file, '/');
    char parent[PATH_MAX], trials[PATH_MAX];
    int n = slash ? snprintf(parent, sizeof parent, "%.*s", (int)(slash - file), file)
                  : snprintf(parent, sizeof parent, ".");
    if ((size_t)snprintf(trials, sizeof trials, "%s/trials", dir) >= sizeof trials ||
        n < 0 || (size_t)n >= sizeof parent)
        return bp_err_set(e, BP_EUSAGE, "%s: path too long", dir);
    char *a = real_dir(parent), *b = real_dir(trials);
    int same = a && b && !strcmp(a, b);
    free(a);
    free(b);
    if (same)
        return bp_err_set(e, BP_EUSAGE, "%s: holds the trial being continued (%s); give the new "
                          "run another folder with -o DIR", dir, file);
    return BP_OK;
}
