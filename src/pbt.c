#include "autoconf.h"
#include "pbt.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "epochs.h"
#include "resume.h"
#include "rng.h"
#include "train.h"
#include "trial.h"
#include "trialfile.h"

#define PBT_MAX_PARAMS 32



static int is_null(const bp_node *n)
{
    return !n || (n->kind == BP_NODE_SCALAR && !n->quoted &&
                  (!strcmp(n->value, "") || !strcmp(n->value, "~") || !strcmp(n->value, "null")));
}

static int num(const bp_node *n, const char *key, double *out, bp_err *e)
{
    char g[300];
    if (n->kind != BP_NODE_SCALAR || n->quoted || !bp_text_is_decimal(n->value) ||
        !isfinite(strtod(n->value, NULL)))
        return bp_config_err(e, BP_ECONFIG, &n->mark, key, "expected a finite number (got %s)", bp_node_got(n, g, sizeof g));
    *out = strtod(n->value, NULL);
    return 0;
}

static int integer(const bp_node *n, const char *key, long lo, long hi, long *out, bp_err *e)
{
    char g[300];
    double d;
    if (n->kind != BP_NODE_SCALAR || n->quoted || !bp_text_is_int(n->value))
        return bp_config_err(e, BP_ECONFIG, &n->mark, key, "expected an integer (got %s)", bp_node_got(n, g, sizeof g));
    d = strtod(n->value, NULL);
    if (d < (double)lo || d > (double)hi)
        return bp_config_err(e, BP_ECONFIG, &n->mark, key, "must be in [%ld, %ld] (got %s)", lo, hi, n->value);
    *out = (long)d;
    return 0;
}

/* Unknown keys of map m under path (names: the valid ones). */
static int keys_ok(const bp_node *m, const char *path, const char *const *names, size_t k,
                   bp_err *e)
{
    char key[600], t[256], list[256];
    for (size_t i = 0; i < m->n; i++) {
        size_t j = 0;
        while (j < k && strcmp(m->keys[i], names[j]))
            j++;
        if (j < k)
            continue;
        snprintf(key, sizeof key, "%s.%s", path, bp_text_show(m->keys[i], t, sizeof t));
        const char *best = bp_suggest(m->keys[i], names, k);
        if (best)
            return bp_config_err(e, BP_ECONFIG, &m->key_marks[i], key, "unknown key (did you mean '%s'?)", best);
        list[0] = '\0';
        for (size_t q = 0; q < k; q++) {
            size_t o = strlen(list);
            snprintf(list + o, sizeof list - o, "%s%s", q ? ", " : "", names[q]);
        }
        return bp_config_err(e, BP_ECONFIG, &m->key_marks[i], key, "unknown key (valid keys: %s)", list);
    }
    return 0;
}

static int want_map(const bp_node *n, const bp_mark *km, const char *key, const char *what,
                    bp_err *e)
{
    char g[300];
    if (!n || n->kind != BP_NODE_MAP)
        return bp_config_err(e, BP_ECONFIG, n ? &n->mark : km, key, "expected %s (got %s)", what,
                    n ? bp_node_got(n, g, sizeof g) : "nothing");
    return 0;
}

