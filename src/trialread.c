#include "autoconf.h"
#include "trialread.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "h5io.h"
#include "input.h"

/* ---- reading a saved model back ---- */

void bp_saved_model_free(bp_saved_model *s)
{
    if (!s)
        return;
    size_t nl = s->n_sizes ? s->n_sizes - 1 : 0;
    for (size_t l = 0; l < nl; l++) {
        if (s->act_names)
            free(s->act_names[l]);
        if (s->act_hp)
            free(s->act_hp[l]);
        if (s->act_hp_names)
            bp_h5_free_strs(s->act_hp_names[l], s->act_n_hp ? s->act_n_hp[l] : 0);
    }
    free(s->sizes);
    free(s->act_names);
    free(s->act_hp);
    free(s->act_hp_names);
    free(s->act_n_hp);
    free(s->loss);
    free(s->params);
    free(s->opt_name);
    bp_h5_free_strs(s->opt_hp_names, s->opt_n_hp);
    free(s->opt_hp);
    free(s->opt_state);
    free(s->mean);
    free(s->std);
    free(s->sched_name);
    bp_h5_free_strs(s->sched_names, s->n_sched);
    free(s->sched_state);
    free(s);
}

static int read_hp_pair(bp_err *e, const char *where, hid_t g, char ***names, double **hp,
                        size_t *n)
{
    size_t nn, nv;
    void *v;
    int rc = bp_h5_get_strs(e, where, g, "hp_names", names, &nn);
    if (rc)
        return rc;
    rc = bp_h5_get_attr(e, where, g, "hp", H5T_FLOAT, H5T_NATIVE_DOUBLE, sizeof(double), &v, &nv);
    if (!rc && nv != nn) {
        free(v);
        rc = bp_err_set(e, BP_EIO, "%s: %zu hyperparameter names but %zu values", where, nn, nv);
    }
    if (rc) {
        bp_h5_free_strs(*names, nn);
        *names = NULL;
        return rc;
    }
    *hp = v;
    *n = nn;
    return 0;
}

/* Opens dataset name under loc, checks it is float with the given shape, reads it. */
static int read_floats(bp_err *e, const char *where, hid_t loc, const char *name, int rank,
                       const hsize_t *want, float **out)
{
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT), s = H5I_INVALID_HID, t = H5I_INVALID_HID;
    int rc = 0;
    *out = NULL;
    if (d < 0 || (s = H5Dget_space(d)) < 0 || (t = H5Dget_type(d)) < 0) {
        rc = bp_err_set(e, BP_EIO, "%s/%s: dataset missing or unreadable", where, name);
        goto out;
    }
    hsize_t dims[2] = { 0, 0 };
    if (H5Tget_class(t) != H5T_FLOAT || H5Sget_simple_extent_ndims(s) != rank) {
        rc = bp_err_set(e, BP_EIO, "%s/%s: expected a %d-D float dataset", where, name, rank);
        goto out;
    }
    H5Sget_simple_extent_dims(s, dims, NULL);
    for (int i = 0; i < rank; i++)
        if (dims[i] != want[i]) {
            rc = bp_err_set(e, BP_EIO, "%s/%s: dimension %d is %llu, the model needs %llu", where,
                            name, i, (unsigned long long)dims[i], (unsigned long long)want[i]);
            goto out;
        }
    size_t count = (size_t)want[0] * (rank > 1 ? (size_t)want[1] : 1);
    if (!(*out = bp_xcalloc(count ? count : 1, sizeof(float), e))) {
        rc = BP_ENOMEM;
        goto out;
    }
    if (count && H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0) {
        char obj[64];
        snprintf(obj, sizeof obj, "cannot read dataset '%s'", name);
        rc = bp_h5_fail(e, where, NULL, obj);
        free(*out);
        *out = NULL;
    }
out:
    if (t >= 0)
        H5Tclose(t);
    if (s >= 0)
        H5Sclose(s);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

