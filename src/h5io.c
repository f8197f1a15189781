#include "autoconf.h"
#include "h5io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "provenance.h"

void bp_h5_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

char *bp_h5_fmt_alloc(bp_err *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        bp_err_set(e, BP_ENOMEM, "cannot format a path");
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) {
        bp_err_set(e, BP_ENOMEM, "out of memory");
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* The innermost HDF5 error, and the operating system's reason when a frame carries one
 * (the sec2 driver writes "... error message = 'No space left on device' ..."). */
static herr_t walk_first(unsigned n, const H5E_error2_t *err, void *data)
{
    char *buf = data;
    if (n == 0 && H5Eget_msg(err->min_num, NULL, buf, 96) <= 0)
        snprintf(buf, 96, "%s", err->desc ? err->desc : "unknown error");
    const char *os = err->desc ? strstr(err->desc, "error message = '") : NULL;
    if (os && !strchr(buf, ':')) {
        os += strlen("error message = '");
        const char *end = strchr(os, '\'');
        size_t used = strlen(buf);
        if (end && used + 3 < 160)
            snprintf(buf + used, 160 - used, ": %.*s", (int)(end - os), os);
    }
    return 0;
}

/* One line for an HDF5 failure: "file#object: what (HDF5: innermost reason)". Call it before
 * any other HDF5 call replaces the error stack. */
int bp_h5_fail(bp_err *e, const char *file, const char *obj, const char *what)
{
    char why[160] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_first, why);
    if (why[0] >= 'A' && why[0] <= 'Z')
        why[0] = (char)(why[0] - 'A' + 'a');
    const char *tail = why[0] ? why : "unknown error";
    if (obj)
        return bp_err_set(e, BP_EIO, "%s#%s: %s (HDF5: %s)", file, obj, what, tail);
    return bp_err_set(e, BP_EIO, "%s: %s (HDF5: %s)", file, what, tail);
}

void bp_h5_iso_now(char *buf, size_t n)
{
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, n, "unknown");
}

/* ---- attribute writers (replace an attribute of the same name) ---- */

hid_t bp_h5_vlstr_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0)
        return t;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

int bp_h5_put_attr(bp_err *e, const char *file, hid_t loc, const char *obj, const char *name,
                   hid_t type, size_t n, int scalar, const void *buf)
{
    hsize_t dim = n;
    hid_t s = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL);
    hid_t a = H5I_INVALID_HID;
    int rc = 0;
    char what[160];
    snprintf(what, sizeof what, "cannot write attribute '%s'", name);
    if (s < 0 || (H5Aexists(loc, name) > 0 && H5Adelete(loc, name) < 0) ||
        (a = H5Acreate2(loc, name, type, s, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Awrite(a, type, buf) < 0)
        rc = bp_h5_fail(e, file, obj, what);
    if (a >= 0)
        H5Aclose(a);
    if (s >= 0)
        H5Sclose(s);
    return rc;
}

int bp_h5_attr_str(bp_err *e, const char *file, hid_t loc, const char *obj, const char *name,
                   const char *val)
{
    hid_t t = bp_h5_vlstr_type();
    if (t < 0)
        return bp_h5_fail(e, file, obj, "cannot make a string type");
    const char *v = val ? val : "";
    int rc = bp_h5_put_attr(e, file, loc, obj, name, t, 1, 1, &v);
    H5Tclose(t);
    return rc;
}

int bp_h5_attr_strs(bp_err *e, const char *file, hid_t loc, const char *obj, const char *name,
                    const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!v[i])
            return bp_err_set(e, BP_EIO, "%s#%s: attribute '%s': item %zu has no name", file,
                              obj, name, i);
    hid_t t = bp_h5_vlstr_type();
    if (t < 0)
        return bp_h5_fail(e, file, obj, "cannot make a string type");
    int rc = bp_h5_put_attr(e, file, loc, obj, name, t, n, 0, n ? (const void *)v : (const void *)"");
    H5Tclose(t);
    return rc;
}

int bp_h5_attr_int(bp_err *e, const char *file, hid_t loc, const char *obj, const char *name,
                   int v)
{
    return bp_h5_put_attr(e, file, loc, obj, name, H5T_NATIVE_INT, 1, 1, &v);
}

int bp_h5_attr_u64(bp_err *e, const char *file, hid_t loc, const char *obj, const char *name,
                   uint64_t v)
{
    return bp_h5_put_attr(e, file, loc, obj, name, H5T_NATIVE_UINT64, 1, 1, &v);
}

