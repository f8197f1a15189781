/* check_kernels: every builtin kernel level (BPRUN_KERNEL_LEVEL 0 portable, 1 x86-64-v3,
 * 2 x86-64-v4, as far as the CPU has them) and thread count gives exactly the bits of a plain
 * reference loop doing the documented operations per element, on shapes that hit full and
 * edge tiles. The CBLAS path (BPRUN_KERNELS=blas, in a --with-blas build): bit-identical
 * across 1-4 threads, a row's bits independent of the number of rows (evaluation batching),
 * and within 1e-5 (1 + k) of a double-precision reference, as the builtin path is. */
#include "autoconf.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

static float *rnd(size_t n, unsigned *s)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++) {
        *s = *s * 1103515245u + 12345u;
        p[i] = (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    return p;
}

/* C = A B^T + bias: 8 lane sums over p < k8, lanes added ((0+4)+(2+6)) + ((1+5)+(3+7)),
 * then the tail, then the bias */
static void ref_nt(size_t m, size_t n, size_t k, const float *A, const float *B,
                   const float *bias, float *C)
{
    size_t k8 = k & ~(size_t)7;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float l[8] = { 0 };
            for (size_t p = 0; p < k8; p++) {
                float t = A[i * k + p] * B[j * k + p];
                l[p % 8] = l[p % 8] + t;
            }
            float s = ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
            for (size_t p = k8; p < k; p++) {
                float t = A[i * k + p] * B[j * k + p];
                s = s + t;
            }
            if (bias)
                s = s + bias[j];
            C[i * n + j] = s;
        }
}

/* C[i][j] = alpha * sum_p a(i,p) B[p][j], p ascending */
static void ref_ax(size_t m, size_t n, size_t k, float alpha, const float *A, size_t sa_i,
                   size_t sa_p, const float *B, float *C)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float s = 0.0f;
            for (size_t p = 0; p < k; p++) {
                float t = A[p * sa_p + i * sa_i] * B[p * n + j];
                s = s + t;
            }
            C[i * n + j] = alpha * s;
        }
}

static const size_t shapes[][3] = { { 1, 1, 1 },    { 3, 5, 7 },     { 13, 10, 128 },
                                    { 64, 256, 784 }, { 37, 70, 45 },  { 6, 32, 9 },
                                    { 7, 33, 64 },  { 256, 128, 256 }, { 32, 10, 128 } };

START_TEST(levels_match_reference)
{
    const size_t *sh = shapes[_i];
    size_t m = sh[0], n = sh[1], k = sh[2];
    unsigned seed = 7u + (unsigned)_i;
    float *A = rnd(m * k, &seed), *B = rnd(n * k, &seed), *bias = rnd(n, &seed);
    float *At = rnd(k * m, &seed), *Bkn = rnd(k * n, &seed);
    float *ref = malloc(m * n * sizeof *ref), *got = malloc(m * n * sizeof *got);
    ck_assert(ref && got);
    static const char *levels[] = { "0", "1", "2" };
    setenv("BPRUN_KERNELS", "builtin", 1);
    for (int what = 0; what < 4; what++) {
        if (what == 0)
            ref_nt(m, n, k, A, B, bias, ref);
        else if (what == 1)
            ref_nt(m, n, k, A, B, NULL, ref);
        else if (what == 2)
            ref_ax(m, n, k, 0.37f, At, 1, m, Bkn, ref); /* TN: A is k x m */
        else
            ref_ax(m, n, k, 1.0f, A, k, 1, Bkn, ref);   /* NN: A is m x k */
        for (int l = 0; l < 3; l++)
            for (int th = 1; th <= 3; th++) {
                setenv("BPRUN_KERNEL_LEVEL", levels[l], 1);
                memset(got, 0xff, m * n * sizeof *got);
                if (what == 0)
                    bp_gemm_nt(m, n, k, A, k, B, k, bias, got, n, th);
                else if (what == 1)
                    bp_gemm_nt(m, n, k, A, k, B, k, NULL, got, n, th);
                else if (what == 2)
                    bp_gemm_tn(m, n, k, 0.37f, At, m, Bkn, n, got, n, th);
                else
                    bp_gemm_nn(m, n, k, A, k, Bkn, n, got, n, th);
                ck_assert_msg(!memcmp(ref, got, m * n * sizeof *got),
                              "kernel %d, %zux%zux%zu, level %s, %d threads: bits differ", what,
                              m, n, k, levels[l], th);
            }
    }
    unsetenv("BPRUN_KERNEL_LEVEL");
    unsetenv("BPRUN_KERNELS");
    free(A);
    free(B);
    free(bias);
    free(At);
    free(Bkn);
    free(ref);
    free(got);
}
END_TEST

/* the three products on operands of shape m x n x k with the selected path; out: nt+bias,
 * tn, nn, each m x n */
static void products(size_t m, size_t n, size_t k, const float *A, const float *B,
                     const float *bias, const float *At, const float *Bkn, float *out, int th)
{
    bp_gemm_nt(m, n, k, A, k, B, k, bias, out, n, th);
    bp_gemm_tn(m, n, k, 0.37f, At, m, Bkn, n, out + m * n, n, th);
    bp_gemm_nn(m, n, k, A, k, Bkn, n, out + 2 * m * n, n, th);
}

static const size_t blas_shapes[][3] = { { 1, 1, 1 },     { 3, 5, 7 },       { 64, 256, 784 },
                                         { 37, 70, 45 },  { 130, 200, 300 }, { 256, 10, 128 },
                                         { 10, 128, 256 }, { 65, 129, 63 } };

