#include "autoconf.h"
#include "plugin.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_NAME_LEN 64   /* longest plugin or hyperparameter name */
#define MAX_STATE 64      /* most state floats per parameter an optimizer may ask for */

#define HP_KNOWN_FLAGS (BP_HP_INTEGER | BP_HP_BOOL | BP_HP_MIN_OPEN | BP_HP_MAX_OPEN)
#define OPT_KNOWN_FLAGS (BP_OPT_ELEMENTWISE | BP_OPT_FULL_BATCH)

typedef const bp_plugin *(*entry_fn)(void);
_Static_assert(sizeof(entry_fn) == sizeof(void *), "dlsym needs function pointers as wide as void *");

struct bp_registry {
    char **dirs;
    size_t n_dirs;
    bp_loaded **loaded;   /* cache, keyed by loaded[i]->path (resolved) */
    size_t n_loaded, cap_loaded;
};

const char *bp_plugin_kind_name(int kind)
{
    switch (kind) {
    case BP_OPTIMIZER: return "optimizer";
    case BP_ACTIVATION: return "activation";
    default: return "plugin";
    }
}

static const char *article(int kind)
{
    return kind == BP_OPTIMIZER || kind == BP_ACTIVATION ? "an" : "a";
}

static int is_ident(const char *s)
{
    if (!s || !((*s >= 'a' && *s <= 'z') || *s == '_'))
        return 0;
    size_t len = 0;
    for (; s[len]; len++) {
        char c = s[len];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') || len >= MAX_NAME_LEN)
            return 0;
    }
    return 1;
}

