/* Curvature (diag.h); activations run in float, so the loss and gradient agree with closed
 * forms to 1e-6 relative. Lanczos and Hutchinson on operators with known spectra, and on linear
 * regression with mse, whose Hessian is exactly X~^T X~ / n (X~ = [X, 1]). */
#include "autoconf.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "hvp.h"
#include "model.h"
#include "plugin.h"
#include "rng.h"

typedef struct dense {
    size_t n;
    const double *A;
} dense;

static int apply_dense(void *ud, const double *x, double *y, bp_err *e)
{
    (void)e;
    const dense *d = ud;
    for (size_t i = 0; i < d->n; i++) {
        double s = 0;
        for (size_t j = 0; j < d->n; j++)
            s += d->A[i * d->n + j] * x[j];
        y[i] = s;
    }
    return 0;
}

/* eigenvalues of a symmetric matrix by cyclic Jacobi rotations, ascending */
static void jacobi(double *A, size_t n, double *ev)
{
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0;
        for (size_t p = 0; p < n; p++)
            for (size_t q = p + 1; q < n; q++)
                off += A[p * n + q] * A[p * n + q];
        if (off < 1e-30)
            break;
        for (size_t p = 0; p < n; p++)
            for (size_t q = p + 1; q < n; q++) {
                double apq = A[p * n + q];
                if (fabs(apq) < 1e-300)
                    continue;
                double th = (A[q * n + q] - A[p * n + p]) / (2 * apq);
                double t = (th >= 0 ? 1 : -1) / (fabs(th) + sqrt(th * th + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (size_t k = 0; k < n; k++) {
                    double akp = A[k * n + p], akq = A[k * n + q];
                    A[k * n + p] = c * akp - s * akq;
                    A[k * n + q] = s * akp + c * akq;
                }
                for (size_t k = 0; k < n; k++) {
                    double apk = A[p * n + k], aqk = A[q * n + k];
                    A[p * n + k] = c * apk - s * aqk;
                    A[q * n + k] = s * apk + c * aqk;
                }
            }
    }
    for (size_t i = 0; i < n; i++)
        ev[i] = A[i * n + i];
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (ev[j] < ev[i]) {
                double t = ev[i];
                ev[i] = ev[j];
                ev[j] = t;
            }
}

START_TEST(diagonal_spectrum)
{
    size_t n = 100;
    double *A = calloc(n * n, sizeof *A), tr = 0;
    for (size_t i = 0; i < n; i++) {
        A[i * n + i] = i == 0 ? -2.0 : i == n - 1 ? 10.0 : (double)i / 100.0;
        tr += A[i * n + i];
    }
    dense d = { n, A };
    bp_err e;
    double lo, hi, t, se;
    int k;
    double ritz[30];
    ck_assert_int_eq(bp_lanczos(apply_dense, &d, n, 30, 1, 0, 0, &lo, &hi, ritz, &k, &e), 0);
    ck_assert_int_eq(k, 30);
    ck_assert_double_eq_tol(lo, -2.0, 1e-9);
    ck_assert_double_eq_tol(hi, 10.0, 1e-9);
    ck_assert_double_eq(ritz[0], lo);
    ck_assert_double_eq(ritz[29], hi);
    /* Rademacher probes give a diagonal matrix's trace exactly */
    ck_assert_int_eq(bp_hutchinson(apply_dense, &d, n, 5, 1, 0, 0, &t, &se, &e), 0);
    ck_assert_double_eq_tol(t, tr, 1e-9);
    ck_assert_double_eq_tol(se, 0, 1e-9);
    free(A);
}
END_TEST

START_TEST(full_lanczos_random_matrix)
{
    size_t n = 12;
    double A[144], B[144], ev[12], ritz[12];
    bp_rng r = bp_rng_stream(3, 0, BP_RNG_DIAG, 9);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++)
            A[i * n + j] = A[j * n + i] = bp_rng_normal(&r);
    memcpy(B, A, sizeof A);
    jacobi(B, n, ev);
    dense d = { n, A };
    bp_err e;
    double lo, hi;
    int k;
    ck_assert_int_eq(bp_lanczos(apply_dense, &d, n, 40, 2, 0, 0, &lo, &hi, ritz, &k, &e), 0);
    ck_assert_int_eq(k, (int)n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(ritz[i] - ev[i]) <= 1e-9, "eig %zu: lanczos %.12g, jacobi %.12g", i,
                      ritz[i], ev[i]);
}
END_TEST