static int parse_param(bp_pbt_param *pp, const char *key, const bp_mark *km, const bp_node *spec,
                       bp_err *e)
{
    static const char *const dists[] = { "uniform", "log_uniform", "int", "choice" };
    char disp[600], sub[700], t[256], g[300];
    snprintf(disp, sizeof disp, "sweep.pbt.params.%s", bp_text_show(key, t, sizeof t));
    if (strncmp(key, "train.optimizer.", 16) || !key[16] || strchr(key + 16, '.') ||
        !strcmp(key + 16, "name"))
        return bp_config_err(e, BP_ECONFIG, km, disp, "expected a hyperparameter of the optimizer, "
                    "train.optimizer.NAME (the values a member can change between epochs)");
    if (!(pp->key = strdup(key)))
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    pp->name = pp->key + 16;
    pp->key_mark = km;
    pp->spec = spec;
    int rc = want_map(spec, km, disp, "a map {uniform|log_uniform|int: [low, high]}", e);
    if (rc == 0)
        rc = keys_ok(spec, disp, dists, 4, e);
    if (rc < 0)
        return rc;
    if (spec->n != 1)
        return bp_config_err(e, BP_ECONFIG, &spec->mark, disp, "expected one distribution (got %zu)", spec->n);
    int d = 0;
    while (strcmp(spec->keys[0], dists[d]))
        d++;
    snprintf(sub, sizeof sub, "%s.%s", disp, dists[d]);
    if (d == 3)
        return bp_config_err(e, BP_ECONFIG, &spec->key_marks[0], sub, "a PBT parameter must be a number that can be "
                    "perturbed: use uniform, log_uniform or int");
    pp->dist = d;
    const bp_node *a = spec->items[0];
    if (a->kind != BP_NODE_SEQ || a->n != 2)
        return bp_config_err(e, BP_ECONFIG, &a->mark, sub, "expected [low, high] (got %s)", bp_node_got(a, g, sizeof g));
    char k2[720];
    for (int i = 0; i < 2; i++) {
        snprintf(k2, sizeof k2, "%s[%d]", sub, i);
        if (d == BP_PBT_INT) {
            long v;
            if ((rc = integer(a->items[i], k2, -1000000000L, 1000000000L, &v, e)) < 0)
                return rc;
            *(i ? &pp->hi : &pp->lo) = (double)v;
        } else if ((rc = num(a->items[i], k2, i ? &pp->hi : &pp->lo, e)) < 0) {
            return rc;
        }
    }
    if (d == BP_PBT_INT ? pp->lo > pp->hi : !(pp->lo < pp->hi))
        return bp_config_err(e, BP_ECONFIG, &a->mark, sub, "low must be %s high (got [%s, %s])",
                    d == BP_PBT_INT ? "<=" : "<", a->items[0]->value, a->items[1]->value);
    if (d == BP_PBT_LOG_UNIFORM && !(pp->lo > 0))
        return bp_config_err(e, BP_ECONFIG, &a->mark, sub, "expected 0 < low < high (got [%s, %s])",
                    a->items[0]->value, a->items[1]->value);
    return 0;
}

