#include "autoconf.h"
#include "trace.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backprop.h"
#include "train.h"

const char *const bp_trace_format_names[BP_TRACE_FORMAT_COUNT] = { "text", "csv", "json" };

#define TEXT_MAX_WEIGHTS 8   /* incoming weights per node in the text table */

void bp_trace_free(bp_trace *t)
{
    if (!t)
        return;
    for (size_t l = 0; l < t->n_layers; l++) {
        if (t->z)
            free(t->z[l]);
        if (t->a)
            free(t->a[l]);
        if (t->d)
            free(t->d[l]);
    }
    free(t->z);
    free(t->a);
    free(t->d);
    free(t->config);
    free(t->rows);
    free(t->sizes);
    free(t->act);
    free(t->hp);
    free(t->hp_bool);
    free(t->hp_names);
    free(t->x);
    free(t->y);
    free(t->w_off);
    free(t->b_off);
    free(t->grad);
    free(t->before);
    free(t->after);
    free(t);
}

static bp_trace *trace_new(const bp_experiment *x, const bp_model *m, size_t cap, bp_err *e)
{
    bp_trace *t = bp_xcalloc(1, sizeof *t, e);
    if (!t)
        return NULL;
    size_t L = m->n_layers, np = m->n_params;
    const bp_optimizer *o = x->opt->desc->u.optimizer;
    t->n_layers = L;
    t->n_params = np;
    t->n_hp = o->n_hparams;
    if (!(t->config = bp_xstrdup(x->cfg->path ? x->cfg->path : "", e)) ||
        !(t->rows = bp_xcalloc(cap, sizeof *t->rows, e)) ||
        !(t->sizes = bp_xcalloc(L + 1, sizeof *t->sizes, e)) ||
        !(t->act = bp_xcalloc(L, sizeof *t->act, e)) ||
        !(t->hp = bp_xcalloc(t->n_hp + 1, sizeof *t->hp, e)) ||
        !(t->hp_bool = bp_xcalloc(t->n_hp + 1, sizeof *t->hp_bool, e)) ||
        !(t->hp_names = bp_xcalloc(t->n_hp + 1, sizeof *t->hp_names, e)) ||
        !(t->x = bp_xcalloc((size_t)m->sizes[0], sizeof *t->x, e)) ||
        !(t->y = bp_xcalloc((size_t)m->sizes[L], sizeof *t->y, e)) ||
        !(t->z = bp_xcalloc(L, sizeof *t->z, e)) || !(t->a = bp_xcalloc(L, sizeof *t->a, e)) ||
        !(t->d = bp_xcalloc(L, sizeof *t->d, e)) ||
        !(t->w_off = bp_xcalloc(L, sizeof *t->w_off, e)) ||
        !(t->b_off = bp_xcalloc(L, sizeof *t->b_off, e)) ||
        !(t->grad = bp_xcalloc(np, sizeof *t->grad, e)) ||
        !(t->before = bp_xcalloc(np, sizeof *t->before, e)) ||
        !(t->after = bp_xcalloc(np, sizeof *t->after, e)))
        goto fail;
    for (size_t l = 0; l < L; l++) {
        size_t n = (size_t)m->sizes[l + 1];
        if (!(t->z[l] = bp_xcalloc(n, sizeof **t->z, e)) ||
            !(t->a[l] = bp_xcalloc(n, sizeof **t->a, e)) ||
            !(t->d[l] = bp_xcalloc(n, sizeof **t->d, e)))
            goto fail;
        t->act[l] = m->act[l].name;
    }
    memcpy(t->sizes, m->sizes, (L + 1) * sizeof *t->sizes);
    memcpy(t->w_off, m->w_off, L * sizeof *t->w_off);
    memcpy(t->b_off, m->b_off, L * sizeof *t->b_off);
    t->seed = x->cfg->seed;
    t->loss_name = bp_loss_names[m->loss];
    t->opt_name = x->opt->desc->name;
    for (uint32_t i = 0; i < o->n_hparams; i++) {
        t->hp_bool[i] = (o->hparams[i].flags & BP_HP_BOOL) != 0;
        t->hp_names[i] = o->hparams[i].name;
    }
    return t;
fail:
    bp_trace_free(t);
    return NULL;
}