static int read_optimizer(bp_err *e, const char *where, hid_t model, bp_saved_model *s)
{
    char *ow = bp_h5_fmt_alloc(e, "%s/optimizer", where);
    if (!ow)
        return BP_ENOMEM;
    hid_t g = H5Gopen2(model, "optimizer", H5P_DEFAULT);
    if (g < 0) {
        bp_h5_fail(e, ow, NULL, "cannot open group");
        free(ow);
        return BP_EIO;
    }
    void *v = NULL;
    size_t n = 0;
    int rc = bp_h5_get_str(e, ow, g, "name", &s->opt_name);
    if (!rc)
        rc = read_hp_pair(e, ow, g, &s->opt_hp_names, &s->opt_hp, &s->opt_n_hp);
    if (!rc && !(rc = bp_h5_get_attr(e, ow, g, "step", H5T_INTEGER, H5T_NATIVE_UINT64, sizeof(uint64_t),
                               &v, &n)) && n == 1)
        s->opt_step = *(uint64_t *)v;
    free(v);
    v = NULL;
    if (!rc && !(rc = bp_h5_get_attr(e, ow, g, "n_state", H5T_INTEGER, H5T_NATIVE_UINT64,
                               sizeof(uint64_t), &v, &n)) && n == 1)
        s->opt_n_state = (size_t)*(uint64_t *)v;
    free(v);
    if (!rc && s->opt_n_state) {
        hsize_t want[2] = { s->opt_n_state, s->n_params };
        rc = read_floats(e, ow, g, "state", 2, want, &s->opt_state);
    }
    H5Gclose(g);
    free(ow);
    return rc;
}

static int read_schedule(bp_err *e, const char *where, hid_t model, bp_saved_model *s)
{
    char *sw = bp_h5_fmt_alloc(e, "%s/schedule", where);
    if (!sw)
        return BP_ENOMEM;
    hid_t g = H5Gopen2(model, "schedule", H5P_DEFAULT);
    if (g < 0) {
        bp_h5_fail(e, sw, NULL, "cannot open group");
        free(sw);
        return BP_EIO;
    }
    size_t nn = 0, nv = 0;
    void *v = NULL;
    int rc = bp_h5_get_str(e, sw, g, "name", &s->sched_name);
    if (!rc)
        rc = bp_h5_get_strs(e, sw, g, "state_names", &s->sched_names, &nn);
    s->n_sched = nn;
    if (!rc)
        rc = bp_h5_get_attr(e, sw, g, "state", H5T_FLOAT, H5T_NATIVE_DOUBLE, sizeof(double), &v, &nv);
    if (!rc && nv != nn)
        rc = bp_err_set(e, BP_EIO, "%s: %zu state names but %zu values", sw, nn, nv);
    if (rc)
        free(v);
    else
        s->sched_state = v;
    H5Gclose(g);
    free(sw);
    return rc;
}

