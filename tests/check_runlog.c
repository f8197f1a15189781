/* Unit tests for runlog: run folders, trial files, the index, saved models, kills. */
#include "autoconf.h"
#include "fingerprint.h"
#include "h5io.h"
#include "kernels.h"
#include "provenance.h"
#include "runindex.h"
#include "runlog.h"
#include "trialfile.h"
#include "trialread.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <hdf5.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#ifndef BP_TEST_SRCDIR
#define BP_TEST_SRCDIR "."
#endif

static char tmp[256];

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/check_runlog.XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void teardown(void)
{
    nftw(tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static char *path(const char *fmt, const char *a)
{
    static char buf[4][512];
    static int k;
    char *b = buf[k++ % 4];
    char rel[256];
    snprintf(rel, sizeof rel, fmt, a);
    snprintf(b, 512, "%s/%s", tmp, rel);
    return b;
}

static int exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

static void touch(const char *p)
{
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs("x\n", f);
    fclose(f);
}

/* Values every reader (this file and read_trial.py) recomputes. */
static double cell(size_t row, size_t col)
{
    return (double)(row + 1) / 3.0 + (double)col * 1e-3;
}

static float param(size_t i)
{
    return (float)(((double)i * 0.37 - 5.0) / 7.0);
}

static const bp_hparam leaky_hp[] = { { "slope", 0.01, 0.0, 1.0, 0, "negative slope" } };
static const bp_activation fake_leaky = { sizeof(bp_activation), 1, leaky_hp, NULL, NULL, NULL, 0 };

/* 2-3-1, leaky_relu (slope 0.01) then sigmoid, mse. */
static bp_model *xor_model(void)
{
    bp_err e;
    int sizes[] = { 2, 3, 1 };
    bp_model *m = bp_model_new(sizes, 3, &e);
    ck_assert_ptr_nonnull(m);
    m->act[0].name = "leaky_relu";
    m->act[0].fn = &fake_leaky;
    m->act[0].hp[0] = 0.01;
    m->act[0].n_hp = 1;
    m->act[1].name = "sigmoid";
    m->loss = BP_LOSS_MSE;
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = param(i);
    return m;
}

static const char *const cols3[] = { "loss", "val_loss", "accuracy" };

static bp_trial_meta meta(unsigned trial)
{
    bp_trial_meta m = { .trial = trial, .seed = 12345678901234567890ull,
                        .config_text = "experiment: xor\nseed: 1\n",
                        .resolved_config = "experiment: xor\nseed: 1\nmodel: {}\n",
                        .columns = cols3, .n_columns = 3, .threads = 2 };
    return m;
}

/* A finished trial with n rows and (when model) a saved 2-3-1 model with Adam-like state. */
static void write_trial(bp_run *r, unsigned id, size_t rows, int model)
{
    bp_err e;
    bp_trial_meta md = meta(id);
    bp_trial_file *t = bp_trial_create(r, &md, &e);
    ck_assert_msg(t != NULL, "%s", e.msg);
    for (size_t i = 0; i < rows; i++) {
        double row[3] = { cell(i, 0), cell(i, 1), cell(i, 2) };
        ck_assert_int_eq(bp_trial_append(t, row, &e), 0);
    }
    if (model) {
        bp_model *m = xor_model();
        static const char *const hn[] = { "lr", "beta1", "beta2" };
        static const double hv[] = { 0.001, 0.9, 0.999 };
        float state[2 * 13];
        for (size_t i = 0; i < 26; i++)
            state[i] = (float)i * 0.5f - 3.0f;
        bp_opt_record o = { "adam", hn, hv, 3, state, 2, 777 };
        ck_assert_int_eq(m->n_params, 13);
        ck_assert_msg(bp_trial_save_model(t, m, &o, &e) == 0, "%s", e.msg);
        bp_model_free(m);
    }
    ck_assert_msg(bp_trial_finish(t, "completed", "ok", (int)rows, 1.5, &e) == 0, "%s", e.msg);
}

/* ---- reading helpers (C API) ---- */

static char *attr_text(hid_t loc, const char *name)
{
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    ck_assert_msg(a >= 0, "attribute %s", name);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    char *v = NULL;
    ck_assert_int_ge(H5Aread(a, t, &v), 0);
    char *copy = strdup(v);
    free(v);
    H5Tclose(t);
    H5Aclose(a);
    return copy;
}

static double attr_num(hid_t loc, const char *name)
{
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    ck_assert_msg(a >= 0, "attribute %s", name);
    double v = 0;
    ck_assert_int_ge(H5Aread(a, H5T_NATIVE_DOUBLE, &v), 0);
    H5Aclose(a);
    return v;
}

static uint64_t attr_u64(hid_t loc, const char *name)
{
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    ck_assert_msg(a >= 0, "attribute %s", name);
    uint64_t v = 0;
    ck_assert_int_ge(H5Aread(a, H5T_NATIVE_UINT64, &v), 0);
    H5Aclose(a);
    return v;
}

/* Reads a 1-D double dataset; returns its length. */
static size_t read_col(hid_t f, const char *name, double *buf, size_t max)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    ck_assert_msg(d >= 0, "dataset %s", name);
    hid_t s = H5Dget_space(d);
    hsize_t n = 0;
    H5Sget_simple_extent_dims(s, &n, NULL);
    ck_assert_uint_le(n, max);
    if (n)
        ck_assert_int_ge(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), 0);
    H5Sclose(s);
    H5Dclose(d);
    return (size_t)n;
}

/* ---- run folders ---- */

