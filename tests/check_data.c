/* Unit tests for src/data.c, src/import.c, src/generate.c. Test files are written with the HDF5
 * API directly (not bp_data_write), in a temporary folder that is the working directory. */
#include "autoconf.h"

#include <check.h>
#include <ftw.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "data.h"
#include "generate.h"
#include "rng.h"

#ifndef BP_TEST_SRCDIR
#define BP_TEST_SRCDIR "."
#endif

static char tmpdir[] = "/tmp/check_data.XXXXXX";

/* ---- helpers ----------------------------------------------------------------------------- */

static void put(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank,
                const hsize_t *dims, const void *data)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    ck_assert_int_ge(sp, 0);
    hid_t ds = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_int_ge(ds, 0);
    if (data)
        ck_assert_int_ge(H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), 0);
    H5Dclose(ds);
    H5Sclose(sp);
}

static void put_attr_int(hid_t loc, const char *obj, const char *name, long long v)
{
    hid_t o = H5Oopen(loc, obj, H5P_DEFAULT);
    ck_assert_int_ge(o, 0);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(o, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_int_ge(a, 0);
    ck_assert_int_ge(H5Awrite(a, H5T_NATIVE_LLONG, &v), 0);
    H5Aclose(a);
    H5Sclose(sp);
    H5Oclose(o);
}

static hid_t group(hid_t f, const char *name)
{
    hid_t g = H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_int_ge(g, 0);
    return g;
}

/* A group with X (n x d float32, values i*10+j) and labels y (i % 3). */
static void good_group(hid_t f, const char *name, size_t n, size_t d)
{
    hid_t g = group(f, name);
    float *x = calloc(n * d, sizeof *x);
    int32_t *y = calloc(n, sizeof *y);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d; j++)
            x[i * d + j] = (float)(i * 10 + j);
        y[i] = (int32_t)(i % 3);
    }
    hsize_t dx[2] = {n, d}, dy[1] = {n};
    put(g, "X", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dx, x);
    put(g, "y", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, dy, y);
    free(x);
    free(y);
    H5Gclose(g);
}

static void expect_err(const char *ref, int code, const char *msg)
{
    bp_err e;
    bp_err_clear(&e);
    bp_dataset *d = bp_data_load(ref, &e);
    ck_assert_msg(d == NULL, "%s loaded but should fail with: %s", ref, msg);
    ck_assert_str_eq(e.msg, msg);
    ck_assert_int_eq(e.code, code);
}

