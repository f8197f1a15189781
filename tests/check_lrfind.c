/* check_lrfind: the range test's rules of bprun lr-find (lrfind.h) on curves whose answer is
 * known: steepest descent at the centre of a tanh drop, the minimum of a V, the valley half way
 * down the longest descent (and fastai's own loop on noisy curves), the first and last tenth
 * ignored, too few points, a curve that never falls. */
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
    /* (v): strictly decreasing over 0..80 (81 points): i0 = 80 - 81, half way down at 39 */
    ck_assert_int_eq(r->valley_i, 39);
    ck_assert_double_eq(r->valley_lr, r->lr[39]);
    ck_assert_double_eq(r->candidate, r->valley_lr);
    ck_assert_double_eq(r->suggested, r->candidate);
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

/* fastai's valley, literally (fastai.callback.schedule.valley): O(n^2) */
static long fastai_valley(const double *losses, size_t n)
{
    size_t *lds = malloc(n * sizeof *lds), max_end = 0;
    ck_assert_ptr_nonnull(lds);
    for (size_t i = 0; i < n; i++)
        lds[i] = 1;
    long ms = 0;
    for (size_t i = 1; i < n; i++) {
        for (size_t j = 0; j < i; j++)
            if (losses[i] < losses[j] && lds[i] < lds[j] + 1)
                lds[i] = lds[j] + 1;
        if (lds[max_end] < lds[i]) {
            max_end = i;
            ms = (long)max_end - (long)lds[max_end];
        }
    }
    double sections = (double)((long)max_end - ms) / 3;
    long idx = ms + (long)sections + (long)(sections / 2);
    free(lds);
    return idx;
}

START_TEST(test_valley_is_fastai)
{
    /* noisy curves with a dip: the same index as fastai's double loop */
    unsigned seed = 12345;
    for (int c = 0; c < 50; c++) {
        size_t n = 20 + (size_t)(c * 37 % 400);
        bp_lrfind *r = curve(n);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            double u = (double)(seed >> 8) / (double)(1u << 24);
            double x = (double)i / (double)n;
            r->smooth[i] = 2 - tanh((x - 0.5) * 8) + 3 * (x > 0.8 ? (x - 0.8) * (x - 0.8) * 50 : 0)
                           + 0.2 * (u - 0.5) * (c % 3);
        }
        bp_lrfind_suggest(r);
        long want = fastai_valley(r->smooth, n);
        ck_assert_msg(r->valley_i == want, "curve %d (n %zu): valley %ld, fastai %ld", c, n,
                      r->valley_i, want);
        bp_lrfind_free(r);
    }
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
    tcase_add_test(tc, test_valley_is_fastai);
    tcase_add_test(tc, test_too_few);
    tcase_add_test(tc, test_nonfinite_tail);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
