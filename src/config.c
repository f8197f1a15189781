/* Schema validation (node tree -> bp_config), config loading with overrides, canonical dump.
 * One validator function per key, listed in per-section tables (schema order = dump order). */
#include "autoconf.h"
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KEY_MAX 512

typedef struct vctx {
    bp_config *c;
    bp_err *e;
    const char *path;        /* the config file: values read from it resolve against dir */
    char *dir;               /* path's folder with a trailing '/', or "" */
    const bp_node *output;   /* model.output as given (validated after model.loss) */
    const bp_node *schedule; /* train.schedule as given (cross-checked after train) */
    const bp_node *early;    /* train.early_stopping as given (cross-checked after train) */
    const bp_node *phases;   /* train.phases as given (merged and checked after train) */
} vctx;

const char *const bp_es_metric_names[BP_ES_COUNT] = { "val_loss", "loss", "val_accuracy",
                                                      "accuracy" };
const char *const bp_reduction_names[BP_REDUCTION_COUNT] = { "mean", "sum" };

/* ---- messages ---- */

__attribute__((format(printf, 4, 5)))
static int verr(const vctx *v, const bp_mark *m, const char *key, const char *fmt, ...)
{
    char where[600], msg[BP_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    bp_mark_str(m, where, sizeof where);
    if (key && *key)
        return bp_err_set(v->e, BP_ECONFIG, "%s: %s: %s", where, key, msg);
    return bp_err_set(v->e, BP_ECONFIG, "%s: %s", where, msg);
}

static const char *text_escaped(const char *s, size_t cut, char *buf, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; s[i] && o + 8 < size; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (i == cut) {
            snprintf(buf + o, size - o, "...");
            return buf;
        }
        if (ch < 0x20 || ch == 0x7f)
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", ch);
        else
            buf[o++] = (char)ch;
    }
    buf[o] = '\0';
    return buf;
}

const char *bp_text_show(const char *s, char *buf, size_t size)
{
    return text_escaped(s, 60, buf, size);
}

const char *bp_text_line(const char *s, char *buf, size_t size)
{
    return text_escaped(s, SIZE_MAX, buf, size);
}

/* "got" text for a node: 'text', quoted string 'text', a map, a sequence. */
static const char *got(const bp_node *n, char *buf, size_t size)
{
    char t[256];
    if (n->kind == BP_NODE_MAP)
        return "a map";
    if (n->kind == BP_NODE_SEQ)
        return "a sequence";
    snprintf(buf, size, "%s'%s'", n->quoted ? "quoted string " : "", bp_text_show(n->value, t, sizeof t));
    return buf;
}

const char *bp_node_got(const bp_node *n, char *buf, size_t size)
{
    if (n->kind == BP_NODE_MAP)
        return n->n ? "a map" : "{}";
    if (n->kind == BP_NODE_SEQ)
        return n->n ? "a sequence" : "[]";
    return got(n, buf, size);
}

int bp_config_err(bp_err *e, int code, const bp_mark *m, const char *key, const char *fmt, ...)
{
    char where[600], msg[BP_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (m && m->src)
        return bp_err_set(e, code, "%s: %s: %s", bp_mark_str(m, where, sizeof where), key, msg);
    return bp_err_set(e, code, "%s: %s", key, msg);
}

static const char *join(const char *const *names, size_t n, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && o < size; i++) {
        int w = snprintf(buf + o, size - o, "%s%s", i ? ", " : "", names[i]);
        if (w < 0)
            break;
        o += (size_t)w;
    }
    return buf;
}

static const char *sub_key(const char *path, const char *key, char *buf, size_t size)
{
    char t[256];
    snprintf(buf, size, "%s%s%s", path, *path ? "." : "", bp_text_show(key, t, sizeof t));
    return buf;
}

/* ---- typed getters: every value check goes through these, so messages read the same ---- */

static int is_null(const bp_node *n)
{
    if (n->kind != BP_NODE_SCALAR || n->quoted)
        return 0;
    const char *s = n->value;
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int want_scalar(const vctx *v, const bp_node *n, const char *key, const char *what)
{
    char g[300];
    if (n->kind != BP_NODE_SCALAR)
        return verr(v, &n->mark, key, "expected %s (got %s)", what, got(n, g, sizeof g));
    if (is_null(n))
        return verr(v, &n->mark, key, "missing value (expected %s)", what);
    return 0;
}

int bp_text_is_int(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* [-+]? (digits [. digits*] | . digits) ([eE] [-+]? digits)? */
int bp_text_is_decimal(const char *s)
{
    int digits = 0;
    if (*s == '-' || *s == '+')
        s++;
    for (; *s >= '0' && *s <= '9'; s++)
        digits++;
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++)
            digits++;
    if (!digits)
        return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+')
            s++;
        if (*s < '0' || *s > '9')
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return !*s;
}

static int is_nonfinite_text(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    if (*s == '.')
        s++;
    return !strcasecmp(s, "nan") || !strcasecmp(s, "inf") || !strcasecmp(s, "infinity");
}

static int get_int(const vctx *v, const bp_node *n, const char *key, const char *what,
                   long long lo, long long hi, long long *out)
{
    char g[300], t[256];
    int rc = want_scalar(v, n, key, what);
    if (rc < 0)
        return rc;
    const char *s = n->value;
    if (n->quoted)
        return verr(v, &n->mark, key, "expected %s (got %s)", what, got(n, g, sizeof g));
    long long val;
    if (bp_text_is_int(s)) {
        errno = 0;
        val = strtoll(s, NULL, 10);
        if (errno == ERANGE)
            return *s == '-' ? verr(v, &n->mark, key, "must be >= %lld (got %s)", lo, bp_text_show(s, t, sizeof t))
                             : verr(v, &n->mark, key, "must be <= %lld (got %s)", hi, bp_text_show(s, t, sizeof t));
    } else if (bp_text_is_decimal(s)) {
        double d = strtod(s, NULL);
        if (!isfinite(d) || d != floor(d))
            return verr(v, &n->mark, key, "expected %s (got %s)", what, got(n, g, sizeof g));
        val = d < (double)lo ? LLONG_MIN : d > (double)hi ? LLONG_MAX : (long long)d;
    } else {
        return verr(v, &n->mark, key, "expected %s (got %s)", what, got(n, g, sizeof g));
    }
    if (val < lo)
        return verr(v, &n->mark, key, "must be >= %lld (got %s)", lo, bp_text_show(s, t, sizeof t));
    if (val > hi)
        return verr(v, &n->mark, key, "must be <= %lld (got %s)", hi, bp_text_show(s, t, sizeof t));
    *out = val;
    return 0;
}

static int get_num(const vctx *v, const bp_node *n, const char *key, const char *what,
                   double *out)
{
    char g[300];
    int rc = want_scalar(v, n, key, what);
    if (rc < 0)
        return rc;
    if (n->quoted)
        return verr(v, &n->mark, key, "expected %s (got %s)", what, got(n, g, sizeof g));
    double d = bp_text_is_decimal(n->value) ? strtod(n->value, NULL) : NAN;
    if (is_nonfinite_text(n->value) || (bp_text_is_decimal(n->value) && !isfinite(d)))
        return verr(v, &n->mark, key, "must be a finite number (got %s)", got(n, g, sizeof g));
    if (!bp_text_is_decimal(n->value))
        return verr(v, &n->mark, key, "expected %s (got %s)", what, got(n, g, sizeof g));
    *out = d;
    return 0;
}

/* 1 true, 0 false, -1 a YAML 1.1 boolean word (hint), -2 anything else. */
static int bool_word(const char *s)
{
    static const char *const t[] = { "true", "True", "TRUE" }, *const f[] = { "false", "False", "FALSE" };
    for (size_t i = 0; i < 3; i++) {
        if (!strcmp(s, t[i]))
            return 1;
        if (!strcmp(s, f[i]))
            return 0;
    }
    if (!strcasecmp(s, "yes") || !strcasecmp(s, "y") || !strcasecmp(s, "on"))
        return -1;
    if (!strcasecmp(s, "no") || !strcasecmp(s, "n") || !strcasecmp(s, "off"))
        return -2;
    return -3;
}

static int bool_hint(const vctx *v, const bp_node *n, const char *key, const char *what, int w)
{
    char t[256];
    return verr(v, &n->mark, key, "expected %s (got '%s'; write %s)", what,
                bp_text_show(n->value, t, sizeof t), w == -1 ? "true" : "false");
}

static int get_bool(const vctx *v, const bp_node *n, const char *key, int *out)
{
    char g[300];
    const char *what = "true or false";
    int rc = want_scalar(v, n, key, what);
    if (rc < 0)
        return rc;
    int w = n->quoted ? -3 : bool_word(n->value);
    if (w == -1 || w == -2)
        return bool_hint(v, n, key, what, w);
    if (w < 0)
        return verr(v, &n->mark, key, "expected %s (got %s)", what, got(n, g, sizeof g));
    *out = w;
    return 0;
}

static int get_str(const vctx *v, const bp_node *n, const char *key, const char *what,
                   const char **out)
{
    int rc = want_scalar(v, n, key, what);
    if (rc < 0)
        return rc;
    if (!n->value[0])
        return verr(v, &n->mark, key, "must not be empty (expected %s)", what);
    *out = n->value;
    return 0;
}

static int get_enum(const vctx *v, const bp_node *n, const char *key, const char *const *names,
                    size_t count, int *out)
{
    char list[512], t[256];
    const char *s = NULL;
    int rc = get_str(v, n, key, "a name", &s);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < count; i++)
        if (!strcmp(s, names[i])) {
            *out = (int)i;
            return 0;
        }
    const char *best = bp_suggest(s, names, count);
    if (best)
        return verr(v, &n->mark, key, "unknown value '%s' (did you mean '%s'?)",
                    bp_text_show(s, t, sizeof t), best);
    return verr(v, &n->mark, key, "unknown value '%s' (valid values: %s)", bp_text_show(s, t, sizeof t),
                join(names, count, list, sizeof list));
}