int bp_h5_attr_dbl(bp_err *e, const char *file, hid_t loc, const char *obj, const char *name,
                   double v)
{
    return bp_h5_put_attr(e, file, loc, obj, name, H5T_NATIVE_DOUBLE, 1, 1, &v);
}

/* The attributes a trial file and the index share. */
int bp_h5_attr_common(bp_err *e, const char *file, hid_t f, const char *config,
                      const char *resolved, int threads)
{
    char *prov = bp_provenance_text(threads);
    if (!prov)
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    int rc = bp_h5_attr_int(e, file, f, "/", "format_version", BP_FORMAT_VERSION);
    if (!rc)
        rc = bp_h5_attr_str(e, file, f, "/", "bprun_version", PACKAGE_VERSION);
    if (!rc)
        rc = bp_h5_attr_str(e, file, f, "/", "config", config);
    if (!rc)
        rc = bp_h5_attr_str(e, file, f, "/", "resolved_config", resolved);
    if (!rc)
        rc = bp_h5_attr_str(e, file, f, "/", "provenance", prov);
    if (!rc)
        rc = bp_h5_attr_int(e, file, f, "/", "threads", threads);
    free(prov);
    return rc;
}

int bp_h5_fsync_path(bp_err *e, const char *path, int dir)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | (dir ? O_DIRECTORY : 0));
    if (fd < 0)
        return bp_err_set(e, BP_EIO, "%s: cannot open for fsync: %s", path, strerror(errno));
    if (fsync(fd) != 0) {
        int err = errno;
        close(fd);
        return bp_err_set(e, BP_EIO, "%s: fsync failed: %s", path, strerror(err));
    }
    close(fd);
    return 0;
}

/* rename src into place after fsync'ing it, then fsync the folder holding both. */
int bp_h5_commit_file(bp_err *e, const char *src, const char *dst, const char *dir)
{
    int rc = bp_h5_fsync_path(e, src, 0);
    if (rc)
        return rc;
    if (rename(src, dst) != 0)
        return bp_err_set(e, BP_EIO, "%s: cannot rename to %s: %s", src, dst, strerror(errno));
    return bp_h5_fsync_path(e, dir, 1);
}

/* A file bprun is about to create (truncating what is there) is absent or a regular file:
 * never written through a symbolic link, never a FIFO. */
int bp_h5_not_a_file(bp_err *e, const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0 || S_ISREG(st.st_mode))
        return 0;
    return bp_err_set(e, BP_EEXIST, "%s: %s; bprun will not write through it", path,
                      S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
}

