/* Hessian-vector products (hvp.h) against finite differences of gradients, for hidden
 * activations x losses (mse with the same output activation, softmax cross-entropy, sigmoid
 * BCE); against the full finite-difference Hessian of tiny networks (and its symmetry); the
 * float interface; a plugin without `second`; the cost of Hv relative to one gradient.
 * Tolerance (stated): |Hv - FD|_inf <= 2e-4 (1 + |FD|_inf), central differences of the double
 * gradient with step 1e-3 along v. Directions whose forward and backward one-sided differences
 * disagree (a relu kink crossed) are skipped and counted. */
#include "autoconf.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backprop.h"
#include "hvp.h"
#include "model.h"
#include "plugin.h"
#include "rng.h"

#define HV_TOL 2e-4

static const char *const acts[] = { "sigmoid", "tanh", "relu", "identity", "leaky_relu",
                                    "elu", "softplus", "softsign", "gelu" };

static bp_registry *reg;

static void set_act(bp_act *a, const char *name)
{
    bp_err e;
    const bp_loaded *p = bp_registry_get(reg, name, BP_ACTIVATION, &e);
    ck_assert_msg(p != NULL, "%s", e.msg);
    a->name = p->desc->name;
    a->fn = p->desc->u.activation;
    a->n_hp = a->fn->n_hparams;
    for (size_t i = 0; i < a->n_hp; i++)
        a->hp[i] = a->fn->hparams[i].def;
}

typedef struct fixture {
    bp_model *m;
    bp_dataset d;
    float X[64], Y[64];
    int32_t y[16];
} fixture;

static void make(fixture *f, const int *sizes, size_t ns, const char *hidden, const char *output,
                 bp_loss loss, uint64_t seed)
{
    bp_err e;
    f->m = bp_model_new(sizes, ns, &e);
    ck_assert_ptr_nonnull(f->m);
    bp_model_init(f->m, BP_INIT_UNIFORM, 0.9, 1, seed, 0);
    for (size_t l = 0; l + 1 < f->m->n_layers; l++)
        set_act(&f->m->act[l], hidden);
    if (output)
        set_act(&f->m->act[f->m->n_layers - 1], output);
    else
        f->m->softmax = 1;
    f->m->loss = loss;
    size_t n = 5, dx = (size_t)sizes[0], k = (size_t)sizes[ns - 1];
    bp_rng r = bp_rng_stream(seed + 1, 0, BP_RNG_INIT, 0);
    for (size_t i = 0; i < n * dx; i++)
        f->X[i] = (float)(4.0 * bp_rng_uniform(&r) - 2.0);
    for (size_t i = 0; i < n * k; i++)
        f->Y[i] = (float)bp_rng_uniform(&r);
    for (size_t i = 0; i < n; i++)
        f->y[i] = (int32_t)(i % k);
    f->d = (bp_dataset){ .n = n, .d = dx, .X = f->X, .k = k };
    if (loss == BP_LOSS_CROSS_ENTROPY) {
        f->d.kind = BP_TARGET_LABELS;
        f->d.y = f->y;
    } else {
        f->d.kind = BP_TARGET_MATRIX;
        f->d.Y = f->Y;
    }
}

static double inf_norm(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s = fabs(x[i]) > s ? fabs(x[i]) : s;
    return s;
}

static void grad_at(bp_hvp *h, fixture *f, const double *w, double *g)
{
    bp_err e;
    ck_assert_int_eq(bp_hvp_eval(h, w, &f->d, NULL, f->d.n, NULL, NULL, g, NULL, &e), 0);
}

/* 1: layers of 72 weights (9-8-9-k), which a BLAS build multiplies with cblas_dgemm (the
 * products of layers the CBLAS path takes); 0: 3-5-4-k, the loops */
static int wide;

