#include "autoconf.h"
#include "runindex.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5io.h"
#include "minima.h"
#include "runfolder.h"

#define STATUS_LEN 16

/* ---- the index ---- */

typedef struct index_row {
    uint32_t trial;
    uint64_t seed;
    char status[STATUS_LEN];
    int32_t epochs;
    double final_loss, final_val_loss, final_accuracy, final_val_accuracy, best_val_loss;
    double wall_seconds, final_test_loss, final_test_accuracy;
    int32_t epochs_to_target;
    char verdict[STATUS_LEN];
    double samples_per_second, peak_rss_bytes, work_bytes;
} index_row;

static hid_t index_row_type(int file)
{
    hid_t st = H5Tcopy(H5T_C_S1), t = H5I_INVALID_HID;
    if (st < 0 || H5Tset_size(st, STATUS_LEN) < 0 || H5Tset_strpad(st, H5T_STR_NULLPAD) < 0)
        goto out;
    if ((t = H5Tcreate(H5T_COMPOUND, sizeof(index_row))) < 0)
        goto out;
    struct { const char *name; size_t off; hid_t mem, disk; } f[] = {
        { "trial", offsetof(index_row, trial), H5T_NATIVE_UINT32, H5T_STD_U32LE },
        { "seed", offsetof(index_row, seed), H5T_NATIVE_UINT64, H5T_STD_U64LE },
        { "status", offsetof(index_row, status), st, st },
        { "epochs", offsetof(index_row, epochs), H5T_NATIVE_INT32, H5T_STD_I32LE },
        { "final_loss", offsetof(index_row, final_loss), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE },
        { "final_val_loss", offsetof(index_row, final_val_loss), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE },
        { "final_accuracy", offsetof(index_row, final_accuracy), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE },
        { "final_val_accuracy", offsetof(index_row, final_val_accuracy), H5T_NATIVE_DOUBLE,
          H5T_IEEE_F64LE },
        { "best_val_loss", offsetof(index_row, best_val_loss), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE },
        { "wall_seconds", offsetof(index_row, wall_seconds), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE },
        { "final_test_loss", offsetof(index_row, final_test_loss), H5T_NATIVE_DOUBLE,
          H5T_IEEE_F64LE },
        { "final_test_accuracy", offsetof(index_row, final_test_accuracy), H5T_NATIVE_DOUBLE,
          H5T_IEEE_F64LE },
        { "epochs_to_target", offsetof(index_row, epochs_to_target), H5T_NATIVE_INT32,
          H5T_STD_I32LE },
        { "samples_per_second", offsetof(index_row, samples_per_second), H5T_NATIVE_DOUBLE,
          H5T_IEEE_F64LE },
        { "peak_rss_bytes", offsetof(index_row, peak_rss_bytes), H5T_NATIVE_DOUBLE,
          H5T_IEEE_F64LE },
        { "work_bytes", offsetof(index_row, work_bytes), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE },
        { "verdict", offsetof(index_row, verdict), st, st },
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (H5Tinsert(t, f[i].name, f[i].off, file ? f[i].disk : f[i].mem) < 0) {
            H5Tclose(t);
            t = H5I_INVALID_HID;
            goto out;
        }
    /* on disk: packed, little-endian, same field names */
    if (file && H5Tpack(t) < 0) {
        H5Tclose(t);
        t = H5I_INVALID_HID;
    }
out:
    if (st >= 0)
        H5Tclose(st);
    return t;
}

static int write_summary(bp_err *e, const char *file, hid_t f, const bp_trial_summary *rows,
                         size_t n)
{
    index_row *buf = bp_xcalloc(n ? n : 1, sizeof *buf, e);
    if (!buf)
        return BP_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const bp_trial_summary *s = &rows[i];
        const char *st = s->status ? s->status : "";
        if (strlen(st) > STATUS_LEN)
            rc = bp_err_set(e, BP_EIO, "%s#/summary: trial %u: status '%s' is longer than %d "
                            "bytes", file, s->trial, st, STATUS_LEN);
        buf[i] = (index_row){ .trial = s->trial, .seed = s->seed, .epochs = s->epochs,
                              .final_loss = s->final_loss, .final_val_loss = s->final_val_loss,
                              .final_accuracy = s->final_accuracy,
                              .final_val_accuracy = s->final_val_accuracy,
                              .best_val_loss = s->best_val_loss,
                              .wall_seconds = s->wall_seconds,
                              .final_test_loss = s->final_test_loss,
                              .final_test_accuracy = s->final_test_accuracy,
                              .epochs_to_target = s->epochs_to_target,
                              .samples_per_second = s->samples_per_second,
                              .peak_rss_bytes = s->peak_rss_bytes,
                              .work_bytes = s->work_bytes };
        memcpy(buf[i].status, st, strlen(st) < STATUS_LEN ? strlen(st) : STATUS_LEN);
        size_t vl = strnlen(s->verdict, sizeof s->verdict);
        memcpy(buf[i].verdict, s->verdict, vl < STATUS_LEN ? vl : STATUS_LEN);
    }
    hid_t mt = H5I_INVALID_HID, ft = H5I_INVALID_HID;
    if (!rc) {
        mt = index_row_type(0);
        ft = index_row_type(1);
        hsize_t dim = n;
        if (mt < 0 || ft < 0)
            rc = bp_h5_fail(e, file, "/summary", "cannot make the row type");
        else
            rc = bp_h5_write_dataset(e, file, f, "/summary", "summary", ft, mt, 1, &dim, buf);
    }
    if (mt >= 0)
        H5Tclose(mt);
    if (ft >= 0)
        H5Tclose(ft);
    free(buf);
    return rc;
}