/* ---- marks, strings, paths ---- */

static int mark_copy(bp_mark *dst, const bp_mark *src, bp_err *e)
{
    dst->src = NULL;
    dst->line = src ? src->line : 0;
    dst->col = src ? src->col : 0;
    if (src && src->src && !(dst->src = bp_xstrdup(src->src, e)))
        return BP_ENOMEM;
    return 0;
}

static int set_str(char **dst, const char *s, bp_err *e)
{
    char *p = bp_xstrdup(s, e);
    if (!p)
        return BP_ENOMEM;
    free(*dst);
    *dst = p;
    return 0;
}

/* A path read from the config file is relative to the file's folder; from --set (or any
 * other source), to the working directory. */
static int resolve(const vctx *v, const bp_node *n, const char *s, char **out)
{
    if (s[0] == '/' || !v->path || !*v->dir || !n->mark.src || strcmp(n->mark.src, v->path))
        return set_str(out, s, v->e);
    size_t a = strlen(v->dir), b = strlen(s);
    char *p = malloc(a + b + 1);
    if (!p)
        return bp_err_set(v->e, BP_ENOMEM, "out of memory");
    memcpy(p, v->dir, a);
    memcpy(p + a, s, b + 1);
    free(*out);
    *out = p;
    return 0;
}

static int is_path_name(const char *s)
{
    size_t n = strlen(s);
    return strchr(s, '/') || (n >= 3 && !strcmp(s + n - 3, ".so"));
}

/* ---- maps against a key table ---- */

typedef int (*key_fn)(vctx *v, const bp_node *val, const char *key, const bp_mark *key_mark);

typedef struct vkey {
    const char *name;
    int required;
    const char *what;  /* for "missing value (expected ...)" */
    key_fn fn;
} vkey;

#define N_OF(a) (sizeof(a) / sizeof *(a))

static size_t find_key(const bp_node *map, const char *key)
{
    for (size_t i = 0; i < map->n; i++)
        if (!strcmp(map->keys[i], key))
            return i;
    return (size_t)-1;
}

/* Unknown keys first (a typo beats "missing"), then missing required keys (reported at where),
 * then every present value in table order. Null values of optional keys leave the default. */