static void check_fd(const char *hidden, const char *output, bp_loss loss, size_t k)
{
    int sizes[] = { wide ? 9 : 3, wide ? 8 : 5, wide ? 9 : 4, (int)k };
    fixture f;
    make(&f, sizes, 4, hidden, output, loss, 21);
    bp_err e;
    bp_hvp *h = bp_hvp_new(f.m, 2, &e); /* batches of 2: the sums run across batches */
    ck_assert_msg(h != NULL, "%s", e.msg);
    size_t np = f.m->n_params, used = 0, skipped = 0;
    double *w = calloc(np, sizeof *w), *v = calloc(np, sizeof *v), *hv = calloc(np, sizeof *hv);
    double *g0 = calloc(np, sizeof *g0), *gp = calloc(np, sizeof *gp), *gm = calloc(np, sizeof *gm);
    double *fd = calloc(np, sizeof *fd), *wp = calloc(np, sizeof *wp), worst = 0;
    float *gf = calloc(np, sizeof *gf);
    for (size_t i = 0; i < np; i++)
        w[i] = f.m->params[i];
    /* the double gradient agrees with the training path's float gradient */
    bp_work *wk = bp_work_new(f.m, f.d.n, &e);
    bp_gather(wk, &f.d, NULL, 0, f.d.n);
    bp_forward(f.m, wk, wk->Xb, f.d.n, 1);
    bp_loss_batch(f.m, wk, &f.d, f.d.n, NULL, 1);
    bp_backward(f.m, wk, wk->Xb, f.d.n, gf, 1);
    grad_at(h, &f, w, g0);
    for (size_t i = 0; i < np; i++)
        ck_assert_msg(fabs(g0[i] - gf[i]) <= 1e-5 * (1 + fabs(g0[i])), "grad %zu: %g vs %g", i,
                      g0[i], gf[i]);
    for (int trial = 0; trial < 6; trial++) {
        bp_rng r = bp_rng_stream(5, (uint64_t)trial, BP_RNG_DIAG, 0);
        for (size_t i = 0; i < np; i++)
            v[i] = bp_rng_normal(&r);
        ck_assert_int_eq(bp_hvp_eval(h, w, &f.d, NULL, f.d.n, v, hv, NULL, NULL, &e), 0);
        const double eps = 1e-3;
        for (size_t i = 0; i < np; i++)
            wp[i] = w[i] + eps * v[i];
        grad_at(h, &f, wp, gp);
        for (size_t i = 0; i < np; i++)
            wp[i] = w[i] - eps * v[i];
        grad_at(h, &f, wp, gm);
        double kink = 0;
        for (size_t i = 0; i < np; i++) {
            fd[i] = (gp[i] - gm[i]) / (2 * eps);
            double a = (gp[i] - g0[i]) / eps, b = (g0[i] - gm[i]) / eps;
            kink = fabs(a - b) > kink ? fabs(a - b) : kink;
        }
        double scale = 1 + inf_norm(fd, np);
        if (kink > 0.05 * scale) {
            skipped++;
            continue;
        }
        used++;
        for (size_t i = 0; i < np; i++) {
            double err = fabs(hv[i] - fd[i]) / scale;
            worst = err > worst ? err : worst;
            ck_assert_msg(err <= HV_TOL, "%s/%s/%s param %zu: Hv %.9g, finite difference %.9g",
                          hidden, output ? output : "softmax", bp_loss_names[loss], i, hv[i],
                          fd[i]);
        }
    }
    ck_assert_msg(used >= 3, "%s: only %zu of 6 directions without kinks", hidden, used);
    printf("hvp %-10s output %-8s loss %-21s max rel err %.2e (tol %.0e, %zu kinked skipped)\n",
           hidden, output ? output : "softmax", bp_loss_names[loss], worst, HV_TOL, skipped);
    free(w); free(v); free(hv); free(g0); free(gp); free(gm); free(fd); free(wp); free(gf);
    bp_work_free(wk);
    bp_hvp_free(h);
    bp_model_free(f.m);
}

START_TEST(hv_vs_fd)
{
    const char *a = acts[_i];
    check_fd(a, a, BP_LOSS_MSE, 2);
    check_fd(a, NULL, BP_LOSS_CROSS_ENTROPY, 3);
    check_fd(a, "sigmoid", BP_LOSS_BCE, 2);
}
END_TEST

