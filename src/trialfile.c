#include "autoconf.h"
#include "trialfile.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5io.h"

#define EPOCH_CHUNK 256       /* rows of an /epochs chunk, at least ... */
#define EPOCH_CHUNK_MAX 8192  /* ... and at most (bp_trial_meta.epochs_hint) */
#define KEEP_HINT_MAX 16384   /* most rows the kept rows' buffer starts with (epochs_hint) */
/* Trial files put every object of TORN_MIN bytes or more at a multiple of TORN_PAGE
 * (H5Pset_alignment). Linux finishes the page it is copying when a write is hit by SIGKILL,
 * but may stop before the next one, so an object that straddles a page boundary can be left
 * half old, half new. The one object a flush rewrites with new content is a chunk B-tree node
 * (2096 bytes): a torn node held the new child count with the old, empty entries, the lookup
 * of chunk 0 then failed, and acknowledged rows read as 0 (tests/check_runlog's kills: about
 * 1 in 1000 kills in the first 3 ms, with the CPUs loaded). Raw chunks smaller than TORN_MIN
 * stay unaligned: a torn chunk rewrite leaves acknowledged rows as they were. */
#define TORN_PAGE 4096
#define TORN_MIN 2049
#define MEM_INCREMENT 65536 /* growth of an in-memory trial file image */
#define MEM_DEFLATE 1       /* deflate level of an in-memory file's epoch columns ... */
#define MEM_COMPACT 1024    /* ... stored in their object header when this small (bytes) */
#define MEM_ATTRS 64        /* the root's attributes stay in its object header up to this many */


struct bp_trial_file {
    char *part, *final, *trials_dir;
    hid_t file, epochs, mspace;
    hid_t *dsets;
    size_t n_columns;
    hsize_t rows;          /* rows written to the file (acknowledged once flushed) */
    double *pend;          /* rows appended but not yet written: n_pend x n_columns */
    double *colbuf;        /* one column of the pending rows, gathered for H5Dwrite */
    size_t n_pend, cap_pend;
    double flush_s;        /* flush interval in seconds (BPRUN_FLUSH_MS / 1000, default
                            * BP_FLUSH_MS_DEFAULT): 0 writes and flushes every row */
    double last_flush;     /* CLOCK_MONOTONIC seconds (coarse; creation until the first flush) */
    double created;        /* the same clock when the file was created */
    double first_s;        /* no flush by append before the file is this old: min(flush_s,
                            * BP_FLUSH_FIRST_MS / 1000) */
    int started;           /* the file is first_s old: the doubling and interval rules apply */
    /* The file is created when it is first needed (mk_file): by the first flush of rows, or,
     * for a trial that ends before its first flush, in memory by the first write after its
     * training (the model, an attribute, the end) and written out with one write() by
     * bp_trial_finish. What it is created with is kept until then: */
    int mem;               /* the file is an in-memory image (HDF5 core driver) */
    int defer;             /* bp_trial_finish leaves the .part for bp_trials_commit */
    char *config_text, *resolved, *continued_from, **columns;
    unsigned char *omit;   /* n_columns: 1 = not stored (bp_trial_meta.omit) */
    unsigned trial;
    uint64_t seed;
    int threads, continued_at, epochs_hint;
    char started_at[32];
};

/* ---- trial files ---- */

static int close_trial(bp_trial_file *t)
{
    int bad = 0;
    for (size_t c = 0; t->dsets && c < t->n_columns; c++)
        if (t->dsets[c] >= 0)
            bad |= H5Dclose(t->dsets[c]) < 0;
    if (t->epochs >= 0)
        bad |= H5Gclose(t->epochs) < 0;
    if (t->mspace >= 0)
        bad |= H5Sclose(t->mspace) < 0;
    if (t->file >= 0)
        bad |= H5Fclose(t->file) < 0;
    t->epochs = t->mspace = t->file = H5I_INVALID_HID;
    return bad ? -1 : 0;
}

static void free_trial(bp_trial_file *t)
{
    free(t->pend);
    free(t->colbuf);
    free(t->dsets);
    free(t->part);
    free(t->final);
    free(t->trials_dir);
    free(t->config_text);
    free(t->resolved);
    free(t->continued_from);
    for (size_t c = 0; t->columns && c < t->n_columns; c++)
        free(t->columns[c]);
    free(t->columns);
    free(t->omit);
    free(t);
}

/* BPRUN_FLUSH_MS: unset or empty is BP_FLUSH_MS_DEFAULT; else an integer 0 .. 60000 (0: flush
 * every row). */