static int check_map(vctx *v, const bp_node *map, const char *path, const bp_mark *where,
                     const vkey *keys, size_t nkeys)
{
    char key[KEY_MAX], list[512], g[300];
    const char *names[64];
    if (map->kind != BP_NODE_MAP)
        return verr(v, &map->mark, path, "expected a map (got %s)", got(map, g, sizeof g));
    for (size_t k = 0; k < nkeys && k < N_OF(names); k++)
        names[k] = keys[k].name;
    for (size_t i = 0; i < map->n; i++) {
        size_t k = 0;
        while (k < nkeys && strcmp(keys[k].name, map->keys[i]))
            k++;
        if (k < nkeys)
            continue;
        const char *best = bp_suggest(map->keys[i], names, nkeys);
        sub_key(path, map->keys[i], key, sizeof key);
        if (best)
            return verr(v, &map->key_marks[i], key, "unknown key (did you mean '%s'?)", best);
        return verr(v, &map->key_marks[i], key, "unknown key (valid keys: %s)",
                    join(names, nkeys, list, sizeof list));
    }
    for (size_t k = 0; k < nkeys; k++)
        if (keys[k].required && find_key(map, keys[k].name) == (size_t)-1)
            return verr(v, where, path, "missing required key '%s'", keys[k].name);
    for (size_t k = 0; k < nkeys; k++) {
        size_t i = find_key(map, keys[k].name);
        if (i == (size_t)-1)
            continue;
        const bp_node *val = map->items[i];
        sub_key(path, keys[k].name, key, sizeof key);
        if (is_null(val)) {
            if (keys[k].required)
                return verr(v, &val->mark, key, "missing value (expected %s)", keys[k].what);
            continue;
        }
        int rc = keys[k].fn(v, val, key, &map->key_marks[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- plugin references ---- */

static void pluginref_clear(bp_pluginref *r)
{
    free(r->name);
    free(r->mark.src);
    free(r->key_path);
    for (size_t i = 0; i < r->n_hp; i++) {
        free(r->hp[i].name);
        free(r->hp[i].mark.src);
    }
    free(r->hp);
    memset(r, 0, sizeof *r);
}

static int pluginref_default(bp_pluginref *r, const char *name, const char *key_path, bp_err *e)
{
    memset(r, 0, sizeof *r);
    if (!(r->name = bp_xstrdup(name, e)) || !(r->key_path = bp_xstrdup(key_path, e))) {
        pluginref_clear(r);
        return BP_ENOMEM;
    }
    return 0;
}

static int pluginref_copy(bp_pluginref *dst, const bp_pluginref *src, bp_err *e)
{
    memset(dst, 0, sizeof *dst);
    if (!(dst->name = bp_xstrdup(src->name, e)) || !(dst->key_path = bp_xstrdup(src->key_path, e)) ||
        mark_copy(&dst->mark, &src->mark, e) < 0)
        goto fail;
    if (src->n_hp) {
        if (!(dst->hp = bp_xcalloc(src->n_hp, sizeof *dst->hp, e)))
            goto fail;
        for (size_t i = 0; i < src->n_hp; i++, dst->n_hp++) {
            dst->hp[i].value = src->hp[i].value;
            if (!(dst->hp[i].name = bp_xstrdup(src->hp[i].name, e)) ||
                mark_copy(&dst->hp[i].mark, &src->hp[i].mark, e) < 0) {
                dst->n_hp++;
                goto fail;
            }
        }
    }
    return 0;
fail:
    pluginref_clear(dst);
    return BP_ENOMEM;
}

static int get_hp(const vctx *v, const bp_node *n, const char *key, double *out)
{
    const char *what = "a number or true/false";
    if (n->kind == BP_NODE_SCALAR && !n->quoted && !is_null(n)) {
        int w = bool_word(n->value);
        if (w >= 0) {
            *out = w;
            return 0;
        }
        if (w == -1 || w == -2)
            return bool_hint(v, n, key, what, w);
    }
    return get_num(v, n, key, what, out);
}

/* "name" or {name: NAME, hp: value, ...}; a map without name means def. */
static int get_plugin(vctx *v, const bp_node *n, const char *key, const char *def,
                      bp_pluginref *out)
{
    char hkey[KEY_MAX], g[300];
    const char *what = "a plugin name or a map {name: NAME, ...}";
    const bp_node *name_node = NULL;
    int rc;
    memset(out, 0, sizeof *out);
    if (!(out->key_path = bp_xstrdup(key, v->e)))
        return BP_ENOMEM;
    if (n->kind == BP_NODE_SEQ) {
        rc = verr(v, &n->mark, key, "expected %s (got %s)", what, got(n, g, sizeof g));
        goto fail;
    }
    if (n->kind == BP_NODE_SCALAR) {
        name_node = n;
    } else {
        size_t n_hp = 0;
        for (size_t i = 0; i < n->n; i++)
            n_hp += strcmp(n->keys[i], "name") != 0;
        if (n_hp && !(out->hp = bp_xcalloc(n_hp, sizeof *out->hp, v->e))) {
            rc = BP_ENOMEM;
            goto fail;
        }
        for (size_t i = 0; i < n->n; i++) {
            if (!strcmp(n->keys[i], "name")) {
                name_node = n->items[i];
                continue;
            }
            bp_hpval *hp = &out->hp[out->n_hp];
            sub_key(key, n->keys[i], hkey, sizeof hkey);
            if ((rc = get_hp(v, n->items[i], hkey, &hp->value)) < 0)
                goto fail;
            out->n_hp++;
            if (!(hp->name = bp_xstrdup(n->keys[i], v->e)) ||
                mark_copy(&hp->mark, &n->items[i]->mark, v->e) < 0) {
                rc = BP_ENOMEM;
                goto fail;
            }
        }
    }
    if (name_node) {
        const char *s = NULL;
        const char *nkey = name_node == n ? key : sub_key(key, "name", hkey, sizeof hkey);
        if ((rc = get_str(v, name_node, nkey, "a plugin name", &s)) < 0)
            goto fail;
        if ((rc = is_path_name(s) ? resolve(v, name_node, s, &out->name)
                                  : set_str(&out->name, s, v->e)) < 0)
            goto fail;
        rc = mark_copy(&out->mark, &name_node->mark, v->e);
    } else {
        if ((rc = set_str(&out->name, def, v->e)) == 0)
            rc = mark_copy(&out->mark, &n->mark, v->e);
    }
    if (rc < 0)
        goto fail;
    return 0;
fail:
    pluginref_clear(out);
    return rc;
}

/* ---- data ---- */

static int get_dataref(vctx *v, const bp_node *n, const char *key, bp_dataref *out)
{
    char t[256];
    const char *s = NULL;
    int rc = get_str(v, n, key, "a dataset reference (FILE.h5#/GROUP or builtin:NAME)", &s);
    if (rc < 0)
        return rc;
    if (!strncmp(s, "builtin:", 8)) {
        if (!s[8])
            return verr(v, &n->mark, key, "expected builtin:NAME (got '%s')", bp_text_show(s, t, sizeof t));
        rc = set_str(&out->ref, s, v->e);
    } else {
        const char *hash = strchr(s, '#');
        if (hash == s)
            return verr(v, &n->mark, key, "missing the file name before '#' (got '%s')",
                        bp_text_show(s, t, sizeof t));
        if (hash && hash[1] != '/')
            return verr(v, &n->mark, key, "the group after '#' must start with '/' (got '%s')",
                        bp_text_show(s, t, sizeof t));
        rc = resolve(v, n, s, &out->ref);
    }
    if (rc < 0)
        return rc;
    free(out->mark.src);
    return mark_copy(&out->mark, &n->mark, v->e);
}

static int data_train(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return get_dataref(v, n, key, &v->c->data.train);
}

static int data_test(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return get_dataref(v, n, key, &v->c->data.test);
}

static int data_validation(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    char t[256];
    if (n->kind == BP_NODE_SCALAR && !n->quoted &&
        (bp_text_is_decimal(n->value) || is_nonfinite_text(n->value))) {
        double f;
        int rc = get_num(v, n, key, "a fraction in [0, 1) or a dataset reference", &f);
        if (rc < 0)
            return rc;
        if (f < 0 || f >= 1)
            return verr(v, &n->mark, key, "must be in [0, 1) (got %s)",
                        bp_text_show(n->value, t, sizeof t));
        v->c->data.val_fraction = f;
        free(v->c->data.validation.mark.src);
        return mark_copy(&v->c->data.validation.mark, &n->mark, v->e);
    }
    return get_dataref(v, n, key, &v->c->data.validation);
}

static int data_standardize(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return get_bool(v, n, key, &v->c->data.standardize);
}

static const vkey data_keys[] = {
    { "train", 1, "a dataset reference", data_train },
    { "validation", 0, "a fraction or a dataset reference", data_validation },
    { "test", 0, "a dataset reference", data_test },
    { "standardize", 0, "true or false", data_standardize },
};

static int sec_data(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return check_map(v, n, key, km, data_keys, N_OF(data_keys));
}

/* ---- model ---- */

static int model_layers(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    char g[300], ikey[KEY_MAX];
    bp_config *c = v->c;
    if (n->kind != BP_NODE_SEQ)
        return verr(v, &n->mark, key, "expected a sequence of layer sizes like [2, 3, 1] (got %s)",
                    got(n, g, sizeof g));
    if (n->n < 2 || n->n > 64)
        return verr(v, &n->mark, key, "expected 2 to 64 layer sizes: input, hidden..., output "
                    "(got %zu)", n->n);
    if (!(c->model.sizes = bp_xcalloc(n->n, sizeof *c->model.sizes, v->e)))
        return BP_ENOMEM;
    for (size_t i = 0; i < n->n; i++) {
        long long s;
        snprintf(ikey, sizeof ikey, "%s[%zu]", key, i);
        int rc = get_int(v, n->items[i], ikey, "an integer", 1, 1000000, &s);
        if (rc < 0)
            return rc;
        c->model.sizes[i] = (int)s;
    }
    c->model.n_sizes = n->n;
    return mark_copy(&c->model.sizes_mark, &n->mark, v->e);
}

static int no_hidden_softmax(vctx *v, const bp_pluginref *r)
{
    if (strcmp(r->name, "softmax"))
        return 0;
    return verr(v, &r->mark, r->key_path, "softmax is only available as the output activation "
                "(model.output)");
}

static int model_activation(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    char ikey[KEY_MAX];
    bp_config *c = v->c;
    size_t nh = c->model.n_sizes - 2;
    int rc;
    if (!(c->model.hidden = bp_xcalloc(nh, sizeof *c->model.hidden, v->e)))
        return BP_ENOMEM;
    if (n->kind == BP_NODE_SEQ) {
        if (n->n != nh)
            return verr(v, &n->mark, key, "expected %zu entr%s, one per hidden layer (got %zu)", nh,
                        nh == 1 ? "y" : "ies", n->n);
        for (size_t i = 0; i < nh; i++) {
            snprintf(ikey, sizeof ikey, "%s[%zu]", key, i);
            if (is_null(n->items[i]))
                return verr(v, &n->items[i]->mark, ikey, "missing value (expected a plugin name)");
            if ((rc = get_plugin(v, n->items[i], ikey, "sigmoid", &c->model.hidden[i])) < 0 ||
                (rc = no_hidden_softmax(v, &c->model.hidden[i])) < 0)
                return rc;
        }
        return 0;
    }
    bp_pluginref one;
    if ((rc = get_plugin(v, n, key, "sigmoid", &one)) < 0)
        return rc;
    rc = no_hidden_softmax(v, &one);
    for (size_t i = 0; i < nh && rc == 0; i++)
        rc = pluginref_copy(&c->model.hidden[i], &one, v->e);
    pluginref_clear(&one);
    return rc;
}

static int model_output(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    v->output = n; /* needs model.loss for its default: checked in model_finish */
    return 0;
}

static int model_loss(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    int l;
    int rc = get_enum(v, n, key, bp_loss_names, BP_LOSS_COUNT, &l);
    if (rc < 0)
        return rc;
    v->c->model.loss = (bp_loss)l;
    return mark_copy(&v->c->model.loss_mark, &n->mark, v->e);
}

static int get_scheme(vctx *v, const bp_node *n, const char *key)
{
    int s, rc;
    if (n->kind == BP_NODE_SCALAR && !strcmp(n->value, "from"))
        return verr(v, &n->mark, key, "'from' needs a file: write {from: PATH}");
    if ((rc = get_enum(v, n, key, bp_init_names, BP_INIT_FROM, &s)) < 0)
        return rc;
    v->c->model.init.scheme = (bp_init_scheme)s;
    return 0;
}

static int init_scheme(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return get_scheme(v, n, key);
}

static int init_positive(vctx *v, const bp_node *n, const char *key, double *out)
{
    char t[256];
    int rc = get_num(v, n, key, "a number", out);
    if (rc == 0 && !(*out > 0))
        rc = verr(v, &n->mark, key, "must be > 0 (got %s)", bp_text_show(n->value, t, sizeof t));
    return rc;
}

static int init_range(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return init_positive(v, n, key, &v->c->model.init.range);
}

static int init_gain(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return init_positive(v, n, key, &v->c->model.init.gain);
}

static int init_from(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    const char *s = NULL;
    int rc = get_str(v, n, key, "a trial or model file", &s);
    if (rc == 0)
        rc = resolve(v, n, s, &v->c->model.init.from);
    if (rc == 0)
        v->c->model.init.scheme = BP_INIT_FROM;
    return rc;
}

static const vkey init_keys[] = {
    { "scheme", 0, "a scheme name", init_scheme },
    { "range", 0, "a number", init_range },
    { "gain", 0, "a number", init_gain },
    { "from", 0, "a file", init_from },
};

static int model_init(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    char g[300], sub[KEY_MAX];
    int rc;
    if (n->kind == BP_NODE_SEQ)
        return verr(v, &n->mark, key, "expected a scheme name or a map {scheme: NAME, ...} "
                    "(got %s)", got(n, g, sizeof g));
    if ((rc = mark_copy(&v->c->model.init.mark, &n->mark, v->e)) < 0)
        return rc;
    if (n->kind == BP_NODE_SCALAR)
        return get_scheme(v, n, key);
    if ((rc = check_map(v, n, key, km, init_keys, N_OF(init_keys))) < 0)
        return rc;
    size_t from = find_key(n, "from");
    int scheme = v->c->model.init.scheme;
    for (size_t i = 0; i < n->n; i++) {
        if (is_null(n->items[i]))
            continue;
        sub_key(key, n->keys[i], sub, sizeof sub);
        if (from != (size_t)-1 && i != from && !is_null(n->items[from]))
            return verr(v, &n->key_marks[i], sub, "not allowed together with 'from'");
        if (!strcmp(n->keys[i], "range") && scheme != BP_INIT_UNIFORM)
            return verr(v, &n->key_marks[i], sub, "only applies to scheme uniform (got scheme "
                        "'%s')", bp_init_names[scheme]);
        if (!strcmp(n->keys[i], "gain") && scheme == BP_INIT_UNIFORM)
            return verr(v, &n->key_marks[i], sub, "does not apply to scheme uniform (use range)");
    }
    return 0;
}

static const vkey model_keys[] = {
    { "layers", 1, "a sequence of layer sizes", model_layers },
    { "activation", 0, "a plugin name", model_activation },
    { "output", 0, "a plugin name or softmax", model_output },
    { "loss", 0, "a loss name", model_loss },
    { "init", 0, "a scheme name or a map", model_init },
};

/* Defaults that depend on other keys, and the output/loss cross-checks. */
static int model_finish(vctx *v)
{
    char t[256];
    bp_config *c = v->c;
    int rc;
    size_t nh = c->model.n_sizes - 2;
    if (!c->model.hidden) {
        if (!(c->model.hidden = bp_xcalloc(nh, sizeof *c->model.hidden, v->e)))
            return BP_ENOMEM;
        for (size_t i = 0; i < nh; i++)
            if ((rc = pluginref_default(&c->model.hidden[i], "sigmoid", "model.activation", v->e)) < 0)
                return rc;
    }
    bp_loss loss = c->model.loss;
    const char *def = loss == BP_LOSS_CROSS_ENTROPY ? "softmax" : "sigmoid";
    bp_pluginref *out = &c->model.output;
    if (v->output) {
        if ((rc = get_plugin(v, v->output, "model.output", def, out)) < 0)
            return rc;
    } else if ((rc = pluginref_default(out, def, "model.output", v->e)) < 0) {
        return rc;
    }
    int softmax = !strcmp(out->name, "softmax");
    c->model.output_kind = softmax ? BP_OUTPUT_SOFTMAX : BP_OUTPUT_ACTIVATION;
    if (softmax && out->n_hp)
        return verr(v, &out->hp[0].mark, "model.output", "softmax takes no hyperparameters (got "
                    "'%s')", bp_text_show(out->hp[0].name, t, sizeof t));
    int n_out = c->model.sizes[c->model.n_sizes - 1];
    if (loss == BP_LOSS_CROSS_ENTROPY && !softmax)
        return verr(v, &out->mark, "model.output", "loss cross_entropy requires output softmax "
                    "(got '%s')", bp_text_show(out->name, t, sizeof t));
    if (loss != BP_LOSS_CROSS_ENTROPY && softmax)
        return verr(v, &out->mark, "model.output", "softmax output requires loss cross_entropy "
                    "(got loss '%s')", bp_loss_names[loss]);
    if (softmax && n_out < 2)
        return verr(v, v->output ? &out->mark : &c->model.loss_mark,
                    v->output ? "model.output" : "model.loss",
                    "softmax needs at least 2 output units (got %d); for one output unit use "
                    "loss binary_cross_entropy with output sigmoid", n_out);
    if (loss == BP_LOSS_BCE && strcmp(out->name, "sigmoid"))
        return verr(v, &out->mark, "model.output", "loss binary_cross_entropy requires output "
                    "sigmoid (got '%s')", bp_text_show(out->name, t, sizeof t));
    return 0;
}

static int sec_model(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    int rc = check_map(v, n, key, km, model_keys, N_OF(model_keys));
    return rc < 0 ? rc : model_finish(v);
}

/* ---- train ---- */

static int train_epochs(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    long long x;
    int rc = get_int(v, n, key, "an integer", 1, 1000000000, &x);
    if (rc == 0)
        v->c->train.epochs = (int)x;
    return rc;
}

static int train_batch_size(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    long long x;
    if (n->kind == BP_NODE_SCALAR && !strcmp(n->value, "full")) {
        v->c->train.batch_size = 0;
        return 0;
    }
    int rc = get_int(v, n, key, "an integer or 'full'", 1, INT_MAX, &x);
    if (rc == 0)
        v->c->train.batch_size = (int)x;
    return rc;
}

static int train_shuffle(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return get_bool(v, n, key, &v->c->train.shuffle);
}

static int train_optimizer(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return get_plugin(v, n, key, "sgd", &v->c->train.optimizer);
}

/* train.schedule: a name, or {name: NAME, key: value...} with the keys of that schedule. */

static int sched_int(vctx *v, const bp_node *n, const char *key, long long lo, int *out)
{
    long long x;
    int rc = get_int(v, n, key, "an integer", lo, 1000000000, &x);
    if (rc == 0)
        *out = (int)x;
    return rc;
}

/* A number in [lo, hi] (lo_open/hi_open exclude the bound; hi may be INFINITY). */
static int sched_num(vctx *v, const bp_node *n, const char *key, double lo, int lo_open,
                     double hi, int hi_open, double *out)
{
    char t[256], h[32];
    double x;
    int rc = get_num(v, n, key, "a number", &x);
    if (rc < 0)
        return rc;
    if ((lo_open ? !(x > lo) : !(x >= lo)) || (hi_open ? !(x < hi) : !(x <= hi))) {
        if (isinf(hi))
            return verr(v, &n->mark, key, "must be %s %g (got %s)", lo_open ? ">" : ">=", lo,
                        bp_text_show(n->value, t, sizeof t));
        snprintf(h, sizeof h, "%g", hi);
        return verr(v, &n->mark, key, "must be in %s%g, %s%s (got %s)", lo_open ? "(" : "[", lo,
                    h, hi_open ? ")" : "]", bp_text_show(n->value, t, sizeof t));
    }
    *out = x;
    return 0;
}

#define SP (&v->c->train.schedule)

static int sk_name(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return 0; /* read by train_schedule before the table */
}
static int sk_step_size(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_int(v, n, key, 1, &SP->step_size);
}
static int sk_gamma(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 1, 1, 0, &SP->gamma);
}
static int sk_t_max(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_int(v, n, key, 1, &SP->t_max);
}
static int sk_eta_min(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 0, INFINITY, 0, &SP->eta_min);
}
static int sk_warmup_epochs(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_int(v, n, key, 0, &SP->warmup_epochs);
}
static int sk_warmup_start(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 0, 1, 0, &SP->warmup_start);
}
static int sk_metric(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    int x, rc = get_enum(v, n, key, bp_lr_metric_names, BP_METRIC_COUNT, &x);
    if (rc == 0)
        SP->metric = (bp_lr_metric)x;
    return rc;
}
static int sk_mode(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    int x, rc = get_enum(v, n, key, bp_lr_mode_names, BP_MODE_COUNT, &x);
    if (rc == 0)
        SP->mode = (bp_lr_mode)x;
    return rc;
}
static int sk_factor(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 1, 1, 1, &SP->factor);
}
static int sk_patience(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_int(v, n, key, 0, &SP->patience);
}
static int sk_threshold(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 0, 1, 1, &SP->threshold);
}
static int sk_cooldown(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_int(v, n, key, 0, &SP->cooldown);
}
static int sk_min_lr(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 0, INFINITY, 0, &SP->min_lr);
}
static int sk_eps(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 0, INFINITY, 0, &SP->eps);
}

