/* Distinct minima (minima.h): the distance up to hidden-unit permutation is 0 between a network
 * and any permuted copy of it (exact search for widths <= 8, greedy above; two hidden layers),
 * and grouping follows the loss and distance tolerances. */
#include "autoconf.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "minima.h"
#include "rng.h"

static size_t n_params(const int *sizes, size_t ns)
{
    size_t np = 0;
    for (size_t l = 0; l + 1 < ns; l++)
        np += (size_t)sizes[l + 1] * ((size_t)sizes[l] + 1);
    return np;
}

/* out := w with the units of hidden layer `layer` reordered by perm (unit j of out = unit
 * perm[j] of w) */
static void permute(const int *sizes, size_t layer, const float *w, const int *perm, float *out)
{
    size_t off = 0;
    for (size_t l = 0; l < layer; l++)
        off += (size_t)sizes[l + 1] * ((size_t)sizes[l] + 1);
    size_t nin = (size_t)sizes[layer], n = (size_t)sizes[layer + 1], nn = (size_t)sizes[layer + 2];
    size_t boff = off + n * nin, noff = boff + n;
    for (size_t j = 0; j < n; j++) {
        size_t k = (size_t)perm[j];
        memcpy(out + off + j * nin, w + off + k * nin, nin * sizeof *out);
        out[boff + j] = w[boff + k];
        for (size_t r = 0; r < nn; r++)
            out[noff + r * n + j] = w[noff + r * n + k];
    }
}

static void random_net(const int *sizes, size_t ns, uint64_t key, float *w)
{
    bp_rng r = bp_rng_stream(key, 0, 0, 0);
    for (size_t i = 0; i < n_params(sizes, ns); i++)
        w[i] = (float)bp_rng_normal(&r);
}

static void check_permuted(const int *sizes, size_t ns, const int *p0, const int *p1)
{
    size_t np = n_params(sizes, ns);
    float *a = calloc(np, sizeof *a), *b = calloc(np, sizeof *b), *c = calloc(np, sizeof *c);
    float *pb = calloc(np, sizeof *pb);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(pb);
    random_net(sizes, ns, 7, a);
    memcpy(b, a, np * sizeof *b);
    permute(sizes, 0, a, p0, b);
    memcpy(c, b, np * sizeof *c);
    if (p1)
        permute(sizes, 1, b, p1, c);
    bp_err e;
    double d0 = bp_minima_distance(sizes, ns, a, c, 0, NULL, NULL, &e);
    double d1 = bp_minima_distance(sizes, ns, a, c, 1, NULL, pb, &e);
    ck_assert_msg(d0 > 1.0, "unpermuted distance %g", d0);
    ck_assert_msg(d1 == 0.0, "permuted distance %g", d1);
    for (size_t i = 0; i < np; i++)
        ck_assert(pb[i] == a[i]);
    free(a);
    free(b);
    free(c);
    free(pb);
}

START_TEST(exact_one_layer)
{
    static const int sizes[] = { 2, 3, 1 }, p[] = { 2, 0, 1 };
    check_permuted(sizes, 3, p, NULL);
}
END_TEST

START_TEST(exact_two_layers)
{
    static const int sizes[] = { 3, 5, 4, 2 }, p0[] = { 4, 2, 0, 1, 3 }, p1[] = { 3, 1, 0, 2 };
    check_permuted(sizes, 4, p0, p1);
}
END_TEST

START_TEST(greedy_wide)
{
    static const int sizes[] = { 4, 12, 3 };
    static const int p[] = { 11, 3, 5, 0, 7, 1, 9, 2, 10, 4, 8, 6 };
    check_permuted(sizes, 3, p, NULL);
}
END_TEST

/* 2-3-2 network output at x (hidden activation: c = 1 sigmoid, c = 0 tanh; linear output) */
static void forward(const float *w, double c, const double *x, double *y)
{
    double h[3];
    for (int j = 0; j < 3; j++) {
        double z = w[6 + j] + w[2 * j] * x[0] + w[2 * j + 1] * x[1];
        h[j] = c == 1.0 ? 1.0 / (1.0 + exp(-z)) : tanh(z);
    }
    for (int r = 0; r < 2; r++)
        y[r] = w[15 + r] + w[9 + 3 * r] * h[0] + w[9 + 3 * r + 1] * h[1] + w[9 + 3 * r + 2] * h[2];
}