int bp_h5_write_dataset(bp_err *e, const char *file, hid_t loc, const char *obj,
                        const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims,
                        const void *buf)
{
    hid_t s = H5Screate_simple(rank, dims, NULL), d = H5I_INVALID_HID;
    int rc = 0;
    if (s < 0 || (d = H5Dcreate2(loc, name, ftype, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        rc = bp_h5_fail(e, file, obj, "cannot write dataset");
    if (d >= 0)
        H5Dclose(d);
    if (s >= 0)
        H5Sclose(s);
    return rc;
}

/* Reads attribute name of loc as n items of memtype (1-D or scalar); *out malloc'd. */
int bp_h5_get_attr(bp_err *e, const char *where, hid_t loc, const char *name, H5T_class_t cls,
                   hid_t memtype, size_t size, void **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (H5Aexists(loc, name) <= 0)
        return bp_err_set(e, BP_EIO, "%s: attribute '%s' missing", where, name);
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT), t = H5I_INVALID_HID, s = H5I_INVALID_HID;
    int rc = 0;
    H5T_class_t c = H5T_NO_CLASS;
    if (a < 0 || (t = H5Aget_type(a)) < 0 || (s = H5Aget_space(a)) < 0) {
        rc = bp_h5_fail(e, where, NULL, "cannot open attribute");
        goto out;
    }
    c = H5Tget_class(t);
    int rank = H5Sget_simple_extent_ndims(s);
    hssize_t np = H5Sget_simple_extent_npoints(s);
    if (c != cls && !(cls == H5T_FLOAT && c == H5T_INTEGER)) {
        rc = bp_err_set(e, BP_EIO, "%s: attribute '%s' has the wrong type", where, name);
        goto out;
    }
    if (rank > 1 || np < 0) {
        rc = bp_err_set(e, BP_EIO, "%s: attribute '%s' is not a list", where, name);
        goto out;
    }
    if (np == 0 || H5Sget_simple_extent_type(s) == H5S_NULL)
        goto out;
    if (!(*out = bp_xcalloc((size_t)np, size, e))) {
        rc = BP_ENOMEM;
        goto out;
    }
    if (H5Aread(a, memtype, *out) < 0) {
        char what[96];
        snprintf(what, sizeof what, "cannot read attribute '%s'", name);
        rc = bp_h5_fail(e, where, NULL, what);
        free(*out);
        *out = NULL;
        goto out;
    }
    *n = (size_t)np;
out:
    if (s >= 0)
        H5Sclose(s);
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    return rc;
}

void bp_h5_free_strs(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* String attributes, variable-length (what bprun writes) or fixed-length. */
int bp_h5_get_strs(bp_err *e, const char *where, hid_t loc, const char *name, char ***out,
                   size_t *n)
{
    *out = NULL;
    *n = 0;
    if (H5Aexists(loc, name) <= 0)
        return bp_err_set(e, BP_EIO, "%s: attribute '%s' missing", where, name);
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t ft = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID;
    if (ft < 0 || H5Tget_class(ft) != H5T_STRING) {
        if (ft >= 0)
            H5Tclose(ft);
        if (a >= 0)
            H5Aclose(a);
        return bp_err_set(e, BP_EIO, "%s: attribute '%s' is not text", where, name);
    }
    htri_t vl = H5Tis_variable_str(ft);
    size_t fsize = H5Tget_size(ft);
    H5T_cset_t cset = H5Tget_cset(ft);
    H5Tclose(ft);
    H5Aclose(a);
    hid_t mt = H5Tcopy(H5T_C_S1);
    if (mt < 0 || H5Tset_size(mt, vl > 0 ? H5T_VARIABLE : fsize + 1) < 0 ||
        H5Tset_cset(mt, cset) < 0) {
        if (mt >= 0)
            H5Tclose(mt);
        return bp_h5_fail(e, where, NULL, "cannot make a string type");
    }
    void *raw = NULL;
    size_t k = 0;
    int rc = bp_h5_get_attr(e, where, loc, name, H5T_STRING, mt, vl > 0 ? sizeof(char *) : fsize + 1,
                      &raw, &k);
    char **v = NULL;
    if (!rc && !(v = bp_xcalloc(k ? k : 1, sizeof *v, e)))
        rc = BP_ENOMEM;
    for (size_t i = 0; !rc && i < k; i++) {
        const char *s = vl > 0 ? ((char **)raw)[i] : (char *)raw + i * (fsize + 1);
        if (!(v[i] = bp_xstrdup(s ? s : "", e)))
            rc = BP_ENOMEM;
    }
    if (raw && vl > 0) {
        hsize_t dim = k;
        hid_t s = H5Screate_simple(1, &dim, NULL);
        H5Dvlen_reclaim(mt, s, H5P_DEFAULT, raw);
        H5Sclose(s);
    }
    free(raw);
    H5Tclose(mt);
    if (rc) {
        bp_h5_free_strs(v, k);
        return rc;
    }
    *out = v;
    *n = k;
    return 0;
}

int bp_h5_get_str(bp_err *e, const char *where, hid_t loc, const char *name, char **out)
{
    char **v;
    size_t n;
    *out = NULL;
    int rc = bp_h5_get_strs(e, where, loc, name, &v, &n);
    if (rc)
        return rc;
    if (n != 1) {
        bp_h5_free_strs(v, n);
        return bp_err_set(e, BP_EIO, "%s: attribute '%s' should be one string", where, name);
    }
    *out = v[0];
    free(v);
    return 0;
}

int bp_h5_check_version(bp_err *e, const char *where, hid_t loc)
{
    if (H5Aexists(loc, "format_version") <= 0)
        return bp_err_set(e, BP_EIO, "%s: not a bprun file (no format_version attribute)", where);
    void *v = NULL;
    size_t n = 0;
    int rc = bp_h5_get_attr(e, where, loc, "format_version", H5T_INTEGER, H5T_NATIVE_INT, sizeof(int),
                      &v, &n);
    if (rc)
        return rc;
    int ver = n == 1 ? *(int *)v : -1;
    free(v);
    if (ver != BP_FORMAT_VERSION)
        return bp_err_set(e, BP_EIO, "%s: format_version %d; this bprun reads format_version %d",
                          where, ver, BP_FORMAT_VERSION);
    return 0;
}