#undef SP

static const vkey sched_constant_keys[] = {
    { "name", 1, "a schedule name", sk_name },
};
static const vkey sched_step_keys[] = {
    { "name", 1, "a schedule name", sk_name },
    { "step_size", 1, "an integer", sk_step_size },
    { "gamma", 0, "a number", sk_gamma },
};
static const vkey sched_exponential_keys[] = {
    { "name", 1, "a schedule name", sk_name },
    { "gamma", 1, "a number", sk_gamma },
};
static const vkey sched_cosine_keys[] = {
    { "name", 1, "a schedule name", sk_name },
    { "t_max", 0, "an integer", sk_t_max },
    { "eta_min", 0, "a number", sk_eta_min },
    { "warmup_epochs", 0, "an integer", sk_warmup_epochs },
    { "warmup_start", 0, "a number", sk_warmup_start },
};
static const vkey sched_plateau_keys[] = {
    { "name", 1, "a schedule name", sk_name },
    { "metric", 0, "val_loss or loss", sk_metric },
    { "mode", 0, "min or max", sk_mode },
    { "factor", 0, "a number", sk_factor },
    { "patience", 0, "an integer", sk_patience },
    { "threshold", 0, "a number", sk_threshold },
    { "cooldown", 0, "an integer", sk_cooldown },
    { "min_lr", 0, "a number", sk_min_lr },
    { "eps", 0, "a number", sk_eps },
};
static const struct {
    const vkey *keys;
    size_t n;
} sched_tables[BP_LR_COUNT] = {
    { sched_constant_keys, N_OF(sched_constant_keys) },
    { sched_step_keys, N_OF(sched_step_keys) },
    { sched_exponential_keys, N_OF(sched_exponential_keys) },
    { sched_cosine_keys, N_OF(sched_cosine_keys) },
    { sched_plateau_keys, N_OF(sched_plateau_keys) },
};

static int train_schedule(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    char g[300], nkey[KEY_MAX];
    const bp_node *name = n;
    int kind, rc;
    if (n->kind == BP_NODE_SEQ)
        return verr(v, &n->mark, key, "expected a schedule name or a map {name: NAME, ...} "
                    "(got %s)", got(n, g, sizeof g));
    if (n->kind == BP_NODE_MAP) {
        size_t i = find_key(n, "name");
        if (i == (size_t)-1)
            return verr(v, km, key, "missing required key 'name'");
        name = n->items[i];
        sub_key(key, "name", nkey, sizeof nkey);
        if (is_null(name))
            return verr(v, &name->mark, nkey, "missing value (expected a schedule name)");
    }
    if ((rc = get_enum(v, name, n == name ? key : nkey, bp_lr_names, BP_LR_COUNT, &kind)) < 0)
        return rc;
    bp_lr_params *p = &v->c->train.schedule;
    bp_lr_defaults(p, (bp_lr_kind)kind);
    if (kind == BP_LR_COSINE)
        p->t_max = 0; /* default: train.epochs, filled in by train_finish */
    v->schedule = n;
    free(v->c->train.schedule_mark.src);
    if ((rc = mark_copy(&v->c->train.schedule_mark, &n->mark, v->e)) < 0)
        return rc;
    if (n->kind == BP_NODE_MAP)
        return check_map(v, n, key, km, sched_tables[kind].keys, sched_tables[kind].n);
    for (size_t i = 1; i < sched_tables[kind].n; i++)
        if (sched_tables[kind].keys[i].required)
            return verr(v, &n->mark, key, "schedule %s needs %s: write {name: %s, %s: ...}",
                        bp_lr_names[kind], sched_tables[kind].keys[i].name,
                        bp_lr_names[kind], sched_tables[kind].keys[i].name);
    return 0;
}

static int clip_max(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 1, INFINITY, 0, &v->c->train.clip_max);
}

static const vkey clip_keys[] = {
    { "norm", 0, "a number", clip_max },
    { "value", 0, "a number", clip_max },
};

static int train_clip(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    char g[300], sub[KEY_MAX];
    if (n->kind != BP_NODE_MAP)
        return verr(v, &n->mark, key, "expected a map {norm: MAX_NORM} or {value: V} (got %s)",
                    got(n, g, sizeof g));
    int rc = check_map(v, n, key, km, clip_keys, N_OF(clip_keys));
    if (rc < 0)
        return rc;
    size_t in = find_key(n, "norm"), iv = find_key(n, "value");
    int has_n = in != (size_t)-1 && !is_null(n->items[in]);
    int has_v = iv != (size_t)-1 && !is_null(n->items[iv]);
    if (has_n && has_v) {
        size_t second = in > iv ? in : iv;
        return verr(v, &n->key_marks[second], sub_key(key, n->keys[second], sub, sizeof sub),
                    "give norm or value, not both");
    }
    if (!has_n && !has_v)
        return verr(v, &n->mark, key, "expected {norm: MAX_NORM} or {value: V}");
    v->c->train.clip = has_n ? BP_CLIP_NORM : BP_CLIP_VALUE;
    return 0;
}

