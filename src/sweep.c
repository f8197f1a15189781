/* Sweep expansion: the `sweep` section and --sweep axes -> numbered, validated trial configs. */
#include "autoconf.h"
#include "sweep.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hyperband.h"
#include "points.h"
#include "rng.h"
#include "search.h"

#define KEY_MAX 600
/* Estimated memory of all trial configs above which a sweep is refused. */
#define MEM_LIMIT ((uint64_t)2 << 30)

enum { BLK_GRID, BLK_ZIP, BLK_VARIANTS, BLK_RANDOM };
static const char *const blk_names[] = { "grid", "zip", "variants", "random" };
enum { D_UNIFORM, D_LOG_UNIFORM, D_INT, D_CHOICE, D_COUNT };
static const char *const dist_names[] = { "uniform", "log_uniform", "int", "choice" };

typedef struct axis {
    char *key;          /* swept key path */
    int block;          /* BLK_* */
    bp_mark mark;       /* the key's mark (src NULL for --sweep axes) */
    char *origin;       /* "sweep.grid", "--sweep ASSIGNMENT": prefix of path errors */
    size_t n;           /* values (grid, zip), samples (random); 0 for variants */
    bp_node **vals;
    char **texts;       /* flow YAML text of each value */
    int dist;           /* random: D_* */
    double lo, hi;
    long long ilo, ihi;
    const bp_node *choice; /* random choice: the sequence (borrowed from the sweep tree) */
    bp_mark spec_mark;  /* random: mark given to the samples (borrowed) */
} axis;

typedef struct sctx {
    const char *path;
    bp_err *e;
    axis *ax;
    size_t n_ax, cap, n_grid;
    size_t zip_len;               /* rows; 0 = no zip block */
    const bp_node *variants;      /* the sequence of variant maps, or NULL */
    size_t n_random;              /* random.trials; 0 = no random block */
    unsigned repeats;
    const bp_mark *repeats_mark;  /* borrowed; NULL when not given */
    bp_mark sweep_mark;           /* where the sweep section starts (borrowed src) */
    const bp_node *halving;       /* sweep.halving (borrowed), checked against the trials */
    const bp_mark *halving_km;
    bp_halving hv;                /* parsed; rungs owned until moved into the sweep */
    bp_race race;                 /* parsed sweep.race */
    const bp_mark *race_km;
    bp_search *search;            /* parsed sweep.search (owned until moved into the sweep) */
    const bp_mark *search_km;
    bp_hyperband hb;              /* parsed sweep.hyperband */
    const bp_node *hb_node;
    const bp_mark *hb_km;
    bp_pbt pbt;                   /* parsed sweep.pbt (pbt.c); moved into the sweep */
    const bp_mark *pbt_km;
} sctx;

/* What a sweep.search keeps to rebuild a trial once its point is decided (search.h). */
struct bp_sweep_keep {
    sctx s;
    bp_node *root, *sweep_node;
    char *text, *path;
    char **sets;
    size_t n_sets;
    uint64_t seed;
};

/* ---- messages ---- */



/* ---- scalars ---- */

static int is_null(const bp_node *n)
{
    if (n->kind != BP_NODE_SCALAR || n->quoted)
        return 0;
    const char *s = n->value;
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

/* An integer as the config module reads one: 0 ok, -1 not an integer, -2 out of long long. */
static int parse_ll(const bp_node *n, long long *out)
{
    if (n->kind != BP_NODE_SCALAR || n->quoted || is_null(n))
        return -1;
    const char *s = n->value;
    if (bp_text_is_int(s)) {
        errno = 0;
        *out = strtoll(s, NULL, 10);
        return errno == ERANGE ? -2 : 0;
    }
    if (!bp_text_is_decimal(s))
        return -1;
    double d = strtod(s, NULL);
    if (!isfinite(d) || d != floor(d))
        return -1;
    if (d < -9.2e18 || d > 9.2e18)
        return -2;
    *out = (long long)d;
    return 0;
}

static int get_int(bp_err *e, const bp_node *n, const char *key, long long lo, long long hi,
                   long long *out)
{
    char g[300], t[256];
    int rc = parse_ll(n, out);
    if (rc == -1)
        return bp_config_err(e, BP_ECONFIG, &n->mark, key, "expected an integer (got %s)", bp_node_got(n, g, sizeof g));
    if (rc == -2 || *out < lo || *out > hi) {
        if (n->value[0] == '-')
            return bp_config_err(e, BP_ECONFIG, &n->mark, key, "must be >= %lld (got %s)", lo,
                        bp_text_show(n->value, t, sizeof t));
        if (rc == -2 || *out > hi)
            return bp_config_err(e, BP_ECONFIG, &n->mark, key, "must be <= %lld (got %s)", hi,
                        bp_text_show(n->value, t, sizeof t));
        return bp_config_err(e, BP_ECONFIG, &n->mark, key, "must be >= %lld (got %s)", lo,
                    bp_text_show(n->value, t, sizeof t));
    }
    return 0;
}

static int get_num(bp_err *e, const bp_node *n, const char *key, double *out)
{
    char g[300];
    if (n->kind != BP_NODE_SCALAR || n->quoted || !bp_text_is_decimal(n->value))
        return bp_config_err(e, BP_ECONFIG, &n->mark, key, "expected a number (got %s)", bp_node_got(n, g, sizeof g));
    *out = strtod(n->value, NULL);
    if (!isfinite(*out))
        return bp_config_err(e, BP_ECONFIG, &n->mark, key, "must be a finite number (got %s)",
                    bp_node_got(n, g, sizeof g));
    return 0;
}

/* ---- flow text of a node ---- */

/* A plain scalar can be written as is inside [ ] / { } when nothing in it is flow syntax. */
static int plain_ok_in_flow(const char *s)
{
    size_t len = strlen(s);
    if (!len || strchr("?:,[]{}#&*!|>'\"%@` \t", s[0]) || s[len - 1] == ' ' || s[len - 1] == '\t')
        return 0;
    if (s[0] == '-' && (s[1] == ' ' || !s[1]))
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f || strchr(",[]{}:", ch) ||
            (ch == '#' && (s[i - 1] == ' ' || s[i - 1] == '\t')))
            return 0;
    }
    return 1;
}

static void flow_write(FILE *f, const bp_node *n)
{
    if (n->kind == BP_NODE_SCALAR) {
        if (n->quoted)
            bp_yaml_write_string(f, n->value, 1);
        else if (is_null(n))
            fputs("null", f);
        else if (plain_ok_in_flow(n->value))
            fputs(n->value, f); /* plain as written: keeps numbers, booleans and strings apart */
        else
            bp_yaml_write_string(f, n->value, 1);
        return;
    }
    fputc(n->kind == BP_NODE_MAP ? '{' : '[', f);
    for (size_t i = 0; i < n->n; i++) {
        if (i)
            fputs(", ", f);
        if (n->kind == BP_NODE_MAP) {
            bp_yaml_write_string(f, n->keys[i], 1);
            fputs(": ", f);
        }
        flow_write(f, n->items[i]);
    }
    fputc(n->kind == BP_NODE_MAP ? '}' : ']', f);
}

static char *flow_text(const bp_node *n, bp_err *e)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) {
        bp_err_set(e, BP_ENOMEM, "out of memory");
        return NULL;
    }
    flow_write(f, n);
    if (fclose(f) != 0) {
        free(buf);
        bp_err_set(e, BP_ENOMEM, "out of memory");
        return NULL;
    }
    return buf;
}

/* ---- nodes ---- */

static int mark_copy(bp_mark *dst, const bp_mark *src, bp_err *e)
{
    *dst = (bp_mark){ NULL, src ? src->line : 0, src ? src->col : 0 };
    if (src && src->src && !(dst->src = bp_xstrdup(src->src, e)))
        return BP_ENOMEM;
    return 0;
}

static bp_node *scalar_node(const char *text, const bp_mark *m, bp_err *e)
{
    bp_node *n = bp_xcalloc(1, sizeof *n, e);
    if (!n)
        return NULL;
    n->kind = BP_NODE_SCALAR;
    if (!(n->value = bp_xstrdup(text, e)) || mark_copy(&n->mark, m, e) < 0) {
        bp_node_free(n);
        return NULL;
    }
    return n;
}

/* The node at a key path (with [i] indexes), or NULL. */
static const bp_node *node_at(const bp_node *root, const char *path)
{
    char seg[512];
    const bp_node *cur = root;
    const char *p = path;
    while (cur) {
        size_t n = strcspn(p, ".[");
        if (n == 0 || n >= sizeof seg)
            return NULL;
        memcpy(seg, p, n);
        seg[n] = '\0';
        p += n;
        if (cur->kind == BP_NODE_SCALAR && !is_null(cur) && !strcmp(seg, "name") && !*p)
            return cur; /* plugin shorthand: optimizer: sgd is {name: sgd} */
        cur = bp_node_get(cur, seg);
        while (cur && *p == '[') {
            char *end;
            unsigned long long i = strtoull(p + 1, &end, 10);
            if (*end != ']' || cur->kind != BP_NODE_SEQ || i >= cur->n)
                return NULL;
            cur = cur->items[i];
            p = end + 1;
        }
        if (!*p)
            return cur;
        if (*p != '.')
            return NULL;
        p++;
    }
    return NULL;
}

static size_t count_nodes(const bp_node *n)
{
    size_t c = 1;
    for (size_t i = 0; i < n->n; i++)
        c += count_nodes(n->items[i]);
    return c;
}