static int flush_interval(double *out, bp_err *e)
{
    const char *v = getenv("BPRUN_FLUSH_MS");
    *out = BP_FLUSH_MS_DEFAULT / 1000.0;
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    long ms = strtol(v, &end, 10);
    if (errno || *end || ms < 0 || ms > 60000)
        return bp_err_set(e, BP_EUSAGE,
                          "BPRUN_FLUSH_MS: expected milliseconds from 0 to 60000 (got '%s')", v);
    *out = (double)ms / 1000.0;
    return 0;
}

/* Create the file with its root attributes and empty /epochs datasets. On disk (mem = 0): a
 * file whose rows are flushed while the trial trains, every large object page-aligned
 * (TORN_PAGE), extendible columns in chunks of epochs_hint / 8 rows. In memory (mem = 1, a
 * trial whose training ended before its first flush, so every row is known): the HDF5 1.10
 * file format (compact groups, no chunk index for a single chunk), no alignment (the image is
 * written once, before anyone can read it), columns of exactly the rows kept, each in its
 * object header when small (MEM_COMPACT) or else one shuffled, deflated chunk. */
static int mk_file(bp_trial_file *t, int mem, bp_err *e)
{
    hid_t fapl = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, space = H5I_INVALID_HID;
    hid_t fcpl = H5I_INVALID_HID;
    int rc = 0;
    /* No HDF5 file lock: a lock held for the whole trial would stop anyone from reading the
     * history while it trains. Trial files are private to the process that writes them. */
    if ((fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0 || H5Pset_file_locking(fapl, 0, 1) < 0 ||
        (mem ? H5Pset_fapl_core(fapl, MEM_INCREMENT, 1) < 0 ||
                   H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110)
             : H5Pset_alignment(fapl, TORN_MIN, TORN_PAGE)) < 0 ||
        (mem && ((fcpl = H5Pcreate(H5P_FILE_CREATE)) < 0 ||
                 H5Pset_attr_phase_change(fcpl, MEM_ATTRS, MEM_ATTRS) < 0 ||
                 H5Pset_obj_track_times(fcpl, 0) < 0)) ||
        (t->file = H5Fcreate(t->part, H5F_ACC_TRUNC, mem ? fcpl : H5P_DEFAULT, fapl)) < 0) {
        rc = bp_h5_fail(e, t->part, NULL, "cannot create trial file");
        goto out;
    }
    t->mem = mem;
    if ((rc = bp_h5_attr_common(e, t->part, t->file, t->config_text, t->resolved, t->threads)) ||
        (rc = bp_h5_attr_u64(e, t->part, t->file, "/", "trial", t->trial)) ||
        (rc = bp_h5_attr_u64(e, t->part, t->file, "/", "seed", t->seed)) ||
        (rc = bp_h5_attr_str(e, t->part, t->file, "/", "status", "running")) ||
        (rc = bp_h5_attr_str(e, t->part, t->file, "/", "started", t->started_at)))
        goto out;
    if (t->continued_from &&
        ((rc = bp_h5_attr_str(e, t->part, t->file, "/", "continued_from", t->continued_from)) ||
         (rc = bp_h5_attr_int(e, t->part, t->file, "/", "continued_at", t->continued_at))))
        goto out;
    if ((t->epochs = H5Gcreate2(t->file, "epochs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
        rc = bp_h5_fail(e, t->part, "/epochs", "cannot create group");
        goto out;
    }
    size_t n_stored = 0;
    const char **stored = malloc((t->n_columns ? t->n_columns : 1) * sizeof *stored);
    if (!stored) {
        rc = bp_err_set(e, BP_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t c = 0; c < t->n_columns; c++)
        if (!t->omit[c])
            stored[n_stored++] = t->columns[c];
    rc = bp_h5_attr_strs(e, t->part, t->epochs, "/epochs", "columns", stored, n_stored);
    free(stored);
    if (rc)
        goto out;
    hsize_t zero = 0, unlim = H5S_UNLIMITED, chunk = EPOCH_CHUNK, one = 1, n = t->n_pend;
    while (chunk < EPOCH_CHUNK_MAX && t->epochs_hint > 0 && chunk * 8 < (hsize_t)t->epochs_hint)
        chunk *= 2;
    int small = mem && n * sizeof(double) <= MEM_COMPACT;
    if ((dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0 ||
        (!mem && H5Pset_chunk(dcpl, 1, &chunk) < 0) ||
        (small && H5Pset_layout(dcpl, H5D_COMPACT) < 0) ||
        (mem && !small && (H5Pset_chunk(dcpl, 1, &n) < 0 || H5Pset_shuffle(dcpl) < 0 ||
                           H5Pset_deflate(dcpl, MEM_DEFLATE) < 0)) ||
        (mem && (H5Pset_dset_no_attrs_hint(dcpl, 1) < 0 || H5Pset_obj_track_times(dcpl, 0) < 0)) ||
        (space = mem ? H5Screate_simple(1, &n, NULL) : H5Screate_simple(1, &zero, &unlim)) < 0 ||
        (t->mspace = H5Screate_simple(1, &one, NULL)) < 0) {
        rc = bp_h5_fail(e, t->part, "/epochs", "cannot set up datasets");
        goto out;
    }
    for (size_t c = 0; c < t->n_columns; c++) {
        if (t->omit[c])
            continue;
        t->dsets[c] = H5Dcreate2(t->epochs, t->columns[c], H5T_IEEE_F64LE, space, H5P_DEFAULT,
                                 dcpl, H5P_DEFAULT);
        if (t->dsets[c] < 0) {
            char obj[256];
            snprintf(obj, sizeof obj, "/epochs/%s", t->columns[c]);
            rc = bp_h5_fail(e, t->part, obj, "cannot create dataset (duplicate column?)");
            goto out;
        }
    }
    if (!mem && H5Fflush(t->file, H5F_SCOPE_LOCAL) < 0)
        rc = bp_h5_fail(e, t->part, NULL, "cannot flush");
out:
    if (space >= 0)
        H5Sclose(space);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (fcpl >= 0)
        H5Pclose(fcpl);
    if (fapl >= 0)
        H5Pclose(fapl);
    return rc;
}

/* Write the pending rows to /epochs and flush: they are then acknowledged. The file is created
 * first when it does not exist yet: on disk, or, with `ending` (the trial's training is over:
 * the model, an attribute or the end comes next), in memory. */
static int write_rows(bp_trial_file *t, int ending, bp_err *e)
{
    if (t->file < 0) {
        int rc = mk_file(t, ending, e);
        if (rc)
            return rc;
    }
    if (!t->n_pend)
        return 0;
    hsize_t start = t->rows, k = t->n_pend, n = t->rows + k;
    hid_t ms = k == 1 ? t->mspace : H5Screate_simple(1, &k, NULL);
    if (ms < 0)
        return bp_h5_fail(e, t->part, "/epochs", "cannot append a row");
    int rc = 0;
    for (size_t c = 0; c < t->n_columns && !rc; c++) {
        if (t->omit[c])
            continue;
        for (size_t i = 0; i < t->n_pend; i++)
            t->colbuf[i] = t->pend[i * t->n_columns + c];
        hid_t fs = H5I_INVALID_HID;
        if ((!t->mem && H5Dset_extent(t->dsets[c], &n) < 0) ||
            (fs = H5Dget_space(t->dsets[c])) < 0 ||
            H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &k, NULL) < 0 ||
            H5Dwrite(t->dsets[c], H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, t->colbuf) < 0) {
            char obj[64];
            snprintf(obj, sizeof obj, "/epochs (column %zu)", c);
            rc = bp_h5_fail(e, t->part, obj, "cannot append a row");
        }
        if (fs >= 0)
            H5Sclose(fs);
    }
    if (ms != t->mspace)
        H5Sclose(ms);
    if (rc)
        return rc;
    if (!t->mem && H5Fflush(t->file, H5F_SCOPE_LOCAL) < 0)
        return bp_h5_fail(e, t->part, NULL, "cannot flush");
    t->rows = n;
    t->n_pend = 0;
    t->last_flush = t->flush_s > 0 ? bp_seconds_coarse() : 0.0;
    return 0;
}

static int write_pending(bp_trial_file *t, bp_err *e)
{
    return write_rows(t, 1, e);
}

static int good_column(const char *c)
{
    return c && *c && !strchr(c, '/') && strcmp(c, ".") != 0;
}

static char *dup_or_null(const char *s, int *bad)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    *bad |= !d;
    return d;
}

bp_trial_file *bp_trial_create(bp_run *r, const bp_trial_meta *m, bp_err *e)
{
    bp_h5_quiet();
    bp_trial_file *t = bp_xcalloc(1, sizeof *t, e);
    if (!t)
        return NULL;
    t->file = t->epochs = t->mspace = H5I_INVALID_HID;
    if (flush_interval(&t->flush_s, e)) {
        free(t);
        return NULL;
    }
    t->first_s = t->flush_s < BP_FLUSH_FIRST_MS / 1000.0 ? t->flush_s : BP_FLUSH_FIRST_MS / 1000.0;
    t->created = t->last_flush = bp_seconds_coarse();
    if (m->epochs_hint > 0 && m->n_columns) { /* the rows of a short trial, kept until D */
        size_t cap = m->epochs_hint < KEEP_HINT_MAX ? (size_t)m->epochs_hint : KEEP_HINT_MAX;
        cap = cap < 64 ? 64 : cap;
        t->pend = malloc(cap * m->n_columns * sizeof *t->pend);
        t->colbuf = malloc(cap * sizeof *t->colbuf);
        if (!t->pend || !t->colbuf) {
            bp_err_set(e, BP_ENOMEM, "out of memory for the epoch rows");
            free(t->pend);
            free(t->colbuf);
            free(t);
            return NULL;
        }
        t->cap_pend = cap;
    }
    t->trials_dir = bp_h5_fmt_alloc(e, "%s/trials", bp_run_path(r));
    t->final = bp_h5_fmt_alloc(e, "%s/trials/%04u.h5", bp_run_path(r), m->trial);
    t->part = bp_h5_fmt_alloc(e, "%s/trials/%04u.h5.part", bp_run_path(r), m->trial);
    if (!t->trials_dir || !t->final || !t->part)
        goto fail;
    for (size_t c = 0; c < m->n_columns; c++) {
        if (!good_column(m->columns[c])) {
            bp_err_set(e, BP_EIO, "%s: bad epoch column name '%s'", t->part,
                       m->columns[c] ? m->columns[c] : "(null)");
            goto fail;
        }
        for (size_t d = 0; d < c; d++)
            if (!strcmp(m->columns[d], m->columns[c])) {
                bp_err_set(e, BP_EIO, "%s: epoch column '%s' given twice", t->part,
                           m->columns[c]);
                goto fail;
            }
    }
    if (bp_h5_not_a_file(e, t->part))
        goto fail;
    /* the file is created later (mk_file); a folder it cannot be created in is refused now,
     * not after the training */
    if (access(t->trials_dir, W_OK | X_OK) != 0) {
        bp_err_set(e, BP_EIO, "%s: cannot create trial file: %s", t->part, strerror(errno));
        goto fail;
    }
    if (!m->replace && access(t->final, F_OK) == 0) {
        bp_err_set(e, BP_EEXIST, "%s: trial file exists; it is never overwritten", t->final);
        goto fail;
    }
    t->dsets = bp_xcalloc(m->n_columns ? m->n_columns : 1, sizeof *t->dsets, e);
    t->columns = bp_xcalloc(m->n_columns ? m->n_columns : 1, sizeof *t->columns, e);
    t->omit = bp_xcalloc(m->n_columns ? m->n_columns : 1, 1, e);
    if (!t->dsets || !t->columns || !t->omit)
        goto fail;
    t->n_columns = m->n_columns;
    int bad = 0;
    for (size_t c = 0; c < m->n_columns; c++) {
        t->dsets[c] = H5I_INVALID_HID;
        t->columns[c] = dup_or_null(m->columns[c], &bad);
        t->omit[c] = m->omit && m->omit[c];
    }
    t->config_text = dup_or_null(m->config_text ? m->config_text : "", &bad);
    t->resolved = dup_or_null(m->resolved_config ? m->resolved_config : "", &bad);
    t->continued_from = dup_or_null(m->continued_from, &bad);
    if (bad) {
        bp_err_set(e, BP_ENOMEM, "out of memory");
        goto fail;
    }
    t->trial = m->trial;
    t->seed = m->seed;
    t->threads = m->threads;
    t->continued_at = m->continued_at;
    t->epochs_hint = m->epochs_hint;
    t->defer = m->group_commit;
    bp_h5_iso_now(t->started_at, sizeof t->started_at);
    /* With T = 0 every row is acknowledged at once, so the file is there from the start. */
    if (t->flush_s <= 0 && write_rows(t, 0, e))
        goto fail;
    return t;
fail:
    close_trial(t);
    free_trial(t);
    return NULL;
}

int bp_trial_append(bp_trial_file *t, const double *row, bp_err *e)
{
    if (t->n_pend == t->cap_pend) {
        size_t cap = t->cap_pend ? 2 * t->cap_pend : 64;
        double *p = realloc(t->pend, cap * (t->n_columns ? t->n_columns : 1) * sizeof *p);
        if (!p)
            return bp_err_set(e, BP_ENOMEM, "%s: out of memory for the epoch rows", t->part);
        t->pend = p;
        double *cb = realloc(t->colbuf, cap * sizeof *cb);
        if (!cb)
            return bp_err_set(e, BP_ENOMEM, "%s: out of memory for the epoch rows", t->part);
        t->colbuf = cb;
        t->cap_pend = cap;
    }
    memcpy(t->pend + t->n_pend * t->n_columns, row, t->n_columns * sizeof *row);
    t->n_pend++;
    if (t->flush_s <= 0)
        goto write;
    /* no row is written before the file is first_s old (first_s <= flush_s: no row is older
     * than flush_s then) */
    if (!t->started) {
        if (bp_seconds_coarse() - t->created < t->first_s)
            return 0;
        t->started = 1;
    }
    /* acknowledged: every row older than flush_s, and at least half of all rows */
    if (t->n_pend >= t->rows || bp_seconds_coarse() - t->last_flush >= t->flush_s)
        goto write;
    return 0;
write:
    bp_h5_quiet(); /* only when HDF5 is called: it takes HDF5's global lock */
    return write_rows(t, 0, e);
}

int bp_trial_flush(bp_trial_file *t, bp_err *e)
{
    bp_h5_quiet();
    return write_rows(t, 0, e);
}

uint64_t bp_trial_rows_acked(const bp_trial_file *t)
{
    return (uint64_t)t->rows;
}

static int save_layer(bp_err *e, const char *file, hid_t model, const bp_model *m, size_t l)
{
    const bp_act *a = &m->act[l];
    int out_softmax = m->softmax && l + 1 == m->n_layers;
    const char *name = out_softmax ? "softmax" : a->name;
    char obj[64], gname[32];
    snprintf(gname, sizeof gname, "layer_%zu", l);
    snprintf(obj, sizeof obj, "/model/%s", gname);
    if (!name)
        return bp_err_set(e, BP_EIO, "%s#%s: layer %zu has no activation name", file, obj, l);
    size_t n_hp = out_softmax ? 0 : a->n_hp;
    if (n_hp > BP_MAX_HPARAMS)
        return bp_err_set(e, BP_EIO, "%s#%s: %zu hyperparameters (at most %d)", file, obj, n_hp,
                          BP_MAX_HPARAMS);
    if (n_hp && (!a->fn || a->fn->n_hparams != n_hp))
        return bp_err_set(e, BP_EIO, "%s#%s: activation %s has %zu hyperparameter values but "
                          "declares %u names", file, obj, name, n_hp,
                          a->fn ? (unsigned)a->fn->n_hparams : 0u);
    const char *names[BP_MAX_HPARAMS];
    for (size_t i = 0; i < n_hp; i++)
        names[i] = a->fn->hparams[i].name;
    hid_t g = H5Gcreate2(model, gname, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return bp_h5_fail(e, file, obj, "cannot create group");
    int rc = bp_h5_attr_str(e, file, g, obj, "activation", name);
    if (!rc)
        rc = bp_h5_attr_strs(e, file, g, obj, "hp_names", names, n_hp);
    if (!rc)
        rc = bp_h5_put_attr(e, file, g, obj, "hp", H5T_NATIVE_DOUBLE, n_hp, 0, a->hp);
    H5Gclose(g);
    return rc;
}

static int save_optimizer(bp_err *e, const char *file, hid_t model, const bp_model *m,
                          const bp_opt_record *o)
{
    const char *obj = "/model/optimizer";
    hid_t g = H5Gcreate2(model, "optimizer", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return bp_h5_fail(e, file, obj, "cannot create group");
    int rc = bp_h5_attr_str(e, file, g, obj, "name", o->name);
    if (!rc)
        rc = bp_h5_attr_u64(e, file, g, obj, "step", o->step);
    if (!rc)
        rc = bp_h5_attr_strs(e, file, g, obj, "hp_names", o->hp_names, o->n_hp);
    if (!rc)
        rc = bp_h5_put_attr(e, file, g, obj, "hp", H5T_NATIVE_DOUBLE, o->n_hp, 0,
                      o->n_hp ? (const void *)o->hp : (const void *)"");
    if (!rc)
        rc = bp_h5_attr_u64(e, file, g, obj, "n_state", o->n_state);
    if (!rc && o->n_state) {
        if (!o->state)
            rc = bp_err_set(e, BP_EIO, "%s#%s: n_state is %zu but no state was given", file, obj,
                            o->n_state);
        else {
            hsize_t dims[2] = { o->n_state, m->n_params };
            rc = bp_h5_write_dataset(e, file, g, "/model/optimizer/state", "state", H5T_IEEE_F32LE,
                               H5T_NATIVE_FLOAT, 2, dims, o->state);
        }
    }
    H5Gclose(g);
    return rc;
}

static int save_schedule(bp_err *e, const char *file, hid_t model, const bp_opt_record *o)
{
    const char *obj = "/model/schedule";
    hid_t g = H5Gcreate2(model, "schedule", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return bp_h5_fail(e, file, obj, "cannot create group");
    int rc = bp_h5_attr_str(e, file, g, obj, "name", o->schedule);
    if (!rc)
        rc = bp_h5_attr_strs(e, file, g, obj, "state_names", o->sched_names, o->n_sched);
    if (!rc)
        rc = bp_h5_put_attr(e, file, g, obj, "state", H5T_NATIVE_DOUBLE, o->n_sched, 0,
                      o->n_sched ? (const void *)o->sched_state : (const void *)"");
    H5Gclose(g);
    return rc;
}

int bp_trial_save_model(bp_trial_file *t, const bp_model *m, const bp_opt_record *o, bp_err *e)
{
    bp_h5_quiet();
    const char *file = t->part;
    int rc0 = write_pending(t, e);
    if (rc0)
        return rc0;
    if (H5Lexists(t->file, "model", H5P_DEFAULT) > 0 && H5Ldelete(t->file, "model", H5P_DEFAULT) < 0)
        return bp_h5_fail(e, file, "/model", "cannot replace the earlier saved model");
    hid_t g = H5Gcreate2(t->file, "model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return bp_h5_fail(e, file, "/model", "cannot create group");
    const char *acts[m->n_layers ? m->n_layers : 1];
    for (size_t l = 0; l < m->n_layers; l++)
        acts[l] = (m->softmax && l + 1 == m->n_layers) ? "softmax" : m->act[l].name;
    const char *loss = (unsigned)m->loss < BP_LOSS_COUNT ? bp_loss_names[m->loss] : NULL;
    int rc = 0;
    if (!loss)
        rc = bp_err_set(e, BP_EIO, "%s#/model: unknown loss %d", file, (int)m->loss);
    if (!rc)
        rc = bp_h5_put_attr(e, file, g, "/model", "sizes", H5T_NATIVE_INT, m->n_layers + 1, 0, m->sizes);
    if (!rc)
        rc = bp_h5_attr_str(e, file, g, "/model", "loss", loss);
    if (!rc)
        rc = bp_h5_attr_str(e, file, g, "/model", "output", acts[m->n_layers - 1]);
    if (!rc)
        rc = bp_h5_attr_strs(e, file, g, "/model", "activations", acts, m->n_layers);
    for (size_t l = 0; !rc && l < m->n_layers; l++)
        rc = save_layer(e, file, g, m, l);
    hsize_t n = m->n_params;
    if (!rc)
        rc = bp_h5_write_dataset(e, file, g, "/model/params", "params", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                           1, &n, m->params);
    if (!rc && o)
        rc = save_optimizer(e, file, g, m, o);
    if (!rc && o && o->schedule)
        rc = save_schedule(e, file, g, o);
    H5Gclose(g);
    if (!rc && !t->mem && H5Fflush(t->file, H5F_SCOPE_LOCAL) < 0)
        rc = bp_h5_fail(e, file, NULL, "cannot flush");
    return rc;
}

int bp_trial_save_extras(bp_trial_file *t, const double *mean, const double *std, size_t d,
                         double test_loss, double test_accuracy, bp_err *e)
{
    bp_h5_quiet();
    const char *file = t->part;
    int rc = write_pending(t, e);
    if (!rc && mean) {
        hid_t g = H5Gopen2(t->file, "model", H5P_DEFAULT);
        if (g < 0)
            return bp_h5_fail(e, file, "/model", "no saved model to add the standardization to");
        hsize_t n = d;
        rc = bp_h5_write_dataset(e, file, g, "/model/standardize_mean", "standardize_mean",
                           H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, mean);
        if (!rc)
            rc = bp_h5_write_dataset(e, file, g, "/model/standardize_std", "standardize_std",
                               H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, std);
        H5Gclose(g);
    }
    if (!rc && !isnan(test_loss))
        rc = bp_h5_attr_dbl(e, file, t->file, "/", "test_loss", test_loss);
    if (!rc && !isnan(test_accuracy))
        rc = bp_h5_attr_dbl(e, file, t->file, "/", "test_accuracy", test_accuracy);
    if (!rc && !t->mem && H5Fflush(t->file, H5F_SCOPE_LOCAL) < 0)
        rc = bp_h5_fail(e, file, NULL, "cannot flush");
    return rc;
}

int bp_trial_set_int(bp_trial_file *t, const char *name, int value, bp_err *e)
{
    bp_h5_quiet();
    int rc = write_pending(t, e);
    return rc ? rc : bp_h5_attr_int(e, t->part, t->file, "/", name, value);
}

int bp_trial_set_double(bp_trial_file *t, const char *name, double value, bp_err *e)
{
    bp_h5_quiet();
    int rc = write_pending(t, e);
    return rc ? rc : bp_h5_attr_dbl(e, t->part, t->file, "/", name, value);
}

int bp_trial_set_str(bp_trial_file *t, const char *name, const char *value, bp_err *e)
{
    bp_h5_quiet();
    int rc = write_pending(t, e);
    return rc ? rc : bp_h5_attr_str(e, t->part, t->file, "/", name, value);
}

int bp_trial_set_group_doubles(bp_trial_file *t, const char *group, const char *const *names,
                               const double *values, size_t n, bp_err *e)
{
    bp_h5_quiet();
    int rc0 = write_pending(t, e);
    if (rc0)
        return rc0;
    htri_t has = H5Lexists(t->file, group, H5P_DEFAULT);
    if (has < 0)
        return bp_h5_fail(e, t->part, group, "cannot look up group");
    hid_t g = has ? H5Gopen2(t->file, group, H5P_DEFAULT)
                  : H5Gcreate2(t->file, group, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return bp_h5_fail(e, t->part, group, has ? "cannot open group" : "cannot create group");
    int rc = BP_OK;
    for (size_t i = 0; i < n && !rc; i++)
        rc = bp_h5_attr_dbl(e, t->part, g, group, names[i], values[i]);
    H5Gclose(g);
    return rc;
}

int bp_trial_unlink(bp_trial_file *t, const char *path, bp_err *e)
{
    bp_h5_quiet();
    int rc = write_pending(t, e);
    if (rc)
        return rc;
    htri_t has = H5Lexists(t->file, path, H5P_DEFAULT);
    if (has > 0 && H5Ldelete(t->file, path, H5P_DEFAULT) < 0)
        return bp_h5_fail(e, t->part, path, "cannot remove");
    return has < 0 ? bp_h5_fail(e, t->part, path, "cannot look up") : BP_OK;
}

int bp_trial_set_group_array(bp_trial_file *t, const char *group, const char *name,
                             const double *values, size_t n, bp_err *e)
{
    bp_h5_quiet();
    int rc0 = write_pending(t, e);
    if (rc0)
        return rc0;
    htri_t has = H5Lexists(t->file, group, H5P_DEFAULT);
    hid_t g = H5I_INVALID_HID;
    if (has > 0) {
        g = H5Gopen2(t->file, group, H5P_DEFAULT);
    } else if (has == 0) {
        hid_t lp = H5Pcreate(H5P_LINK_CREATE);
        if (lp >= 0 && H5Pset_create_intermediate_group(lp, 1) >= 0)
            g = H5Gcreate2(t->file, group, lp, H5P_DEFAULT, H5P_DEFAULT);
        if (lp >= 0)
            H5Pclose(lp);
    }
    if (g < 0)
        return bp_h5_fail(e, t->part, group, "cannot create group");
    hsize_t dim = n;
    int rc = bp_h5_write_dataset(e, t->part, g, group, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &dim,
                           values);
    H5Gclose(g);
    return rc;
}

/* The trial's outcome, the root attributes a finished (or salvaged) trial file ends with. */
static int write_outcome(bp_err *e, const char *file, hid_t f, const char *status,
                         const char *message, int epochs_done, double wall_seconds)
{
    char finished[32];
    bp_h5_iso_now(finished, sizeof finished);
    int rc = bp_h5_attr_str(e, file, f, "/", "status", status);
    if (!rc)
        rc = bp_h5_attr_str(e, file, f, "/", "message", message);
    if (!rc)
        rc = bp_h5_attr_int(e, file, f, "/", "epochs_done", epochs_done);
    if (!rc)
        rc = bp_h5_attr_dbl(e, file, f, "/", "wall_seconds", wall_seconds);
    if (!rc)
        rc = bp_h5_attr_str(e, file, f, "/", "finished", finished);
    return rc;
}

int bp_trial_finish(bp_trial_file *t, const char *status, const char *message, int epochs_done,
                    double wall_seconds, bp_err *e)
{
    bp_h5_quiet();
    if (!t)
        return bp_err_set(e, BP_EIO, "bp_trial_finish: no trial file");
    const char *f = t->part;
    int rc = write_pending(t, e);
    if (!rc)
        rc = write_outcome(e, f, t->file, status ? status : "unknown", message, epochs_done,
                           wall_seconds);
    if (close_trial(t) < 0 && !rc)
        rc = bp_h5_fail(e, f, NULL, "cannot close trial file");
    if (!rc && !t->defer)
        rc = bp_h5_commit_file(e, t->part, t->final, t->trials_dir);
    free_trial(t);
    return rc;
}

int bp_trials_commit(bp_run *r, const unsigned *ids, size_t n, bp_err *e)
{
    char part[4096], final[4096], tdir[4096];
    if ((size_t)snprintf(tdir, sizeof tdir, "%s/trials", bp_run_path(r)) >= sizeof tdir - 32)
        return bp_err_set(e, BP_EUSAGE, "%s/trials: path too long", bp_run_dir(r));
    for (size_t i = 0; i < n; i++) {
        if ((size_t)snprintf(part, sizeof part, "%s/%04u.h5.part", tdir, ids[i]) >= sizeof part)
            return bp_err_set(e, BP_EUSAGE, "%s/trials: path too long", bp_run_dir(r));
        int rc = bp_h5_fsync_path(e, part, 0);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < n; i++) {
        if ((size_t)snprintf(part, sizeof part, "%s/%04u.h5.part", tdir, ids[i]) >= sizeof part ||
            (size_t)snprintf(final, sizeof final, "%s/%04u.h5", tdir, ids[i]) >= sizeof final)
            return bp_err_set(e, BP_EUSAGE, "%s/trials: path too long", bp_run_dir(r));
        if (rename(part, final) != 0)
            return bp_err_set(e, BP_EIO, "%s: cannot rename to %s: %s", part, final,
                              strerror(errno));
    }
    return n ? bp_h5_fsync_path(e, tdir, 1) : 0;
}

void bp_trial_abandon(bp_trial_file *t)
{
    if (!t)
        return;
    bp_h5_quiet();
    bp_err e;
    write_rows(t, 0, &e);
    close_trial(t);
    free_trial(t);
}

int bp_trial_salvage(bp_run *r, unsigned trial, const char *status, const char *message,
                     bp_err *e)
{
    bp_h5_quiet();
    char *part = bp_h5_fmt_alloc(e, "%s/trials/%04u.h5.part", bp_run_path(r), trial);
    char *final = bp_h5_fmt_alloc(e, "%s/trials/%04u.h5", bp_run_path(r), trial);
    char *tdir = bp_h5_fmt_alloc(e, "%s/trials", bp_run_path(r));
    int rc = part && final && tdir ? 0 : BP_ENOMEM;
    hid_t fapl = H5I_INVALID_HID, f = H5I_INVALID_HID;
    if (!rc && ((fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0 || H5Pset_file_locking(fapl, 0, 1) < 0 ||
                (f = H5Fopen(part, H5F_ACC_RDWR, fapl)) < 0)) {
        rc = bp_err_set(e, BP_EIO, "%s: cannot be opened to record the trial's end", part);
        unlink(part);
    }
    if (!rc) {
        int epochs = 0;
        if (H5Lexists(f, "epochs", H5P_DEFAULT) > 0 && H5Lexists(f, "epochs/epoch", H5P_DEFAULT) > 0) {
            hid_t d = H5Dopen2(f, "epochs/epoch", H5P_DEFAULT), sp = d >= 0 ? H5Dget_space(d) : -1;
            hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : 0;
            epochs = np > 0 ? (int)np : 0;
            if (sp >= 0)
                H5Sclose(sp);
            if (d >= 0)
                H5Dclose(d);
        }
        rc = write_outcome(e, part, f, status, message, epochs, NAN);
        if (H5Fclose(f) < 0 && !rc)
            rc = bp_h5_fail(e, part, NULL, "cannot close");
        if (!rc)
            rc = bp_h5_commit_file(e, part, final, tdir);
    }
    if (fapl >= 0)
        H5Pclose(fapl);
    free(part);
    free(final);
    free(tdir);
    return rc;
}
