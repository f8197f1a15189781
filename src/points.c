#include "autoconf.h"
#include "points.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const bp_rank_metric_names[BP_RANK_COUNT] = {
    "auto", "loss", "val_loss", "best_val_loss", "accuracy", "val_accuracy", "test_loss",
    "test_accuracy", "epochs_to_target", "seconds"
};

int bp_rank_metric_higher(bp_rank_metric m)
{
    return m == BP_RANK_ACCURACY || m == BP_RANK_VAL_ACCURACY ||
           m == BP_RANK_TEST_ACCURACY;
}

static int is_failed(const bp_point_trial *t)
{
    return !strcmp(t->status, "diverged") || !strcmp(t->status, "failed");
}

double bp_point_value(const bp_point_trial *t, bp_rank_metric m)
{
    if (strcmp(t->status, "completed") != 0)
        return NAN;
    double v = NAN;
    switch (m) {
    case BP_RANK_LOSS: v = t->loss; break;
    case BP_RANK_VAL_LOSS: v = t->val_loss; break;
    case BP_RANK_BEST_VAL_LOSS: v = t->best_val_loss; break;
    case BP_RANK_ACCURACY: v = t->accuracy; break;
    case BP_RANK_VAL_ACCURACY: v = t->val_accuracy; break;
    case BP_RANK_TEST_LOSS: v = t->test_loss; break;
    case BP_RANK_TEST_ACCURACY: v = t->test_accuracy; break;
    case BP_RANK_EPOCHS_TO_TARGET: v = t->to_target > 0 ? t->to_target : NAN; break;
    case BP_RANK_SECONDS: v = t->seconds; break;
    default: break;
    }
    return isfinite(v) ? v : NAN;
}

/* For comparisons: the value, the worst possible one for a diverged or failed repeat (and, for
 * epochs_to_target, for a completed repeat that never reached the target), NaN for one that
 * is left out (pruned, unfinished, completed without this metric). */
static double value_or_worst(const bp_point_trial *t, bp_rank_metric m)
{
    double worst = bp_rank_metric_higher(m) ? -INFINITY : INFINITY;
    if (is_failed(t))
        return worst;
    if (m == BP_RANK_EPOCHS_TO_TARGET && !strcmp(t->status, "completed") && t->to_target < 0)
        return worst;   /* never reached the target: slower than any repeat that did */
    return bp_point_value(t, m);
}

typedef struct sctx {
    const bp_point_trial *t;
    size_t n_axes;
} sctx;

static int cmp_params(const bp_point_trial *a, const bp_point_trial *b, size_t n_axes)
{
    for (size_t j = 0; j < n_axes; j++) {
        int c = strcmp(a->params ? a->params[j] : "", b->params ? b->params[j] : "");
        if (c)
            return c;
    }
    return 0;
}

static _Thread_local sctx sort_ctx;

static int by_params(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    int c = cmp_params(&sort_ctx.t[a], &sort_ctx.t[b], sort_ctx.n_axes);
    return c ? c : (a > b) - (a < b);
}

static _Thread_local struct {
    const bp_point *p;
    int higher;
} rank_ctx;

static int by_score(const void *pa, const void *pb)
{
    const bp_point *a = pa, *b = pb;
    int na = isnan(a->score), nb = isnan(b->score);
    if (na != nb)
        return na - nb;
    if (!na && a->score != b->score)
        return (rank_ctx.higher ? a->score > b->score : a->score < b->score) ? -1 : 1;
    return (a->trials[0] > b->trials[0]) - (a->trials[0] < b->trials[0]);
}

