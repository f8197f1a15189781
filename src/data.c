#include "autoconf.h"
#include "data.h"

#include <errno.h>
#include <float.h>
#include <hdf5.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset.h"
#include "generate.h"
#include "input.h"
#include "rng.h"

static int copy_class_names(bp_dataset *to, const bp_dataset *from, bp_err *e)
{
    if (!from->class_names)
        return 0;
    if (!(to->class_names = bp_xcalloc(from->k, sizeof *to->class_names, e)))
        return e ? e->code : BP_ENOMEM;
    for (size_t i = 0; i < from->k; i++)
        if (!(to->class_names[i] = bp_xstrdup(from->class_names[i], e)))
            return e ? e->code : BP_ENOMEM;
    return 0;
}

static void copy_row(bp_dataset *to, size_t r, const bp_dataset *from, size_t s)
{
    memcpy(to->X + r * to->d, from->X + s * from->d, from->d * sizeof(float));
    if (from->kind == BP_TARGET_MATRIX)
        memcpy(to->Y + r * to->k, from->Y + s * from->k, from->k * sizeof(float));
    else
        to->y[r] = from->y[s];
}

static bp_dataset *split_part(const bp_dataset *all, size_t n, const char *part, bp_err *e)
{
    char name[BP_ERR_MSG_MAX];
    snprintf(name, sizeof name, "%s (split: %s)", all->name ? all->name : "dataset", part);
    bp_dataset *p = bp_data_new(name, n, all->d, all->kind, all->k, e);
    if (p && copy_class_names(p, all, e) < 0) {
        bp_data_free(p);
        return NULL;
    }
    return p;
}

int bp_data_split(const bp_dataset *all, double frac, uint64_t seed, bp_dataset **train,
                  bp_dataset **val, bp_err *e)
{
    *train = NULL;
    *val = NULL;
    const char *nm = all->name ? all->name : "dataset";
    if (!(frac > 0.0 && frac < 1.0))
        return bp_err_set(e, BP_ECONFIG, "validation fraction must be in (0, 1) (got %g)", frac);
    if (all->n < 2)
        return bp_err_set(e, BP_EDATA,
                          "%s: needs at least 2 rows to split off a validation set (has %zu)", nm,
                          all->n);
    if (all->n > UINT32_MAX)
        return bp_err_set(e, BP_EDATA, "%s: %zu rows are too many to split (at most %" PRIu32 ")",
                          nm, all->n, UINT32_MAX);
    double want = floor(frac * (double)all->n + 0.5);
    if (want < 1.0 || want > (double)(all->n - 1)) {
        size_t v = want < 1.0 ? 0 : all->n;
        return bp_err_set(e, BP_ECONFIG,
                          "a fraction of %g takes %zu of the %zu rows of %s, leaving %zu for "
                          "training; each side needs at least one row (a fraction from %g to "
                          "below %g)", frac, v, all->n, nm, all->n - v, 0.5 / (double)all->n,
                          ((double)all->n - 0.5) / (double)all->n);
    }
    size_t nv = (size_t)want;
    uint32_t *perm = bp_xcalloc(all->n, sizeof *perm, e);
    unsigned char *in_val = bp_xcalloc(all->n, 1, e);
    bp_dataset *tr = NULL, *va = NULL;
    int rc = BP_ENOMEM;
    if (!perm || !in_val)
        goto out;
    bp_rng r = bp_rng_stream(seed, 0, BP_RNG_SPLIT, 0);
    bp_rng_permutation(&r, perm, all->n);
    if (!(va = split_part(all, nv, "validation", e)) ||
        !(tr = split_part(all, all->n - nv, "train", e)))
        goto out;
    for (size_t i = 0; i < nv; i++) {
        copy_row(va, i, all, perm[i]);
        in_val[perm[i]] = 1;
    }
    for (size_t s = 0, t = 0; s < all->n; s++)
        if (!in_val[s])
            copy_row(tr, t++, all, s);
    *train = tr;
    *val = va;
    tr = va = NULL;
    rc = 0;
out:
    free(perm);
    free(in_val);
    bp_data_free(tr);
    bp_data_free(va);
    return rc;
}

void bp_data_moments(const bp_dataset *d, double *mean, double *std)
{
    for (size_t j = 0; j < d->d; j++)
        mean[j] = std[j] = 0.0;
    for (size_t i = 0; i < d->n; i++)
        for (size_t j = 0; j < d->d; j++)
            mean[j] += d->X[i * d->d + j];
    for (size_t j = 0; j < d->d; j++)
        mean[j] /= (double)d->n;
    for (size_t i = 0; i < d->n; i++)
        for (size_t j = 0; j < d->d; j++) {
            double t = d->X[i * d->d + j] - mean[j];
            std[j] += t * t;
        }
    for (size_t j = 0; j < d->d; j++) {
        std[j] = sqrt(std[j] / (double)d->n);
        if (std[j] == 0.0)
            std[j] = 1.0;
    }
}

void bp_data_standardize(bp_dataset *d, const double *mean, const double *std)
{
    for (size_t i = 0; i < d->n; i++)
        for (size_t j = 0; j < d->d; j++) {
            float *x = &d->X[i * d->d + j];
            *x = (float)(((double)*x - mean[j]) / std[j]);
        }
}