START_TEST(run_create_nested)
{
    bp_err e;
    char *dir = path("%s/a/b/runs/xor/", "x");
    bp_run *r = bp_run_create(dir, 0, &e);
    ck_assert_msg(r != NULL, "%s", e.msg);
    ck_assert_str_eq(bp_run_dir(r), path("%s/a/b/runs/xor", "x"));
    struct stat st;
    ck_assert_int_eq(stat(path("%s/a/b/runs/xor/trials", "x"), &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    bp_run_close(r);
    /* an empty existing folder is fine */
    ck_assert_int_eq(rmdir(path("%s/a/b/runs/xor/trials", "x")), 0);
    r = bp_run_create(dir, 0, &e);
    ck_assert_ptr_nonnull(r);
    bp_run_close(r);
}
END_TEST

START_TEST(run_refuses_non_empty)
{
    bp_err e;
    char *dir = path("%s", "runs-xor");
    ck_assert_int_eq(mkdir(dir, 0777), 0);
    touch(path("%s/notes.txt", "runs-xor"));
    ck_assert_ptr_null(bp_run_create(dir, 0, &e));
    ck_assert_int_eq(e.code, BP_EEXIST);
    char want[600];
    snprintf(want, sizeof want, "%s: run folder exists and is not empty; use --force to replace "
             "it, or -o to choose another folder", dir);
    ck_assert_str_eq(e.msg, want);
    ck_assert(exists(path("%s/notes.txt", "runs-xor")));
}
END_TEST

/* --force removes bprun's files (checked by their attributes), nothing else, and refuses
 * files with bprun's names that bprun did not write before removing anything */
START_TEST(run_force_removes_only_ours)
{
    bp_err e;
    bp_trial_summary rows[1] = { { .trial = 0, .status = "completed" } };
    bp_run *r = bp_run_create(path("%s", "r"), 0, &e);
    ck_assert_msg(r != NULL, "%s", e.msg);
    write_trial(r, 0, 3, 0);
    write_trial(r, 12345, 3, 0);
    ck_assert_msg(bp_run_write_index(r, "cfg", "resolved", rows, 1, 1, &e) == 0, "%s", e.msg);
    bp_run_close(r);
    ck_assert_int_eq(mkdir(path("%s/trials/sub.h5", "r"), 0777), 0);
    touch(path("%s", "r/trials/0001.h5.part"));   /* a writer killed at creation: "x\n" */
    const char *ours[] = { "r/index.h5", "r/trials/0000.h5", "r/trials/0001.h5.part",
                           "r/trials/12345.h5" };
    const char *theirs[] = { "r/notes.txt", "r/data.h5", "r/trials/keep.txt",
                             "r/trials/0002.h5.bak", "r/index.h5.old", "r/trials/00001.h5" };
    for (size_t i = 0; i < 6; i++)
        touch(path("%s", theirs[i]));
    r = bp_run_create(path("%s", "r"), 1, &e);
    ck_assert_msg(r != NULL, "%s", e.msg);
    ck_assert_ptr_nonnull(bp_run_kept(r));
    ck_assert_msg(strstr(bp_run_kept(r), "--force left 7 entries that bprun did not write: "),
                  "%s", bp_run_kept(r));
    bp_run_close(r);
    for (size_t i = 0; i < 4; i++)
        ck_assert_msg(!exists(path("%s", ours[i])), "%s survived --force", ours[i]);
    for (size_t i = 0; i < 6; i++)
        ck_assert_msg(exists(path("%s", theirs[i])), "%s was removed", theirs[i]);
    ck_assert(exists(path("%s/trials/sub.h5", "r")));

    /* a file with a trial's name that is no bprun trial file: nothing is removed */
    touch(path("%s", "r/index.h5"));
    ck_assert_ptr_null(bp_run_create(path("%s", "r"), 1, &e));
    ck_assert_int_eq(e.code, BP_EEXIST);
    char want[700];
    snprintf(want, sizeof want, "%s: not an HDF5 file; bprun neither removes nor writes over "
             "it (nothing was removed): move it away, or use -o to choose another folder",
             path("%s", "r/index.h5"));
    ck_assert_str_eq(e.msg, want);
    ck_assert(exists(path("%s", "r/index.h5")));

    /* a trials folder holding only our files is removed and made again, empty */
    r = bp_run_create(path("%s", "s"), 0, &e);
    ck_assert_msg(r != NULL, "%s", e.msg);
    write_trial(r, 0, 2, 0);
    ck_assert_msg(bp_run_write_index(r, "cfg", "resolved", rows, 1, 1, &e) == 0, "%s", e.msg);
    bp_run_close(r);
    r = bp_run_create(path("%s", "s"), 1, &e);
    ck_assert_ptr_nonnull(r);
    ck_assert_ptr_null(bp_run_kept(r));
    bp_run_close(r);
    ck_assert(exists(path("%s/trials", "s")));
    ck_assert(!exists(path("%s/trials/0000.h5", "s")));
    ck_assert(!exists(path("%s/index.h5", "s")));
}
END_TEST

START_TEST(run_create_errors)
{
    bp_err e;
    touch(path("%s", "file"));
    char *dir = path("%s/x", "file");
    ck_assert_ptr_null(bp_run_create(dir, 0, &e));
    ck_assert_int_eq(e.code, BP_EIO);
    char want[600];
    snprintf(want, sizeof want, "%s: cannot create run folder: Not a directory", dir);
    ck_assert_str_eq(e.msg, want);

    ck_assert_ptr_null(bp_run_create(path("%s", "file"), 1, &e));
    ck_assert_int_eq(e.code, BP_EEXIST);
    snprintf(want, sizeof want, "%s: exists and is not a folder; use -o to choose another folder",
             path("%s", "file"));
    ck_assert_str_eq(e.msg, want);

    /* trials exists as a file: never removed, reported */
    ck_assert_int_eq(mkdir(path("%s", "t"), 0777), 0);
    touch(path("%s/trials", "t"));
    ck_assert_ptr_null(bp_run_create(path("%s", "t"), 1, &e));
    snprintf(want, sizeof want, "%s: not a folder; bprun neither removes nor writes over it "
             "(nothing was removed): move it away, or use -o to choose another folder",
             path("%s/trials", "t"));
    ck_assert_str_eq(e.msg, want);
    ck_assert(exists(path("%s/trials", "t")));
}
END_TEST

/* ---- trial files ---- */

START_TEST(trial_write_and_finish)
{
    bp_err e;
    bp_run *r = bp_run_create(path("%s", "run"), 0, &e);
    ck_assert_ptr_nonnull(r);
    write_trial(r, 3, 100, 1);
    ck_assert(!exists(path("%s/trials/0003.h5.part", "run")));
    ck_assert(exists(path("%s/trials/0003.h5", "run")));

    hid_t f = H5Fopen(path("%s/trials/0003.h5", "run"), H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    char *s;
    ck_assert_str_eq((s = attr_text(f, "status")), "completed");
    free(s);
    ck_assert_str_eq((s = attr_text(f, "message")), "ok");
    free(s);
    ck_assert_str_eq((s = attr_text(f, "bprun_version")), PACKAGE_VERSION);
    free(s);
    ck_assert_str_eq((s = attr_text(f, "config")), "experiment: xor\nseed: 1\n");
    free(s);
    ck_assert_str_eq((s = attr_text(f, "resolved_config")), "experiment: xor\nseed: 1\nmodel: {}\n");
    free(s);
    s = attr_text(f, "provenance");
    ck_assert_msg(strncmp(s, "bprun: " PACKAGE_VERSION "\n", 7 + strlen(PACKAGE_VERSION) + 1) == 0,
                  "%s", s);
    ck_assert_ptr_nonnull(strstr(s, "\nthreads: 2\n"));
    free(s);
    s = attr_text(f, "started");
    ck_assert_int_eq(strlen(s), 20);
    ck_assert(s[10] == 'T' && s[19] == 'Z');
    free(s);
    free(attr_text(f, "finished"));
    ck_assert_int_eq((int)attr_num(f, "format_version"), BP_FORMAT_VERSION);
    ck_assert_int_eq((int)attr_num(f, "epochs_done"), 100);
    ck_assert(attr_num(f, "wall_seconds") == 1.5);
    ck_assert_int_eq((int)attr_num(f, "threads"), 2);
    ck_assert_uint_eq(attr_u64(f, "trial"), 3);
    ck_assert(attr_u64(f, "seed") == 12345678901234567890ull);

    hid_t g = H5Gopen2(f, "epochs", H5P_DEFAULT);
    hid_t a = H5Aopen(g, "columns", H5P_DEFAULT);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    char *names[3];
    ck_assert_int_ge(H5Aread(a, t, names), 0);
    for (size_t c = 0; c < 3; c++) {
        ck_assert_str_eq(names[c], cols3[c]);
        free(names[c]);
    }
    H5Tclose(t);
    H5Aclose(a);
    H5Gclose(g);
    static double buf[200];
    for (size_t c = 0; c < 3; c++) {
        char name[64];
        snprintf(name, sizeof name, "/epochs/%s", cols3[c]);
        ck_assert_uint_eq(read_col(f, name, buf, 200), 100);
        for (size_t i = 0; i < 100; i++)
            ck_assert_msg(buf[i] == cell(i, c), "row %zu col %zu", i, c);
    }
    H5Fclose(f);
    bp_run_close(r);
}
END_TEST

START_TEST(trial_abandon_keeps_part)
{
    bp_err e;
    bp_run *r = bp_run_create(path("%s", "run"), 0, &e);
    bp_trial_meta md = meta(12345);
    bp_trial_file *t = bp_trial_create(r, &md, &e);
    ck_assert_ptr_nonnull(t);
    for (size_t i = 0; i < 5; i++) {
        double row[3] = { cell(i, 0), cell(i, 1), cell(i, 2) };
        ck_assert_int_eq(bp_trial_append(t, row, &e), 0);
    }
    bp_trial_abandon(t);
    bp_trial_abandon(NULL);
    ck_assert(exists(path("%s/trials/12345.h5.part", "run")));
    ck_assert(!exists(path("%s/trials/12345.h5", "run")));
    hid_t f = H5Fopen(path("%s/trials/12345.h5.part", "run"), H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    char *s = attr_text(f, "status");
    ck_assert_str_eq(s, "running");
    free(s);
    double buf[8];
    ck_assert_uint_eq(read_col(f, "/epochs/val_loss", buf, 8), 5);
    ck_assert(buf[4] == cell(4, 1));
    H5Fclose(f);

    /* the run folder's trial has not finished */
    ck_assert_ptr_null(bp_saved_model_read(path("%s#12345", "run"), &e));
    char want[1200];
    snprintf(want, sizeof want, "%s: trial has not finished (only %s exists)",
             path("%s/trials/12345.h5", "run"), path("%s/trials/12345.h5.part", "run"));
    ck_assert_str_eq(e.msg, want);
    bp_run_close(r);
}
END_TEST

/* bp_trial_meta.epochs_hint: the /epochs chunk length (epochs / 8 up to a power of two,
 * 256 .. 8192); the rows read back the same whatever the chunks. */
static hsize_t chunk_for(int hint, unsigned id)
{
    bp_err e;
    char rd[64], tf[96];
    snprintf(rd, sizeof rd, "run%u", id);
    snprintf(tf, sizeof tf, "run%u/trials/%04u.h5.part", id, id);
    bp_run *r = bp_run_create(path("%s", rd), 0, &e);
    ck_assert_msg(r != NULL, "%s", e.msg);
    bp_trial_meta md = meta(id);
    md.epochs_hint = hint;
    bp_trial_file *t = bp_trial_create(r, &md, &e);
    ck_assert_msg(t != NULL, "%s", e.msg);
    for (size_t i = 0; i < 300; i++) {
        double row[3] = { cell(i, 0), cell(i, 1), cell(i, 2) };
        ck_assert_int_eq(bp_trial_append(t, row, &e), 0);
    }
    bp_trial_abandon(t);
    hid_t f = H5Fopen(path("%s", tf), H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    hid_t d = H5Dopen2(f, "/epochs/loss", H5P_DEFAULT), p = H5Dget_create_plist(d);
    hsize_t chunk = 0;
    ck_assert_int_eq(H5Pget_chunk(p, 1, &chunk), 1);
    H5Pclose(p);
    H5Dclose(d);
    double buf[300];
    ck_assert_uint_eq(read_col(f, "/epochs/accuracy", buf, 300), 300);
    for (size_t i = 0; i < 300; i++)
        ck_assert(buf[i] == cell(i, 2));
    H5Fclose(f);
    bp_run_close(r);
    return chunk;
}

START_TEST(trial_chunk_from_epochs_hint)
{
    ck_assert_uint_eq(chunk_for(0, 1), 256);
    ck_assert_uint_eq(chunk_for(2048, 2), 256);
    ck_assert_uint_eq(chunk_for(2049, 3), 512);
    ck_assert_uint_eq(chunk_for(10000, 4), 2048);
    ck_assert_uint_eq(chunk_for(65536, 5), 8192);
    ck_assert_uint_eq(chunk_for(1000000, 6), 8192);
}
END_TEST

START_TEST(trial_create_errors)
{
    bp_err e;
    bp_run *r = bp_run_create(path("%s", "run"), 0, &e);
    const char *bad[] = { "loss", "a/b" };
    bp_trial_meta md = meta(0);
    md.columns = bad;
    md.n_columns = 2;
    ck_assert_ptr_null(bp_trial_create(r, &md, &e));
    char want[700];
    snprintf(want, sizeof want, "%s: bad epoch column name 'a/b'",
             path("%s/trials/0000.h5.part", "run"));
    ck_assert_str_eq(e.msg, want);

    const char *dup[] = { "loss", "loss" };
    md.columns = dup;
    ck_assert_ptr_null(bp_trial_create(r, &md, &e));
    ck_assert_int_eq(e.code, BP_EIO);
    snprintf(want, sizeof want, "%s: epoch column 'loss' given twice",
             path("%s/trials/0000.h5.part", "run"));
    ck_assert_str_eq(e.msg, want);

    /* a finished trial file is never overwritten */
    write_trial(r, 1, 2, 0);
    md = meta(1);
    ck_assert_ptr_null(bp_trial_create(r, &md, &e));
    ck_assert_int_eq(e.code, BP_EEXIST);
    snprintf(want, sizeof want, "%s: trial file exists; it is never overwritten",
             path("%s/trials/0001.h5", "run"));
    ck_assert_str_eq(e.msg, want);

    /* the trials folder vanished: the HDF5 failure is one line naming the file */
    nftw(path("%s/trials", "run"), rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    md = meta(2);
    ck_assert_ptr_null(bp_trial_create(r, &md, &e));
    ck_assert_int_eq(e.code, BP_EIO);
    snprintf(want, sizeof want, "%s: cannot create trial file: No such file or directory",
             path("%s/trials/0002.h5.part", "run"));
    ck_assert_msg(strncmp(e.msg, want, strlen(want)) == 0, "%s", e.msg);
    ck_assert_ptr_null(strchr(e.msg, '\n'));
    bp_run_close(r);
}
END_TEST

/* ---- saved models ---- */

static void check_xor_model(const bp_saved_model *s)
{
    ck_assert_uint_eq(s->n_sizes, 3);
    ck_assert_int_eq(s->sizes[0], 2);
    ck_assert_int_eq(s->sizes[1], 3);
    ck_assert_int_eq(s->sizes[2], 1);
    ck_assert_str_eq(s->act_names[0], "leaky_relu");
    ck_assert_str_eq(s->act_names[1], "sigmoid");
    ck_assert_uint_eq(s->act_n_hp[0], 1);
    ck_assert_str_eq(s->act_hp_names[0][0], "slope");
    ck_assert(s->act_hp[0][0] == 0.01);
    ck_assert_uint_eq(s->act_n_hp[1], 0);
    ck_assert_str_eq(s->loss, "mse");
    ck_assert_uint_eq(s->n_params, 13);
    for (size_t i = 0; i < 13; i++) {
        float want = param(i);
        ck_assert_msg(memcmp(&s->params[i], &want, sizeof want) == 0, "param %zu", i);
    }
    ck_assert_str_eq(s->opt_name, "adam");
    ck_assert(s->opt_step == 777);
    ck_assert_uint_eq(s->opt_n_hp, 3);
    ck_assert_str_eq(s->opt_hp_names[2], "beta2");
    ck_assert(s->opt_hp[2] == 0.999);
    ck_assert_uint_eq(s->opt_n_state, 2);
    for (size_t i = 0; i < 26; i++)
        ck_assert(s->opt_state[i] == (float)i * 0.5f - 3.0f);
}

START_TEST(model_round_trip)
{
    bp_err e;
    bp_run *r = bp_run_create(path("%s", "run"), 0, &e);
    write_trial(r, 0, 3, 1);
    write_trial(r, 7, 3, 1);
    const char *ways[] = { "run/trials/0000.h5", "run", "run/", "run#7", "run#0007" };
    for (size_t i = 0; i < 5; i++) {
        bp_saved_model *s = bp_saved_model_read(path("%s", ways[i]), &e);
        ck_assert_msg(s != NULL, "%s: %s", ways[i], e.msg);
        check_xor_model(s);
        bp_saved_model_free(s);
    }
    bp_saved_model_free(NULL);
    bp_run_close(r);
}
END_TEST

START_TEST(model_softmax_and_replace)
{
    bp_err e;
    bp_run *r = bp_run_create(path("%s", "run"), 0, &e);
    bp_trial_meta md = meta(0);
    bp_trial_file *t = bp_trial_create(r, &md, &e);
    int sizes[] = { 4, 5, 6, 3 };
    bp_model *m = bp_model_new(sizes, 4, &e);
    m->act[0].name = "tanh";
    m->act[1].name = "leaky_relu";
    m->act[1].fn = &fake_leaky;
    m->act[1].hp[0] = 0.25;
    m->act[1].n_hp = 1;
    m->softmax = 1;
    m->loss = BP_LOSS_CROSS_ENTROPY;
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = 1.0f;
    ck_assert_int_eq(bp_trial_save_model(t, m, NULL, &e), 0);
    /* a second save replaces the first */
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = -param(i);
    m->params[0] = -0.0f;
    m->params[1] = 1e-45f;  /* subnormal */
    ck_assert_int_eq(bp_trial_save_model(t, m, NULL, &e), 0);
    ck_assert_int_eq(bp_trial_finish(t, "completed", "", 0, 0.0, &e), 0);
    bp_saved_model *s = bp_saved_model_read(path("%s", "run"), &e);
    ck_assert_msg(s != NULL, "%s", e.msg);
    ck_assert_str_eq(s->act_names[0], "tanh");
    ck_assert_str_eq(s->act_names[1], "leaky_relu");
    ck_assert_str_eq(s->act_names[2], "softmax");
    ck_assert(s->act_hp[1][0] == 0.25);
    ck_assert_str_eq(s->loss, "cross_entropy");
    ck_assert_ptr_null(s->opt_name);
    ck_assert_uint_eq(s->n_params, m->n_params);
    ck_assert(memcmp(s->params, m->params, m->n_params * sizeof(float)) == 0);
    bp_saved_model_free(s);

    /* hyperparameter values with no declaration to name them are refused */
    md = meta(1);
    t = bp_trial_create(r, &md, &e);
    m->act[1].fn = NULL;
    ck_assert_int_eq(bp_trial_save_model(t, m, NULL, &e), BP_EIO);
    char want[700];
    snprintf(want, sizeof want, "%s#/model/layer_1: activation leaky_relu has 1 hyperparameter "
             "values but declares 0 names", path("%s/trials/0001.h5.part", "run"));
    ck_assert_str_eq(e.msg, want);
    bp_trial_abandon(t);
    bp_model_free(m);
    bp_run_close(r);
}
END_TEST

/* Rewrites part of a saved model to make it inconsistent. */
static void corrupt(const char *file, int what)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDWR, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    if (what == 0) {
        ck_assert_int_ge(H5Ldelete(f, "/model/params", H5P_DEFAULT), 0);
        hsize_t n = 12;
        hid_t s = H5Screate_simple(1, &n, NULL);
        hid_t d = H5Dcreate2(f, "/model/params", H5T_IEEE_F32LE, s, H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT);
        H5Dclose(d);
        H5Sclose(s);
    } else if (what == 2) {
        hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
        int v = 2;
        H5Awrite(a, H5T_NATIVE_INT, &v);
        H5Aclose(a);
    } else {
        hid_t g = H5Gopen2(f, "model", H5P_DEFAULT);
        H5Adelete(g, "loss");
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        hid_t s = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate2(g, "loss", t, s, H5P_DEFAULT, H5P_DEFAULT);
        const char *v = "hinge";
        H5Awrite(a, t, &v);
        H5Aclose(a);
        H5Sclose(s);
        H5Tclose(t);
        H5Gclose(g);
    }
    H5Fclose(f);
}

START_TEST(model_read_errors)
{
    bp_err e;
    char want[1200];
    bp_run *r = bp_run_create(path("%s", "run"), 0, &e);
    write_trial(r, 0, 2, 0);

    ck_assert_ptr_null(bp_saved_model_read(path("%s", "nothing.h5"), &e));
    ck_assert_int_eq(e.code, BP_EIO);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory",
             path("%s", "nothing.h5"));
    ck_assert_str_eq(e.msg, want);

    ck_assert_ptr_null(bp_saved_model_read(path("%s", "run#3"), &e));
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory",
             path("%s/trials/0003.h5", "run"));
    ck_assert_str_eq(e.msg, want);

    touch(path("%s", "text.h5"));
    ck_assert_ptr_null(bp_saved_model_read(path("%s", "text.h5"), &e));
    snprintf(want, sizeof want, "%s: not an HDF5 file", path("%s", "text.h5"));
    ck_assert_str_eq(e.msg, want);

    ck_assert_ptr_null(bp_saved_model_read(path("%s", "run"), &e));
    snprintf(want, sizeof want, "%s: no saved model (/model missing); the trial may not have "
             "finished", path("%s/trials/0000.h5", "run"));
    ck_assert_str_eq(e.msg, want);

    ck_assert_ptr_null(bp_saved_model_read(path("%s", "run/trials/0000.h5#2"), &e));
    ck_assert_int_eq(e.code, BP_EUSAGE);

    write_trial(r, 1, 2, 1);
    corrupt(path("%s/trials/0001.h5", "run"), 0);
    ck_assert_ptr_null(bp_saved_model_read(path("%s", "run#1"), &e));
    snprintf(want, sizeof want, "%s#/model/params: 12 values, but sizes [2, 3, 1] need 13",
             path("%s/trials/0001.h5", "run"));
    ck_assert_str_eq(e.msg, want);

    write_trial(r, 2, 2, 1);
    corrupt(path("%s/trials/0002.h5", "run"), 1);
    ck_assert_ptr_null(bp_saved_model_read(path("%s", "run#2"), &e));
    snprintf(want, sizeof want, "%s#/model: unknown loss 'hinge'",
             path("%s/trials/0002.h5", "run"));
    ck_assert_str_eq(e.msg, want);

    write_trial(r, 4, 2, 1);
    corrupt(path("%s/trials/0004.h5", "run"), 2);
    ck_assert_ptr_null(bp_saved_model_read(path("%s", "run#4"), &e));
    snprintf(want, sizeof want, "%s: format_version 2; this bprun reads format_version 1",
             path("%s/trials/0004.h5", "run"));
    ck_assert_str_eq(e.msg, want);

    /* an HDF5 file that bprun did not write */
    hid_t f = H5Fcreate(path("%s", "other.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(f);
    ck_assert_ptr_null(bp_saved_model_read(path("%s", "other.h5"), &e));
    snprintf(want, sizeof want, "%s: not a bprun file (no format_version attribute)",
             path("%s", "other.h5"));
    ck_assert_str_eq(e.msg, want);
    bp_run_close(r);
}
END_TEST

/* ---- the index ---- */

typedef struct {
    uint32_t trial;
    uint64_t seed;
    char status[16];
    int32_t epochs;
    double final_loss, best_val_loss;
} test_row;

START_TEST(index_write_and_follow)
{
    bp_err e;
    bp_run *r = bp_run_create(path("%s", "run"), 0, &e);
    write_trial(r, 0, 4, 1);
    write_trial(r, 1, 6, 1);
    bp_trial_summary rows[2] = {
        { 0, 11, "completed", 4, 0.25, 0.5, 0.75, 1.0, 0.125, 2.5 },
        { 1, 12345678901234567890ull, "diverged_at_end0", 6, 1.0 / 3, 2, 3, 4, 5, 6 },
    };
    ck_assert_msg(bp_run_write_index(r, "cfg", "resolved", rows, 2, 4, &e) == 0, "%s", e.msg);
    ck_assert(!exists(path("%s/index.h5.part", "run")));

    /* follow the links from another working directory */
    char cwd[512];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir("/"), 0);
    hid_t f = H5Fopen(path("%s/index.h5", "run"), H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    ck_assert_int_eq((int)attr_num(f, "n_trials"), 2);
    ck_assert_int_eq((int)attr_num(f, "threads"), 4);
    ck_assert_int_eq((int)attr_num(f, "format_version"), BP_FORMAT_VERSION);
    char *s = attr_text(f, "config");
    ck_assert_str_eq(s, "cfg");
    free(s);
    s = attr_text(f, "provenance");
    ck_assert_ptr_nonnull(strstr(s, "\nthreads: 4\n"));
    free(s);
    for (unsigned i = 0; i < 2; i++) {
        char link[32];
        snprintf(link, sizeof link, "/trials/%04u", i);
        hid_t o = H5Oopen(f, link, H5P_DEFAULT);
        ck_assert_msg(o >= 0, "link %s", link);
        ck_assert_uint_eq(attr_u64(o, "trial"), i);
        double buf[8];
        ck_assert_uint_eq(read_col(o, "epochs/loss", buf, 8), 4 + 2 * i);
        H5Oclose(o);
    }
    hid_t d = H5Dopen2(f, "summary", H5P_DEFAULT);
    ck_assert_int_ge(d, 0);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 16);
    H5Tset_strpad(st, H5T_STR_NULLPAD);
    hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(test_row));
    H5Tinsert(mt, "trial", offsetof(test_row, trial), H5T_NATIVE_UINT32);
    H5Tinsert(mt, "seed", offsetof(test_row, seed), H5T_NATIVE_UINT64);
    H5Tinsert(mt, "status", offsetof(test_row, status), st);
    H5Tinsert(mt, "epochs", offsetof(test_row, epochs), H5T_NATIVE_INT32);
    H5Tinsert(mt, "final_loss", offsetof(test_row, final_loss), H5T_NATIVE_DOUBLE);
    H5Tinsert(mt, "best_val_loss", offsetof(test_row, best_val_loss), H5T_NATIVE_DOUBLE);
    test_row got[2];
    ck_assert_int_ge(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, got), 0);
    ck_assert_uint_eq(got[1].trial, 1);
    ck_assert(got[1].seed == 12345678901234567890ull);
    ck_assert(memcmp(got[1].status, "diverged_at_end0", 16) == 0);
    ck_assert(memcmp(got[0].status, "completed\0\0\0\0\0\0\0", 16) == 0);
    ck_assert_int_eq(got[1].epochs, 6);
    ck_assert(got[1].final_loss == 1.0 / 3);
    ck_assert(got[0].best_val_loss == 0.125);
    H5Tclose(mt);
    H5Tclose(st);
    H5Dclose(d);
    H5Fclose(f);

    /* the model through the index, by default trial 0000 and by #id */
    bp_saved_model *sm = bp_saved_model_read(path("%s/index.h5", "run"), &e);
    ck_assert_msg(sm != NULL, "%s", e.msg);
    check_xor_model(sm);
    bp_saved_model_free(sm);
    sm = bp_saved_model_read(path("%s/index.h5#1", "run"), &e);
    ck_assert_msg(sm != NULL, "%s", e.msg);
    bp_saved_model_free(sm);
    ck_assert_ptr_null(bp_saved_model_read(path("%s/index.h5#9", "run"), &e));
    char want[700];
    snprintf(want, sizeof want, "%s#/trials/0009: no such trial in the index",
             path("%s/index.h5", "run"));
    ck_assert_str_eq(e.msg, want);
    ck_assert_int_eq(chdir(cwd), 0);

    /* an index of no trials is valid: an empty table, no links */
    ck_assert_int_eq(bp_run_write_index(r, "cfg", "resolved", rows, 0, 1, &e), 0);
    f = H5Fopen(path("%s/index.h5", "run"), H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_eq((int)attr_num(f, "n_trials"), 0);
    d = H5Dopen2(f, "summary", H5P_DEFAULT);
    hid_t sp = H5Dget_space(d);
    ck_assert_int_eq(H5Sget_simple_extent_npoints(sp), 0);
    H5Sclose(sp);
    H5Dclose(d);
    H5Fclose(f);

    /* statuses longer than the column are refused, not cut */
    rows[0].status = "completed_but_long";
    ck_assert_int_eq(bp_run_write_index(r, "cfg", "resolved", rows, 2, 4, &e), BP_EIO);
    snprintf(want, sizeof want, "%s#/summary: trial 0: status 'completed_but_long' is longer "
             "than 16 bytes", path("%s/index.h5.part", "run"));
    ck_assert_str_eq(e.msg, want);
    bp_run_close(r);
}
END_TEST

/* ---- provenance ---- */

START_TEST(provenance_lines)
{
    char *p = bp_provenance_text(3);
    ck_assert_ptr_nonnull(p);
    unsigned maj, min, rel;
    H5get_libversion(&maj, &min, &rel);
    char want[128];
    snprintf(want, sizeof want, "\nhdf5: %u.%u.%u\n", maj, min, rel);
    ck_assert_ptr_nonnull(strstr(p, want));
    snprintf(want, sizeof want, "\nzlib: %s\n", zlibVersion());
    ck_assert_ptr_nonnull(strstr(p, want));
    ck_assert_ptr_nonnull(strstr(p, "\nthreads: 3\n"));
    snprintf(want, sizeof want, "\nkernels: %.100s", bp_kernels_name());
    ck_assert_ptr_nonnull(strstr(p, want));
    ck_assert_ptr_nonnull(strstr(p, "\ncompiler: " BP_CC_VERSION "\n"));
    ck_assert_ptr_nonnull(strstr(p, "\nlibyaml: "));
    ck_assert_ptr_nonnull(strstr(p, "\ncpu: "));
    ck_assert(strncmp(p, "bprun: ", 7) == 0);
    /* every line is "key: value" */
    for (char *l = p; *l; l = strchr(l, '\n') + 1) {
        ck_assert_ptr_nonnull(strchr(l, '\n'));
        char *c = strstr(l, ": ");
        ck_assert_msg(c && c < strchr(l, '\n'), "bad line in %s", p);
    }
    free(p);
}
END_TEST

static void write_text(const char *file, const char *text)
{
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* SHA-256 of known texts (FIPS 180-2's "abc"), read once per process until the file changes */
START_TEST(sha256_once_per_file)
{
    bp_err e;
    char hex[BP_SHA256_HEX], *f = path("%s", "abc.txt");
    write_text(f, "abc");
    unsigned long n0 = bp_sha256_files_read();
    ck_assert_int_eq(bp_sha256_file(f, hex, &e), 0);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert_int_eq(bp_sha256_file(f, hex, &e), 0);
    ck_assert_uint_eq(bp_sha256_files_read(), n0 + 1);
    write_text(f, ""); /* another size: read again */
    ck_assert_int_eq(bp_sha256_file(f, hex, &e), 0);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ck_assert_uint_eq(bp_sha256_files_read(), n0 + 2);
    ck_assert_int_eq(bp_sha256_file(path("%s", "missing"), hex, &e), BP_EIO);
    ck_assert_ptr_nonnull(strstr(e.msg, "missing: cannot open"));
    ck_assert_int_eq(bp_sha256_file(tmp, hex, &e), BP_EIO); /* a folder */
}
END_TEST

START_TEST(provenance_quoting)
{
    const char *in[] = { "run", "a b", "it's", "", "--set=x.y:1,2/3@%+-", "$HOME" };
    const char *out[] = { "run", "'a b'", "'it'\\''s'", "''", "--set=x.y:1,2/3@%+-", "'$HOME'" };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        char *q = bp_provenance_quote(in[i]);
        ck_assert_str_eq(q, out[i]);
        free(q);
    }
    ck_assert_int_eq(bp_provenance_set_command(3, (char *const[]){ "bprun", "run", "a b" }), 0);
    char *p = bp_provenance_text(1);
    ck_assert_ptr_nonnull(strstr(p, "\ncommand: bprun run 'a b'\n"));
    ck_assert_ptr_nonnull(strstr(p, "\ngit: "));
    free(p);
}
END_TEST

/* inputs recorded, compared by path (else file name), refused or recorded as changed */
START_TEST(provenance_inputs_checked)
{
    bp_err e;
    char *d = path("%s", "d.h5"), *pl = path("%s", "p.so"), hd[BP_SHA256_HEX],
         hp[BP_SHA256_HEX], want[1024];
    write_text(d, "data");
    write_text(pl, "plugin");
    ck_assert_int_eq(bp_provenance_add_data("builtin:xor", &e), 0);
    char ref[600];
    snprintf(ref, sizeof ref, "%s#/train", d);
    ck_assert_int_eq(bp_provenance_add_data(ref, &e), 0);
    ck_assert_int_eq(bp_provenance_add_plugin(pl, &e), 0);
    ck_assert_int_eq(bp_provenance_add_plugin(pl, &e), 0); /* once */
    ck_assert_int_eq(bp_sha256_file(d, hd, &e), 0);
    ck_assert_int_eq(bp_sha256_file(pl, hp, &e), 0);
    char *p = bp_provenance_text(1);
    snprintf(want, sizeof want, "\ndata: builtin:xor\ndata: %s %s\nplugin: %s %s\n", hd, d, hp,
             pl);
    ck_assert_msg(strstr(p, want), "%s", p);
    ck_assert_int_eq(bp_provenance_check(p, "old.h5", &e), 0);
    ck_assert_int_eq(bp_provenance_check(NULL, "old.h5", &e), 0);
    ck_assert_int_eq(bp_provenance_check("bprun: 0.1\n", "old.h5", &e), 0);
    /* the same file name in another folder, with another digest */
    char old[1024];
    snprintf(old, sizeof old, "bprun: x\nplugin: %064d /elsewhere/p.so\n", 0);
    ck_assert_int_eq(bp_provenance_check(old, "old.h5", &e), BP_EEXIST);
    snprintf(want, sizeof want, "%s: changed since old.h5 recorded it (sha256 0000000000000000..., "
             "now %.16s...); rebuild or restore it, or use --allow-changed to go on and record "
             "the change", pl, hp);
    ck_assert_str_eq(e.msg, want);
    bp_provenance_allow_changed(1);
    ck_assert_int_eq(bp_provenance_check(old, "old.h5", &e), 0);
    bp_provenance_allow_changed(0);
    free(p);
    p = bp_provenance_text(1);
    snprintf(want, sizeof want, "\nchanged: %s %064d -> %s\n", pl, 0, hp);
    ck_assert_msg(strstr(p, want), "%s", p);
    free(p);
}
END_TEST

/* ---- speed and kills ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* 10000 rows through the buffered policy read back exact (the time per row is printed, not
 * asserted: speed is scripts/bench's business) */
START_TEST(append_many_rows)
{
    bp_err e;
    bp_run *r = bp_run_create(path("%s", "run"), 0, &e);
    const char *cols[] = { "loss", "val_loss", "accuracy", "val_accuracy", "grad_norm", "lr" };
    bp_trial_meta md = meta(0);
    md.columns = cols;
    md.n_columns = 6;
    bp_trial_file *t = bp_trial_create(r, &md, &e);
    ck_assert_ptr_nonnull(t);
    const size_t n = 10000;
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        double row[6];
        for (size_t c = 0; c < 6; c++)
            row[c] = cell(i, c);
        ck_assert_int_eq(bp_trial_append(t, row, &e), 0);
    }
    double per = (now_s() - t0) / (double)n;
    fprintf(stderr, "check_runlog: bp_trial_append, 6 columns: %.1f us per row (%zu rows)\n",
            per * 1e6, n);
    ck_assert_int_eq(bp_trial_finish(t, "completed", "", (int)n, 0, &e), 0);
    hid_t f = H5Fopen(path("%s/trials/0000.h5", "run"), H5F_ACC_RDONLY, H5P_DEFAULT);
    static double buf[10000];
    ck_assert_uint_eq(read_col(f, "/epochs/lr", buf, n), n);
    for (size_t i = 0; i < n; i++)
        ck_assert(buf[i] == cell(i, 5));
    H5Fclose(f);
    bp_run_close(r);
}
END_TEST

/* The margin around BP_FLUSH_FIRST_MS that covers the coarse clock runlog reads (a tick is
 * 1 to 10 ms) */
#define FIRST_MARGIN_S 0.02

/* Child: create a trial, append rows forever; after each append report on the pipe how many
 * rows it has appended, how many of them bp_trial_rows_acked says are acknowledged, and where
 * the append came: 0 surely before the file was BP_FLUSH_FIRST_MS old, 2 surely after, 1 too
 * close to tell. With stop_at, it flushes (bp_trial_flush), reports, and pauses (waiting on a
 * second pipe) after that many rows instead. */
static void kill_child(bp_run *r, unsigned id, int wfd, int stop_at, int hold_fd)
{
    bp_err e;
    bp_trial_meta md = meta(id);
    double before = now_s();
    bp_trial_file *t = bp_trial_create(r, &md, &e);
    if (!t)
        _exit(3);
    double after = now_s(), first = BP_FLUSH_FIRST_MS / 1000.0;
    uint32_t created[3] = { 0xffffffffu, 0, 0 };
    if (write(wfd, created, sizeof created) != sizeof created)
        _exit(4);
    for (uint32_t i = 0;; i++) {
        if (stop_at >= 0 && i == (uint32_t)stop_at) {
            if (bp_trial_flush(t, &e) != 0)
                _exit(5);
            uint32_t rep[3] = { i, (uint32_t)bp_trial_rows_acked(t), 1 };
            if (write(wfd, rep, sizeof rep) != sizeof rep)
                _exit(4);
            char c;
            if (read(hold_fd, &c, 1) < 0)
                _exit(6);
            _exit(0);
        }
        double row[3] = { cell(i, 0), cell(i, 1), cell(i, 2) };
        if (bp_trial_append(t, row, &e) != 0)
            _exit(5);
        double now = now_s();
        uint32_t phase = now - before < first - FIRST_MARGIN_S  ? 0
                         : now - after >= first + FIRST_MARGIN_S ? 2
                                                                 : 1;
        uint32_t rep[3] = { i + 1, (uint32_t)bp_trial_rows_acked(t), phase };
        if (write(wfd, rep, sizeof rep) != sizeof rep)
            _exit(4);
    }
}

static int opens(const char *file)
{
    if (access(file, F_OK) != 0)
        return 0;
    H5E_BEGIN_TRY {
        hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (f >= 0) {
            H5Fclose(f);
            return 1;
        }
    } H5E_END_TRY;
    return 0;
}

/* Opens a .part file a killed writer left: every column's extent is between `acked` (the rows
 * the writer reported acknowledged) and `appended` + 1 rows, and the acknowledged rows read back
 * exact. Only those are read: rows past them may belong to a flush the kill interrupted, whose
 * chunks HDF5 (without SWMR) may have left unreadable. Returns acked. */
static size_t check_part(const char *file, size_t acked, size_t appended)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_msg(f >= 0, "%s does not open", file);
    char *s = attr_text(f, "status");
    ck_assert_str_eq(s, "running");
    free(s);
    double *buf = malloc((acked + 1) * sizeof *buf);
    ck_assert_ptr_nonnull(buf);
    for (size_t c = 0; c < 3; c++) {
        char name[64];
        snprintf(name, sizeof name, "/epochs/%s", cols3[c]);
        hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
        ck_assert_msg(d >= 0, "dataset %s", name);
        hid_t sp = H5Dget_space(d);
        hsize_t n = 0, start = 0, k = acked;
        H5Sget_simple_extent_dims(sp, &n, NULL);
        ck_assert_msg(n >= acked && n <= appended + 1, "%s: %zu rows, %zu acknowledged of %zu",
                      name, (size_t)n, acked, appended);
        if (k) {
            hid_t ms = H5Screate_simple(1, &k, NULL);
            ck_assert_int_ge(H5Sselect_hyperslab(sp, H5S_SELECT_SET, &start, NULL, &k, NULL), 0);
            ck_assert_msg(H5Dread(d, H5T_NATIVE_DOUBLE, ms, sp, H5P_DEFAULT, buf) >= 0,
                          "%s: the %zu acknowledged rows do not read", name, acked);
            H5Sclose(ms);
        }
        for (size_t i = 0; i < acked; i++)
            ck_assert_msg(buf[i] == cell(i, c), "%s row %zu reads %g, not %g (%zu of %zu rows "
                          "acknowledged, %zu in the file)", name, i, buf[i], cell(i, c), acked,
                          appended, (size_t)n);
        H5Sclose(sp);
        H5Dclose(d);
    }
    free(buf);
    H5Fclose(f);
    return acked;
}

/* The last report of a child */
typedef struct report {
    size_t appended, acked;
    unsigned phase;
} report;

/* Reads the child's reports into *last until EOF, or (deadline >= 0) until deadline on
 * now_s's clock: the parent reads while it waits, so the child never blocks on a full pipe.
 * Reports are 12-byte writes, atomic on a pipe, read a whole number at a time. */
static void drain(int fd, double deadline, report *last)
{
    uint32_t v[3 * 256];
    for (;;) {
        if (deadline >= 0) {
            double left = deadline - now_s();
            if (left <= 0)
                return;
            struct pollfd pf = { .fd = fd, .events = POLLIN };
            struct timespec ts = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) };
            if (ppoll(&pf, 1, &ts, NULL) <= 0)
                continue;
        }
        ssize_t got = read(fd, v, sizeof v);
        if (got <= 0)
            return;
        ck_assert_int_eq(got % (ssize_t)sizeof(uint32_t[3]), 0);
        const uint32_t *r = v + (size_t)got / sizeof(uint32_t) - 3;
        if (r[0] != 0xffffffffu)
            *last = (report){ r[0], r[1], r[2] };
    }
}