typedef struct trace_ctx {
    bp_trace *tr;
    const bp_dataset *data;   /* the dataset the trainer draws from */

    uint64_t at;              /* the step to act on */
    int capture;              /* 0: stop before step `at`; 1: capture it, stop after it */
    int reached, done;
} trace_ctx;

static int on_batch(void *ud, bp_trainer *t, const bp_batch_info *b, bp_err *e)
{
    (void)e;
    trace_ctx *c = ud;
    bp_trace *tr = c->tr;
    if (b->step != c->at)
        return 0;
    if (!c->capture) {
        c->reached = 1;
        tr->epoch = b->epoch;
        return 1;
    }
    const bp_model *m = t->model;
    const bp_work *w = b->work;
    size_t L = m->n_layers;
    if (b->phase == BP_BATCH_STEPPED) {
        memcpy(tr->after, m->params, m->n_params * sizeof *tr->after);
        c->done = 1;
        return 1;
    }
    if (!c->reached)
        tr->epoch = b->epoch;
    tr->nb = b->nb;
    tr->summed = b->summed;
    memcpy(tr->rows, b->rows, b->nb * sizeof *tr->rows);
    tr->loss_before = b->loss;
    memcpy(tr->x, w->Xb, (size_t)m->sizes[0] * sizeof *tr->x);
    size_t k = (size_t)m->sizes[L];
    for (size_t j = 0; j < k; j++) {
        if (c->data->kind == BP_TARGET_MATRIX)
            tr->y[j] = w->Yb[j];
        else if (k == 1)
            tr->y[j] = (float)w->yb[0];
        else
            tr->y[j] = (size_t)w->yb[0] == j ? 1.0f : 0.0f;
    }
    for (size_t l = 0; l < L; l++) {
        size_t n = (size_t)m->sizes[l + 1];
        memcpy(tr->z[l], w->Z[l], n * sizeof(float));
        memcpy(tr->a[l], w->A[l], n * sizeof(float));
        memcpy(tr->d[l], w->D[l], n * sizeof(float));
    }
    memcpy(tr->grad, b->grad, m->n_params * sizeof *tr->grad);
    memcpy(tr->before, m->params, m->n_params * sizeof *tr->before);
    memcpy(tr->hp, t->hp, tr->n_hp * sizeof *tr->hp);
    return 0;
}

static int train_status(const bp_trainer *t, uint64_t step, const char *what, bp_err *e)
{
    if (t->status == BP_TRIAL_DIVERGED || t->status == BP_TRIAL_FAILED)
        return bp_err_set(e, BP_ERUN, "trace: step %llu %s: %s", (unsigned long long)step, what,
                          t->message);
    return BP_OK;
}