int bp_data_check_shape(const bp_dataset *d, size_t n_in, size_t n_out, bp_err *e)
{
    const char *nm = d->name ? d->name : "dataset";
    if (d->d != n_in)
        return bp_err_set(e, BP_EDATA, "%s: X has %zu feature%s but model.layers[0] is %zu", nm,
                          d->d, bp_s(d->d), n_in);
    if (d->kind == BP_TARGET_MATRIX) {
        if (d->k != n_out)
            return bp_err_set(e, BP_EDATA,
                              "%s: Y has %zu column%s but the output layer (last of model.layers) "
                              "is %zu", nm, d->k, bp_s(d->k), n_out);
        return 0;
    }
    if (n_out == 1) {
        for (size_t i = 0; i < d->n; i++)
            if (d->y[i] != 0 && d->y[i] != 1)
                return bp_err_set(e, BP_EDATA,
                                  "%s: label %" PRId32 " at row %zu is not 0 or 1, as a single "
                                  "output unit (last of model.layers is 1) needs", nm, d->y[i], i);
        return 0;
    }
    for (size_t i = 0; i < d->n; i++)
        if (d->y[i] < 0 || (size_t)d->y[i] >= n_out)
            return bp_err_set(e, BP_EDATA,
                              "%s: label %" PRId32 " at row %zu is out of range for %zu output "
                              "units (last of model.layers)", nm, d->y[i], i, n_out);
    if (d->k > n_out)
        return bp_err_set(e, BP_EDATA,
                          "%s: %zu class%s but %zu output unit%s (last of model.layers)", nm,
                          d->k, d->k == 1 ? "" : "es", n_out, bp_s(n_out));
    return 0;
}

/* ---- HDF5 helpers ------------------------------------------------------------------------ */

typedef struct h5_quiet {
    H5E_auto2_t func;
    void *data;
} h5_quiet;

static void h5_quiet_on(h5_quiet *q)
{
    if (H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data) < 0) {
        q->func = NULL;
        q->data = NULL;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void h5_quiet_off(const h5_quiet *q)
{
    H5Eset_auto2(H5E_DEFAULT, q->func, q->data);
}

typedef struct h5_why {
    char s[300];
} h5_why;

static herr_t why_cb(unsigned n, const H5E_error2_t *err, void *data)
{
    h5_why *w = data;
    if (n == 0 && err->desc && !strncmp(err->desc, "truncated file", 14))
        snprintf(w->s, sizeof w->s, " (the file is truncated: shorter than its header says)");
    else if (n == 0 && err->desc)
        snprintf(w->s, sizeof w->s, " (%s)", err->desc);
    return 0;
}

/* The innermost message of HDF5's error stack, as " (text)", or "". Call right after the
 * failing call: the next API call clears the stack. */
static const char *h5_why_now(h5_why *w)
{
    w->s[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, why_cb, w);
    return w->s;
}

static void h5_close(hid_t id)
{
    if (id < 0)
        return;
    switch (H5Iget_type(id)) {
    case H5I_FILE: H5Fclose(id); break;
    case H5I_GROUP: H5Gclose(id); break;
    case H5I_DATASET: H5Dclose(id); break;
    case H5I_DATASPACE: H5Sclose(id); break;
    case H5I_DATATYPE: H5Tclose(id); break;
    case H5I_ATTR: H5Aclose(id); break;
    case H5I_GENPROP_LST: H5Pclose(id); break;
    default: break;
    }
}

/* "/a/b" from "a/b", "/a/b/", "", NULL ("/" for the root). */
static char *norm_group(const char *g, bp_err *e)
{
    if (!g)
        g = "";
    size_t n = strlen(g);
    char *s = bp_xcalloc(n + 2, 1, e);
    if (!s)
        return NULL;
    size_t o = 0;
    s[o++] = '/';
    for (size_t i = 0; i < n; i++)
        if (g[i] != '/' || s[o - 1] != '/')
            s[o++] = g[i];
    if (o > 1 && s[o - 1] == '/')
        o--;
    s[o] = '\0';
    return s;
}

static int is_root(const char *g)
{
    return g[0] == '/' && g[1] == '\0';
}

static const char *type_class_name(hid_t t, char *buf, size_t size)
{
    switch (H5Tget_class(t)) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: snprintf(buf, size, "%zu-bit float", H5Tget_size(t) * 8); return buf;
    case H5T_STRING: return "string";
    case H5T_BITFIELD: return "bitfield";
    case H5T_OPAQUE: return "opaque";
    case H5T_COMPOUND: return "compound";
    case H5T_REFERENCE: return "reference";
    case H5T_ENUM: return "enum";
    case H5T_VLEN: return "variable-length";
    case H5T_ARRAY: return "array";
    case H5T_TIME: return "time";
    default: return "unknown type";
    }
}

/* What a dataset must look like. */
typedef enum want { WANT_FLOAT2, WANT_INT1 } want;