/* BPRUN_FLUSH_MS for one test (NULL: unset); restored by flush_env_restore. */
static char *saved_flush_env;
static void flush_env(const char *v)
{
    const char *old = getenv("BPRUN_FLUSH_MS");
    free(saved_flush_env);
    saved_flush_env = old ? strdup(old) : NULL;
    if (v)
        ck_assert_int_eq(setenv("BPRUN_FLUSH_MS", v, 1), 0);
    else
        ck_assert_int_eq(unsetenv("BPRUN_FLUSH_MS"), 0);
}

static void flush_env_restore(void)
{
    if (saved_flush_env)
        setenv("BPRUN_FLUSH_MS", saved_flush_env, 1);
    else
        unsetenv("BPRUN_FLUSH_MS");
    free(saved_flush_env);
    saved_flush_env = NULL;
}

/* Kills writers at random moments under one flush policy (NULL: the default): 20, or
 * BP_TEST_KILLS (a stress run: `CK_TIMEOUT_MULTIPLIER=50 BP_TEST_KILLS=3000
 * tests/check_runlog`, docs/FORMAT.md). Every other kill comes 20 us to 3 ms after the writer
 * created its file, while its flushes are frequent and small (T = 0) or before any (the
 * default: nothing is written in the first BP_FLUSH_FIRST_MS); the others 1 to 40 ms after
 * (T = 0), or that long after the file is BP_FLUSH_FIRST_MS + 20 ms old (the default, whose
 * doubling flushes start then). */
