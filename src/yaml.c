/* YAML text -> bp_node tree (libyaml event API), path edits, --set overrides, node dumps. */
#include "autoconf.h"
#include "config.h"
#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#define TAG_PREFIX "tag:yaml.org,2002:"

/* ---- nodes ---- */

static int mark_init(bp_mark *m, const char *src, unsigned line, unsigned col, bp_err *e)
{
    m->src = NULL;
    if (src && !(m->src = bp_xstrdup(src, e)))
        return BP_ENOMEM;
    m->line = line;
    m->col = col;
    return 0;
}

static bp_node *node_new(bp_node_kind kind, const bp_mark *m, bp_err *e)
{
    bp_node *n = bp_xcalloc(1, sizeof *n, e);
    if (!n)
        return NULL;
    n->kind = kind;
    if (m && mark_init(&n->mark, m->src, m->line, m->col, e) < 0) {
        free(n);
        return NULL;
    }
    return n;
}

static bp_node *scalar_new(const char *text, size_t len, int quoted, const bp_mark *m, bp_err *e)
{
    bp_node *n = node_new(BP_NODE_SCALAR, m, e);
    if (!n)
        return NULL;
    n->quoted = quoted;
    n->value = malloc(len + 1);
    if (!n->value) {
        bp_node_free(n);
        bp_err_set(e, BP_ENOMEM, "out of memory");
        return NULL;
    }
    memcpy(n->value, text, len);
    n->value[len] = '\0';
    return n;
}

void bp_node_free(bp_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys)
            free(n->keys[i]);
        if (n->key_marks)
            free(n->key_marks[i].src);
        if (n->items)
            bp_node_free(n->items[i]);
    }
    free(n->keys);
    free(n->key_marks);
    free(n->items);
    free(n->value);
    free(n->mark.src);
    free(n);
}

/* Make room for one more child (n < cap afterwards). */
static int node_reserve(bp_node *n, size_t *cap, bp_err *e)
{
    if (n->n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 4;
    bp_node **items = realloc(n->items, nc * sizeof *items);
    if (!items)
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    n->items = items;
    if (n->kind == BP_NODE_MAP) {
        char **keys = realloc(n->keys, nc * sizeof *keys);
        if (!keys)
            return bp_err_set(e, BP_ENOMEM, "out of memory");
        n->keys = keys;
        bp_mark *km = realloc(n->key_marks, nc * sizeof *km);
        if (!km)
            return bp_err_set(e, BP_ENOMEM, "out of memory");
        n->key_marks = km;
    }
    *cap = nc;
    return 0;
}

/* Append a child (and for maps its key, whose text and mark are taken over). */
static int node_append(bp_node *n, size_t *cap, char *key, bp_mark *km, bp_node *child,
                       bp_err *e)
{
    if (node_reserve(n, cap, e) < 0)
        return e ? e->code : BP_ENOMEM;
    if (n->kind == BP_NODE_MAP) {
        n->keys[n->n] = key;
        n->key_marks[n->n] = *km;
    }
    n->items[n->n++] = child;
    return 0;
}

bp_node *bp_node_clone(const bp_node *n, bp_err *e)
{
    if (!n)
        return NULL;
    bp_node *c;
    if (n->kind == BP_NODE_SCALAR)
        return scalar_new(n->value ? n->value : "", n->value ? strlen(n->value) : 0, n->quoted,
                          &n->mark, e);
    if (!(c = node_new(n->kind, &n->mark, e)))
        return NULL;
    size_t cap = 0;
    for (size_t i = 0; i < n->n; i++) {
        bp_node *item = bp_node_clone(n->items[i], e);
        char *key = NULL;
        bp_mark km = { 0 };
        if (item && n->kind == BP_NODE_MAP) {
            key = bp_xstrdup(n->keys[i], e);
            if (!key || mark_init(&km, n->key_marks[i].src, n->key_marks[i].line,
                                  n->key_marks[i].col, e) < 0) {
                free(key);
                bp_node_free(item);
                item = NULL;
            }
        }
        if (!item || node_append(c, &cap, key, &km, item, e) < 0) {
            if (item) {
                free(key);
                free(km.src);
                bp_node_free(item);
            }
            bp_node_free(c);
            return NULL;
        }
    }
    return c;
}

bp_node *bp_node_get(const bp_node *map, const char *key)
{
    if (!map || map->kind != BP_NODE_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i], key) == 0)
            return map->items[i];
    return NULL;
}