static int read_model_group(bp_err *e, const char *where, hid_t g, bp_saved_model *s)
{
    void *v = NULL;
    size_t n = 0;
    int rc = bp_h5_get_attr(e, where, g, "sizes", H5T_INTEGER, H5T_NATIVE_INT, sizeof(int), &v, &n);
    if (rc)
        return rc;
    s->sizes = v;
    s->n_sizes = n;
    if (n < 2)
        return bp_err_set(e, BP_EIO, "%s: 'sizes' has %zu entries; a model needs at least 2",
                          where, n);
    size_t need = 0;
    for (size_t i = 0; i < n; i++) {
        if (s->sizes[i] < 1)
            return bp_err_set(e, BP_EIO, "%s: 'sizes'[%zu] is %d; sizes must be >= 1", where, i,
                              s->sizes[i]);
        if (i)
            need += (size_t)s->sizes[i] * (size_t)s->sizes[i - 1] + (size_t)s->sizes[i];
    }
    size_t nl = n - 1, na = 0;
    if ((rc = bp_h5_get_str(e, where, g, "loss", &s->loss)))
        return rc;
    int known = 0;
    for (int i = 0; i < BP_LOSS_COUNT; i++)
        known |= strcmp(s->loss, bp_loss_names[i]) == 0;
    if (!known)
        return bp_err_set(e, BP_EIO, "%s: unknown loss '%s'", where, s->loss);
    if ((rc = bp_h5_get_strs(e, where, g, "activations", &s->act_names, &na)))
        return rc;
    if (na != nl) {
        bp_h5_free_strs(s->act_names, na);
        s->act_names = NULL;
        return bp_err_set(e, BP_EIO, "%s: %zu activations for %zu layers", where, na, nl);
    }
    char *output = NULL;
    if ((rc = bp_h5_get_str(e, where, g, "output", &output)))
        return rc;
    if (strcmp(output, s->act_names[nl - 1]) != 0)
        rc = bp_err_set(e, BP_EIO, "%s: output '%s' differs from the last activation '%s'", where,
                        output, s->act_names[nl - 1]);
    free(output);
    if (rc)
        return rc;
    s->act_hp = bp_xcalloc(nl, sizeof *s->act_hp, e);
    s->act_hp_names = bp_xcalloc(nl, sizeof *s->act_hp_names, e);
    s->act_n_hp = bp_xcalloc(nl, sizeof *s->act_n_hp, e);
    if (!s->act_hp || !s->act_hp_names || !s->act_n_hp)
        return BP_ENOMEM;
    for (size_t l = 0; l < nl && !rc; l++) {
        char gname[32];
        snprintf(gname, sizeof gname, "layer_%zu", l);
        char *lw = bp_h5_fmt_alloc(e, "%s/%s", where, gname);
        if (!lw)
            return BP_ENOMEM;
        hid_t lg = H5Lexists(g, gname, H5P_DEFAULT) > 0 ? H5Gopen2(g, gname, H5P_DEFAULT)
                                                         : H5I_INVALID_HID;
        if (lg < 0) {
            bp_err_set(e, BP_EIO, "%s: group missing", lw);
            free(lw);
            return BP_EIO;
        }
        char *act = NULL;
        rc = bp_h5_get_str(e, lw, lg, "activation", &act);
        if (!rc && strcmp(act, s->act_names[l]) != 0)
            rc = bp_err_set(e, BP_EIO, "%s: activation '%s' differs from activations[%zu] '%s'",
                            lw, act, l, s->act_names[l]);
        free(act);
        if (!rc)
            rc = read_hp_pair(e, lw, lg, &s->act_hp_names[l], &s->act_hp[l], &s->act_n_hp[l]);
        H5Gclose(lg);
        free(lw);
    }
    if (rc)
        return rc;
    hsize_t want = need;
    s->n_params = need;
    if (H5Lexists(g, "params", H5P_DEFAULT) <= 0)
        return bp_err_set(e, BP_EIO, "%s/params: dataset missing", where);
    {
        hid_t d = H5Dopen2(g, "params", H5P_DEFAULT), sp = d >= 0 ? H5Dget_space(d) : -1;
        hssize_t got = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
        if (sp >= 0)
            H5Sclose(sp);
        if (d >= 0)
            H5Dclose(d);
        if (got >= 0 && (size_t)got != need) {
            char sz[256];
            size_t off = 0;
            for (size_t i = 0; i < s->n_sizes && off < sizeof sz; i++)
                off += (size_t)snprintf(sz + off, sizeof sz - off, "%s%d", i ? ", " : "",
                                        s->sizes[i]);
            return bp_err_set(e, BP_EIO, "%s/params: %lld values, but sizes [%s] need %zu", where,
                              (long long)got, sz, need);
        }
    }
    if ((rc = read_floats(e, where, g, "params", 1, &want, &s->params)))
        return rc;
    if (H5Lexists(g, "optimizer", H5P_DEFAULT) > 0)
        rc = read_optimizer(e, where, g, s);
    if (!rc && H5Lexists(g, "schedule", H5P_DEFAULT) > 0)
        rc = read_schedule(e, where, g, s);
    if (!rc && H5Lexists(g, "standardize_mean", H5P_DEFAULT) > 0) {
        size_t d = (size_t)s->sizes[0];
        s->mean = bp_xcalloc(d, sizeof *s->mean, e);
        s->std = bp_xcalloc(d, sizeof *s->std, e);
        if (!s->mean || !s->std)
            return BP_ENOMEM;
        const char *names[2] = { "standardize_mean", "standardize_std" };
        double *dst[2] = { s->mean, s->std };
        for (int i = 0; i < 2 && !rc; i++) {
            hid_t ds = H5Dopen2(g, names[i], H5P_DEFAULT);
            hid_t sp = ds >= 0 ? H5Dget_space(ds) : H5I_INVALID_HID;
            if (sp < 0 || H5Sget_simple_extent_npoints(sp) != (hssize_t)d ||
                H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst[i]) < 0)
                rc = bp_err_set(e, BP_EIO, "%s/%s: missing, unreadable or not %zu values", where,
                                names[i], d);
            if (sp >= 0)
                H5Sclose(sp);
            if (ds >= 0)
                H5Dclose(ds);
        }
    }
    return rc;
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* Splits "X#ID" (X a run folder or index file that exists) into base and id. */
static int resolve(bp_err *e, const char *path, char **base, long *id)
{
    struct stat st;
    *id = -1;
    if (stat(path, &st) == 0)
        return (*base = bp_xstrdup(path, e)) ? 0 : BP_ENOMEM;
    int err = errno;
    const char *h = strrchr(path, '#');
    if (h && all_digits(h + 1) && strlen(h + 1) <= 9) {
        if (!(*base = bp_xstrdup(path, e)))
            return BP_ENOMEM;
        (*base)[h - path] = '\0';
        *id = strtol(h + 1, NULL, 10);
        if (stat(*base, &st) == 0)
            return 0;
        err = errno;
        bp_err_set(e, BP_EIO, "%s: cannot open: %s", *base, strerror(err));
        free(*base);
        *base = NULL;
        return BP_EIO;
    }
    return bp_err_set(e, BP_EIO, "%s: cannot open: %s", path, strerror(err));
}