/* train.early_stopping: {metric, patience, min_delta, restore_best} */

#define ES (&v->c->train.early_stopping)

static int es_metric(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    int x, rc = get_enum(v, n, key, bp_es_metric_names, BP_ES_COUNT, &x);
    if (rc == 0)
        ES->metric = (bp_es_metric)x;
    return rc;
}
static int es_patience(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_int(v, n, key, 1, &ES->patience);
}
static int es_min_delta(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 0, INFINITY, 0, &ES->min_delta);
}
static int es_restore_best(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return get_bool(v, n, key, &ES->restore_best);
}

#undef ES

static const vkey early_keys[] = {
    { "metric", 0, "val_loss, loss, val_accuracy or accuracy", es_metric },
    { "patience", 1, "an integer", es_patience },
    { "min_delta", 0, "a number", es_min_delta },
    { "restore_best", 0, "true or false", es_restore_best },
};

static int train_early_stopping(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    char g[300];
    if (n->kind != BP_NODE_MAP)
        return verr(v, &n->mark, key, "expected a map {patience: N, ...} (got %s)",
                    got(n, g, sizeof g));
    v->early = n;
    return check_map(v, n, key, km, early_keys, N_OF(early_keys));
}

static int train_target_loss(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 1, INFINITY, 0, &v->c->train.target_loss);
}

static int train_target_accuracy(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 1, 1, 0, &v->c->train.target_accuracy);
}

static int train_target_max_error(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 1, INFINITY, 0, &v->c->train.target_max_error);
}

static int train_reduction(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    int x, rc = get_enum(v, n, key, bp_reduction_names, BP_REDUCTION_COUNT, &x);
    if (rc == 0)
        v->c->train.reduction = (bp_reduction)x;
    return rc;
}

/* 0 (off) or a number > 1 */
static int train_diverge_factor(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    char t[256];
    double x;
    int rc = get_num(v, n, key, "a number", &x);
    if (rc < 0)
        return rc;
    if (x != 0 && !(x > 1))
        return verr(v, &n->mark, key, "must be 0 (off) or a number > 1 (got %s)",
                    bp_text_show(n->value, t, sizeof t));
    v->c->train.diverge_factor = x;
    return 0;
}


/* train.phases: [{from: E, optimizer: {hp: value, ...}}, ...]; merged with train.optimizer and
 * checked against train.epochs by phases_finish. */
static int train_phases(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    static const vkey none[] = { { "from", 1, "an integer", NULL },
                                 { "optimizer", 1, "a map of hyperparameters", NULL } };
    char g[300], k2[KEY_MAX / 2], k3[KEY_MAX];
    (void)km;
    if (n->kind != BP_NODE_SEQ || n->n == 0)
        return verr(v, &n->mark, key, "expected a non-empty list of {from: EPOCH, optimizer: "
                    "{...}} (got %s)", got(n, g, sizeof g));
    bp_config *c = v->c;
    if (!(c->train.phases = bp_xcalloc(n->n, sizeof *c->train.phases, v->e)))
        return BP_ENOMEM;
    for (size_t i = 0; i < n->n; i++) {
        const bp_node *ph = n->items[i];
        bp_phase *p = &c->train.phases[i];
        c->train.n_phases = i + 1; /* freed with the config from here on */
        snprintf(k2, sizeof k2, "%s[%zu]", key, i);
        if (ph->kind != BP_NODE_MAP)
            return verr(v, &ph->mark, k2, "expected a map {from: EPOCH, optimizer: {...}} (got "
                        "%s)", got(ph, g, sizeof g));
        for (size_t j = 0; j < ph->n; j++)
            if (strcmp(ph->keys[j], "from") && strcmp(ph->keys[j], "optimizer")) {
                const char *names[] = { none[0].name, none[1].name };
                const char *best = bp_suggest(ph->keys[j], names, 2);
                sub_key(k2, ph->keys[j], k3, sizeof k3);
                if (best)
                    return verr(v, &ph->key_marks[j], k3, "unknown key (did you mean '%s'?)", best);
                return verr(v, &ph->key_marks[j], k3, "unknown key (valid keys: from, optimizer)");
            }
        for (int r = 0; r < 2; r++) {
            size_t j = find_key(ph, none[r].name);
            if (j == (size_t)-1)
                return verr(v, &ph->mark, k2, "missing required key '%s'", none[r].name);
            sub_key(k2, none[r].name, k3, sizeof k3);
            const bp_node *val = ph->items[j];
            if (is_null(val))
                return verr(v, &val->mark, k3, "missing value (expected %s)", none[r].what);
            int rc;
            if (r == 0) {
                long long x;
                if ((rc = get_int(v, val, k3, "an integer", 2, 1000000000, &x)) < 0)
                    return rc;
                p->from = (int)x;
                if ((rc = mark_copy(&p->mark, &val->mark, v->e)) < 0)
                    return rc;
                continue;
            }
            if (val->kind != BP_NODE_MAP)
                return verr(v, &val->mark, k3, "expected a map of the optimizer's hyperparameters "
                            "(got %s)", got(val, g, sizeof g));
            if ((rc = get_plugin(v, val, k3, "", &p->optimizer)) < 0)
                return rc;
        }
        if (i && p->from <= c->train.phases[i - 1].from)
            return verr(v, &p->mark, k2, "from must increase along the list (got %d after %d)",
                        p->from, c->train.phases[i - 1].from);
    }
    v->phases = n;
    return 0;
}

/* Each phase's optimizer becomes train.optimizer with the phase's values in place. */
static int phases_finish(vctx *v)
{
    bp_config *c = v->c;
    char key[KEY_MAX];
    for (size_t i = 0; i < c->train.n_phases; i++) {
        bp_phase *p = &c->train.phases[i];
        snprintf(key, sizeof key, "train.phases[%zu].from", i);
        if (p->from > c->train.epochs)
            return verr(v, &p->mark, key, "must be <= train.epochs (got %d, train.epochs %d)",
                        p->from, c->train.epochs);
        if (p->optimizer.name[0] && strcmp(p->optimizer.name, c->train.optimizer.name)) {
            snprintf(key, sizeof key, "train.phases[%zu].optimizer.name", i);
            return verr(v, &p->optimizer.mark, key, "a phase changes hyperparameters, not the "
                        "optimizer (got %s, train.optimizer is %s)", p->optimizer.name,
                        c->train.optimizer.name);
        }
        for (size_t h = 0; h < p->optimizer.n_hp; h++)
            if (!strcmp(p->optimizer.hp[h].name, "lr") && c->train.schedule.kind != BP_LR_CONSTANT) {
                snprintf(key, sizeof key, "train.phases[%zu].optimizer.lr", i);
                return verr(v, &p->optimizer.hp[h].mark, key, "needs the constant train.schedule "
                            "(got %s)", bp_lr_names[c->train.schedule.kind]);
            }
        bp_pluginref m;
        int rc = pluginref_copy(&m, &c->train.optimizer, v->e);
        if (rc < 0)
            return rc;
        snprintf(key, sizeof key, "train.phases[%zu].optimizer", i);
        free(m.key_path);
        m.key_path = NULL;
        bp_hpval *more = realloc(m.hp, (m.n_hp + p->optimizer.n_hp + 1) * sizeof *m.hp);
        if (!more || !(m.key_path = bp_xstrdup(key, v->e))) {
            if (more)
                m.hp = more;
            pluginref_clear(&m);
            return bp_err_set(v->e, BP_ENOMEM, "out of memory");
        }
        m.hp = more;
        for (size_t h = 0; h < p->optimizer.n_hp; h++) {
            bp_hpval *src = &p->optimizer.hp[h], *dst = NULL;
            for (size_t q = 0; q < m.n_hp && !dst; q++)
                if (!strcmp(m.hp[q].name, src->name))
                    dst = &m.hp[q];
            if (!dst) {
                dst = &m.hp[m.n_hp++];
                memset(dst, 0, sizeof *dst);
                if (!(dst->name = bp_xstrdup(src->name, v->e))) {
                    m.n_hp--;
                    pluginref_clear(&m);
                    return BP_ENOMEM;
                }
            }
            dst->value = src->value;
            free(dst->mark.src);
            dst->mark.src = NULL;
            if ((rc = mark_copy(&dst->mark, &src->mark, v->e)) < 0) {
                pluginref_clear(&m);
                return rc;
            }
        }
        pluginref_clear(&p->optimizer);
        p->optimizer = m;
    }
    return 0;
}

static const vkey train_keys[] = {
    { "epochs", 1, "an integer", train_epochs },
    { "batch_size", 0, "an integer or 'full'", train_batch_size },
    { "shuffle", 0, "true or false", train_shuffle },
    { "optimizer", 0, "a plugin name or a map", train_optimizer },
    { "schedule", 0, "a schedule name or a map", train_schedule },
    { "clip", 0, "a map", train_clip },
    { "early_stopping", 0, "a map", train_early_stopping },
    { "target_loss", 0, "a number", train_target_loss },
    { "target_accuracy", 0, "a number", train_target_accuracy },
    { "target_max_error", 0, "a number", train_target_max_error },
    { "diverge_factor", 0, "a number", train_diverge_factor },
    { "reduction", 0, "mean or sum", train_reduction },
    { "phases", 0, "a list", train_phases },
};