static void kill_writers(const char *policy, int every_row)
{
    flush_env(policy);
    bp_err e;
    bp_run *r = bp_run_create(path("%s", "run"), 0, &e);
    ck_assert_ptr_nonnull(r);
    unsigned seed = 12345;
    size_t checked = 0, total_rows = 0, total_appended = 0, early = 0, late = 0, no_file = 0;
    const char *nk = getenv("BP_TEST_KILLS");
    unsigned kills = nk && atoi(nk) > 0 ? (unsigned)atoi(nk) : 20;
    for (unsigned k = 0; k < kills; k++) {
        int p[2];
        ck_assert_int_eq(pipe(p), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(p[0]);
            kill_child(r, k, p[1], -1, -1);
        }
        close(p[1]);
        /* the kill lands while rows are appended, whatever the machine's load: the clock starts
         * when the writer has created its file */
        uint32_t first[3];
        ck_assert_msg(read(p[0], first, sizeof first) == sizeof first && first[0] == 0xffffffffu,
                      "writer %u did not create its trial file", k);
        seed = seed * 1103515245u + 12345u;
        long us = k % 2 ? 20 + (long)((seed >> 16) % 3000) : 1000 + (long)((seed >> 16) % 40) * 1000;
        if (!every_row && !(k % 2))
            us += (long)((BP_FLUSH_FIRST_MS / 1000.0 + FIRST_MARGIN_S) * 1e6);
        report last = { 0, 0, 1 };
        drain(p[0], now_s() + (double)us * 1e-6, &last);
        kill(pid, SIGKILL);
        int wst;
        ck_assert_int_eq(waitpid(pid, &wst, 0), pid);
        ck_assert_msg(WIFSIGNALED(wst), "writer %u ended by itself (status %d)", k, wst);
        drain(p[0], -1, &last);
        close(p[0]);
        size_t appended = last.appended, acked = last.acked;
        unsigned phase = last.phase;
        /* the policy: all rows (T = 0), else none in the file's first BP_FLUSH_FIRST_MS and
         * at least half of them after */
        if (every_row)
            ck_assert_uint_eq(acked, appended);
        else if (phase == 0) {
            ck_assert_uint_eq(acked, 0);
            early++;
        } else if (phase == 2) {
            ck_assert_uint_ge(2 * acked, appended);
            late++;
        }
        char rel[64];
        snprintf(rel, sizeof rel, "run/trials/%04u.h5.part", k);
        /* the file is created by its first flush (bp_trial_create): a writer killed before
         * that leaves none, one killed while creating it may leave one that does not open;
         * either had acknowledged nothing */
        if (acked == 0 && !opens(path("%s", rel)))
            no_file++;
        else
            total_rows += check_part(path("%s", rel), acked, appended);
        if (kills > 20)
            unlink(path("%s", rel));
        total_appended += appended;
        checked++;
    }
    fprintf(stderr, "check_runlog: BPRUN_FLUSH_MS=%s: %zu of %u killed writers checked, %zu of "
            "%zu rows acknowledged and exact", policy ? policy : "(default)", checked, kills,
            total_rows, total_appended);
    if (!every_row)
        fprintf(stderr, "; %zu killed before any flush was due (%zu left no file that opens), %zu after",
                early, no_file, late);
    else /* T = 0: the file exists from bp_trial_create on */
        ck_assert_uint_eq(no_file, 0);
    fprintf(stderr, "\n");
    ck_assert_uint_eq(checked, kills);
    if (!every_row) /* both sides of BP_FLUSH_FIRST_MS were seen */
        ck_assert(early > 0 && late > 0);
    ck_assert_uint_gt(total_rows, 0);
    bp_run_close(r);
    flush_env_restore();
}