/* Opens name in g as a dataset of the wanted kind; fills dims (2 entries). */
static int open_checked(hid_t g, const char *name, const char *label, want w, hid_t lapl,
                        hid_t *out, hsize_t dims[2], bp_err *e)
{
    h5_why why;
    hid_t obj = H5Oopen(g, name, lapl);
    if (obj < 0)
        return bp_err_set(e, BP_EDATA, "%s: cannot open%s", label, h5_why_now(&why));
    if (H5Iget_type(obj) != H5I_DATASET) {
        h5_close(obj);
        return bp_err_set(e, BP_EDATA, "%s: not a dataset", label);
    }
    hid_t t = H5Dget_type(obj), sp = H5Dget_space(obj);
    int rc = 0;
    if (t < 0 || sp < 0) {
        rc = bp_err_set(e, BP_EDATA, "%s: cannot read its type or shape%s", label,
                        h5_why_now(&why));
        goto out;
    }
    H5S_class_t sc = H5Sget_simple_extent_type(sp);
    int rank = sc == H5S_SIMPLE ? H5Sget_simple_extent_ndims(sp) : 0;
    H5T_class_t tc = H5Tget_class(t);
    int want_rank = w == WANT_FLOAT2 ? 2 : 1;
    int type_ok = w == WANT_FLOAT2 ? (tc == H5T_FLOAT && (H5Tget_size(t) == 4 ||
                                                          H5Tget_size(t) == 8))
                                   : tc == H5T_INTEGER;
    if (rank != want_rank || !type_ok) {
        char tb[32], got[80];
        const char *tn = type_class_name(t, tb, sizeof tb);
        if (sc == H5S_NULL)
            snprintf(got, sizeof got, "an empty dataspace");
        else if (rank != want_rank && !type_ok)
            snprintf(got, sizeof got, "%d-D %s", rank, tn);
        else if (rank != want_rank)
            snprintf(got, sizeof got, "%d-D", rank);
        else
            snprintf(got, sizeof got, "%s", tn);
        rc = bp_err_set(e, BP_EDATA, "%s: expected a %s dataset (got %s)", label,
                        w == WANT_FLOAT2 ? "2-D float32 or float64" : "1-D integer", got);
        goto out;
    }
    dims[1] = 1;
    if (H5Sget_simple_extent_dims(sp, dims, NULL) < 0) {
        rc = bp_err_set(e, BP_EDATA, "%s: cannot read its shape%s", label, h5_why_now(&why));
        goto out;
    }
out:
    h5_close(t);
    h5_close(sp);
    if (rc < 0)
        h5_close(obj);
    else
        *out = obj;
    return rc;
}

/* Reads an n x d float dataset into out (float32), checking every value is finite and fits. */
static int read_floats(hid_t ds, const char *label, size_t n, size_t d, float *out, bp_err *e)
{
    h5_why why;
    size_t rows = d >= (1u << 17) ? 1 : (1u << 17) / d;
    if (rows > n)
        rows = n;
    double *buf = bp_xcalloc(rows * d, sizeof *buf, e);
    hid_t fs = H5Dget_space(ds), ms = -1;
    int rc = 0;
    if (!buf) {
        rc = bp_err_prefix(e, "%s", label);
        goto out;
    }
    if (fs < 0) {
        rc = bp_err_set(e, BP_EDATA, "%s: cannot read%s", label, h5_why_now(&why));
        goto out;
    }
    for (size_t r0 = 0; r0 < n; r0 += rows) {
        size_t nr = n - r0 < rows ? n - r0 : rows;
        hsize_t start[2] = {r0, 0}, count[2] = {nr, d};
        h5_close(ms);
        ms = H5Screate_simple(2, count, NULL);
        if (ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
            H5Dread(ds, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, buf) < 0) {
            rc = bp_err_set(e, BP_EDATA, "%s: cannot read rows %zu..%zu%s", label, r0,
                            r0 + nr - 1, h5_why_now(&why));
            goto out;
        }
        for (size_t i = 0; i < nr * d; i++) {
            double v = buf[i];
            if (!isfinite(v)) {
                rc = bp_err_set(e, BP_EDATA, "%s: non-finite value at row %zu, column %zu", label,
                                r0 + i / d, i % d);
                goto out;
            }
            if (fabs(v) > FLT_MAX) {
                rc = bp_err_set(e, BP_EDATA,
                                "%s: value %g at row %zu, column %zu does not fit in float32",
                                label, v, r0 + i / d, i % d);
                goto out;
            }
            out[r0 * d + i] = (float)v;
        }
    }
out:
    free(buf);
    h5_close(fs);
    h5_close(ms);
    return rc;
}

/* Reads an integer attribute (scalar or one element). 1 found, 0 absent, < 0 error. */
static int read_int_attr(hid_t obj, const char *name, const char *label, long long *v,
                         bp_err *e)
{
    h5_why why;
    htri_t ex = H5Aexists(obj, name);
    if (ex < 0)
        return bp_err_set(e, BP_EDATA, "%s: cannot read attribute %s%s", label, name,
                          h5_why_now(&why));
    if (ex == 0)
        return 0;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT), t = -1, sp = -1;
    int rc = 1;
    if (a < 0 || (t = H5Aget_type(a)) < 0 || (sp = H5Aget_space(a)) < 0) {
        rc = bp_err_set(e, BP_EDATA, "%s: cannot read attribute %s%s", label, name,
                        h5_why_now(&why));
        goto out;
    }
    if (H5Tget_class(t) != H5T_INTEGER || H5Sget_simple_extent_npoints(sp) != 1) {
        char tb[32];
        rc = bp_err_set(e, BP_EDATA, "%s: attribute %s must be one integer (got %lld %s)", label,
                        name, (long long)H5Sget_simple_extent_npoints(sp),
                        type_class_name(t, tb, sizeof tb));
        goto out;
    }
    if (H5Aread(a, H5T_NATIVE_LLONG, v) < 0) {
        rc = bp_err_set(e, BP_EDATA, "%s: cannot read attribute %s%s", label, name,
                        h5_why_now(&why));
        goto out;
    }
out:
    h5_close(sp);
    h5_close(t);
    h5_close(a);
    return rc;
}