int bp_pbt_parse(const bp_node *n, const bp_mark *km, bp_pbt *out, bp_err *e)
{
    static const char *const keys[] = { "population", "interval", "metric", "exploit",
                                        "explore", "params" };
    char g[300];
    memset(out, 0, sizeof *out);
    out->val = 1;
    out->truncation = 0.2;
    out->perturb[0] = 0.8;
    out->perturb[1] = 1.2;
    int rc = want_map(n, km, "sweep.pbt", "a map {population: P, interval: K, params: {...}}", e);
    if (rc == 0)
        rc = keys_ok(n, "sweep.pbt", keys, 6, e);
    if (rc < 0)
        return rc;
    for (int i = 0; i < 6; i++)
        if ((i < 2 || i == 5) && is_null(bp_node_get(n, keys[i])))
            return bp_config_err(e, BP_ECONFIG, km, "sweep.pbt", "missing required key '%s'", keys[i]);
    long v;
    if ((rc = integer(bp_node_get(n, "population"), "sweep.pbt.population", 2, 10000, &v, e)) < 0)
        return rc;
    out->population = (unsigned)v;
    if ((rc = integer(bp_node_get(n, "interval"), "sweep.pbt.interval", 1, 1000000000L, &v, e)) < 0)
        return rc;
    out->interval = (int)v;
    const bp_node *m = bp_node_get(n, "metric");
    if (!is_null(m)) {
        if (m->kind != BP_NODE_SCALAR || (strcmp(m->value, "val_loss") && strcmp(m->value, "loss")))
            return bp_config_err(e, BP_ECONFIG, &m->mark, "sweep.pbt.metric", "expected val_loss or loss (got %s)",
                        bp_node_got(m, g, sizeof g));
        out->val = !strcmp(m->value, "val_loss");
    }
    const bp_node *x = bp_node_get(n, "exploit");
    if (!is_null(x)) {
        static const char *const ek[] = { "truncation" };
        if ((rc = want_map(x, km, "sweep.pbt.exploit", "a map {truncation: FRACTION}", e)) < 0 ||
            (rc = keys_ok(x, "sweep.pbt.exploit", ek, 1, e)) < 0)
            return rc;
        const bp_node *t = bp_node_get(x, "truncation");
        if (!is_null(t)) {
            if ((rc = num(t, "sweep.pbt.exploit.truncation", &out->truncation, e)) < 0)
                return rc;
            if (!(out->truncation > 0 && out->truncation <= 0.5))
                return bp_config_err(e, BP_ECONFIG, &t->mark, "sweep.pbt.exploit.truncation", "must be in (0, 0.5] "
                            "(got %s)", t->value);
        }
    }
    x = bp_node_get(n, "explore");
    if (!is_null(x)) {
        static const char *const xk[] = { "perturb", "resample" };
        if ((rc = want_map(x, km, "sweep.pbt.explore", "a map {perturb: [F1, F2], resample: P}",
                           e)) < 0 ||
            (rc = keys_ok(x, "sweep.pbt.explore", xk, 2, e)) < 0)
            return rc;
        const bp_node *p = bp_node_get(x, "perturb"), *r = bp_node_get(x, "resample");
        if (!is_null(p)) {
            if (p->kind != BP_NODE_SEQ || p->n != 2)
                return bp_config_err(e, BP_ECONFIG, &p->mark, "sweep.pbt.explore.perturb", "expected two factors "
                            "[F1, F2] (got %s)", bp_node_got(p, g, sizeof g));
            for (int i = 0; i < 2; i++) {
                char k[64];
                snprintf(k, sizeof k, "sweep.pbt.explore.perturb[%d]", i);
                if ((rc = num(p->items[i], k, &out->perturb[i], e)) < 0)
                    return rc;
                if (!(out->perturb[i] > 0))
                    return bp_config_err(e, BP_ECONFIG, &p->items[i]->mark, k, "must be > 0 (got %s)",
                                p->items[i]->value);
            }
        }
        if (!is_null(r)) {
            if ((rc = num(r, "sweep.pbt.explore.resample", &out->resample, e)) < 0)
                return rc;
            if (!(out->resample >= 0 && out->resample <= 1))
                return bp_config_err(e, BP_ECONFIG, &r->mark, "sweep.pbt.explore.resample", "must be in [0, 1] (got "
                            "%s)", r->value);
        }
    }
    const bp_node *ps = bp_node_get(n, "params");
    if ((rc = want_map(ps, km, "sweep.pbt.params", "a map of train.optimizer.NAME to "
                       "distributions", e)) < 0)
        return rc;
    if (ps->n == 0 || ps->n > PBT_MAX_PARAMS)
        return bp_config_err(e, BP_ECONFIG, &ps->mark, "sweep.pbt.params", "expected 1 to %d parameters (got %zu)",
                    PBT_MAX_PARAMS, ps->n);
    if (!(out->params = calloc(ps->n, sizeof *out->params)))
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    for (size_t i = 0; i < ps->n; i++) {
        out->n_params = i + 1;
        if ((rc = parse_param(&out->params[i], ps->keys[i], &ps->key_marks[i], ps->items[i], e)) < 0)
            return rc;
    }
    return 0;
}

int bp_pbt_check(const bp_pbt *p, const bp_config *c, const bp_mark *km, bp_err *e)
{
    const char *why = c->train.n_phases ? "train.phases"
                    : c->train.early_stopping.patience ? "train.early_stopping"
                    : c->train.target_loss > 0 ? "train.target_loss"
                    : c->train.target_accuracy > 0 ? "train.target_accuracy"
                    : c->train.target_max_error > 0 ? "train.target_max_error" : NULL;
    if (why)
        return bp_config_err(e, BP_ECONFIG, km, "sweep.pbt", "cannot be used with %s (%s)", why, c->train.n_phases
                    ? "PBT sets a member's hyperparameters" : "the members train in step");
    if (p->interval >= c->train.epochs)
        return bp_config_err(e, BP_ECONFIG, km, "sweep.pbt.interval", "must be less than train.epochs (got %d, "
                    "train.epochs %d)", p->interval, c->train.epochs);
    if (p->val && !c->data.validation.ref && c->data.val_fraction == 0)
        return bp_config_err(e, BP_ECONFIG, km, "sweep.pbt.metric", "val_loss (the default) needs validation data: "
                    "set data.validation or data.val_fraction, or use metric: loss");
    for (size_t i = 0; i < p->n_params; i++)
        if (!strcmp(p->params[i].name, "lr") && c->train.schedule.kind != BP_LR_CONSTANT) {
            char key[600];
            snprintf(key, sizeof key, "sweep.pbt.params.%s", p->params[i].key);
            return bp_config_err(e, BP_ECONFIG, p->params[i].key_mark, key, "needs the constant train.schedule (got "
                        "%s)", bp_lr_names[c->train.schedule.kind]);
        }
    return 0;
}