START_TEST(hv_vs_fd_wide)
{
    wide = 1;
    check_fd("tanh", "tanh", BP_LOSS_MSE, 2);
    check_fd("sigmoid", NULL, BP_LOSS_CROSS_ENTROPY, 3);
    check_fd("softplus", "sigmoid", BP_LOSS_BCE, 2);
    wide = 0;
}
END_TEST

/* Full Hessian by central differences of gradients (columns) vs columns H e_i. */
static void full_hessian(const int *sizes, size_t ns, const char *hidden, const char *output,
                         bp_loss loss)
{
    fixture f;
    make(&f, sizes, ns, hidden, output, loss, 33);
    bp_err e;
    bp_hvp *h = bp_hvp_new(f.m, 8, &e);
    ck_assert_ptr_nonnull(h);
    size_t np = f.m->n_params;
    double *H = calloc(np * np, sizeof *H), *F = calloc(np * np, sizeof *F);
    double *w = calloc(np, sizeof *w), *v = calloc(np, sizeof *v), *gp = calloc(np, sizeof *gp);
    double *gm = calloc(np, sizeof *gm), *wp = calloc(np, sizeof *wp);
    for (size_t i = 0; i < np; i++)
        w[i] = f.m->params[i];
    const double eps = 1e-3;
    double scale = 0, worst = 0, asym_r = 0, asym_f = 0;
    for (size_t c = 0; c < np; c++) {
        memset(v, 0, np * sizeof *v);
        v[c] = 1;
        ck_assert_int_eq(bp_hvp_eval(h, w, &f.d, NULL, f.d.n, v, H + c * np, NULL, NULL, &e), 0);
        memcpy(wp, w, np * sizeof *w);
        wp[c] = w[c] + eps;
        grad_at(h, &f, wp, gp);
        wp[c] = w[c] - eps;
        grad_at(h, &f, wp, gm);
        for (size_t i = 0; i < np; i++) {
            F[c * np + i] = (gp[i] - gm[i]) / (2 * eps);
            scale = fabs(F[c * np + i]) > scale ? fabs(F[c * np + i]) : scale;
        }
    }
    scale += 1;
    for (size_t i = 0; i < np; i++)
        for (size_t j = 0; j < np; j++) {
            double d = fabs(H[i * np + j] - F[i * np + j]) / scale;
            worst = d > worst ? d : worst;
            ck_assert_msg(d <= HV_TOL, "H[%zu][%zu]: R-op %.9g, finite differences %.9g", i, j,
                          H[i * np + j], F[i * np + j]);
            double ar = fabs(H[i * np + j] - H[j * np + i]) / scale;
            double af = fabs(F[i * np + j] - F[j * np + i]) / scale;
            asym_r = ar > asym_r ? ar : asym_r;
            asym_f = af > asym_f ? af : asym_f;
        }
    ck_assert_msg(asym_r <= 1e-12, "R-operator Hessian not symmetric: %g", asym_r);
    ck_assert_msg(asym_f <= HV_TOL, "finite-difference Hessian not symmetric: %g", asym_f);
    printf("full Hessian %zu params (%s/%s/%s): max rel err %.2e, asymmetry R-op %.1e, FD %.1e\n",
           np, hidden, output ? output : "softmax", bp_loss_names[loss], worst, asym_r, asym_f);
    free(H); free(F); free(w); free(v); free(gp); free(gm); free(wp);
    bp_hvp_free(h);
    bp_model_free(f.m);
}