static int summarize(const bp_point_trial *t, bp_point *p, const bp_points *o)
{
    double *v = malloc(p->n * sizeof *v), *time = malloc(p->n * sizeof *time);
    int *ev = malloc(p->n * sizeof *ev);
    if (!v || !time || !ev) {
        free(v);
        free(time);
        free(ev);
        return -1;
    }
    size_t nf = 0;
    for (size_t i = 0; i < p->n; i++) {
        const bp_point_trial *x = &t[p->trials[i]];
        double val = bp_point_value(x, o->metric);
        if (!isnan(val))
            v[p->n_value++] = val;
        if (is_failed(x))
            p->n_failed++;
        else if (!strcmp(x->status, "pruned") || !strcmp(x->status, "skipped"))
            p->n_pruned++;   /* pruned by halving, or not needed by a race */
        else if (strcmp(x->status, "completed") != 0)
            p->n_unfinished++;
        p->has_target |= x->to_target != 0;
        if (is_failed(x) || !strcmp(x->status, "completed")) {
            p->reached += x->to_target > 0;
            time[nf] = x->to_target > 0 ? x->to_target : x->epochs;
            ev[nf++] = x->to_target > 0;
        }
    }
    int rc = bp_stats_describe(v, p->n_value, 0.95, &p->d);
    p->score = o->by_median ? p->d.median : p->d.mean;
    p->success_lo = p->success_hi = NAN;
    p->km.median = p->km.median_lo = p->km.median_hi = NAN;
    if (!rc && p->has_target && nf) {
        bp_stats_wilson(p->reached, nf, 0.95, &p->success_lo, &p->success_hi);
        rc = bp_stats_km(time, ev, nf, 0.95, &p->km);
    }
    free(v);
    free(time);
    free(ev);
    return rc;
}

typedef struct sv {
    uint64_t seed;
    double v;
} sv;

static int by_seed(const void *pa, const void *pb)
{
    const sv *a = pa, *b = pb;
    return (a->seed > b->seed) - (a->seed < b->seed);
}

/* a point's comparable values (value_or_worst, NaN left out), by seed */
static sv *point_values(const bp_point_trial *t, const bp_point *p, bp_rank_metric m, size_t *n)
{
    sv *s = malloc((p->n ? p->n : 1) * sizeof *s);
    *n = 0;
    for (size_t i = 0; s && i < p->n; i++) {
        double v = value_or_worst(&t[p->trials[i]], m);
        if (!isnan(v))
            s[(*n)++] = (sv){ t[p->trials[i]].seed, v };
    }
    if (s)
        qsort(s, *n, sizeof *s, by_seed);
    return s;
}

static double median_of(const sv *s, size_t n)
{
    double *v = malloc((n ? n : 1) * sizeof *v);
    bp_describe d;
    for (size_t i = 0; v && i < n; i++)
        v[i] = s[i].v;
    double m = v && !bp_stats_describe(v, n, 0.95, &d) ? d.median : NAN;
    free(v);
    return m;
}

static int compare(const bp_point_trial *t, const bp_points *o, size_t a, size_t b,
                   bp_comparison *c)
{
    memset(c, 0, sizeof *c);
    c->a = a;
    c->b = b;
    c->diff = c->diff_lo = c->diff_hi = c->statistic = c->p = c->p_holm = NAN;
    c->verdict = "not distinguishable";
    size_t na, nb;
    sv *va = point_values(t, &o->points[a], o->metric, &na);
    sv *vb = point_values(t, &o->points[b], o->metric, &nb);
    double *d = malloc((na + nb + 1) * sizeof *d), *od = malloc((na + nb + 1) * sizeof *od);
    int rc = va && vb && d && od ? 0 : -1, higher = bp_rank_metric_higher(o->metric);
    size_t np = 0;
    for (size_t i = 0, j = 0; !rc && i < na && j < nb;) {
        if (va[i].seed < vb[j].seed) {
            i++;
        } else if (va[i].seed > vb[j].seed) {
            j++;
        } else {
            double x = va[i++].v - vb[j++].v;
            d[np] = isnan(x) ? 0 : x;   /* both failed: a tie */
            od[np] = higher ? d[np] : -d[np];   /* > 0: a is better */
            np++;
        }
    }
    double direction = 0;
    if (!rc && np) {
        bp_wilcoxon w;
        bp_describe dd;
        c->paired = 1;
        c->n_pairs = np;
        if (!(rc = bp_stats_wilcoxon(od, np, &w)) && !(rc = bp_stats_describe(d, np, 0.95, &dd))) {
            c->wins_a = w.wins;
            c->losses_a = w.losses;
            c->ties = w.ties;
            c->statistic = w.statistic;
            c->p = w.p;
            c->exact = w.exact;
            c->diff = dd.median;
            c->diff_lo = dd.med_low;
            c->diff_hi = dd.med_high;
            bp_describe od_d;
            if (!(rc = bp_stats_describe(od, np, 0.95, &od_d)))
                direction = od_d.median != 0 ? od_d.median : (double)w.wins - (double)w.losses;
        }
    } else if (!rc && na && nb) {
        double *x = d, *y = od;
        for (size_t i = 0; i < na; i++)
            x[i] = va[i].v;
        for (size_t j = 0; j < nb; j++)
            y[j] = vb[j].v;
        bp_mannwhitney u;
        c->n_pairs = na + nb;
        if (!(rc = bp_stats_mannwhitney(x, na, y, nb, &u))) {
            c->statistic = u.statistic;
            c->p = u.p;
            c->exact = u.exact;
            c->diff = median_of(va, na) - median_of(vb, nb);
            /* U1 above its mean: a's values rank higher */
            double up = u.statistic - (double)na * (double)nb / 2;
            direction = higher ? up : -up;
        }
    }
    c->ties = c->paired ? c->ties : 0;
    if (!isnan(c->p))
        c->verdict = direction > 0 ? "better" : direction < 0 ? "worse" : "not distinguishable";
    free(va);
    free(vb);
    free(d);
    free(od);
    return rc;
}