void bp_pbt_clear(bp_pbt *p)
{
    for (size_t i = 0; i < p->n_params; i++)
        free(p->params[i].key);
    free(p->params);
    memset(p, 0, sizeof *p);
}

int bp_pbt_spec(const bp_pbt *p, char *buf, size_t size)
{
    int o = snprintf(buf, size, "pbt %u %d %d %.17g %.17g %.17g %.17g", p->population,
                     p->interval, p->val, p->truncation, p->perturb[0], p->perturb[1],
                     p->resample);
    for (size_t i = 0; i < p->n_params && o > 0 && (size_t)o < size; i++)
        o += snprintf(buf + o, size - (size_t)o, " %s %d %.17g %.17g", p->params[i].key,
                      p->params[i].dist, p->params[i].lo, p->params[i].hi);
    return o < 0 ? 0 : (size_t)o < size ? o : (int)size - 1;
}

typedef struct rank_item {
    size_t id;
    double v;
} rank_item;

static int by_metric(const void *pa, const void *pb)
{
    const rank_item *a = pa, *b = pb;
    int na = isnan(a->v), nb = isnan(b->v);
    if (na != nb)
        return na - nb;
    if (!na && a->v != b->v)
        return a->v < b->v ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

size_t bp_pbt_exploit(const bp_pbt *p, uint64_t seed, unsigned gen, const double *metric,
                      const unsigned char *alive, size_t n, long *parent)
{
    rank_item *r = malloc((n ? n : 1) * sizeof *r);
    size_t live = 0, k;
    for (size_t i = 0; i < n; i++) {
        parent[i] = -1;
        if (alive[i] && r)
            r[live++] = (rank_item){ i, metric[i] };
    }
    if (!r)
        return 0;
    qsort(r, live, sizeof *r, by_metric);
    k = (size_t)ceil(p->truncation * (double)live - 1e-9);
    if (k > live / 2)
        k = live / 2;
    for (size_t j = 0; j < k; j++) {
        size_t m = r[live - k + j].id;
        bp_rng g = bp_rng_stream(seed, m, BP_RNG_PBT, 2 * (uint64_t)gen);
        parent[m] = (long)r[bp_rng_below(&g, k)].id;
    }
    free(r);
    return k;
}

static double draw(const bp_pbt_param *q, bp_rng *g)
{
    double u = bp_rng_uniform(g);
    if (q->dist == BP_PBT_INT)
        return q->lo + (double)bp_rng_below(g, (uint64_t)(q->hi - q->lo) + 1);
    double x = q->dist == BP_PBT_UNIFORM ? q->lo * (1 - u) + q->hi * u
                                        : exp(log(q->lo) * (1 - u) + log(q->hi) * u);
    return x;
}

void bp_pbt_explore(const bp_pbt *p, uint64_t seed, unsigned gen, size_t m, const double *in,
                    double *out)
{
    bp_rng g = bp_rng_stream(seed, m, BP_RNG_PBT, 2 * (uint64_t)gen + 1);
    for (size_t k = 0; k < p->n_params; k++) {
        const bp_pbt_param *q = &p->params[k];
        double u = bp_rng_uniform(&g), x;
        if (u < p->resample) {
            x = draw(q, &g);
        } else {
            double f = p->perturb[bp_rng_below(&g, 2)];
            x = in[k] * f;
            if (q->dist == BP_PBT_INT)
                x = nearbyint(x);
        }
        out[k] = x < q->lo ? q->lo : x > q->hi ? q->hi : x;
    }
}

bp_pbt_run *bp_pbt_run_new(const bp_pbt *p, size_t n, int epochs, const char *const *opt_names,
                           size_t n_opt, bp_err *e)
{
    bp_pbt_run *r = calloc(1, sizeof *r);
    if (!r) {
        bp_err_set(e, BP_ENOMEM, "out of memory");
        return NULL;
    }
    r->p = p;
    r->n = n;
    r->epochs = epochs;
    for (size_t k = 0; k < p->n_params; k++) {
        size_t i = 0;
        while (i < n_opt && strcmp(opt_names[i], p->params[k].name))
            i++;
        if (i == n_opt) {
            bp_err_set(e, BP_ECONFIG, "sweep.pbt.params.%s: the optimizer has no hyperparameter "
                       "'%s'", p->params[k].key, p->params[k].name);
            free(r);
            return NULL;
        }
        r->opt_index[k] = (uint32_t)i;
    }
    size_t cells = n * (size_t)epochs;
    r->hp = calloc(cells * (p->n_params ? p->n_params : 1), sizeof *r->hp);
    r->parent = calloc(cells ? cells : 1, sizeof *r->parent);
    if (!r->hp || !r->parent) {
        bp_err_set(e, BP_ENOMEM, "out of memory");
        bp_pbt_run_free(r);
        return NULL;
    }
    for (size_t i = 0; i < cells; i++)
        r->parent[i] = (double)(i / (size_t)epochs);
    return r;
}

void bp_pbt_run_free(bp_pbt_run *r)
{
    if (!r)
        return;
    free(r->hp);
    free(r->parent);
    free(r);
}

void bp_pbt_run_note(bp_pbt_run *r, size_t m, int first, int last, const double *opt_hp,
                     size_t from)
{
    size_t np = r->p->n_params;
    for (int ep = first; ep <= last && ep <= r->epochs; ep++) {
        size_t cell = m * (size_t)r->epochs + (size_t)(ep - 1);
        for (size_t k = 0; k < np; k++)
            r->hp[cell * np + k] = opt_hp[r->opt_index[k]];
        r->parent[cell] = (double)(ep == first ? from : m);
    }
}

int bp_pbt_run_write(const bp_pbt_run *r, size_t m, int epochs_done, struct bp_trial_file *tf,
                     bp_err *e)
{
    size_t np = r->p->n_params, ne = (size_t)(epochs_done < 0 ? 0 : epochs_done);
    if (ne > (size_t)r->epochs)
        ne = (size_t)r->epochs;
    static const char *const names[] = { "member", "population", "interval", "metric_val_loss" };
    double v[] = { (double)m, (double)r->p->population, (double)r->p->interval, r->p->val };
    int rc = bp_trial_set_group_doubles(tf, "/pbt", names, v, 4, e);
    if (!rc) /* an earlier checkpoint's */
        rc = bp_trial_unlink(tf, "/pbt/parent", e);
    if (!rc)
        rc = bp_trial_unlink(tf, "/pbt/params", e);
    if (!rc)
        rc = bp_trial_set_group_array(tf, "/pbt", "parent", r->parent + m * (size_t)r->epochs, ne,
                                      e);
    double *col = malloc((ne ? ne : 1) * sizeof *col);
    if (!col)
        return rc ? rc : bp_err_set(e, BP_ENOMEM, "out of memory");
    for (size_t k = 0; !rc && k < np; k++) {
        for (size_t i = 0; i < ne; i++)
            col[i] = r->hp[(m * (size_t)r->epochs + i) * np + k];
        rc = bp_trial_set_group_array(tf, "/pbt/params", r->p->params[k].key, col, ne, e);
    }
    free(col);
    return rc;
}

int bp_pbt_checkpoint(const bp_pbt_run *r, size_t m, int epoch, int recorded,
                      struct bp_trial_job *j, bp_err *e)
{
    static const char *const names[] = { "checkpoint_epoch" };
    double v = epoch;
    /* the records first: the state's save flushes them with it (a resume checks that the
     * state's epoch is checkpoint_epoch) */
    int rc = bp_trial_flush(bp_trial_job_file(j), e);
    if (!rc)
        rc = bp_pbt_run_write(r, m, recorded, bp_trial_job_file(j), e);
    if (!rc)
        rc = bp_trial_set_group_doubles(bp_trial_job_file(j), "/pbt", names, &v, 1, e);
    if (!rc)
        rc = bp_trial_job_checkpoint(j, e);
    return rc;
}

static double attr_of(hid_t f, const char *obj, const char *name)
{
    double v = NAN;
    hid_t a = H5Aexists_by_name(f, obj, name, H5P_DEFAULT) > 0
            ? H5Aopen_by_name(f, obj, name, H5P_DEFAULT, H5P_DEFAULT) : -1;
    if (a >= 0) {
        if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0)
            v = NAN;
        H5Aclose(a);
    }
    return v;
}