START_TEST(tiny_full_hessian)
{
    int xor[] = { 2, 2, 1 }, x2[] = { 2, 2, 2 }, t[] = { 2, 3, 3 }, b[] = { 3, 2, 2, 2 };
    int m[] = { 3, 4, 2 };
    full_hessian(xor, 3, "sigmoid", "sigmoid", BP_LOSS_MSE);
    full_hessian(xor, 3, "tanh", "sigmoid", BP_LOSS_BCE);
    full_hessian(x2, 3, "sigmoid", NULL, BP_LOSS_CROSS_ENTROPY); /* softmax needs 2 outputs */
    full_hessian(m, 3, "tanh", "tanh", BP_LOSS_MSE);
    full_hessian(m, 3, "sigmoid", NULL, BP_LOSS_CROSS_ENTROPY);
    full_hessian(m, 3, "softplus", "sigmoid", BP_LOSS_BCE);
    full_hessian(t, 3, "tanh", NULL, BP_LOSS_CROSS_ENTROPY);
    full_hessian(b, 4, "softplus", "sigmoid", BP_LOSS_BCE);
    /* layers of 72 weights: cblas_dgemm in a BLAS build */
    int w9[] = { 9, 8, 9, 2 };
    full_hessian(w9, 4, "tanh", NULL, BP_LOSS_CROSS_ENTROPY);
}
END_TEST

START_TEST(float_interface_and_rows)
{
    int sizes[] = { 3, 4, 2 };
    fixture f;
    make(&f, sizes, 3, "tanh", "sigmoid", BP_LOSS_MSE, 7);
    bp_err e;
    bp_hvp *h = bp_hvp_new(f.m, 3, &e);
    size_t np = f.m->n_params;
    float *vf = calloc(np, sizeof *vf), *hf = calloc(np, sizeof *hf);
    double *v = calloc(np, sizeof *v), *hv = calloc(np, sizeof *hv), *h2 = calloc(np, sizeof *h2);
    for (size_t i = 0; i < np; i++)
        v[i] = vf[i] = (float)(0.1 * (double)i - 0.7);
    ck_assert_int_eq(bp_hvp_eval_f(h, &f.d, vf, hf, &e), 0);
    ck_assert_int_eq(bp_hvp_eval(h, NULL, &f.d, NULL, f.d.n, v, hv, NULL, NULL, &e), 0);
    for (size_t i = 0; i < np; i++)
        ck_assert_float_eq_tol(hf[i], (float)hv[i], 1e-6f * (1 + fabsf(hf[i])));
    /* rows 1 and 3 given by index == a dataset of those two rows */
    uint32_t idx[] = { 1, 3 };
    ck_assert_int_eq(bp_hvp_eval(h, NULL, &f.d, idx, 2, v, hv, NULL, NULL, &e), 0);
    float X2[6], Y2[4];
    for (int c = 0; c < 3; c++) {
        X2[c] = f.X[3 + c];
        X2[3 + c] = f.X[9 + c];
    }
    for (int c = 0; c < 2; c++) {
        Y2[c] = f.Y[2 + c];
        Y2[2 + c] = f.Y[6 + c];
    }
    bp_dataset d2 = { .n = 2, .d = 3, .X = X2, .k = 2, .kind = BP_TARGET_MATRIX, .Y = Y2 };
    ck_assert_int_eq(bp_hvp_eval(h, NULL, &d2, NULL, 2, v, h2, NULL, NULL, &e), 0);
    for (size_t i = 0; i < np; i++)
        ck_assert_double_eq_tol(hv[i], h2[i], 1e-12);
    ck_assert_int_eq(bp_hvp_eval(h, NULL, &f.d, NULL, 0, v, hv, NULL, NULL, &e), BP_ERUN);
    ck_assert_str_eq(e.msg, "hvp: 0 rows requested of a dataset of 5");
    free(vf); free(hf); free(v); free(hv); free(h2);
    bp_hvp_free(h);
    bp_model_free(f.m);
}
END_TEST

/* The forward cache: an Hv alone after a full call reuses the forward pass and gives the bits
 * of a full call; new parameters (or another dataset) are noticed. Each loss. */