START_TEST(sign_flips)
{
    static const int sizes[] = { 2, 3, 2 }, p[] = { 2, 0, 1 };
    for (int c = 0; c < 2; c++) {
        float a[17], b[17], pb[17];
        random_net(sizes, 3, 3, a);
        memcpy(b, a, sizeof a);
        /* flip unit 1: incoming weights and bias, outgoing weights; next bias += c w_out */
        for (int i = 0; i < 2; i++)
            b[2 + i] = -a[2 + i];
        b[7] = -a[7];
        for (int r = 0; r < 2; r++) {
            b[9 + 3 * r + 1] = -a[9 + 3 * r + 1];
            b[15 + r] = a[15 + r] + (float)c * a[9 + 3 * r + 1];
        }
        double x[2] = { 0.3, -1.2 }, ya[2], yb[2];
        forward(a, c, x, ya);
        forward(b, c, x, yb);
        for (int r = 0; r < 2; r++) /* the same function */
            ck_assert_double_eq_tol(ya[r], yb[r], 1e-6);
        float bp[17];
        memcpy(bp, b, sizeof b);
        permute(sizes, 0, b, p, bp);
        double fl[1] = { c }, none[1] = { NAN };
        bp_err e;
        double d0 = bp_minima_distance(sizes, 3, a, bp, 1, none, NULL, &e);
        double d1 = bp_minima_distance(sizes, 3, a, bp, 1, fl, pb, &e);
        ck_assert_msg(d0 > 0.5, "without flips %g", d0);
        ck_assert_msg(d1 < 1e-6, "with flips %g", d1);
        ck_assert(bp_minima_distance(sizes, 3, a, b, 0, fl, NULL, &e) < 1e-6); /* no permute */
    }
    ck_assert(bp_minima_flip_constant("sigmoid") == 1.0);
    ck_assert(bp_minima_flip_constant("tanh") == 0.0);
    ck_assert(isnan(bp_minima_flip_constant("relu")));
}
END_TEST

START_TEST(grouping)
{
    static const int sizes[] = { 2, 3, 1 }, p[] = { 1, 2, 0 };
    size_t np = n_params(sizes, 3);
    float s[5][13];
    random_net(sizes, 3, 1, s[0]);
    permute(sizes, 0, s[0], p, s[1]);            /* the same minimum, permuted ... */
    for (size_t i = 0; i < np; i++)
        s[1][i] *= 1.1f;                          /* ... 10% away: within dist_tol 0.25 */
    random_net(sizes, 3, 2, s[2]);                /* elsewhere, same loss */
    memcpy(s[3], s[0], sizeof s[0]);              /* same weights, loss further than loss_tol */
    memcpy(s[4], s[2], sizeof s[2]);
    const float *w[] = { s[0], s[1], s[2], s[3], s[4] };
    double loss[] = { 0.10, 0.105, 0.10, 0.2, 0.0 };
    int lab[5];
    bp_err e;
    bp_minima_opts o = { 0.01, 0.25, 1, NULL };
    ck_assert_int_eq(bp_minima_group(sizes, 3, w, loss, 5, &o, lab, &e), 4);
    /* by loss: s4 (0.0) opens 0; s0 (0.10, index before s2) opens 1; s2 joins 0? no: loss
     * 0.10 vs 0.0 > tol, so it opens 2; s1 joins 1; s3 (0.2) opens 3 */
    ck_assert_int_eq(lab[4], 0);
    ck_assert_int_eq(lab[0], 1);
    ck_assert_int_eq(lab[2], 2);
    ck_assert_int_eq(lab[1], 1);
    ck_assert_int_eq(lab[3], 3);
    o.permute = 0; /* unmatched, s1 is far from s0 */
    ck_assert_int_eq(bp_minima_group(sizes, 3, w, loss, 5, &o, lab, &e), 5);
    o.permute = 1;
    o.loss_tol = 1.0; /* s2 joins s4 (same weights), s0 and s1 still apart from it */
    o.dist_tol = 0.25;
    ck_assert_int_eq(bp_minima_group(sizes, 3, w, loss, 5, &o, lab, &e), 2);
    ck_assert_int_eq(lab[4], 0);
    ck_assert_int_eq(lab[2], 0);
    ck_assert_int_eq(lab[0], 1);
    ck_assert_int_eq(lab[1], 1);
    ck_assert_int_eq(lab[3], 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("minima");
    TCase *tc = tcase_create("minima");
    tcase_add_test(tc, exact_one_layer);
    tcase_add_test(tc, exact_two_layers);
    tcase_add_test(tc, greedy_wide);
    tcase_add_test(tc, sign_flips);
    tcase_add_test(tc, grouping);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