/* ---- reading ---- */

char *bp_config_read_file(const char *path, size_t *len, bp_err *e)
{
    int fd = bp_input_open(path, BP_ECONFIG, NULL, e);
    if (fd < 0)
        return NULL;
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        close(fd);
        bp_err_set(e, BP_ENOMEM, "out of memory");
        return NULL;
    }
    for (;;) {
        if (n == cap) {
            if (cap > BP_CONFIG_MAX_BYTES) {
                bp_err_set(e, BP_ECONFIG, "%s: config is larger than %u bytes", path,
                           BP_CONFIG_MAX_BYTES);
                goto fail;
            }
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                bp_err_set(e, BP_ENOMEM, "out of memory");
                goto fail;
            }
            buf = nb;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            bp_err_set(e, BP_ECONFIG, "%s: cannot read: %s", path, strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > BP_CONFIG_MAX_BYTES) {
        bp_err_set(e, BP_ECONFIG, "%s: config is larger than %u bytes", path, BP_CONFIG_MAX_BYTES);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
fail:
    close(fd);
    free(buf);
    return NULL;
}

/* Depth pre-scan: libyaml 0.2.5 is quadratic in nesting depth, so reject absurd nesting before
 * handing the text over. Counts flow brackets outside quotes and comments, plus block levels
 * by indentation of lines that start an item or hold a key; it may undercount (the event loop
 * catches the rest) but does not overcount real configs. */
static int prescan_depth(const char *t, size_t len, const char *src, unsigned line_base,
                         bp_err *e)
{
    unsigned cols[BP_CONFIG_MAX_DEPTH + 1];
    size_t ncols = 0, flow = 0, block = 0;
    long scalar_indent = -1; /* inside a block scalar more indented than this */
    int quote = 0;           /* '"' or '\'' while inside a quoted scalar */
    unsigned line = line_base;
    size_t i = 0;
    while (i < len) {
        size_t eol = i;
        while (eol < len && t[eol] != '\n')
            eol++;
        size_t p = i;
        while (p < eol && t[p] == ' ')
            p++;
        unsigned indent = (unsigned)(p - i);
        int blank = p == eol || t[p] == '#' || t[p] == '\r';
        if (scalar_indent >= 0 && !blank && (long)indent <= scalar_indent)
            scalar_indent = -1;
        if (scalar_indent >= 0 || (blank && !quote)) {
            i = eol + 1;
            line++;
            continue;
        }
        if (!flow && !quote) {
            /* structural line: starts with "- " / "? " or holds "key:" */
            int structural = 0;
            if ((t[p] == '-' || t[p] == '?') && (p + 1 == eol || t[p + 1] == ' ' || t[p + 1] == '\r'))
                structural = 1;
            for (size_t q = p; !structural && q < eol && t[q] != '#' && t[q] != '"' && t[q] != '\''; q++)
                if (t[q] == ':' && (q + 1 == eol || t[q + 1] == ' ' || t[q + 1] == '\r'))
                    structural = 1;
            if (structural) {
                while (ncols && cols[ncols - 1] >= indent)
                    ncols--;
                size_t q = p;
                unsigned col = indent;
                for (;;) {
                    if (ncols > BP_CONFIG_MAX_DEPTH - 1)
                        return bp_err_set(e, BP_ECONFIG, "%s:%u:%u: nesting deeper than %d levels",
                                          src, line, col + 1, BP_CONFIG_MAX_DEPTH);
                    cols[ncols++] = col;
                    if (!((t[q] == '-' || t[q] == '?') && (q + 1 < eol && t[q + 1] == ' ')))
                        break;
                    q += 2;
                    while (q < eol && t[q] == ' ')
                        q++;
                    col = (unsigned)(q - i);
                    if (q == eol)
                        break;
                }
                block = ncols;
            }
        }
        int token_start = 1; /* a quote or bracket here opens a scalar/collection */
        for (size_t q = p; q < eol; q++) {
            char ch = t[q];
            if (quote) {
                if (ch == '\\' && quote == '"' && q + 1 < eol)
                    q++;
                else if (ch == quote) {
                    if (quote == '\'' && q + 1 < eol && t[q + 1] == '\'')
                        q++;
                    else
                        quote = 0;
                }
                continue;
            }
            if (ch == '#' && (q == p || t[q - 1] == ' ' || t[q - 1] == '\t'))
                break;
            if (token_start && (ch == '"' || ch == '\'')) {
                quote = ch;
                token_start = 0;
            } else if (token_start && (ch == '[' || ch == '{')) {
                flow++;
                if (block + flow > BP_CONFIG_MAX_DEPTH)
                    return bp_err_set(e, BP_ECONFIG, "%s:%u:%u: nesting deeper than %d levels",
                                      src, line, (unsigned)(q - i) + 1, BP_CONFIG_MAX_DEPTH);
            } else if (flow && (ch == ']' || ch == '}')) {
                flow--;
                token_start = 0;
            } else if (token_start && !flow && (ch == '|' || ch == '>')) {
                scalar_indent = indent;
                break;
            } else if (ch == ' ' || ch == '\t' || ch == '\r') {
                if (q > p && (t[q - 1] == ':' || t[q - 1] == '-' || t[q - 1] == '?'))
                    token_start = 1;
            } else if (ch == ',' || ch == '[' || ch == '{') {
                token_start = flow > 0;
            } else if (ch == ':' && flow) {
                token_start = 1;
            } else {
                token_start = 0;
            }
        }
        i = eol + 1;
        line++;
    }
    return 0;
}

typedef struct frame {
    bp_node *node;
    size_t cap;
    char *key;         /* MAP: key waiting for its value */
    bp_mark key_mark;
    size_t *slots;     /* MAP: hash of key index + 1 (0 = empty), for duplicate detection */
    size_t n_slots;
} frame;

typedef struct yctx {
    const char *src;
    unsigned line_base;
    int want_map;
    frame stack[BP_CONFIG_MAX_DEPTH];
    size_t depth;
    size_t n_nodes;
    bp_node *root;
    const char *text;
    size_t len;
    bp_err *e;
} yctx;

static void ymark(const yctx *c, const yaml_mark_t *ym, bp_mark *m)
{
    m->src = (char *)c->src;
    m->line = (unsigned)ym->line + c->line_base;
    m->col = (unsigned)ym->column + 1;
}

/* Append ".key" (or "key" at the start) to buf, control characters shown as '?' so a
 * message stays one line. */
static size_t append_key(char *buf, size_t size, size_t used, const char *key)
{
    if (used && used + 1 < size)
        buf[used++] = '.';
    for (; *key && used + 1 < size; key++)
        buf[used++] = (unsigned char)*key < 0x20 || *key == 0x7f ? '?' : *key;
    buf[used] = '\0';
    return used;
}

/* Key path of the innermost open collection, e.g. "model.layers[2]" ("" at the top). */
static const char *ctx_path(const yctx *c, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i + 1 < c->depth && used + 1 < size; i++) {
        const bp_node *n = c->stack[i].node;
        if (n->kind == BP_NODE_MAP) {
            used = append_key(buf, size, used, n->keys[n->n - 1]);
        } else {
            int w = snprintf(buf + used, size - used, "[%zu]", n->n - 1);
            if (w < 0)
                break;
            used += (size_t)w;
        }
    }
    return buf;
}

