#include "autoconf.h"
#include "train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <omp.h>

#include "backprop.h"
#include "rng.h"

const char *const bp_trial_status_names[BP_TRIAL_STATUS_COUNT] = {
    "pending", "running", "completed", "diverged", "failed", "interrupted", "pruned"
};

const char *const bp_epoch_col_names[BP_COL_COUNT] = {
    "epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"
};

static int lr_index(const bp_optimizer *o)
{
    for (uint32_t i = 0; i < o->n_hparams; i++)
        if (strcmp(o->hparams[i].name, "lr") == 0)
            return (int)i;
    return -1;
}

void bp_trainer_release(bp_trainer *t)
{
    if (!t)
        return;
    free(t->opt_state);
    t->opt_state = NULL;
    free(t->best_params);
    t->best_params = NULL;
}

/* Early stopping's bookkeeping for one epoch: 1 when it improved on the best. */
static int es_note(bp_trainer *t, int ep, const double *v)
{
    double x = v[t->es_col];
    int max = t->es_col == BP_COL_ACCURACY || t->es_col == BP_COL_VAL_ACCURACY;
    if (isnan(x))
        return 0;
    if (t->best_epoch > 0 && (max ? !(x > t->best_value + t->es_min_delta)
                                  : !(x < t->best_value - t->es_min_delta)))
        return 0;
    t->best_value = x;
    t->best_epoch = ep;
    return 1;
}

/* 1 when the epoch's row reaches target_loss or target_accuracy, or (with_max_error: the
 * epoch just trained) its max_error is below target_max_error (whichever is set) */
static int target_reached(const bp_trainer *t, const double *v, int with_max_error)
{
    return (t->target_loss > 0 && v[BP_COL_LOSS] <= t->target_loss) ||
           (t->target_accuracy > 0 && v[BP_COL_ACCURACY] >= t->target_accuracy) ||
           (with_max_error && t->target_max_error > 0 && t->max_error < t->target_max_error);
}

void bp_train_replay(bp_trainer *t, const double *rows, size_t n)
{
    if (n > 0)
        t->first_loss = rows[BP_COL_LOSS];
    for (size_t i = 0; i < n; i++) {
        const double *v = rows + i * BP_COL_COUNT;
        int ep = (int)i + 1;
        if (!t->epochs_to_target && target_reached(t, v, 0))
            t->epochs_to_target = ep;
        if (t->es_patience > 0)
            es_note(t, ep, v);
    }
}

/* After an epoch that did not diverge: 1 when training stops here (status and message set). */
static int stop_here(bp_trainer *t, int ep, const double *v, const float *params, size_t np)
{
    if (t->es_patience > 0 && es_note(t, ep, v) && t->best_params)
        memcpy(t->best_params, params, np * sizeof *params);
    if (target_reached(t, v, 1)) {
        t->epochs_to_target = ep;
        t->status = BP_TRIAL_COMPLETED;
        if (t->target_loss > 0 && v[BP_COL_LOSS] <= t->target_loss)
            snprintf(t->message, sizeof t->message, "target loss %g reached at epoch %d "
                     "(loss %.6g)", t->target_loss, ep, v[BP_COL_LOSS]);
        else if (t->target_accuracy > 0 && v[BP_COL_ACCURACY] >= t->target_accuracy)
            snprintf(t->message, sizeof t->message, "target accuracy %g reached at epoch %d "
                     "(accuracy %.6g)", t->target_accuracy, ep, v[BP_COL_ACCURACY]);
        else
            snprintf(t->message, sizeof t->message, "target max error %g reached at epoch %d "
                     "(every output within %.6g of its target)", t->target_max_error, ep,
                     t->max_error);
        return 1;
    }
    if (t->es_patience > 0 && t->best_epoch > 0 && ep - t->best_epoch >= t->es_patience) {
        t->stopped_early = 1;
        t->status = BP_TRIAL_COMPLETED;
        snprintf(t->message, sizeof t->message, "early stop at epoch %d: no %s improvement over "
                 "%d epoch%s (best %.6g at epoch %d)", ep, bp_epoch_col_names[t->es_col],
                 t->es_patience, bp_s((unsigned long long)t->es_patience), t->best_value,
                 t->best_epoch);
        return 1;
    }
    return 0;
}

static void finish(bp_trainer *t, bp_status_kind s, const char *fmt, const char *arg, int epoch)
{
    t->status = s;
    snprintf(t->message, sizeof t->message, fmt, arg, epoch);
}