static void cache_case(const char *hidden, const char *output, bp_loss loss)
{
    int sizes[] = { 3, 5, 2 };
    fixture f;
    make(&f, sizes, 3, hidden, output, loss, 5);
    bp_err e;
    bp_hvp *h = bp_hvp_new(f.m, f.d.n, &e);
    ck_assert_ptr_nonnull(h);
    size_t np = f.m->n_params;
    double *v1 = calloc(np, sizeof *v1), *v2 = calloc(np, sizeof *v2), *g = calloc(np, sizeof *g);
    double *a = calloc(np, sizeof *a), *b = calloc(np, sizeof *b), *c = calloc(np, sizeof *c);
    for (size_t i = 0; i < np; i++) {
        v1[i] = sin(1.0 + (double)i);
        v2[i] = cos(2.0 * (double)i);
    }
    for (int round = 0; round < 2; round++) {
        ck_assert_int_eq(bp_hvp_eval(h, NULL, &f.d, NULL, f.d.n, v1, a, NULL, NULL, &e), 0);
        ck_assert_int_eq(bp_hvp_eval(h, NULL, &f.d, NULL, f.d.n, v2, b, NULL, NULL, &e), 0);
        /* with the gradient asked for, the forward pass is computed again */
        ck_assert_int_eq(bp_hvp_eval(h, NULL, &f.d, NULL, f.d.n, v2, c, g, NULL, &e), 0);
        for (size_t i = 0; i < np; i++)
            ck_assert_msg(b[i] == c[i], "%s/%s: Hv %zu reused %.17g, computed %.17g", hidden,
                          output ? output : "softmax", i, b[i], c[i]);
        /* move the parameters: a reused forward pass would give the old product */
        ck_assert_int_eq(bp_hvp_eval(h, NULL, &f.d, NULL, f.d.n, v2, b, NULL, NULL, &e), 0);
        f.m->params[0] += 0.5f;
        ck_assert_int_eq(bp_hvp_eval(h, NULL, &f.d, NULL, f.d.n, v2, a, NULL, NULL, &e), 0);
        ck_assert_int_eq(bp_hvp_eval(h, NULL, &f.d, NULL, f.d.n, v2, c, g, NULL, &e), 0);
        int differs = 0;
        for (size_t i = 0; i < np; i++) {
            ck_assert(a[i] == c[i]);
            differs |= a[i] != b[i];
        }
        ck_assert(differs);
    }
    free(v1); free(v2); free(g); free(a); free(b); free(c);
    bp_hvp_free(h);
    bp_model_free(f.m);
}

START_TEST(forward_cache)
{
    cache_case("tanh", "sigmoid", BP_LOSS_MSE);
    cache_case("sigmoid", NULL, BP_LOSS_CROSS_ENTROPY);
    cache_case("softplus", "sigmoid", BP_LOSS_BCE);
}
END_TEST

START_TEST(missing_second)
{
    int sizes[] = { 2, 3, 1 };
    fixture f;
    make(&f, sizes, 3, "tanh", "sigmoid", BP_LOSS_BCE, 3);
    bp_activation copy = *f.m->act[0].fn;
    copy.second = NULL;
    f.m->act[0].fn = &copy;
    bp_err e;
    ck_assert_ptr_null(bp_hvp_new(f.m, 4, &e));
    ck_assert_int_eq(e.code, BP_EPLUGIN);
    ck_assert_str_eq(e.msg, "activation tanh (layer 0) has no second derivative (plugin slot "
                     "`second`): Hessian-vector products need it");
    /* BCE's sigmoid output needs only f': a missing `second` there is fine */
    f.m->act[0].fn = f.m->act[1].fn;
    bp_activation out = *f.m->act[1].fn;
    out.second = NULL;
    f.m->act[1].fn = &out;
    bp_hvp *h = bp_hvp_new(f.m, 4, &e);
    ck_assert_ptr_nonnull(h);
    bp_hvp_free(h);
    bp_model_free(f.m);
}
END_TEST

static double secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

