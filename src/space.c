/* Search spaces: parsing distributions (conditional ones included), prior draws, values. */
#include "autoconf.h"
#include "space.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const bp_dist_names[BP_DIST_COUNT] = { "uniform", "log_uniform", "int", "choice" };

#define NAME_MAX_LEN 600



static int dist_of(const char *key)
{
    for (int d = 0; d < BP_DIST_COUNT; d++)
        if (!strcmp(key, bp_dist_names[d]))
            return d;
    return -1;
}

/* a map that names a distribution: one of its keys is uniform, log_uniform, int or choice,
 * or its one key is a misspelling of one (reported by parse_one, not left to the config) */
static int is_dist(const bp_node *n)
{
    if (n->kind != BP_NODE_MAP)
        return 0;
    for (size_t i = 0; i < n->n; i++)
        if (dist_of(n->keys[i]) >= 0)
            return 1;
    return n->n == 1 && bp_suggest(n->keys[0], bp_dist_names, BP_DIST_COUNT) != NULL;
}

static int num(bp_err *e, const bp_node *n, const char *key, int whole, double *out)
{
    char g[300];
    if (n->kind != BP_NODE_SCALAR || n->quoted || !bp_text_is_decimal(n->value))
        return bp_config_err(e, BP_ECONFIG, &n->mark, key, "expected %s (got %s)", whole ? "an integer" : "a number",
                    bp_node_got(n, g, sizeof g));
    *out = strtod(n->value, NULL);
    if (!isfinite(*out) || (whole && (*out != floor(*out) || fabs(*out) > 9007199254740992.0)))
        return bp_config_err(e, BP_ECONFIG, &n->mark, key, "expected %s (got %s)", whole ? "an integer within "
                    "+-2^53" : "a finite number", bp_node_got(n, g, sizeof g));
    return 0;
}

static bp_sparam *add(bp_space *s, bp_err *e)
{
    bp_sparam *p = realloc(s->p, (s->n + 1) * sizeof *p);
    if (!p) {
        bp_err_set(e, BP_ENOMEM, "out of memory");
        return NULL;
    }
    s->p = p;
    memset(&p[s->n], 0, sizeof p[s->n]);
    return &p[s->n++];
}

static int parse_one(bp_space *s, const char *name, const char *disp, const bp_node *spec,
                     const bp_mark *km, long parent, size_t option, size_t key, bp_err *e)
{
    char sub[NAME_MAX_LEN + 300], g[300], t[256];
    if (spec->kind != BP_NODE_MAP || !spec->n)
        return bp_config_err(e, BP_ECONFIG, &spec->mark, disp, "expected a map {uniform|log_uniform|int|choice: ...} "
                    "(got %s)", bp_node_got(spec, g, sizeof g));
    int d = -1;
    size_t at = 0;
    for (size_t i = 0; i < spec->n; i++) {
        int k = dist_of(spec->keys[i]);
        snprintf(sub, sizeof sub, "%s.%s", disp, bp_text_show(spec->keys[i], t, sizeof t));
        if (k < 0) {
            const char *best = bp_suggest(spec->keys[i], bp_dist_names, BP_DIST_COUNT);
            if (best)
                return bp_config_err(e, BP_ECONFIG, &spec->key_marks[i], sub, "unknown key (did you mean '%s'?)", best);
            return bp_config_err(e, BP_ECONFIG, &spec->key_marks[i], sub, "unknown key (valid keys: uniform, "
                        "log_uniform, int, choice)");
        }
        if (d >= 0)
            return bp_config_err(e, BP_ECONFIG, &spec->key_marks[i], sub, "only one distribution per parameter (also "
                        "got '%s')", bp_dist_names[d]);
        d = k;
        at = i;
    }
    const bp_node *arg = spec->items[at];
    snprintf(sub, sizeof sub, "%s.%s", disp, bp_dist_names[d]);
    bp_sparam *p = add(s, e);
    if (!p)
        return BP_ENOMEM;
    size_t me = s->n - 1;
    p->dist = (bp_dist)d;
    p->parent = parent;
    p->option = option;
    p->key = key;
    p->mark = spec->mark;
    if (km)
        p->key_mark = *km;
    if (!(p->name = bp_xstrdup(name, e)))
        return BP_ENOMEM;
    if (d != BP_DIST_CHOICE) {
        if (arg->kind != BP_NODE_SEQ || arg->n != 2)
            return bp_config_err(e, BP_ECONFIG, &arg->mark, sub, "expected [low, high] (got %s)",
                        arg->kind == BP_NODE_SEQ ? "a sequence of another length"
                                                 : bp_node_got(arg, g, sizeof g));
        double lo, hi;
        char k0[NAME_MAX_LEN + 310], k1[NAME_MAX_LEN + 310];
        snprintf(k0, sizeof k0, "%s[0]", sub);
        snprintf(k1, sizeof k1, "%s[1]", sub);
        int rc = num(e, arg->items[0], k0, d == BP_DIST_INT, &lo);
        if (!rc)
            rc = num(e, arg->items[1], k1, d == BP_DIST_INT, &hi);
        if (rc)
            return rc;
        const char *a = arg->items[0]->value, *b = arg->items[1]->value;
        if (d == BP_DIST_INT && lo > hi)
            return bp_config_err(e, BP_ECONFIG, &arg->mark, sub, "low must be <= high (got [%s, %s])", a, b);
        if (d == BP_DIST_UNIFORM && !(lo < hi))
            return bp_config_err(e, BP_ECONFIG, &arg->mark, sub, "low must be < high (got [%s, %s])", a, b);
        if (d == BP_DIST_LOG_UNIFORM && !(lo > 0 && lo < hi))
            return bp_config_err(e, BP_ECONFIG, &arg->mark, sub, "expected 0 < low < high (got [%s, %s])", a, b);
        s->p[me].lo = lo;
        s->p[me].hi = hi;
        return 0;
    }
    if (arg->kind != BP_NODE_SEQ || !arg->n)
        return bp_config_err(e, BP_ECONFIG, &arg->mark, sub, "expected a sequence of at least one option (got %s)",
                    bp_node_got(arg, g, sizeof g));
    s->p[me].choice = arg;
    /* conditional parameters: distributions among the keys of an option's map */
    for (size_t j = 0; j < arg->n; j++) {
        const bp_node *o = arg->items[j];
        if (o->kind != BP_NODE_MAP)
            continue;
        for (size_t k = 0; k < o->n; k++) {
            if (!is_dist(o->items[k]))
                continue;
            char cname[NAME_MAX_LEN], cdisp[sizeof sub + 300];
            snprintf(cname, sizeof cname, "%s[%zu].%s", name, j,
                     bp_text_show(o->keys[k], t, sizeof t));
            snprintf(cdisp, sizeof cdisp, "%s[%zu].%s", sub, j, bp_text_show(o->keys[k], t, sizeof t));
            int rc = parse_one(s, cname, cdisp, o->items[k], &o->key_marks[k], (long)me, j, k, e);
            if (rc)
                return rc;
        }
    }
    return 0;
}