/* ---- axes ---- */

static void axis_clear(axis *a)
{
    free(a->key);
    free(a->mark.src);
    free(a->origin);
    for (size_t i = 0; i < a->n; i++) {
        bp_node_free(a->vals ? a->vals[i] : NULL);
        free(a->texts ? a->texts[i] : NULL);
    }
    free(a->vals);
    free(a->texts);
    memset(a, 0, sizeof *a);
}

static const char *first_segment(const char *key, char *buf, size_t size)
{
    size_t n = strcspn(key, ".[");
    snprintf(buf, size, "%.*s", (int)n, key);
    return buf;
}

/* A key path that names the whole run cannot vary between its trials. */
static const char *unsweepable(const char *key)
{
    char seg[64];
    first_segment(key, seg, sizeof seg);
    if (!strcmp(seg, "seed"))
        return "the seed cannot be swept (use sweep.repeats for restarts)";
    if (!strcmp(seg, "experiment") || !strcmp(seg, "output"))
        return "cannot be swept: all trials of a sweep share one run folder";
    if (!strcmp(seg, "sweep"))
        return "the sweep section cannot be swept";
    return NULL;
}

static axis *find_axis(sctx *s, const char *key)
{
    for (size_t i = 0; i < s->n_ax; i++)
        if (!strcmp(s->ax[i].key, key))
            return &s->ax[i];
    return NULL;
}

static const char *where_str(const axis *a, char *buf, size_t size)
{
    if (!a->mark.src)
        snprintf(buf, size, "%s", a->origin);
    else
        bp_mark_str(&a->mark, buf, size);
    return buf;
}

/* Insert a new axis at position pos; checks the key against the other blocks. */
static axis *axis_add(sctx *s, size_t pos, const char *key, int block, const bp_mark *m,
                      const char *origin, const char *disp)
{
    char w[600];
    const char *why = unsweepable(key);
    if (why) {
        bp_config_err(s->e, m ? BP_ECONFIG : BP_EUSAGE, m, disp, "%s", why);
        return NULL;
    }
    axis *old = find_axis(s, key);
    if (old) {
        bp_config_err(s->e, m ? BP_ECONFIG : BP_EUSAGE, m, disp, "already swept in sweep.%s (%s)",
             blk_names[old->block], where_str(old, w, sizeof w));
        return NULL;
    }
    if (s->n_ax == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 8;
        axis *na = realloc(s->ax, nc * sizeof *na);
        if (!na) {
            bp_err_set(s->e, BP_ENOMEM, "out of memory");
            return NULL;
        }
        s->ax = na;
        s->cap = nc;
    }
    memmove(&s->ax[pos + 1], &s->ax[pos], (s->n_ax - pos) * sizeof *s->ax);
    s->n_ax++;
    axis *a = &s->ax[pos];
    memset(a, 0, sizeof *a);
    a->block = block;
    if (!(a->key = bp_xstrdup(key, s->e)) || !(a->origin = bp_xstrdup(origin, s->e)) ||
        mark_copy(&a->mark, m, s->e) < 0) {
        axis_clear(a);
        memmove(&s->ax[pos], &s->ax[pos + 1], (s->n_ax - pos - 1) * sizeof *s->ax);
        s->n_ax--;
        return NULL;
    }
    return a;
}

/* Give an axis its values: clones of the sequence's items (or takes over items when own). */
static int axis_set_values(sctx *s, axis *a, bp_node **items, size_t n, int own)
{
    bp_node **vals = bp_xcalloc(n, sizeof *vals, s->e);
    char **texts = vals ? bp_xcalloc(n, sizeof *texts, s->e) : NULL;
    int rc = 0;
    if (!texts)
        rc = BP_ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        vals[i] = own ? items[i] : bp_node_clone(items[i], s->e);
        if (own)
            items[i] = NULL;
        if (!vals[i] || !(texts[i] = flow_text(vals[i], s->e)))
            rc = BP_ENOMEM;
    }
    if (own)
        for (size_t i = 0; i < n; i++)
            bp_node_free(items[i]);
    if (rc < 0) {
        for (size_t i = 0; vals && i < n; i++) {
            bp_node_free(vals[i]);
            free(texts ? texts[i] : NULL);
        }
        free(vals);
        free(texts);
        return rc;
    }
    for (size_t i = 0; i < a->n; i++) {
        bp_node_free(a->vals[i]);
        free(a->texts[i]);
    }
    free(a->vals);
    free(a->texts);
    a->vals = vals;
    a->texts = texts;
    a->n = n;
    return 0;
}

/* ---- the sweep section ---- */

static const char *seq_key(const char *block, const char *key, char *buf, size_t size)
{
    char t[256];
    snprintf(buf, size, "sweep.%s.%s", block, bp_text_show(key, t, sizeof t));
    return buf;
}

static int want_values(sctx *s, const bp_node *n, const char *disp)
{
    char g[300];
    if (n->kind != BP_NODE_SEQ)
        return bp_config_err(s->e, BP_ECONFIG, &n->mark, disp, "expected a sequence of values (got %s)",
                    bp_node_got(n, g, sizeof g));
    if (!n->n)
        return bp_config_err(s->e, BP_ECONFIG, &n->mark, disp, "expected at least one value (got [])");
    return 0;
}

static int want_map(sctx *s, const bp_node *n, const char *disp, const char *what)
{
    char g[300];
    if (n->kind != BP_NODE_MAP)
        return bp_config_err(s->e, BP_ECONFIG, &n->mark, disp, "expected %s (got %s)", what,
                    bp_node_got(n, g, sizeof g));
    return 0;
}

static int parse_grid(sctx *s, const bp_node *g)
{
    char disp[KEY_MAX];
    int rc = want_map(s, g, "sweep.grid", "a map of key paths to sequences of values");
    for (size_t i = 0; rc == 0 && i < g->n; i++) {
        seq_key("grid", g->keys[i], disp, sizeof disp);
        if ((rc = want_values(s, g->items[i], disp)) < 0)
            break;
        axis *a = axis_add(s, s->n_grid, g->keys[i], BLK_GRID, &g->key_marks[i], "sweep.grid", disp);
        if (!a)
            return s->e->code;
        s->n_grid++;
        rc = axis_set_values(s, a, g->items[i]->items, g->items[i]->n, 0);
    }
    return rc;
}

static int parse_zip(sctx *s, const bp_node *z)
{
    char disp[KEY_MAX], first[KEY_MAX];
    int rc = want_map(s, z, "sweep.zip", "a map of key paths to sequences of values");
    for (size_t i = 0; rc == 0 && i < z->n; i++) {
        const bp_node *v = z->items[i];
        seq_key("zip", z->keys[i], disp, sizeof disp);
        if ((rc = want_values(s, v, disp)) < 0)
            break;
        if (i == 0) {
            s->zip_len = v->n;
            snprintf(first, sizeof first, "%s", disp);
        } else if (v->n != s->zip_len) {
            return bp_config_err(s->e, BP_ECONFIG, &v->mark, disp, "expected %zu value%s, as many as %s "
                        "(got %zu)", s->zip_len, bp_s(s->zip_len), first, v->n);
        }
        axis *a = axis_add(s, s->n_ax, z->keys[i], BLK_ZIP, &z->key_marks[i], "sweep.zip", disp);
        if (!a)
            return s->e->code;
        rc = axis_set_values(s, a, v->items, v->n, 0);
    }
    return rc;
}

static int parse_variants(sctx *s, const bp_node *v)
{
    char disp[KEY_MAX], g[300], t[256], origin[64];
    if (v->kind != BP_NODE_SEQ)
        return bp_config_err(s->e, BP_ECONFIG, &v->mark, "sweep.variants", "expected a sequence of maps "
                    "(got %s)", bp_node_got(v, g, sizeof g));
    if (!v->n)
        return bp_config_err(s->e, BP_ECONFIG, &v->mark, "sweep.variants", "expected at least one variant "
                    "(got [])");
    size_t first = s->n_ax;
    for (size_t i = 0; i < v->n; i++) {
        const bp_node *m = v->items[i];
        snprintf(origin, sizeof origin, "sweep.variants[%zu]", i);
        if (m->kind != BP_NODE_MAP)
            return bp_config_err(s->e, BP_ECONFIG, &m->mark, origin, "expected a map of key paths to "
                        "values (got %s)", bp_node_got(m, g, sizeof g));
        for (size_t k = 0; k < m->n; k++) {
            axis *a = find_axis(s, m->keys[k]);
            if (a && a->block == BLK_VARIANTS && (size_t)(a - s->ax) >= first)
                continue;
            snprintf(disp, sizeof disp, "%s.%s", origin, bp_text_show(m->keys[k], t, sizeof t));
            if (!axis_add(s, s->n_ax, m->keys[k], BLK_VARIANTS, &m->key_marks[k], origin, disp))
                return s->e->code;
        }
    }
    s->variants = v;
    return 0;
}

