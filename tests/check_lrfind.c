/* check_lrfind: the suggestion rule of bprun lr-find (lrfind.h) on curves whose answer is
 * known: steepest descent at the centre of a tanh drop, the minimum of a V, the first and last
 * tenth ignored, too few points, a curve that never falls. */
#include "autoconf.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lrfind.h"

/* n points, lr log-spaced from 1e-5 to 10 */
static bp_lrfind *curve(size_t n)
{
    bp_lrfind *r = calloc(1, sizeof *r);
    ck_assert_ptr_nonnull(r);
    r->n = r->planned = n;
    r->lr = calloc(n, sizeof *r->lr);
    r->loss = calloc(n, sizeof *r->loss);
    r->smooth = calloc(n, sizeof *r->smooth);
    ck_assert(r->lr && r->loss && r->smooth);
    for (size_t i = 0; i < n; i++)
        r->lr[i] = 1e-5 * pow(1e6, n > 1 ? (double)i / (double)(n - 1) : 0);
    return r;
}

START_TEST(test_tanh_and_v)
{
    bp_lrfind *r = curve(101);   /* lr[50] = 1e-2 */
    for (size_t i = 0; i < r->n; i++) {
        double x = log(r->lr[i]) - log(1e-2);
        r->smooth[i] = 1 - tanh(x / 0.5) + 0.001 * fabs((double)i - 80);
    }
    bp_lrfind_suggest(r);
    ck_assert_int_eq(r->steepest_i, 50);
    ck_assert_double_eq_tol(r->steepest_lr, 1e-2, 1e-12);
    ck_assert(r->steepest_slope < -1.5);
    ck_assert_int_eq(r->min_i, 80);
    ck_assert_double_eq_tol(r->tenth_min_lr, r->lr[80] / 10, 1e-15);
    ck_assert_double_eq(r->suggested, r->steepest_lr);
    ck_assert_str_eq(r->why_none, "");
    bp_lrfind_free(r);
}
END_TEST

START_TEST(test_edges_ignored)
{
    /* a cliff at i = 5 (in the first tenth) and at i = 97 (last tenth), a gentle drop at 40 */
    bp_lrfind *r = curve(100);
    for (size_t i = 0; i < r->n; i++)
        r->smooth[i] = 10 - (i > 5 ? 5 : 0) - (i > 97 ? 3 : 0) - 0.5 * tanh(((double)i - 40) / 3);
    bp_lrfind_suggest(r);
    ck_assert_int_eq(r->steepest_i, 40);
    ck_assert_int_eq(r->min_i, 98);   /* the first of two equal minima */
    bp_lrfind_free(r);
}
END_TEST

START_TEST(test_never_falls)
{
    bp_lrfind *r = curve(50);
    for (size_t i = 0; i < r->n; i++)
        r->smooth[i] = 1 + 0.01 * (double)i;
    bp_lrfind_suggest(r);
    ck_assert_int_eq(r->steepest_i, -1);
    ck_assert(isnan(r->steepest_lr));
    ck_assert_int_eq(r->min_i, 0);
    ck_assert_double_eq_tol(r->suggested, 1e-6, 1e-18);   /* (b): lr[0] / 10 */
    bp_lrfind_free(r);
}
END_TEST

START_TEST(test_too_few)
{
    bp_lrfind *r = curve(9);
    for (size_t i = 0; i < r->n; i++)
        r->smooth[i] = 9 - (double)i;
    bp_lrfind_suggest(r);
    ck_assert(isnan(r->suggested));
    ck_assert(isnan(r->tenth_min_lr));
    ck_assert_str_eq(r->why_none, "only 9 points recorded; at least 10 are needed (raise --steps)");
    bp_lrfind_free(r);
}
END_TEST

START_TEST(test_nonfinite_tail)
{
    /* a blow-up recorded as inf at the end: the minimum ignores it */
    bp_lrfind *r = curve(40);
    for (size_t i = 0; i < r->n; i++)
        r->smooth[i] = i == 39 ? INFINITY : 5 - 0.1 * (double)i;
    bp_lrfind_suggest(r);
    ck_assert_int_eq(r->min_i, 38);
    ck_assert(r->steepest_i >= 4 && r->steepest_i < 36);
    bp_lrfind_free(r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lrfind");
    TCase *tc = tcase_create("suggest");
    tcase_add_test(tc, test_tanh_and_v);
    tcase_add_test(tc, test_edges_ignored);
    tcase_add_test(tc, test_never_falls);
    tcase_add_test(tc, test_too_few);
    tcase_add_test(tc, test_nonfinite_tail);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