bp_space *bp_space_parse(const bp_node *params, const char *disp, bp_err *e)
{
    char g[300], t[256], sub[NAME_MAX_LEN + 300];
    if (params->kind != BP_NODE_MAP)
        return bp_config_err(e, BP_ECONFIG, &params->mark, disp, "expected a map of key paths to distributions (got "
                    "%s)", bp_node_got(params, g, sizeof g)), NULL;
    if (!params->n)
        return bp_config_err(e, BP_ECONFIG, &params->mark, disp, "expected at least one parameter (got {})"), NULL;
    bp_space *s = bp_xcalloc(1, sizeof *s, e);
    if (!s || !(s->tree = bp_node_clone(params, e))) {
        bp_space_free(s);
        return NULL;
    }
    for (size_t i = 0; i < s->tree->n; i++) {
        snprintf(sub, sizeof sub, "%s.%s", disp, bp_text_show(s->tree->keys[i], t, sizeof t));
        if (parse_one(s, s->tree->keys[i], sub, s->tree->items[i], &s->tree->key_marks[i], -1, 0,
                      0, e)) {
            bp_space_free(s);
            return NULL;
        }
        s->n_top++;
    }
    return s;
}

void bp_space_free(bp_space *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->p[i].name);
    free(s->p);
    bp_node_free(s->tree);
    free(s);
}

int bp_space_active(const bp_space *s, const double *x, size_t i)
{
    while (s->p[i].parent >= 0) {
        size_t q = (size_t)s->p[i].parent;
        if (isnan(x[q]) || (size_t)x[q] != s->p[i].option)
            return 0;
        i = q;
    }
    return 1;
}

void bp_space_sample_prior(const bp_space *s, bp_rng *r, double *x)
{
    for (size_t i = 0; i < s->n; i++) {
        const bp_sparam *p = &s->p[i];
        x[i] = NAN;
        if (!bp_space_active(s, x, i))
            continue;
        double u = bp_rng_uniform(r);
        switch (p->dist) {
        case BP_DIST_UNIFORM:
            x[i] = fmin(fmax(p->lo * (1 - u) + p->hi * u, p->lo), p->hi);
            break;
        case BP_DIST_LOG_UNIFORM:
            x[i] = fmin(fmax(exp(log(p->lo) * (1 - u) + log(p->hi) * u), p->lo), p->hi);
            break;
        case BP_DIST_INT:
            x[i] = fmin(p->lo + floor(u * (p->hi - p->lo + 1)), p->hi);
            break;
        default:
            x[i] = (double)(size_t)fmin(floor(u * (double)p->choice->n), (double)(p->choice->n - 1));
            break;
        }
    }
}

static char *num_text(double d, int whole, char *buf, size_t size)
{
    if (whole) {
        snprintf(buf, size, "%lld", (long long)d); /* never "-0" */
        return buf;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    return buf;
}

static bp_node *value_of(const bp_space *s, const double *x, size_t i, bp_err *e)
{
    const bp_sparam *p = &s->p[i];
    if (p->dist != BP_DIST_CHOICE) {
        char buf[64];
        bp_node *n = bp_xcalloc(1, sizeof *n, e);
        if (!n)
            return NULL;
        n->kind = BP_NODE_SCALAR;
        n->mark = (bp_mark){ NULL, p->mark.line, p->mark.col };
        if (!(n->value = bp_xstrdup(num_text(x[i], p->dist == BP_DIST_INT, buf, sizeof buf), e)) ||
            (p->mark.src && !(n->mark.src = bp_xstrdup(p->mark.src, e)))) {
            bp_node_free(n);
            return NULL;
        }
        return n;
    }
    size_t o = (size_t)x[i];
    bp_node *n = bp_node_clone(p->choice->items[o], e);
    for (size_t j = i + 1; n && j < s->n; j++) {
        if (s->p[j].parent != (long)i || s->p[j].option != o)
            continue;
        bp_node *v = value_of(s, x, j, e);
        if (!v) {
            bp_node_free(n);
            return NULL;
        }
        bp_node_free(n->items[s->p[j].key]);
        n->items[s->p[j].key] = v;
    }
    return n;
}

bp_node *bp_space_value(const bp_space *s, const double *x, size_t i, bp_err *e)
{
    return value_of(s, x, i, e);
}