int bp_trace_run(const bp_experiment *x, const bp_trace_opts *o, bp_trace **out, bp_err *e)
{
    *out = NULL;
    const bp_config *c = x->cfg;
    const bp_dataset *tr_data = x->train;
    size_t n = tr_data->n;
    size_t bs = c->train.batch_size > 0 && (size_t)c->train.batch_size < n
                    ? (size_t)c->train.batch_size : n;
    uint64_t per_epoch = (n + bs - 1) / bs, total = per_epoch * (uint64_t)c->train.epochs;
    if (o->sample >= 0 && (size_t)o->sample >= n)
        return bp_err_set(e, BP_EUSAGE, "--sample %ld: the training set has %zu row%s (0 to %zu)",
                          o->sample, n, bp_s(n), n - 1);
    if (o->steps >= total)
        return bp_err_set(e, BP_EUSAGE, "--step %llu: the run makes %llu step%s (%d epoch%s x "
                          "%llu batch%s); trace one of steps 1 to %llu with --step 0 to %llu",
                          (unsigned long long)o->steps, (unsigned long long)total, bp_s(total),
                          c->train.epochs, bp_s((unsigned long long)c->train.epochs),
                          (unsigned long long)per_epoch, per_epoch == 1 ? "" : "es",
                          (unsigned long long)total, (unsigned long long)(total - 1));
    bp_model *m = bp_experiment_model(x, 0, e);
    if (!m)
        return e->code;
    bp_dataset *one = NULL;
    bp_work *w = NULL;
    int rc = BP_OK;
    bp_trace *tr = trace_new(x, m, o->sample >= 0 ? 1 : bs, e);
    bp_trainer t = { .model = m, .train = tr_data, .val = x->val, .optimizer = x->opt,
                     .epochs = c->train.epochs, .batch_size = c->train.batch_size,
                     .shuffle = c->train.shuffle, .seed = c->seed, .trial = 0,
                     .nthreads = o->threads, .schedule = &c->train.schedule,
                     .clip = c->train.clip, .clip_max = c->train.clip_max, .on_batch = on_batch,
                     .reduction_sum = c->train.reduction == BP_REDUCTION_SUM };
    memcpy(t.hp, x->opt_hp, sizeof t.hp);
    trace_ctx ctx = { .tr = tr, .data = tr_data, .at = o->steps + 1 };
    t.batch_ud = &ctx;
    if (!tr) {
        rc = e->code;
        goto out;
    }
    tr->step = o->steps + 1;
    tr->epoch = 1;
    tr->single_sample = o->sample >= 0;
    if (o->sample < 0) {
        ctx.capture = 1;
        if ((rc = bp_train(&t, e)) || (rc = train_status(&t, o->steps + 1, "was not reached", e)))
            goto out;
    } else {
        if (o->steps > 0) {
            /* run's first K steps; stop before step K+1 (after any epoch-end schedule step) */
            if ((rc = bp_train(&t, e)) || (rc = train_status(&t, o->steps + 1, "was not reached", e)))
                goto out;
            t.sched_restored = 1;
        }
        if (!(one = bp_data_new(tr_data->name, 1, tr_data->d, tr_data->kind, tr_data->k, e))) {
            rc = e->code;
            goto out;
        }
        size_t i = (size_t)o->sample;
        memcpy(one->X, tr_data->X + i * tr_data->d, tr_data->d * sizeof *one->X);
        if (tr_data->kind == BP_TARGET_LABELS)
            one->y[0] = tr_data->y[i];
        else
            memcpy(one->Y, tr_data->Y + i * tr_data->k, tr_data->k * sizeof *one->Y);
        /* the same trainer, continued on a one-row training set for one step */
        t.train = one;
        t.val = NULL;
        t.epochs_done = 0;
        t.epochs = 1;
        t.batch_size = 1;
        t.shuffle = 0;
        ctx.data = one;
        ctx.capture = 1;
        if ((rc = bp_train(&t, e)) || (rc = train_status(&t, o->steps + 1, "failed", e)))
            goto out;
    }
    if (!ctx.done) {
        rc = bp_err_set(e, BP_ERUN, "trace: step %llu was not reached (%s)",
                        (unsigned long long)(o->steps + 1), t.message);
        goto out;
    }
    /* the loss of the same batch after the step */
    const bp_dataset *src = one ? one : tr_data;
    if (!(w = bp_work_new(m, tr->nb, e))) {
        rc = e->code;
        goto out;
    }
    bp_gather(w, src, one ? NULL : tr->rows, 0, tr->nb);
    bp_forward(m, w, w->Xb, tr->nb, o->threads);
    tr->loss_after = bp_loss_batch(m, w, src, tr->nb, NULL, 0) / (double)tr->nb;
    if (one)
        tr->rows[0] = (uint32_t)o->sample;
out:
    bp_work_free(w);
    bp_data_free(one);
    bp_trainer_release(&t);
    if (rc) {
        bp_trace_free(tr);
        tr = NULL;
    } else {
        *out = tr;
    }
    bp_model_free(m);
    return rc;
}