static const char *with_key(const char *path, const char *key, char *buf, size_t size)
{
    snprintf(buf, size, "%s", path);
    append_key(buf, size, strlen(buf), key);
    return buf;
}

static uint64_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* Index of an existing key equal to key, or (size_t)-1; the new key is then recorded as index
 * idx. */
static int key_seen(frame *f, const char *key, size_t idx, size_t *first, bp_err *e)
{
    if ((idx + 1) * 2 > f->n_slots) {
        size_t ns = f->n_slots ? f->n_slots * 2 : 16;
        size_t *slots = calloc(ns, sizeof *slots);
        if (!slots)
            return bp_err_set(e, BP_ENOMEM, "out of memory");
        for (size_t i = 0; i < idx; i++) {
            size_t h = (size_t)hash_key(f->node->keys[i]) & (ns - 1);
            while (slots[h])
                h = (h + 1) & (ns - 1);
            slots[h] = i + 1;
        }
        free(f->slots);
        f->slots = slots;
        f->n_slots = ns;
    }
    size_t h = (size_t)hash_key(key) & (f->n_slots - 1);
    while (f->slots[h]) {
        if (strcmp(f->node->keys[f->slots[h] - 1], key) == 0) {
            *first = f->slots[h] - 1;
            return 1;
        }
        h = (h + 1) & (f->n_slots - 1);
    }
    f->slots[h] = idx + 1;
    return 0;
}