static int parse_range(sctx *s, axis *a, const bp_node *arg, const char *disp)
{
    char g[300], key[KEY_MAX + 400];
    if (arg->kind != BP_NODE_SEQ || arg->n != 2) {
        if (arg->kind == BP_NODE_SEQ)
            return bp_config_err(s->e, BP_ECONFIG, &arg->mark, disp, "expected [low, high] (got a "
                        "sequence of %zu)", arg->n);
        return bp_config_err(s->e, BP_ECONFIG, &arg->mark, disp, "expected [low, high] (got %s)",
                    bp_node_got(arg, g, sizeof g));
    }
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
        snprintf(key, sizeof key, "%s[%d]", disp, i);
        if (a->dist == D_INT) {
            long long x = 0;
            rc = get_int(s->e, arg->items[i], key, LLONG_MIN, LLONG_MAX, &x);
            *(i ? &a->ihi : &a->ilo) = x;
        } else {
            double x = 0;
            rc = get_num(s->e, arg->items[i], key, &x);
            *(i ? &a->hi : &a->lo) = x;
        }
    }
    if (rc < 0)
        return rc;
    const char *lo = arg->items[0]->value, *hi = arg->items[1]->value;
    if (a->dist == D_INT && a->ilo > a->ihi)
        return bp_config_err(s->e, BP_ECONFIG, &arg->mark, disp, "low must be <= high (got [%s, %s])", lo, hi);
    if (a->dist == D_UNIFORM && !(a->lo < a->hi))
        return bp_config_err(s->e, BP_ECONFIG, &arg->mark, disp, "low must be < high (got [%s, %s])", lo, hi);
    if (a->dist == D_LOG_UNIFORM && !(a->lo > 0 && a->lo < a->hi))
        return bp_config_err(s->e, BP_ECONFIG, &arg->mark, disp, "expected 0 < low < high (got [%s, %s])",
                    lo, hi);
    return 0;
}

static int parse_param(sctx *s, const char *key, const bp_mark *km, const bp_node *spec)
{
    char disp[KEY_MAX], sub[KEY_MAX + 300], t[256];
    snprintf(disp, sizeof disp, "sweep.random.params.%s", bp_text_show(key, t, sizeof t));
    int rc = want_map(s, spec, disp, "a map {uniform|log_uniform|int|choice: ...}");
    if (rc < 0)
        return rc;
    int dist = -1;
    size_t at = 0;
    for (size_t i = 0; i < spec->n; i++) {
        int d = 0;
        while (d < D_COUNT && strcmp(spec->keys[i], dist_names[d]))
            d++;
        snprintf(sub, sizeof sub, "%s.%s", disp, bp_text_show(spec->keys[i], t, sizeof t));
        if (d == D_COUNT) {
            const char *best = bp_suggest(spec->keys[i], dist_names, D_COUNT);
            if (best)
                return bp_config_err(s->e, BP_ECONFIG, &spec->key_marks[i], sub, "unknown key (did you "
                            "mean '%s'?)", best);
            return bp_config_err(s->e, BP_ECONFIG, &spec->key_marks[i], sub, "unknown key (valid keys: "
                        "uniform, log_uniform, int, choice)");
        }
        if (dist >= 0)
            return bp_config_err(s->e, BP_ECONFIG, &spec->key_marks[i], sub, "only one distribution per "
                        "parameter (also got '%s')", dist_names[dist]);
        dist = d;
        at = i;
    }
    if (dist < 0)
        return bp_config_err(s->e, BP_ECONFIG, &spec->mark, disp, "expected one of uniform, log_uniform, "
                    "int, choice (got {})");
    axis *a = axis_add(s, s->n_ax, key, BLK_RANDOM, km, "sweep.random.params", disp);
    if (!a)
        return s->e->code;
    a->dist = dist;
    a->spec_mark = spec->mark;
    const bp_node *arg = spec->items[at];
    snprintf(sub, sizeof sub, "%s.%s", disp, dist_names[dist]);
    if (dist != D_CHOICE)
        return parse_range(s, a, arg, sub);
    if ((rc = want_values(s, arg, sub)) < 0)
        return rc;
    a->choice = arg;
    return 0;
}

static int check_keys(sctx *s, const bp_node *m, const char *path, const char *const *names,
                      size_t n)
{
    char key[KEY_MAX], t[256];
    for (size_t i = 0; i < m->n; i++) {
        size_t k = 0;
        while (k < n && strcmp(m->keys[i], names[k]))
            k++;
        if (k < n)
            continue;
        snprintf(key, sizeof key, "%s.%s", path, bp_text_show(m->keys[i], t, sizeof t));
        const char *best = bp_suggest(m->keys[i], names, n);
        if (best)
            return bp_config_err(s->e, BP_ECONFIG, &m->key_marks[i], key, "unknown key (did you mean "
                        "'%s'?)", best);
        char list[256] = "";
        for (size_t j = 0; j < n; j++) {
            size_t o = strlen(list);
            snprintf(list + o, sizeof list - o, "%s%s", j ? ", " : "", names[j]);
        }
        return bp_config_err(s->e, BP_ECONFIG, &m->key_marks[i], key, "unknown key (valid keys: %s)", list);
    }
    return 0;
}

static int parse_random(sctx *s, const bp_node *r, const bp_mark *km)
{
    static const char *const keys[] = { "trials", "params" };
    char g[300];
    int rc = want_map(s, r, "sweep.random", "a map {trials: N, params: {...}}");
    if (rc == 0)
        rc = check_keys(s, r, "sweep.random", keys, 2);
    if (rc < 0)
        return rc;
    const bp_node *trials = bp_node_get(r, "trials"), *params = bp_node_get(r, "params");
    for (int i = 0; i < 2; i++)
        if (!(i ? params : trials) || is_null(i ? params : trials))
            return bp_config_err(s->e, BP_ECONFIG, km, "sweep.random", "missing required key '%s'", keys[i]);
    long long n;
    if ((rc = get_int(s->e, trials, "sweep.random.trials", 1, BP_SWEEP_MAX_TRIALS, &n)) < 0)
        return rc;
    if (params->kind != BP_NODE_MAP)
        return bp_config_err(s->e, BP_ECONFIG, &params->mark, "sweep.random.params", "expected a map of key "
                    "paths to distributions (got %s)", bp_node_got(params, g, sizeof g));
    if (!params->n)
        return bp_config_err(s->e, BP_ECONFIG, &params->mark, "sweep.random.params", "expected at least "
                    "one parameter (got {})");
    for (size_t i = 0; i < params->n; i++)
        if ((rc = parse_param(s, params->keys[i], &params->key_marks[i], params->items[i])) < 0)
            return rc;
    s->n_random = (size_t)n;
    return 0;
}

/* sweep.pbt (pbt.c): its params become random-search axes, one sample per member */
static int parse_pbt(sctx *s, const bp_node *v, const bp_mark *km)
{
    int rc = bp_pbt_parse(v, km, &s->pbt, s->e);
    for (size_t i = 0; rc == 0 && i < s->pbt.n_params; i++) {
        const bp_pbt_param *q = &s->pbt.params[i];
        axis *a = axis_add(s, s->n_ax, q->key, BLK_RANDOM, q->key_mark, "sweep.pbt.params",
                           "sweep.pbt.params");
        if (!a)
            return s->e->code;
        a->dist = q->dist == BP_PBT_UNIFORM ? D_UNIFORM : q->dist == BP_PBT_LOG_UNIFORM
                                                            ? D_LOG_UNIFORM : D_INT;
        a->lo = q->lo;
        a->hi = q->hi;
        a->ilo = (long long)q->lo;
        a->ihi = (long long)q->hi;
        a->spec_mark = q->spec->mark;
    }
    s->pbt_km = km;
    if (rc == 0)
        s->n_random = s->pbt.population;
    return rc;
}

static int parse_halving(sctx *s, const bp_node *h, const bp_mark *km)
{
    static const char *const keys[] = { "rungs", "eta", "keep", "metric" };
    char g[300], t[256], disp[KEY_MAX];
    int rc = want_map(s, h, "sweep.halving", "a map {rungs: [E1, E2, ...], eta: N, metric: M}");
    if (rc == 0)
        rc = check_keys(s, h, "sweep.halving", keys, 4);
    if (rc < 0)
        return rc;
    const bp_node *r = bp_node_get(h, "rungs"), *eta = bp_node_get(h, "eta"),
                  *keep = bp_node_get(h, "keep"), *m = bp_node_get(h, "metric");
    if (!r || is_null(r))
        return bp_config_err(s->e, BP_ECONFIG, km, "sweep.halving", "missing required key 'rungs'");
    if ((rc = want_values(s, r, "sweep.halving.rungs")) < 0)
        return rc;
    if (!(s->hv.rungs = bp_xcalloc(r->n, sizeof *s->hv.rungs, s->e)))
        return BP_ENOMEM;
    for (size_t i = 0; i < r->n; i++) {
        long long x;
        snprintf(disp, sizeof disp, "sweep.halving.rungs[%zu]", i);
        if ((rc = get_int(s->e, r->items[i], disp, 1, 1000000000, &x)) < 0)
            return rc;
        if (i && x <= s->hv.rungs[i - 1])
            return bp_config_err(s->e, BP_ECONFIG, &r->items[i]->mark, disp, "rungs must increase (got %lld "
                        "after %d)", x, s->hv.rungs[i - 1]);
        s->hv.rungs[i] = (int)x;
    }
    s->hv.n_rungs = r->n;
    s->hv.eta = 3;
    if (eta && !is_null(eta) && keep && !is_null(keep))
        return bp_config_err(s->e, BP_ECONFIG, &keep->mark, "sweep.halving.keep", "give eta or keep, not "
                    "both");
    if (eta && !is_null(eta)) {
        if ((rc = get_num(s->e, eta, "sweep.halving.eta", &s->hv.eta)) < 0)
            return rc;
        if (!(s->hv.eta > 1))
            return bp_config_err(s->e, BP_ECONFIG, &eta->mark, "sweep.halving.eta", "must be > 1 (got %s)",
                        bp_text_show(eta->value, t, sizeof t));
    }
    if (keep && !is_null(keep)) {
        double k;
        if ((rc = get_num(s->e, keep, "sweep.halving.keep", &k)) < 0)
            return rc;
        if (!(k > 0 && k < 1))
            return bp_config_err(s->e, BP_ECONFIG, &keep->mark, "sweep.halving.keep", "must be in (0, 1) "
                        "(got %s)", bp_text_show(keep->value, t, sizeof t));
        s->hv.eta = 1 / k;
    }
    s->hv.val = 1;
    if (m && !is_null(m)) {
        if (m->kind != BP_NODE_SCALAR || (strcmp(m->value, "val_loss") && strcmp(m->value, "loss")))
            return bp_config_err(s->e, BP_ECONFIG, &m->mark, "sweep.halving.metric", "expected val_loss or "
                        "loss (got %s)", bp_node_got(m, g, sizeof g));
        s->hv.val = !strcmp(m->value, "val_loss");
    }
    s->halving = h;
    s->halving_km = km;
    return 0;
}