static int write_links(bp_err *e, const char *file, hid_t f, const bp_trial_summary *rows,
                       size_t n)
{
    hid_t g = H5Gcreate2(f, "trials", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return bp_h5_fail(e, file, "/trials", "cannot create group");
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char name[32], target[48], obj[48];
        snprintf(name, sizeof name, "%04u", rows[i].trial);
        snprintf(target, sizeof target, "trials/%04u.h5", rows[i].trial);
        snprintf(obj, sizeof obj, "/trials/%s", name);
        if (H5Lcreate_external(target, "/", g, name, H5P_DEFAULT, H5P_DEFAULT) < 0)
            rc = bp_h5_fail(e, file, obj, "cannot create link (trial listed twice?)");
    }
    H5Gclose(g);
    return rc;
}

static int write_params(bp_err *e, const char *file, hid_t f, const bp_run_info *r,
                        const bp_trial_summary *rows, size_t n)
{
    size_t na = r->n_axes;
    const char **buf = bp_xcalloc(n * na > 0 ? n * na : 1, sizeof *buf, e);
    if (!buf)
        return BP_ENOMEM;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < na; j++)
            buf[i * na + j] = r->params[rows[i].trial][j];
    hid_t t = bp_h5_vlstr_type();
    hsize_t dims[2] = { n, na };
    int rc = t < 0 ? bp_h5_fail(e, file, "/params", "cannot make string type")
                   : bp_h5_write_dataset(e, file, f, "/params", "params", t, t, 2, dims, buf);
    if (t >= 0)
        H5Tclose(t);
    free(buf);
    return rc;
}

/* Added with diagnostics: /minima (docs/FORMAT.md), once every trial has finished and some
 * completed trial has a verdict: the distinct minima of each sweep point (minima.h). */