/* The trial path names (a trial file, RUN, RUN#ID, INDEX.h5, INDEX.h5#ID), opened: *f the file
 * opened, *root the trial's root (the file's "/" or the linked trial file's), *where how
 * messages name it, *trial_file the trial file's path, *via_index whether it came through an
 * index's link. The caller closes root and f and frees the strings. */
static int open_trial(const char *path, bp_err *e, hid_t *fp, hid_t *rootp, char **wherep,
                      char **trial_file, int *via_index)
{
    char *base = NULL, *file = NULL, *where = NULL, *tf = NULL;
    long id = -1;
    hid_t f = H5I_INVALID_HID, root = H5I_INVALID_HID;
    int rc = BP_EIO;
    *fp = *rootp = H5I_INVALID_HID;
    *wherep = *trial_file = NULL;
    *via_index = 0;
    if ((rc = resolve(e, path, &base, &id)))
        return rc;
    rc = BP_EIO;
    struct stat st;
    if (stat(base, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (!(file = bp_h5_fmt_alloc(e, "%s%strials/%04ld.h5", base,
                               base[strlen(base) - 1] == '/' ? "" : "/", id < 0 ? 0 : id))) {
            rc = BP_ENOMEM;
            goto out;
        }
        id = -1;   /* used up: the file is that trial's */
        if (access(file, F_OK) != 0) {
            int err = errno;
            char *part = bp_h5_fmt_alloc(e, "%s.part", file);
            if (part && access(part, F_OK) == 0)
                bp_err_set(e, BP_EIO, "%s: trial has not finished (only %s exists)", file, part);
            else if (part)
                bp_err_set(e, BP_EIO, "%s: cannot open: %s", file, strerror(err));
            rc = part ? BP_EIO : BP_ENOMEM;
            free(part);
            goto out;
        }
    } else if (!(file = bp_xstrdup(base, e))) {
        rc = BP_ENOMEM;
        goto out;
    }
    if (bp_input_check(file, BP_EIO, NULL, e) < 0)
        goto out;
    htri_t is = H5Fis_hdf5(file);
    if (is <= 0) {
        if (access(file, R_OK) != 0)
            bp_err_set(e, BP_EIO, "%s: cannot open: %s", file, strerror(errno));
        else
            bp_err_set(e, BP_EIO, "%s: not an HDF5 file", file);
        goto out;
    }
    if ((f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
        bp_h5_fail(e, file, NULL, "cannot open");
        goto out;
    }
    int index = H5Lexists(f, "trials", H5P_DEFAULT) > 0 && H5Lexists(f, "model", H5P_DEFAULT) <= 0;
    if (index) {
        char link[48];
        snprintf(link, sizeof link, "/trials/%04ld", id < 0 ? 0 : id);
        if (H5Lexists(f, link, H5P_DEFAULT) <= 0) {
            bp_err_set(e, BP_EIO, "%s#%s: no such trial in the index", file, link);
            goto out;
        }
        bp_input_links ln = { .code = BP_EIO };
        hid_t lapl = bp_input_link_access(&ln);
        if (lapl >= 0) {
            root = H5Oopen(f, link, lapl);
            H5Pclose(lapl);
        }
        if (root < 0) {
            if (ln.err.code)
                *e = ln.err;
            else
                bp_h5_fail(e, file, link, "cannot open the linked trial file");
            goto out;
        }
        const char *slash = strrchr(file, '/');
        int dlen = slash ? (int)(slash - file) + 1 : 0;
        if (!(where = bp_h5_fmt_alloc(e, "%s#%s", file, link)) ||
            !(tf = bp_h5_fmt_alloc(e, "%.*s%s.h5", dlen, file, link + 1))) {
            rc = BP_ENOMEM;
            goto out;
        }
    } else {
        if (id >= 0) {
            rc = bp_err_set(e, BP_EUSAGE, "%s: '#%ld' selects a trial of a run folder or index "
                            "file, but this is a trial file", file, id);
            goto out;
        }
        if ((root = H5Gopen2(f, "/", H5P_DEFAULT)) < 0) {
            bp_h5_fail(e, file, "/", "cannot open");
            goto out;
        }
        if (!(where = bp_xstrdup(file, e)) || !(tf = bp_xstrdup(file, e))) {
            rc = BP_ENOMEM;
            goto out;
        }
    }
    if ((rc = bp_h5_check_version(e, where, root)))
        goto out;
    *fp = f;
    *rootp = root;
    *wherep = where;
    *trial_file = tf;
    *via_index = index;
    free(base);
    free(file);
    return 0;
out:
    if (root >= 0)
        H5Oclose(root);
    if (f >= 0)
        H5Fclose(f);
    free(base);
    free(file);
    free(where);
    free(tf);
    return rc;
}

bp_saved_model *bp_saved_model_read(const char *path, bp_err *e)
{
    bp_h5_quiet();
    char *where = NULL, *tf = NULL;
    int index = 0;
    hid_t f, root, g = H5I_INVALID_HID;
    bp_saved_model *s = NULL;
    if (open_trial(path, e, &f, &root, &where, &tf, &index))
        return NULL;
    if (H5Lexists(root, "model", H5P_DEFAULT) > 0)
        g = H5Gopen2(root, "model", H5P_DEFAULT);
    if (g < 0) {
        bp_err_set(e, BP_EIO, "%s: no saved model (/model missing); the trial may not have "
                   "finished", where);
        goto out;
    }
    char *mw = bp_h5_fmt_alloc(e, index ? "%s/model" : "%s#/model", where);
    if (!mw || !(s = bp_xcalloc(1, sizeof *s, e))) {
        free(mw);
        goto out;
    }
    if (read_model_group(e, mw, g, s)) {
        bp_saved_model_free(s);
        s = NULL;
    }
    free(mw);
out:
    if (g >= 0)
        H5Gclose(g);
    H5Oclose(root);
    H5Fclose(f);
    free(where);
    free(tf);
    return s;
}

void bp_trial_record_free(bp_trial_record *r)
{
    if (!r)
        return;
    free(r->file);
    free(r->where);
    free(r->status);
    free(r->resolved_config);
    free(r->provenance);
    free(r->rows);
    free(r);
}

/* Column c (name) of /epochs into r->rows; ew names /epochs in messages, first the column 0. */
static int read_column(bp_err *e, const char *ew, hid_t epochs, const char *name,
                       const char *first, bp_trial_record *r, size_t c)
{
    hid_t d = H5Lexists(epochs, name, H5P_DEFAULT) > 0 ? H5Dopen2(epochs, name, H5P_DEFAULT)
                                                      : H5I_INVALID_HID;
    hid_t sp = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    hid_t t = d >= 0 ? H5Dget_type(d) : H5I_INVALID_HID;
    double *v = NULL;
    int rc = 0;
    if (d < 0 || sp < 0 || t < 0) {
        rc = bp_err_set(e, BP_EIO, "%s/%s: dataset missing or unreadable", ew, name);
        goto out;
    }
    if (H5Tget_class(t) != H5T_FLOAT || H5Sget_simple_extent_ndims(sp) != 1) {
        rc = bp_err_set(e, BP_EIO, "%s/%s: expected a 1-D float dataset", ew, name);
        goto out;
    }
    hsize_t n = 0;
    H5Sget_simple_extent_dims(sp, &n, NULL);
    if (c == 0) {
        r->n_rows = (size_t)n;
        if (!(r->rows = bp_xcalloc(r->n_rows * r->n_columns + 1, sizeof *r->rows, e))) {
            rc = BP_ENOMEM;
            goto out;
        }
    } else if ((size_t)n != r->n_rows) {
        rc = bp_err_set(e, BP_EIO, "%s/%s: %llu values, but %s has %zu", ew, name,
                        (unsigned long long)n, first, r->n_rows);
        goto out;
    }
    if (!(v = bp_xcalloc((size_t)n + 1, sizeof *v, e))) {
        rc = BP_ENOMEM;
        goto out;
    }
    if (n && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
        char what[160];
        snprintf(what, sizeof what, "%s: cannot read dataset", name);
        rc = bp_h5_fail(e, ew, NULL, what);
        goto out;
    }
    for (size_t i = 0; i < (size_t)n; i++)
        r->rows[i * r->n_columns + c] = v[i];
out:
    free(v);
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

bp_trial_record *bp_trial_record_read(const char *path, const char *const *columns,
                                      size_t n_columns, bp_err *e)
{
    bp_h5_quiet();
    char *where = NULL, *tf = NULL, *ew = NULL;
    int index = 0;
    hid_t f, root, ep = H5I_INVALID_HID;
    void *v = NULL;
    size_t n = 0;
    if (open_trial(path, e, &f, &root, &where, &tf, &index))
        return NULL;
    bp_trial_record *r = bp_xcalloc(1, sizeof *r, e);
    if (!r)
        goto fail;
    r->file = tf;
    r->where = where;
    tf = where = NULL;
    r->n_columns = n_columns;
    r->epochs_done = -1;
    if (bp_h5_get_attr(e, r->where, root, "trial", H5T_INTEGER, H5T_NATIVE_UINT64, sizeof(uint64_t),
                 &v, &n))
        goto fail;
    r->trial = n == 1 ? (unsigned)*(uint64_t *)v : 0;
    free(v);
    v = NULL;
    if (bp_h5_get_attr(e, r->where, root, "seed", H5T_INTEGER, H5T_NATIVE_UINT64, sizeof(uint64_t), &v,
                 &n))
        goto fail;
    r->seed = n == 1 ? *(uint64_t *)v : 0;
    free(v);
    v = NULL;
    if (bp_h5_get_str(e, r->where, root, "status", &r->status) ||
        bp_h5_get_str(e, r->where, root, "resolved_config", &r->resolved_config) ||
        (H5Aexists(root, "provenance") > 0 &&
         bp_h5_get_str(e, r->where, root, "provenance", &r->provenance)))
        goto fail;
    if (H5Aexists(root, "epochs_done") > 0) {
        if (bp_h5_get_attr(e, r->where, root, "epochs_done", H5T_INTEGER, H5T_NATIVE_INT, sizeof(int),
                     &v, &n))
            goto fail;
        r->epochs_done = n == 1 ? *(int *)v : -1;
        free(v);
        v = NULL;
    }
    if (!(ew = bp_h5_fmt_alloc(e, index ? "%s/epochs" : "%s#/epochs", r->where)))
        goto fail;
    if (H5Lexists(root, "epochs", H5P_DEFAULT) <= 0 ||
        (ep = H5Gopen2(root, "epochs", H5P_DEFAULT)) < 0) {
        bp_err_set(e, BP_EIO, "%s: group missing", ew);
        goto fail;
    }
    for (size_t c = 0; c < n_columns; c++) {
        /* a trial without validation data stores no val_ columns: NaN, as they were */
        if (c && !strncmp(columns[c], "val_", 4) && H5Lexists(ep, columns[c], H5P_DEFAULT) <= 0) {
            for (size_t i = 0; i < r->n_rows; i++)
                r->rows[i * r->n_columns + c] = NAN;
            continue;
        }
        if (read_column(e, ew, ep, columns[c], columns[0], r, c))
            goto fail;
    }
    free(ew);
    ew = NULL;
    if (!n_columns && !(r->rows = bp_xcalloc(1, sizeof *r->rows, e)))
        goto fail;
    H5Gclose(ep);
    H5Oclose(root);
    H5Fclose(f);
    return r;
fail:
    free(v);
    free(ew);
    if (ep >= 0)
        H5Gclose(ep);
    H5Oclose(root);
    H5Fclose(f);
    free(where);
    free(tf);
    bp_trial_record_free(r);
    return NULL;
}

int bp_trial_read_summary(const char *path, bp_trial_summary *s, bp_err *e)
{
    bp_h5_quiet();
    memset(s, 0, sizeof *s);
    s->final_loss = s->final_val_loss = s->final_accuracy = s->final_val_accuracy = NAN;
    s->best_val_loss = s->final_test_loss = s->final_test_accuracy = s->wall_seconds = NAN;
    if (bp_input_check(path, BP_EIO, NULL, e) < 0)
        return BP_EIO;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return bp_h5_fail(e, path, NULL, "cannot open trial file");
    char *status = NULL, *message = NULL;
    void *v = NULL;
    size_t n = 0;
    int rc = bp_h5_get_str(e, path, f, "status", &status);
    if (!rc)
        rc = bp_h5_get_str(e, path, f, "message", &message);
    if (!rc && !(rc = bp_h5_get_attr(e, path, f, "trial", H5T_INTEGER, H5T_NATIVE_UINT, sizeof(unsigned), &v, &n)))
        s->trial = *(unsigned *)v;
    free(v);
    v = NULL;
    if (!rc && !(rc = bp_h5_get_attr(e, path, f, "seed", H5T_INTEGER, H5T_NATIVE_UINT64, sizeof(uint64_t), &v, &n)))
        s->seed = *(uint64_t *)v;
    free(v);
    v = NULL;
    if (!rc && !(rc = bp_h5_get_attr(e, path, f, "epochs_done", H5T_INTEGER, H5T_NATIVE_INT, sizeof(int), &v, &n)))
        s->epochs = *(int *)v;
    free(v);
    v = NULL;
    if (!rc && H5Aexists(f, "epochs_to_target") > 0 &&
        !(rc = bp_h5_get_attr(e, path, f, "epochs_to_target", H5T_INTEGER, H5T_NATIVE_INT, sizeof(int),
                        &v, &n)))
        s->epochs_to_target = *(int *)v;
    free(v);
    v = NULL;
    char *verdict = NULL;
    if (!rc && H5Aexists(f, "verdict") > 0 && !(rc = bp_h5_get_str(e, path, f, "verdict", &verdict)))
        snprintf(s->verdict, sizeof s->verdict, "%s", verdict);
    free(verdict);
    const char *dnames[] = { "wall_seconds", "test_loss", "test_accuracy", "samples_per_second",
                             "peak_rss_bytes", "work_bytes" };
    double *dst[] = { &s->wall_seconds, &s->final_test_loss, &s->final_test_accuracy,
                      &s->samples_per_second, &s->peak_rss_bytes, &s->work_bytes };
    for (int i = 0; i < 6 && !rc; i++) {
        if (H5Aexists(f, dnames[i]) <= 0)
            continue;
        if (!(rc = bp_h5_get_attr(e, path, f, dnames[i], H5T_FLOAT, H5T_NATIVE_DOUBLE, sizeof(double), &v, &n)))
            *dst[i] = *(double *)v;
        free(v);
        v = NULL;
    }
    const char *cols[] = { "loss", "accuracy", "val_loss", "val_accuracy" };
    double *last[] = { &s->final_loss, &s->final_accuracy, &s->final_val_loss,
                       &s->final_val_accuracy };
    for (int i = 0; i < 4 && !rc; i++) {
        char name[64];
        snprintf(name, sizeof name, "epochs/%s", cols[i]);
        if (H5Lexists(f, "epochs", H5P_DEFAULT) <= 0 || H5Lexists(f, name, H5P_DEFAULT) <= 0)
            continue;
        hid_t d = H5Dopen2(f, name, H5P_DEFAULT), sp = d >= 0 ? H5Dget_space(d) : -1;
        hssize_t rows = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
        double *buf = rows > 0 ? malloc((size_t)rows * sizeof *buf) : NULL;
        if (rows > 0 && buf && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0) {
            *last[i] = buf[rows - 1];
            if (i == 2)
                for (hssize_t k = 0; k < rows; k++)
                    if (!isnan(buf[k]) && (isnan(s->best_val_loss) || buf[k] < s->best_val_loss))
                        s->best_val_loss = buf[k];
        } else if (rows < 0 || (rows > 0 && !buf)) {
            rc = bp_h5_fail(e, path, name, "cannot read epoch column");
        }
        free(buf);
        if (sp >= 0)
            H5Sclose(sp);
        if (d >= 0)
            H5Dclose(d);
    }
    H5Fclose(f);
    if (!rc) {
        static const char *const known[] = { "pending", "running", "completed", "diverged",
                                             "failed", "interrupted", "pruned" };
        s->status = "failed";
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            if (!strcmp(status, known[i]))
                s->status = known[i];
        snprintf(s->message, sizeof s->message, "%s", message);
    }
    free(status);
    free(message);
    return rc;
}