/* The halving spec against the expanded trials; a last rung equal to train.epochs is dropped. */
static int check_halving(sctx *s, const bp_sweep *sw)
{
    const bp_node *h = s->halving, *r = bp_node_get(h, "rungs"), *m = bp_node_get(h, "metric");
    int E = sw->trials[0].cfg->train.epochs;
    for (size_t i = 1; i < sw->n_trials; i++)
        if (sw->trials[i].cfg->train.epochs != E)
            return bp_config_err(s->e, BP_ECONFIG, s->halving_km, "sweep.halving", "needs the same "
                        "train.epochs in every trial (trial %u has %d, trial %u has %d)",
                        sw->trials[0].id, E, sw->trials[i].id, sw->trials[i].cfg->train.epochs);
    for (size_t i = 0; i < s->hv.n_rungs; i++)
        if (s->hv.rungs[i] > E) {
            char disp[64];
            snprintf(disp, sizeof disp, "sweep.halving.rungs[%zu]", i);
            return bp_config_err(s->e, BP_ECONFIG, &r->items[i]->mark, disp, "must be <= train.epochs (got "
                        "%d, train.epochs %d)", s->hv.rungs[i], E);
        }
    if (s->hv.rungs[s->hv.n_rungs - 1] == E)
        s->hv.n_rungs--;
    if (!s->hv.n_rungs)
        return bp_config_err(s->e, BP_ECONFIG, &r->mark, "sweep.halving.rungs", "expected a rung below "
                    "train.epochs (%d), where trials are compared", E);
    for (size_t i = 0; s->hv.val && i < sw->n_trials; i++) {
        const bp_config *c = sw->trials[i].cfg;
        if (!c->data.validation.ref && c->data.val_fraction == 0)
            return bp_config_err(s->e, BP_ECONFIG, m && !is_null(m) ? &m->mark : s->halving_km,
                        m && !is_null(m) ? "sweep.halving.metric" : "sweep.halving", "metric "
                        "val_loss needs validation data (set data.validation, or use metric: loss)");
    }
    return 0;
}

static int parse_hyperband(sctx *s, const bp_node *h, const bp_mark *km)
{
    static const char *const keys[] = { "max_epochs", "eta", "metric" };
    char g[300];
    int rc = want_map(s, h, "sweep.hyperband", "a map {max_epochs: R, eta: N, metric: M}");
    if (rc == 0)
        rc = check_keys(s, h, "sweep.hyperband", keys, 3);
    if (rc < 0)
        return rc;
    const bp_node *r = bp_node_get(h, "max_epochs"), *eta = bp_node_get(h, "eta"),
                  *m = bp_node_get(h, "metric");
    long long x;
    if (!r || is_null(r))
        return bp_config_err(s->e, BP_ECONFIG, km, "sweep.hyperband", "missing required key 'max_epochs'");
    if ((rc = get_int(s->e, r, "sweep.hyperband.max_epochs", 1, 1000000000, &x)) < 0)
        return rc;
    s->hb.max_epochs = (int)x;
    s->hb.eta = 3;
    if (eta && !is_null(eta)) {
        if ((rc = get_int(s->e, eta, "sweep.hyperband.eta", 2, 1000000, &x)) < 0)
            return rc;
        s->hb.eta = (int)x;
    }
    if (s->hb.max_epochs < s->hb.eta)
        return bp_config_err(s->e, BP_ECONFIG, &r->mark, "sweep.hyperband.max_epochs", "must be >= eta "
                    "(got %d, eta %d): with fewer epochs there is one bracket and nothing to "
                    "prune", s->hb.max_epochs, s->hb.eta);
    s->hb.val = 1;
    if (m && !is_null(m)) {
        if (m->kind != BP_NODE_SCALAR || (strcmp(m->value, "val_loss") && strcmp(m->value, "loss")))
            return bp_config_err(s->e, BP_ECONFIG, &m->mark, "sweep.hyperband.metric", "expected val_loss "
                        "or loss (got %s)", bp_node_got(m, g, sizeof g));
        s->hb.val = !strcmp(m->value, "val_loss");
    }
    s->hb.active = 1;
    s->hb_node = h;
    s->hb_km = km;
    return 0;
}

/* The Hyperband spec against the expanded trials: train.epochs = max_epochs in every trial,
 * exactly the points its brackets draw, validation data for val_loss. */
static int check_hyperband(sctx *s, const bp_sweep *sw)
{
    const bp_node *m = bp_node_get(s->hb_node, "metric");
    for (size_t i = 0; i < sw->n_trials; i++)
        if (sw->trials[i].cfg->train.epochs != s->hb.max_epochs)
            return bp_config_err(s->e, BP_ECONFIG, s->hb_km, "sweep.hyperband", "max_epochs %d is the "
                        "budget of a trial: train.epochs must equal it in every trial (trial %u "
                        "has %d)", s->hb.max_epochs, sw->trials[i].id,
                        sw->trials[i].cfg->train.epochs);
    bp_hyperband_bracket b[BP_HYPERBAND_MAX_BRACKETS];
    size_t nb = bp_hyperband_brackets(s->hb.max_epochs, s->hb.eta, b), need = 0;
    char list[256] = "";
    size_t ll = 0;
    for (size_t i = 0; i < nb; i++) {
        need += b[i].n;
        if (ll < sizeof list)
            ll += (size_t)snprintf(list + ll, sizeof list - ll, "%s%zu", i ? " + " : "", b[i].n);
    }
    if (sw->n_points != need)
        return bp_config_err(s->e, BP_ECONFIG, s->hb_km, "sweep.hyperband", "max_epochs %d and eta %d "
                    "draw %zu points (%s for brackets s = %zu .. 0), the sweep has %zu; give the "
                    "random block (or grid) exactly %zu", s->hb.max_epochs, s->hb.eta, need, list,
                    nb - 1, sw->n_points, need);
    for (size_t i = 0; s->hb.val && i < sw->n_trials; i++) {
        const bp_config *c = sw->trials[i].cfg;
        if (!c->data.validation.ref && c->data.val_fraction == 0)
            return bp_config_err(s->e, BP_ECONFIG, m && !is_null(m) ? &m->mark : s->hb_km,
                        m && !is_null(m) ? "sweep.hyperband.metric" : "sweep.hyperband", "metric "
                        "val_loss needs validation data (set data.validation, or use metric: loss)");
    }
    return 0;
}

static int parse_race(sctx *s, const bp_node *h, const bp_mark *km)
{
    static const char *const keys[] = { "metric", "min_repeats", "max_repeats", "alpha", "step" };
    static const char *const metrics[] = { "loss", "val_loss", "best_val_loss", "accuracy",
                                           "val_accuracy", "test_loss", "test_accuracy",
                                           "epochs_to_target" };
    char g[300], t[256];
    int rc = want_map(s, h, "sweep.race", "a map {metric: M, min_repeats: N, max_repeats: N, "
                      "alpha: A, step: N}");
    if (rc == 0)
        rc = check_keys(s, h, "sweep.race", keys, 5);
    if (rc < 0)
        return rc;
    const bp_node *m = bp_node_get(h, "metric"), *lo = bp_node_get(h, "min_repeats"),
                  *hi = bp_node_get(h, "max_repeats"), *a = bp_node_get(h, "alpha"),
                  *st = bp_node_get(h, "step");
    long long x;
    s->race = (bp_race){ .active = 1, .metric = BP_RANK_VAL_LOSS, .min_repeats = 5,
                         .max_repeats = 50, .step = 1, .alpha = 0.05 };
    if (m && !is_null(m)) {
        size_t k = 0;
        while (k < 8 && (m->kind != BP_NODE_SCALAR || strcmp(m->value, metrics[k])))
            k++;
        if (k == 8)
            return bp_config_err(s->e, BP_ECONFIG, &m->mark, "sweep.race.metric", "expected loss, "
                        "val_loss, best_val_loss, accuracy, val_accuracy, test_loss, "
                        "test_accuracy or epochs_to_target (got %s)", bp_node_got(m, g, sizeof g));
        s->race.metric = (int)k + 1;   /* bp_rank_metric: 0 is auto */
    }
    if (lo && !is_null(lo)) {
        if ((rc = get_int(s->e, lo, "sweep.race.min_repeats", 2, 100000, &x)) < 0)
            return rc;
        s->race.min_repeats = (unsigned)x;
    }
    if (hi && !is_null(hi)) {
        if ((rc = get_int(s->e, hi, "sweep.race.max_repeats", 2, 100000, &x)) < 0)
            return rc;
        s->race.max_repeats = (unsigned)x;
    }
    if (s->race.max_repeats < s->race.min_repeats)
        return bp_config_err(s->e, BP_ECONFIG, hi && !is_null(hi) ? &hi->mark : km,
                    "sweep.race.max_repeats", "must be >= min_repeats (got %u, min_repeats %u)",
                    s->race.max_repeats, s->race.min_repeats);
    if (st && !is_null(st)) {
        if ((rc = get_int(s->e, st, "sweep.race.step", 1, 100000, &x)) < 0)
            return rc;
        s->race.step = (unsigned)x;
    }
    if (a && !is_null(a)) {
        if ((rc = get_num(s->e, a, "sweep.race.alpha", &s->race.alpha)) < 0)
            return rc;
        if (!(s->race.alpha > 0 && s->race.alpha < 1))
            return bp_config_err(s->e, BP_ECONFIG, &a->mark, "sweep.race.alpha", "must be in (0, 1) "
                        "(got %s)", bp_text_show(a->value, t, sizeof t));
    }
    s->race_km = km;
    return 0;
}