START_TEST(linear_regression)
{
    bp_err e;
    bp_registry *reg = bp_registry_new(NULL, 0, &e);
    ck_assert_ptr_nonnull(reg);
    const bp_loaded *p = bp_registry_get(reg, "identity", BP_ACTIVATION, &e);
    ck_assert_ptr_nonnull(p);
    int sizes[] = { 5, 1 };
    bp_model *m = bp_model_new(sizes, 2, &e);
    bp_model_init(m, BP_INIT_UNIFORM, 0.5, 1, 4, 0);
    m->act[0].name = "identity";
    m->act[0].fn = p->desc->u.activation;
    m->loss = BP_LOSS_MSE;
    size_t n = 40, np = 6;
    float X[200], Y[40];
    bp_rng r = bp_rng_stream(8, 0, BP_RNG_INIT, 0);
    for (size_t i = 0; i < 200; i++)
        X[i] = (float)(bp_rng_normal(&r) * (1.0 + (double)(i % 5)));
    for (size_t i = 0; i < n; i++)
        Y[i] = (float)bp_rng_normal(&r);
    bp_dataset d = { .n = n, .d = 5, .X = X, .k = 1, .kind = BP_TARGET_MATRIX, .Y = Y };
    double H[36] = { 0 }, ev[6], tr = 0;
    for (size_t s = 0; s < n; s++)
        for (size_t i = 0; i < np; i++)
            for (size_t j = 0; j < np; j++)
                H[i * np + j] += (i < 5 ? X[s * 5 + i] : 1.0) * (j < 5 ? X[s * 5 + j] : 1.0) / n;
    for (size_t i = 0; i < np; i++)
        tr += H[i * np + i];
    jacobi(H, np, ev);
    bp_hvp *h = bp_hvp_new(m, 16, &e);
    ck_assert_ptr_nonnull(h);
    bp_curvature c, c2;
    ck_assert_int_eq(bp_curvature_measure(h, &d, 20, 4000, 11, 3, 0, &c, &e), 0);
    ck_assert_msg(fabs(c.lambda_max - ev[5]) <= 1e-9 * ev[5], "%.12g vs %.12g", c.lambda_max, ev[5]);
    ck_assert_msg(fabs(c.lambda_min - ev[0]) <= 1e-9 * ev[5], "%.12g vs %.12g", c.lambda_min, ev[0]);
    ck_assert_msg(fabs(c.trace - tr) <= 4 * c.trace_se && c.trace_se < 0.05 * tr,
                  "trace %.6g +- %.3g, exact %.6g", c.trace, c.trace_se, tr);
    /* the same key gives the same numbers; another trial other probes */
    ck_assert_int_eq(bp_curvature_measure(h, &d, 20, 4000, 11, 3, 0, &c2, &e), 0);
    ck_assert_double_eq(c.trace, c2.trace);
    ck_assert_int_eq(bp_curvature_measure(h, &d, 20, 4000, 11, 4, 0, &c2, &e), 0);
    ck_assert_double_ne(c.trace, c2.trace);
    /* gradient norm and loss: residual-based closed form */
    double g[6] = { 0 }, loss = 0;
    for (size_t s = 0; s < n; s++) {
        double o = m->params[5];
        for (size_t i = 0; i < 5; i++)
            o += (double)m->params[i] * X[s * 5 + i];
        double res = o - Y[s];
        loss += 0.5 * res * res / n;
        for (size_t i = 0; i < np; i++)
            g[i] += res * (i < 5 ? X[s * 5 + i] : 1.0) / n;
    }
    double gn = 0;
    for (size_t i = 0; i < np; i++)
        gn += g[i] * g[i];
    ck_assert_double_eq_tol(c.grad_norm, sqrt(gn), 1e-6 * (1 + sqrt(gn)));
    ck_assert_double_eq_tol(c.loss, loss, 1e-6 * (1 + loss));
    printf("linear regression: lambda %.6g .. %.6g (exact %.6g .. %.6g), trace %.5g +- %.2g "
           "(exact %.5g)\n", c.lambda_min, c.lambda_max, ev[0], ev[5], c.trace, c.trace_se, tr);
    bp_hvp_free(h);
    bp_model_free(m);
    bp_registry_free(reg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("diag");
    TCase *tc = tcase_create("curvature");
    tcase_add_test(tc, diagonal_spectrum);
    tcase_add_test(tc, full_lanczos_random_matrix);
    tcase_add_test(tc, linear_regression);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