static int write_minima(bp_err *e, const char *file, hid_t f, const bp_run_info *r,
                        const bp_trial_summary *rows, size_t n)
{
    size_t m = 0, n1 = n ? n : 1;
    for (size_t i = 0; i < n; i++)
        if (!rows[i].status || !strcmp(rows[i].status, "pending") ||
            !strcmp(rows[i].status, "running"))
            return 0;
    unsigned *ids = bp_xcalloc(n1, sizeof *ids, e);
    size_t *point = bp_xcalloc(n1, sizeof *point, e);
    int *mins = bp_xcalloc(n1, sizeof *mins, e);
    double *loss = bp_xcalloc(n1, sizeof *loss, e);
    int rc = ids && point && mins && loss ? 0 : BP_ENOMEM;
    for (size_t i = 0; i < n && !rc; i++) {
        if (strcmp(rows[i].status, "completed") || !rows[i].verdict[0])
            continue;
        size_t k = 0; /* the point: the first trial with the same swept values */
        while (k < i && r->params && r->n_axes) {
            size_t j = 0;
            while (j < r->n_axes && !strcmp(r->params[rows[k].trial][j], r->params[rows[i].trial][j]))
                j++;
            if (j == r->n_axes)
                break;
            k++;
        }
        ids[m] = rows[i].trial;
        point[m++] = r->params && r->n_axes ? rows[k].trial : rows[0].trial;
    }
    int got = rc ? rc : bp_minima_of_run(r->path, ids, point, m, mins, loss, e);
    if (got < 0)
        rc = got;
    if (!rc && got > 0) {
        size_t q = 0;
        uint32_t *tid = bp_xcalloc((size_t)got, sizeof *tid, e), *pt = bp_xcalloc((size_t)got, sizeof *pt, e);
        int32_t *mn = bp_xcalloc((size_t)got, sizeof *mn, e);
        double *ls = bp_xcalloc((size_t)got, sizeof *ls, e);
        rc = tid && pt && mn && ls ? 0 : BP_ENOMEM;
        for (size_t i = 0; i < m && !rc; i++)
            if (mins[i] >= 0) {
                tid[q] = ids[i];
                pt[q] = (uint32_t)point[i];
                mn[q] = mins[i] + 1;
                ls[q++] = loss[i];
            }
        hid_t g = rc ? H5I_INVALID_HID : H5Gcreate2(f, "/minima", H5P_DEFAULT, H5P_DEFAULT,
                                                   H5P_DEFAULT);
        if (!rc && g < 0)
            rc = bp_h5_fail(e, file, "/minima", "cannot create group");
        hsize_t dim = q;
        if (!rc)
            rc = bp_h5_write_dataset(e, file, g, "/minima", "trial", H5T_STD_U32LE, H5T_NATIVE_UINT32, 1,
                               &dim, tid);
        if (!rc)
            rc = bp_h5_write_dataset(e, file, g, "/minima", "point", H5T_STD_U32LE, H5T_NATIVE_UINT32, 1,
                               &dim, pt);
        if (!rc)
            rc = bp_h5_write_dataset(e, file, g, "/minima", "minimum", H5T_STD_I32LE, H5T_NATIVE_INT32, 1,
                               &dim, mn);
        if (!rc)
            rc = bp_h5_write_dataset(e, file, g, "/minima", "loss", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1,
                               &dim, ls);
        if (g >= 0)
            H5Gclose(g);
        free(tid);
        free(pt);
        free(mn);
        free(ls);
    }
    free(ids);
    free(point);
    free(mins);
    free(loss);
    return rc;
}

