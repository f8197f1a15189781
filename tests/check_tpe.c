/* Unit tests of the TPE estimator (tpe.h) against values computed by hand and by Optuna 3.1's
 * _ParzenEstimator with its TPESampler defaults (prior weight 1,
 * magic clip, no endpoints: the mixtures' centres, sigmas, weights, integer masses), and
 * of the search space (space.h): conditional parameters are drawn only under their option. */
#include "autoconf.h"
#include "tpe.h"
#include "space.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NEAR(a, b) ck_assert_double_eq_tol((a), (b), 1e-8)

START_TEST(gamma_weights_split)
{
    ck_assert_uint_eq(bp_tpe_gamma(1), 1);
    ck_assert_uint_eq(bp_tpe_gamma(10), 1);
    ck_assert_uint_eq(bp_tpe_gamma(11), 2);
    ck_assert_uint_eq(bp_tpe_gamma(100), 10);
    ck_assert_uint_eq(bp_tpe_gamma(300), 25);
    double w[27];
    bp_tpe_weights(27, w);
    NEAR(w[0], 1.0 / 27);
    NEAR(w[1], 1.0);
    NEAR(w[26], 1.0);
    bp_tpe_weights(3, w);
    NEAR(w[0] + w[1] + w[2], 3.0);
    /* the best one of five (NaN is the worst; a tie goes to the lower index) */
    double loss[5] = { 3, 1, NAN, 1, 2 };
    unsigned char below[5];
    bp_tpe_split(loss, 5, below);
    ck_assert(below[1] && !below[0] && !below[2] && !below[3] && !below[4]);
    double l11[11] = { 5, 4, 3, 2, 1, 0, 9, 9, 9, 9, NAN };
    unsigned char b11[11];
    bp_tpe_split(l11, 11, b11);
    ck_assert(b11[5] && b11[4] && !b11[3] && !b11[10]);
}
END_TEST

START_TEST(parzen_uniform)
{
    bp_parzen p;
    double x[2] = { 0.2, 0.8 };
    ck_assert_int_eq(bp_parzen_fit(&p, x, 2, 0, 1, 0), 0);
    /* mus 0.2 0.8 0.5 (prior); sigmas 0.3 0.3 1; weights 1/3 */
    NEAR(p.mu[2], 0.5);
    NEAR(p.sigma[0], 0.3);
    NEAR(p.sigma[1], 0.3);
    NEAR(p.sigma[2], 1.0);
    NEAR(p.w[0], 1.0 / 3);
    /* Optuna 3.1's log_pdf (no 1/sigma per component) */
    NEAR(bp_parzen_logpdf(&p, 0.5), -0.57236399);
    NEAR(bp_parzen_logpdf(&p, 0.1), -0.69018829);
    NEAR(bp_parzen_logpdf(&p, 0.95), -0.73501865);
    bp_parzen_clear(&p);
}
END_TEST

START_TEST(parzen_log_and_int)
{
    bp_parzen p;
    double x[3] = { log(1e-3), log(1e-1), log(0.5) };
    ck_assert_int_eq(bp_parzen_fit(&p, x, 3, log(1e-4), 0, 0), 0);
    NEAR(p.sigma[0], 2.30258509);
    NEAR(p.sigma[1], 2.30258509);
    NEAR(p.sigma[2], 1.84206807);
    NEAR(p.sigma[3], 9.21034037);
    /* the score of log(x), as Optuna 3.1's log_pdf */
    NEAR(bp_parzen_logpdf(&p, log(0.01)), -0.86592503);
    bp_parzen_clear(&p);
    double k[3] = { 1, 1, 3 };
    ck_assert_int_eq(bp_parzen_fit(&p, k, 3, 0.5, 4.5, 1), 0);
    NEAR(p.sigma[0], 0.8);
    NEAR(p.sigma[1], 1.5);
    NEAR(p.sigma[2], 0.8);
    NEAR(p.sigma[3], 4.0);
    NEAR(bp_parzen_logpdf(&p, 1), -1.10038046);
    NEAR(bp_parzen_logpdf(&p, 2), -1.23658206);
    NEAR(bp_parzen_logpdf(&p, 4), -1.98812493);
    bp_rng r = bp_rng_stream(1, 2, BP_RNG_SWEEP, 3);
    for (int i = 0; i < 200; i++) {
        double v = bp_parzen_sample(&p, &r);
        ck_assert(v == floor(v) && v >= 1 && v <= 4);
    }
    bp_parzen_clear(&p);
}
END_TEST