START_TEST(killed_writer_leaves_readable_rows)
{
    kill_writers("0", 1);
}
END_TEST

START_TEST(killed_buffered_writer_leaves_readable_rows)
{
    kill_writers(NULL, 0);
}
END_TEST

/* Sleeps until `s` seconds after t0 (now_s's clock). */
static void sleep_until(double t0, double s)
{
    double left;
    while ((left = t0 + s - now_s()) > 0) {
        struct timespec ts = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) + 1 };
        nanosleep(&ts, NULL);
    }
}

/* Appends rows first..last-1 (cell values) and checks after each that `acked` are acknowledged */
static void append_rows(bp_trial_file *t, size_t first, size_t last, uint64_t acked)
{
    bp_err e;
    for (size_t i = first; i < last; i++) {
        double row[3] = { cell(i, 0), cell(i, 1), cell(i, 2) };
        ck_assert_int_eq(bp_trial_append(t, row, &e), 0);
        ck_assert_uint_eq(bp_trial_rows_acked(t), acked);
    }
}

/* The default policy writes no row in the file's first BP_FLUSH_FIRST_MS; the first append
 * after that acknowledges every row kept, and from then on the rows kept never outnumber the
 * acknowledged ones (13 acknowledged, then 26 at once); everything kept is written before the
 * model, an attribute, or the end. (The old rule acknowledged the 1st, 2nd, 4th, ... row at
 * once.) */