START_TEST(blas_path)
{
    const size_t *sh = blas_shapes[_i];
    size_t m = sh[0], n = sh[1], k = sh[2];
    unsigned seed = 11u + (unsigned)_i;
    float *A = rnd(m * k, &seed), *B = rnd(n * k, &seed), *bias = rnd(n, &seed);
    float *At = rnd(k * m, &seed), *Bkn = rnd(k * n, &seed);
    float *one = malloc(3 * m * n * sizeof *one), *got = malloc(3 * m * n * sizeof *got);
    float *row = malloc(n * sizeof *row);
    ck_assert(one && got && row);
    ck_assert_int_eq(setenv("BPRUN_KERNELS", "blas", 1), 0);
    bp_err e = { 0 };
    ck_assert_int_eq(bp_kernels_check(&e), 0);
    ck_assert_str_eq(e.msg, "");
#ifdef BP_HAVE_CBLAS
    ck_assert(strncmp(bp_kernels_name(), "blas: ", 6) == 0);
#endif
    products(m, n, k, A, B, bias, At, Bkn, one, 1);
    for (int th = 2; th <= 4; th++) {
        memset(got, 0xff, 3 * m * n * sizeof *got);
        products(m, n, k, A, B, bias, At, Bkn, got, th);
        ck_assert_msg(!memcmp(one, got, 3 * m * n * sizeof *got),
                      "%zux%zux%zu: %d threads differ from 1", m, n, k, th);
    }
    /* a row computed alone (a batch of one) has the bits it has inside the full batch */
    for (size_t i = 0; i < m; i += 1 + m / 5) {
        bp_gemm_nt(1, n, k, A + i * k, k, B, k, bias, row, n, 2);
        ck_assert_msg(!memcmp(row, one + i * n, n * sizeof *row), "nt row %zu alone differs", i);
        bp_gemm_nn(1, n, k, A + i * k, k, Bkn, n, row, n, 2);
        ck_assert_msg(!memcmp(row, one + 2 * m * n + i * n, n * sizeof *row),
                      "nn row %zu alone differs", i);
    }
    /* the builtin path on the same problem: within 1e-5 (1 + k) of the CBLAS path */
    ck_assert_int_eq(setenv("BPRUN_KERNELS", "builtin", 1), 0);
    products(m, n, k, A, B, bias, At, Bkn, got, 2);
    ck_assert_int_eq(setenv("BPRUN_KERNELS", "blas", 1), 0);
    for (size_t i = 0; i < 3 * m * n; i++)
        ck_assert_msg(fabsf(got[i] - one[i]) <= 1e-5f * (float)(1 + k),
                      "builtin and blas differ at %zu: %g vs %g", i, got[i], one[i]);
    /* against double precision (the builtin path meets the same bound: check_core) */
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double nt = bias[j], tn = 0.0, nn = 0.0;
            for (size_t p = 0; p < k; p++) {
                nt += (double)A[i * k + p] * B[j * k + p];
                tn += (double)At[p * m + i] * Bkn[p * n + j];
                nn += (double)A[i * k + p] * Bkn[p * n + j];
            }
            double tol = 1e-5 * (double)(1 + k);
            ck_assert_msg(fabs(one[i * n + j] - nt) <= tol, "nt %zu,%zu", i, j);
            ck_assert_msg(fabs(one[m * n + i * n + j] - 0.37 * tn) <= tol, "tn %zu,%zu", i, j);
            ck_assert_msg(fabs(one[2 * m * n + i * n + j] - nn) <= tol, "nn %zu,%zu", i, j);
        }
    unsetenv("BPRUN_KERNELS");
    free(A);
    free(B);
    free(bias);
    free(At);
    free(Bkn);
    free(one);
    free(got);
    free(row);
}
END_TEST

START_TEST(kernels_env_checked)
{
    bp_err e = { 0 };
    ck_assert_int_eq(setenv("BPRUN_KERNELS", "fast", 1), 0);
    ck_assert_int_eq(bp_kernels_check(&e), BP_EUSAGE);
    ck_assert_str_eq(e.msg, "BPRUN_KERNELS: expected 'builtin' or 'blas' (got 'fast')");
    ck_assert_int_eq(setenv("BPRUN_KERNELS", "builtin", 1), 0);
    bp_err ok = { 0 };
    ck_assert_int_eq(bp_kernels_check(&ok), 0);
    ck_assert_str_eq(bp_kernels_name(), "builtin");
    unsetenv("BPRUN_KERNELS");
#ifdef BP_HAVE_CBLAS
    ck_assert(strncmp(bp_kernels_name(), "blas: ", 6) == 0);
#else
    ck_assert_str_eq(bp_kernels_name(), "builtin");
    ck_assert_int_eq(setenv("BPRUN_KERNELS", "blas", 1), 0);
    ck_assert_int_eq(bp_kernels_check(&e), BP_EUSAGE);
    ck_assert_str_eq(e.msg, "BPRUN_KERNELS=blas: this bprun was built without BLAS (configure "
                            "--with-blas; Debian: apt-get install libopenblas-dev)");
    unsetenv("BPRUN_KERNELS");
#endif
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("levels");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, levels_match_reference, 0, (int)(sizeof shapes / sizeof shapes[0]));
    suite_add_tcase(s, tc);
    TCase *tb = tcase_create("blas");
    tcase_set_timeout(tb, 120);
    tcase_add_test(tb, kernels_env_checked);
#ifdef BP_HAVE_CBLAS
    tcase_add_loop_test(tb, blas_path, 0, (int)(sizeof blas_shapes / sizeof blas_shapes[0]));
#endif
    suite_add_tcase(s, tb);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