static bp_dataset *load_ok(const char *ref)
{
    bp_err e;
    bp_err_clear(&e);
    bp_dataset *d = bp_data_load(ref, &e);
    ck_assert_msg(d != NULL, "%s: %s", ref, e.msg);
    return d;
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static void write_gz(const char *path, const void *data, size_t n)
{
    gzFile z = gzopen(path, "wb");
    ck_assert_ptr_nonnull(z);
    ck_assert_int_eq(gzwrite(z, data, (unsigned)n), (int)n);
    ck_assert_int_eq(gzclose(z), Z_OK);
}

static void write_text(const char *path, const char *text)
{
    write_file(path, text, strlen(text));
}

/* The file of bad groups used by the load tests (a checked fixture: rebuilt for each). */
static void make_error_file(void)
{
    hid_t f = H5Fcreate("data/e.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    good_group(f, "good", 5, 2);
    hid_t g;
    float x8[8] = {0};
    int32_t y4[4] = {0, 1, 0, 1};
    hsize_t d42[2] = {4, 2}, d4[1] = {4}, d222[3] = {2, 2, 2};

    g = group(f, "noX");
    put(g, "y", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d4, y4);
    H5Gclose(g);

    g = group(f, "x3d");
    put(g, "X", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, d222, x8);
    put(g, "y", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d4, y4);
    H5Gclose(g);

    g = group(f, "xint");
    put(g, "X", H5T_STD_I32LE, H5T_NATIVE_INT32, 2, d42, x8);
    put(g, "y", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d4, y4);
    H5Gclose(g);

    g = group(f, "xint1");
    put(g, "X", H5T_STD_U8LE, H5T_NATIVE_INT32, 1, d4, y4);
    put(g, "y", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d4, y4);
    H5Gclose(g);

    g = group(f, "xgroup");
    H5Gclose(group(g, "X"));
    H5Gclose(g);

    g = group(f, "notarget");
    put(g, "X", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d42, x8);
    H5Gclose(g);

    g = group(f, "both");
    put(g, "X", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d42, x8);
    put(g, "y", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d4, y4);
    put(g, "Y", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d42, x8);
    H5Gclose(g);

    g = group(f, "y2d");
    put(g, "X", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d42, x8);
    put(g, "y", H5T_STD_I32LE, H5T_NATIVE_INT32, 2, d42, x8);
    H5Gclose(g);

    g = group(f, "yfloat");
    put(g, "X", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d42, x8);
    put(g, "y", H5T_IEEE_F64LE, H5T_NATIVE_FLOAT, 1, d4, x8);
    H5Gclose(g);

    g = group(f, "Yint");
    put(g, "X", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d42, x8);
    put(g, "Y", H5T_STD_I16LE, H5T_NATIVE_INT32, 2, d42, x8);
    H5Gclose(g);

    {
        static float x149[149 * 2];
        static int32_t y150[150];
        hsize_t dx[2] = {149, 2}, dy[1] = {150}, dY[2] = {150, 3};
        g = group(f, "len");
        put(g, "X", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dx, x149);
        put(g, "y", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, dy, y150);
        H5Gclose(g);
        static float Y450[450];
        g = group(f, "lenY");
        put(g, "X", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dx, x149);
        put(g, "Y", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dY, Y450);
        H5Gclose(g);
    }
    {
        float x80[80] = {0};
        int32_t y20[20] = {0};
        hsize_t dx[2] = {20, 4}, dy[1] = {20};
        x80[12 * 4 + 3] = NAN;
        g = group(f, "nan");
        put(g, "X", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dx, x80);
        put(g, "y", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, dy, y20);
        H5Gclose(g);
        double Yd[8] = {0, 0, 0, 0, 0, INFINITY, 0, 0};
        g = group(f, "infY");
        put(g, "X", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d42, x8);
        put(g, "Y", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d42, Yd);
        H5Gclose(g);
        double Xd[8] = {0, 0, 0, 1e300, 0, 0, 0, 0};
        g = group(f, "big");
        put(g, "X", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d42, Xd);
        put(g, "y", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d4, y4);
        H5Gclose(g);
    }
    {
        int32_t y7[4] = {0, 2, 1, 7};
        g = group(f, "range");
        put(g, "X", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d42, x8);
        put(g, "y", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d4, y7);
        H5Gclose(g);
        put_attr_int(f, "range/y", "n_classes", 3);

        g = group(f, "rangeg");
        put(g, "X", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d42, x8);
        put(g, "y", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d4, y7);
        H5Gclose(g);
        put_attr_int(f, "rangeg", "n_classes", 3);

        int32_t yneg[4] = {0, 1, -1, 0};
        g = group(f, "neg");
        put(g, "X", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d42, x8);
        put(g, "y", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d4, yneg);
        H5Gclose(g);

        int64_t ybig[4] = {0, 1, 5000000000LL, 0};
        g = group(f, "ybig");
        put(g, "X", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d42, x8);
        put(g, "y", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, d4, ybig);
        H5Gclose(g);

        g = group(f, "k0");
        put(g, "X", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d42, x8);
        put(g, "y", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d4, y4);
        H5Gclose(g);
        put_attr_int(f, "k0/y", "n_classes", 0);

        g = group(f, "kdiff");
        put(g, "X", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d42, x8);
        put(g, "y", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d4, y4);
        H5Gclose(g);
        put_attr_int(f, "kdiff/y", "n_classes", 3);
        put_attr_int(f, "kdiff", "n_classes", 4);

        g = group(f, "kfloat");
        put(g, "X", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d42, x8);
        put(g, "y", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, d4, y4);
        hid_t sp = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate2(g, "n_classes", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
        double three = 3.0;
        H5Awrite(a, H5T_NATIVE_DOUBLE, &three);
        H5Aclose(a);
        H5Sclose(sp);
        H5Gclose(g);
    }
    {
        hsize_t dx[2] = {0, 4}, dy[1] = {0};
        g = group(f, "empty");
        put(g, "X", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dx, NULL);
        put(g, "y", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, dy, NULL);
        H5Gclose(g);
    }
    {
        /* absurd sizes: chunked, never written, so the file stays small */
        hsize_t dx[2] = {(hsize_t)1 << 40, (hsize_t)1 << 30}, dy[1] = {(hsize_t)1 << 40};
        hsize_t cx[2] = {1, 1024}, cy[1] = {1024};
        g = group(f, "huge");
        hid_t p = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_chunk(p, 2, cx);
        hid_t sp = H5Screate_simple(2, dx, NULL);
        H5Dclose(H5Dcreate2(g, "X", H5T_IEEE_F32LE, sp, H5P_DEFAULT, p, H5P_DEFAULT));
        H5Sclose(sp);
        H5Pset_chunk(p, 1, cy);
        sp = H5Screate_simple(1, dy, NULL);
        H5Dclose(H5Dcreate2(g, "y", H5T_STD_I32LE, sp, H5P_DEFAULT, p, H5P_DEFAULT));
        H5Sclose(sp);
        H5Pclose(p);
        H5Gclose(g);
    }
    {
        /* contiguous, never written: 4 GiB that the file does not hold */
        hsize_t dx[2] = {(hsize_t)1 << 20, 1024}, dy[1] = {(hsize_t)1 << 20};
        g = group(f, "hole");
        hid_t p = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_alloc_time(p, H5D_ALLOC_TIME_LATE);
        hid_t sp = H5Screate_simple(2, dx, NULL);
        H5Dclose(H5Dcreate2(g, "X", H5T_IEEE_F32LE, sp, H5P_DEFAULT, p, H5P_DEFAULT));
        H5Sclose(sp);
        sp = H5Screate_simple(1, dy, NULL);
        H5Dclose(H5Dcreate2(g, "y", H5T_STD_I32LE, sp, H5P_DEFAULT, p, H5P_DEFAULT));
        H5Sclose(sp);
        H5Pclose(p);
        H5Gclose(g);
    }
    ck_assert_int_ge(H5Fclose(f), 0);
}

/* ---- loading ----------------------------------------------------------------------------- */

START_TEST(load_float32_labels)
{
    bp_dataset *d = load_ok("data/e.h5#/good");
    ck_assert_str_eq(d->name, "data/e.h5#/good");
    ck_assert_uint_eq(d->n, 5);
    ck_assert_uint_eq(d->d, 2);
    ck_assert_int_eq(d->kind, BP_TARGET_LABELS);
    ck_assert_uint_eq(d->k, 3);
    ck_assert_ptr_null(d->Y);
    ck_assert_ptr_null(d->class_names);
    ck_assert_float_eq(d->X[4 * 2 + 1], 41.0f);
    ck_assert_int_eq(d->y[4], 1);
    bp_data_free(d);
    /* group name without the leading slash */
    d = load_ok("data/e.h5#good");
    ck_assert_uint_eq(d->n, 5);
    bp_data_free(d);
}
END_TEST

START_TEST(load_float64_matrix_and_root)
{
    hid_t f = H5Fcreate("data/f64.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    double x[6] = {0.1, -2.5, 1e-3, 3.0, 1e30, -7.25};
    double y[6] = {1, 0, 0.5, 0.25, -1, 2};
    hsize_t dx[2] = {3, 2}, dY[2] = {3, 2};
    put(f, "X", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dx, x);
    put(f, "Y", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dY, y);
    H5Fclose(f);
    const char *refs[] = {"data/f64.h5", "data/f64.h5#/", "data/f64.h5#"};
    for (size_t r = 0; r < 3; r++) {
        bp_dataset *d = load_ok(refs[r]);
        ck_assert_int_eq(d->kind, BP_TARGET_MATRIX);
        ck_assert_uint_eq(d->n, 3);
        ck_assert_uint_eq(d->k, 2);
        for (int i = 0; i < 6; i++) {
            ck_assert_float_eq(d->X[i], (float)x[i]);
            ck_assert_float_eq(d->Y[i], (float)y[i]);
        }
        bp_data_free(d);
    }
    expect_err("data/f64.h5#/nope", BP_EDATA, "data/f64.h5#/nope: no such group");
}
END_TEST

START_TEST(load_file_errors)
{
    expect_err("data/none.h5#/train", BP_EDATA,
               "data/none.h5: cannot open: No such file or directory");
    expect_err("data", BP_EDATA, "data: not a regular file (a directory)");
    expect_err("/dev/zero", BP_EDATA, "/dev/zero: not a regular file (a character device)");
    write_text("data/x.txt", "hello\n");
    expect_err("data/x.txt#/train", BP_EDATA, "data/x.txt: not an HDF5 file");
    write_text("data/empty.h5", "");
    expect_err("data/empty.h5", BP_EDATA, "data/empty.h5: not an HDF5 file");
    expect_err("", BP_EDATA, "empty dataset reference");
    expect_err("#/train", BP_EDATA, "#/train: no file name before '#'");
}
END_TEST

START_TEST(load_group_errors)
{
    expect_err("data/e.h5#/train", BP_EDATA, "data/e.h5#/train: no such group");
    expect_err("data/e.h5#/a/b/c", BP_EDATA, "data/e.h5#/a/b/c: no such group");
    expect_err("data/e.h5#/good/X/z", BP_EDATA, "data/e.h5#/good/X/z: no such group");
    expect_err("data/e.h5#/good/X", BP_EDATA, "data/e.h5#/good/X: not a group");
    expect_err("data/e.h5#/noX", BP_EDATA, "data/e.h5#/noX: no dataset 'X'");
    expect_err("data/e.h5#/xgroup", BP_EDATA, "data/e.h5#/xgroup/X: not a dataset");
}
END_TEST

START_TEST(load_shape_errors)
{
    expect_err("data/e.h5#/x3d", BP_EDATA,
               "data/e.h5#/x3d/X: expected a 2-D float32 or float64 dataset (got 3-D)");
    expect_err("data/e.h5#/xint", BP_EDATA,
               "data/e.h5#/xint/X: expected a 2-D float32 or float64 dataset (got integer)");
    expect_err("data/e.h5#/xint1", BP_EDATA,
               "data/e.h5#/xint1/X: expected a 2-D float32 or float64 dataset "
               "(got 1-D integer)");
    expect_err("data/e.h5#/notarget", BP_EDATA,
               "data/e.h5#/notarget: needs a target dataset 'y' (labels) or 'Y' (matrix)");
    expect_err("data/e.h5#/both", BP_EDATA, "data/e.h5#/both: has both 'y' and 'Y'");
    expect_err("data/e.h5#/y2d", BP_EDATA,
               "data/e.h5#/y2d/y: expected a 1-D integer dataset (got 2-D)");
    expect_err("data/e.h5#/yfloat", BP_EDATA,
               "data/e.h5#/yfloat/y: expected a 1-D integer dataset (got 64-bit float)");
    expect_err("data/e.h5#/Yint", BP_EDATA,
               "data/e.h5#/Yint/Y: expected a 2-D float32 or float64 dataset (got integer)");
    expect_err("data/e.h5#/len", BP_EDATA, "data/e.h5#/len/y: 150 rows, but X has 149");
    expect_err("data/e.h5#/lenY", BP_EDATA, "data/e.h5#/lenY/Y: 150 rows, but X has 149");
    expect_err("data/e.h5#/empty", BP_EDATA,
               "data/e.h5#/empty/X: empty (0 x 4); needs at least one row and one column");
    expect_err("data/e.h5#/huge", BP_ENOMEM,
               "data/e.h5#/huge/X: 1099511627776 x 1073741824 values are too many for this "
               "machine");
    struct stat st;
    ck_assert_int_eq(stat("data/e.h5", &st), 0);
    char want[256];
    snprintf(want, sizeof want, "data/e.h5#/hole/X: 1048576 x 1024 values need 4294967296 "
             "bytes, but the file has %lld (damaged, or never written)", (long long)st.st_size);
    expect_err("data/e.h5#/hole", BP_EDATA, want);
}
END_TEST

START_TEST(load_value_errors)
{
    expect_err("data/e.h5#/nan", BP_EDATA, "data/e.h5#/nan/X: non-finite value at row 12, column 3");
    expect_err("data/e.h5#/infY", BP_EDATA,
               "data/e.h5#/infY/Y: non-finite value at row 2, column 1");
    expect_err("data/e.h5#/big", BP_EDATA,
               "data/e.h5#/big/X: value 1e+300 at row 1, column 1 does not fit in float32");
    expect_err("data/e.h5#/range", BP_EDATA,
               "data/e.h5#/range/y: label 7 at row 3 is out of range [0, 3)");
    expect_err("data/e.h5#/rangeg", BP_EDATA,
               "data/e.h5#/rangeg/y: label 7 at row 3 is out of range [0, 3)");
    expect_err("data/e.h5#/neg", BP_EDATA, "data/e.h5#/neg/y: label -1 at row 2 is negative");
    expect_err("data/e.h5#/ybig", BP_EDATA,
               "data/e.h5#/ybig/y: label 5000000000 at row 2 is too large (at most 2147483646)");
    expect_err("data/e.h5#/k0", BP_EDATA,
               "data/e.h5#/k0/y: attribute n_classes must be an integer in 1..2147483647 (got 0)");
    expect_err("data/e.h5#/kdiff", BP_EDATA,
               "data/e.h5#/kdiff/y: attribute n_classes is 3, but the group's n_classes is 4");
    expect_err("data/e.h5#/kfloat", BP_EDATA,
               "data/e.h5#/kfloat: attribute n_classes must be one integer (got 1 64-bit float)");
}
END_TEST

START_TEST(load_n_classes_attribute)
{
    hid_t f = H5Fcreate("data/k.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    good_group(f, "t", 4, 1);
    put_attr_int(f, "t/y", "n_classes", 10);
    H5Fclose(f);
    bp_dataset *d = load_ok("data/k.h5#/t");
    ck_assert_uint_eq(d->k, 10);
    bp_data_free(d);
}
END_TEST

static void copy_prefix(const char *from, const char *to, long keep, int garble)
{
    FILE *f = fopen(from, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    unsigned char *buf = malloc((size_t)n);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    if (garble)
        for (long i = 96; i < n; i++)
            buf[i] = (unsigned char)(0xA5 ^ (i * 7));
    write_file(to, buf, (size_t)(keep < 0 ? n : keep));
    free(buf);
}

START_TEST(load_truncated_and_corrupt)
{
    hid_t f = H5Fcreate("data/t.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    good_group(f, "train", 200, 20);
    H5Fclose(f);
    bp_dataset *ok = load_ok("data/t.h5#/train");
    bp_data_free(ok);
    struct stat st;
    ck_assert_int_eq(stat("data/t.h5", &st), 0);
    const long cuts[] = {(long)st.st_size / 2, (long)st.st_size - 100, 800, 100};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        copy_prefix("data/t.h5", "data/cut.h5", cuts[i], 0);
        bp_err e;
        bp_err_clear(&e);
        bp_dataset *d = bp_data_load("data/cut.h5#/train", &e);
        ck_assert_msg(d == NULL, "cut at %ld loaded", cuts[i]);
        ck_assert_int_eq(e.code, BP_EDATA);
        ck_assert_msg(strncmp(e.msg, "data/cut.h5", 11) == 0, "%s", e.msg);
        ck_assert_ptr_null(strchr(e.msg, '\n'));
    }
    copy_prefix("data/t.h5", "data/cut.h5", st.st_size / 2, 0);
    expect_err("data/cut.h5#/train", BP_EDATA, "data/cut.h5: cannot open as HDF5 (the file is "
               "truncated: shorter than its header says)");
    copy_prefix("data/t.h5", "data/garbled.h5", -1, 1);
    bp_err e;
    bp_err_clear(&e);
    bp_dataset *d = bp_data_load("data/garbled.h5#/train", &e);
    ck_assert_ptr_null(d);
    ck_assert_int_eq(e.code, BP_EDATA);
    ck_assert_msg(strncmp(e.msg, "data/garbled.h5", 15) == 0, "%s", e.msg);
}
END_TEST

START_TEST(load_builtin_ref)
{
    bp_dataset *d = load_ok("builtin:xor");
    ck_assert_str_eq(d->name, "builtin:xor");
    ck_assert_uint_eq(d->n, 4);
    bp_data_free(d);
    expect_err("builtin:nope", BP_EDATA,
               "builtin:nope: unknown generator (valid: builtin:xor, builtin:parity:N (N in "
               "1..20), builtin:encoder:N (N in 2..1024), builtin:spirals)");
}
END_TEST

/* ---- writing ----------------------------------------------------------------------------- */

static bp_dataset *small_labels(void)
{
    bp_err e;
    bp_dataset *d = bp_data_new("small", 5, 3, BP_TARGET_LABELS, 4, &e);
    ck_assert_ptr_nonnull(d);
    for (size_t i = 0; i < 15; i++)
        d->X[i] = (float)i * 0.5f - 2.0f;
    for (size_t i = 0; i < 5; i++)
        d->y[i] = (int32_t)(i % 3);
    return d;
}

START_TEST(write_roundtrip_labels)
{
    bp_err e;
    bp_dataset *d = small_labels();
    d->class_names = calloc(4, sizeof(char *));
    const char *nm[4] = {"cat", "dog", "emu", "yak"};
    for (int i = 0; i < 4; i++)
        d->class_names[i] = strdup(nm[i]);
    ck_assert_int_eq(bp_data_write(d, "data/w.h5", "/a/b/train", 0, &e), 0);
    bp_dataset *r = load_ok("data/w.h5#/a/b/train");
    ck_assert_uint_eq(r->n, 5);
    ck_assert_uint_eq(r->d, 3);
    ck_assert_uint_eq(r->k, 4);
    ck_assert_int_eq(memcmp(r->X, d->X, 15 * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(r->y, d->y, 5 * sizeof(int32_t)), 0);
    ck_assert_ptr_nonnull(r->class_names);
    for (int i = 0; i < 4; i++)
        ck_assert_str_eq(r->class_names[i], nm[i]);
    bp_data_free(r);

    /* existing group: refused, then replaced with overwrite */
    bp_err_clear(&e);
    ck_assert_int_eq(bp_data_write(d, "data/w.h5", "a/b/train", 0, &e), BP_EEXIST);
    ck_assert_str_eq(e.msg, "data/w.h5#/a/b/train: group exists; use --force to replace it");
    d->y[0] = 3;
    ck_assert_int_eq(bp_data_write(d, "data/w.h5", "a/b/train", 1, &e), 0);
    r = load_ok("data/w.h5#/a/b/train");
    ck_assert_int_eq(r->y[0], 3);
    bp_data_free(r);

    /* a second group in the same file; the source attribute */
    ck_assert_int_eq(bp_data_write(d, "data/w.h5", "test", 0, &e), 0);
    hid_t f = H5Fopen("data/w.h5", H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t a = H5Aopen_by_name(f, "test", "source", H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_int_ge(a, 0);
    hid_t t = H5Aget_type(a);
    char *src = NULL;
    ck_assert_int_ge(H5Aread(a, t, &src), 0);
    ck_assert_str_eq(src, "small");
    H5free_memory(src);
    H5Tclose(t);
    H5Aclose(a);
    long long k = 0;
    a = H5Aopen_by_name(f, "test/y", "n_classes", H5P_DEFAULT, H5P_DEFAULT);
    H5Aread(a, H5T_NATIVE_LLONG, &k);
    H5Aclose(a);
    ck_assert_int_eq(k, 4);
    H5Fclose(f);
    bp_data_free(d);
}
END_TEST

START_TEST(write_roundtrip_matrix_root_and_chunked)
{
    bp_err e;
    bp_dataset *d = bp_data_new(NULL, 300, 250, BP_TARGET_MATRIX, 2, &e);
    ck_assert_ptr_nonnull(d);
    for (size_t i = 0; i < 300 * 250; i++)
        d->X[i] = (float)(i % 97) / 7.0f;
    for (size_t i = 0; i < 600; i++)
        d->Y[i] = (float)i;
    ck_assert_int_eq(bp_data_write(d, "data/m.h5", NULL, 0, &e), 0);
    bp_dataset *r = load_ok("data/m.h5");
    ck_assert_int_eq(r->kind, BP_TARGET_MATRIX);
    ck_assert_uint_eq(r->k, 2);
    ck_assert_int_eq(memcmp(r->X, d->X, 300 * 250 * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(r->Y, d->Y, 600 * sizeof(float)), 0);
    bp_data_free(r);
    /* X (75000 values) is chunked (1 MiB / 1000 bytes per row = 1048 rows, clamped to 300)
     * and deflated; Y (600 values) is contiguous */
    hid_t f = H5Fopen("data/m.h5", H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = H5Dopen2(f, "X", H5P_DEFAULT);
    hid_t p = H5Dget_create_plist(ds);
    ck_assert_int_eq(H5Pget_layout(p), H5D_CHUNKED);
    hsize_t c[2];
    ck_assert_int_eq(H5Pget_chunk(p, 2, c), 2);
    ck_assert_uint_eq(c[0], 300);
    ck_assert_uint_eq(c[1], 250);
    ck_assert_int_eq(H5Pget_nfilters(p), 1);
    unsigned flags, cd[4];
    size_t ncd = 4;
    ck_assert_int_eq(H5Pget_filter2(p, 0, &flags, &ncd, cd, 0, NULL, NULL), H5Z_FILTER_DEFLATE);
    ck_assert_uint_eq(cd[0], 4);
    H5Pclose(p);
    H5Dclose(ds);
    ds = H5Dopen2(f, "Y", H5P_DEFAULT);
    p = H5Dget_create_plist(ds);
    ck_assert_int_eq(H5Pget_layout(p), H5D_CONTIGUOUS);
    H5Pclose(p);
    H5Dclose(ds);
    H5Fclose(f);
    /* root: refused while X exists, replaced with overwrite (labels replace the matrix) */
    bp_dataset *l = small_labels();
    bp_err_clear(&e);
    ck_assert_int_eq(bp_data_write(l, "data/m.h5", "/", 0, &e), BP_EEXIST);
    ck_assert_str_eq(e.msg, "data/m.h5#/: already holds a dataset 'X'");
    ck_assert_int_eq(bp_data_write(l, "data/m.h5", "/", 1, &e), 0);
    r = load_ok("data/m.h5#/");
    ck_assert_int_eq(r->kind, BP_TARGET_LABELS);
    ck_assert_uint_eq(r->n, 5);
    bp_data_free(r);
    bp_data_free(l);
    bp_data_free(d);
}
END_TEST

START_TEST(write_errors)
{
    bp_err e;
    bp_dataset *d = small_labels();
    write_text("data/plain.txt", "not hdf5\n");
    bp_err_clear(&e);
    ck_assert_int_eq(bp_data_write(d, "data/plain.txt", "g", 0, &e), BP_EIO);
    ck_assert_str_eq(e.msg, "data/plain.txt: exists and is not an HDF5 file");
    bp_err_clear(&e);
    ck_assert_int_eq(bp_data_write(d, "data/nodir/x.h5", "g", 0, &e), BP_EIO);
    ck_assert_str_eq(e.msg, "data/nodir/x.h5: cannot create: No such file or directory");
    d->y[4] = 4;
    bp_err_clear(&e);
    ck_assert_int_eq(bp_data_write(d, "data/z.h5", "g", 0, &e), BP_EDATA);
    ck_assert_str_eq(e.msg, "data/z.h5#/g: label 4 at row 4 is out of range [0, 4)");
    d->y[4] = 0;
    d->X[7] = NAN;
    ck_assert_int_eq(bp_data_write(d, "data/z.h5", "g", 0, &e), BP_EDATA);
    ck_assert_str_eq(e.msg, "data/z.h5#/g: non-finite value in X at row 2, column 1");
    struct stat st;
    ck_assert_int_ne(stat("data/z.h5", &st), 0);
    d->n = 0;
    bp_err_clear(&e);
    ck_assert_int_eq(bp_data_write(d, "data/z.h5", "g", 0, &e), BP_EDATA);
    ck_assert_str_eq(e.msg, "data/z.h5: nothing to write (empty dataset)");
    bp_data_free(d);
}
END_TEST

/* ---- split, moments, shape --------------------------------------------------------------- */

static bp_dataset *counting(size_t n)
{
    bp_err e;
    bp_dataset *d = bp_data_new("count", n, 2, BP_TARGET_LABELS, 2, &e);
    ck_assert_ptr_nonnull(d);
    for (size_t i = 0; i < n; i++) {
        d->X[2 * i] = (float)i;
        d->X[2 * i + 1] = (float)(1000 + i);
        d->y[i] = (int32_t)(i % 2);
    }
    return d;
}

START_TEST(split_sizes_order_determinism)
{
    bp_err e;
    bp_dataset *all = counting(10), *tr, *va, *tr2, *va2;
    ck_assert_int_eq(bp_data_split(all, 0.25, 7, &tr, &va, &e), 0);
    ck_assert_uint_eq(va->n, 3); /* round(2.5) */
    ck_assert_uint_eq(tr->n, 7);
    ck_assert_str_eq(va->name, "count (split: validation)");
    ck_assert_str_eq(tr->name, "count (split: train)");
    uint32_t perm[10];
    bp_rng r = bp_rng_stream(7, 0, BP_RNG_SPLIT, 0);
    bp_rng_permutation(&r, perm, 10);
    int seen[10] = {0};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_float_eq(va->X[2 * i], (float)perm[i]);
        ck_assert_float_eq(va->X[2 * i + 1], (float)(1000 + perm[i]));
        ck_assert_int_eq(va->y[i], (int32_t)(perm[i] % 2));
        seen[perm[i]] = 1;
    }
    float last = -1;
    for (size_t i = 0; i < 7; i++) {
        float v = tr->X[2 * i];
        ck_assert(v > last);
        ck_assert_int_eq(seen[(int)v], 0);
        seen[(int)v] = 1;
        last = v;
    }
    ck_assert_int_eq(bp_data_split(all, 0.25, 7, &tr2, &va2, &e), 0);
    ck_assert_int_eq(memcmp(va->X, va2->X, 6 * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(tr->X, tr2->X, 14 * sizeof(float)), 0);
    bp_data_free(tr2);
    bp_data_free(va2);
    int differs = 0;
    for (uint64_t s = 8; s < 12 && !differs; s++) {
        ck_assert_int_eq(bp_data_split(all, 0.25, s, &tr2, &va2, &e), 0);
        differs = memcmp(va->X, va2->X, 6 * sizeof(float)) != 0;
        bp_data_free(tr2);
        bp_data_free(va2);
    }
    ck_assert(differs);
    bp_data_free(tr);
    bp_data_free(va);
    /* at least one row on each side: 0.05 of 10 rounds to 1, 0.949 to 9; no clamping */
    ck_assert_int_eq(bp_data_split(all, 0.05, 1, &tr, &va, &e), 0);
    ck_assert_uint_eq(va->n, 1);
    bp_data_free(tr);
    bp_data_free(va);
    ck_assert_int_eq(bp_data_split(all, 0.949, 1, &tr, &va, &e), 0);
    ck_assert_uint_eq(va->n, 9);
    ck_assert_uint_eq(tr->n, 1);
    bp_data_free(tr);
    bp_data_free(va);
    ck_assert_int_eq(bp_data_split(all, 0.01, 1, &tr, &va, &e), BP_ECONFIG);
    ck_assert_str_eq(e.msg, "a fraction of 0.01 takes 0 of the 10 rows of count, leaving 10 for "
                     "training; each side needs at least one row (a fraction from 0.05 to below "
                     "0.95)");
    ck_assert_ptr_null(va);
    ck_assert_int_eq(bp_data_split(all, 0.95, 1, &tr, &va, &e), BP_ECONFIG);
    ck_assert_str_eq(e.msg, "a fraction of 0.95 takes 10 of the 10 rows of count, leaving 0 for "
                     "training; each side needs at least one row (a fraction from 0.05 to below "
                     "0.95)");
    /* errors */
    bp_err_clear(&e);
    ck_assert_int_eq(bp_data_split(all, 1.0, 1, &tr, &va, &e), BP_ECONFIG);
    ck_assert_str_eq(e.msg, "validation fraction must be in (0, 1) (got 1)");
    ck_assert_ptr_null(tr);
    ck_assert_int_eq(bp_data_split(all, NAN, 1, &tr, &va, &e), BP_ECONFIG);
    bp_data_free(all);
    all = counting(1);
    bp_err_clear(&e);
    ck_assert_int_eq(bp_data_split(all, 0.5, 1, &tr, &va, &e), BP_EDATA);
    ck_assert_str_eq(e.msg, "count: needs at least 2 rows to split off a validation set (has 1)");
    bp_data_free(all);
}
END_TEST

START_TEST(split_matrix_keeps_targets_and_names)
{
    bp_err e;
    bp_dataset *d = bp_data_new("m", 6, 1, BP_TARGET_MATRIX, 2, &e), *tr, *va;
    for (size_t i = 0; i < 6; i++) {
        d->X[i] = (float)i;
        d->Y[2 * i] = (float)(10 * i);
        d->Y[2 * i + 1] = (float)(-(int)i);
    }
    ck_assert_int_eq(bp_data_split(d, 0.5, 3, &tr, &va, &e), 0);
    ck_assert_uint_eq(va->n, 3);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_float_eq(va->Y[2 * i], 10 * va->X[i]);
        ck_assert_float_eq(tr->Y[2 * i + 1], -tr->X[i]);
    }
    bp_data_free(tr);
    bp_data_free(va);
    bp_data_free(d);
}
END_TEST

START_TEST(moments_and_standardize)
{
    bp_err e;
    bp_dataset *d = bp_data_new("s", 4, 3, BP_TARGET_LABELS, 1, &e);
    float x[12] = {1, 7, -1, 2, 7, 1, 3, 7, -1, 4, 7, 1};
    memcpy(d->X, x, sizeof x);
    double mean[3], sd[3];
    bp_data_moments(d, mean, sd);
    ck_assert_double_eq(mean[0], 2.5);
    ck_assert_double_eq(mean[1], 7.0);
    ck_assert_double_eq(mean[2], 0.0);
    ck_assert_double_eq_tol(sd[0], sqrt(1.25), 1e-15);
    ck_assert_double_eq(sd[1], 1.0); /* constant feature */
    ck_assert_double_eq(sd[2], 1.0);
    bp_data_standardize(d, mean, sd);
    ck_assert_float_eq_tol(d->X[0], (float)(-1.5 / sqrt(1.25)), 1e-7);
    ck_assert_float_eq_tol(d->X[9], (float)(1.5 / sqrt(1.25)), 1e-7);
    ck_assert_float_eq(d->X[4], 0.0f);
    ck_assert_float_eq(d->X[5], 1.0f);
    bp_data_moments(d, mean, sd);
    ck_assert_double_eq_tol(mean[0], 0.0, 1e-7);
    ck_assert_double_eq_tol(sd[0], 1.0, 1e-7);
    bp_data_free(d);
}
END_TEST

START_TEST(check_shape_messages)
{
    bp_err e;
    bp_dataset *d = bp_data_new("data/x.h5#/train", 20, 4, BP_TARGET_LABELS, 10, &e);
    for (size_t i = 0; i < 20; i++)
        d->y[i] = (int32_t)(i % 3);
    ck_assert_int_eq(bp_data_check_shape(d, 4, 10, &e), 0);
    bp_err_clear(&e);
    ck_assert_int_eq(bp_data_check_shape(d, 5, 10, &e), BP_EDATA);
    ck_assert_str_eq(e.msg, "data/x.h5#/train: X has 4 features but model.layers[0] is 5");
    d->y[17] = 9;
    ck_assert_int_eq(bp_data_check_shape(d, 4, 9, &e), BP_EDATA);
    ck_assert_str_eq(e.msg, "data/x.h5#/train: label 9 at row 17 is out of range for 9 output "
                            "units (last of model.layers)");
    d->y[17] = 2;
    ck_assert_int_eq(bp_data_check_shape(d, 4, 3, &e), BP_EDATA);
    ck_assert_str_eq(e.msg, "data/x.h5#/train: 10 classes but 3 output units (last of "
                            "model.layers)");
    d->k = 3;
    ck_assert_int_eq(bp_data_check_shape(d, 4, 3, &e), 0);
    ck_assert_int_eq(bp_data_check_shape(d, 4, 1, &e), BP_EDATA);
    ck_assert_str_eq(e.msg, "data/x.h5#/train: label 2 at row 2 is not 0 or 1, as a single "
                            "output unit (last of model.layers is 1) needs");
    for (size_t i = 0; i < 20; i++)
        d->y[i] = (int32_t)(i % 2);
    ck_assert_int_eq(bp_data_check_shape(d, 4, 1, &e), 0);
    bp_data_free(d);
    d = bp_data_new("m", 3, 2, BP_TARGET_MATRIX, 3, &e);
    ck_assert_int_eq(bp_data_check_shape(d, 2, 3, &e), 0);
    ck_assert_int_eq(bp_data_check_shape(d, 2, 2, &e), BP_EDATA);
    ck_assert_str_eq(e.msg, "m: Y has 3 columns but the output layer (last of model.layers) "
                            "is 2");
    bp_data_free(d);
}
END_TEST

/* ---- IDX --------------------------------------------------------------------------------- */

/* 3 images of 2 x 2 uint8, labels 2, 0, 5 */
static const unsigned char idx_img[] = {0, 0, 0x08, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2,
                                        0, 51, 102, 255, 1, 2, 3, 4, 10, 20, 30, 40};
static const unsigned char idx_lab[] = {0, 0, 0x08, 1, 0, 0, 0, 3, 2, 0, 5};

START_TEST(idx_plain_and_gz)
{
    write_file("data/img.idx", idx_img, sizeof idx_img);
    write_file("data/lab.idx", idx_lab, sizeof idx_lab);
    write_gz("data/img.idx.gz", idx_img, sizeof idx_img);
    write_gz("data/lab.idx.gz", idx_lab, sizeof idx_lab);
    const char *img[2] = {"data/img.idx", "data/img.idx.gz"};
    const char *lab[2] = {"data/lab.idx", "data/lab.idx.gz"};
    for (int v = 0; v < 2; v++) {
        bp_err e;
        bp_dataset *d = bp_import_idx(img[v], lab[v], 1.0 / 255, &e);
        ck_assert_msg(d != NULL, "%s", e.msg);
        ck_assert_str_eq(d->name, img[v]);
        ck_assert_uint_eq(d->n, 3);
        ck_assert_uint_eq(d->d, 4);
        ck_assert_uint_eq(d->k, 6);
        ck_assert_int_eq(d->kind, BP_TARGET_LABELS);
        ck_assert_float_eq(d->X[0], 0.0f);
        ck_assert_float_eq(d->X[1], (float)(51 / 255.0));
        ck_assert_float_eq(d->X[3], 1.0f);
        ck_assert_float_eq(d->X[11], (float)(40 / 255.0));
        ck_assert_int_eq(d->y[0], 2);
        ck_assert_int_eq(d->y[2], 5);
        bp_data_free(d);
    }
}
END_TEST

START_TEST(idx_other_types)
{
    /* int16 big-endian 2 x 3 (rank 2: D = 3), float32 1-D (D = 1), int8 labels */
    const unsigned char i16[] = {0, 0, 0x0B, 2, 0, 0, 0, 2, 0, 0, 0, 3,
                                 0x01, 0x00, 0xFF, 0xFE, 0x00, 0x05, 0x80, 0x00, 0x7F, 0xFF,
                                 0x00, 0x00};
    const unsigned char f32[] = {0, 0, 0x0D, 1, 0, 0, 0, 2, 0x3F, 0xC0, 0, 0, 0xC1, 0x20, 0, 0};
    const unsigned char lab[] = {0, 0, 0x09, 1, 0, 0, 0, 2, 1, 0};
    write_file("data/i16.idx", i16, sizeof i16);
    write_file("data/f32.idx", f32, sizeof f32);
    write_file("data/lab2.idx", lab, sizeof lab);
    bp_err e;
    bp_dataset *d = bp_import_idx("data/i16.idx", "data/lab2.idx", 2.0, &e);
    ck_assert_msg(d != NULL, "%s", e.msg);
    ck_assert_uint_eq(d->d, 3);
    const float want[6] = {512, -4, 10, -65536, 65534, 0};
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(d->X[i], want[i]);
    ck_assert_uint_eq(d->k, 2);
    bp_data_free(d);
    d = bp_import_idx("data/f32.idx", "data/lab2.idx", 1.0, &e);
    ck_assert_msg(d != NULL, "%s", e.msg);
    ck_assert_uint_eq(d->d, 1);
    ck_assert_float_eq(d->X[0], 1.5f);
    ck_assert_float_eq(d->X[1], -10.0f);
    bp_data_free(d);
}
END_TEST

static void expect_idx_err(const char *img, const char *lab, double scale, int code,
                           const char *msg)
{
    bp_err e;
    bp_err_clear(&e);
    bp_dataset *d = bp_import_idx(img, lab, scale, &e);
    ck_assert_msg(d == NULL, "imported but should fail: %s", msg);
    ck_assert_str_eq(e.msg, msg);
    ck_assert_int_eq(e.code, code);
}

START_TEST(idx_errors)
{
    write_file("data/img.idx", idx_img, sizeof idx_img);
    write_file("data/lab.idx", idx_lab, sizeof idx_lab);
    write_file("data/short.idx", idx_img, sizeof idx_img - 5);
    write_gz("data/short.idx.gz", idx_img, sizeof idx_img - 5);
    expect_idx_err("data/short.idx", "data/lab.idx", 1, BP_EDATA,
                   "data/short.idx: truncated (the header promises 12 uint8 values, the file "
                   "holds 7)");
    expect_idx_err("data/short.idx.gz", "data/lab.idx", 1, BP_EDATA,
                   "data/short.idx.gz: truncated (the header promises 12 uint8 values, the file "
                   "holds 7)");
    write_file("data/hdr.idx", idx_img, 10);
    expect_idx_err("data/hdr.idx", "data/lab.idx", 1, BP_EDATA, "data/hdr.idx: truncated IDX header");
    unsigned char bad[sizeof idx_img];
    memcpy(bad, idx_img, sizeof bad);
    bad[1] = 8;
    write_file("data/magic.idx", bad, sizeof bad);
    expect_idx_err("data/magic.idx", "data/lab.idx", 1, BP_EDATA,
                   "data/magic.idx: not an IDX file (the first bytes are not 00 00 type rank)");
    bad[1] = 0;
    bad[2] = 0x0A;
    write_file("data/type.idx", bad, sizeof bad);
    expect_idx_err("data/type.idx", "data/lab.idx", 1, BP_EDATA,
                   "data/type.idx: unknown IDX element type 0x0A");
    unsigned char longer[sizeof idx_img + 1];
    memcpy(longer, idx_img, sizeof idx_img);
    longer[sizeof idx_img] = 9;
    write_file("data/long.idx", longer, sizeof longer);
    expect_idx_err("data/long.idx", "data/lab.idx", 1, BP_EDATA,
                   "data/long.idx: longer than its header says (data after 12 uint8 values)");
    const unsigned char lab2[] = {0, 0, 0x08, 1, 0, 0, 0, 2, 1, 1};
    write_file("data/lab2.idx", lab2, sizeof lab2);
    expect_idx_err("data/img.idx", "data/lab2.idx", 1, BP_EDATA,
                   "data/lab2.idx: 2 labels, but data/img.idx has 3 images");
    expect_idx_err("data/img.idx", "data/img.idx", 1, BP_EDATA,
                   "data/img.idx: expected a 1-D label file (got rank 3)");
    write_file("data/empty.idx", "", 0);
    expect_idx_err("data/empty.idx", "data/lab.idx", 1, BP_EDATA, "data/empty.idx: empty file");
    expect_idx_err("data/none.idx", "data/lab.idx", 1, BP_EDATA,
                   "data/none.idx: cannot open: No such file or directory");
    expect_idx_err("data/img.idx", "data/lab.idx", 0, BP_EUSAGE,
                   "scale must be a finite nonzero number (got 0)");
    const unsigned char neg[] = {0, 0, 0x09, 1, 0, 0, 0, 3, 1, 0xFF, 0};
    write_file("data/neg.idx", neg, sizeof neg);
    expect_idx_err("data/img.idx", "data/neg.idx", 1, BP_EDATA,
                   "data/neg.idx: label -1 at index 1 is out of range");
    /* a corrupt gzip stream */
    FILE *f = fopen("data/img.idx.gz", "rb");
    if (!f) {
        write_gz("data/img.idx.gz", idx_img, sizeof idx_img);
        f = fopen("data/img.idx.gz", "rb");
    }
    unsigned char gz[256];
    size_t n = fread(gz, 1, sizeof gz, f);
    fclose(f);
    gz[n - 6] ^= 0xFF; /* CRC */
    write_file("data/crc.idx.gz", gz, n);
    bp_err e;
    bp_err_clear(&e);
    ck_assert_ptr_null(bp_import_idx("data/crc.idx.gz", "data/lab.idx", 1, &e));
    ck_assert_int_eq(e.code, BP_EDATA);
    ck_assert_msg(strncmp(e.msg, "data/crc.idx.gz: read error: ", 29) == 0, "%s", e.msg);
}
END_TEST

START_TEST(idx_fashion_mnist)
{
    const char *dir = "/usr/share/datasets/fashion-mnist";
    struct stat st;
    if (stat(dir, &st) != 0) {
        fprintf(stderr, "skip: %s is absent\n", dir);
        return;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bp_err e;
    bp_dataset *d = bp_import_idx("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
                                  "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz",
                                  1.0 / 255, &e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_msg(d != NULL, "%s", e.msg);
    double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    fprintf(stderr, "fashion-mnist train import: %.3f s\n", s);
    ck_assert_msg(s < 5.0, "importing Fashion-MNIST took %.2f s", s);
    ck_assert_uint_eq(d->n, 60000);
    ck_assert_uint_eq(d->d, 784);
    ck_assert_uint_eq(d->k, 10);
    ck_assert_int_eq(d->y[0], 9); /* the first training image is an ankle boot */
    size_t counts[10] = {0};
    float lo = 1, hi = 0;
    for (size_t i = 0; i < d->n; i++)
        counts[d->y[i]]++;
    for (size_t i = 0; i < d->n * d->d; i++) {
        lo = d->X[i] < lo ? d->X[i] : lo;
        hi = d->X[i] > hi ? d->X[i] : hi;
    }
    for (int c = 0; c < 10; c++)
        ck_assert_uint_eq(counts[c], 6000);
    ck_assert_float_eq(lo, 0.0f);
    ck_assert_float_eq(hi, 1.0f);
    bp_data_free(d);
    d = bp_import_idx("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
                      "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz", 1.0, &e);
    ck_assert_msg(d != NULL, "%s", e.msg);
    ck_assert_uint_eq(d->n, 10000);
    ck_assert_uint_eq(d->d, 784);
    bp_data_free(d);
}
END_TEST

/* ---- CSV --------------------------------------------------------------------------------- */

static bp_csv_opts csv_defaults(void)
{
    return (bp_csv_opts){.header = -1, .label_column = -1, .labels_text = -1};
}

static void expect_csv_err(const char *path, const bp_csv_opts *o, int code, const char *msg)
{
    bp_err e;
    bp_err_clear(&e);
    bp_dataset *d = bp_import_csv(path, o, &e);
    ck_assert_msg(d == NULL, "imported but should fail: %s", msg);
    ck_assert_str_eq(e.msg, msg);
    ck_assert_int_eq(e.code, code);
}

START_TEST(csv_iris)
{
    bp_csv_opts o = csv_defaults();
    bp_err e;
    bp_dataset *d = bp_import_csv(BP_TEST_SRCDIR "/data/iris.csv", &o, &e);
    ck_assert_msg(d != NULL, "%s", e.msg);
    ck_assert_uint_eq(d->n, 150);
    ck_assert_uint_eq(d->d, 4);
    ck_assert_uint_eq(d->k, 3);
    ck_assert_str_eq(d->class_names[0], "setosa");
    ck_assert_str_eq(d->class_names[1], "versicolor");
    ck_assert_str_eq(d->class_names[2], "virginica");
    ck_assert_float_eq(d->X[0], 5.1f);
    ck_assert_float_eq(d->X[3], 0.2f);
    ck_assert_int_eq(d->y[0], 0);
    ck_assert_int_eq(d->y[50], 1);
    ck_assert_int_eq(d->y[149], 2);
    ck_assert_float_eq(d->X[149 * 4 + 0], 5.9f);
    double mean[4], sd[4];
    bp_data_moments(d, mean, sd);
    ck_assert_double_eq_tol(mean[0], 5.843333, 1e-6);
    ck_assert_double_eq_tol(mean[2], 3.758, 1e-6);
    bp_data_free(d);
    /* by name, and a write/load round trip keeps the class names */
    o.label_name = "species";
    d = bp_import_csv(BP_TEST_SRCDIR "/data/iris.csv", &o, &e);
    ck_assert_msg(d != NULL, "%s", e.msg);
    ck_assert_int_eq(bp_data_write(d, "data/iris.h5", "iris", 0, &e), 0);
    bp_dataset *r = load_ok("data/iris.h5#/iris");
    ck_assert_uint_eq(r->k, 3);
    ck_assert_str_eq(r->class_names[2], "virginica");
    ck_assert_int_eq(memcmp(r->X, d->X, 600 * sizeof(float)), 0);
    bp_data_free(r);
    bp_data_free(d);
    o.label_name = "Species";
    expect_csv_err(BP_TEST_SRCDIR "/data/iris.csv", &o, BP_EUSAGE,
                   BP_TEST_SRCDIR "/data/iris.csv: no column named 'Species' (columns: "
                   "'sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'species')");
}
END_TEST

START_TEST(csv_formats)
{
    bp_err e;
    bp_csv_opts o = csv_defaults();
    /* no header, numeric labels, semicolons, CRLF, blank lines */
    write_text("data/a.csv", "1.5;2;1\r\n\r\n-3;4e1;0\r\n5;6;3\r\n");
    bp_dataset *d = bp_import_csv("data/a.csv", &o, &e);
    ck_assert_msg(d != NULL, "%s", e.msg);
    ck_assert_uint_eq(d->n, 3);
    ck_assert_uint_eq(d->d, 2);
    ck_assert_uint_eq(d->k, 4);
    ck_assert_ptr_null(d->class_names);
    ck_assert_float_eq(d->X[2], -3.0f);
    ck_assert_float_eq(d->X[3], 40.0f);
    ck_assert_int_eq(d->y[2], 3);
    bp_data_free(d);
    /* label in column 0 (0-based), tabs, quoted fields, header, labels_text forced */
    write_text("data/b.tsv", "\"class\"\tx\ty\n\"b\"\t1\t2\na\t3\t4\n\"b\"\t5\t\"6\"\n");
    o.label_column = 0;
    d = bp_import_csv("data/b.tsv", &o, &e);
    ck_assert_msg(d != NULL, "%s", e.msg);
    ck_assert_uint_eq(d->n, 3);
    ck_assert_uint_eq(d->k, 2);
    ck_assert_str_eq(d->class_names[0], "a");
    ck_assert_int_eq(d->y[0], 1);
    ck_assert_int_eq(d->y[1], 0);
    ck_assert_float_eq(d->X[5], 6.0f);
    bp_data_free(d);
    /* whitespace-separated, gz, integral float labels are numeric */
    const char *ws = "  1 2   3.0\n4\t5 1\n";
    write_gz("data/c.txt.gz", ws, strlen(ws));
    o = csv_defaults();
    d = bp_import_csv("data/c.txt.gz", &o, &e);
    ck_assert_msg(d != NULL, "%s", e.msg);
    ck_assert_uint_eq(d->n, 2);
    ck_assert_uint_eq(d->d, 2);
    ck_assert_uint_eq(d->k, 4);
    ck_assert_int_eq(d->y[0], 3);
    bp_data_free(d);
    /* header forced off: the first row is data */
    write_text("data/d.csv", "1,2,0\n3,4,1\n");
    o.header = 1;
    d = bp_import_csv("data/d.csv", &o, &e);
    ck_assert_uint_eq(d->n, 1);
    bp_data_free(d);
    o.header = 0;
    d = bp_import_csv("data/d.csv", &o, &e);
    ck_assert_uint_eq(d->n, 2);
    bp_data_free(d);
    /* explicit delimiter; matrix targets (label_column -2) */
    write_text("data/e.csv", "1|2|0.5|0.25\n3|4|1|-1\n");
    o = csv_defaults();
    o.delimiter = '|';
    o.label_column = -2;
    o.target_columns = 2;
    d = bp_import_csv("data/e.csv", &o, &e);
    ck_assert_msg(d != NULL, "%s", e.msg);
    ck_assert_int_eq(d->kind, BP_TARGET_MATRIX);
    ck_assert_uint_eq(d->d, 2);
    ck_assert_uint_eq(d->k, 2);
    ck_assert_float_eq(d->Y[1], 0.25f);
    ck_assert_float_eq(d->Y[3], -1.0f);
    ck_assert_float_eq(d->X[2], 3.0f);
    bp_data_free(d);
    /* text labels detected; numbers sort as text when labels_text = 1 */
    write_text("data/f.csv", "1,10\n2,9\n3,10\n");
    o = csv_defaults();
    o.labels_text = 1;
    d = bp_import_csv("data/f.csv", &o, &e);
    ck_assert_str_eq(d->class_names[0], "10");
    ck_assert_int_eq(d->y[1], 1);
    bp_data_free(d);
}
END_TEST

START_TEST(csv_errors)
{
    bp_csv_opts o = csv_defaults();
    write_text("data/bad.csv", "a,b,c,label\n1,2,3,x\n4,5,abc,y\n");
    expect_csv_err("data/bad.csv", &o, BP_EDATA, "data/bad.csv:3: column 3: not a number ('abc')");
    write_text("data/inf.csv", "1,inf,0\n");
    expect_csv_err("data/inf.csv", &o, BP_EDATA,
                   "data/inf.csv:1: column 2: not a finite number ('inf')");
    write_text("data/huge.csv", "1,1e39,0\n");
    expect_csv_err("data/huge.csv", &o, BP_EDATA,
                   "data/huge.csv:1: column 2: does not fit in float32 ('1e39')");
    write_text("data/emptyf.csv", "1,,0\n");
    expect_csv_err("data/emptyf.csv", &o, BP_EDATA, "data/emptyf.csv:1: column 2: empty field");
    write_text("data/ragged.csv", "1,2,0\n\n3,4\n");
    expect_csv_err("data/ragged.csv", &o, BP_EDATA,
                   "data/ragged.csv:3: 2 fields, but the first row has 3");
    write_text("data/ragged2.csv", "1,2,0\n3,4,5,6\n");
    expect_csv_err("data/ragged2.csv", &o, BP_EDATA,
                   "data/ragged2.csv:2: 4 fields, but the first row has 3");
    write_text("data/empty.csv", "\n  \n");
    expect_csv_err("data/empty.csv", &o, BP_EDATA, "data/empty.csv: empty file");
    write_text("data/hdronly.csv", "a,b,label\n");
    expect_csv_err("data/hdronly.csv", &o, BP_EDATA, "data/hdronly.csv: no data rows");
    write_text("data/quote.csv", "1,\"2,0\n");
    expect_csv_err("data/quote.csv", &o, BP_EDATA,
                   "data/quote.csv:1: unterminated quote (quoted fields cannot span lines)");
    write_text("data/quote2.csv", "1,\"2\"x,0\n");
    expect_csv_err("data/quote2.csv", &o, BP_EDATA,
                   "data/quote2.csv:1: unexpected text after a closing quote");
    write_text("data/one.csv", "1\n2\n");
    expect_csv_err("data/one.csv", &o, BP_EDATA,
                   "data/one.csv: needs at least 2 columns (features and a label), has 1");
    write_text("data/lab.csv", "1,2,0\n3,4,cat\n");
    o.labels_text = 0;
    expect_csv_err("data/lab.csv", &o, BP_EDATA,
                   "data/lab.csv:2: column 3: label 'cat' is not a non-negative integer");
    o = csv_defaults();
    o.label_column = 3;
    expect_csv_err("data/lab.csv", &o, BP_EUSAGE,
                   "data/lab.csv: label column 4 does not exist (the file has 3 columns)");
    o.label_column = -3;
    expect_csv_err("data/lab.csv", &o, BP_EUSAGE, "label column must be >= -2 (got -3)");
    o = csv_defaults();
    o.header = 0;
    o.label_name = "x";
    expect_csv_err("data/lab.csv", &o, BP_EUSAGE,
                   "data/lab.csv: label column 'x' needs a header row (header is off)");
    o = csv_defaults();
    o.label_column = -2;
    expect_csv_err("data/lab.csv", &o, BP_EUSAGE,
                   "data/lab.csv: 0 target columns, but the file has 3 columns (needs at least "
                   "one target and one feature)");
    expect_csv_err("data/nope.csv", &o, BP_EDATA, "data/nope.csv: cannot open: No such file or "
                   "directory");
    write_file("data/nul.csv", "1,2\0,3\n", 7);
    expect_csv_err("data/nul.csv", &o, BP_EDATA, "data/nul.csv: contains NUL bytes (not a text "
                   "file)");
}
END_TEST

/* ---- generators -------------------------------------------------------------------------- */

static bp_dataset *gen_ok(const char *spec)
{
    bp_err e;
    bp_dataset *d = bp_data_generate(spec, &e);
    ck_assert_msg(d != NULL, "%s: %s", spec, e.msg);
    return d;
}

static void expect_gen_err(const char *spec, const char *msg)
{
    bp_err e;
    bp_err_clear(&e);
    ck_assert_ptr_null(bp_data_generate(spec, &e));
    ck_assert_str_eq(e.msg, msg);
    ck_assert_int_eq(e.code, BP_EDATA);
}

START_TEST(gen_xor_parity_encoder)
{
    bp_dataset *d = gen_ok("builtin:xor");
    const float x[8] = {0, 0, 0, 1, 1, 0, 1, 1}, y[4] = {0, 1, 1, 0};
    ck_assert_int_eq(d->kind, BP_TARGET_MATRIX);
    ck_assert_uint_eq(d->k, 1);
    ck_assert_int_eq(memcmp(d->X, x, sizeof x), 0);
    ck_assert_int_eq(memcmp(d->Y, y, sizeof y), 0);
    bp_data_free(d);
    d = gen_ok("parity:3");
    ck_assert_str_eq(d->name, "builtin:parity:3");
    ck_assert_uint_eq(d->n, 8);
    ck_assert_uint_eq(d->d, 3);
    /* row 6 = 110 */
    ck_assert_float_eq(d->X[18], 1.0f);
    ck_assert_float_eq(d->X[19], 1.0f);
    ck_assert_float_eq(d->X[20], 0.0f);
    ck_assert_float_eq(d->Y[6], 0.0f);
    ck_assert_float_eq(d->Y[7], 1.0f);
    bp_data_free(d);
    d = gen_ok("builtin:parity:10");
    ck_assert_uint_eq(d->n, 1024);
    size_t odd = 0;
    for (size_t i = 0; i < d->n; i++)
        odd += d->Y[i] == 1.0f;
    ck_assert_uint_eq(odd, 512);
    bp_data_free(d);
    d = gen_ok("builtin:encoder:4");
    ck_assert_uint_eq(d->n, 4);
    ck_assert_uint_eq(d->d, 4);
    ck_assert_uint_eq(d->k, 4);
    for (size_t i = 0; i < 16; i++) {
        ck_assert_float_eq(d->X[i], i % 5 == 0 ? 1.0f : 0.0f);
        ck_assert_float_eq(d->Y[i], d->X[i]);
    }
    bp_data_free(d);
}
END_TEST

START_TEST(gen_spirals)
{
    bp_dataset *d = gen_ok("builtin:spirals");
    ck_assert_uint_eq(d->n, 194);
    ck_assert_uint_eq(d->d, 2);
    ck_assert_uint_eq(d->k, 1);
    ck_assert_float_eq(d->X[0], 0.0f);
    ck_assert_float_eq(d->X[1], 6.5f);
    ck_assert_float_eq(d->Y[0], 1.0f);
    ck_assert_float_eq(d->X[3], -6.5f);
    ck_assert_float_eq(d->Y[1], 0.0f);
    double r = 6.5 * 103 / 104, a = 3.14159265358979323846 / 16;
    ck_assert_float_eq_tol(d->X[4], (float)(r * sin(a)), 1e-6);
    ck_assert_float_eq_tol(d->X[5], (float)(r * cos(a)), 1e-6);
    ck_assert_float_eq_tol(d->X[6], (float)(-r * sin(a)), 1e-6);
    /* the last point: i = 96, radius 0.5, angle 6 pi */
    ck_assert_float_eq_tol(d->X[192 * 2], 0.0f, 1e-6);
    ck_assert_float_eq_tol(d->X[192 * 2 + 1], 0.5f, 1e-6);
    size_t ones = 0;
    for (size_t i = 0; i < 194; i++)
        ones += d->Y[i] == 1.0f;
    ck_assert_uint_eq(ones, 97);
    bp_data_free(d);
}
END_TEST

START_TEST(gen_errors)
{
    const char *valid = "(valid: builtin:xor, builtin:parity:N (N in 1..20), builtin:encoder:N (N "
                        "in 2..1024), builtin:spirals)";
    char want[512];
    snprintf(want, sizeof want, "builtin:parity: needs an integer argument N in 1..20 %s", valid);
    expect_gen_err("builtin:parity", want);
    expect_gen_err("builtin:parity:21", "builtin:parity:21: N must be an integer in 1..20 (got "
                                        "'21')");
    expect_gen_err("builtin:parity:0", "builtin:parity:0: N must be an integer in 1..20 (got '0')");
    expect_gen_err("builtin:encoder:x", "builtin:encoder:x: N must be an integer in 2..1024 (got "
                                        "'x')");
    expect_gen_err("builtin:encoder:1", "builtin:encoder:1: N must be an integer in 2..1024 (got "
                                        "'1')");
    expect_gen_err("builtin:parity:+3", "builtin:parity:+3: N must be an integer in 1..20 (got "
                                        "'+3')");
    snprintf(want, sizeof want, "builtin:xor:2: takes no argument %s", valid);
    expect_gen_err("builtin:xor:2", want);
    snprintf(want, sizeof want, "builtin:spiral: unknown generator %s", valid);
    expect_gen_err("builtin:spiral", want);
    snprintf(want, sizeof want, "builtin:xorx: unknown generator %s", valid);
    expect_gen_err("builtin:xorx", want);
}
END_TEST

START_TEST(data_new_overflow)
{
    bp_err e;
    bp_err_clear(&e);
    ck_assert_ptr_null(bp_data_new("big", SIZE_MAX / 2, 3, BP_TARGET_LABELS, 2, &e));
    ck_assert_int_eq(e.code, BP_ENOMEM);
    bp_data_free(NULL);
}
END_TEST

/* ---- runner ------------------------------------------------------------------------------ */

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

int main(void)
{
    if (!mkdtemp(tmpdir) || chdir(tmpdir) != 0 || mkdir("data", 0700) != 0) {
        perror("check_data: temp dir");
        return 99;
    }
    Suite *s = suite_create("data");
    TCase *t = tcase_create("load");
    tcase_add_checked_fixture(t, make_error_file, NULL);
    tcase_add_test(t, load_float32_labels);
    tcase_add_test(t, load_float64_matrix_and_root);
    tcase_add_test(t, load_file_errors);
    tcase_add_test(t, load_group_errors);
    tcase_add_test(t, load_shape_errors);
    tcase_add_test(t, load_value_errors);
    tcase_add_test(t, load_n_classes_attribute);
    tcase_add_test(t, load_truncated_and_corrupt);
    tcase_add_test(t, load_builtin_ref);
    suite_add_tcase(s, t);
    t = tcase_create("write");
    tcase_add_test(t, write_roundtrip_labels);
    tcase_add_test(t, write_roundtrip_matrix_root_and_chunked);
    tcase_add_test(t, write_errors);
    suite_add_tcase(s, t);
    t = tcase_create("transform");
    tcase_add_test(t, split_sizes_order_determinism);
    tcase_add_test(t, split_matrix_keeps_targets_and_names);
    tcase_add_test(t, moments_and_standardize);
    tcase_add_test(t, check_shape_messages);
    tcase_add_test(t, data_new_overflow);
    suite_add_tcase(s, t);
    t = tcase_create("import");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, idx_plain_and_gz);
    tcase_add_test(t, idx_other_types);
    tcase_add_test(t, idx_errors);
    tcase_add_test(t, idx_fashion_mnist);
    tcase_add_test(t, csv_iris);
    tcase_add_test(t, csv_formats);
    tcase_add_test(t, csv_errors);
    suite_add_tcase(s, t);
    t = tcase_create("generate");
    tcase_add_test(t, gen_xor_parity_encoder);
    tcase_add_test(t, gen_spirals);
    tcase_add_test(t, gen_errors);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (chdir("/") == 0)
        nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return failed ? 1 : 0;
}