START_TEST(buffered_flush_policy)
{
    flush_env(NULL);
    bp_err e;
    bp_run *r = bp_run_create(path("%s", "run"), 0, &e);
    bp_trial_meta md = meta(0);
    double t0 = now_s();
    bp_trial_file *t = bp_trial_create(r, &md, &e);
    ck_assert_ptr_nonnull(t);
    double t1 = now_s();
    for (size_t i = 0; i < 12; i++) {
        double row[3] = { cell(i, 0), cell(i, 1), cell(i, 2) };
        ck_assert_int_eq(bp_trial_append(t, row, &e), 0);
        /* nothing written yet (unless this machine stalled the test that long, which it says) */
        if (now_s() - t0 < BP_FLUSH_FIRST_MS / 1000.0 - FIRST_MARGIN_S)
            ck_assert_uint_eq(bp_trial_rows_acked(t), 0);
        else
            fprintf(stderr, "check_runlog: row %zu came %.0f ms after the start; not checked\n", i,
                    (now_s() - t0) * 1e3);
    }
    sleep_until(t1, BP_FLUSH_FIRST_MS / 1000.0 + FIRST_MARGIN_S);
    append_rows(t, 12, 13, 13);    /* the first append after the delay writes all 13 */
    append_rows(t, 13, 25, 13);    /* 12 kept: fewer than the 13 acknowledged */
    append_rows(t, 25, 26, 26);    /* 13 kept: written */
    append_rows(t, 26, 29, 26);
    /* an attribute write acknowledges the kept rows first */
    ck_assert_int_eq(bp_trial_set_int(t, "best_epoch", 3, &e), 0);
    ck_assert_uint_eq(bp_trial_rows_acked(t), 29);
    append_rows(t, 29, 30, 29);
    ck_assert_int_eq(bp_trial_flush(t, &e), 0);
    ck_assert_uint_eq(bp_trial_rows_acked(t), 30);
    ck_assert_int_eq(bp_trial_flush(t, &e), 0);   /* nothing kept: no-op */
    ck_assert_uint_eq(bp_trial_rows_acked(t), 30);
    append_rows(t, 30, 37, 30);
    /* finishing writes every row kept */
    ck_assert_int_eq(bp_trial_finish(t, "completed", "", 37, 0, &e), 0);
    double buf[40];
    hid_t f = H5Fopen(path("%s", "run/trials/0000.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_uint_eq(read_col(f, "/epochs/accuracy", buf, 40), 37);
    for (size_t i = 0; i < 37; i++)
        ck_assert(buf[i] == cell(i, 2));
    H5Fclose(f);
    bp_run_close(r);
    flush_env_restore();
}
END_TEST

/* With T ms: a row appended T ms after the last flush acknowledges everything kept; the delay
 * is min(T, BP_FLUSH_FIRST_MS); T = 0 flushes every row, from the first; a bad value is
 * refused with its message. */
START_TEST(flush_interval_env)
{
    bp_err e;
    bp_run *r = bp_run_create(path("%s", "run"), 0, &e);
    flush_env("300");
    bp_trial_meta md = meta(0);
    double t0 = now_s();
    bp_trial_file *t = bp_trial_create(r, &md, &e);
    ck_assert_ptr_nonnull(t);
    for (size_t i = 0; i < 3; i++) {
        double row[3] = { cell(i, 0), cell(i, 1), cell(i, 2) };
        ck_assert_int_eq(bp_trial_append(t, row, &e), 0);
    }
    /* the three rows are kept: the file is younger than BP_FLUSH_FIRST_MS (unless this machine
     * stalled the test that long, which it says) */
    double took = now_s() - t0;
    if (took < BP_FLUSH_FIRST_MS / 1000.0 - FIRST_MARGIN_S)
        ck_assert_uint_eq(bp_trial_rows_acked(t), 0);
    else
        fprintf(stderr, "check_runlog: 3 appends took %.0f ms; the kept rows are not checked\n",
                took * 1e3);
    struct timespec ts = { 0, 320 * 1000000L };
    nanosleep(&ts, NULL);
    double row[3] = { cell(3, 0), cell(3, 1), cell(3, 2) };
    ck_assert_int_eq(bp_trial_append(t, row, &e), 0);
    ck_assert_uint_eq(bp_trial_rows_acked(t), 4);
    bp_trial_abandon(t);
    hid_t f = H5Fopen(path("%s", "run/trials/0000.h5.part"), H5F_ACC_RDONLY, H5P_DEFAULT);
    double buf[8];
    ck_assert_uint_eq(read_col(f, "/epochs/val_loss", buf, 8), 4);
    H5Fclose(f);

    /* T = 30 ms is below BP_FLUSH_FIRST_MS: the delay is T */
    flush_env("30");
    md = meta(3);
    t0 = now_s();
    t = bp_trial_create(r, &md, &e);
    ck_assert_ptr_nonnull(t);
    double t1 = now_s();
    double row1[3] = { cell(0, 0), cell(0, 1), cell(0, 2) };
    ck_assert_int_eq(bp_trial_append(t, row1, &e), 0);
    if (now_s() - t0 < 0.03 - FIRST_MARGIN_S)
        ck_assert_uint_eq(bp_trial_rows_acked(t), 0);
    sleep_until(t1, 0.03 + FIRST_MARGIN_S);
    append_rows(t, 1, 2, 2);
    bp_trial_abandon(t);
    flush_env_restore();

    flush_env("0");
    md = meta(1);
    t = bp_trial_create(r, &md, &e);
    ck_assert_ptr_nonnull(t);
    for (size_t i = 0; i < 5; i++) {
        double rw[3] = { cell(i, 0), cell(i, 1), cell(i, 2) };
        ck_assert_int_eq(bp_trial_append(t, rw, &e), 0);
        ck_assert_uint_eq(bp_trial_rows_acked(t), i + 1);
    }
    bp_trial_abandon(t);
    flush_env_restore();

    flush_env("60001");
    md = meta(2);
    ck_assert_ptr_null(bp_trial_create(r, &md, &e));
    ck_assert_int_eq(e.code, BP_EUSAGE);
    ck_assert_str_eq(e.msg, "BPRUN_FLUSH_MS: expected milliseconds from 0 to 60000 (got '60001')");
    flush_env_restore();
    bp_run_close(r);
}
END_TEST

START_TEST(readable_while_writing)
{
    flush_env(NULL);
    bp_err e;
    bp_run *r = bp_run_create(path("%s", "run"), 0, &e);
    int p[2], hold[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(pipe(hold), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[0]);
        close(hold[1]);
        kill_child(r, 0, p[1], 40, hold[0]);
    }
    close(p[1]);
    close(hold[0]);
    uint32_t v[3] = { 0, 0, 0 };
    /* after 40 appends and a flush the writer reports 40 acknowledged rows */
    while (!(v[0] == 40 && v[1] == 40))
        ck_assert_int_eq(read(p[0], v, sizeof v), sizeof v);
    /* the writer still has the file open: another process can read it */
    check_part(path("%s", "run/trials/0000.h5.part"), 40, 40);
    ck_assert_int_eq(write(hold[1], "x", 1), 1);
    int wst;
    ck_assert_int_eq(waitpid(pid, &wst, 0), pid);
    close(p[0]);
    close(hold[1]);
    bp_run_close(r);
    flush_env_restore();
}
END_TEST

/* Two threads write two trials at once (HDF5 is built thread-safe). */
typedef struct {
    bp_run *r;
    unsigned id;
    int rc;
    char msg[BP_ERR_MSG_MAX];
} writer_arg;

static void *writer(void *p)
{
    writer_arg *w = p;
    bp_err e;
    bp_err_clear(&e);
    bp_trial_meta md = meta(w->id);
    bp_trial_file *t = bp_trial_create(w->r, &md, &e);
    w->rc = t ? 0 : e.code;
    for (size_t i = 0; t && !w->rc && i < 300; i++) {
        double row[3] = { cell(i, 0) + w->id, cell(i, 1), cell(i, 2) };
        w->rc = bp_trial_append(t, row, &e);
    }
    if (t && !w->rc)
        w->rc = bp_trial_finish(t, "completed", "", 300, 0, &e);
    else
        bp_trial_abandon(t);
    snprintf(w->msg, sizeof w->msg, "%s", e.msg);
    return NULL;
}

START_TEST(concurrent_trials)
{
    bp_err e;
    bp_run *r = bp_run_create(path("%s", "run"), 0, &e);
    writer_arg w[4];
    pthread_t th[4];
    for (unsigned k = 0; k < 4; k++) {
        w[k] = (writer_arg){ .r = r, .id = k };
        ck_assert_int_eq(pthread_create(&th[k], NULL, writer, &w[k]), 0);
    }
    for (unsigned k = 0; k < 4; k++) {
        ck_assert_int_eq(pthread_join(th[k], NULL), 0);
        ck_assert_msg(w[k].rc == 0, "trial %u: %s", k, w[k].msg);
    }
    for (unsigned k = 0; k < 4; k++) {
        char rel[64];
        snprintf(rel, sizeof rel, "run/trials/%04u.h5", k);
        hid_t f = H5Fopen(path("%s", rel), H5F_ACC_RDONLY, H5P_DEFAULT);
        ck_assert_int_ge(f, 0);
        static double buf[300];
        ck_assert_uint_eq(read_col(f, "/epochs/loss", buf, 300), 300);
        for (size_t i = 0; i < 300; i++)
            ck_assert(buf[i] == cell(i, 0) + k);
        H5Fclose(f);
    }
    bp_run_close(r);
}
END_TEST

/* ---- an independent reader: h5py ---- */

START_TEST(h5py_reads_our_files)
{
    const char *py = getenv("PYTHON_H5");
    bp_err e;
    bp_run *r = bp_run_create(path("%s", "run"), 0, &e);
    write_trial(r, 0, 50, 1);
    write_trial(r, 1, 7, 1);
    bp_trial_summary rows[2] = {
        { 0, 12345678901234567890ull, "completed", 50, 0.25, 0.5, 0.75, 1.0, 0.125, 2.5 },
        { 1, 12345678901234567890ull, "completed", 7, 0.25, 0.5, 0.75, 1.0, 0.125, 2.5 },
    };
    ck_assert_int_eq(bp_run_write_index(r, "cfg", "resolved", rows, 2, 1, &e), 0);
    bp_run_close(r);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' '%s/tests/read_trial.py' '%s/run'", py, BP_TEST_SRCDIR, tmp);
    int rc = system(cmd);
    ck_assert_msg(rc == 0, "%s failed (%d)", cmd, rc);
}
END_TEST

static Suite *runlog_suite(void)
{
    Suite *s = suite_create("runlog");
    TCase *tc = tcase_create("files");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, run_create_nested);
    tcase_add_test(tc, run_refuses_non_empty);
    tcase_add_test(tc, run_force_removes_only_ours);
    tcase_add_test(tc, run_create_errors);
    tcase_add_test(tc, trial_write_and_finish);
    tcase_add_test(tc, trial_abandon_keeps_part);
    tcase_add_test(tc, trial_chunk_from_epochs_hint);
    tcase_add_test(tc, trial_create_errors);
    tcase_add_test(tc, model_round_trip);
    tcase_add_test(tc, model_softmax_and_replace);
    tcase_add_test(tc, model_read_errors);
    tcase_add_test(tc, index_write_and_follow);
    tcase_add_test(tc, provenance_lines);
    tcase_add_test(tc, sha256_once_per_file);
    tcase_add_test(tc, provenance_quoting);
    tcase_add_test(tc, provenance_inputs_checked);
    tcase_add_test(tc, append_many_rows);
    tcase_add_test(tc, killed_writer_leaves_readable_rows);
    tcase_add_test(tc, killed_buffered_writer_leaves_readable_rows);
    tcase_add_test(tc, buffered_flush_policy);
    tcase_add_test(tc, flush_interval_env);
    tcase_add_test(tc, readable_while_writing);
    tcase_add_test(tc, concurrent_trials);
    const char *py = getenv("PYTHON_H5");
    if (py && *py)
        tcase_add_test(tc, h5py_reads_our_files);
    else
        fprintf(stderr, "check_runlog: PYTHON_H5 not set; skipping the h5py reader test\n");
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    SRunner *sr = srunner_create(runlog_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