/* bp_run_write_index for what the index records of a run (also bprun merge's) */
static int write_index(const bp_run_info *r, const char *config_text, const char *resolved_config,
                       const bp_trial_summary *rows, size_t n, int threads, bp_err *e)
{
    bp_h5_quiet();
    char *part = bp_h5_fmt_alloc(e, "%s/index.h5.part", r->path);
    char *final = bp_h5_fmt_alloc(e, "%s/index.h5", r->path);
    int rc = (part && final) ? bp_h5_not_a_file(e, part) : BP_ENOMEM;
    hid_t f = H5I_INVALID_HID;
    if (!rc && (f = H5Fcreate(part, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        rc = bp_h5_fail(e, part, NULL, "cannot create index file");
    char created[32];
    bp_h5_iso_now(created, sizeof created);
    if (!rc)
        rc = bp_h5_attr_common(e, part, f, config_text, resolved_config, threads);
    if (!rc)
        rc = bp_h5_attr_u64(e, part, f, "/", "n_trials", n);
    if (!rc)
        rc = bp_h5_attr_str(e, part, f, "/", "created", created);
    if (!rc && r->hash)
        rc = bp_h5_attr_str(e, part, f, "/", "sweep_hash", r->hash);
    if (!rc && r->table)
        rc = bp_h5_attr_str(e, part, f, "/", "sweep_table", r->table);
    if (!rc && r->hash)
        rc = bp_h5_attr_strs(e, part, f, "/", "axes", (const char *const *)r->axes, r->n_axes);
    if (!rc && r->race)
        rc = bp_h5_attr_str(e, part, f, "/", "race", r->race);
    if (!rc && r->search)
        rc = bp_h5_attr_str(e, part, f, "/", "search", r->search);
    if (!rc)
        rc = write_summary(e, part, f, rows, n);
    if (!rc && r->params && r->n_axes)
        rc = write_params(e, part, f, r, rows, n);
    if (!rc)
        rc = write_links(e, part, f, rows, n);
    if (!rc)
        rc = write_minima(e, part, f, r, rows, n);
    if (f >= 0 && H5Fclose(f) < 0 && !rc)
        rc = bp_h5_fail(e, part, NULL, "cannot close index file");
    if (!rc)
        rc = bp_h5_commit_file(e, part, final, r->path);
    free(part);
    free(final);
    return rc;
}

int bp_run_write_index(bp_run *run, const char *config_text, const char *resolved_config,
                       const bp_trial_summary *rows, size_t n, int threads, bp_err *e)
{
    bp_run_info r = bp_run_info_of(run);
    return write_index(&r, config_text, resolved_config, rows, n, threads, e);
}

/* ---- rebuilding the index from the trial files (bprun merge) ---- */

static int read_index_rows(bp_err *e, const char *index, hid_t f, index_row **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    hid_t d = H5Dopen2(f, "summary", H5P_DEFAULT), sp = d >= 0 ? H5Dget_space(d) : -1;
    hid_t mt = index_row_type(0);
    hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    int rc = 0;
    if (d < 0 || sp < 0 || mt < 0 || np < 0)
        rc = bp_h5_fail(e, index, "/summary", "cannot open the summary table");
    else if (!(*rows = bp_xcalloc(np > 0 ? (size_t)np : 1, sizeof **rows, e)))
        rc = BP_ENOMEM;
    else if (np > 0 && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, *rows) < 0)
        rc = bp_h5_fail(e, index, "/summary", "cannot read the summary table");
    else
        *n = (size_t)np;
    if (rc) {
        free(*rows);
        *rows = NULL;
    }
    if (mt >= 0)
        H5Tclose(mt);
    if (sp >= 0)
        H5Sclose(sp);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

/* /params (n x n_axes strings) into out (n * n_axes, malloc'd copies) */
static int read_index_params(bp_err *e, const char *index, hid_t f, size_t n, size_t na,
                             char ***out)
{
    *out = NULL;
    hid_t d = H5Dopen2(f, "params", H5P_DEFAULT), sp = d >= 0 ? H5Dget_space(d) : -1;
    hid_t t = bp_h5_vlstr_type();
    hsize_t dims[2] = { 0, 0 };
    int rc = 0;
    char **buf = NULL;
    if (d < 0 || sp < 0 || t < 0 || H5Sget_simple_extent_ndims(sp) != 2 ||
        H5Sget_simple_extent_dims(sp, dims, NULL) < 0 || dims[0] != n || dims[1] != na) {
        rc = bp_h5_fail(e, index, "/params", "cannot read the swept values (not n_trials x n_axes)");
        goto out;
    }
    if (!(buf = bp_xcalloc(n * na, sizeof *buf, e)) || !(*out = bp_xcalloc(n * na, sizeof **out, e))) {
        rc = BP_ENOMEM;
        goto out;
    }
    if (H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        rc = bp_h5_fail(e, index, "/params", "cannot read the swept values");
        free(buf);
        buf = NULL;
        goto out;
    }
    for (size_t i = 0; i < n * na && !rc; i++)
        if (!((*out)[i] = bp_xstrdup(buf[i] ? buf[i] : "", e)))
            rc = BP_ENOMEM;
    H5Dvlen_reclaim(t, sp, H5P_DEFAULT, buf);
out:
    free(buf);
    if (rc && *out) {
        bp_h5_free_strs(*out, n * na);
        *out = NULL;
    }
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

/* The entries of trials/ that merge leaves out: not trial files, not bprun's, or trials the
 * index has no row for. Finished or running (.part) trial files of the run are not named. */
static void name_ignored(const bp_folder *fo, const char *dir, size_t n, bp_merge_result *res)
{
    bp_folder_entry *v = calloc(fo->n_foreign + fo->n_bad + fo->n_ours + 1, sizeof *v);
    size_t k = 0;
    if (!v)
        return;
    for (size_t i = 0; i < fo->n_foreign; i++)
        if (!strncmp(fo->foreign[i].name, "trials/", 7))
            v[k++] = fo->foreign[i];
    for (size_t i = 0; i < fo->n_bad; i++)
        v[k++] = fo->bad[i];
    for (size_t i = 0; i < fo->n_ours; i++)
        if (fo->ours[i].trial >= (long long)n)
            v[k++] = fo->ours[i];
    res->n_ignored = k;
    char *list = k ? bp_folder_list(dir, v, k, 3) : NULL;
    snprintf(res->ignored, sizeof res->ignored, "%s", list ? list : "");
    free(list);
    free(v);
}

/* Whether an index row of a finished trial may be kept instead of reading the trial's file: the
 * row says the trial ended (a status no later run of bprun changes: an interrupted trial is
 * continued, a pending or running one is still to come) and the file has not changed since
 * the index was written (its ctime, which every write, rename or link sets, is older than the
 * index's mtime). */
static int row_current(const index_row *old, const struct stat *file, const struct stat *index)
{
    static const char *const final[] = { "completed", "diverged", "failed", "pruned" };
    int ended = 0;
    for (size_t k = 0; k < sizeof final / sizeof final[0]; k++)
        ended |= !strncmp(old->status, final[k], STATUS_LEN);
    if (!ended)
        return 0;
    if (file->st_ctim.tv_sec != index->st_mtim.tv_sec)
        return file->st_ctim.tv_sec < index->st_mtim.tv_sec;
    return file->st_ctim.tv_nsec < index->st_mtim.tv_nsec;
}

/* The summary row a kept index row stands for (the index has no message: "") */
static void row_of_index(bp_trial_summary *r, const index_row *o)
{
    static const char *const known[] = { "completed", "diverged", "failed", "pruned" };
    memset(r, 0, sizeof *r);
    r->trial = o->trial;
    r->seed = o->seed;
    r->status = "failed";
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
        if (!strncmp(o->status, known[k], STATUS_LEN))
            r->status = known[k];
    r->epochs = o->epochs;
    r->final_loss = o->final_loss;
    r->final_val_loss = o->final_val_loss;
    r->final_accuracy = o->final_accuracy;
    r->final_val_accuracy = o->final_val_accuracy;
    r->best_val_loss = o->best_val_loss;
    r->wall_seconds = o->wall_seconds;
    r->final_test_loss = o->final_test_loss;
    r->final_test_accuracy = o->final_test_accuracy;
    r->epochs_to_target = o->epochs_to_target;
    size_t vl = strnlen(o->verdict, STATUS_LEN);
    if (vl >= sizeof r->verdict)
        vl = sizeof r->verdict - 1;
    memcpy(r->verdict, o->verdict, vl);
    r->samples_per_second = o->samples_per_second;
    r->peak_rss_bytes = o->peak_rss_bytes;
    r->work_bytes = o->work_bytes;
}

int bp_run_merge(const char *dir, double wait_s, bp_merge_result *res, bp_err *e)
{
    return bp_run_merge_with(dir, wait_s, NULL, res, e);
}

int bp_run_merge_with(const char *dir, double wait_s, const bp_merge_extra *x,
                      bp_merge_result *res, bp_err *e)
{
    bp_h5_quiet();
    memset(res, 0, sizeof *res);
    struct stat st;
    if (stat(dir, &st) != 0)
        return bp_err_set(e, BP_EUSAGE, "%s: no such run folder", dir);
    if (!S_ISDIR(st.st_mode))
        return bp_err_set(e, BP_EUSAGE, "%s: not a folder", dir);
    bp_folder fo;
    int dfd = bp_folder_open(dir, e);
    if (dfd < 0)
        return e->code;
    int rc = bp_folder_scan(dfd, dir, 0, &fo, e), lock_fd = -1, threads = 1;
    for (size_t i = 0; !rc && i < fo.n_bad; i++)
        if (fo.bad[i].trial < 0)   /* index.h5 or trials/ itself */
            rc = bp_err_set(e, BP_EUSAGE, "%s/%s: %s; not a run folder bprun can merge", dir,
                            fo.bad[i].name, fo.bad[i].why);
    if (!rc && !fo.has_index)
        rc = bp_err_set(e, BP_EUSAGE, "%s: not a bprun run folder (no index.h5)", dir);
    char *index = rc ? NULL : bp_h5_fmt_alloc(e, "%s/index.h5", dir);
    if (!rc && !index)
        rc = BP_ENOMEM;
    if (!rc)
        rc = bp_run_lock_wait(e, dfd, dir, &lock_fd, wait_s);
    char *config = NULL, *resolved = NULL, *hash = NULL, *table = NULL, **axes = NULL;
    char *race = NULL, *search = NULL;
    char **params = NULL, ***by_trial = NULL;
    size_t n = 0, na = 0;
    index_row *old = NULL;
    bp_trial_summary *rows = NULL;
    void *v = NULL;
    size_t nv = 0;
    hid_t f = H5I_INVALID_HID;
    int tfd = -1;
    unsigned char *foreign = NULL;
    struct stat ist;
    if (rc)
        goto out;
    if (stat(index, &ist) != 0) {
        rc = bp_err_set(e, BP_EIO, "%s: %s", index, strerror(errno));
        goto out;
    }
    if ((f = H5Fopen(index, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
        rc = bp_h5_fail(e, index, NULL, "cannot open the index");
        goto out;
    }
    if ((rc = bp_h5_get_str(e, index, f, "config", &config)) ||
        (rc = bp_h5_get_str(e, index, f, "resolved_config", &resolved)) ||
        (rc = bp_h5_get_attr(e, index, f, "threads", H5T_INTEGER, H5T_NATIVE_INT, sizeof(int), &v, &nv)))
        goto out;
    threads = nv ? *(int *)v : 1;
    if (H5Aexists(f, "sweep_hash") > 0 &&
        ((rc = bp_h5_get_str(e, index, f, "sweep_hash", &hash)) ||
         (rc = bp_h5_get_str(e, index, f, "sweep_table", &table)) ||
         (rc = bp_h5_get_strs(e, index, f, "axes", &axes, &na))))
        goto out;
    if (H5Aexists(f, "search") > 0 && (rc = bp_h5_get_str(e, index, f, "search", &search)))
        goto out;
    if (H5Aexists(f, "race") > 0 && (rc = bp_h5_get_str(e, index, f, "race", &race)))
        goto out;
    if ((rc = read_index_rows(e, index, f, &old, &n)))
        goto out;
    if (na && H5Lexists(f, "params", H5P_DEFAULT) > 0 &&
        (rc = read_index_params(e, index, f, n, na, &params)))
        goto out;
    H5Fclose(f);
    f = H5I_INVALID_HID;
    if (!(rows = bp_xcalloc(n ? n : 1, sizeof *rows, e)) ||
        !(by_trial = bp_xcalloc(n ? n : 1, sizeof *by_trial, e)) ||
        !(foreign = bp_xcalloc(n ? n : 1, 1, e))) {
        rc = BP_ENOMEM;
        goto out;
    }
    /* a file with a trial's name that bprun did not write */
    for (size_t k = 0; k < fo.n_bad; k++)
        if (fo.bad[k].trial >= 0 && (size_t)fo.bad[k].trial < n && !fo.bad[k].part)
            foreign[fo.bad[k].trial] = 1;
    tfd = openat(dfd, "trials", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (size_t i = 0; i < n && !rc; i++) {
        if (old[i].trial >= n) {
            rc = bp_err_set(e, BP_EIO, "%s#/summary: row %zu names trial %u of %zu", index, i,
                            (unsigned)old[i].trial, n);
            break;
        }
        if (params)
            by_trial[old[i].trial] = &params[i * na];
        char name[32];
        struct stat tst;
        snprintf(name, sizeof name, "%04u.h5", (unsigned)old[i].trial);
        int exists = !foreign[old[i].trial] && tfd >= 0 &&
                     fstatat(tfd, name, &tst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(tst.st_mode);
        if (exists && row_current(&old[i], &tst, &ist)) {
            row_of_index(&rows[i], &old[i]);   /* unchanged since the index recorded it */
            res->finished++;
        } else if (exists) {
            char *path = bp_h5_fmt_alloc(e, "%s/trials/%s", dir, name);
            rc = path ? bp_trial_read_summary(path, &rows[i], e) : BP_ENOMEM;
            free(path);
            res->finished++;
        } else {
            bp_trial_summary *r = &rows[i];
            memset(r, 0, sizeof *r);
            r->trial = old[i].trial;
            r->seed = old[i].seed;
            /* a trial a race did not need stays so; any other is still to run */
            int skip = !strncmp(old[i].status, "skipped", STATUS_LEN) ||
                       (x && x->skipped && old[i].trial < x->n && x->skipped[old[i].trial]);
            r->status = skip ? "skipped" : "pending";
            r->final_loss = r->final_val_loss = r->final_accuracy = r->final_val_accuracy = NAN;
            r->best_val_loss = r->wall_seconds = r->final_test_loss = NAN;
            r->final_test_accuracy = NAN;
            res->missing++;
        }
    }
    if (rc)
        goto out;
    res->n_trials = n;
    name_ignored(&fo, dir, n, res);
    if (!res->finished) {
        rc = bp_err_set(e, BP_EUSAGE, "%s: no finished trial files (trials/NNNN.h5) yet; "
                        "nothing to merge", dir);
        goto out;
    }
    bp_run_info r = { .path = dir, .hash = hash, .table = table, .n_axes = na, .axes = axes,
                      .params = x && x->params && x->n_params == n ? x->params
                                : params ? (char *const *const *)by_trial : NULL,
                      .race = x && x->race ? x->race : race, .search = search };
    rc = write_index(&r, config, resolved, rows, n, threads, e);
out:
    if (f >= 0)
        H5Fclose(f);
    if (tfd >= 0)
        close(tfd);
    free(foreign);
    if (lock_fd >= 0)
        close(lock_fd);
    close(dfd);
    bp_folder_free(&fo);
    free(index);
    free(config);
    free(resolved);
    free(hash);
    free(table);
    free(race);
    free(search);
    bp_h5_free_strs(axes, na);
    if (params)
        bp_h5_free_strs(params, n * na);
    free(by_trial);
    free(old);
    free(rows);
    free(v);
    return rc;
}