static void free_names(char **names, size_t n)
{
    if (!names)
        return;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Reads a 1-D string attribute (variable or fixed length). 1 found, 0 absent, < 0 error. */
static int read_names_attr(hid_t obj, const char *name, const char *label, char ***out,
                           size_t *count, bp_err *e)
{
    h5_why why;
    htri_t ex = H5Aexists(obj, name);
    if (ex < 0)
        return bp_err_set(e, BP_EDATA, "%s: cannot read attribute %s%s", label, name,
                          h5_why_now(&why));
    if (ex == 0)
        return 0;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT), t = -1, sp = -1, mt = -1;
    char **names = NULL, **vl = NULL, *fixed = NULL;
    size_t n = 0;
    int rc = 1;
    if (a < 0 || (t = H5Aget_type(a)) < 0 || (sp = H5Aget_space(a)) < 0) {
        rc = bp_err_set(e, BP_EDATA, "%s: cannot read attribute %s%s", label, name,
                        h5_why_now(&why));
        goto out;
    }
    hssize_t np = H5Sget_simple_extent_npoints(sp);
    if (H5Tget_class(t) != H5T_STRING || H5Sget_simple_extent_ndims(sp) != 1 || np < 1) {
        rc = bp_err_set(e, BP_EDATA, "%s: attribute %s must be a 1-D array of strings", label,
                        name);
        goto out;
    }
    n = (size_t)np;
    if (!(names = bp_xcalloc(n, sizeof *names, e)) || (mt = H5Tcopy(H5T_C_S1)) < 0) {
        rc = e ? e->code : BP_ENOMEM;
        goto out;
    }
    H5Tset_cset(mt, H5Tget_cset(t));
    htri_t var = H5Tis_variable_str(t);
    if (var > 0) {
        if (!(vl = bp_xcalloc(n, sizeof *vl, e))) {
            rc = e->code;
            goto out;
        }
        if (H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Aread(a, mt, vl) < 0) {
            rc = bp_err_set(e, BP_EDATA, "%s: cannot read attribute %s%s", label, name,
                            h5_why_now(&why));
            free(vl);
            vl = NULL;
            goto out;
        }
        for (size_t i = 0; i < n && rc > 0; i++)
            if (!(names[i] = bp_xstrdup(vl[i] ? vl[i] : "", e)))
                rc = e ? e->code : BP_ENOMEM;
        hsize_t dim = n;
        hid_t ms = H5Screate_simple(1, &dim, NULL);
        if (ms >= 0) {
            H5Dvlen_reclaim(mt, ms, H5P_DEFAULT, vl);
            H5Sclose(ms);
        }
    } else {
        size_t sz = H5Tget_size(t) + 1;
        if (!(fixed = bp_xcalloc(n, sz, e))) {
            rc = e ? e->code : BP_ENOMEM;
            goto out;
        }
        if (H5Tset_size(mt, sz) < 0 || H5Tset_strpad(mt, H5T_STR_NULLTERM) < 0 ||
            H5Aread(a, mt, fixed) < 0) {
            rc = bp_err_set(e, BP_EDATA, "%s: cannot read attribute %s%s", label, name,
                            h5_why_now(&why));
            goto out;
        }
        for (size_t i = 0; i < n && rc > 0; i++) {
            fixed[i * sz + sz - 1] = '\0';
            if (!(names[i] = bp_xstrdup(fixed + i * sz, e)))
                rc = e ? e->code : BP_ENOMEM;
        }
    }
out:
    free(vl);
    free(fixed);
    h5_close(mt);
    h5_close(sp);
    h5_close(t);
    h5_close(a);
    if (rc > 0) {
        *out = names;
        *count = n;
    } else {
        free_names(names, n);
    }
    return rc;
}

/* An optional attribute looked up on y, then on the group; both present must agree. */
static int n_classes_attr(hid_t g, hid_t yds, const char *glabel, const char *ylabel,
                          long long *k, bp_err *e)
{
    long long a = 0, b = 0;
    int ra = read_int_attr(yds, "n_classes", ylabel, &a, e);
    if (ra < 0)
        return ra;
    int rb = read_int_attr(g, "n_classes", glabel, &b, e);
    if (rb < 0)
        return rb;
    if (ra && rb && a != b)
        return bp_err_set(e, BP_EDATA,
                          "%s: attribute n_classes is %lld, but the group's n_classes is %lld",
                          ylabel, a, b);
    if (!ra && !rb)
        return 0;
    *k = ra ? a : b;
    if (*k < 1 || *k > INT32_MAX)
        return bp_err_set(e, BP_EDATA,
                          "%s: attribute n_classes must be an integer in 1..%d (got %lld)",
                          ra ? ylabel : glabel, INT32_MAX, *k);
    return 1;
}

/* Reads n integer labels, checking the range; sets *maxv. */
static int read_labels(hid_t ds, const char *label, size_t n, long long k, int32_t *out,
                       int32_t *maxv, bp_err *e)
{
    h5_why why;
    size_t rows = (size_t)1 << 17;
    if (rows > n)
        rows = n;
    long long *buf = bp_xcalloc(rows, sizeof *buf, e);
    hid_t fs = H5Dget_space(ds), ms = -1;
    int rc = 0;
    *maxv = 0;
    if (!buf) {
        rc = bp_err_prefix(e, "%s", label);
        goto out;
    }
    if (fs < 0) {
        rc = bp_err_set(e, BP_EDATA, "%s: cannot read%s", label, h5_why_now(&why));
        goto out;
    }
    for (size_t r0 = 0; r0 < n; r0 += rows) {
        size_t nr = n - r0 < rows ? n - r0 : rows;
        hsize_t start[1] = {r0}, count[1] = {nr};
        h5_close(ms);
        ms = H5Screate_simple(1, count, NULL);
        if (ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
            H5Dread(ds, H5T_NATIVE_LLONG, ms, fs, H5P_DEFAULT, buf) < 0) {
            rc = bp_err_set(e, BP_EDATA, "%s: cannot read rows %zu..%zu%s", label, r0,
                            r0 + nr - 1, h5_why_now(&why));
            goto out;
        }
        for (size_t i = 0; i < nr; i++) {
            long long v = buf[i];
            if (k > 0 && (v < 0 || v >= k)) {
                rc = bp_err_set(e, BP_EDATA, "%s: label %lld at row %zu is out of range [0, %lld)",
                                label, v, r0 + i, k);
                goto out;
            }
            if (v < 0) {
                rc = bp_err_set(e, BP_EDATA, "%s: label %lld at row %zu is negative", label, v,
                                r0 + i);
                goto out;
            }
            if (v >= INT32_MAX) {
                rc = bp_err_set(e, BP_EDATA, "%s: label %lld at row %zu is too large (at most %d)",
                                label, v, r0 + i, INT32_MAX - 1);
                goto out;
            }
            out[r0 + i] = (int32_t)v;
            if (out[r0 + i] > *maxv)
                *maxv = out[r0 + i];
        }
    }
out:
    free(buf);
    h5_close(fs);
    h5_close(ms);
    return rc;
}