/* The race against the expanded sweep: 2 points or more, and the data its metric needs. */
static int check_race(sctx *s, const bp_sweep *sw)
{
    if (sw->n_points < 2)
        return bp_config_err(s->e, BP_ECONFIG, s->race_km, "sweep.race", "needs at least 2 points to "
                    "race (the sweep has %zu)", sw->n_points);
    int m = s->race.metric;
    const char *name = bp_rank_metric_names[m];
    for (size_t i = 0; i < sw->n_trials; i++) {
        const bp_config *c = sw->trials[i].cfg;
        if ((m == BP_RANK_VAL_LOSS || m == BP_RANK_BEST_VAL_LOSS || m == BP_RANK_VAL_ACCURACY) &&
            !c->data.validation.ref && c->data.val_fraction == 0)
            return bp_config_err(s->e, BP_ECONFIG, s->race_km, "sweep.race", "metric %s needs validation "
                        "data in every trial (set data.validation, or race on another metric)",
                        name);
        if ((m == BP_RANK_TEST_LOSS || m == BP_RANK_TEST_ACCURACY) && !c->data.test.ref)
            return bp_config_err(s->e, BP_ECONFIG, s->race_km, "sweep.race", "metric %s needs test data "
                        "in every trial (set data.test)", name);
        if (m == BP_RANK_EPOCHS_TO_TARGET &&
            !(c->train.target_loss > 0 || c->train.target_accuracy > 0 ||
              c->train.target_max_error > 0))
            return bp_config_err(s->e, BP_ECONFIG, s->race_km, "sweep.race", "metric epochs_to_target "
                        "needs a train.target_loss, target_accuracy or target_max_error in every "
                        "trial");
    }
    return 0;
}

static int parse_sweep(sctx *s, const bp_node *sw)
{
    static const char *const keys[] = { "grid", "zip", "variants", "random", "repeats",
                                        "halving", "race", "hyperband", "pbt", "search" };
    int rc = want_map(s, sw, "sweep", "a map");
    if (rc == 0)
        rc = check_keys(s, sw, "sweep", keys, 10);
    /* sweep.pbt is the whole search: no other block beside it */
    size_t ip = 0;
    while (rc == 0 && ip < sw->n && strcmp(sw->keys[ip], "pbt"))
        ip++;
    for (size_t i = 0; rc == 0 && ip < sw->n && !is_null(sw->items[ip]) && i < sw->n; i++)
        if (i != ip && !is_null(sw->items[i]))
            return bp_config_err(s->e, BP_ECONFIG, &sw->key_marks[ip], "sweep.pbt", "cannot be used with "
                        "sweep.%s (the population is the whole search)", sw->keys[i]);
    for (size_t k = 0; rc == 0 && k < 10; k++) {
        size_t i = 0;
        while (i < sw->n && strcmp(sw->keys[i], keys[k]))
            i++;
        if (i == sw->n || is_null(sw->items[i]))
            continue;
        const bp_node *v = sw->items[i];
        switch (k) {
        case 0: rc = parse_grid(s, v); break;
        case 1: rc = parse_zip(s, v); break;
        case 2: rc = parse_variants(s, v); break;
        case 3: rc = parse_random(s, v, &sw->key_marks[i]); break;
        case 5: rc = parse_halving(s, v, &sw->key_marks[i]); break;
        case 6: rc = parse_race(s, v, &sw->key_marks[i]); break;
        case 7: rc = parse_hyperband(s, v, &sw->key_marks[i]); break;
        case 8: rc = parse_pbt(s, v, &sw->key_marks[i]); break;
        case 9:
            s->search_km = &sw->key_marks[i];
            rc = (s->search = bp_search_parse(v, s->search_km, s->e)) ? 0 : s->e->code;
            break;
        default: {
            long long n;
            rc = get_int(s->e, v, "sweep.repeats", 1, 100000, &n);
            s->repeats = (unsigned)n;
            s->repeats_mark = &v->mark;
            break;
        }
        }
    }
    return rc;
}

/* ---- --sweep ---- */

static void shift_cols(bp_node *n, unsigned off)
{
    if (n->mark.line == 1)
        n->mark.col += off;
    for (size_t i = 0; i < n->n; i++) {
        if (n->key_marks && n->key_marks[i].line == 1)
            n->key_marks[i].col += off;
        shift_cols(n->items[i], off);
    }
}

/* Split the value list at top-level commas; each piece becomes a node (marks: "--sweep", line
 * 1, column inside the list). */
static int parse_sweep_arg(sctx *s, const char *arg)
{
    char *key = NULL, usage[BP_ERR_MSG_MAX], shown[BP_ERR_MSG_MAX / 2];
    bp_node **vals = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    const char *eq = strchr(arg, '=');
    bp_text_line(arg, shown, sizeof shown);
    snprintf(usage, sizeof usage, "--sweep %s: expected key.path=value1,value2,...", shown);
    size_t plen = eq ? (size_t)(eq - arg) : 0, skip = strspn(arg, " \t");
    while (plen && (arg[plen - 1] == ' ' || arg[plen - 1] == '\t'))
        plen--;
    if (!eq || skip >= plen)
        return bp_err_set(s->e, BP_EUSAGE, "%s", usage);
    if (!(key = malloc(plen - skip + 1)))
        return bp_err_set(s->e, BP_ENOMEM, "out of memory");
    memcpy(key, arg + skip, plen - skip);
    key[plen - skip] = '\0';
    const char *list = eq + 1;
    size_t len = strlen(list), start = 0;
    int depth = 0;
    char quote = 0, prev = ',';
    for (size_t i = 0; i <= len && rc == 0; i++) {
        char ch = list[i];
        if (quote) {
            if ((ch == '\\' && quote == '"' && list[i + 1]) ||
                (ch == '\'' && quote == '\'' && list[i + 1] == '\''))
                i++;
            else if (ch == quote)
                quote = 0;
            if (i < len)
                continue;
        }
        if (i < len && (ch == '\'' || ch == '"') && strchr("[{,:", prev))
            quote = ch;
        else if (i < len && (ch == '[' || ch == '{'))
            depth++;
        else if (i < len && (ch == ']' || ch == '}') && depth > 0)
            depth--;
        if (ch != ' ' && ch != '\t')
            prev = ch;
        if (i < len && (ch != ',' || depth > 0 || quote))
            continue;
        /* a piece: list[start, i) */
        size_t plen2 = i - start;
        char *piece = malloc(plen2 + 1);
        if (!piece) {
            rc = bp_err_set(s->e, BP_ENOMEM, "out of memory");
            break;
        }
        memcpy(piece, list + start, plen2);
        piece[plen2] = '\0';
        if (strspn(piece, " \t") == plen2) {
            free(piece);
            rc = bp_err_set(s->e, BP_EUSAGE, "%s (value %zu is empty; write null for the "
                            "default)", usage, n + 1);
            break;
        }
        bp_node *v = bp_yaml_parse_value(piece, "--sweep", s->e);
        free(piece);
        if (!v) {
            rc = bp_err_prefix(s->e, "--sweep %s", shown);
            break;
        }
        shift_cols(v, (unsigned)start);
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            bp_node **nv = realloc(vals, nc * sizeof *nv);
            if (!nv) {
                bp_node_free(v);
                rc = bp_err_set(s->e, BP_ENOMEM, "out of memory");
                break;
            }
            vals = nv;
            cap = nc;
        }
        vals[n++] = v;
        start = i + 1;
        prev = ',';
    }
    if (rc == 0) {
        char origin[BP_ERR_MSG_MAX];
        snprintf(origin, sizeof origin, "--sweep %s", shown);
        axis *a = find_axis(s, key);
        if (a && a->block == BLK_GRID) {
            free(a->origin);
            free(a->mark.src);
            a->mark = (bp_mark){ 0 };
            if (!(a->origin = bp_xstrdup(origin, s->e)))
                rc = BP_ENOMEM;
        } else {
            a = axis_add(s, s->n_grid, key, BLK_GRID, NULL, origin, origin);
            if (a)
                s->n_grid++;
            else
                rc = s->e->code;
        }
        if (rc == 0) {
            rc = axis_set_values(s, a, vals, n, 1);
            n = 0;
        }
    }
    for (size_t i = 0; i < n; i++)
        bp_node_free(vals[i]);
    free(vals);
    free(key);
    return rc;
}

/* ---- random samples ---- */

static char *num_text(double d, char *buf, size_t size)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    return buf;
}