/* ---- output ---- */

static void num(char *buf, size_t n, double v)
{
    snprintf(buf, n, "%.6g", v);
}

static void csv_num(FILE *f, double v)
{
    fprintf(f, ",%.6g", v);
}

static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void json_floats(FILE *f, const float *v, size_t n)
{
    fputc('[', f);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputs(", ", f);
        json_num(f, v[i]);
    }
    fputc(']', f);
}

static void vec(FILE *f, const float *v, size_t n)
{
    fputc('(', f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%.6g", i ? ", " : "", v[i]);
    fputc(')', f);
}

static void print_hp(FILE *f, const bp_trace *t)
{
    for (size_t i = 0; i < t->n_hp; i++) {
        if (t->hp_bool[i])
            fprintf(f, "%s %s %s", i ? "," : "", t->hp_names[i], t->hp[i] != 0 ? "true" : "false");
        else
            fprintf(f, "%s %s %.6g", i ? "," : "", t->hp_names[i], t->hp[i]);
    }
}

static void print_text(FILE *f, const bp_trace *t)
{
    size_t L = t->n_layers;
    fprintf(f, "trace of %s (trial 0, seed %llu)\n", t->config, (unsigned long long)t->seed);
    fprintf(f, "step %llu of the run (epoch %d)", (unsigned long long)t->step, t->epoch);
    if (t->single_sample)
        fprintf(f, ": one sample, training row %u\n", t->rows[0]);
    else if (t->nb == 1)
        fprintf(f, ": its batch is 1 row, training row %u\n", t->rows[0]);
    else {
        fprintf(f, ": its batch is %zu rows, training rows", t->nb);
        for (size_t r = 0; r < t->nb && r < 8; r++)
            fprintf(f, "%s %u", r ? "," : "", t->rows[r]);
        fprintf(f, "%s\n", t->nb > 8 ? ", ..." : "");
        fprintf(f, "z, activation and error term: row %u; gradients: %s over the batch\n",
                t->rows[0], t->summed ? "sums" : "means");
    }
    fputs("network ", f);
    for (size_t l = 0; l <= L; l++)
        fprintf(f, "%s%d", l ? "-" : "", t->sizes[l]);
    fprintf(f, ", activations");
    for (size_t l = 0; l < L; l++)
        fprintf(f, "%s %s", l ? "," : "", t->act[l]);
    fprintf(f, "; loss %s\noptimizer %s:", t->loss_name, t->opt_name);
    print_hp(f, t);
    fputs("\ninput x = ", f);
    vec(f, t->x, (size_t)t->sizes[0]);
    fputs(", target y = ", f);
    vec(f, t->y, (size_t)t->sizes[L]);
    fputs("\n\n", f);

    char z[32], a[32], d[32], g[32];
    fprintf(f, "%-5s  %-4s  %12s  %12s  %12s  %12s\n", "layer", "node", "z", "activation",
            "error term", "gradient");
    for (int j = 0; j < t->sizes[0]; j++) {
        num(a, sizeof a, t->x[j]);
        fprintf(f, "%-5d  %-4d  %12s  %12s  %12s  %12s\n", 0, j, "-", a, "-", "-");
    }
    for (size_t l = 1; l <= L; l++) {
        for (int j = 0; j < t->sizes[l]; j++) {
            num(z, sizeof z, t->z[l - 1][j]);
            num(a, sizeof a, t->a[l - 1][j]);
            num(d, sizeof d, t->d[l - 1][j]);
            num(g, sizeof g, t->grad[t->b_off[l - 1] + (size_t)j]);
            fprintf(f, "%-5zu  %-4d  %12s  %12s  %12s  %12s\n", l, j, z, a, d, g);
        }
    }
    fprintf(f, "(layer 0 is the input; error term = dL/dz; gradient = dL/db, the bias gradient)\n");
    fprintf(f, "\nloss before the step  %.6g\nloss after the step   %.6g  (the same batch)\n",
            t->loss_before, t->loss_after);

    for (size_t l = 1; l <= L; l++) {
        size_t n_in = (size_t)t->sizes[l - 1];
        fprintf(f, "\nweights into layer %zu (%s): gradient dL/dW[j][i] = error term j x "
                "activation i of layer %zu%s; update = after - before\n", l, t->act[l - 1],
                l - 1, t->nb > 1 ? (t->summed ? " (batch sum)" : " (batch mean)") : "");
        fprintf(f, "%-5s  %-4s  %-6s  %12s  %12s  %12s  %12s\n", "layer", "node", "weight",
                "before", "gradient", "update", "after");
        for (int j = 0; j < t->sizes[l]; j++) {
            size_t shown = n_in < TEXT_MAX_WEIGHTS ? n_in : TEXT_MAX_WEIGHTS;
            for (size_t i = 0; i <= shown; i++) {
                /* i < shown: weight from node i; i == shown: the bias */
                size_t p = i < shown ? t->w_off[l - 1] + (size_t)j * n_in + i
                                     : t->b_off[l - 1] + (size_t)j;
                char w[16], b4[32], gr[32], up[32], af[32];
                if (i < shown)
                    snprintf(w, sizeof w, "w%zu", i);
                else
                    snprintf(w, sizeof w, "bias");
                if (i == shown && shown < n_in)
                    fprintf(f, "%-5zu  %-4d  ...     (%zu more weights; --format csv lists all)\n",
                            l, j, n_in - shown);
                num(b4, sizeof b4, t->before[p]);
                num(gr, sizeof gr, t->grad[p]);
                num(up, sizeof up, (double)t->after[p] - (double)t->before[p]);
                num(af, sizeof af, t->after[p]);
                fprintf(f, "%-5zu  %-4d  %-6s  %12s  %12s  %12s  %12s\n", l, j, w, b4, gr, up, af);
            }
        }
    }
    fprintf(f, "(w<i> connects node i of the layer below; update = what the optimizer applied)\n");
}

static void print_csv(FILE *f, const bp_trace *t)
{
    size_t L = t->n_layers;
    fputs("section,layer,node,from,z,activation,error_term,gradient,before,update,after\n", f);
    fprintf(f, "loss,,,,,,,,%.6g,,%.6g\n", t->loss_before, t->loss_after);
    for (int j = 0; j < t->sizes[0]; j++)
        fprintf(f, "node,0,%d,,,%.6g,,,,,\n", j, t->x[j]);
    for (size_t l = 1; l <= L; l++) {
        size_t n_in = (size_t)t->sizes[l - 1];
        for (int j = 0; j < t->sizes[l]; j++) {
            size_t p = t->b_off[l - 1] + (size_t)j;
            fprintf(f, "node,%zu,%d,", l, j);
            csv_num(f, t->z[l - 1][j]);
            csv_num(f, t->a[l - 1][j]);
            csv_num(f, t->d[l - 1][j]);
            csv_num(f, t->grad[p]);
            csv_num(f, t->before[p]);
            csv_num(f, (double)t->after[p] - (double)t->before[p]);
            csv_num(f, t->after[p]);
            fputc('\n', f);
            for (size_t i = 0; i < n_in; i++) {
                p = t->w_off[l - 1] + (size_t)j * n_in + i;
                fprintf(f, "weight,%zu,%d,%zu,,,", l, j, i);
                csv_num(f, t->grad[p]);
                csv_num(f, t->before[p]);
                csv_num(f, (double)t->after[p] - (double)t->before[p]);
                csv_num(f, t->after[p]);
                fputc('\n', f);
            }
        }
    }
    for (int j = 0; j < t->sizes[L]; j++)
        fprintf(f, "target,%zu,%d,,,%.6g,,,,,\n", L, j, t->y[j]);
}

static void print_json(FILE *f, const bp_trace *t)
{
    size_t L = t->n_layers;
    fputs("{\n  \"config\": ", f);
    json_str(f, t->config);
    fprintf(f, ",\n  \"seed\": %llu,\n  \"step\": %llu,\n  \"epoch\": %d,\n  \"sample\": %s,\n"
            "  \"rows\": [", (unsigned long long)t->seed, (unsigned long long)t->step, t->epoch,
            t->single_sample ? "true" : "false");
    for (size_t r = 0; r < t->nb; r++)
        fprintf(f, "%s%u", r ? ", " : "", t->rows[r]);
    fputs("],\n  \"loss\": {\"name\": ", f);
    json_str(f, t->loss_name);
    fputs(", \"before\": ", f);
    json_num(f, t->loss_before);
    fputs(", \"after\": ", f);
    json_num(f, t->loss_after);
    fputs("},\n  \"optimizer\": {\"name\": ", f);
    json_str(f, t->opt_name);
    fputs(", \"hp\": {", f);
    for (size_t i = 0; i < t->n_hp; i++) {
        fputs(i ? ", " : "", f);
        json_str(f, t->hp_names[i]);
        fputs(": ", f);
        if (t->hp_bool[i])
            fputs(t->hp[i] != 0 ? "true" : "false", f);
        else
            json_num(f, t->hp[i]);
    }
    fputs("}},\n  \"input\": ", f);
    json_floats(f, t->x, (size_t)t->sizes[0]);
    fputs(",\n  \"target\": ", f);
    json_floats(f, t->y, (size_t)t->sizes[L]);
    fputs(",\n  \"layers\": [", f);
    for (size_t l = 1; l <= L; l++) {
        size_t n_in = (size_t)t->sizes[l - 1];
        fprintf(f, "%s\n    {\"layer\": %zu, \"activation\": ", l > 1 ? "," : "", l);
        json_str(f, t->act[l - 1]);
        fputs(", \"nodes\": [", f);
        for (int j = 0; j < t->sizes[l]; j++) {
            size_t pb = t->b_off[l - 1] + (size_t)j, pw = t->w_off[l - 1] + (size_t)j * n_in;
            fprintf(f, "%s\n      {\"node\": %d, \"z\": ", j ? "," : "", j);
            json_num(f, t->z[l - 1][j]);
            fputs(", \"activation\": ", f);
            json_num(f, t->a[l - 1][j]);
            fputs(", \"error_term\": ", f);
            json_num(f, t->d[l - 1][j]);
            fputs(",\n       \"bias\": {\"gradient\": ", f);
            json_num(f, t->grad[pb]);
            fputs(", \"before\": ", f);
            json_num(f, t->before[pb]);
            fputs(", \"update\": ", f);
            json_num(f, (double)t->after[pb] - (double)t->before[pb]);
            fputs(", \"after\": ", f);
            json_num(f, t->after[pb]);
            fputs("},\n       \"weights\": {\"gradient\": ", f);
            json_floats(f, t->grad + pw, n_in);
            fputs(", \"before\": ", f);
            json_floats(f, t->before + pw, n_in);
            fputs(", \"update\": [", f);
            for (size_t i = 0; i < n_in; i++) {
                fputs(i ? ", " : "", f);
                json_num(f, (double)t->after[pw + i] - (double)t->before[pw + i]);
            }
            fputs("], \"after\": ", f);
            json_floats(f, t->after + pw, n_in);
            fputs("}}", f);
        }
        fputs("]}", f);
    }
    fputs("\n  ]\n}\n", f);
}

void bp_trace_print(FILE *f, const bp_trace *t, bp_trace_format fmt)
{
    if (fmt == BP_TRACE_CSV)
        print_csv(f, t);
    else if (fmt == BP_TRACE_JSON)
        print_json(f, t);
    else
        print_text(f, t);
}