/* An untrusted string (from a broken plugin or the user) made printable and short. */
static const char *shown(const char *s, char *buf, size_t size)
{
    if (!s) {
        snprintf(buf, size, "(NULL)");
        return buf;
    }
    size_t j = 0;
    for (size_t i = 0; s[i] && j + 4 < size; i++) {
        if (i == 64) {
            memcpy(buf + j, "...", 3);
            j += 3;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        buf[j++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    buf[j] = '\0';
    return buf;
}

/* The shortest %g form (at least 6 digits, so 10 is not 1e+01) that reads back as v; "inf"
 * for infinities. */
static const char *fmt_num(double v, char *buf, size_t size)
{
    if (isinf(v)) {
        snprintf(buf, size, "%s", v > 0 ? "inf" : "-inf");
        return buf;
    }
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}

static const char *fmt_range(const bp_hparam *h, char *buf, size_t size)
{
    char lo[40], hi[40];
    snprintf(buf, size, "%c%s, %s%c",
             (h->flags & BP_HP_MIN_OPEN) || isinf(h->min) ? '(' : '[', fmt_num(h->min, lo, sizeof lo),
             fmt_num(h->max, hi, sizeof hi), (h->flags & BP_HP_MAX_OPEN) || isinf(h->max) ? ')' : ']');
    return buf;
}

static int in_range(const bp_hparam *h, double v)
{
    int lo_ok = (h->flags & BP_HP_MIN_OPEN) ? v > h->min : v >= h->min;
    int hi_ok = (h->flags & BP_HP_MAX_OPEN) ? v < h->max : v <= h->max;
    return lo_ok && hi_ok;
}

static void decls_of(const bp_plugin *d, const bp_hparam **hp, uint32_t *n)
{
    *hp = NULL;
    *n = 0;
    if (d->kind == BP_OPTIMIZER && d->u.optimizer) {
        *hp = d->u.optimizer->hparams;
        *n = d->u.optimizer->n_hparams;
    } else if (d->kind == BP_ACTIVATION && d->u.activation) {
        *hp = d->u.activation->hparams;
        *n = d->u.activation->n_hparams;
    }
}

static int check_hparams(const char *path, const char *who, const bp_hparam *hp, uint32_t n,
                         bp_err *e)
{
    char b1[80], b2[80], b3[80];
    if (n > BP_MAX_HPARAMS)
        return bp_err_set(e, BP_EPLUGIN, "%s: %s declares %u hyperparameters (at most %d)", path,
                          who, (unsigned)n, BP_MAX_HPARAMS);
    if (n > 0 && !hp)
        return bp_err_set(e, BP_EPLUGIN, "%s: %s: n_hparams is %u but hparams is NULL", path, who,
                          (unsigned)n);
    for (uint32_t i = 0; i < n; i++) {
        const bp_hparam *h = &hp[i];
        if (!is_ident(h->name))
            return bp_err_set(e, BP_EPLUGIN,
                              "%s: %s: hyperparameter %u has an invalid name '%s' (must match "
                              "[a-z_][a-z0-9_]*, at most %d characters)",
                              path, who, (unsigned)i, shown(h->name, b1, sizeof b1), MAX_NAME_LEN);
        if (strcmp(h->name, "name") == 0)
            return bp_err_set(e, BP_EPLUGIN,
                              "%s: %s: hyperparameter name 'name' is reserved (the config uses it "
                              "for the plugin's name)", path, who);
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(hp[j].name, h->name) == 0)
                return bp_err_set(e, BP_EPLUGIN, "%s: %s: hyperparameter '%s' is declared twice",
                                  path, who, h->name);
        if (h->flags & ~(uint32_t)HP_KNOWN_FLAGS)
            return bp_err_set(e, BP_EPLUGIN, "%s: %s: hyperparameter '%s' has unknown flags 0x%x",
                              path, who, h->name, (unsigned)(h->flags & ~(uint32_t)HP_KNOWN_FLAGS));
        if (isnan(h->def) || isnan(h->min) || isnan(h->max))
            return bp_err_set(e, BP_EPLUGIN,
                              "%s: %s: hyperparameter '%s': default, min and max must not be NaN",
                              path, who, h->name);
        if (h->min > h->max)
            return bp_err_set(e, BP_EPLUGIN,
                              "%s: %s: hyperparameter '%s': min %s is greater than max %s", path,
                              who, h->name, fmt_num(h->min, b1, sizeof b1),
                              fmt_num(h->max, b2, sizeof b2));
        if ((h->flags & BP_HP_BOOL) &&
            (h->min != 0.0 || h->max != 1.0 || (h->flags & ~(uint32_t)BP_HP_BOOL)))
            return bp_err_set(e, BP_EPLUGIN,
                              "%s: %s: hyperparameter '%s' is BOOL, so its range must be [0, 1] "
                              "with no other flags (got %s)",
                              path, who, h->name, fmt_range(h, b1, sizeof b1));
        if (!isfinite(h->def) || !in_range(h, h->def))
            return bp_err_set(e, BP_EPLUGIN, "%s: %s: hyperparameter '%s': default %s is outside %s",
                              path, who, h->name, fmt_num(h->def, b1, sizeof b1),
                              fmt_range(h, b2, sizeof b2));
        if ((h->flags & (BP_HP_INTEGER | BP_HP_BOOL)) && h->def != floor(h->def))
            return bp_err_set(e, BP_EPLUGIN,
                              "%s: %s: hyperparameter '%s': default %s is not an integer", path,
                              who, h->name, fmt_num(h->def, b3, sizeof b3));
    }
    return 0;
}

int bp_plugin_check_desc(const bp_plugin *d, const char *path, bp_err *e)
{
    char b1[80];
    if (!d)
        return bp_err_set(e, BP_EPLUGIN, "%s: %s returned NULL", path, BP_PLUGIN_ENTRY_SYMBOL);
    if (d->abi != BP_PLUGIN_ABI)
        return bp_err_set(e, BP_EPLUGIN,
                          "%s: built for plugin ABI %u, this bprun supports %d; rebuild it "
                          "against this bprun's bprun/plugin.h",
                          path, (unsigned)d->abi, BP_PLUGIN_ABI);
    if (d->size < sizeof(bp_plugin))
        return bp_err_set(e, BP_EPLUGIN,
                          "%s: descriptor size %u is smaller than bp_plugin (%zu bytes); the "
                          "plugin must set size = sizeof(bp_plugin)",
                          path, (unsigned)d->size, sizeof(bp_plugin));
    if (d->kind != BP_OPTIMIZER && d->kind != BP_ACTIVATION)
        return bp_err_set(e, BP_EPLUGIN,
                          "%s: unknown plugin kind %d (expected %d = optimizer or %d = activation)",
                          path, (int)d->kind, BP_OPTIMIZER, BP_ACTIVATION);
    if (!is_ident(d->name))
        return bp_err_set(e, BP_EPLUGIN,
                          "%s: invalid plugin name '%s' (must match [a-z_][a-z0-9_]*, at most %d "
                          "characters)",
                          path, shown(d->name, b1, sizeof b1), MAX_NAME_LEN);
    if (!d->summary || !d->summary[0] || strchr(d->summary, '\n'))
        return bp_err_set(e, BP_EPLUGIN, "%s: %s: summary must be one non-empty line (got %s)",
                          path, d->name, d->summary ? "a bad string" : "NULL");
    const char *kn = bp_plugin_kind_name(d->kind);
    if (d->kind == BP_OPTIMIZER) {
        const bp_optimizer *o = d->u.optimizer;
        if (!o)
            return bp_err_set(e, BP_EPLUGIN, "%s: %s: %s table u.optimizer is NULL", path, d->name,
                              kn);
        if (o->size < BP_OPTIMIZER_SIZE_V1)
            return bp_err_set(e, BP_EPLUGIN,
                              "%s: %s: bp_optimizer size %u is smaller than this bprun's (%zu "
                              "bytes); the plugin must set size = sizeof(bp_optimizer)",
                              path, d->name, (unsigned)o->size, BP_OPTIMIZER_SIZE_V1);
        if (!o->step)
            return bp_err_set(e, BP_EPLUGIN, "%s: %s: required slot step is NULL", path, d->name);
        if (o->n_state > MAX_STATE)
            return bp_err_set(e, BP_EPLUGIN,
                              "%s: %s: n_state %u is too large (at most %d floats per parameter)",
                              path, d->name, (unsigned)o->n_state, MAX_STATE);
        if (o->flags & ~(uint32_t)OPT_KNOWN_FLAGS)
            return bp_err_set(e, BP_EPLUGIN, "%s: %s: unknown optimizer flags 0x%x", path, d->name,
                              (unsigned)(o->flags & ~(uint32_t)OPT_KNOWN_FLAGS));
        return check_hparams(path, d->name, o->hparams, o->n_hparams, e);
    }
    const bp_activation *a = d->u.activation;
    if (!a)
        return bp_err_set(e, BP_EPLUGIN, "%s: %s: %s table u.activation is NULL", path, d->name, kn);
    if (a->size < BP_ACTIVATION_SIZE_V1)
        return bp_err_set(e, BP_EPLUGIN,
                          "%s: %s: bp_activation size %u is smaller than this bprun's (%zu bytes); "
                          "the plugin must set size = sizeof(bp_activation)",
                          path, d->name, (unsigned)a->size, BP_ACTIVATION_SIZE_V1);
    if (!a->forward)
        return bp_err_set(e, BP_EPLUGIN, "%s: %s: required slot forward is NULL", path, d->name);
    if (!a->derivative)
        return bp_err_set(e, BP_EPLUGIN, "%s: %s: required slot derivative is NULL", path,
                          d->name);
    return check_hparams(path, d->name, a->hparams, a->n_hparams, e);
}

/* dlerror() usually starts with the file name; the message already names it. */
static const char *strip_path(const char *msg, const char *path)
{
    size_t len = strlen(path);
    if (strncmp(msg, path, len) == 0 && msg[len] == ':' && msg[len + 1] == ' ')
        return msg + len + 2;
    return msg;
}

int bp_plugin_load_file(const char *path, bp_loaded *out, bp_err *e)
{
    struct stat st;
    memset(out, 0, sizeof *out);
    if (stat(path, &st) != 0)
        return errno == ENOENT
                   ? bp_err_set(e, BP_EPLUGIN, "%s: no such file", path)
                   : bp_err_set(e, BP_EPLUGIN, "%s: cannot stat: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return bp_err_set(e, BP_EPLUGIN, "%s: not a regular file", path);
    char *real = realpath(path, NULL);
    if (!real)
        return bp_err_set(e, errno == ENOMEM ? BP_ENOMEM : BP_EPLUGIN, "%s: cannot resolve: %s",
                          path, strerror(errno));
    dlerror();
    /* RTLD_NOW: an unresolved symbol fails here, not hours into a sweep. The absolute path
     * keeps dlopen from searching the library path for a name without a slash. */
    void *h = dlopen(real, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        int rc = bp_err_set(e, BP_EPLUGIN, "%s: cannot load (dlopen): %s", path,
                            why ? strip_path(why, real) : "unknown error");
        free(real);
        return rc;
    }
    dlerror();
    void *sym = dlsym(h, BP_PLUGIN_ENTRY_SYMBOL);
    if (!sym) {
        dlclose(h);
        free(real);
        return bp_err_set(e, BP_EPLUGIN,
                          "%s: no %s symbol (not a bprun plugin, or built without exporting it)",
                          path, BP_PLUGIN_ENTRY_SYMBOL);
    }
    entry_fn entry;
    memcpy(&entry, &sym, sizeof entry);
    const bp_plugin *d = entry();
    int rc = bp_plugin_check_desc(d, path, e);
    if (rc < 0) {
        dlclose(h);
        free(real);
        return rc;
    }
    out->path = real;
    out->handle = h;
    out->desc = d;
    return 0;
}

void bp_plugin_unload(bp_loaded *p)
{
    if (!p)
        return;
    if (p->handle)
        dlclose(p->handle);
    free(p->path);
    memset(p, 0, sizeof *p);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int same_dir(const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return 1;
    char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
    int same = ra && rb && strcmp(ra, rb) == 0;
    free(ra);
    free(rb);
    return same;
}

static int add_dir(bp_registry *r, const char *dir, size_t len, bp_err *e)
{
    char *d = strndup(dir, len);
    if (!d)
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->n_dirs; i++)
        if (same_dir(r->dirs[i], d)) {
            free(d);
            return 0;
        }
    char **nd = realloc(r->dirs, (r->n_dirs + 1) * sizeof *nd);
    if (!nd) {
        free(d);
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    }
    r->dirs = nd;
    r->dirs[r->n_dirs++] = d;
    return 0;
}

/* <dir of the running binary>/plugins/.libs when it exists (a build tree), else NULL. */
static char *build_tree_dir(void)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0 || (size_t)len >= sizeof exe - 1)
        return NULL;
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    char dir[PATH_MAX + 32];
    int w = snprintf(dir, sizeof dir, "%s/plugins/.libs", exe);
    if (w < 0 || (size_t)w >= sizeof dir || !is_dir(dir))
        return NULL;
    return strdup(dir);
}

bp_registry *bp_registry_new(char *const *dirs, size_t n_dirs, bp_err *e)
{
    bp_registry *r = calloc(1, sizeof *r);
    if (!r) {
        bp_err_set(e, BP_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n_dirs; i++) {
        if (!dirs[i] || !dirs[i][0]) {
            bp_err_set(e, BP_EUSAGE, "--plugin-path: empty directory name");
            goto fail;
        }
        if (!is_dir(dirs[i])) {
            bp_err_set(e, BP_EUSAGE, "--plugin-path: %s: not a directory", dirs[i]);
            goto fail;
        }
        if (add_dir(r, dirs[i], strlen(dirs[i]), e) < 0)
            goto fail;
    }
    /* Empty entries are skipped: they would mean the current directory. */
    const char *env = getenv("BPRUN_PLUGIN_PATH");
    while (env && *env) {
        const char *colon = strchr(env, ':');
        size_t len = colon ? (size_t)(colon - env) : strlen(env);
        if (len > 0 && add_dir(r, env, len, e) < 0)
            goto fail;
        env += len + (colon != NULL);
    }
    char *tree = build_tree_dir();
    if (tree) {
        int rc = add_dir(r, tree, strlen(tree), e);
        free(tree);
        if (rc < 0)
            goto fail;
    }
    if (add_dir(r, BP_PLUGINDIR, strlen(BP_PLUGINDIR), e) < 0)
        goto fail;
    return r;
fail:
    bp_registry_free(r);
    return NULL;
}

void bp_registry_free(bp_registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_loaded; i++) {
        bp_plugin_unload(r->loaded[i]);
        free(r->loaded[i]);
    }
    free(r->loaded);
    for (size_t i = 0; i < r->n_dirs; i++)
        free(r->dirs[i]);
    free(r->dirs);
    free(r);
}

size_t bp_registry_dirs(const bp_registry *r, const char *const **dirs)
{
    *dirs = (const char *const *)r->dirs;
    return r->n_dirs;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_strs(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* The *.so file names in dir, sorted; a missing or unreadable directory has none. */
static int list_so(const char *dir, char ***names, size_t *n, bp_err *e)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len <= 3 || strcmp(de->d_name + len - 3, ".so") != 0)
            continue;
        if (*n == cap) {
            size_t nc = cap ? 2 * cap : 16;
            char **nv = realloc(*names, nc * sizeof *nv);
            if (!nv)
                goto nomem;
            *names = nv;
            cap = nc;
        }
        if (!((*names)[*n] = strdup(de->d_name)))
            goto nomem;
        (*n)++;
    }
    closedir(d);
    if (*n)
        qsort(*names, *n, sizeof **names, cmp_str);
    return 0;
nomem:
    closedir(d);
    free_strs(*names, *n);
    *names = NULL;
    *n = 0;
    return bp_err_set(e, BP_ENOMEM, "out of memory listing %s", dir);
}