/* 1 if the link name exists in g, 0 if not, < 0 on error. */
static int has_link(hid_t g, const char *name, const char *glabel, bp_err *e)
{
    h5_why why;
    htri_t ex = H5Lexists(g, name, H5P_DEFAULT);
    if (ex < 0)
        return bp_err_set(e, BP_EDATA, "%s: cannot look up '%s'%s", glabel, name,
                          h5_why_now(&why));
    return ex > 0;
}

/* Opens an existing group path (normalized). */
static int open_group(hid_t f, const char *group, const char *glabel, hid_t lapl, hid_t *out,
                      bp_err *e)
{
    h5_why why;
    if (!is_root(group)) {
        char *p = bp_xstrdup(group, e);
        if (!p)
            return e ? e->code : BP_ENOMEM;
        for (char *s = p + 1;; s++) {
            if (*s != '/' && *s != '\0')
                continue;
            char c = *s;
            *s = '\0';
            htri_t ex = H5Lexists(f, p, lapl);
            if (ex <= 0) {
                free(p);
                return bp_err_set(e, BP_EDATA, "%s: no such group", glabel);
            }
            *s = c;
            if (c == '\0')
                break;
        }
        free(p);
    }
    hid_t g = H5Oopen(f, group, lapl);
    if (g < 0)
        return bp_err_set(e, BP_EDATA, "%s: cannot open%s", glabel, h5_why_now(&why));
    if (H5Iget_type(g) != H5I_GROUP) {
        h5_close(g);
        return bp_err_set(e, BP_EDATA, "%s: not a group", glabel);
    }
    *out = g;
    return 0;
}

/* ---- loading ----------------------------------------------------------------------------- */

typedef struct loader {
    const char *file;
    char *group;          /* normalized */
    char glabel[BP_ERR_MSG_MAX];
    char xl[BP_ERR_MSG_MAX + 8], yl[BP_ERR_MSG_MAX + 8];
    hid_t f, g, x, y;
    unsigned long long file_size;
    hid_t lapl;                 /* external links' targets checked (bp_input_link_access) */
    bp_input_links links;
} loader;

/* A contiguous dataset's values lie in the file: more than the file holds means damaged
 * sizes (or data never written), caught before allocating for them. */
static int check_room(hid_t ds, const char *label, hsize_t rows, hsize_t cols,
                      unsigned long long file_size, bp_err *e)
{
    hid_t p = H5Dget_create_plist(ds), t = H5Dget_type(ds);
    int contig = p >= 0 && H5Pget_layout(p) == H5D_CONTIGUOUS;
    size_t es = t >= 0 ? H5Tget_size(t) : 0;
    h5_close(p);
    h5_close(t);
    if (!contig || !es)
        return 0;
    long double need = (long double)rows * (long double)cols * (long double)es;
    if (need <= (long double)file_size)
        return 0;
    return bp_err_set(e, BP_EDATA,
                      "%s: %llu x %llu values need %.0Lf bytes, but the file has %llu (damaged, "
                      "or never written)", label, (unsigned long long)rows,
                      (unsigned long long)cols, need, file_size);
}

static int check_file(const char *file, unsigned long long *size, bp_err *e)
{
    int rc = bp_input_check(file, BP_EDATA, size, e);
    if (rc < 0)
        return rc;
    htri_t h = H5Fis_hdf5(file);
    if (h <= 0)
        return bp_err_set(e, BP_EDATA, "%s: not an HDF5 file", file);
    return 0;
}

