#include "autoconf.h"
#include "epochs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "input.h"

char *bp_epochs_str_attr(hid_t loc, const char *name)
{
    if (H5Aexists(loc, name) <= 0)
        return NULL;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT), t = H5Tcopy(H5T_C_S1);
    char *v = NULL, *out = NULL;
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    if (a >= 0 && H5Aread(a, t, &v) >= 0 && v) {
        out = strdup(v);
        hid_t sp = H5Aget_space(a);
        H5Dvlen_reclaim(t, sp, H5P_DEFAULT, &v);
        H5Sclose(sp);
    }
    H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    return out;
}

int bp_epochs_strings(hid_t loc, const char *name, int attr, size_t want, char ***out)
{
    hid_t o = attr ? H5Aopen(loc, name, H5P_DEFAULT) : H5Dopen2(loc, name, H5P_DEFAULT);
    if (o < 0)
        return -1;
    hid_t sp = attr ? H5Aget_space(o) : H5Dget_space(o);
    hssize_t np = H5Sget_simple_extent_npoints(sp);
    int rc = -1;
    if (np >= 0 && (size_t)np == want) {
        char **v = calloc(want ? want : 1, sizeof *v);
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        H5Tset_cset(t, H5T_CSET_UTF8);
        if (v && (attr ? H5Aread(o, t, v) : H5Dread(o, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v)) >= 0) {
            *out = calloc(want ? want : 1, sizeof **out);
            for (size_t i = 0; *out && i < want; i++)
                (*out)[i] = strdup(v[i] ? v[i] : "");
            H5Dvlen_reclaim(t, sp, H5P_DEFAULT, v);
            rc = *out ? 0 : -1;
        }
        H5Tclose(t);
        free(v);
    }
    H5Sclose(sp);
    if (attr)
        H5Aclose(o);
    else
        H5Dclose(o);
    return rc;
}

/* (epochs.h) A trial file: a negative id when
 * it is missing, unreadable or not a regular file (which would block HDF5's open). */
hid_t bp_epochs_open(const char *path)
{
    if (bp_input_check(path, BP_EIO, NULL, NULL) < 0)
        return H5I_INVALID_HID;
    return H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
}


void bp_epochs_free(bp_epochs *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->names[i]);
        free(c->v[i]);
    }
    free(c->names);
    free(c->v);
    free(c->status);
    memset(c, 0, sizeof *c);
}

void bp_epochs_read(const char *path, bp_epochs *c)
{
    memset(c, 0, sizeof *c);
    hid_t f = bp_epochs_open(path);
    if (f < 0)
        return;
    bp_epochs_read_open(f, c);
    H5Fclose(f);
}

void bp_epochs_read_open(hid_t f, bp_epochs *c)
{
    memset(c, 0, sizeof *c);
    hid_t g = H5I_INVALID_HID;
    c->status = bp_epochs_str_attr(f, "status");
    if (H5Lexists(f, "epochs", H5P_DEFAULT) <= 0 || (g = H5Gopen2(f, "epochs", H5P_DEFAULT)) < 0)
        return;
    char **order = NULL;
    size_t no = 0;
    hsize_t nl = 0;
    H5G_info_t gi;
    if (H5Gget_info(g, &gi) >= 0)
        nl = gi.nlinks;
    if (H5Aexists(g, "columns") > 0) {
        hid_t a = H5Aopen(g, "columns", H5P_DEFAULT), sp = H5Aget_space(a);
        hssize_t na = H5Sget_simple_extent_npoints(sp);
        H5Sclose(sp);
        H5Aclose(a);
        if (na > 0 && bp_epochs_strings(g, "columns", 1, (size_t)na, &order) == 0)
            no = (size_t)na;
    }
    char **all = calloc(no + nl + 1, sizeof *all);
    size_t n_all = 0;
    for (size_t i = 0; all && i < no; i++)
        all[n_all++] = order[i];
    for (hsize_t i = 0; all && i < nl; i++) {
        char name[256];
        if (H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name,
                               H5P_DEFAULT) <= 0)
            continue;
        size_t k = 0;
        while (k < n_all && (!all[k] || strcmp(all[k], name)))
            k++;
        if (k == n_all)
            all[n_all++] = strdup(name);
    }
    size_t cap = 0;
    c->rows = SIZE_MAX;
    for (size_t i = 0; all && i < n_all; i++) {
        if (!all[i] || H5Lexists(g, all[i], H5P_DEFAULT) <= 0)
            continue;
        hid_t d = H5Oopen(g, all[i], H5P_DEFAULT);
        if (d >= 0 && H5Iget_type(d) != H5I_DATASET) {
            H5Oclose(d);
            continue;
        }
        hid_t sp = d < 0 ? -1 : H5Dget_space(d);
        hid_t t = d < 0 ? -1 : H5Dget_type(d);
        int rank = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
        hsize_t dims[2] = { 0, 1 };
        H5T_class_t cl = t < 0 ? H5T_NO_CLASS : H5Tget_class(t);
        double *buf = NULL;
        if ((rank == 1 || rank == 2) && (cl == H5T_FLOAT || cl == H5T_INTEGER) &&
            H5Sget_simple_extent_dims(sp, dims, NULL) >= 0 &&
            (buf = malloc((dims[0] * dims[1] + 1) * sizeof *buf)) &&
            H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0) {
            if (c->n + dims[1] > cap) {
                size_t nc = 2 * cap + dims[1];
                char **nn = realloc(c->names, nc * sizeof *nn);
                if (nn)
                    c->names = nn;
                double **nv = nn ? realloc(c->v, nc * sizeof *nv) : NULL;
                if (nv) {
                    c->v = nv;
                    cap = nc;
                }
            }
            for (hsize_t j = 0; j < dims[1] && c->n < cap; j++) {
                char nm[300];
                if (rank == 2)
                    snprintf(nm, sizeof nm, "%s[%llu]", all[i], (unsigned long long)j);
                else
                    snprintf(nm, sizeof nm, "%s", all[i]);
                double *col = malloc((dims[0] ? dims[0] : 1) * sizeof *col);
                if (!col)
                    break;
                for (hsize_t r = 0; r < dims[0]; r++)
                    col[r] = buf[r * dims[1] + j];
                c->names[c->n] = strdup(nm);
                c->v[c->n++] = col;
                if (dims[0] < c->rows) /* a killed writer's columns may differ: the shortest */
                    c->rows = dims[0];
            }
        }
        free(buf);
        if (t >= 0)
            H5Tclose(t);
        if (sp >= 0)
            H5Sclose(sp);
        if (d >= 0)
            H5Oclose(d);
    }
    if (!c->n)
        c->rows = 0;
    for (size_t i = 0; all && i < n_all; i++)
        free(all[i]);
    free(all);
    free(order);
    H5Gclose(g);
}