int bp_points_build(const bp_point_trial *t, size_t n, size_t n_axes, const bp_points_opts *o,
                    bp_points *out, bp_err *e)
{
    memset(out, 0, sizeof *out);
    out->metric = o->metric;
    out->by_median = o->by_median;
    out->alpha = o->alpha > 0 ? o->alpha : 0.05;
    if (out->metric == BP_RANK_AUTO) {
        out->metric = BP_RANK_LOSS;
        for (size_t i = 0; i < n; i++)
            if (isfinite(t[i].val_loss))
                out->metric = BP_RANK_VAL_LOSS;
    }
    if (!n)
        return 0;
    size_t *idx = malloc(n * sizeof *idx);
    out->points = calloc(n, sizeof *out->points);
    if (!idx || !out->points) {
        free(idx);
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    sort_ctx = (sctx){ t, n_axes };
    qsort(idx, n, sizeof *idx, by_params);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && !cmp_params(&t[idx[i]], &t[idx[j]], n_axes))
            j++;
        bp_point *p = &out->points[out->n_points++];
        p->n = j - i;
        if (!(p->trials = malloc(p->n * sizeof *p->trials))) {
            free(idx);
            return bp_err_set(e, BP_ENOMEM, "out of memory");
        }
        memcpy(p->trials, idx + i, p->n * sizeof *p->trials);   /* ascending: input order */
        if (summarize(t, p, out)) {
            free(idx);
            return bp_err_set(e, BP_ENOMEM, "out of memory");
        }
        i = j;
    }
    free(idx);
    rank_ctx.higher = bp_rank_metric_higher(out->metric);
    qsort(out->points, out->n_points, sizeof *out->points, by_score);
    size_t np = out->n_points, m = o->all_pairs ? np * (np - 1) / 2 : np - 1;
    out->cmp = calloc(m ? m : 1, sizeof *out->cmp);
    double *p = malloc((m ? m : 1) * sizeof *p), *adj = malloc((m ? m : 1) * sizeof *adj);
    if (!out->cmp || !p || !adj) {
        free(p);
        free(adj);
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    }
    for (size_t a = 0; a < np; a++)
        for (size_t b = a + 1; b < np && (o->all_pairs || a == 0); b++)
            if (compare(t, out, a, b, &out->cmp[out->n_cmp++])) {
                free(p);
                free(adj);
                return bp_err_set(e, BP_ENOMEM, "out of memory");
            }
    /* Holm over the comparisons that have a p-value */
    size_t k = 0;
    for (size_t i = 0; i < out->n_cmp; i++)
        if (!isnan(out->cmp[i].p))
            p[k++] = out->cmp[i].p;
    bp_stats_holm(p, k, adj);
    k = 0;
    for (size_t i = 0; i < out->n_cmp; i++) {
        bp_comparison *c = &out->cmp[i];
        if (isnan(c->p))
            continue;
        c->p_holm = adj[k++];
        if (!(c->p_holm < out->alpha))
            c->verdict = "not distinguishable";
    }
    free(p);
    free(adj);
    return 0;
}

void bp_points_free(bp_points *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_points; i++) {
        free(p->points[i].trials);
        free(p->points[i].km.steps);
    }
    free(p->points);
    free(p->cmp);
    memset(p, 0, sizeof *p);
}