/* The schedule's defaults that depend on other keys, and its cross-checks. */
static int train_finish(vctx *v)
{
    char key[KEY_MAX];
    bp_config *c = v->c;
    bp_lr_params *p = &c->train.schedule;
    const bp_node *n = v->schedule;
    if (p->kind == BP_LR_COSINE) {
        if (p->t_max == 0)
            p->t_max = c->train.epochs;
        if (p->warmup_epochs >= p->t_max) {
            size_t i = n->kind == BP_NODE_MAP ? find_key(n, "warmup_epochs") : (size_t)-1;
            const bp_mark *m = i != (size_t)-1 ? &n->items[i]->mark : &n->mark;
            return verr(v, m, "train.schedule.warmup_epochs", "must be less than t_max (got "
                        "%d, t_max %d)", p->warmup_epochs, p->t_max);
        }
    }
    if (p->kind == BP_LR_PLATEAU && p->metric == BP_METRIC_VAL_LOSS &&
        !c->data.validation.ref && c->data.val_fraction == 0) {
        size_t i = n->kind == BP_NODE_MAP ? find_key(n, "metric") : (size_t)-1;
        const bp_mark *m = i != (size_t)-1 && !is_null(n->items[i]) ? &n->items[i]->mark : &n->mark;
        snprintf(key, sizeof key, "train.schedule%s", m == &n->mark ? "" : ".metric");
        return verr(v, m, key, "metric val_loss needs validation data (set data.validation, or "
                    "use metric: loss)");
    }
    bp_es_metric em = c->train.early_stopping.metric;
    if (v->early && (em == BP_ES_VAL_LOSS || em == BP_ES_VAL_ACCURACY) &&
        !c->data.validation.ref && c->data.val_fraction == 0) {
        n = v->early;
        size_t i = find_key(n, "metric");
        const bp_mark *m = i != (size_t)-1 && !is_null(n->items[i]) ? &n->items[i]->mark : &n->mark;
        snprintf(key, sizeof key, "train.early_stopping%s", m == &n->mark ? "" : ".metric");
        return verr(v, m, key, "metric %s needs validation data (set data.validation, or use "
                    "metric: %s)", bp_es_metric_names[em], em == BP_ES_VAL_LOSS ? "loss" : "accuracy");
    }
    return 0;
}

static int sec_train(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    int rc = check_map(v, n, key, km, train_keys, N_OF(train_keys));
    if (rc == 0 && !v->c->train.optimizer.name)
        rc = pluginref_default(&v->c->train.optimizer, "sgd", "train.optimizer", v->e);
    if (rc == 0)
        rc = train_finish(v);
    if (rc == 0)
        rc = phases_finish(v);
    return rc;
}

/* ---- diagnostics (docs/CONFIG.md) ---- */

#define DG (&v->c->diagnostics)

static int dg_bool(vctx *v, const bp_node *n, const char *key, int *out)
{
    return get_bool(v, n, key, out);
}
static int dg_grad_norm(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return dg_bool(v, n, key, &DG->grad_norm);
}
static int dg_weight_norm(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return dg_bool(v, n, key, &DG->weight_norm);
}
static int dg_update_ratio(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return dg_bool(v, n, key, &DG->update_ratio);
}
static int dg_dead_relu(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return dg_bool(v, n, key, &DG->dead_relu);
}
static int dg_distance(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return dg_bool(v, n, key, &DG->distance);
}
static int sat_threshold(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 1, 1, 1, &DG->sat_threshold);
}
static const vkey sat_keys[] = { { "threshold", 0, "a number", sat_threshold } };
static int dg_saturation(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    if (n->kind != BP_NODE_MAP)
        return dg_bool(v, n, key, &DG->saturation);
    DG->saturation = 1;
    return check_map(v, n, key, km, sat_keys, N_OF(sat_keys));
}
static int pl_window(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_int(v, n, key, 1, &DG->plateau_window);
}
static int pl_tol(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 0, INFINITY, 0, &DG->plateau_tol);
}
static const vkey plateau_keys[] = {
    { "window", 0, "an integer", pl_window },
    { "tol", 0, "a number", pl_tol },
};
static int dg_plateau(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    if (n->kind != BP_NODE_MAP) {
        int on, rc = dg_bool(v, n, key, &on);
        if (rc == 0 && !on)
            DG->plateau_window = 0;
        return rc;
    }
    return check_map(v, n, key, km, plateau_keys, N_OF(plateau_keys));
}
static int hs_at(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    char t[256];
    const char *s = NULL;
    int rc = get_str(v, n, key, "end, off or 'every K'", &s);
    if (rc < 0)
        return rc;
    char *endp;
    if (!strcmp(s, "end")) {
        DG->hessian_at = BP_HESSIAN_END;
    } else if (!strcmp(s, "off")) {
        DG->hessian_at = BP_HESSIAN_OFF;
    } else if (!strncmp(s, "every ", 6) && s[6] >= '1' && s[6] <= '9' &&
               strtol(s + 6, &endp, 10) <= 1000000000 && *endp == '\0') {
        DG->hessian_at = BP_HESSIAN_EVERY;
        DG->hessian_every = (int)strtol(s + 6, NULL, 10);
    } else {
        return verr(v, &n->mark, key, "expected end, off or 'every K' with an integer K >= 1 "
                    "(got '%s')", bp_text_show(s, t, sizeof t));
    }
    return 0;
}
static int hs_steps(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_int(v, n, key, 1, &DG->lanczos_steps);
}
static int hs_samples(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_int(v, n, key, 0, &DG->trace_samples);
}
static int hs_eigen(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_int(v, n, key, 1, &DG->eigenvalues);
}
static const vkey hessian_keys[] = {
    { "at", 0, "end, off or 'every K'", hs_at },
    { "lanczos_steps", 0, "an integer", hs_steps },
    { "trace_samples", 0, "an integer", hs_samples },
    { "eigenvalues", 0, "an integer", hs_eigen },
};
static int dg_hessian(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return check_map(v, n, key, km, hessian_keys, N_OF(hessian_keys));
}
static int vd_grad_tol(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 1, INFINITY, 0, &DG->verdict.grad_tol);
}
static int vd_eig_tol(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 0, INFINITY, 0, &DG->verdict.eig_tol);
}
static int vd_flat_tol(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 0, INFINITY, 0, &DG->verdict.flat_tol);
}
static int vd_saturated(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 1, 1, 0, &DG->verdict.saturated);
}
static int vd_probe_steps(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_int(v, n, key, 0, &DG->verdict.probe_steps);
}
static int vd_probe_tol(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 0, INFINITY, 0, &DG->verdict.probe_tol);
}
static const vkey verdict_keys[] = {
    { "grad_tol", 0, "a number", vd_grad_tol },
    { "eig_tol", 0, "a number", vd_eig_tol },
    { "flat_tol", 0, "a number", vd_flat_tol },
    { "saturated", 0, "a number", vd_saturated },
    { "probe_steps", 0, "an integer", vd_probe_steps },
    { "probe_tol", 0, "a number", vd_probe_tol },
};
static int dg_verdict(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return check_map(v, n, key, km, verdict_keys, N_OF(verdict_keys));
}
static int pa_points(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_int(v, n, key, 2, &DG->path_points);
}
static int pa_extend(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 0, 10, 0, &DG->path_extend);
}
static const vkey path_keys[] = {
    { "points", 0, "an integer", pa_points },
    { "extend", 0, "a number", pa_extend },
};
static int dg_path(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    if (n->kind != BP_NODE_MAP) {
        int on, rc = dg_bool(v, n, key, &on);
        if (rc == 0 && !on)
            DG->path_points = 0;
        return rc;
    }
    if (DG->path_points == 0)
        DG->path_points = 25;
    return check_map(v, n, key, km, path_keys, N_OF(path_keys));
}
static int mn_loss_tol(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 0, INFINITY, 0, &DG->minima.loss_tol);
}
static int mn_dist_tol(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return sched_num(v, n, key, 0, 0, INFINITY, 0, &DG->minima.dist_tol);
}
static int mn_permute(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return dg_bool(v, n, key, &DG->minima.permute);
}
static int mn_flip(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return dg_bool(v, n, key, &DG->minima.flip);
}
static const vkey minima_keys[] = {
    { "loss_tol", 0, "a number", mn_loss_tol },
    { "dist_tol", 0, "a number", mn_dist_tol },
    { "permute", 0, "true or false", mn_permute },
    { "flip", 0, "true or false", mn_flip },
};
static int dg_minima(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    return check_map(v, n, key, km, minima_keys, N_OF(minima_keys));
}
static const vkey diag_keys[] = {
    { "grad_norm", 0, "true or false", dg_grad_norm },
    { "weight_norm", 0, "true or false", dg_weight_norm },
    { "update_ratio", 0, "true or false", dg_update_ratio },
    { "saturation", 0, "true, false or a map", dg_saturation },
    { "dead_relu", 0, "true or false", dg_dead_relu },
    { "distance", 0, "true or false", dg_distance },
    { "plateau", 0, "true, false or a map", dg_plateau },
    { "hessian", 0, "a map", dg_hessian },
    { "verdict", 0, "a map", dg_verdict },
    { "path", 0, "true, false or a map", dg_path },
    { "minima", 0, "a map", dg_minima },
};

static int sec_diagnostics(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    DG->enabled = 1;
    if (n->kind == BP_NODE_SCALAR) { /* diagnostics: true / false */
        int on, rc = get_bool(v, n, key, &on);
        if (rc < 0)
            return rc;
        if (!on)
            memset(DG, 0, sizeof *DG);
        return 0;
    }
    return check_map(v, n, key, km, diag_keys, N_OF(diag_keys));
}

#undef DG

static void diag_defaults(bp_config *c)
{
    c->diagnostics.grad_norm = c->diagnostics.weight_norm = c->diagnostics.update_ratio = 1;
    c->diagnostics.dead_relu = c->diagnostics.distance = c->diagnostics.saturation = 1;
    c->diagnostics.sat_threshold = 0.05;
    c->diagnostics.plateau_window = 50;
    c->diagnostics.plateau_tol = 1e-3;
    c->diagnostics.hessian_at = BP_HESSIAN_END;
    c->diagnostics.lanczos_steps = 20;
    c->diagnostics.trace_samples = 10;
    c->diagnostics.eigenvalues = 1;
    c->diagnostics.verdict.grad_tol = 1e-3;
    c->diagnostics.verdict.eig_tol = 1e-3;
    c->diagnostics.verdict.flat_tol = 1e-6;
    c->diagnostics.verdict.saturated = 0.9;
    c->diagnostics.verdict.probe_steps = 20;
    c->diagnostics.verdict.probe_tol = 1e-5;
    c->diagnostics.path_points = 25;
    c->diagnostics.path_extend = 0.25;
    c->diagnostics.minima.loss_tol = 0.01;
    c->diagnostics.minima.dist_tol = 0.25;
    c->diagnostics.minima.permute = 1;
    c->diagnostics.minima.flip = 1;
}