/* 0: go on; 1: stopped by the hook (rc 0 for bp_train); < 0: the hook's error */
static int batch_hook(bp_trainer *t, const bp_batch_info *b, bp_err *e)
{
    int r = t->on_batch(t->batch_ud, t, b, e);
    if (r <= 0)
        return r;
    t->status = BP_TRIAL_COMPLETED;
    snprintf(t->message, sizeof t->message, "stopped by the batch hook at step %llu",
             (unsigned long long)b->step);
    return 1;
}

/* An elementwise optimizer (BP_OPT_ELEMENTWISE) gives every parameter the bits of one serial
 * call however the parameters are cut, so its step is shared by the threads when there are at
 * least this many parameters. */
#define STEP_MIN_PARALLEL 32768

static void step_range(const bp_optimizer *opt, const bp_step_args *a, size_t off, size_t n,
                       long *first_bad)
{
    if (!n)
        return;
    char err[BP_ERR_MSG_MAX];
    bp_step_args b = *a;
    b.w = a->w + off;
    b.g = a->g + off;
    b.state = a->state ? a->state + off : NULL;
    b.n = n;
    b.err = err;
    b.err_size = sizeof err;
    err[0] = '\0';
    if (opt->step(&b) != 0) {
#pragma omp critical(bp_opt_step)
        if (*first_bad < 0 || (long)off < *first_bad) {
            *first_bad = (long)off;
            snprintf(a->err, a->err_size, "%s", err);
        }
    }
}

/* opt->step over all parameters; 0 or -1 with the message of the failing range that starts
 * first. Shared by the threads, thread k takes the k-th share of each layer's weight rows and
 * biases: the rows whose gradient it computed in bp_gemm_tn's tile loop (contiguous shares of
 * row-major tiles) and whose weights it reads in the forward product (bp_gemm_nt's tiles are
 * shared out by output columns), so those lines stay in its core's cache. (Cut into fixed
 * slices regardless of the layers, the update of 784-256-128-10 at batch 64 took 3.6 times the
 * CPU time on 2 threads that it took on 1.) */
static int opt_step(const bp_optimizer *opt, const bp_step_args *a, const bp_model *m,
                    int nthreads)
{
    if (!(opt->flags & BP_OPT_ELEMENTWISE) || nthreads <= 1 || a->n < STEP_MIN_PARALLEL)
        return opt->step(a);
    long first_bad = -1;
#pragma omp parallel num_threads(nthreads)
    {
        size_t k = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
        for (size_t l = 0; l < m->n_layers; l++) {
            size_t n_in = (size_t)m->sizes[l], n_out = (size_t)m->sizes[l + 1];
            size_t r0 = n_out * k / nt, r1 = n_out * (k + 1) / nt;
            step_range(opt, a, m->w_off[l] + r0 * n_in, (r1 - r0) * n_in, &first_bad);
            step_range(opt, a, m->b_off[l] + r0, r1 - r0, &first_bad);
        }
    }
    return first_bad < 0 ? 0 : -1;
}

void bp_trainer_set_hp(bp_trainer *t, uint32_t i, double v)
{
    const bp_optimizer *opt = t->optimizer->desc->u.optimizer;
    if (i >= opt->n_hparams)
        return;
    if ((int)i == lr_index(opt)) {
        if (t->sched.p.kind != BP_LR_CONSTANT)
            return;
        t->sched.base_lr = v;
        t->sched.lr = v;
    }
    t->hp[i] = v;
}