static int draw_samples(sctx *s, uint64_t seed)
{
    for (size_t i = 0; i < s->n_ax; i++) {
        axis *a = &s->ax[i];
        if (a->block != BLK_RANDOM)
            continue;
        if (!(a->vals = bp_xcalloc(s->n_random, sizeof *a->vals, s->e)) ||
            !(a->texts = bp_xcalloc(s->n_random, sizeof *a->texts, s->e)))
            return BP_ENOMEM;
        a->n = s->n_random;
    }
    for (size_t k = 0; k < s->n_random; k++) {
        bp_rng r = bp_rng_stream(seed, 0, BP_RNG_SWEEP, k);
        for (size_t i = 0; i < s->n_ax; i++) {
            axis *a = &s->ax[i];
            char buf[64];
            if (a->block != BLK_RANDOM)
                continue;
            if (a->dist == D_CHOICE) {
                a->vals[k] = bp_node_clone(a->choice->items[bp_rng_below(&r, a->choice->n)], s->e);
            } else if (a->dist == D_INT) {
                uint64_t span = (uint64_t)a->ihi - (uint64_t)a->ilo + 1;
                uint64_t off = span ? bp_rng_below(&r, span) : bp_rng_u64(&r);
                snprintf(buf, sizeof buf, "%lld", (long long)((uint64_t)a->ilo + off));
                a->vals[k] = scalar_node(buf, &a->spec_mark, s->e);
            } else {
                double u = bp_rng_uniform(&r), x;
                if (a->dist == D_UNIFORM) {
                    x = a->lo * (1 - u) + a->hi * u;
                } else {
                    double l = log(a->lo), h = log(a->hi);
                    x = exp(l * (1 - u) + h * u);
                }
                x = x < a->lo ? a->lo : x > a->hi ? a->hi : x;
                a->vals[k] = scalar_node(num_text(x, buf, sizeof buf), &a->spec_mark, s->e);
            }
            if (!a->vals[k] || !(a->texts[k] = flow_text(a->vals[k], s->e)))
                return BP_ENOMEM;
        }
    }
    return 0;
}

/* ---- trials ---- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int same_mark(const bp_mark *a, const bp_mark *b)
{
    return a->line == b->line && a->col == b->col && a->src && b->src && !strcmp(a->src, b->src);
}

/* bp_node_set_path gives the keys it creates the value's mark; a swept key that the config
 * does not have is better reported at the key in the sweep section. */
static int fix_key_marks(bp_node *root, const char *path, const bp_mark *vm, const bp_mark *km,
                         bp_err *e)
{
    char seg[512];
    bp_node *cur = root;
    const char *p = path;
    while (cur && cur->kind == BP_NODE_MAP) {
        size_t n = strcspn(p, ".[");
        if (n == 0 || n >= sizeof seg)
            return 0;
        memcpy(seg, p, n);
        seg[n] = '\0';
        p += n;
        size_t i = 0;
        while (i < cur->n && strcmp(cur->keys[i], seg))
            i++;
        if (i == cur->n)
            return 0;
        if (same_mark(&cur->key_marks[i], vm)) {
            bp_mark m;
            if (mark_copy(&m, km, e) < 0)
                return BP_ENOMEM;
            free(cur->key_marks[i].src);
            cur->key_marks[i] = m;
        }
        cur = cur->items[i];
        while (cur && *p == '[') {
            char *end;
            unsigned long long k = strtoull(p + 1, &end, 10);
            if (*end != ']' || cur->kind != BP_NODE_SEQ || k >= cur->n)
                return 0;
            cur = cur->items[k];
            p = end + 1;
        }
        if (*p != '.')
            return 0;
        p++;
    }
    return 0;
}

static int set_value(bp_node *root, const axis *a, const char *key, const bp_mark *m,
                     const char *origin, const bp_node *val, bp_err *e)
{
    char where[600];
    bp_node *c = bp_node_clone(val, e);
    if (!c)
        return BP_ENOMEM;
    bp_mark vm = { NULL, c->mark.line, c->mark.col };
    if (c->mark.src && !(vm.src = bp_xstrdup(c->mark.src, e))) {
        bp_node_free(c);
        return BP_ENOMEM;
    }
    int rc = bp_node_set_path(root, key, c, e);
    if (rc == 0 && m && m->src)
        rc = fix_key_marks(root, key, &vm, m, e);
    free(vm.src);
    if (rc < 0 && rc != BP_ENOMEM) {
        if (m && m->src)
            bp_err_prefix(e, "%s: %s", bp_mark_str(m, where, sizeof where), origin);
        else
            bp_err_prefix(e, "%s", a ? a->origin : origin);
    }
    return rc;
}

/* The seed every trial derives from: the config's seed as the config module reads it (an
 * invalid one is reported by trial 0's validation). */
static uint64_t base_seed(const bp_node *root)
{
    const bp_node *n = bp_node_get(root, "seed");
    long long x;
    if (!n || is_null(n) || parse_ll(n, &x) < 0 || x < 0)
        return 1;
    return (uint64_t)x;
}

static int build_trial(sctx *s, bp_sweep *sw, const bp_node *base, size_t p, unsigned r,
                       const size_t *idx, uint64_t seed, const char *text, char *const *sets,
                       size_t n_sets)
{
    bp_err *e = s->e;
    bp_trial_spec *t = &sw->trials[p * s->repeats + r];
    t->id = (unsigned)(p * s->repeats + r);
    t->point = (unsigned)p;
    t->repeat = r;
    t->seed = seed + r;
    if (s->n_ax && !(t->values = bp_xcalloc(s->n_ax, sizeof *t->values, e)))
        return BP_ENOMEM;
    bp_node *root = bp_node_clone(base, e);
    if (!root)
        return BP_ENOMEM;
    int rc = 0;
    size_t dz = s->n_grid, dv = dz + (s->zip_len > 0), dr = dv + (s->variants != NULL);
    /* values apply in table order: grid, zip, the variant's keys, random */
    for (size_t i = 0; i < s->n_ax && rc == 0; i++) {
        const axis *a = &s->ax[i];
        if (a->block == BLK_GRID || a->block == BLK_ZIP)
            rc = set_value(root, a, a->key, &a->mark, a->origin,
                           a->vals[idx[a->block == BLK_GRID ? i : dz]], e);
    }
    if (s->variants && rc == 0) {
        char origin[64];
        const bp_node *var = s->variants->items[idx[dv]];
        snprintf(origin, sizeof origin, "sweep.variants[%zu]", idx[dv]);
        for (size_t k = 0; k < var->n && rc == 0; k++)
            rc = set_value(root, NULL, var->keys[k], &var->key_marks[k], origin, var->items[k], e);
    }
    for (size_t i = 0; i < s->n_ax && rc == 0; i++)
        if (s->ax[i].block == BLK_RANDOM)
            rc = set_value(root, &s->ax[i], s->ax[i].key, &s->ax[i].mark, s->ax[i].origin,
                           s->ax[i].vals[idx[dr]], e);
    if (rc == 0 && r > 0) {
        char buf[32];
        snprintf(buf, sizeof buf, "%" PRIu64, t->seed);
        bp_node *sn = scalar_node(buf, s->repeats_mark, e);
        rc = sn ? bp_node_set_path(root, "seed", sn, e) : BP_ENOMEM;
    }
    if (rc < 0) {
        bp_node_free(root);
        return rc;
    }
    /* the table's values: what the trial got at each axis */
    for (size_t i = 0; i < s->n_ax; i++) {
        const axis *a = &s->ax[i];
        size_t j = a->block == BLK_GRID ? idx[i] : a->block == BLK_ZIP ? idx[dz] : idx[dr];
        if (a->block != BLK_VARIANTS) {
            t->values[i] = bp_xstrdup(a->texts[j], e);
        } else {
            const bp_node *n = node_at(root, a->key);
            t->values[i] = n ? flow_text(n, e) : bp_xstrdup("null", e);
        }
        if (!t->values[i]) {
            bp_node_free(root);
            return BP_ENOMEM;
        }
    }
    if (!(t->cfg = bp_config_from_node(root, s->path, e))) {
        if (s->n_ax && e && e->code != BP_ENOMEM) {
            char ctx[BP_ERR_MSG_MAX], key[BP_ERR_MSG_MAX];
            size_t o = (size_t)snprintf(ctx, sizeof ctx, " (in trial %u:", t->id);
            for (size_t i = 0; i < s->n_ax && o < sizeof ctx; i++)
                o += (size_t)snprintf(ctx + o, sizeof ctx - o, "%s %s=%s", i ? "," : "",
                                      bp_text_line(s->ax[i].key, key, sizeof key), t->values[i]);
            size_t m = strlen(e->msg);
            snprintf(e->msg + m, sizeof e->msg - m, "%s)", ctx);
        }
        return e ? e->code : BP_ECONFIG;
    }
    t->cfg->seed = t->seed;
    if (!(t->cfg->text = bp_xstrdup(text, e)))
        return BP_ENOMEM;
    if (n_sets) {
        if (!(t->cfg->overrides = bp_xcalloc(n_sets, sizeof *t->cfg->overrides, e)))
            return BP_ENOMEM;
        for (size_t i = 0; i < n_sets; i++, t->cfg->n_overrides++)
            if (!(t->cfg->overrides[i] = bp_xstrdup(sets[i], e)))
                return BP_ENOMEM;
    }
    char *dump = bp_config_dump_string(t->cfg);
    if (!dump)
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    char head[96];
    int hl = snprintf(head, sizeof head, "trial %u point %u repeat %u seed %" PRIu64 "\n", t->id,
                      t->point, t->repeat, t->seed);
    uint64_t h = fnv(fnv(0xcbf29ce484222325ULL, head, (size_t)hl), dump, strlen(dump));
    free(dump);
    snprintf(t->hash, sizeof t->hash, "%016" PRIx64, h);
    return 0;
}

