#include "autoconf.h"
#include "lrfind.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5io.h"
#include "train.h"

const char bp_lrfind_rule[] =
    "lr_k = lr_min * (lr_max/lr_min)^(k/(N-1)); smoothed loss S_k = m_k/(1-beta^(k+1)), "
    "m_k = beta*m_(k-1) + (1-beta)*loss_k; stop when S_k > blowup*min(S) or the loss is not "
    "finite; (a) steepest: lr at the most negative (S_(i+h)-S_(i-h))/(ln lr_(i+h)-ln lr_(i-h)), "
    "h = max(1, round(n/40)), first and last n/10 points ignored; (b) tenth_min: lr at min S "
    "divided by 10; suggested: (a), else (b)";

void bp_lrfind_free(bp_lrfind *r)
{
    if (!r)
        return;
    free(r->lr);
    free(r->loss);
    free(r->smooth);
    free(r);
}

void bp_lrfind_suggest(bp_lrfind *r)
{
    size_t n = r->n;
    r->steepest_lr = r->steepest_slope = NAN;
    r->steepest_i = -1;
    r->min_lr = r->min_smooth = r->tenth_min_lr = NAN;
    r->min_i = -1;
    r->suggested = NAN;
    r->why_none[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (isfinite(r->smooth[i]) && (r->min_i < 0 || r->smooth[i] < r->min_smooth)) {
            r->min_i = (long)i;
            r->min_smooth = r->smooth[i];
        }
    if (n < 10) {
        snprintf(r->why_none, sizeof r->why_none, "only %zu point%s recorded; at least 10 are "
                 "needed (raise --steps)", n, n == 1 ? "" : "s");
        return;
    }
    if (r->min_i >= 0) {
        r->min_lr = r->lr[r->min_i];
        r->tenth_min_lr = r->min_lr / 10;
    }
    size_t h = (size_t)lround((double)n / 40.0), skip = n / 10;
    if (h < 1)
        h = 1;
    size_t lo = skip > h ? skip : h, hi = n - skip < n - h ? n - skip : n - h;
    for (size_t i = lo; i < hi; i++) {
        double s = (r->smooth[i + h] - r->smooth[i - h]) / (log(r->lr[i + h]) - log(r->lr[i - h]));
        if (isfinite(s) && s < 0 && (r->steepest_i < 0 || s < r->steepest_slope)) {
            r->steepest_i = (long)i;
            r->steepest_slope = s;
        }
    }
    if (r->steepest_i >= 0)
        r->steepest_lr = r->lr[r->steepest_i];
    r->suggested = isfinite(r->steepest_lr) ? r->steepest_lr : r->tenth_min_lr;
    if (!isfinite(r->suggested))
        snprintf(r->why_none, sizeof r->why_none, "the smoothed loss never fell");
}

typedef struct lf_ctx {
    bp_lrfind *r;
    int li;                /* index of "lr" in the optimizer's hyperparameters */
    double m, best;        /* running average; best smoothed loss so far */
    int stopped;
} lf_ctx;

static int on_batch(void *ud, bp_trainer *t, const bp_batch_info *b, bp_err *e)
{
    (void)e;
    lf_ctx *c = ud;
    bp_lrfind *r = c->r;
    if (b->phase != BP_BATCH_GRADIENT)
        return 0;
    uint64_t k = b->step - 1;
    if (k >= r->planned)
        return 1;
    double lr = r->planned > 1 ? r->lr_min * pow(r->lr_max / r->lr_min,
                                                 (double)k / (double)(r->planned - 1))
                               : r->lr_min;
    c->m = r->beta * c->m + (1 - r->beta) * b->loss;
    double s = c->m / (1 - pow(r->beta, (double)(k + 1)));
    r->lr[r->n] = lr;
    r->loss[r->n] = b->loss;
    r->smooth[r->n] = s;
    r->n++;
    if (!isfinite(s)) {
        snprintf(r->stop, sizeof r->stop, "stopped at step %llu (lr %.3g): the smoothed loss is "
                 "not finite", (unsigned long long)(k + 1), lr);
        c->stopped = 1;
        return 1;
    }
    if (k > 0 && s > r->blowup * c->best) {
        snprintf(r->stop, sizeof r->stop, "stopped at step %llu (lr %.3g): smoothed loss %.4g > "
                 "%g x the best (%.4g)", (unsigned long long)(k + 1), lr, s, r->blowup, c->best);
        c->stopped = 1;
        return 1;
    }
    if (k == 0 || s < c->best)
        c->best = s;
    t->hp[c->li] = lr;
    return 0;
}

int bp_lrfind_run(const bp_experiment *x, const bp_lrfind_opts *o, bp_lrfind **out, bp_err *e)
{
    *out = NULL;
    if (!(o->lr_min > 0) || !isfinite(o->lr_max) || !(o->lr_min < o->lr_max))
        return bp_err_set(e, BP_EUSAGE, "--min %g --max %g: expected 0 < min < max", o->lr_min,
                          o->lr_max);
    if (!(o->smooth >= 0 && o->smooth < 1))
        return bp_err_set(e, BP_EUSAGE, "--smooth: expected 0 <= beta < 1 (got %g)", o->smooth);
    if (!(o->blowup > 1))
        return bp_err_set(e, BP_EUSAGE, "blow-up factor must be > 1 (got %g)", o->blowup);
    const bp_config *c = x->cfg;
    const bp_optimizer *od = x->opt->desc->u.optimizer;
    int li = -1;
    for (uint32_t i = 0; i < od->n_hparams; i++)
        if (!strcmp(od->hparams[i].name, "lr"))
            li = (int)i;
    if (li < 0) {
        char where[256];
        return bp_err_set(e, BP_ECONFIG, "%s: train.optimizer: %s has no hyperparameter 'lr' for "
                          "lr-find to vary", bp_mark_str(&c->train.optimizer.mark, where,
                                                         sizeof where), x->opt->desc->name);
    }
    size_t n = x->train->n;
    size_t bs = c->train.batch_size > 0 && (size_t)c->train.batch_size < n
                    ? (size_t)c->train.batch_size : n;
    uint64_t per_epoch = (n + bs - 1) / bs, planned = o->steps ? o->steps : per_epoch;
    if (planned > 100000000)
        return bp_err_set(e, BP_EUSAGE, "--steps: at most 100000000 (got %llu)",
                          (unsigned long long)planned);
    bp_lrfind *r = bp_xcalloc(1, sizeof *r, e);
    if (!r)
        return BP_ENOMEM;
    r->planned = planned;
    r->lr_min = o->lr_min;
    r->lr_max = o->lr_max;
    r->beta = o->smooth;
    r->blowup = o->blowup;
    r->opt_name = x->opt->desc->name;
    bp_model *m = NULL;
    int rc = BP_OK;
    if (!(r->lr = bp_xcalloc(planned, sizeof *r->lr, e)) ||
        !(r->loss = bp_xcalloc(planned, sizeof *r->loss, e)) ||
        !(r->smooth = bp_xcalloc(planned, sizeof *r->smooth, e)) ||
        !(m = bp_experiment_model(x, 0, e))) {
        rc = e->code;
        goto out;
    }
    uint64_t epochs = (planned + per_epoch - 1) / per_epoch;
    if (epochs > 1000000000) {
        rc = bp_err_set(e, BP_EUSAGE, "--steps %llu: too many epochs", (unsigned long long)planned);
        goto out;
    }
    lf_ctx ctx = { .r = r, .li = li };
    bp_trainer t = { .model = m, .train = x->train, .optimizer = x->opt, .epochs = (int)epochs,
                     .batch_size = c->train.batch_size, .shuffle = c->train.shuffle,
                     .seed = c->seed, .trial = 0, .nthreads = o->threads,
                     .clip = c->train.clip, .clip_max = c->train.clip_max,
                     .on_batch = on_batch, .batch_ud = &ctx };
    memcpy(t.hp, x->opt_hp, sizeof t.hp);
    rc = bp_train(&t, e);
    if (!rc && t.status == BP_TRIAL_FAILED)
        rc = bp_err_set(e, BP_ERUN, "lr-find: %s", t.message);
    else if (!rc && t.status == BP_TRIAL_DIVERGED)
        snprintf(r->stop, sizeof r->stop, "stopped at step %zu: the loss is not finite",
                 r->n + 1);
    else if (!rc && !ctx.stopped)
        snprintf(r->stop, sizeof r->stop, "ran all %llu step%s", (unsigned long long)planned,
                 bp_s(planned));
    bp_trainer_release(&t);
    if (!rc)
        bp_lrfind_suggest(r);
out:
    bp_model_free(m);
    if (rc)
        bp_lrfind_free(r);
    else
        *out = r;
    return rc;
}

/* ---- HDF5 ---- */

static int h5err(bp_err *e, const char *path, const char *what)
{
    return bp_err_set(e, BP_EIO, "%s: cannot write %s", path, what);
}

static int put_attr(hid_t f, const char *name, hid_t type, const void *v)
{
    hid_t s = H5Screate(H5S_SCALAR);
    if (s < 0)
        return -1;
    hid_t a = H5Acreate2(f, name, type, s, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 || H5Awrite(a, type, v) < 0 ? -1 : 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(s);
    return rc;
}

static int put_str(hid_t f, const char *name, const char *v)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0)
        return -1;
    int rc = H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0
                 ? -1 : put_attr(f, name, t, &v);
    H5Tclose(t);
    return rc;
}