START_TEST(cost)
{
    int sizes[] = { 32, 64, 64, 10 };
    bp_err e;
    bp_model *m = bp_model_new(sizes, 4, &e);
    bp_model_init(m, BP_INIT_XAVIER_UNIFORM, 0, 1, 9, 0);
    set_act(&m->act[0], "tanh");
    set_act(&m->act[1], "tanh");
    m->softmax = 1;
    m->loss = BP_LOSS_CROSS_ENTROPY;
    size_t n = 256;
    float *X = calloc(n * 32, sizeof *X);
    int32_t *y = calloc(n, sizeof *y);
    bp_rng r = bp_rng_stream(1, 0, BP_RNG_INIT, 0);
    for (size_t i = 0; i < n * 32; i++)
        X[i] = (float)bp_rng_normal(&r);
    for (size_t i = 0; i < n; i++)
        y[i] = (int32_t)(i % 10);
    bp_dataset d = { .n = n, .d = 32, .X = X, .k = 10, .kind = BP_TARGET_LABELS, .y = y };
    size_t np = m->n_params;
    bp_work *w = bp_work_new(m, n, &e);
    bp_hvp *h = bp_hvp_new(m, n, &e);
    float *gf = calloc(np, sizeof *gf);
    double *v = calloc(np, sizeof *v), *hv = calloc(np, sizeof *hv), *g = calloc(np, sizeof *g);
    for (size_t i = 0; i < np; i++)
        v[i] = bp_rng_normal(&r);
    int reps = 30;
    double best[4] = { 1e9, 1e9, 1e9, 1e9 };
    for (int rep = 0; rep < 3; rep++) {
        double t0 = secs();
        for (int i = 0; i < reps; i++) {
            bp_gather(w, &d, NULL, 0, n);
            bp_forward(m, w, w->Xb, n, 1);
            bp_loss_batch(m, w, &d, n, NULL, 1);
            bp_backward(m, w, w->Xb, n, gf, 1);
        }
        double t1 = secs();
        for (int i = 0; i < reps; i++)
            bp_hvp_eval(h, NULL, &d, NULL, n, NULL, NULL, g, NULL, &e);
        double t2 = secs();
        for (int i = 0; i < reps; i++)
            ck_assert_int_eq(bp_hvp_eval(h, NULL, &d, NULL, n, v, hv, g, NULL, &e), 0);
        double t3 = secs();
        for (int i = 0; i < reps; i++) /* Lanczos' calls: the forward pass is reused */
            ck_assert_int_eq(bp_hvp_eval(h, NULL, &d, NULL, n, v, hv, NULL, NULL, &e), 0);
        double t4 = secs(), t[4] = { t1 - t0, t2 - t1, t3 - t2, t4 - t3 };
        for (int k = 0; k < 4; k++)
            best[k] = t[k] < best[k] ? t[k] : best[k];
    }
    printf("cost (32-64-64-10 tanh/softmax, %zu rows, 1 thread): training gradient %.3g ms, "
           "double gradient %.3g ms, Hv+gradient %.3g ms: Hv = %.2fx the training gradient, "
           "%.2fx the double gradient of the same code; Hv alone with the forward pass reused "
           "%.3g ms = %.2fx the training gradient\n", n, 1e3 * best[0] / reps,
           1e3 * best[1] / reps, 1e3 * best[2] / reps, best[2] / best[0], best[2] / best[1],
           1e3 * best[3] / reps, best[3] / best[0]);
    free(X); free(y); free(gf); free(v); free(hv); free(g);
    bp_work_free(w);
    bp_hvp_free(h);
    bp_model_free(m);
}
END_TEST

int main(void)
{
    bp_err e;
    reg = bp_registry_new(NULL, 0, &e);
    if (!reg) {
        fprintf(stderr, "%s\n", e.msg);
        return EXIT_FAILURE;
    }
    Suite *s = suite_create("hvp");
    TCase *tc = tcase_create("hvp");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, hv_vs_fd, 0, (int)(sizeof acts / sizeof acts[0]));
    tcase_add_test(tc, hv_vs_fd_wide);
    tcase_add_test(tc, tiny_full_hessian);
    tcase_add_test(tc, float_interface_and_rows);
    tcase_add_test(tc, missing_second);
    tcase_add_test(tc, forward_cache);
    tcase_add_test(tc, cost);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    bp_registry_free(reg);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
