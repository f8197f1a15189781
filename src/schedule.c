#include "autoconf.h"
#include "schedule.h"

#include <math.h>
#include <string.h>

const char *const bp_lr_names[BP_LR_COUNT] = {
    "constant", "step", "exponential", "cosine", "plateau"
};
const char *const bp_lr_metric_names[BP_METRIC_COUNT] = { "val_loss", "loss" };
const char *const bp_lr_mode_names[BP_MODE_COUNT] = { "min", "max" };
const char *const bp_lr_state_names[BP_LR_NSTATE] = {
    "last_epoch", "lr", "best", "bad_epochs", "cooldown_counter"
};

void bp_lr_defaults(bp_lr_params *p, bp_lr_kind kind)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->step_size = 1;
    p->gamma = 0.1;
    p->t_max = 1;
    p->eta_min = 0;
    p->warmup_epochs = 0;
    p->warmup_start = 0;
    p->metric = BP_METRIC_VAL_LOSS;
    p->mode = BP_MODE_MIN;
    p->factor = 0.1;
    p->patience = 10;
    p->threshold = 1e-4;
    p->cooldown = 0;
    p->min_lr = 0;
    p->eps = 1e-8;
}

/* The closed-form schedules: the lr when last_epoch is k. Operation order as in torch. */
static double cosine_lr(const bp_lr_params *p, double base, int k)
{
    int w = p->warmup_epochs;
    if (k < w)
        return base * (p->warmup_start + (1.0 - p->warmup_start) * (double)k / (double)w);
    double t = (double)(p->t_max - w);
    return p->eta_min + (base - p->eta_min) * (1.0 + cos(M_PI * (double)(k - w) / t)) / 2.0;
}

void bp_lr_start(bp_lr_sched *s, const bp_lr_params *p, double base_lr)
{
    memset(s, 0, sizeof *s);
    if (p)
        s->p = *p;
    else
        bp_lr_defaults(&s->p, BP_LR_CONSTANT);
    s->base_lr = base_lr;
    s->lr = s->p.kind == BP_LR_COSINE ? cosine_lr(&s->p, base_lr, 0) : base_lr;
    s->best = s->p.mode == BP_MODE_MIN ? INFINITY : -INFINITY;
}

static void plateau_step(bp_lr_sched *s, double m)
{
    const bp_lr_params *p = &s->p;
    int better = p->mode == BP_MODE_MIN ? m < s->best * (1.0 - p->threshold)
                                        : m > s->best * (p->threshold + 1.0);
    if (better) {
        s->best = m;
        s->bad_epochs = 0;
    } else {
        s->bad_epochs++;
    }
    if (s->cooldown_counter > 0) {
        s->cooldown_counter--;
        s->bad_epochs = 0;
    }
    if (s->bad_epochs > p->patience) {
        double old = s->lr, lr = fmax(old * p->factor, p->min_lr);
        if (old - lr > p->eps)
            s->lr = lr;
        s->cooldown_counter = p->cooldown;
        s->bad_epochs = 0;
    }
}

void bp_lr_step(bp_lr_sched *s, double metric)
{
    int k = ++s->last_epoch;
    switch (s->p.kind) {
    case BP_LR_STEP:
        if (k % s->p.step_size == 0)
            s->lr *= s->p.gamma;
        break;
    case BP_LR_EXPONENTIAL:
        s->lr *= s->p.gamma;
        break;
    case BP_LR_COSINE:
        s->lr = cosine_lr(&s->p, s->base_lr, k);
        break;
    case BP_LR_PLATEAU:
        plateau_step(s, metric);
        break;
    default:
        break;
    }
}

void bp_lr_state(const bp_lr_sched *s, double v[BP_LR_NSTATE])
{
    v[0] = s->last_epoch;
    v[1] = s->lr;
    v[2] = s->best;
    v[3] = s->bad_epochs;
    v[4] = s->cooldown_counter;
}

int bp_lr_restore(bp_lr_sched *s, const bp_lr_params *p, double base_lr,
                     const char *const *names, const double *v, size_t n, bp_err *e)
{
    double got[BP_LR_NSTATE];
    bp_lr_start(s, p, base_lr);
    for (size_t k = 0; k < BP_LR_NSTATE; k++) {
        size_t i = 0;
        while (i < n && strcmp(names[i], bp_lr_state_names[k]))
            i++;
        if (i == n)
            return bp_err_set(e, BP_EDATA, "schedule state: '%s' missing", bp_lr_state_names[k]);
        got[k] = v[i];
        if (k == 2 || (k == 1 && isnan(base_lr) && isnan(got[k])))
            continue; /* best: any value but NaN (checked below); lr: NaN without an "lr" */
        int integral = k != 1;
        if (!isfinite(got[k]) || got[k] < 0 ||
            (integral && (got[k] != floor(got[k]) || got[k] > 2e9)))
            return bp_err_set(e, BP_EDATA, "schedule state: '%s' is %g; expected %s",
                              bp_lr_state_names[k], got[k],
                              integral ? "a non-negative integer" : "a finite number >= 0");
    }
    if (isnan(got[2]))
        return bp_err_set(e, BP_EDATA, "schedule state: 'best' is NaN");
    s->last_epoch = (int)got[0];
    s->lr = got[1];
    s->best = got[2];
    s->bad_epochs = (int)got[3];
    s->cooldown_counter = (int)got[4];
    return BP_OK;
}

double bp_clip_norm(float *g, size_t n, double max_norm)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += (double)g[i] * (double)g[i];
    double norm = sqrt(sum), coef = max_norm / (norm + 1e-6);
    if (coef < 1.0)
        for (size_t i = 0; i < n; i++)
            g[i] = (float)((double)g[i] * coef);
    return norm;
}

void bp_clip_value(float *g, size_t n, double v)
{
    float hi = (float)v, lo = -hi;
    for (size_t i = 0; i < n; i++)
        g[i] = g[i] > hi ? hi : g[i] < lo ? lo : g[i];
}