static const char *kind_name(const bp_node *n)
{
    return n->kind == BP_NODE_MAP ? "a map" : n->kind == BP_NODE_SEQ ? "a sequence" : "a string";
}

static int is_null_text(const bp_node *n)
{
    if (n->kind != BP_NODE_SCALAR || n->quoted)
        return 0;
    const char *v = n->value;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* Attach a new node (ownership taken) to the innermost collection or make it the root. */
static int on_node(yctx *c, bp_node *n)
{
    bp_err *e = c->e;
    char path[512], full[1024], where[600];
    if (++c->n_nodes > BP_CONFIG_MAX_NODES) {
        int rc = bp_err_set(e, BP_ECONFIG, "%s: more than %d keys and values in one config",
                            bp_mark_str(&n->mark, where, sizeof where), BP_CONFIG_MAX_NODES);
        bp_node_free(n);
        return rc;
    }
    if (!c->depth) {
        if (c->want_map && n->kind != BP_NODE_MAP) {
            int rc;
            if (is_null_text(n))
                rc = bp_err_set(e, BP_ECONFIG, "%s: empty config", c->src);
            else
                rc = bp_err_set(e, BP_ECONFIG, "%s: the top level of a config must be a map "
                                "of keys (got %s)", bp_mark_str(&n->mark, where, sizeof where),
                                kind_name(n));
            bp_node_free(n);
            return rc;
        }
        c->root = n;
    } else {
        frame *f = &c->stack[c->depth - 1];
        if (f->node->kind == BP_NODE_SEQ) {
            if (node_append(f->node, &f->cap, NULL, NULL, n, e) < 0) {
                bp_node_free(n);
                return e->code;
            }
        } else if (!f->key) {
            ctx_path(c, path, sizeof path);
            if (n->kind != BP_NODE_SCALAR || !n->value[0]) {
                int rc = bp_err_set(e, BP_ECONFIG, "%s: %s%sa key must be a non-empty string "
                                    "(got %s)", bp_mark_str(&n->mark, where, sizeof where),
                                    path, *path ? ": " : "",
                                    n->kind == BP_NODE_SCALAR ? "an empty key" : kind_name(n));
                bp_node_free(n);
                return rc;
            }
            size_t first = 0;
            int seen = key_seen(f, n->value, f->node->n, &first, e);
            if (seen < 0) {
                bp_node_free(n);
                return seen;
            }
            if (seen) {
                int rc = bp_err_set(e, BP_ECONFIG, "%s: %s: duplicate key (first at line %u)",
                                    bp_mark_str(&n->mark, where, sizeof where),
                                    with_key(path, n->value, full, sizeof full),
                                    f->node->key_marks[first].line);
                bp_node_free(n);
                return rc;
            }
            f->key = n->value;
            f->key_mark = n->mark;
            n->value = NULL;
            n->mark.src = NULL;
            bp_node_free(n);
            return 0;
        } else {
            if (node_append(f->node, &f->cap, f->key, &f->key_mark, n, e) < 0) {
                bp_node_free(n);
                return e->code;
            }
            f->key = NULL;
            f->key_mark.src = NULL;
        }
    }
    if (n->kind != BP_NODE_SCALAR) {
        if (c->depth >= BP_CONFIG_MAX_DEPTH)
            return bp_err_set(e, BP_ECONFIG, "%s: nesting deeper than %d levels",
                              bp_mark_str(&n->mark, where, sizeof where), BP_CONFIG_MAX_DEPTH);
        frame *f = &c->stack[c->depth++];
        memset(f, 0, sizeof *f);
        f->node = n;
    }
    return 0;
}

static void frame_clear(frame *f)
{
    free(f->key);
    free(f->key_mark.src);
    free(f->slots);
    memset(f, 0, sizeof *f);
}

/* Line and column (1-based) of a byte offset, for reader errors (which carry no mark). */
static void offset_mark(const yctx *c, size_t off, unsigned *line, unsigned *col)
{
    *line = c->line_base;
    *col = 1;
    for (size_t i = 0; i < off && i < c->len; i++) {
        unsigned char ch = (unsigned char)c->text[i];
        if (ch == '\n') {
            (*line)++;
            *col = 1;
        } else if ((ch & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

static int syntax_error(yctx *c, const yaml_parser_t *p)
{
    bp_err *e = c->e;
    if (p->error == YAML_MEMORY_ERROR)
        return bp_err_set(e, BP_ENOMEM, "%s: out of memory while parsing YAML", c->src);
    const char *problem = p->problem ? p->problem : "unknown error";
    if (p->error == YAML_READER_ERROR) {
        unsigned line, col;
        offset_mark(c, p->problem_offset, &line, &col);
        return bp_err_set(e, BP_ECONFIG, "%s:%u:%u: YAML syntax error: %s (0x%02x at byte %zu)",
                          c->src, line, col, problem, (unsigned)p->problem_value,
                          p->problem_offset);
    }
    unsigned line = (unsigned)p->problem_mark.line + c->line_base;
    unsigned col = (unsigned)p->problem_mark.column + 1;
    if (p->context)
        return bp_err_set(e, BP_ECONFIG, "%s:%u:%u: YAML syntax error: %s (%s that started at %u:%u)",
                          c->src, line, col, problem, p->context,
                          (unsigned)p->context_mark.line + c->line_base,
                          (unsigned)p->context_mark.column + 1);
    return bp_err_set(e, BP_ECONFIG, "%s:%u:%u: YAML syntax error: %s", c->src, line, col, problem);
}

static int check_props(yctx *c, const yaml_event_t *ev, const char *anchor, const char *tag)
{
    bp_mark m;
    char where[600];
    ymark(c, &ev->start_mark, &m);
    if (anchor || ev->type == YAML_ALIAS_EVENT)
        return bp_err_set(c->e, BP_ECONFIG, "%s: anchors and aliases are not allowed in a bprun "
                          "config", bp_mark_str(&m, where, sizeof where));
    if (tag) {
        int std = !strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX));
        return bp_err_set(c->e, BP_ECONFIG, "%s: tags are not allowed in a bprun config (got '%s%s')",
                          bp_mark_str(&m, where, sizeof where), std ? "!!" : "",
                          std ? tag + strlen(TAG_PREFIX) : tag);
    }
    return 0;
}

static int on_event(yctx *c, const yaml_event_t *ev, int *docs)
{
    bp_mark m;
    char where[600], path[512];
    bp_node *n;
    ymark(c, &ev->start_mark, &m);
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++*docs > 1)
            return bp_err_set(c->e, BP_ECONFIG, "%s: more than one YAML document in a config",
                              bp_mark_str(&m, where, sizeof where));
        return 0;
    case YAML_ALIAS_EVENT:
        return check_props(c, ev, NULL, NULL);
    case YAML_SCALAR_EVENT: {
        int rc = check_props(c, ev, (const char *)ev->data.scalar.anchor,
                             (const char *)ev->data.scalar.tag);
        if (rc < 0)
            return rc;
        const char *v = (const char *)ev->data.scalar.value;
        size_t len = ev->data.scalar.length;
        if (memchr(v, '\0', len)) {
            char full[1024];
            const frame *f = c->depth ? &c->stack[c->depth - 1] : NULL;
            ctx_path(c, path, sizeof path);
            if (f && f->node->kind == BP_NODE_MAP && f->key)
                with_key(path, f->key, full, sizeof full);
            else if (f && f->node->kind == BP_NODE_SEQ)
                snprintf(full, sizeof full, "%s[%zu]", path, f->node->n);
            else
                snprintf(full, sizeof full, "%s", path);
            return bp_err_set(c->e, BP_ECONFIG, "%s: %s%sNUL character in a string",
                              bp_mark_str(&m, where, sizeof where), full, *full ? ": " : "");
        }
        if (!(n = scalar_new(v, len, ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE, &m, c->e)))
            return c->e->code;
        return on_node(c, n);
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        int seq = ev->type == YAML_SEQUENCE_START_EVENT;
        int rc = check_props(c, ev,
                             (const char *)(seq ? ev->data.sequence_start.anchor
                                                : ev->data.mapping_start.anchor),
                             (const char *)(seq ? ev->data.sequence_start.tag
                                                : ev->data.mapping_start.tag));
        if (rc < 0)
            return rc;
        if (!(n = node_new(seq ? BP_NODE_SEQ : BP_NODE_MAP, &m, c->e)))
            return c->e->code;
        return on_node(c, n);
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        if (c->depth)
            frame_clear(&c->stack[--c->depth]);
        return 0;
    default:
        return 0;
    }
}

/* Parse text; want_map: the top level must be a map (files); else any node (values). */
static bp_node *parse_text(const char *text, size_t len, const char *src, unsigned line_base,
                           int want_map, bp_err *e)
{
    if (!src)
        src = "(string)";
    if (len > BP_CONFIG_MAX_BYTES) {
        bp_err_set(e, BP_ECONFIG, "%s: config is larger than %u bytes", src, BP_CONFIG_MAX_BYTES);
        return NULL;
    }
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) { /* UTF-8 byte order mark */
        text += 3;
        len -= 3;
    }
    if (prescan_depth(text, len, src, line_base, e) < 0)
        return NULL;
    yctx c = { .src = src, .line_base = line_base, .want_map = want_map, .text = text,
               .len = len, .e = e };
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        bp_err_set(e, BP_ENOMEM, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
    int docs = 0, rc = 0, done = 0;
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            rc = syntax_error(&c, &p);
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        rc = on_event(&c, &ev, &docs);
        yaml_event_delete(&ev);
        if (rc < 0)
            break;
    }
    yaml_parser_delete(&p);
    while (c.depth)
        frame_clear(&c.stack[--c.depth]);
    if (rc < 0) {
        bp_node_free(c.root);
        return NULL;
    }
    if (!c.root) {
        if (want_map) {
            bp_err_set(e, BP_ECONFIG, "%s: empty config", src);
            return NULL;
        }
        bp_mark m = { (char *)src, line_base, 1 };
        return scalar_new("", 0, 0, &m, e);
    }
    return c.root;
}

bp_node *bp_yaml_parse_string(const char *text, size_t len, const char *src, bp_err *e)
{
    return parse_text(text, len, src, 1, 1, e);
}

bp_node *bp_yaml_parse_file(const char *path, bp_err *e)
{
    size_t len;
    char *text = bp_config_read_file(path, &len, e);
    if (!text)
        return NULL;
    bp_node *n = parse_text(text, len, path, 1, 1, e);
    free(text);
    return n;
}

bp_node *bp_yaml_parse_value(const char *text, const char *src, bp_err *e)
{
    return parse_text(text, strlen(text), src, 1, 0, e);
}

/* ---- editing ---- */

/* Turn a scalar in the way of a key path into a map: null -> {}, X -> {name: X} (the plugin
 * reference shorthand). */
static int promote_to_map(bp_node *n, bp_err *e)
{
    char *v = n->value;
    int null = is_null_text(n);
    n->kind = BP_NODE_MAP;
    n->value = NULL;
    n->quoted = 0;
    if (null) {
        free(v);
        return 0;
    }
    bp_node *name = scalar_new(v, strlen(v), 0, &n->mark, e);
    free(v);
    char *key = name ? bp_xstrdup("name", e) : NULL;
    bp_mark km = { 0 };
    size_t cap = 0;
    if (!key || mark_init(&km, n->mark.src, n->mark.line, n->mark.col, e) < 0 ||
        node_append(n, &cap, key, &km, name, e) < 0) {
        free(key);
        bp_node_free(name);
        return e ? e->code : BP_ENOMEM;
    }
    return 0;
}

/* Set map[key] = value (replacing, or appending with the value's mark as key mark). */
static int map_put(bp_node *map, const char *key, bp_node *value, bp_err *e)
{
    for (size_t i = 0; i < map->n; i++)
        if (!strcmp(map->keys[i], key)) {
            bp_node_free(map->items[i]);
            map->items[i] = value;
            return 0;
        }
    size_t cap = map->n;
    char *k = bp_xstrdup(key, e);
    bp_mark km = { 0 };
    if (!k || mark_init(&km, value->mark.src, value->mark.line, value->mark.col, e) < 0 ||
        node_append(map, &cap, k, &km, value, e) < 0) {
        free(k);
        free(km.src);
        bp_node_free(value);
        return e ? e->code : BP_ENOMEM;
    }
    return 0;
}

static void seq_put(bp_node *seq, size_t i, bp_node *value)
{
    bp_node_free(seq->items[i]);
    seq->items[i] = value;
}

int bp_node_set_path(bp_node *root, const char *path, bp_node *value, bp_err *e)
{
    char seg[512];
    size_t depth = 0;
    bp_node *cur = root;
    const char *p = path;
    if (!value)
        return bp_err_set(e, BP_EUSAGE, "%s: no value", path);
    if (!root || root->kind != BP_NODE_MAP) {
        bp_node_free(value);
        return bp_err_set(e, BP_ECONFIG, "%s: the config is not a map", path);
    }
    if (!*path) {
        bp_node_free(value);
        return bp_err_set(e, BP_EUSAGE, "empty key path");
    }
    for (;;) {
        size_t n = strcspn(p, ".[");
        if (n == 0 || n >= sizeof seg) {
            bp_node_free(value);
            return bp_err_set(e, BP_EUSAGE, "%s: %s key in the path", path,
                              n ? "overlong" : "empty");
        }
        memcpy(seg, p, n);
        seg[n] = '\0';
        p += n;
        if (++depth > BP_CONFIG_MAX_DEPTH) {
            bp_node_free(value);
            return bp_err_set(e, BP_EUSAGE, "%s: path nested deeper than %d levels", path,
                              BP_CONFIG_MAX_DEPTH);
        }
        size_t done = (size_t)(p - path) - n; /* prefix of path naming cur */
        if (cur->kind == BP_NODE_SCALAR) {
            int rc = promote_to_map(cur, e);
            if (rc < 0) {
                bp_node_free(value);
                return rc;
            }
        }
        if (cur->kind != BP_NODE_MAP) {
            bp_node_free(value);
            return bp_err_set(e, BP_ECONFIG, "%s: %.*s is a sequence, not a map", path,
                              (int)(done ? done - 1 : 0), path);
        }
        if (!*p) {
            return map_put(cur, seg, value, e);
        }
        bp_node *child = bp_node_get(cur, seg);
        if (!child) {
            if (*p == '[') {
                bp_node_free(value);
                return bp_err_set(e, BP_ECONFIG, "%s: %.*s does not exist (cannot index it)",
                                  path, (int)(p - path), path);
            }
            child = node_new(BP_NODE_MAP, &value->mark, e);
            if (!child || map_put(cur, seg, child, e) < 0) {
                bp_node_free(value); /* map_put freed child */
                return e ? e->code : BP_ENOMEM;
            }
        }
        cur = child;
        while (*p == '[') {
            char *end;
            errno = 0;
            if (p[1] < '0' || p[1] > '9') {
                bp_node_free(value);
                return bp_err_set(e, BP_EUSAGE, "%s: expected a number inside [ ]", path);
            }
            unsigned long long idx = strtoull(p + 1, &end, 10);
            if (*end != ']' || errno) {
                bp_node_free(value);
                return bp_err_set(e, BP_EUSAGE, "%s: expected a number inside [ ]", path);
            }
            if (cur->kind != BP_NODE_SEQ) {
                bp_node_free(value);
                return bp_err_set(e, BP_ECONFIG, "%s: %.*s is %s, not a sequence", path,
                                  (int)(p - path), path, kind_name(cur));
            }
            if (idx > cur->n) {
                bp_node_free(value);
                return bp_err_set(e, BP_ECONFIG, "%s: index %llu is out of range (%.*s has %zu "
                                  "entries)", path, idx, (int)(p - path), path, cur->n);
            }
            const char *after = end + 1;
            int last = !*after;
            if (idx == cur->n) { /* append */
                size_t cap = cur->n;
                bp_node *item = last ? value : node_new(BP_NODE_MAP, &value->mark, e);
                if (!item || node_append(cur, &cap, NULL, NULL, item, e) < 0) {
                    if (item != value)
                        bp_node_free(item);
                    bp_node_free(value);
                    return e ? e->code : BP_ENOMEM;
                }
                if (last)
                    return 0;
            } else if (last) {
                seq_put(cur, (size_t)idx, value);
                return 0;
            }
            cur = cur->items[idx];
            p = after;
        }
        if (*p != '.') {
            bp_node_free(value);
            return bp_err_set(e, BP_EUSAGE, "%s: expected '.' or '[' after ']'", path);
        }
        p++;
    }
}

int bp_node_apply_override(bp_node *root, const char *assignment, bp_err *e)
{
    const char *eq = strchr(assignment, '=');
    size_t plen = eq ? (size_t)(eq - assignment) : 0;
    while (plen && (assignment[plen - 1] == ' ' || assignment[plen - 1] == '\t'))
        plen--;
    size_t skip = strspn(assignment, " \t");
    char shown[BP_ERR_MSG_MAX];
    bp_text_line(assignment, shown, sizeof shown);
    if (!eq || skip >= plen)
        return bp_err_set(e, BP_EUSAGE, "--set %s: expected key.path=value", shown);
    char *path = malloc(plen - skip + 1);
    if (!path)
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    memcpy(path, assignment + skip, plen - skip);
    path[plen - skip] = '\0';
    bp_node *value = bp_yaml_parse_value(eq + 1, "--set", e);
    if (!value) {
        free(path);
        return e ? e->code : BP_ECONFIG;
    }
    int rc = bp_node_set_path(root, path, value, e);
    free(path);
    if (rc < 0)
        bp_err_prefix(e, "--set %s", shown);
    return rc;
}

/* ---- dumping ---- */

static int looks_typed(const char *s)
{
    static const char *const words[] = { "~", "null", "true", "false", "yes", "no", "on", "off",
                                         "y", "n", ".inf", "-.inf", "+.inf", ".nan" };
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (!strcasecmp(s, words[i]))
            return 1;
    if (s[0] >= '0' && s[0] <= '9')
        return 1;
    return (s[0] == '-' || s[0] == '+' || s[0] == '.') &&
           ((s[1] >= '0' && s[1] <= '9') || s[1] == '.');
}

static int needs_quotes(const char *s, int flow)
{
    if (!*s || looks_typed(s) || strchr("-?:,[]{}#&*!|>'\"%@` \t", s[0]))
        return 1;
    size_t len = strlen(s);
    if (s[len - 1] == ' ' || s[len - 1] == '\t')
        return 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f)
            return 1;
        if (ch == ':' && (flow || s[i + 1] == ' ' || s[i + 1] == '\0'))
            return 1;
        if (ch == '#' && (s[i - 1] == ' ' || s[i - 1] == '\t'))
            return 1;
        if (flow && strchr(",[]{}", ch))
            return 1;
    }
    return 0;
}

