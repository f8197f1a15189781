#include "autoconf.h"
#include "data.h"
#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ---- gzip-or-plain input ----------------------------------------------------------------- */

static gzFile open_input(const char *path, bp_err *e)
{
    int fd = bp_input_open(path, BP_EDATA, NULL, e);
    if (fd < 0)
        return NULL;
    gzFile z = gzdopen(fd, "rb");
    if (!z) {
        close(fd);
        bp_err_set(e, BP_ENOMEM, "%s: cannot open: out of memory", path);
        return NULL;
    }
    gzbuffer(z, 1u << 17);
    return z;
}

/* Reads up to n bytes; returns the count read (short only at end of file), or -1 on error. */
static long long read_some(gzFile z, const char *path, void *buf, size_t n, bp_err *e)
{
    size_t got = 0;
    while (got < n) {
        size_t want = n - got > (1u << 30) ? (1u << 30) : n - got;
        int r = gzread(z, (char *)buf + got, (unsigned)want);
        if (r < 0) {
            int zerr;
            const char *msg = gzerror(z, &zerr);
            bp_err_set(e, BP_EDATA, "%s: read error: %s", path,
                       zerr == Z_ERRNO ? strerror(errno) : msg);
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (long long)got;
}

/* ---- IDX --------------------------------------------------------------------------------- */

#define IDX_MAX_RANK 16

typedef struct idx_hdr {
    int type;
    size_t esize;
    int rank;
    size_t dims[IDX_MAX_RANK];
    size_t count;
} idx_hdr;

static const char *idx_type_name(int t)
{
    switch (t) {
    case 0x08: return "uint8";
    case 0x09: return "int8";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "unknown";
    }
}

static int idx_header(gzFile z, const char *path, idx_hdr *h, bp_err *e)
{
    unsigned char m[4];
    long long got = read_some(z, path, m, 4, e);
    if (got < 0)
        return e ? e->code : BP_EDATA;
    if (got == 0)
        return bp_err_set(e, BP_EDATA, "%s: empty file", path);
    if (got < 4 || m[0] != 0 || m[1] != 0)
        return bp_err_set(e, BP_EDATA,
                          "%s: not an IDX file (the first bytes are not 00 00 type rank)", path);
    h->type = m[2];
    switch (h->type) {
    case 0x08: case 0x09: h->esize = 1; break;
    case 0x0B: h->esize = 2; break;
    case 0x0C: case 0x0D: h->esize = 4; break;
    case 0x0E: h->esize = 8; break;
    default:
        return bp_err_set(e, BP_EDATA, "%s: unknown IDX element type 0x%02X", path, h->type);
    }
    h->rank = m[3];
    if (h->rank < 1 || h->rank > IDX_MAX_RANK)
        return bp_err_set(e, BP_EDATA, "%s: IDX rank %d is not in 1..%d", path, h->rank,
                          IDX_MAX_RANK);
    unsigned char db[4 * IDX_MAX_RANK];
    got = read_some(z, path, db, 4 * (size_t)h->rank, e);
    if (got < 0)
        return e ? e->code : BP_EDATA;
    if (got < 4 * h->rank)
        return bp_err_set(e, BP_EDATA, "%s: truncated IDX header", path);
    h->count = 1;
    for (int i = 0; i < h->rank; i++) {
        const unsigned char *p = db + 4 * i;
        h->dims[i] = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        if (h->dims[i] && h->count > SIZE_MAX / h->esize / sizeof(float) / h->dims[i])
            return bp_err_set(e, BP_EDATA, "%s: the header's sizes are too large", path);
        h->count *= h->dims[i];
    }
    return 0;
}

static double idx_value(const unsigned char *p, int type)
{
    uint32_t u;
    uint64_t w;
    float f;
    double d;
    switch (type) {
    case 0x08: return p[0];
    case 0x09: return (int8_t)p[0];
    case 0x0B: return (int16_t)(uint16_t)((unsigned)p[0] << 8 | p[1]);
    case 0x0C:
        u = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        return (int32_t)u;
    case 0x0D:
        u = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        memcpy(&f, &u, sizeof f);
        return f;
    default:
        w = 0;
        for (int i = 0; i < 8; i++)
            w = w << 8 | p[i];
        memcpy(&d, &w, sizeof d);
        return d;
    }
}

/* Reads h->count values. Images (lab == NULL): out[i] = value * scale as float. Labels: lab[i]
 * = value, which must be a non-negative int32; *maxl gets the largest. Then checks EOF. */
static int idx_body(gzFile z, const char *path, const idx_hdr *h, double scale, float *out,
                    int32_t *lab, int32_t *maxl, bp_err *e)
{
    size_t block = (size_t)1 << 18; /* values per read; no more than the header promises */
    if (h->count < block)
        block = h->count ? h->count : 1;
    unsigned char *buf = bp_xcalloc(block, h->esize, e);
    if (!buf)
        return bp_err_prefix(e, "%s", path);
    float table[256];
    for (int i = 0; i < 256; i++)
        table[i] = (float)(i * scale);
    int rc = 0;
    size_t row = h->count / (h->dims[0] ? h->dims[0] : 1);
    if (maxl)
        *maxl = 0;
    for (size_t i0 = 0; i0 < h->count; i0 += block) {
        size_t nb = h->count - i0 < block ? h->count - i0 : block;
        long long got = read_some(z, path, buf, nb * h->esize, e);
        if (got < 0) {
            rc = e ? e->code : BP_EDATA;
            goto out;
        }
        if ((size_t)got < nb * h->esize) {
            rc = bp_err_set(e, BP_EDATA,
                            "%s: truncated (the header promises %zu %s values, the file holds %zu)",
                            path, h->count, idx_type_name(h->type),
                            i0 + (size_t)got / h->esize);
            goto out;
        }
        if (!lab && h->type == 0x08) {
            for (size_t i = 0; i < nb; i++)
                out[i0 + i] = table[buf[i]];
            continue;
        }
        for (size_t i = 0; i < nb; i++) {
            double v = idx_value(buf + i * h->esize, h->type);
            size_t at = i0 + i;
            if (lab) {
                if (v < 0 || v >= INT32_MAX) {
                    rc = bp_err_set(e, BP_EDATA, "%s: label %.0f at index %zu is out of range", path,
                                    v, at);
                    goto out;
                }
                lab[at] = (int32_t)v;
                if (lab[at] > *maxl)
                    *maxl = lab[at];
                continue;
            }
            v *= scale;
            if (!isfinite(v) || fabs(v) > FLT_MAX) {
                rc = bp_err_set(e, BP_EDATA,
                                "%s: value at image %zu, element %zu is not a finite float32 "
                                "after scaling (got %g)", path, at / row, at % row, v);
                goto out;
            }
            out[at] = (float)v;
        }
    }
    unsigned char extra;
    long long more = read_some(z, path, &extra, 1, e);
    if (more < 0)
        rc = e ? e->code : BP_EDATA;
    else if (more > 0)
        rc = bp_err_set(e, BP_EDATA,
                        "%s: longer than its header says (data after %zu %s values)", path,
                        h->count, idx_type_name(h->type));
out:
    free(buf);
    return rc;
}

/* An uncompressed file shorter than its header promises is refused before anything is
 * allocated (a 16-byte file may claim terabytes). Whether z is compressed is zlib's answer,
 * not the name's: gzdopen inflates a gzip stream whatever the file is called. */
static int idx_check_size(gzFile z, const char *path, const idx_hdr *h, bp_err *e)
{
    struct stat st;
    size_t head = 4 + 4 * (size_t)h->rank;
    if (!gzdirect(z) || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    size_t have = (size_t)st.st_size > head ? ((size_t)st.st_size - head) / h->esize : 0;
    if (have < h->count)
        return bp_err_set(e, BP_EDATA,
                          "%s: truncated (the header promises %zu %s values, the file holds %zu)",
                          path, h->count, idx_type_name(h->type), have);
    return 0;
}

bp_dataset *bp_import_idx(const char *images, const char *labels, double scale, bp_err *e)
{
    if (!(isfinite(scale) && scale != 0.0)) {
        bp_err_set(e, BP_EUSAGE, "scale must be a finite nonzero number (got %g)", scale);
        return NULL;
    }
    gzFile zi = NULL, zl = NULL;
    bp_dataset *d = NULL;
    idx_hdr hi, hl;
    if (!(zi = open_input(images, e)) || idx_header(zi, images, &hi, e) < 0)
        goto fail;
    if (!(zl = open_input(labels, e)) || idx_header(zl, labels, &hl, e) < 0)
        goto fail;
    if (hi.dims[0] == 0 || hi.count == 0) {
        bp_err_set(e, BP_EDATA, "%s: holds no values (a dimension is 0)", images);
        goto fail;
    }
    if (hl.rank != 1) {
        bp_err_set(e, BP_EDATA, "%s: expected a 1-D label file (got rank %d)", labels, hl.rank);
        goto fail;
    }
    if (hl.type == 0x0D || hl.type == 0x0E) {
        bp_err_set(e, BP_EDATA, "%s: labels must be integers (got %s)", labels,
                   idx_type_name(hl.type));
        goto fail;
    }
    if (hl.dims[0] != hi.dims[0]) {
        bp_err_set(e, BP_EDATA, "%s: %zu label%s, but %s has %zu image%s", labels, hl.dims[0],
                   bp_s(hl.dims[0]), images, hi.dims[0], bp_s(hi.dims[0]));
        goto fail;
    }
    if (idx_check_size(zi, images, &hi, e) < 0 || idx_check_size(zl, labels, &hl, e) < 0)
        goto fail;
    if (!(d = bp_data_new(images, hi.dims[0], hi.count / hi.dims[0], BP_TARGET_LABELS, 0, e)))
        goto fail;
    int32_t maxl;
    if (idx_body(zi, images, &hi, scale, d->X, NULL, NULL, e) < 0 ||
        idx_body(zl, labels, &hl, 1.0, NULL, d->y, &maxl, e) < 0)
        goto fail;
    d->k = (size_t)maxl + 1;
    gzclose(zi);
    gzclose(zl);
    return d;
fail:
    if (zi)
        gzclose(zi);
    if (zl)
        gzclose(zl);
    bp_data_free(d);
    return NULL;
}

/* ---- CSV --------------------------------------------------------------------------------- */

static char *read_all(const char *path, size_t *len, bp_err *e)
{
    gzFile z = open_input(path, e);
    if (!z)
        return NULL;
    size_t cap = 1u << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        gzclose(z);
        bp_err_set(e, BP_ENOMEM, "%s: out of memory", path);
        return NULL;
    }
    for (;;) {
        if (cap - n < 2) {
            char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                gzclose(z);
                bp_err_set(e, BP_ENOMEM, "%s: out of memory reading %zu bytes", path, n);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        long long got = read_some(z, path, buf + n, cap - n - 1, e);
        if (got < 0) {
            free(buf);
            gzclose(z);
            return NULL;
        }
        n += (size_t)got;
        if ((size_t)got < cap - (n - (size_t)got) - 1)
            break;
    }
    gzclose(z);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Splits line in place into fields (up to max stored); returns the field count, -1 for an
 * unterminated quote, -2 for text after a closing quote. delim ' ' splits on blank runs. */
static long split_fields(char *line, char delim, char **f, size_t max)
{
    size_t n = 0;
    char *p = line;
    int ws = delim == ' ';
    for (;;) {
        while (*p == ' ' || (*p == '\t' && delim != '\t'))
            p++;
        if (ws && !*p)
            break;
        char *start = p, c;
        if (*p == '"') {
            char *w = p++;
            for (;;) {
                if (!*p)
                    return -1;
                if (*p == '"') {
                    if (p[1] != '"') {
                        p++;
                        break;
                    }
                    p++;
                }
                *w++ = *p++;
            }
            if (ws) {
                if (*p && *p != ' ' && *p != '\t')
                    return -2;
            } else {
                while (*p == ' ' || (*p == '\t' && delim != '\t'))
                    p++;
                if (*p && *p != delim)
                    return -2;
            }
            c = *p;
            *w = '\0';
        } else {
            while (*p && (ws ? (*p != ' ' && *p != '\t') : *p != delim))
                p++;
            c = *p;
            char *t = p;
            while (t > start && (t[-1] == ' ' || (t[-1] == '\t' && delim != '\t')))
                t--;
            *t = '\0';
        }
        if (n < max)
            f[n] = start;
        n++;
        if (!c)
            break;
        p++;
    }
    return (long)n;
}

/* 0 a float32 value, -1 not a number, -2 not finite, -3 outside float32, -4 empty. */
static int parse_num(const char *s, double *v)
{
    if (!*s)
        return -4;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (end == s || *end)
        return -1;
    if (!isfinite(*v) || (errno == ERANGE && fabs(*v) > 1.0))
        return -2;
    if (fabs(*v) > FLT_MAX)
        return -3;
    return 0;
}

/* For header detection: "inf" and "1e999" are data, not names. */
static int looks_numeric(const char *s)
{
    double v;
    int r = parse_num(s, &v);
    return r == 0 || r == -2 || r == -3;
}

static int is_label_number(const char *s, double *v)
{
    return parse_num(s, v) == 0 && *v >= 0 && *v < INT32_MAX && *v == floor(*v);
}

static char detect_delim(const char *line)
{
    size_t cnt[3] = {0, 0, 0};
    static const char cand[3] = {',', ';', '\t'};
    int q = 0;
    for (const char *p = line; *p; p++) {
        if (*p == '"')
            q = !q;
        for (int i = 0; i < 3 && !q; i++)
            cnt[i] += *p == cand[i];
    }
    int best = 0;
    for (int i = 1; i < 3; i++)
        if (cnt[i] > cnt[best])
            best = i;
    if (cnt[best])
        return cand[best];
    const char *s = line;
    while (*s == ' ' || *s == '\t')
        s++;
    return strpbrk(s, " \t") ? ' ' : ',';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct csv_line {
    char *s;
    unsigned long no;
} csv_line;

typedef struct csv {
    const char *path;
    char *buf;
    csv_line *lines;
    size_t nlines;
    char delim;
    size_t ncols;
    char **f1, **f2, **fr;  /* fields of line 1, line 2, and of the current row */
    long n1, n2;
    const char **labels;    /* per data row, when there is a label column */
    unsigned long *label_line;
} csv;

static int split_err(const csv *c, unsigned long no, long r, bp_err *e)
{
    return bp_err_set(e, BP_EDATA, "%s:%lu: %s", c->path, no,
                      r == -1 ? "unterminated quote (quoted fields cannot span lines)"
                              : "unexpected text after a closing quote");
}

static int csv_lines(csv *c, size_t len, bp_err *e)
{
    if (memchr(c->buf, '\0', len))
        return bp_err_set(e, BP_EDATA, "%s: contains NUL bytes (not a text file)", c->path);
    size_t cap = 1;
    for (size_t i = 0; i < len; i++)
        cap += c->buf[i] == '\n';
    if (!(c->lines = bp_xcalloc(cap, sizeof *c->lines, e)))
        return e ? e->code : BP_ENOMEM;
    char *p = c->buf;
    if ((unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF)
        p += 3;
    for (unsigned long no = 1; p; no++) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        size_t l = strlen(p);
        if (l && p[l - 1] == '\r')
            p[--l] = '\0';
        if (p[strspn(p, " \t")])
            c->lines[c->nlines++] = (csv_line){p, no};
        p = nl ? nl + 1 : NULL;
    }
    if (!c->nlines)
        return bp_err_set(e, BP_EDATA, "%s: empty file", c->path);
    return 0;
}

static int too_few_columns(const csv *c, bp_err *e)
{
    return bp_err_set(e, BP_EDATA, "%s: needs at least 2 columns (features and a label), has %zu",
                      c->path, c->ncols);
}

static int csv_columns(csv *c, const bp_csv_opts *o, int *header, size_t *lc, bp_err *e)
{
    /* first two lines: count, split, detect the header */
    c->delim = o->delimiter ? o->delimiter : detect_delim(c->lines[0].s);
    if (c->delim == '"' || c->delim == '\r' || c->delim == '\n')
        return bp_err_set(e, BP_EUSAGE, "the delimiter cannot be a quote or a line break");
    char *copy = bp_xstrdup(c->lines[0].s, e);
    if (!copy)
        return e ? e->code : BP_ENOMEM;
    long nc = split_fields(copy, c->delim, NULL, 0);
    free(copy);
    if (nc < 0)
        return split_err(c, c->lines[0].no, nc, e);
    c->ncols = (size_t)nc;
    if (!(c->f1 = bp_xcalloc(c->ncols + 1, sizeof(char *), e)) ||
        !(c->f2 = bp_xcalloc(c->ncols + 1, sizeof(char *), e)) ||
        !(c->fr = bp_xcalloc(c->ncols + 1, sizeof(char *), e)))
        return e ? e->code : BP_ENOMEM;
    c->n1 = split_fields(c->lines[0].s, c->delim, c->f1, c->ncols + 1);
    c->n2 = c->nlines > 1 ? split_fields(c->lines[1].s, c->delim, c->f2, c->ncols + 1) : 0;
    if (c->n2 < 0)
        return split_err(c, c->lines[1].no, c->n2, e);
    *header = o->header;
    if (*header < 0 && o->label_name)
        *header = 1;
    if (*header < 0) {
        *header = 0;
        for (size_t j = 0; j < c->ncols; j++) {
            if (*c->f1[j] && !looks_numeric(c->f1[j]) &&
                (c->nlines == 1 || ((size_t)c->n2 > j && looks_numeric(c->f2[j]))))
                *header = 1;
        }
    }
    /* the label column */
    if (o->label_name) {
        if (!*header)
            return bp_err_set(e, BP_EUSAGE,
                              "%s: label column '%s' needs a header row (header is off)",
                              c->path, o->label_name);
        for (size_t j = 0; j < c->ncols; j++)
            if (strcmp(c->f1[j], o->label_name) == 0) {
                *lc = j;
                return c->ncols < 2 ? too_few_columns(c, e) : 0;
            }
        char cols[512] = "";
        size_t used = 0;
        for (size_t j = 0; j < c->ncols && used < sizeof cols; j++) {
            int w = snprintf(cols + used, sizeof cols - used, "%s'%s'", j ? ", " : "", c->f1[j]);
            used += w > 0 ? (size_t)w : 0;
        }
        return bp_err_set(e, BP_EUSAGE, "%s: no column named '%s' (columns: %s)", c->path,
                          o->label_name, cols);
    }
    if (o->label_column == -2) {
        if (o->target_columns < 1 || o->target_columns >= c->ncols)
            return bp_err_set(e, BP_EUSAGE,
                              "%s: %zu target column%s, but the file has %zu column%s (needs "
                              "at least one target and one feature)", c->path,
                              o->target_columns, bp_s(o->target_columns), c->ncols,
                              bp_s(c->ncols));
        *lc = SIZE_MAX;
        return 0;
    }
    if (o->label_column < -2)
        return bp_err_set(e, BP_EUSAGE, "label column must be >= -2 (got %ld)", o->label_column);
    if (o->label_column >= 0 && (size_t)o->label_column >= c->ncols)
        return bp_err_set(e, BP_EUSAGE, "%s: label column %ld does not exist (the file has %zu "
                          "column%s)", c->path, o->label_column + 1, c->ncols, bp_s(c->ncols));
    if (c->ncols < 2)
        return too_few_columns(c, e);
    *lc = o->label_column == -1 ? c->ncols - 1 : (size_t)o->label_column;
    return 0;
}

static int csv_labels(csv *c, bp_dataset *d, int mode, size_t lc, bp_err *e)
{
    double v;
    if (mode < 0) {
        mode = 0;
        for (size_t i = 0; i < d->n && !mode; i++)
            mode = !is_label_number(c->labels[i], &v);
    }
    if (!mode) {
        int32_t maxv = 0;
        for (size_t i = 0; i < d->n; i++) {
            if (!is_label_number(c->labels[i], &v))
                return bp_err_set(e, BP_EDATA,
                                  "%s:%lu: column %zu: label '%.40s' is not a non-negative "
                                  "integer", c->path, c->label_line[i], lc + 1, c->labels[i]);
            d->y[i] = (int32_t)v;
            if (d->y[i] > maxv)
                maxv = d->y[i];
        }
        d->k = (size_t)maxv + 1;
        return 0;
    }
    const char **sorted = bp_xcalloc(d->n, sizeof *sorted, e);
    if (!sorted)
        return e ? e->code : BP_ENOMEM;
    for (size_t i = 0; i < d->n; i++) {
        if (!*c->labels[i]) {
            free(sorted);
            return bp_err_set(e, BP_EDATA, "%s:%lu: column %zu: empty label", c->path,
                              c->label_line[i], lc + 1);
        }
        sorted[i] = c->labels[i];
    }
    qsort(sorted, d->n, sizeof *sorted, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < d->n; i++)
        if (!k || strcmp(sorted[k - 1], sorted[i]) != 0)
            sorted[k++] = sorted[i];
    int rc = 0;
    if (!(d->class_names = bp_xcalloc(k, sizeof *d->class_names, e))) {
        rc = e ? e->code : BP_ENOMEM;
        goto out;
    }
    d->k = k;
    for (size_t j = 0; j < k; j++)
        if (!(d->class_names[j] = bp_xstrdup(sorted[j], e))) {
            rc = e ? e->code : BP_ENOMEM;
            goto out;
        }
    for (size_t i = 0; i < d->n; i++) {
        const char **hit = bsearch(&c->labels[i], sorted, k, sizeof *sorted, cmp_str);
        d->y[i] = (int32_t)(hit - sorted);
    }
out:
    free(sorted);
    return rc;
}

static bp_dataset *csv_parse(csv *c, const bp_csv_opts *o, bp_err *e)
{
    int header = 0;
    size_t lc = 0;
    if (csv_columns(c, o, &header, &lc, e) < 0)
        return NULL;
    size_t first = header ? 1 : 0, n = c->nlines - first;
    if (n == 0) {
        bp_err_set(e, BP_EDATA, "%s: no data rows", c->path);
        return NULL;
    }
    int targets = lc == SIZE_MAX;
    size_t nt = targets ? o->target_columns : 1, nf = c->ncols - nt;
    bp_dataset *d = bp_data_new(c->path, n, nf, targets ? BP_TARGET_MATRIX : BP_TARGET_LABELS,
                                targets ? nt : 0, e);
    if (!d)
        return NULL;
    if (!targets && (!(c->labels = bp_xcalloc(n, sizeof *c->labels, e)) ||
                     !(c->label_line = bp_xcalloc(n, sizeof *c->label_line, e))))
        goto fail;
    for (size_t i = 0; i < n; i++) {
        const csv_line *L = &c->lines[first + i];
        char **f;
        long nfld;
        if (first + i == 0) {
            f = c->f1;
            nfld = c->n1;
        } else if (first + i == 1) {
            f = c->f2;
            nfld = c->n2;
        } else {
            f = c->fr;
            nfld = split_fields(L->s, c->delim, f, c->ncols + 1);
        }
        if (nfld < 0) {
            split_err(c, L->no, nfld, e);
            goto fail;
        }
        if ((size_t)nfld != c->ncols) {
            bp_err_set(e, BP_EDATA, "%s:%lu: %ld field%s, but the first row has %zu", c->path,
                       L->no, nfld, bp_s((unsigned long long)nfld), c->ncols);
            goto fail;
        }
        float *x = d->X + i * nf;
        for (size_t j = 0, col = 0; j < c->ncols; j++) {
            if (j == lc) {
                c->labels[i] = f[j];
                c->label_line[i] = L->no;
                continue;
            }
            double v;
            int r = parse_num(f[j], &v);
            if (r != 0) {
                if (r == -4)
                    bp_err_set(e, BP_EDATA, "%s:%lu: column %zu: empty field", c->path, L->no,
                               j + 1);
                else
                    bp_err_set(e, BP_EDATA, "%s:%lu: column %zu: %s ('%.40s')", c->path, L->no,
                               j + 1, r == -1 ? "not a number" : r == -2 ? "not a finite number"
                                                                         : "does not fit in float32",
                               f[j]);
                goto fail;
            }
            if (targets && j >= nf)
                d->Y[i * nt + (j - nf)] = (float)v;
            else
                x[col++] = (float)v;
        }
    }
    if (!targets && csv_labels(c, d, o->labels_text, lc, e) < 0)
        goto fail;
    return d;
fail:
    bp_data_free(d);
    return NULL;
}

/* Parses buf (len bytes and a NUL; owned: freed here) as the CSV text of path. */
static bp_dataset *csv_import(const char *path, char *buf, size_t len, const bp_csv_opts *o,
                              bp_err *e)
{
    static const bp_csv_opts defaults = {.header = -1, .label_column = -1, .labels_text = -1};
    if (!o)
        o = &defaults;
    csv c = {.path = path, .buf = buf};
    bp_dataset *d = NULL;
    if (c.buf && csv_lines(&c, len, e) == 0)
        d = csv_parse(&c, o, e);
    free(c.buf);
    free(c.lines);
    free(c.f1);
    free(c.f2);
    free(c.fr);
    free(c.labels);
    free(c.label_line);
    return d;
}

bp_dataset *bp_import_csv(const char *path, const bp_csv_opts *o, bp_err *e)
{
    size_t len = 0;
    char *buf = read_all(path, &len, e);
    return buf ? csv_import(path, buf, len, o, e) : NULL;
}

bp_dataset *bp_import_csv_text(const char *name, const char *text, size_t len,
                               const bp_csv_opts *o, bp_err *e)
{
    char *buf = bp_xcalloc(len + 1, 1, e);
    if (!buf)
        return NULL;
    if (len)
        memcpy(buf, text, len);
    return csv_import(name, buf, len, o, e);
}