static int not_found(const bp_registry *r, const char *name, int kind, bp_err *e)
{
    char **all = NULL;
    size_t n_all = 0;
    for (size_t i = 0; i < r->n_dirs; i++) {
        char **v;
        size_t n;
        if (list_so(r->dirs[i], &v, &n, e) < 0) {
            free_strs(all, n_all);
            return e ? e->code : BP_ENOMEM;
        }
        char **nv = n ? realloc(all, (n_all + n) * sizeof *nv) : all;
        if (n && !nv) {
            free_strs(v, n);
            free_strs(all, n_all);
            return bp_err_set(e, BP_ENOMEM, "out of memory");
        }
        all = nv;
        for (size_t j = 0; j < n; j++) {
            v[j][strlen(v[j]) - 3] = '\0';
            all[n_all++] = v[j];
        }
        free(v);
    }
    const char *s = bp_suggest(name, (const char *const *)all, n_all);
    char hint[MAX_NAME_LEN * 4 + 32] = "";
    if (s)
        snprintf(hint, sizeof hint, " (did you mean '%s'?)", s);
    char searched[BP_ERR_MSG_MAX] = "";
    size_t used = 0;
    for (size_t i = 0; i < r->n_dirs && used < sizeof searched; i++) {
        int w = snprintf(searched + used, sizeof searched - used, "%s%s", i ? ", " : "",
                         r->dirs[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    char b[80];
    int rc = bp_err_set(e, BP_EPLUGIN, "%s '%s' not found%s; searched: %s",
                        bp_plugin_kind_name(kind), shown(name, b, sizeof b), hint,
                        r->n_dirs ? searched : "(no directories)");
    free_strs(all, n_all);
    return rc;
}

/* Load path through the cache, then check what the caller asked for: the kind (0: any), and
 * for a file found by searching for search_name, that the plugin has that name. */
static const bp_loaded *resolve(bp_registry *r, const char *path, const char *search_name,
                                int kind, const char *need_key, bp_err *e)
{
    const bp_loaded *p = NULL;
    char *real = realpath(path, NULL);
    for (size_t i = 0; real && i < r->n_loaded; i++)
        if (strcmp(r->loaded[i]->path, real) == 0)
            p = r->loaded[i];
    free(real);
    if (!p) {
        if (r->n_loaded == r->cap_loaded) {
            size_t nc = r->cap_loaded ? 2 * r->cap_loaded : 8;
            bp_loaded **nl = realloc(r->loaded, nc * sizeof *nl);
            if (!nl) {
                bp_err_set(e, BP_ENOMEM, "out of memory");
                return NULL;
            }
            r->loaded = nl;
            r->cap_loaded = nc;
        }
        bp_loaded *np = calloc(1, sizeof *np);
        if (!np) {
            bp_err_set(e, BP_ENOMEM, "out of memory");
            return NULL;
        }
        if (bp_plugin_load_file(path, np, e) < 0) {
            free(np);
            return NULL;
        }
        r->loaded[r->n_loaded++] = np;
        p = np;
    }
    const bp_plugin *d = p->desc;
    if (kind && d->kind != kind) {
        if (need_key)
            bp_err_set(e, BP_EPLUGIN, "%s is %s %s, but %s needs %s %s", path, article(d->kind),
                       bp_plugin_kind_name(d->kind), need_key, article(kind),
                       bp_plugin_kind_name(kind));
        else
            bp_err_set(e, BP_EPLUGIN, "%s is %s %s, not %s %s", path, article(d->kind),
                       bp_plugin_kind_name(d->kind), article(kind), bp_plugin_kind_name(kind));
        return NULL;
    }
    if (search_name && strcmp(d->name, search_name) != 0) {
        char b[80];
        bp_err_set(e, BP_EPLUGIN,
                   "%s: declares the name '%s', but a plugin found as %s.so must be named '%s'",
                   path, d->name, shown(search_name, b, sizeof b), b);
        return NULL;
    }
    return p;
}

static int is_explicit_path(const char *name)
{
    size_t len = strlen(name);
    return strchr(name, '/') || (len >= 3 && strcmp(name + len - 3, ".so") == 0);
}

static const bp_loaded *get(bp_registry *r, const char *name, int kind, const char *need_key,
                            bp_err *e)
{
    char b[80];
    if (!name || !name[0]) {
        bp_err_set(e, BP_EPLUGIN, "empty %s name", bp_plugin_kind_name(kind));
        return NULL;
    }
    if (is_explicit_path(name))
        return resolve(r, name, NULL, kind, need_key, e);
    if (!is_ident(name)) {
        bp_err_set(e, BP_EPLUGIN,
                   "'%s' is not a valid %s name (a name matches [a-z_][a-z0-9_]*; a path "
                   "contains '/' or ends in .so)",
                   shown(name, b, sizeof b), bp_plugin_kind_name(kind));
        return NULL;
    }
    for (size_t i = 0; i < r->n_dirs; i++) {
        char path[PATH_MAX];
        int w = snprintf(path, sizeof path, "%s/%s.so", r->dirs[i], name);
        if (w < 0 || (size_t)w >= sizeof path)
            continue;
        struct stat st;
        if (stat(path, &st) == 0 || (errno != ENOENT && errno != ENOTDIR))
            return resolve(r, path, name, kind, need_key, e);
    }
    not_found(r, name, kind, e);
    return NULL;
}

const bp_loaded *bp_registry_get(bp_registry *r, const char *name, int kind, bp_err *e)
{
    return get(r, name, kind, NULL, e);
}

const bp_loaded *bp_registry_get_ref(bp_registry *r, const bp_pluginref *ref, int kind,
                                     bp_err *e)
{
    const char *key = ref->key_path ? ref->key_path : bp_plugin_kind_name(kind);
    const bp_loaded *p = get(r, ref->name, kind, key, e);
    if (!p) {
        char m[512];
        bp_err_prefix(e, "%s: %s", bp_mark_str(&ref->mark, m, sizeof m), key);
    }
    return p;
}

int bp_registry_scan(bp_registry *r, bp_plugin_visit visit, void *ud, bp_err *e)
{
    char **seen = NULL;
    size_t n_seen = 0, cap_seen = 0;
    int rc = 0;
    for (size_t i = 0; i < r->n_dirs && rc == 0; i++) {
        char **v;
        size_t n;
        if ((rc = list_so(r->dirs[i], &v, &n, e)) < 0)
            break;
        for (size_t j = 0; j < n && rc == 0; j++) {
            v[j][strlen(v[j]) - 3] = '\0';
            int dup = 0;
            for (size_t k = 0; k < n_seen && !dup; k++)
                dup = strcmp(seen[k], v[j]) == 0;
            if (dup)
                continue;
            if (n_seen == cap_seen) {
                size_t nc = cap_seen ? 2 * cap_seen : 16;
                char **ns = realloc(seen, nc * sizeof *ns);
                if (!ns) {
                    rc = bp_err_set(e, BP_ENOMEM, "out of memory");
                    break;
                }
                seen = ns;
                cap_seen = nc;
            }
            seen[n_seen++] = v[j];
            v[j] = NULL;
            char path[PATH_MAX];
            int w = snprintf(path, sizeof path, "%s/%s.so", r->dirs[i], seen[n_seen - 1]);
            if (w < 0 || (size_t)w >= sizeof path)
                continue;
            bp_err why;
            bp_err_clear(&why);
            const bp_loaded *p = resolve(r, path, seen[n_seen - 1], 0, NULL, &why);
            if (!p && why.code == BP_ENOMEM)
                rc = bp_err_set(e, BP_ENOMEM, "%s", why.msg);
            else if (visit)
                visit(ud, p, p ? NULL : path, p ? NULL : &why);
        }
        free_strs(v, n);
    }
    free_strs(seen, n_seen);
    return rc;
}

static int find_decl(const bp_hparam *hp, uint32_t n, const char *name)
{
    for (uint32_t j = 0; j < n; j++)
        if (name && strcmp(hp[j].name, name) == 0)
            return (int)j;
    return -1;
}

/* Empty when v is acceptable, else the problem ("must be in (0, inf)"). */
static const char *value_problem(const bp_hparam *h, double v, char *buf, size_t size)
{
    char r[96];
    buf[0] = '\0';
    if (!isfinite(v))
        snprintf(buf, size, "must be a finite number");
    else if ((h->flags & BP_HP_BOOL) && v != 0.0 && v != 1.0)
        snprintf(buf, size, "must be true or false");
    else if ((h->flags & BP_HP_INTEGER) && v != floor(v))
        snprintf(buf, size, "must be an integer");
    else if (!in_range(h, v))
        snprintf(buf, size, "must be in %s", fmt_range(h, r, sizeof r));
    return buf;
}

int bp_plugin_bind(const bp_loaded *p, bp_pluginref *ref, double *values, bp_err *e)
{
    const bp_plugin *d = p->desc;
    const bp_hparam *hp;
    uint32_t n;
    decls_of(d, &hp, &n);
    if (n > BP_MAX_HPARAMS)
        return bp_err_set(e, BP_EPLUGIN, "%s: %s declares too many hyperparameters", p->path,
                          d->name);
    const char *key = ref->key_path ? ref->key_path : bp_plugin_kind_name(d->kind);
    double vals[BP_MAX_HPARAMS];
    int given[BP_MAX_HPARAMS] = { 0 };
    char m[512], b[80], why[160];
    for (size_t i = 0; i < ref->n_hp; i++) {
        const bp_hpval *v = &ref->hp[i];
        bp_mark_str(&v->mark, m, sizeof m);
        int j = find_decl(hp, n, v->name);
        if (j < 0) {
            shown(v->name, b, sizeof b);
            if (n == 0)
                return bp_err_set(e, BP_ECONFIG, "%s: %s.%s: %s has no hyperparameters", m, key,
                                  b, d->name);
            const char *names[BP_MAX_HPARAMS];
            char valid[BP_MAX_HPARAMS * (MAX_NAME_LEN + 2) + 1];
            size_t used = 0;
            for (uint32_t k = 0; k < n; k++) {
                names[k] = hp[k].name;
                int w = snprintf(valid + used, sizeof valid - used, "%s%s", k ? ", " : "",
                                 hp[k].name);
                if (w > 0 && (size_t)w < sizeof valid - used)
                    used += (size_t)w;
            }
            const char *s = v->name ? bp_suggest(v->name, names, n) : NULL;
            return bp_err_set(e, BP_ECONFIG,
                              "%s: %s.%s: %s has no hyperparameter '%s' (%s%s%svalid: %s)", m, key,
                              b, d->name, b, s ? "did you mean '" : "", s ? s : "",
                              s ? "'?; " : "", valid);
        }
        if (given[j])
            return bp_err_set(e, BP_ECONFIG, "%s: %s.%s: given twice", m, key, v->name);
        if (*value_problem(&hp[j], v->value, why, sizeof why))
            return bp_err_set(e, BP_ECONFIG, "%s: %s.%s: %s (got %s)", m, key, v->name, why,
                              fmt_num(v->value, b, sizeof b));
        given[j] = 1;
        vals[j] = v->value;
    }
    size_t missing = 0;
    for (uint32_t j = 0; j < n; j++)
        missing += !given[j];
    if (missing) {
        bp_hpval *nh = realloc(ref->hp, (ref->n_hp + missing) * sizeof *nh);
        if (!nh)
            return bp_err_set(e, BP_ENOMEM, "out of memory");
        ref->hp = nh;
        for (uint32_t j = 0; j < n; j++) {
            if (given[j])
                continue;
            char *name = strdup(hp[j].name);
            if (!name)
                return bp_err_set(e, BP_ENOMEM, "out of memory");
            memset(&ref->hp[ref->n_hp], 0, sizeof ref->hp[0]);
            ref->hp[ref->n_hp].name = name;
            ref->hp[ref->n_hp].value = hp[j].def;
            ref->n_hp++;
            vals[j] = hp[j].def;
            given[j] = 1;
        }
    }
    /* canonical order: the plugin's declaration order, so dumps of equal configs are equal */
    for (uint32_t j = 0; j < n; j++)
        for (size_t i = j; i < ref->n_hp; i++)
            if (ref->hp[i].name && !strcmp(ref->hp[i].name, hp[j].name)) {
                bp_hpval t = ref->hp[j];
                ref->hp[j] = ref->hp[i];
                ref->hp[i] = t;
                ref->hp[j].boolean = (hp[j].flags & BP_HP_BOOL) != 0;
                break;
            }
    if (values && n)
        memcpy(values, vals, n * sizeof *values);
    return 0;
}