/* ---- top level ---- */

static int valid_name(const char *s)
{
    if (!*s || !strcmp(s, ".") || !strcmp(s, ".."))
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == strlen(s);
}

static int top_experiment(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    char t[256];
    const char *s = NULL;
    int rc = get_str(v, n, key, "a name", &s);
    if (rc < 0)
        return rc;
    if (!valid_name(s))
        return verr(v, &n->mark, key, "must be a name of letters, digits, '.', '_' and '-' (not "
                    "'.' or '..') (got '%s')", bp_text_show(s, t, sizeof t));
    if (strlen(s) > BP_NAME_MAX)
        return verr(v, &n->mark, key, "at most %d characters: it names the run folder (got %zu)",
                    BP_NAME_MAX, strlen(s));
    return set_str(&v->c->experiment, s, v->e);
}

static int top_seed(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    long long x;
    int rc = get_int(v, n, key, "an integer", 0, LLONG_MAX, &x);
    if (rc == 0)
        v->c->seed = (uint64_t)x;
    return rc;
}

static int top_output(vctx *v, const bp_node *n, const char *key, const bp_mark *km)
{
    const char *s = NULL;
    int rc = get_str(v, n, key, "a folder", &s);
    if (rc == 0 && strlen(s) > BP_OUTPUT_MAX)
        return verr(v, &n->mark, key, "at most %d bytes: run folders below it need room for "
                    "their trial files' names (got %zu)", BP_OUTPUT_MAX, strlen(s));
    return rc < 0 ? rc : set_str(&v->c->output, s, v->e);
}

static const vkey top_keys[] = {
    { "experiment", 0, "a name", top_experiment },
    { "seed", 0, "an integer", top_seed },
    { "data", 1, "a map", sec_data },
    { "model", 1, "a map", sec_model },
    { "train", 1, "a map", sec_train },
    { "output", 0, "a folder", top_output },
    { "diagnostics", 0, "true, false or a map", sec_diagnostics },
};

static int default_experiment(vctx *v, const bp_node *root)
{
    char t[256];
    if (!v->path)
        return verr(v, &root->mark, NULL, "missing required key 'experiment' (no config file "
                    "name to take it from)");
    const char *base = strrchr(v->path, '/');
    base = base ? base + 1 : v->path;
    const char *dot = strrchr(base, '.');
    size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    char *name = malloc(len + 1);
    if (!name)
        return bp_err_set(v->e, BP_ENOMEM, "out of memory");
    memcpy(name, base, len);
    name[len] = '\0';
    if (!valid_name(name) || len > BP_NAME_MAX) {
        bp_mark m = { (char *)v->path, 0, 0 };
        int rc = verr(v, &m, "experiment", "the file name '%s' is not a valid experiment name "
                      "(letters, digits, '.', '_', '-'): set experiment: NAME",
                      bp_text_show(name, t, sizeof t));
        free(name);
        return rc;
    }
    v->c->experiment = name;
    return 0;
}

bp_config *bp_config_from_node(bp_node *root, const char *path, bp_err *e)
{
    bp_config *c = bp_xcalloc(1, sizeof *c, e);
    if (!c) {
        bp_node_free(root);
        return NULL;
    }
    c->root = root;
    c->seed = 1;
    c->model.loss = BP_LOSS_MSE;
    c->model.init.scheme = BP_INIT_XAVIER_UNIFORM;
    c->model.init.range = 0.5;
    c->model.init.gain = 1;
    c->train.batch_size = 32;
    c->train.shuffle = 1;
    c->train.diverge_factor = BP_DIVERGE_FACTOR_DEFAULT;
    bp_lr_defaults(&c->train.schedule, BP_LR_CONSTANT);
    diag_defaults(c);
    vctx v = { .c = c, .e = e, .path = path };
    int rc = 0;
    if (path && !(c->path = bp_xstrdup(path, e)))
        goto fail;
    if (path) {
        const char *slash = strrchr(path, '/');
        size_t n = slash ? (size_t)(slash - path) + 1 : 0;
        if (!(v.dir = malloc(n + 1))) {
            bp_err_set(e, BP_ENOMEM, "out of memory");
            goto fail;
        }
        memcpy(v.dir, path, n);
        v.dir[n] = '\0';
    }
    if (!root) {
        bp_err_set(e, BP_ECONFIG, "%s: empty config", path ? path : "(config)");
        goto fail;
    }
    if (root->kind != BP_NODE_MAP) {
        char where[600];
        bp_err_set(e, BP_ECONFIG, "%s: the top level of a config must be a map of keys",
                   bp_mark_str(&root->mark, where, sizeof where));
        goto fail;
    }
    rc = check_map(&v, root, "", &root->mark, top_keys, N_OF(top_keys));
    if (!c->diagnostics.enabled)
        memset(&c->diagnostics, 0, sizeof c->diagnostics);
    if (rc == 0 && !c->experiment)
        rc = default_experiment(&v, root);
    if (rc == 0 && !c->output)
        rc = set_str(&c->output, "runs", e);
    if (rc < 0)
        goto fail;
    free(v.dir);
    return c;
fail:
    free(v.dir);
    bp_config_free(c);
    return NULL;
}

static void dataref_clear(bp_dataref *d)
{
    free(d->ref);
    free(d->mark.src);
}

void bp_config_free(bp_config *c)
{
    if (!c)
        return;
    free(c->path);
    free(c->text);
    bp_node_free(c->root);
    for (size_t i = 0; i < c->n_overrides; i++)
        free(c->overrides[i]);
    free(c->overrides);
    free(c->experiment);
    dataref_clear(&c->data.train);
    dataref_clear(&c->data.validation);
    dataref_clear(&c->data.test);
    free(c->model.sizes);
    free(c->model.sizes_mark.src);
    if (c->model.hidden && c->model.n_sizes >= 2)
        for (size_t i = 0; i < c->model.n_sizes - 2; i++)
            pluginref_clear(&c->model.hidden[i]);
    free(c->model.hidden);
    pluginref_clear(&c->model.output);
    free(c->model.loss_mark.src);
    free(c->model.init.from);
    free(c->model.init.mark.src);
    pluginref_clear(&c->train.optimizer);
    for (size_t i = 0; i < c->train.n_phases; i++) {
        free(c->train.phases[i].mark.src);
        pluginref_clear(&c->train.phases[i].optimizer);
    }
    free(c->train.phases);
    free(c->train.schedule_mark.src);
    free(c->output);
    free(c);
}

bp_config *bp_config_load(const char *path, char *const *overrides, size_t n_overrides,
                          bp_err *e)
{
    size_t len;
    char *text = bp_config_read_file(path, &len, e);
    if (!text)
        return NULL;
    bp_node *root = bp_yaml_parse_string(text, len, path, e);
    char **ov = NULL;
    if (!root)
        goto fail;
    for (size_t i = 0; i < n_overrides; i++)
        if (bp_node_apply_override(root, overrides[i], e) < 0)
            goto fail;
    if (n_overrides && !(ov = bp_xcalloc(n_overrides, sizeof *ov, e)))
        goto fail;
    for (size_t i = 0; i < n_overrides; i++)
        if (!(ov[i] = bp_xstrdup(overrides[i], e)))
            goto fail;
    bp_config *c = bp_config_from_node(root, path, e);
    root = NULL;
    if (!c)
        goto fail;
    c->text = text;
    c->overrides = ov;
    c->n_overrides = n_overrides;
    return c;
fail:
    if (ov)
        for (size_t i = 0; i < n_overrides; i++)
            free(ov[i]);
    free(ov);
    bp_node_free(root);
    free(text);
    return NULL;
}

/* ---- dump ---- */