static void sctx_clear(sctx *s)
{
    bp_search_free(s->search);
    bp_pbt_clear(&s->pbt);
    free(s->hv.rungs);
    for (size_t i = 0; i < s->n_ax; i++)
        axis_clear(&s->ax[i]);
    free(s->ax);
}

/* ---- sweep.search ---- */

/* sweep.search is the only block; its top-level parameters become the axes */
static int search_setup(sctx *s)
{
    const char *other = s->n_ax ? s->ax[0].origin : s->variants ? "sweep.variants"
                      : s->zip_len ? "sweep.zip" : s->repeats_mark ? "sweep.repeats"
                      : s->race.active ? "sweep.race" : s->halving ? "sweep.halving"
                      : s->hb.active ? "sweep.hyperband" : s->pbt.population ? "sweep.pbt" : NULL;
    if (other)
        return bp_config_err(s->e, BP_ECONFIG, s->search_km, "sweep.search", "cannot be combined with "
                    "other sweep blocks or --sweep (got %s)", other);
    const bp_space *sp = s->search->space;
    char disp[KEY_MAX], t[256];
    for (size_t i = 0; i < sp->n; i++) {
        if (sp->p[i].parent >= 0)
            continue;
        snprintf(disp, sizeof disp, "sweep.search.params.%s", bp_text_show(sp->p[i].name, t, sizeof t));
        char seg[64];
        if (!strcmp(first_segment(sp->p[i].name, seg, sizeof seg), "seed"))
            return bp_config_err(s->e, BP_ECONFIG, &sp->p[i].key_mark, disp, "the seed cannot be searched "
                        "(every trial of a search uses the experiment seed; search again with "
                        "--set seed=N)");
        if (!axis_add(s, s->n_ax, sp->p[i].name, BLK_RANDOM, &sp->p[i].key_mark,
                      "sweep.search.params", disp))
            return s->e->code;
    }
    s->n_random = s->search->trials;
    return 0;
}

/* The axes' values of trial k from its point */
static int search_fill(sctx *s, size_t k)
{
    const bp_search *se = s->search;
    const double *x = &se->x[k * se->space->n];
    size_t a = 0;
    for (size_t i = 0; i < se->space->n; i++) {
        if (se->space->p[i].parent >= 0)
            continue;
        axis *ax = &s->ax[a++];
        bp_node_free(ax->vals[k]);
        free(ax->texts[k]);
        ax->texts[k] = NULL;
        if (!(ax->vals[k] = bp_space_value(se->space, x, i, s->e)))
            return BP_ENOMEM;
        if (!(ax->texts[k] = flow_text(ax->vals[k], s->e)))
            return BP_ENOMEM;
    }
    return 0;
}

static int search_samples(sctx *s, uint64_t seed)
{
    int rc = bp_search_init(s->search, seed, s->e);
    for (size_t i = 0; i < s->n_ax && !rc; i++) {
        axis *a = &s->ax[i];
        if (!(a->vals = bp_xcalloc(s->n_random, sizeof *a->vals, s->e)) ||
            !(a->texts = bp_xcalloc(s->n_random, sizeof *a->texts, s->e)))
            return BP_ENOMEM;
        a->n = s->n_random;
    }
    for (size_t k = 0; k < s->n_random && !rc; k++)
        rc = search_fill(s, k);
    return rc;
}

int bp_sweep_set_point(bp_sweep *sw, size_t id, bp_err *e)
{
    struct bp_sweep_keep *k = sw->keep;
    if (!k || id >= sw->n_trials)
        return bp_err_set(e, BP_EUSAGE, "trial %zu: not a trial of a sweep.search", id);
    k->s.e = e;
    int rc = search_fill(&k->s, id);
    if (rc)
        return rc;
    bp_trial_spec *t = &sw->trials[id];
    for (size_t i = 0; t->values && i < sw->n_axes; i++)
        free(t->values[i]);
    free(t->values);
    bp_config_free(t->cfg);
    memset(t, 0, sizeof *t);
    size_t idx[1] = { id };
    rc = build_trial(&k->s, sw, k->root, id, 0, idx, k->seed, k->text, k->sets, k->n_sets);
    if (rc && sw->n_axes) { /* the index still gets a row of values for the trial */
        if (!t->values && !(t->values = calloc(sw->n_axes, sizeof *t->values)))
            return rc;
        for (size_t i = 0; i < sw->n_axes; i++)
            if (!t->values[i] && !(t->values[i] = strdup("(invalid)")))
                return rc;
    }
    return rc;
}

static void keep_free(struct bp_sweep_keep *k)
{
    if (!k)
        return;
    k->s.search = NULL; /* the sweep's */
    sctx_clear(&k->s);
    bp_node_free(k->root);
    bp_node_free(k->sweep_node);
    free(k->text);
    free(k->path);
    for (size_t i = 0; i < k->n_sets; i++)
        free(k->sets[i]);
    free(k->sets);
    free(k);
}