START_TEST(categorical)
{
    size_t obs[3] = { 0, 0, 2 };
    double pr[3];
    bp_tpe_categorical(obs, 3, 3, pr);
    NEAR(pr[0], 0.47619048);
    NEAR(pr[1], 0.19047619);
    NEAR(pr[2], 0.33333333);
    /* l prefers option 0, g option 2: every suggestion is 0 */
    size_t lo[4] = { 0, 0, 0, 1 }, hi[6] = { 2, 2, 2, 2, 1, 2 };
    for (uint64_t k = 0; k < 10; k++) {
        bp_rng r = bp_rng_stream(7, k, BP_RNG_SWEEP, 0);
        ck_assert_uint_eq(bp_tpe_suggest_cat(lo, 4, hi, 6, 3, BP_TPE_CANDIDATES, &r), 0);
    }
}
END_TEST

START_TEST(suggest_moves_towards_below)
{
    /* good trials near 0.9, bad ones near 0.1: suggestions lie in the upper half, and the same
     * stream gives the same suggestion */
    double lo[3] = { 0.85, 0.9, 0.95 }, hi[6] = { 0.05, 0.1, 0.15, 0.2, 0.3, 0.12 };
    for (uint64_t k = 0; k < 20; k++) {
        bp_rng r = bp_rng_stream(3, k, BP_RNG_SWEEP, 1), r2 = r;
        double v = bp_tpe_suggest_num(lo, 3, hi, 6, 0, 1, 0, BP_TPE_CANDIDATES, &r);
        ck_assert(v > 0.5 && v <= 1);
        ck_assert(v == bp_tpe_suggest_num(lo, 3, hi, 6, 0, 1, 0, BP_TPE_CANDIDATES, &r2));
    }
}
END_TEST

START_TEST(conditional_space)
{
    const char *y = "train.optimizer: {choice: [{name: sgd, lr: {log_uniform: [1e-3, 1]}, "
                    "momentum: {uniform: [0, 0.99]}}, {name: adam, lr: {log_uniform: [1e-5, "
                    "1e-2]}}]}\ntrain.batch_size: {int: [8, 64]}\n";
    bp_err e;
    bp_node *n = bp_yaml_parse_string(y, strlen(y), "c.yaml", &e);
    ck_assert_ptr_nonnull(n);
    bp_space *s = bp_space_parse(n, "sweep.search.params", &e);
    ck_assert_msg(s != NULL, "%s", e.msg);
    ck_assert_uint_eq(s->n, 5);
    ck_assert_uint_eq(s->n_top, 2);
    ck_assert_str_eq(s->p[1].name, "train.optimizer[0].lr");
    ck_assert_str_eq(s->p[3].name, "train.optimizer[1].lr");
    ck_assert_int_eq(s->p[3].parent, 0);
    int seen[2] = { 0, 0 };
    for (uint64_t k = 0; k < 64; k++) {
        double x[5];
        bp_rng r = bp_rng_stream(1, k, BP_RNG_SWEEP, 0);
        bp_space_sample_prior(s, &r, x);
        int o = (int)x[0];
        seen[o] = 1;
        ck_assert(o ? isnan(x[1]) && isnan(x[2]) && x[3] >= 1e-5 && x[3] <= 1e-2
                    : x[1] >= 1e-3 && x[1] <= 1 && x[2] >= 0 && x[2] <= 0.99 && isnan(x[3]));
        ck_assert(x[4] == floor(x[4]) && x[4] >= 8 && x[4] <= 64);
        bp_node *v = bp_space_value(s, x, 0, &e);
        ck_assert_ptr_nonnull(v);
        ck_assert_str_eq(bp_node_get(v, "name")->value, o ? "adam" : "sgd");
        ck_assert_ptr_nonnull(bp_node_get(v, "lr"));
        ck_assert_int_eq(bp_node_get(v, "lr")->kind, BP_NODE_SCALAR);
        bp_node_free(v);
    }
    ck_assert(seen[0] && seen[1]);
    bp_space_free(s);
    bp_node_free(n);
}
END_TEST

static Suite *tpe_suite(void)
{
    Suite *s = suite_create("tpe");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, gamma_weights_split);
    tcase_add_test(tc, parzen_uniform);
    tcase_add_test(tc, parzen_log_and_int);
    tcase_add_test(tc, categorical);
    tcase_add_test(tc, suggest_moves_towards_below);
    tcase_add_test(tc, conditional_space);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tpe_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