static void dump_num(FILE *f, double d)
{
    char buf[64];
    if (isnan(d)) {
        fputs(".nan", f);
        return;
    }
    if (isinf(d)) {
        fputs(d > 0 ? ".inf" : "-.inf", f);
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    fputs(buf, f);
}

static void dump_plugin(FILE *f, const bp_pluginref *r)
{
    fputs("{name: ", f);
    bp_yaml_write_string(f, r->name, 1);
    for (size_t i = 0; i < r->n_hp; i++) {
        fputs(", ", f);
        bp_yaml_write_string(f, r->hp[i].name, 1);
        fputs(": ", f);
        if (r->hp[i].boolean)
            fputs(r->hp[i].value != 0 ? "true" : "false", f);
        else
            dump_num(f, r->hp[i].value);
    }
    fputs("}", f);
}

static int pluginref_equal(const bp_pluginref *a, const bp_pluginref *b)
{
    if (strcmp(a->name, b->name) || a->n_hp != b->n_hp)
        return 0;
    for (size_t i = 0; i < a->n_hp; i++)
        if (strcmp(a->hp[i].name, b->hp[i].name) || a->hp[i].value != b->hp[i].value)
            return 0;
    return 1;
}

static void dump_dataref(FILE *f, const char *key, const bp_dataref *d)
{
    fprintf(f, "  %s: ", key);
    if (d->ref)
        bp_yaml_write_string(f, d->ref, 0);
    else
        fputs("null", f);
    fputc('\n', f);
}

static void dump_kv(FILE *f, const char *k, double x)
{
    fprintf(f, ", %s: ", k);
    dump_num(f, x);
}

static void dump_schedule(FILE *f, const bp_lr_params *p)
{
    fprintf(f, "{name: %s", bp_lr_names[p->kind]);
    switch (p->kind) {
    case BP_LR_STEP:
        fprintf(f, ", step_size: %d", p->step_size);
        dump_kv(f, "gamma", p->gamma);
        break;
    case BP_LR_EXPONENTIAL:
        dump_kv(f, "gamma", p->gamma);
        break;
    case BP_LR_COSINE:
        fprintf(f, ", t_max: %d", p->t_max);
        dump_kv(f, "eta_min", p->eta_min);
        fprintf(f, ", warmup_epochs: %d", p->warmup_epochs);
        dump_kv(f, "warmup_start", p->warmup_start);
        break;
    case BP_LR_PLATEAU:
        fprintf(f, ", metric: %s, mode: %s", bp_lr_metric_names[p->metric],
                bp_lr_mode_names[p->mode]);
        dump_kv(f, "factor", p->factor);
        fprintf(f, ", patience: %d", p->patience);
        dump_kv(f, "threshold", p->threshold);
        fprintf(f, ", cooldown: %d", p->cooldown);
        dump_kv(f, "min_lr", p->min_lr);
        dump_kv(f, "eps", p->eps);
        break;
    default:
        break;
    }
    fputc('}', f);
}

static void dump_diagnostics(FILE *f, const bp_config *c)
{
    const char *tf[] = { "false", "true" };
    fprintf(f, "diagnostics:\n  grad_norm: %s\n  weight_norm: %s\n  update_ratio: %s\n"
            "  saturation: ", tf[c->diagnostics.grad_norm], tf[c->diagnostics.weight_norm],
            tf[c->diagnostics.update_ratio]);
    if (c->diagnostics.saturation) {
        fputs("{threshold: ", f);
        dump_num(f, c->diagnostics.sat_threshold);
        fputs("}", f);
    } else {
        fputs("false", f);
    }
    fprintf(f, "\n  dead_relu: %s\n  distance: %s\n  plateau: ", tf[c->diagnostics.dead_relu],
            tf[c->diagnostics.distance]);
    if (c->diagnostics.plateau_window > 0) {
        fprintf(f, "{window: %d, tol: ", c->diagnostics.plateau_window);
        dump_num(f, c->diagnostics.plateau_tol);
        fputs("}", f);
    } else {
        fputs("false", f);
    }
    fputs("\n  hessian: {at: ", f);
    if (c->diagnostics.hessian_at == BP_HESSIAN_EVERY)
        fprintf(f, "every %d", c->diagnostics.hessian_every);
    else
        fputs(c->diagnostics.hessian_at == BP_HESSIAN_OFF ? "off" : "end", f);
    fprintf(f, ", lanczos_steps: %d, trace_samples: %d, eigenvalues: %d}\n  verdict: {grad_tol: ",
            c->diagnostics.lanczos_steps, c->diagnostics.trace_samples,
            c->diagnostics.eigenvalues);
    dump_num(f, c->diagnostics.verdict.grad_tol);
    fputs(", eig_tol: ", f);
    dump_num(f, c->diagnostics.verdict.eig_tol);
    fputs(", flat_tol: ", f);
    dump_num(f, c->diagnostics.verdict.flat_tol);
    fputs(", saturated: ", f);
    dump_num(f, c->diagnostics.verdict.saturated);
    fprintf(f, ", probe_steps: %d, probe_tol: ", c->diagnostics.verdict.probe_steps);
    dump_num(f, c->diagnostics.verdict.probe_tol);
    fputs("}\n  path: ", f);
    if (c->diagnostics.path_points > 0) {
        fprintf(f, "{points: %d, extend: ", c->diagnostics.path_points);
        dump_num(f, c->diagnostics.path_extend);
        fputs("}", f);
    } else {
        fputs("false", f);
    }
    fputs("\n  minima: {loss_tol: ", f);
    dump_num(f, c->diagnostics.minima.loss_tol);
    fputs(", dist_tol: ", f);
    dump_num(f, c->diagnostics.minima.dist_tol);
    fprintf(f, ", permute: %s, flip: %s}\n", tf[c->diagnostics.minima.permute],
            tf[c->diagnostics.minima.flip]);
}

void bp_config_dump(FILE *f, const bp_config *c)
{
    fputs("experiment: ", f);
    bp_yaml_write_string(f, c->experiment ? c->experiment : "", 0);
    fprintf(f, "\nseed: %" PRIu64 "\n", c->seed);

    fputs("data:\n", f);
    dump_dataref(f, "train", &c->data.train);
    if (c->data.validation.ref) {
        dump_dataref(f, "validation", &c->data.validation);
    } else {
        fputs("  validation: ", f);
        dump_num(f, c->data.val_fraction);
        fputc('\n', f);
    }
    dump_dataref(f, "test", &c->data.test);
    fprintf(f, "  standardize: %s\n", c->data.standardize ? "true" : "false");

    fputs("model:\n  layers: [", f);
    for (size_t i = 0; i < c->model.n_sizes; i++)
        fprintf(f, "%s%d", i ? ", " : "", c->model.sizes[i]);
    fputs("]\n  activation:", f);
    size_t nh = c->model.n_sizes >= 2 ? c->model.n_sizes - 2 : 0;
    int same = 1;
    for (size_t i = 1; i < nh; i++)
        same &= pluginref_equal(&c->model.hidden[0], &c->model.hidden[i]);
    if (!nh) {
        fputs(" []\n", f);
    } else if (same) {
        fputc(' ', f);
        dump_plugin(f, &c->model.hidden[0]);
        fputc('\n', f);
    } else {
        fputc('\n', f);
        for (size_t i = 0; i < nh; i++) {
            fputs("    - ", f);
            dump_plugin(f, &c->model.hidden[i]);
            fputc('\n', f);
        }
    }
    fputs("  output: ", f);
    if (c->model.output_kind == BP_OUTPUT_SOFTMAX)
        fputs("softmax", f);
    else if (c->model.output.name)
        dump_plugin(f, &c->model.output);
    else
        fputs("null", f);
    fprintf(f, "\n  loss: %s\n  init: ", bp_loss_names[c->model.loss]);
    switch (c->model.init.scheme) {
    case BP_INIT_FROM:
        fputs("{from: ", f);
        bp_yaml_write_string(f, c->model.init.from ? c->model.init.from : "", 1);
        fputs("}", f);
        break;
    case BP_INIT_UNIFORM:
        fputs("{scheme: uniform, range: ", f);
        dump_num(f, c->model.init.range);
        fputs("}", f);
        break;
    default:
        fprintf(f, "{scheme: %s, gain: ", bp_init_names[c->model.init.scheme]);
        dump_num(f, c->model.init.gain);
        fputs("}", f);
        break;
    }

    fprintf(f, "\ntrain:\n  epochs: %d\n  batch_size: ", c->train.epochs);
    if (c->train.batch_size == 0)
        fputs("full", f);
    else
        fprintf(f, "%d", c->train.batch_size);
    fprintf(f, "\n  shuffle: %s\n  optimizer: ", c->train.shuffle ? "true" : "false");
    if (c->train.optimizer.name)
        dump_plugin(f, &c->train.optimizer);
    else
        fputs("null", f);
    fputs("\n  schedule: ", f);
    dump_schedule(f, &c->train.schedule);
    fputs("\n  clip: ", f);
    if (c->train.clip == BP_CLIP_NONE) {
        fputs("null", f);
    } else {
        fprintf(f, "{%s: ", c->train.clip == BP_CLIP_NORM ? "norm" : "value");
        dump_num(f, c->train.clip_max);
        fputc('}', f);
    }
    fputs("\n  early_stopping: ", f);
    if (c->train.early_stopping.patience == 0) {
        fputs("null", f);
    } else {
        fprintf(f, "{metric: %s, patience: %d, min_delta: ",
                bp_es_metric_names[c->train.early_stopping.metric],
                c->train.early_stopping.patience);
        dump_num(f, c->train.early_stopping.min_delta);
        fprintf(f, ", restore_best: %s}", c->train.early_stopping.restore_best ? "true" : "false");
    }
    fputs("\n  target_loss: ", f);
    if (c->train.target_loss > 0)
        dump_num(f, c->train.target_loss);
    else
        fputs("null", f);
    /* only when not the default: the dumps of configs without it (and so the sweep hashes of
     * existing run folders, and --continue's comparison) stay as they were */
    if (c->train.diverge_factor != BP_DIVERGE_FACTOR_DEFAULT) {
        fputs("\n  diverge_factor: ", f);
        dump_num(f, c->train.diverge_factor);
    }
    if (c->train.target_accuracy > 0) {
        fputs("\n  target_accuracy: ", f);
        dump_num(f, c->train.target_accuracy);
    }
    if (c->train.target_max_error > 0) {
        fputs("\n  target_max_error: ", f);
        dump_num(f, c->train.target_max_error);
    }
    if (c->train.reduction != BP_REDUCTION_MEAN)
        fprintf(f, "\n  reduction: %s", bp_reduction_names[c->train.reduction]);
    for (size_t i = 0; i < c->train.n_phases; i++) {
        fprintf(f, "%s{from: %d, optimizer: ", i ? ", " : "\n  phases: [", c->train.phases[i].from);
        dump_plugin(f, &c->train.phases[i].optimizer);
        fputs(i + 1 == c->train.n_phases ? "}]" : "}", f);
    }
    fputs("\noutput: ", f);
    bp_yaml_write_string(f, c->output ? c->output : "runs", 0);
    fputc('\n', f);
    if (c->diagnostics.enabled)
        dump_diagnostics(f, c);
}

char *bp_config_dump_string(const bp_config *c)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return NULL;
    bp_config_dump(f, c);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