/* bp_sweep_load on text (len bytes and a NUL; owned: freed here). e is not NULL. */
static bp_sweep *load(const char *path, char *text, size_t len, char *const *sets, size_t n_sets,
                      char *const *sweeps, size_t n_sweeps, bp_err *e)
{
    sctx s = { .path = path, .e = e, .repeats = 1 };
    bp_sweep *sw = NULL;
    bp_node *sweep_node = NULL;
    size_t *radix = NULL, *idx = NULL;
    bp_node *root = bp_yaml_parse_string(text, len, path, e);
    if (!root)
        goto fail;
    for (size_t i = 0; i < n_sets; i++)
        if (bp_node_apply_override(root, sets[i], e) < 0)
            goto fail;
    if (root->kind == BP_NODE_MAP) {
        for (size_t i = 0; i < root->n; i++) {
            if (strcmp(root->keys[i], "sweep"))
                continue;
            sweep_node = root->items[i];
            s.sweep_mark = root->key_marks[i];
            root->key_marks[i].src = NULL; /* s.sweep_mark owns it now */
            free(root->keys[i]);
            memmove(&root->keys[i], &root->keys[i + 1], (root->n - i - 1) * sizeof *root->keys);
            memmove(&root->key_marks[i], &root->key_marks[i + 1],
                    (root->n - i - 1) * sizeof *root->key_marks);
            memmove(&root->items[i], &root->items[i + 1], (root->n - i - 1) * sizeof *root->items);
            root->n--;
            break;
        }
    }
    if (sweep_node && !is_null(sweep_node) && parse_sweep(&s, sweep_node) < 0)
        goto fail;
    if (s.race.active && s.repeats_mark) {
        bp_config_err(e, BP_ECONFIG, s.repeats_mark, "sweep.repeats", "sweep.race sets the repeats "
             "(max_repeats): remove sweep.repeats");
        goto fail;
    }
    if (s.race.active && s.halving) {
        bp_config_err(e, BP_ECONFIG, s.race_km, "sweep.race", "cannot be used with sweep.halving");
        goto fail;
    }
    if (s.hb.active && (s.halving || s.race.active)) {
        bp_config_err(e, BP_ECONFIG, s.hb_km, "sweep.hyperband", "cannot be used with sweep.%s",
             s.halving ? "halving" : "race");
        goto fail;
    }
    if (s.race.active) {
        s.repeats = s.race.max_repeats;
        s.repeats_mark = s.race_km;
    }
    for (size_t i = 0; i < n_sweeps; i++)
        if (parse_sweep_arg(&s, sweeps[i]) < 0)
            goto fail;
    if (s.search && search_setup(&s) < 0)
        goto fail;

    /* dimensions: each grid axis, then zip rows, variants, random samples */
    size_t n_dims = s.n_grid + (s.zip_len > 0) + (s.variants != NULL) + (s.n_random > 0), d = 0;
    if (!(radix = bp_xcalloc(n_dims + 1, sizeof *radix, e)) ||
        !(idx = bp_xcalloc(n_dims + 1, sizeof *idx, e)))
        goto fail;
    for (size_t i = 0; i < s.n_grid; i++)
        radix[d++] = s.ax[i].n;
    if (s.zip_len)
        radix[d++] = s.zip_len;
    if (s.variants)
        radix[d++] = s.variants->n;
    if (s.n_random)
        radix[d++] = s.n_random;
    uint64_t points = 1;
    for (d = 0; d < n_dims; d++)
        points = points > BP_SWEEP_MAX_TRIALS ? points : points * radix[d];
    uint64_t n_trials = points * s.repeats;
    if (points > BP_SWEEP_MAX_TRIALS || n_trials > BP_SWEEP_MAX_TRIALS) {
        bp_config_err(e, sweep_node ? BP_ECONFIG : BP_EUSAGE, sweep_node ? &s.sweep_mark : NULL,
             sweep_node ? "sweep" : "--sweep", "expands to more than %u trials", BP_SWEEP_MAX_TRIALS);
        goto fail;
    }
    uint64_t per_trial = 2 * (uint64_t)len + 256 * count_nodes(root) + 8192;
    if (n_trials * per_trial > MEM_LIMIT) {
        bp_config_err(e, BP_ECONFIG, sweep_node ? &s.sweep_mark : NULL, sweep_node ? "sweep" : "--sweep",
             "%" PRIu64 " trials of this config would take about %" PRIu64 " MiB of memory (the "
             "limit is %" PRIu64 " MiB)", n_trials, n_trials * per_trial >> 20, MEM_LIMIT >> 20);
        goto fail;
    }
    uint64_t seed = base_seed(root);
    if (s.search ? search_samples(&s, seed) < 0 : s.n_random && draw_samples(&s, seed) < 0)
        goto fail;

    if (!(sw = bp_xcalloc(1, sizeof *sw, e)))
        goto fail;
    sw->repeats = s.repeats;
    sw->n_points = (size_t)points;
    if (!(sw->trials = bp_xcalloc((size_t)n_trials, sizeof *sw->trials, e)))
        goto fail;
    sw->n_trials = (size_t)n_trials;
    if (s.n_ax && !(sw->axes = bp_xcalloc(s.n_ax, sizeof *sw->axes, e)))
        goto fail;
    for (; sw->n_axes < s.n_ax; sw->n_axes++)
        if (!(sw->axes[sw->n_axes] = bp_xstrdup(s.ax[sw->n_axes].key, e)))
            goto fail;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t p = 0; p < sw->n_points; p++) {
        size_t q = p;
        for (size_t k = n_dims; k-- > 0;) {
            idx[k] = q % radix[k];
            q /= radix[k];
        }
        /* grid axes index idx[i] directly; the others read idx at their block's dimension */
        for (unsigned r = 0; r < s.repeats; r++) {
            if (build_trial(&s, sw, root, p, r, idx, seed, text, sets, n_sets) < 0)
                goto fail;
            h = fnv(h, sw->trials[p * s.repeats + r].hash, 16);
        }
    }
    if (s.race.active) {
        if (check_race(&s, sw) < 0)
            goto fail;
        char spec[160];
        int sl = snprintf(spec, sizeof spec, "race metric %d min %u max %u step %u alpha %.17g",
                          s.race.metric, s.race.min_repeats, s.race.max_repeats, s.race.step,
                          s.race.alpha);
        h = fnv(h, spec, (size_t)sl);
        sw->race = s.race;
    }
    if (s.halving) {
        if (check_halving(&s, sw) < 0)
            goto fail;
        char spec[64];
        int sl = snprintf(spec, sizeof spec, "halving eta %.17g metric %d rungs", s.hv.eta,
                          s.hv.val);
        h = fnv(h, spec, (size_t)sl);
        h = fnv(h, s.hv.rungs, s.hv.n_rungs * sizeof *s.hv.rungs);
        sw->halving = s.hv;
        s.hv.rungs = NULL;
    }
    if (s.hb.active) {
        if (check_hyperband(&s, sw) < 0)
            goto fail;
        char spec[96];
        int sl = snprintf(spec, sizeof spec, "hyperband R %d eta %d metric %d", s.hb.max_epochs,
                          s.hb.eta, s.hb.val);
        h = fnv(h, spec, (size_t)sl);
        sw->hyperband = s.hb;
    }
    if (s.pbt.population) {
        if (bp_pbt_check(&s.pbt, sw->trials[0].cfg, s.pbt_km, e) < 0)
            goto fail;
        char spec[4096];
        int sl = bp_pbt_spec(&s.pbt, spec, sizeof spec);
        h = fnv(h, spec, (size_t)sl);
        sw->pbt = s.pbt;
        memset(&s.pbt, 0, sizeof s.pbt);
        for (size_t i = 0; i < sw->pbt.n_params; i++)
            sw->pbt.params[i].key_mark = NULL, sw->pbt.params[i].spec = NULL; /* the tree goes */
    }
    for (size_t k = 0; s.search && k < sw->n_trials; k++) {
        /* a trial TPE decides later was validated with a prior draw: its values say so */
        if (s.search->decided[k])
            continue;
        for (size_t i = 0; i < sw->n_axes; i++) {
            free(sw->trials[k].values[i]);
            if (!(sw->trials[k].values[i] = bp_xstrdup("(tpe)", e)))
                goto fail;
        }
    }
    if (s.search) {
        char spec[160];
        int sl = bp_search_spec(s.search, spec, sizeof spec);
        h = fnv(h, spec, (size_t)sl);
        char *params = flow_text(s.search->space->tree, e);
        if (!params)
            goto fail;
        h = fnv(h, params, strlen(params));
        free(params);
        struct bp_sweep_keep *k = bp_xcalloc(1, sizeof *k, e);
        if (!k || (n_sets && !(k->sets = bp_xcalloc(n_sets, sizeof *k->sets, e))) ||
            !(k->path = bp_xstrdup(path, e))) {
            if (k)
                free(k->sets);
            free(k);
            goto fail;
        }
        for (; k->n_sets < n_sets; k->n_sets++)
            if (!(k->sets[k->n_sets] = bp_xstrdup(sets[k->n_sets], e))) {
                keep_free(k);
                goto fail;
            }
        /* the sweep takes the search, the axes, the trees and the text */
        k->s = s;
        k->s.path = k->path;
        k->s.sweep_mark.src = NULL;
        k->s.hv.rungs = NULL;
        k->root = root;
        k->sweep_node = sweep_node;
        k->text = text;
        k->seed = seed;
        sw->keep = k;
        sw->search = s.search;
        memset(&s.ax, 0, sizeof s.ax);
        s.n_ax = 0;
        s.search = NULL;
        root = sweep_node = NULL;
        text = NULL;
    }
    snprintf(sw->hash, sizeof sw->hash, "%016" PRIx64, h);
    free(radix);
    free(idx);
    free(s.sweep_mark.src);
    sctx_clear(&s);
    bp_node_free(sweep_node);
    bp_node_free(root);
    free(text);
    return sw;
fail:
    bp_sweep_free(sw);
    free(radix);
    free(idx);
    free(s.sweep_mark.src);
    sctx_clear(&s);
    bp_node_free(sweep_node);
    bp_node_free(root);
    free(text);
    return NULL;
}

bp_sweep *bp_sweep_load(const char *path, char *const *sets, size_t n_sets, char *const *sweeps,
                        size_t n_sweeps, bp_err *e)
{
    size_t len;
    bp_err local;
    if (!e)
        e = &local;
    char *text = bp_config_read_file(path, &len, e);
    return text ? load(path, text, len, sets, n_sets, sweeps, n_sweeps, e) : NULL;
}

bp_sweep *bp_sweep_load_text(const char *path, const char *text, size_t len, char *const *sets,
                             size_t n_sets, char *const *sweeps, size_t n_sweeps, bp_err *e)
{
    bp_err local;
    if (!e)
        e = &local;
    char *copy = bp_xcalloc(len + 1, 1, e);
    if (!copy)
        return NULL;
    if (len)
        memcpy(copy, text, len);
    return load(path, copy, len, sets, n_sets, sweeps, n_sweeps, e);
}

void bp_sweep_free(bp_sweep *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_axes; i++)
        free(s->axes[i]);
    free(s->axes);
    free(s->halving.rungs);
    keep_free(s->keep);
    bp_search_free(s->search);
    bp_pbt_clear(&s->pbt);
    for (size_t t = 0; s->trials && t < s->n_trials; t++) {
        for (size_t i = 0; s->trials[t].values && i < s->n_axes; i++)
            free(s->trials[t].values[i]);
        free(s->trials[t].values);
        bp_config_free(s->trials[t].cfg);
    }
    free(s->trials);
    free(s);
}

void bp_sweep_print(FILE *f, const bp_sweep *s)
{
    static const char *const head[] = { "trial", "point", "repeat", "seed" };
    size_t nc = 4 + s->n_axes;
    size_t *w = calloc(nc, sizeof *w);
    if (!w)
        return;
    char num[4][32];
    for (size_t c = 0; c < nc; c++)
        w[c] = strlen(c < 4 ? head[c] : s->axes[c - 4]);
    for (size_t t = 0; t < s->n_trials; t++) {
        const bp_trial_spec *x = &s->trials[t];
        size_t l[4] = { (size_t)snprintf(num[0], 32, "%u", x->id),
                        (size_t)snprintf(num[1], 32, "%u", x->point),
                        (size_t)snprintf(num[2], 32, "%u", x->repeat),
                        (size_t)snprintf(num[3], 32, "%" PRIu64, x->seed) };
        for (size_t c = 0; c < nc; c++) {
            size_t len = c < 4 ? l[c] : strlen(x->values[c - 4]);
            if (len > w[c])
                w[c] = len;
        }
    }
    for (size_t t = 0; t <= s->n_trials; t++) { /* t == 0: the header */
        const bp_trial_spec *x = t ? &s->trials[t - 1] : NULL;
        if (x) {
            snprintf(num[0], 32, "%u", x->id);
            snprintf(num[1], 32, "%u", x->point);
            snprintf(num[2], 32, "%u", x->repeat);
            snprintf(num[3], 32, "%" PRIu64, x->seed);
        }
        for (size_t c = 0; c < nc; c++) {
            const char *v = c < 4 ? (x ? num[c] : head[c]) : x ? x->values[c - 4] : s->axes[c - 4];
            int last = c + 1 == nc;
            if (c < 4) /* numbers right-aligned, values left-aligned */
                fprintf(f, "%*s%s", (int)w[c], v, last ? "\n" : "  ");
            else if (last)
                fprintf(f, "%s\n", v);
            else
                fprintf(f, "%-*s  ", (int)w[c], v);
        }
    }
    free(w);
}
