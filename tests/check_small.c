/* check_small: the small-shape products (src/small.h) give exactly the bits of kernels.h, with
 * 1 and 2 kernel threads, on every shape up to 9 x 9 x 19 (k from 0) (k on both sides of 8 and 16), with
 * strided (ld > width) operands, alpha 1 and 1/nb, and signed zeros (colsum likewise); and the
 * size rule. */
#include "autoconf.h"
#include "small.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

static void rnd(float *p, size_t n, unsigned *s)
{
    for (size_t i = 0; i < n; i++) {
        *s = *s * 1103515245u + 12345u;
        unsigned r = *s >> 8;
        /* every 16th value a zero of either sign; the rest in [-1, 1) with 16 bits */
        p[i] = (r & 15) == 0 ? ((r & 16) ? -0.0f : 0.0f)
                             : (float)((r >> 5) & 0xffff) / 32768.0f - 1.0f;
    }
}

#define LD_PAD 3
#define MAXD 24

static void same(const float *a, const float *b, size_t n, const char *what, size_t m,
                 size_t nn, size_t k)
{
    ck_assert_msg(memcmp(a, b, n * sizeof *a) == 0, "%s differs from kernels.h at %zu x %zu x %zu",
                  what, m, nn, k);
}

START_TEST(same_bits_as_kernels)
{
    static float A[MAXD * (MAXD + LD_PAD)], B[MAXD * (MAXD + LD_PAD)], bias[MAXD];
    static float C1[MAXD * (MAXD + LD_PAD)], C2[MAXD * (MAXD + LD_PAD)];
    unsigned s = 7;
    size_t shapes = 0;
    for (size_t m = 1; m <= 9; m++)
        for (size_t n = 1; n <= 9; n++)
            for (size_t k = 0; k <= 19; k++)
                for (int th = 1; th <= 2; th++) {
                    size_t lda = k + LD_PAD, ldb = k + LD_PAD, ldc = n + LD_PAD;
                    rnd(A, sizeof A / sizeof *A, &s);
                    rnd(B, sizeof B / sizeof *B, &s);
                    rnd(bias, MAXD, &s);
                    /* nt: A m x k, B n x k */
                    memset(C1, 0, sizeof C1);
                    memset(C2, 0, sizeof C2);
                    bp_gemm_nt(m, n, k, A, lda, B, ldb, (k & 1) ? bias : NULL, C1, ldc, th);
                    bp_small_gemm_nt(m, n, k, A, lda, B, ldb, (k & 1) ? bias : NULL, C2, ldc);
                    same(C1, C2, sizeof C1 / sizeof *C1, "nt", m, n, k);
                    /* tn: A k x m (lda >= m), B k x n */
                    float alpha = (k & 1) ? 1.0f : k ? 1.0f / (float)k : 0.5f;
                    size_t lda2 = m + LD_PAD, ldb2 = n + LD_PAD;
                    memset(C1, 0, sizeof C1);
                    memset(C2, 0, sizeof C2);
                    bp_gemm_tn(m, n, k, alpha, A, lda2, B, ldb2, C1, ldc, th);
                    bp_small_gemm_tn(m, n, k, alpha, A, lda2, B, ldb2, C2, ldc);
                    same(C1, C2, sizeof C1 / sizeof *C1, "tn", m, n, k);
                    /* nn: A m x k, B k x n */
                    memset(C1, 0, sizeof C1);
                    memset(C2, 0, sizeof C2);
                    bp_gemm_nn(m, n, k, A, lda, B, ldb2, C1, ldc, th);
                    bp_small_gemm_nn(m, n, k, A, lda, B, ldb2, C2, ldc);
                    same(C1, C2, sizeof C1 / sizeof *C1, "nn", m, n, k);
                    /* colsum: A m x n */
                    memset(C1, 0, sizeof C1);
                    memset(C2, 0, sizeof C2);
                    bp_colsum(m, n, alpha, A, lda, C1);
                    bp_small_colsum(m, n, alpha, A, lda, C2);
                    same(C1, C2, sizeof C1 / sizeof *C1, "colsum", m, n, k);
                    shapes++;
                }
    ck_assert_uint_eq(shapes, 9 * 9 * 20 * 2);
}
END_TEST

/* A product whose sum is -0 + -0: kernels.h starts every sum from +0, so the result is +0. */
START_TEST(signed_zero)
{
    float a[2] = { -0.0f, 1.0f }, b[2] = { 1.0f, -0.0f }, c = 1.0f;
    bp_small_gemm_nt(1, 1, 2, a, 2, b, 2, NULL, &c, 1);
    ck_assert(c == 0.0f && !signbit(c));
    float d = 1.0f;
    bp_small_gemm_tn(1, 1, 1, 1.0f, a, 1, b, 1, &d, 1);
    ck_assert(d == 0.0f && !signbit(d));
}
END_TEST

START_TEST(size_rule)
{
    ck_assert(bp_small_use(1, 2, 2));
    ck_assert(bp_small_use(1, 128, 16));
    ck_assert(!bp_small_use(1, 128, 17));
    ck_assert(!bp_small_use(32, 128, 64));
}
END_TEST

int main(void)
{
    Suite *su = suite_create("small");
    TCase *tc = tcase_create("small");
    tcase_add_test(tc, same_bits_as_kernels);
    tcase_add_test(tc, signed_zero);
    tcase_add_test(tc, size_rule);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
