/* sweep.search: its settings, the points of its trials (prior draws, TPE), the batch driver. */
#include "autoconf.h"
#include "search.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "points.h"
#include "tpe.h"

static const char *const keys[] = { "method", "trials", "batch", "startup", "metric", "params" };
static const char *const metrics[] = { "loss", "val_loss", "best_val_loss", "accuracy",
                                       "val_accuracy", "test_loss", "test_accuracy",
                                       "epochs_to_target" };

__attribute__((format(printf, 4, 5)))
static bp_search *fail(bp_err *e, const bp_mark *m, const char *key, const char *fmt, ...)
{
    char where[600], msg[BP_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (m && m->src)
        bp_err_set(e, BP_ECONFIG, "%s: %s: %s", bp_mark_str(m, where, sizeof where), key, msg);
    else
        bp_err_set(e, BP_ECONFIG, "%s: %s", key, msg);
    return NULL;
}

static int is_null(const bp_node *n)
{
    return n->kind == BP_NODE_SCALAR && !n->quoted &&
           (!*n->value || !strcmp(n->value, "~") || !strcmp(n->value, "null"));
}

static const char *shown(const bp_node *n, char *buf, size_t size)
{
    char t[256];
    if (n->kind != BP_NODE_SCALAR)
        return n->kind == BP_NODE_MAP ? "a map" : "a sequence";
    snprintf(buf, size, "'%s'", bp_text_show(n->value, t, sizeof t));
    return buf;
}

/* 0, or -1 with the error set */
static int count(bp_err *e, const bp_node *n, const char *key, long long lo, long long hi,
                 size_t *out)
{
    char g[300];
    if (n->kind != BP_NODE_SCALAR || n->quoted || !bp_text_is_int(n->value)) {
        fail(e, &n->mark, key, "expected an integer (got %s)", shown(n, g, sizeof g));
        return -1;
    }
    long long v = strtoll(n->value, NULL, 10);
    if (v < lo || v > hi) {
        fail(e, &n->mark, key, "must be %s %lld (got %s)", v < lo ? ">=" : "<=", v < lo ? lo : hi,
             n->value);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

bp_search *bp_search_parse(const bp_node *n, const bp_mark *km, bp_err *e)
{
    char g[300], t[256], key[600];
    if (n->kind != BP_NODE_MAP)
        return fail(e, &n->mark, "sweep.search", "expected a map {method: tpe|random, trials: N, "
                    "params: {...}} (got %s)", shown(n, g, sizeof g));
    for (size_t i = 0; i < n->n; i++) {
        size_t k = 0;
        while (k < 6 && strcmp(n->keys[i], keys[k]))
            k++;
        if (k < 6)
            continue;
        snprintf(key, sizeof key, "sweep.search.%s", bp_text_show(n->keys[i], t, sizeof t));
        const char *best = bp_suggest(n->keys[i], keys, 6);
        if (best)
            return fail(e, &n->key_marks[i], key, "unknown key (did you mean '%s'?)", best);
        return fail(e, &n->key_marks[i], key, "unknown key (valid keys: method, trials, batch, "
                    "startup, metric, params)");
    }
    const bp_node *v[6];
    for (size_t k = 0; k < 6; k++) {
        v[k] = bp_node_get(n, keys[k]);
        if (v[k] && is_null(v[k]))
            v[k] = NULL;
    }
    if (!v[1])
        return fail(e, km, "sweep.search", "missing required key 'trials'");
    if (!v[5])
        return fail(e, km, "sweep.search", "missing required key 'params'");
    bp_search *s = bp_xcalloc(1, sizeof *s, e);
    if (!s)
        return NULL;
    s->method = BP_SEARCH_TPE;
    s->batch = 4;
    s->startup = 10;
    s->metric = BP_RANK_VAL_LOSS;
    if (v[0]) {
        if (v[0]->kind == BP_NODE_SCALAR && !strcmp(v[0]->value, "random"))
            s->method = BP_SEARCH_RANDOM;
        else if (v[0]->kind != BP_NODE_SCALAR || strcmp(v[0]->value, "tpe")) {
            bp_search_free(s);
            return fail(e, &v[0]->mark, "sweep.search.method", "expected tpe or random (got %s)",
                        shown(v[0], g, sizeof g));
        }
    }
    if (count(e, v[1], "sweep.search.trials", 1, 100000, &s->trials) ||
        (v[2] && count(e, v[2], "sweep.search.batch", 1, 100000, &s->batch)) ||
        (v[3] && count(e, v[3], "sweep.search.startup", 0, 100000, &s->startup))) {
        bp_search_free(s);
        return NULL;
    }
    if (v[4]) {
        size_t k = 0;
        while (k < 8 && (v[4]->kind != BP_NODE_SCALAR || strcmp(v[4]->value, metrics[k])))
            k++;
        if (k == 8) {
            bp_search_free(s);
            return fail(e, &v[4]->mark, "sweep.search.metric", "expected loss, val_loss, "
                        "best_val_loss, accuracy, val_accuracy, test_loss, test_accuracy or "
                        "epochs_to_target (got %s)", shown(v[4], g, sizeof g));
        }
        s->metric = (int)k + 1; /* bp_rank_metric: 0 is auto */
    }
    if (!(s->space = bp_space_parse(v[5], "sweep.search.params", e))) {
        bp_search_free(s);
        return NULL;
    }
    return s;
}

void bp_search_free(bp_search *s)
{
    if (!s)
        return;
    bp_space_free(s->space);
    free(s->x);
    free(s->decided);
    free(s);
}

int bp_search_describe(const bp_search *s, char *buf, size_t n)
{
    return snprintf(buf, n, "method=%s metric=%s trials=%zu batch=%zu startup=%zu",
                    s->method == BP_SEARCH_TPE ? "tpe" : "random",
                    bp_rank_metric_names[s->metric], s->trials, s->batch, s->startup);
}

size_t bp_search_batch_of(const bp_search *s, size_t id)
{
    return id / s->batch;
}

static bp_rng stream(const bp_search *s, size_t id)
{
    return bp_rng_stream(s->seed, 1 + id / s->batch, BP_RNG_SWEEP, id % s->batch);
}

int bp_search_init(bp_search *s, uint64_t seed, bp_err *e)
{
    size_t d = s->space->n;
    s->seed = seed;
    free(s->x);
    free(s->decided);
    s->x = bp_xcalloc(s->trials * d, sizeof *s->x, e);
    s->decided = bp_xcalloc(s->trials, 1, e);
    if (!s->x || !s->decided)
        return BP_ENOMEM;
    for (size_t id = 0; id < s->trials; id++) {
        bp_rng r = stream(s, id);
        bp_space_sample_prior(s->space, &r, &s->x[id * d]);
        s->decided[id] = s->method == BP_SEARCH_RANDOM || id < s->startup || id < s->batch;
    }
    return 0;
}

int bp_search_spec(const bp_search *s, char *buf, size_t n)
{
    return snprintf(buf, n, "search %s trials %zu batch %zu startup %zu metric %d",
                    s->method == BP_SEARCH_TPE ? "tpe" : "random", s->trials, s->batch,
                    s->startup, s->metric);
}

double bp_search_objective(const bp_search *s, const bp_trial_summary *t)
{
    double v = NAN;
    if (!t->status || strcmp(t->status, "completed") != 0)
        return INFINITY;
    switch (s->metric) {
    case BP_RANK_LOSS: v = t->final_loss; break;
    case BP_RANK_VAL_LOSS: v = t->final_val_loss; break;
    case BP_RANK_BEST_VAL_LOSS: v = t->best_val_loss; break;
    case BP_RANK_ACCURACY: v = -t->final_accuracy; break;
    case BP_RANK_VAL_ACCURACY: v = -t->final_val_accuracy; break;
    case BP_RANK_TEST_LOSS: v = t->final_test_loss; break;
    case BP_RANK_TEST_ACCURACY: v = -t->final_test_accuracy; break;
    case BP_RANK_EPOCHS_TO_TARGET: v = t->epochs_to_target > 0 ? t->epochs_to_target : NAN; break;
    default: break;
    }
    return isfinite(v) ? v : INFINITY;
}

int bp_search_suggest(bp_search *s, size_t id, const double *obj, bp_err *e)
{
    const bp_space *sp = s->space;
    size_t d = sp->n, n = bp_search_batch_of(s, id) * s->batch;
    double *x = &s->x[id * d];
    unsigned char *below = bp_xcalloc(n ? n : 1, 1, e);
    double *lo_obs = bp_xcalloc(n ? n : 1, sizeof *lo_obs, e);
    double *hi_obs = bp_xcalloc(n ? n : 1, sizeof *hi_obs, e);
    size_t *lo_cat = bp_xcalloc(n ? n : 1, sizeof *lo_cat, e);
    size_t *hi_cat = bp_xcalloc(n ? n : 1, sizeof *hi_cat, e);
    int rc = 0;
    if (!below || !lo_obs || !hi_obs || !lo_cat || !hi_cat) {
        rc = BP_ENOMEM;
        goto out;
    }
    bp_tpe_split(obj, n, below);
    bp_rng r = stream(s, id);
    for (size_t i = 0; i < d; i++) {
        const bp_sparam *p = &sp->p[i];
        x[i] = NAN;
        if (!bp_space_active(sp, x, i))
            continue;
        size_t nb = 0, na = 0;
        int lg = p->dist == BP_DIST_LOG_UNIFORM;
        for (size_t t = 0; t < n; t++) {
            double v = s->x[t * d + i];
            if (isnan(v))
                continue; /* the parameter was not drawn in that trial */
            if (p->dist == BP_DIST_CHOICE) {
                if (below[t])
                    lo_cat[nb++] = (size_t)v;
                else
                    hi_cat[na++] = (size_t)v;
            } else {
                if (below[t])
                    lo_obs[nb++] = lg ? log(v) : v;
                else
                    hi_obs[na++] = lg ? log(v) : v;
            }
        }
        if (p->dist == BP_DIST_CHOICE) {
            size_t c = bp_tpe_suggest_cat(lo_cat, nb, hi_cat, na, p->choice->n, BP_TPE_CANDIDATES,
                                          &r);
            if (c >= p->choice->n) {
                rc = bp_err_set(e, BP_ENOMEM, "out of memory");
                goto out;
            }
            x[i] = (double)c;
            continue;
        }
        int in = p->dist == BP_DIST_INT;
        double lo = lg ? log(p->lo) : in ? p->lo - 0.5 : p->lo;
        double hi = lg ? log(p->hi) : in ? p->hi + 0.5 : p->hi;
        double v = bp_tpe_suggest_num(lo_obs, nb, hi_obs, na, lo, hi, in, BP_TPE_CANDIDATES, &r);
        if (isnan(v)) {
            rc = bp_err_set(e, BP_ENOMEM, "out of memory");
            goto out;
        }
        x[i] = lg ? fmin(fmax(exp(v), p->lo), p->hi) : v;
    }
    s->decided[id] = 1;
out:
    free(below);
    free(lo_obs);
    free(hi_obs);
    free(lo_cat);
    free(hi_cat);
    return rc;
}

int bp_search_drive(bp_search *s, const bp_search_ops *ops, bp_err *e)
{
    size_t n = s->trials;
    double *obj = bp_xcalloc(n, sizeof *obj, e);
    if (!obj)
        return BP_ENOMEM;
    int rc = 0;
    for (size_t first = 0; first < n && !rc; first += s->batch) {
        size_t end = first + s->batch < n ? first + s->batch : n;
        for (size_t t = 0; t < first; t++)
            obj[t] = bp_search_objective(s, ops->row(ops->ud, t));
        for (size_t id = first; id < end && !rc; id++) {
            if (s->decided[id])
                continue;
            if (!(rc = bp_search_suggest(s, id, obj, e)))
                rc = ops->set_point(ops->ud, id, e);
        }
        if (!rc && ops->run(ops->ud, first, end, first / s->batch))
            break;
    }
    free(obj);
    return rc;
}