void bp_yaml_write_string(FILE *f, const char *s, int flow)
{
    if (!needs_quotes(s, flow)) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p == '\t')
            fputs("\\t", f);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\x%02x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void dump_scalar(FILE *f, const bp_node *n)
{
    if (n->quoted) {
        /* keep the quotes: a quoted "1" must stay a string */
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)n->value; *p; p++) {
            if (*p == '"' || *p == '\\')
                fprintf(f, "\\%c", *p);
            else if (*p == '\n')
                fputs("\\n", f);
            else if (*p == '\t')
                fputs("\\t", f);
            else if (*p < 0x20 || *p == 0x7f)
                fprintf(f, "\\x%02x", *p);
            else
                fputc(*p, f);
        }
        fputc('"', f);
    } else if (is_null_text(n)) {
        fputs("null", f);
    } else if (looks_typed(n->value) || !needs_quotes(n->value, 0)) {
        fputs(n->value, f); /* plain as read: writing it back plain keeps its type */
    } else {
        bp_yaml_write_string(f, n->value, 0);
    }
}

/* Write n at the given indent; the caller has written the first line's indentation already
 * when inline_first is set ("- " or nothing). */
static void dump_node(FILE *f, const bp_node *n, int indent, int inline_first)
{
    if (n->kind == BP_NODE_SCALAR) {
        dump_scalar(f, n);
        fputc('\n', f);
        return;
    }
    if (!n->n) {
        fputs(n->kind == BP_NODE_MAP ? "{}\n" : "[]\n", f);
        return;
    }
    for (size_t i = 0; i < n->n; i++) {
        if (i || !inline_first)
            fprintf(f, "%*s", indent, "");
        const bp_node *c = n->items[i];
        int nested = c->kind != BP_NODE_SCALAR && c->n;
        if (n->kind == BP_NODE_MAP) {
            bp_yaml_write_string(f, n->keys[i], 0);
            if (nested) {
                fputs(":\n", f);
                /* sequences under a key are indented too, for readability */
                dump_node(f, c, indent + 2, 0);
            } else {
                fputs(": ", f);
                dump_node(f, c, indent + 2, 1);
            }
        } else {
            fputs("- ", f);
            dump_node(f, c, indent + 2, 1);
        }
    }
}

void bp_node_dump(FILE *f, const bp_node *n, int indent)
{
    if (!n)
        return;
    if (n->kind == BP_NODE_SCALAR || !n->n) {
        fprintf(f, "%*s", indent, "");
        dump_node(f, n, indent, 1);
        return;
    }
    dump_node(f, n, indent, 0);
}