static int put_dbl(hid_t f, const char *name, double v)
{
    return put_attr(f, name, H5T_NATIVE_DOUBLE, &v);
}

static int put_i64(hid_t f, const char *name, long long v)
{
    return put_attr(f, name, H5T_NATIVE_LLONG, &v);
}

static int put_column(hid_t f, const char *name, const double *v, size_t n)
{
    hsize_t dim = n;
    hid_t s = H5Screate_simple(1, &dim, NULL);
    if (s < 0)
        return -1;
    hid_t d = H5Dcreate2(f, name, H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = d < 0 || (n && H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
                 ? -1 : 0;
    if (d >= 0)
        H5Dclose(d);
    H5Sclose(s);
    return rc;
}

int bp_lrfind_write(const bp_lrfind *r, const char *path, const bp_config *cfg, int overwrite,
                    bp_err *e)
{
    if (!overwrite && access(path, F_OK) == 0)
        return bp_err_set(e, BP_EEXIST, "%s: exists; use --force to replace it, or -o to choose "
                          "another file", path);
    size_t len = strlen(path) + 6;
    char *part = bp_xcalloc(len, 1, e);
    char *resolved = bp_config_dump_string(cfg);
    if (!part || !resolved) {
        free(part);
        free(resolved);
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    }
    snprintf(part, len, "%s.part", path);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    int rc = BP_OK;
    hid_t f = H5Fcreate(part, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        rc = bp_err_set(e, BP_EIO, "%s: cannot create: %s", part,
                        errno ? strerror(errno) : "HDF5 error");
        goto out;
    }
    if (put_column(f, "lr", r->lr, r->n) || put_column(f, "loss", r->loss, r->n) ||
        put_column(f, "smooth_loss", r->smooth, r->n)) {
        rc = h5err(e, part, "the datasets");
        goto out;
    }
    int fv = BP_FORMAT_VERSION;
    if (put_attr(f, "format_version", H5T_NATIVE_INT, &fv) ||
        put_str(f, "bprun_version", PACKAGE_VERSION) ||
        put_str(f, "config", cfg->text ? cfg->text : "") ||
        put_str(f, "resolved_config", resolved) || put_str(f, "rule", bp_lrfind_rule) ||
        put_str(f, "stop", r->stop) || put_str(f, "optimizer", r->opt_name) ||
        put_dbl(f, "lr_min", r->lr_min) || put_dbl(f, "lr_max", r->lr_max) ||
        put_dbl(f, "smooth", r->beta) || put_dbl(f, "blowup", r->blowup) ||
        put_i64(f, "steps", (long long)r->planned) ||
        put_dbl(f, "suggested_lr", r->suggested) || put_dbl(f, "steepest_lr", r->steepest_lr) ||
        put_i64(f, "steepest_step", r->steepest_i >= 0 ? r->steepest_i + 1 : -1) ||
        put_dbl(f, "min_smooth_loss", r->min_smooth) || put_dbl(f, "min_lr", r->min_lr) ||
        put_dbl(f, "tenth_min_lr", r->tenth_min_lr)) {
        rc = h5err(e, part, "the attributes");
        goto out;
    }
    if (H5Fclose(f) < 0) {
        f = H5I_INVALID_HID;
        rc = h5err(e, part, "(close)");
        goto out;
    }
    f = H5I_INVALID_HID;
    if (rename(part, path) != 0)
        rc = bp_err_set(e, BP_EIO, "%s: cannot rename to %s: %s", part, path, strerror(errno));
out:
    if (f >= 0)
        H5Fclose(f);
    if (rc)
        unlink(part);
    free(part);
    free(resolved);
    return rc;
}

/* ---- summary ---- */

void bp_lrfind_print(FILE *f, const bp_lrfind *r)
{
    fprintf(f, "lr-find: %s, lr from %g to %g over %llu step%s; %zu recorded, %s\n",
            r->opt_name, r->lr_min, r->lr_max, (unsigned long long)r->planned, bp_s(r->planned),
            r->n, r->stop);
    if (r->min_i >= 0)
        fprintf(f, "minimum smoothed loss %.6g at lr %.3g (step %ld)\n", r->min_smooth, r->min_lr,
                r->min_i + 1);
    if (r->steepest_i >= 0)
        fprintf(f, "(a) steepest descent of the smoothed loss: lr %.3g (step %ld, slope %.4g per "
                "e-fold of lr)\n", r->steepest_lr, r->steepest_i + 1, r->steepest_slope);
    else
        fprintf(f, "(a) steepest descent of the smoothed loss: none\n");
    if (isfinite(r->tenth_min_lr))
        fprintf(f, "(b) one tenth of the lr at the minimum: %.3g\n", r->tenth_min_lr);
    else
        fprintf(f, "(b) one tenth of the lr at the minimum: none\n");
    if (!isfinite(r->suggested)) {
        fprintf(f, "no suggestion: %s\n", r->why_none);
        return;
    }
    double a = r->suggested;
    fprintf(f, "suggested lr: %.3g (%s)\n", a, isfinite(r->steepest_lr) ? "a" : "b");
    fprintf(f, "sweep: --sweep train.optimizer.lr=%.3g,%.3g,%.3g\n", a / 3, a, 3 * a);
    fprintf(f, "yaml:  sweep: {grid: {train.optimizer.lr: [%.3g, %.3g, %.3g]}}\n", a / 3, a,
            3 * a);
}