/* n values of the 1-D float64 dataset path of f into out; 0 or -1 */
static int read_first(hid_t f, const char *path, double *out, size_t n, size_t stride)
{
    hid_t d = H5Lexists(f, "/pbt", H5P_DEFAULT) > 0 && H5Lexists(f, path, H5P_DEFAULT) > 0
            ? H5Dopen2(f, path, H5P_DEFAULT) : -1;
    if (d < 0)
        return -1;
    hid_t s = H5Dget_space(d);
    hssize_t k = s >= 0 ? H5Sget_simple_extent_npoints(s) : -1;
    double *v = k >= (hssize_t)n ? malloc(((size_t)k ? (size_t)k : 1) * sizeof *v) : NULL;
    int rc = v && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0 ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++)
        out[i * stride] = v[i];
    free(v);
    if (s >= 0)
        H5Sclose(s);
    H5Dclose(d);
    return rc;
}

int bp_pbt_resume_member(bp_pbt_run *r, size_t m, const char *part, int *checkpoint,
                         struct bp_resume **out, bp_err *e)
{
    *out = NULL;
    *checkpoint = -1;
    hid_t f = bp_epochs_open(part);
    if (f < 0)
        return 1;
    double c = attr_of(f, "/pbt", "checkpoint_epoch");
    int C = isfinite(c) && c >= 1 && c < r->epochs ? (int)c : -1;
    int last = C + r->p->interval < r->epochs ? C + r->p->interval : r->epochs;
    size_t np = r->p->n_params, cell = m * (size_t)r->epochs;
    int bad = C < 0 || read_first(f, "/pbt/parent", r->parent + cell, (size_t)last, 1) < 0;
    for (size_t k = 0; !bad && k < np; k++) {
        char path[600];
        snprintf(path, sizeof path, "/pbt/params/%s", r->p->params[k].key);
        bad = read_first(f, path, r->hp + cell * np + k, (size_t)last, np) < 0;
    }
    H5Fclose(f);
    if (bad)
        return 1;
    bp_err quiet;
    bp_saved_model *sm = bp_saved_model_read(part, &quiet);
    int ok = sm && sm->opt_name;
    for (size_t i = 0; ok && i < sm->n_sched; i++)
        if (!strcmp(sm->sched_names[i], "last_epoch"))
            ok = sm->sched_state[i] == C;
    bp_epochs ep;
    bp_epochs_read(part, &ep);
    bp_trial_record *rec = ok ? calloc(1, sizeof *rec) : NULL;
    if (rec && ep.rows >= (size_t)C &&
        (rec->rows = malloc((size_t)C * BP_COL_COUNT * sizeof *rec->rows + 1)) &&
        (rec->file = strdup(part)) && (rec->where = strdup(part)) &&
        (rec->status = strdup("interrupted"))) {
        rec->trial = (unsigned)m;
        rec->epochs_done = C;
        rec->n_rows = (size_t)C;
        rec->n_columns = BP_COL_COUNT;
        for (int col = 0; ok && col < BP_COL_COUNT; col++) {
            size_t q = 0;
            while (q < ep.n && strcmp(ep.names[q], bp_epoch_col_names[col]))
                q++;
            if (q == ep.n)
                ok = 0;
            for (int i = 0; ok && i < C; i++)
                rec->rows[(size_t)i * BP_COL_COUNT + (size_t)col] = ep.v[q][i];
        }
    } else {
        ok = 0;
    }
    bp_epochs_free(&ep);
    bp_resume *rs = ok ? calloc(1, sizeof *rs) : NULL;
    if (!rs) {
        bp_trial_record_free(rec);
        bp_saved_model_free(sm);
        return ok ? bp_err_set(e, BP_ENOMEM, "out of memory") : 1;
    }
    rs->rec = rec;
    rs->model = sm;
    *out = rs;
    *checkpoint = C;
    return 0;
}