int bp_train(bp_trainer *t, bp_err *e)
{
    bp_model *m = t->model;
    const bp_dataset *tr = t->train;
    const bp_optimizer *opt = t->optimizer->desc->u.optimizer;
    size_t n = tr->n, np = m->n_params;
    size_t bs = t->batch_size > 0 && (size_t)t->batch_size < n ? (size_t)t->batch_size : n;
    int rc = BP_OK, li = lr_index(opt), online = bs == 1 && !t->on_batch && bp_online_ok(m);
    uint32_t *order = bp_xcalloc(n, sizeof *order, e);
    float *grad = bp_xcalloc(np, sizeof *grad, e);
    bp_work *w = bp_work_new(m, bs, e);
    /* bundled activations and sgd online: the fused step (backprop.h), unless BPRUN_FUSED=0 */
    bp_fused fz = { .act = NULL };
    int fused = bp_fused_env(e);
    if (fused < 0) {
        rc = e->code;
        goto out;
    }
    fused = fused && online && t->clip == BP_CLIP_NONE;
    if (fused && !(fz.act = bp_xcalloc(m->n_layers, sizeof *fz.act, e))) {
        rc = BP_ENOMEM;
        goto out;
    }
    if (!t->opt_state && opt->n_state)
        t->opt_state = bp_xcalloc((size_t)opt->n_state * np, sizeof(float), e);
    if (!order || !grad || !w || (opt->n_state && !t->opt_state)) {
        rc = BP_ENOMEM;
        goto out;
    }
    if (t->es_restore_best && t->es_patience > 0 && !t->best_params) {
        if (!(t->best_params = bp_xcalloc(np, sizeof *t->best_params, e))) {
            rc = BP_ENOMEM;
            goto out;
        }
        if (t->best_epoch > 0) /* continued: the best epoch's parameters are not known */
            memcpy(t->best_params, m->params, np * sizeof *m->params);
    }
    size_t wb = n * sizeof *order + np * sizeof *grad + w->bytes +
                (size_t)opt->n_state * np * sizeof(float) +
                (t->best_params ? np * sizeof *t->best_params : 0);
    if (wb > t->work_bytes)
        t->work_bytes = wb;
    if (opt->init_state && t->step == 0)
        opt->init_state(t->opt_state, m->params, np, t->hp);
    fused = fused && bp_fused_ok(m, t->optimizer->desc, t->hp, &fz);
    if (li < 0 && t->schedule && t->schedule->kind != BP_LR_CONSTANT) {
        rc = bp_err_set(e, BP_ECONFIG, "train.schedule: optimizer %s has no hyperparameter 'lr' "
                        "to schedule", t->optimizer->desc->name);
        goto out;
    }
    if (!t->sched_restored)
        bp_lr_start(&t->sched, t->schedule, li >= 0 ? t->hp[li] : NAN);
    t->sched_restored = 1; /* a second call continues */
    int metric_col = t->sched.p.metric == BP_METRIC_LOSS ? BP_COL_LOSS : BP_COL_VAL_LOSS;
    t->status = BP_TRIAL_RUNNING;
    t->message[0] = '\0';
    char errbuf[BP_ERR_MSG_MAX];
    /* one clock read an epoch: an epoch's seconds run from the previous epoch's read (its
     * bookkeeping and logging included) to this one's */
    double t0 = bp_seconds();
    for (int ep = t->epochs_done + 1; ep <= t->epochs; ep++) {
        double loss_sum = 0.0;
        size_t correct = 0, seen = 0;
        if (li >= 0)
            t->hp[li] = t->sched.lr;
        if (fused)
            bp_fused_hp(&fz, t->hp);
        if (t->shuffle) {
            bp_rng r = bp_rng_stream(t->seed, t->trial, BP_RNG_SHUFFLE, (uint64_t)ep);
            bp_rng_permutation(&r, order, n);
        } else {
            for (size_t i = 0; i < n; i++)
                order[i] = (uint32_t)i;
        }
        int diverged = 0;
        for (size_t first = 0; first < n; first += bs) {
            size_t nb = n - first < bs ? n - first : bs, c = 0;
            const float *xb = w->Xb;
            if (nb == 1 && !t->on_batch) {
                /* online: the row itself is the batch input (no copy); the target is gathered */
                size_t src = order[first];
                xb = tr->X + src * tr->d;
                if (tr->kind == BP_TARGET_LABELS)
                    w->yb[0] = tr->y[src];
                else
                    for (size_t j = 0; j < tr->k; j++)
                        w->Yb[j] = tr->Y[src * tr->k + j];
            } else {
                bp_gather_threads(w, tr, order, first, nb, t->nthreads);
            }
            double bl;
            if (online) { /* the same bits without the batch bookkeeping (backprop.h) */
                int c1;
                bl = fused ? bp_fused_row(m, w, tr, xb, &fz, t->opt_state, t->step + 1, &c1)
                           : bp_online_row(m, w, tr, xb, grad, &c1);
                loss_sum += bl;
                correct += (size_t)c1;
                seen++;
                if (!isfinite(bl)) {
                    diverged = 1;
                    break;
                }
                if (fused) { /* stepped: no clipping, no hook (online) */
                    t->step++;
                    continue;
                }
            } else {
                bp_forward(m, w, xb, nb, t->nthreads);
                bl = bp_loss_batch(m, w, tr, nb, &c, 1);
                for (size_t r = 0; r < nb; r++)
                    loss_sum += w->loss_row[r];
                correct += c;
                seen += nb;
                if (!isfinite(bl)) {
                    diverged = 1;
                    break;
                }
                bp_backward_scaled(m, w, xb, nb, t->reduction_sum ? 1.0f : 1.0f / (float)nb,
                                   grad, t->nthreads);
            }
            if (t->clip == BP_CLIP_NORM)
                bp_clip_norm(grad, np, t->clip_max);
            else if (t->clip == BP_CLIP_VALUE)
                bp_clip_value(grad, np, t->clip_max);
            bp_batch_info bi = { .phase = BP_BATCH_GRADIENT, .epoch = ep, .step = t->step + 1,
                                 .rows = order + first, .nb = nb, .loss = bl / (double)nb,
                                 .work = w, .grad = grad, .summed = t->reduction_sum };
            if (t->on_batch && (rc = batch_hook(t, &bi, e)) != 0)
                goto out;
            errbuf[0] = '\0';
            bp_step_args a = { .w = m->params, .g = grad, .state = t->opt_state, .n = np,
                               .t = ++t->step, .hp = t->hp, .err = errbuf,
                               .err_size = sizeof errbuf, .state_stride = np,
                               .rows = nb, .summed = t->reduction_sum };
            if (opt_step(opt, &a, m, t->nthreads) != 0) {
                t->epochs_done = ep - 1;
                t->status = BP_TRIAL_FAILED;
                errbuf[sizeof errbuf - 1] = '\0';
                bp_text_oneline(errbuf);   /* the plugin's text goes into one-line notes */
                snprintf(t->message, sizeof t->message, "optimizer %s failed at epoch %d: %s",
                         t->optimizer->desc->name, ep, errbuf[0] ? errbuf : "(no message)");
                goto out;
            }
            bi.phase = BP_BATCH_STEPPED;
            if (t->on_batch && (rc = batch_hook(t, &bi, e)) != 0)
                goto out;
        }
        bp_epoch_row row;
        for (int c = 0; c < BP_COL_COUNT; c++)
            row.v[c] = NAN;
        row.v[BP_COL_EPOCH] = ep;
        row.v[BP_COL_LOSS] = loss_sum / (double)seen;
        row.v[BP_COL_ACCURACY] = (double)correct / (double)seen;
        row.v[BP_COL_LR] = li >= 0 ? t->hp[li] : NAN;
        if (t->val && !diverged)
            bp_evaluate(m, w, t->val, t->nthreads, &row.v[BP_COL_VAL_LOSS],
                        &row.v[BP_COL_VAL_ACCURACY]);
        double t1 = bp_seconds();
        row.v[BP_COL_SECONDS] = t1 - t0;
        t0 = t1;
        if (!diverged && !isfinite(row.v[BP_COL_LOSS]))
            diverged = 1;
        if (ep == 1)
            t->first_loss = row.v[BP_COL_LOSS];
        int grew = !diverged && t->diverge_factor > 0 && t->first_loss > 0 &&
                   row.v[BP_COL_LOSS] > t->diverge_factor * t->first_loss;
        t->epochs_done = ep;
        bp_lr_step(&t->sched, row.v[metric_col]);
        if (t->on_epoch && (rc = t->on_epoch(t->ud, &row, m, e)) != 0)
            goto out;
        if (diverged) {
            finish(t, BP_TRIAL_DIVERGED, "training loss became %s at epoch %d",
                   isnan(row.v[BP_COL_LOSS]) ? "NaN" : "infinite", ep);
            goto out;
        }
        if (grew) {
            t->status = BP_TRIAL_DIVERGED;
            snprintf(t->message, sizeof t->message, "training loss grew to %.6g at epoch %d, "
                     "more than train.diverge_factor (%g) times epoch 1's %.6g", row.v[BP_COL_LOSS],
                     ep, t->diverge_factor, t->first_loss);
            goto out;
        }
        t->max_error = NAN;
        if (t->target_max_error > 0)
            t->max_error = bp_max_output_error(m, w, tr, t->nthreads);
        if (stop_here(t, ep, row.v, m->params, np)) {
            if (t->best_params && t->best_epoch > 0)
                memcpy(m->params, t->best_params, np * sizeof *m->params);
            goto out;
        }
        if (t->stop && *t->stop) {
            finish(t, BP_TRIAL_INTERRUPTED, "%sinterrupted after epoch %d", "", ep);
            goto out;
        }
    }
    t->status = BP_TRIAL_COMPLETED;
    if (t->best_params && t->best_epoch > 0 &&
        t->epochs_done == (t->final_epochs > 0 ? t->final_epochs : t->epochs))
        memcpy(m->params, t->best_params, np * sizeof *m->params);
out:
    if (rc == 1)
        rc = BP_OK;   /* stopped by the batch hook */
    free(order);
    free(grad);
    free(fz.act);
    bp_work_free(w);
    return rc;
}