static bp_dataset *load_h5(loader *L, const char *ref, bp_err *e)
{
    h5_why why;
    bp_dataset *ds = NULL;
    hsize_t xd[2], yd[2];
    if (check_file(L->file, &L->file_size, e) < 0)
        return NULL;
    L->f = H5Fopen(L->file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (L->f < 0) {
        bp_err_set(e, BP_EDATA, "%s: cannot open as HDF5%s", L->file, h5_why_now(&why));
        return NULL;
    }
    if ((L->lapl = bp_input_link_access(&L->links)) < 0) {
        bp_err_set(e, BP_ENOMEM, "%s: cannot make a link access list", L->file);
        return NULL;
    }
    if (open_group(L->f, L->group, L->glabel, L->lapl, &L->g, e) < 0)
        return NULL;
    const char *sep = is_root(L->group) ? "" : "/";
    snprintf(L->xl, sizeof L->xl, "%s%sX", L->glabel, sep);
    int hx = has_link(L->g, "X", L->glabel, e);
    if (hx < 0)
        return NULL;
    if (!hx) {
        bp_err_set(e, BP_EDATA, "%s: no dataset 'X'", L->glabel);
        return NULL;
    }
    if (open_checked(L->g, "X", L->xl, WANT_FLOAT2, L->lapl, &L->x, xd, e) < 0)
        return NULL;
    int hy = has_link(L->g, "y", L->glabel, e), hY = hy < 0 ? -1 : has_link(L->g, "Y", L->glabel, e);
    if (hy < 0 || hY < 0)
        return NULL;
    if (!hy && !hY) {
        bp_err_set(e, BP_EDATA, "%s: needs a target dataset 'y' (labels) or 'Y' (matrix)",
                   L->glabel);
        return NULL;
    }
    if (hy && hY) {
        bp_err_set(e, BP_EDATA, "%s: has both 'y' and 'Y'", L->glabel);
        return NULL;
    }
    snprintf(L->yl, sizeof L->yl, "%s%s%s", L->glabel, sep, hy ? "y" : "Y");
    if (open_checked(L->g, hy ? "y" : "Y", L->yl, hy ? WANT_INT1 : WANT_FLOAT2, L->lapl, &L->y,
                     yd, e) < 0)
        return NULL;
    if (xd[0] < 1 || xd[1] < 1) {
        bp_err_set(e, BP_EDATA, "%s: empty (%llu x %llu); needs at least one row and one column",
                   L->xl, (unsigned long long)xd[0], (unsigned long long)xd[1]);
        return NULL;
    }
    if (yd[0] != xd[0]) {
        bp_err_set(e, BP_EDATA, "%s: %llu row%s, but X has %llu", L->yl,
                   (unsigned long long)yd[0], bp_s(yd[0]), (unsigned long long)xd[0]);
        return NULL;
    }
    if (!hy && yd[1] < 1) {
        bp_err_set(e, BP_EDATA, "%s: has 0 columns; needs at least one", L->yl);
        return NULL;
    }
    if (xd[0] > SIZE_MAX || xd[1] > SIZE_MAX || yd[1] > SIZE_MAX ||
        !bp_data_mul_ok((size_t)xd[0], (size_t)xd[1], sizeof(float)) ||
        !bp_data_mul_ok((size_t)xd[0], (size_t)yd[1], sizeof(float))) {
        bp_err_set(e, BP_ENOMEM, "%s: %llu x %llu values are too many for this machine",
                   bp_data_mul_ok((size_t)xd[0], (size_t)xd[1], sizeof(float)) ? L->yl : L->xl,
                   (unsigned long long)xd[0],
                   (unsigned long long)(bp_data_mul_ok((size_t)xd[0], (size_t)xd[1], sizeof(float))
                                        ? yd[1] : xd[1]));
        return NULL;
    }
    if (check_room(L->x, L->xl, xd[0], xd[1], L->file_size, e) < 0 ||
        check_room(L->y, L->yl, yd[0], yd[1], L->file_size, e) < 0)
        return NULL;
    long long k = 0;
    char **names = NULL;
    size_t n_names = 0;
    int has_k = 0;
    if (hy) {
        if ((has_k = n_classes_attr(L->g, L->y, L->glabel, L->yl, &k, e)) < 0)
            return NULL;
        int hn = read_names_attr(L->y, "class_names", L->yl, &names, &n_names, e);
        if (hn < 0)
            return NULL;
        if (hn && has_k && (long long)n_names != k) {
            bp_err_set(e, BP_EDATA,
                       "%s: attribute class_names has %zu name%s, but n_classes is %lld", L->yl,
                       n_names, bp_s(n_names), k);
            free_names(names, n_names);
            return NULL;
        }
        if (hn && !has_k) {
            if (n_names > INT32_MAX) {
                free_names(names, n_names);
                bp_err_set(e, BP_EDATA, "%s: attribute class_names is too long", L->yl);
                return NULL;
            }
            k = (long long)n_names;
        }
    }
    ds = bp_data_new(ref, (size_t)xd[0], (size_t)xd[1], hy ? BP_TARGET_LABELS : BP_TARGET_MATRIX,
                     hy ? 0 : (size_t)yd[1], e);
    if (!ds) {
        free_names(names, n_names);
        bp_err_prefix(e, "%s", L->xl);
        return NULL;
    }
    if (read_floats(L->x, L->xl, ds->n, ds->d, ds->X, e) < 0)
        goto fail;
    if (hy) {
        int32_t maxv;
        if (read_labels(L->y, L->yl, ds->n, k, ds->y, &maxv, e) < 0)
            goto fail;
        ds->k = k > 0 ? (size_t)k : (size_t)maxv + 1;
        ds->class_names = names;
        names = NULL;
    } else if (read_floats(L->y, L->yl, ds->n, ds->k, ds->Y, e) < 0) {
        goto fail;
    }
    return ds;
fail:
    free_names(names, n_names);
    bp_data_free(ds);
    return NULL;
}

bp_dataset *bp_data_load(const char *ref, bp_err *e)
{
    if (!ref || !*ref) {
        bp_err_set(e, BP_EDATA, "empty dataset reference");
        return NULL;
    }
    if (strncmp(ref, "builtin:", 8) == 0)
        return bp_data_generate(ref, e);
    loader L = {.f = -1, .g = -1, .x = -1, .y = -1, .lapl = -1, .links = {.code = BP_EDATA}};
    const char *hash = strchr(ref, '#');
    char *file = bp_xcalloc(hash ? (size_t)(hash - ref) + 1 : strlen(ref) + 1, 1, e);
    if (!file)
        return NULL;
    memcpy(file, ref, hash ? (size_t)(hash - ref) : strlen(ref));
    if (!*file) {
        free(file);
        bp_err_set(e, BP_EDATA, "%s: no file name before '#'", ref);
        return NULL;
    }
    L.file = file;
    if (!(L.group = norm_group(hash ? hash + 1 : "", e))) {
        free(file);
        return NULL;
    }
    snprintf(L.glabel, sizeof L.glabel, "%s#%s", file, L.group);
    h5_quiet q;
    h5_quiet_on(&q);
    bp_dataset *ds = load_h5(&L, ref, e);
    if (!ds && L.links.err.code && e)
        *e = L.links.err;   /* an external link to a FIFO, a device, ... */
    if (L.lapl >= 0)
        H5Pclose(L.lapl);
    h5_close(L.y);
    h5_close(L.x);
    h5_close(L.g);
    h5_close(L.f);
    h5_quiet_off(&q);
    free(L.group);
    free(file);
    return ds;
}

/* ---- writing ----------------------------------------------------------------------------- */

/* Writes an n x w (w == 0: 1-D n) array of memory type mt stored as ft; more than 65536
 * values are chunked (about 1 MiB per chunk) and deflated at level 4. */
static int write_array(hid_t g, const char *name, const char *label, size_t n, size_t w,
                       hid_t ft, hid_t mt, size_t elem, const void *data, hid_t *keep, bp_err *e)
{
    h5_why why;
    int rank = w ? 2 : 1;
    size_t ww = w ? w : 1;
    hsize_t dims[2] = {n, ww};
    hid_t sp = H5Screate_simple(rank, dims, NULL), p = H5Pcreate(H5P_DATASET_CREATE), ds = -1;
    int rc = 0;
    if (sp < 0 || p < 0) {
        rc = bp_err_set(e, BP_EIO, "%s: cannot create dataspace%s", label, h5_why_now(&why));
        goto out;
    }
    if ((double)n * (double)ww > 65536.0) {
        size_t rows = ((size_t)1 << 20) / (ww * elem);
        rows = rows < 1 ? 1 : rows > n ? n : rows;
        hsize_t chunk[2] = {rows, ww};
        if (H5Pset_chunk(p, rank, chunk) < 0 || H5Pset_deflate(p, 4) < 0) {
            rc = bp_err_set(e, BP_EIO, "%s: cannot set chunking and compression%s", label,
                            h5_why_now(&why));
            goto out;
        }
    }
    ds = H5Dcreate2(g, name, ft, sp, H5P_DEFAULT, p, H5P_DEFAULT);
    if (ds < 0 || H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        rc = bp_err_set(e, BP_EIO, "%s: cannot write%s", label, h5_why_now(&why));
out:
    h5_close(p);
    h5_close(sp);
    if (rc == 0 && keep)
        *keep = ds;
    else
        h5_close(ds);
    return rc;
}

static int write_int_attr(hid_t obj, const char *name, const char *label, int32_t v, bp_err *e)
{
    h5_why why;
    hid_t sp = H5Screate(H5S_SCALAR), a = -1;
    int rc = 0;
    if (sp < 0 || (a = H5Acreate2(obj, name, H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Awrite(a, H5T_NATIVE_INT32, &v) < 0)
        rc = bp_err_set(e, BP_EIO, "%s: cannot write attribute %s%s", label, name,
                        h5_why_now(&why));
    h5_close(a);
    h5_close(sp);
    return rc;
}

static int write_str_attr(hid_t obj, const char *name, const char *label, const char **v,
                          size_t n, int scalar, bp_err *e)
{
    h5_why why;
    hsize_t dim = n;
    hid_t t = H5Tcopy(H5T_C_S1), sp = -1, a = -1;
    int rc = 0;
    if (t < 0 || H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0 ||
        (sp = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL)) < 0 ||
        (a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Awrite(a, t, v) < 0)
        rc = bp_err_set(e, BP_EIO, "%s: cannot write attribute %s%s", label, name,
                        h5_why_now(&why));
    h5_close(a);
    h5_close(sp);
    h5_close(t);
    return rc;
}

/* Makes room for the group: 0 ready to create (or root emptied), < 0 error. */
static int prepare_group(hid_t f, const char *group, const char *glabel, int overwrite,
                         bp_err *e)
{
    h5_why why;
    if (is_root(group)) {
        static const char *const names[] = {"X", "y", "Y"};
        for (size_t i = 0; i < 3; i++) {
            int ex = has_link(f, names[i], glabel, e);
            if (ex < 0)
                return ex;
            if (ex && !overwrite)
                return bp_err_set(e, BP_EEXIST, "%s: already holds a dataset '%s'", glabel,
                                  names[i]);
            if (ex && H5Ldelete(f, names[i], H5P_DEFAULT) < 0)
                return bp_err_set(e, BP_EIO, "%s: cannot delete '%s'%s", glabel, names[i],
                                  h5_why_now(&why));
        }
        static const char *const attrs[] = {"source", "n_classes"};
        for (size_t i = 0; i < 2; i++) {
            htri_t ex = H5Aexists(f, attrs[i]);
            if (ex > 0 && H5Adelete(f, attrs[i]) < 0)
                return bp_err_set(e, BP_EIO, "%s: cannot delete attribute %s%s", glabel,
                                  attrs[i], h5_why_now(&why));
        }
        return 0;
    }
    char *p = bp_xstrdup(group, e);
    if (!p)
        return e ? e->code : BP_ENOMEM;
    int exists = 0;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        htri_t ex = H5Lexists(f, p, H5P_DEFAULT);
        if (ex < 0) {
            free(p);
            return bp_err_set(e, BP_EIO, "%s: cannot look up%s", glabel, h5_why_now(&why));
        }
        *s = c;
        if (!ex)
            break;
        if (c == '\0') {
            exists = 1;
            break;
        }
    }
    free(p);
    if (exists && !overwrite)
        return bp_err_set(e, BP_EEXIST, "%s: group exists; use --force to replace it", glabel);
    if (exists && H5Ldelete(f, group, H5P_DEFAULT) < 0)
        return bp_err_set(e, BP_EIO, "%s: cannot delete%s", glabel, h5_why_now(&why));
    return 0;
}

static int write_h5(const bp_dataset *d, const char *file, const char *group,
                    const char *glabel, int overwrite, bp_err *e)
{
    h5_why why;
    struct stat st;
    hid_t f = -1, g = -1, lcpl = -1, yds = -1;
    int rc = 0;
    if (stat(file, &st) == 0) {
        if (!S_ISREG(st.st_mode))
            return bp_err_set(e, BP_EIO, "%s: not a regular file (%s)", file,
                              bp_input_kind((unsigned)st.st_mode));
        if (H5Fis_hdf5(file) <= 0)
            return bp_err_set(e, BP_EIO, "%s: exists and is not an HDF5 file", file);
        f = H5Fopen(file, H5F_ACC_RDWR, H5P_DEFAULT);
        if (f < 0)
            return bp_err_set(e, BP_EIO, "%s: cannot open for writing%s", file,
                              h5_why_now(&why));
    } else {
        errno = 0;
        f = H5Fcreate(file, H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
        int err = errno;
        if (f < 0 && err)   /* the file system's reason, not HDF5's internal flags */
            return bp_err_set(e, BP_EIO, "%s: cannot create: %s", file, strerror(err));
        if (f < 0)
            return bp_err_set(e, BP_EIO, "%s: cannot create%s", file, h5_why_now(&why));
    }
    if ((rc = prepare_group(f, group, glabel, overwrite, e)) < 0)
        goto out;
    if (is_root(group)) {
        g = H5Gopen2(f, "/", H5P_DEFAULT);
    } else {
        lcpl = H5Pcreate(H5P_LINK_CREATE);
        if (lcpl >= 0 && H5Pset_create_intermediate_group(lcpl, 1) >= 0)
            g = H5Gcreate2(f, group, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    }
    if (g < 0) {
        rc = bp_err_set(e, BP_EIO, "%s: cannot create group%s", glabel, h5_why_now(&why));
        goto out;
    }
    char label[BP_ERR_MSG_MAX + 8];
    const char *sep = is_root(group) ? "" : "/";
    snprintf(label, sizeof label, "%s%sX", glabel, sep);
    if ((rc = write_array(g, "X", label, d->n, d->d, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                          sizeof(float), d->X, NULL, e)) < 0)
        goto out;
    if (d->kind == BP_TARGET_MATRIX) {
        snprintf(label, sizeof label, "%s%sY", glabel, sep);
        rc = write_array(g, "Y", label, d->n, d->k, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                         sizeof(float), d->Y, NULL, e);
    } else {
        snprintf(label, sizeof label, "%s%sy", glabel, sep);
        rc = write_array(g, "y", label, d->n, 0, H5T_STD_I32LE, H5T_NATIVE_INT32,
                         sizeof(int32_t), d->y, &yds, e);
        if (rc == 0)
            rc = write_int_attr(yds, "n_classes", label, (int32_t)d->k, e);
        if (rc == 0 && d->class_names)
            rc = write_str_attr(yds, "class_names", label, (const char **)d->class_names, d->k,
                                0, e);
    }
    if (rc == 0 && d->name)
        rc = write_str_attr(g, "source", glabel, (const char **)&d->name, 1, 1, e);
out:
    h5_close(yds);
    h5_close(lcpl);
    h5_close(g);
    if (f >= 0 && H5Fclose(f) < 0 && rc == 0)
        rc = bp_err_set(e, BP_EIO, "%s: cannot close%s", file, h5_why_now(&why));
    return rc;
}

int bp_data_write(const bp_dataset *d, const char *file, const char *group, int overwrite,
                  bp_err *e)
{
    if (!file || !*file)
        return bp_err_set(e, BP_EUSAGE, "no output file name");
    if (!d || d->n < 1 || d->d < 1 || !d->X ||
        (d->kind == BP_TARGET_MATRIX ? (!d->Y || d->k < 1) : (!d->y || d->k < 1)))
        return bp_err_set(e, BP_EDATA, "%s: nothing to write (empty dataset)", file);
    if (d->kind == BP_TARGET_LABELS && d->k > INT32_MAX)
        return bp_err_set(e, BP_EDATA, "%s: %zu classes are too many", file, d->k);
    char *g = norm_group(group, e);
    if (!g)
        return e ? e->code : BP_ENOMEM;
    char glabel[BP_ERR_MSG_MAX];
    snprintf(glabel, sizeof glabel, "%s#%s", file, g);
    /* never write a file that would not load */
    for (size_t i = 0; i < d->n * d->d; i++)
        if (!isfinite(d->X[i])) {
            free(g);
            return bp_err_set(e, BP_EDATA, "%s: non-finite value in X at row %zu, column %zu",
                              glabel, i / d->d, i % d->d);
        }
    for (size_t i = 0; d->kind == BP_TARGET_MATRIX && i < d->n * d->k; i++)
        if (!isfinite(d->Y[i])) {
            free(g);
            return bp_err_set(e, BP_EDATA, "%s: non-finite value in Y at row %zu, column %zu",
                              glabel, i / d->k, i % d->k);
        }
    for (size_t i = 0; d->kind == BP_TARGET_LABELS && i < d->n; i++)
        if (d->y[i] < 0 || (size_t)d->y[i] >= d->k) {
            free(g);
            return bp_err_set(e, BP_EDATA, "%s: label %" PRId32 " at row %zu is out of range "
                              "[0, %zu)", glabel, d->y[i], i, d->k);
        }
    h5_quiet q;
    h5_quiet_on(&q);
    int rc = write_h5(d, file, g, glabel, overwrite, e);
    h5_quiet_off(&q);
    free(g);
    return rc;
}