int bp_pbt_resume_plan(bp_pbt_run *r, const char *run_dir, const unsigned char *todo,
                       const int *ended_at, struct bp_resume **resume, int *from, bp_err *e)
{
    int C = -1, ok = 1;
    *from = 0;
    for (size_t i = 0; ok && i < r->n; i++) {
        char path[4200];
        int ci;
        if (!todo[i])
            continue;
        snprintf(path, sizeof path, "%s/trials/%04zu.h5.part", run_dir, i);
        int rc = bp_pbt_resume_member(r, i, path, &ci, &resume[i], e);
        if (rc < 0)
            return rc;
        if (rc > 0 || (C >= 0 && ci != C))
            ok = 0;
        C = ci;
    }
    for (size_t i = 0; ok && i < r->n; i++)
        if (!todo[i] && ended_at[i] > C)
            ok = 0; /* it ended after the checkpoint: its state there is gone */
    if (ok && C > 0)
        *from = C;
    return BP_OK;
}

int bp_pbt_drive(bp_pbt_driver *d, bp_err *e)
{
    const bp_pbt *p = d->run->p;
    size_t n = d->run->n, np = p->n_params;
    int rc = BP_OK, E = d->run->epochs;
    double *metric = calloc(n ? n : 1, sizeof *metric), *hp = calloc(n * np + 1, sizeof *hp);
    long *parent = calloc(n ? n : 1, sizeof *parent);
    size_t *round = calloc(n ? n : 1, sizeof *round);
    if (!metric || !hp || !parent || !round) {
        rc = bp_err_set(e, BP_ENOMEM, "out of memory");
        goto out;
    }
    unsigned g0 = d->from > 0 ? (unsigned)(d->from / p->interval) + 1 : 1;
    if (d->from <= 0)
        for (size_t i = 0; i < n; i++)
            bp_pbt_run_note(d->run, i, 1, p->interval < E ? p->interval : E, d->opt_hp[i], i);
    for (unsigned g = g0;; g++) {
        int until = (int)g * p->interval < E ? (int)g * p->interval : E;
        size_t n_round = 0;
        for (size_t i = 0; i < n; i++)
            if (d->alive[i])
                round[n_round++] = i;
        if (d->train(d->ud, round, n_round, until) || until == E)
            break;
        for (size_t i = 0; i < n; i++)
            metric[i] = d->alive[i] ? bp_trial_job_last(d->job[i])[p->val ? BP_COL_VAL_LOSS
                                                                           : BP_COL_LOSS] : NAN;
        bp_pbt_exploit(p, d->seed, g, metric, d->alive, n, parent);
        /* explore from the parents' values as they were before anyone copied */
        for (size_t i = 0; i < n; i++)
            if (parent[i] >= 0)
                for (size_t k = 0; k < np; k++)
                    hp[i * np + k] = bp_trial_job_hp(d->job[parent[i]])[d->run->opt_index[k]];
        for (size_t i = 0; i < n; i++) {
            if (parent[i] < 0)
                continue;
            double out[PBT_MAX_PARAMS];
            if ((rc = bp_trial_job_copy(d->job[i], d->job[parent[i]], e)))
                goto out;
            bp_pbt_explore(p, d->seed, g, i, hp + i * np, out);
            for (size_t k = 0; k < np; k++)
                bp_trial_job_set_hp(d->job[i], d->run->opt_index[k], out[k]);
        }
        int last = (int)(g + 1) * p->interval < E ? (int)(g + 1) * p->interval : E;
        for (size_t i = 0; i < n; i++) {
            if (!d->alive[i])
                continue;
            bp_pbt_run_note(d->run, i, until + 1, last, bp_trial_job_hp(d->job[i]),
                            parent[i] >= 0 ? (size_t)parent[i] : i);
            if ((rc = bp_pbt_checkpoint(d->run, i, until, last, d->job[i], e)))
                goto out;
        }
    }
out:
    free(metric);
    free(hp);
    free(parent);
    free(round);
    return rc;
}
