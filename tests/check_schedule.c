/* Unit tests of the training helpers (src/schedule.c): every learning-rate schedule against
 * torch.optim.lr_scheduler (tests/schedule/torch_ref.h, made by tests/schedule/torch_ref.py)
 * and against values worked out by hand; saving and restoring a schedule mid-way; gradient
 * clipping against torch.nn.utils and by hand. */
#include "autoconf.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"
#include "schedule/torch_ref.h"

#define N_OF(a) (sizeof(a) / sizeof *(a))

/* Run schedule p from base for n epochs; metric[e] is epoch e+1's metric (NULL: NaN). */
static void run(const bp_lr_params *p, double base, const double *metric, size_t n,
                double *lr)
{
    bp_lr_sched s;
    bp_lr_start(&s, p, base);
    for (size_t e = 0; e < n; e++) {
        lr[e] = s.lr;
        bp_lr_step(&s, metric ? metric[e] : NAN);
    }
}

/* Every lr equal to torch's within tol (relative); tol 0 means bit-identical. */
static void expect(const double *got, const double *want, size_t n, double tol, const char *what)
{
    for (size_t e = 0; e < n; e++) {
        double d = fabs(got[e] - want[e]);
        ck_assert_msg(tol == 0 ? got[e] == want[e] : d <= tol * fabs(want[e]) + 1e-300,
                      "%s: epoch %zu: lr %.17g, torch %.17g", what, e + 1, got[e], want[e]);
    }
}

START_TEST(test_constant)
{
    double lr[5];
    run(NULL, 0.25, NULL, 5, lr);
    for (int e = 0; e < 5; e++)
        ck_assert(lr[e] == 0.25);
    bp_lr_params p;
    bp_lr_defaults(&p, BP_LR_CONSTANT);
    run(&p, 0.5, NULL, 5, lr);
    ck_assert(lr[4] == 0.5);
}
END_TEST

START_TEST(test_step)
{
    bp_lr_params p;
    bp_lr_defaults(&p, BP_LR_STEP);
    p.step_size = 3;
    p.gamma = 0.7;
    double lr[N_OF(ref_step)];
    run(&p, 0.05, NULL, N_OF(lr), lr);
    expect(lr, ref_step, N_OF(lr), 0, "step");   /* the same multiplications, so the same bits */
    /* by hand: epochs 1-3 at 0.05, 4-6 at 0.035 */
    ck_assert(lr[2] == 0.05 && fabs(lr[3] - 0.035) < 1e-15 && fabs(lr[6] - 0.0245) < 1e-15);
    /* default gamma 0.1, step_size 1 */
    bp_lr_defaults(&p, BP_LR_STEP);
    run(&p, 1.0, NULL, 3, lr);
    ck_assert(lr[0] == 1.0 && lr[1] == 0.1 && lr[2] == 0.1 * 0.1);
}
END_TEST

START_TEST(test_exponential)
{
    bp_lr_params p;
    bp_lr_defaults(&p, BP_LR_EXPONENTIAL);
    p.gamma = 0.9;
    double lr[N_OF(ref_exponential)];
    run(&p, 0.1, NULL, N_OF(lr), lr);
    expect(lr, ref_exponential, N_OF(lr), 0, "exponential");
    ck_assert(fabs(lr[19] - 0.1 * pow(0.9, 19)) < 1e-15);
}
END_TEST

START_TEST(test_cosine)
{
    bp_lr_params p;
    bp_lr_defaults(&p, BP_LR_COSINE);
    p.t_max = 10;
    p.eta_min = 0.001;
    double lr[N_OF(ref_cosine)];
    run(&p, 0.1, NULL, N_OF(lr), lr);
    expect(lr, ref_cosine, N_OF(lr), 0, "cosine");
    /* by hand: epoch 1 at the base, epoch t_max/2 + 1 halfway, epoch t_max + 1 at eta_min,
     * then back up (the closed form is periodic) */
    ck_assert(lr[0] == 0.1);
    ck_assert(fabs(lr[5] - 0.0505) < 1e-15);
    ck_assert(fabs(lr[10] - 0.001) < 1e-15);
    ck_assert(fabs(lr[20] - 0.1) < 1e-15);
}
END_TEST

START_TEST(test_cosine_warmup)
{
    bp_lr_params p;
    bp_lr_defaults(&p, BP_LR_COSINE);
    p.t_max = 20;
    p.warmup_epochs = 5;
    p.warmup_start = 0.1;
    double lr[N_OF(ref_cosine_warmup)];
    run(&p, 0.1, NULL, N_OF(lr), lr);
    expect(lr, ref_cosine_warmup, N_OF(lr), 0, "cosine warmup");
    /* default warmup_start 0: epoch 1 at 0, linear to the base at epoch warmup + 1 */
    p.warmup_start = 0;
    p.warmup_epochs = 4;
    p.t_max = 12;
    p.eta_min = 0.02;
    run(&p, 0.2, NULL, 14, lr);
    ck_assert(lr[0] == 0);
    ck_assert(fabs(lr[1] - 0.05) < 1e-16 && fabs(lr[2] - 0.1) < 1e-16);
    ck_assert(fabs(lr[4] - 0.2) < 1e-16);                 /* cosine starts at the base */
    ck_assert(fabs(lr[8] - (0.02 + 0.18 / 2)) < 1e-15);   /* half of t_max - warmup = 8 */
    ck_assert(fabs(lr[12] - 0.02) < 1e-15);               /* epoch t_max + 1 at eta_min */
}
END_TEST

START_TEST(test_plateau)
{
    bp_lr_params p;
    double lr[N_OF(ref_plateau_metric)], neg[N_OF(ref_plateau_metric)];
    size_t n = N_OF(lr);

    bp_lr_defaults(&p, BP_LR_PLATEAU);
    run(&p, 0.1, ref_plateau_metric, n, lr);
    expect(lr, ref_plateau_default, n, 0, "plateau defaults");

    p.factor = 0.5;
    p.patience = 2;
    p.threshold = 0.01;
    p.cooldown = 1;
    p.min_lr = 0.01;
    run(&p, 0.1, ref_plateau_metric, n, lr);
    expect(lr, ref_plateau_min, n, 0, "plateau min");

    bp_lr_defaults(&p, BP_LR_PLATEAU);
    p.mode = BP_MODE_MAX;
    p.factor = 0.3;
    p.patience = 1;
    p.threshold = 0;
    p.eps = 1e-3;
    for (size_t i = 0; i < n; i++)
        neg[i] = -ref_plateau_metric[i];
    run(&p, 0.1, neg, n, lr);
    expect(lr, ref_plateau_max, n, 0, "plateau max");

    /* by hand: patience 0 reduces after every epoch that is not better; NaN is never better */
    bp_lr_defaults(&p, BP_LR_PLATEAU);
    p.patience = 0;
    p.factor = 0.5;
    const double m[] = { 1.0, NAN, 0.5, 0.5, 0.4 };
    run(&p, 1.0, m, 5, lr);
    ck_assert(lr[0] == 1 && lr[1] == 1 && lr[2] == 0.5 && lr[3] == 0.5 && lr[4] == 0.25);
}
END_TEST

/* Stopping after k epochs, saving the state, restoring it and going on gives the same lrs as
 * an uninterrupted schedule, for every kind and every k. */
START_TEST(test_save_restore)
{
    bp_lr_params ps[5];
    bp_lr_defaults(&ps[0], BP_LR_CONSTANT);
    bp_lr_defaults(&ps[1], BP_LR_STEP);
    ps[1].step_size = 3;
    ps[1].gamma = 0.7;
    bp_lr_defaults(&ps[2], BP_LR_EXPONENTIAL);
    ps[2].gamma = 0.9;
    bp_lr_defaults(&ps[3], BP_LR_COSINE);
    ps[3].t_max = 20;
    ps[3].warmup_epochs = 5;
    bp_lr_defaults(&ps[4], BP_LR_PLATEAU);
    ps[4].patience = 1;
    ps[4].cooldown = 2;
    ps[4].factor = 0.5;
    size_t n = N_OF(ref_plateau_metric);
    for (int kind = 0; kind < 5; kind++) {
        double want[N_OF(ref_plateau_metric)];
        run(&ps[kind], 0.1, ref_plateau_metric, n, want);
        for (size_t k = 1; k < n; k++) {
            bp_lr_sched s, r;
            bp_lr_start(&s, &ps[kind], 0.1);
            for (size_t e = 0; e < k; e++)
                bp_lr_step(&s, ref_plateau_metric[e]);
            double v[BP_LR_NSTATE];
            bp_lr_state(&s, v);
            /* names in another order than saved */
            const char *names[BP_LR_NSTATE];
            double vals[BP_LR_NSTATE];
            for (int i = 0; i < BP_LR_NSTATE; i++) {
                names[i] = bp_lr_state_names[BP_LR_NSTATE - 1 - i];
                vals[i] = v[BP_LR_NSTATE - 1 - i];
            }
            bp_err e;
            ck_assert_int_eq(bp_lr_restore(&r, &ps[kind], 0.1, names, vals, BP_LR_NSTATE, &e), 0);
            ck_assert_int_eq(r.last_epoch, (int)k);
            for (size_t ep = k; ep < n; ep++) {
                ck_assert_msg(r.lr == want[ep], "%s: restored after %zu: epoch %zu: %.17g != %.17g",
                              bp_lr_names[kind], k, ep + 1, r.lr, want[ep]);
                bp_lr_step(&r, ref_plateau_metric[ep]);
            }
        }
    }
}
END_TEST

START_TEST(test_restore_errors)
{
    bp_lr_sched s;
    bp_err e;
    const char *names[] = { "last_epoch", "lr", "best", "bad_epochs", "cooldown_counter" };
    double v[] = { 3, 0.1, 0.5, 1, 0 };
    ck_assert_int_eq(bp_lr_restore(&s, NULL, 0.1, names, v, 4, &e), BP_EDATA);
    ck_assert_str_eq(e.msg, "schedule state: 'cooldown_counter' missing");
    v[0] = 2.5;
    ck_assert_int_eq(bp_lr_restore(&s, NULL, 0.1, names, v, 5, &e), BP_EDATA);
    ck_assert_str_eq(e.msg, "schedule state: 'last_epoch' is 2.5; expected a non-negative integer");
    v[0] = 3;
    v[1] = -1;
    ck_assert_int_eq(bp_lr_restore(&s, NULL, 0.1, names, v, 5, &e), BP_EDATA);
    ck_assert_str_eq(e.msg, "schedule state: 'lr' is -1; expected a finite number >= 0");
    v[1] = NAN; /* an optimizer without lr: base NaN, lr NaN */
    ck_assert_int_eq(bp_lr_restore(&s, NULL, NAN, names, v, 5, &e), 0);
    ck_assert_int_eq(bp_lr_restore(&s, NULL, 0.1, names, v, 5, &e), BP_EDATA);
    v[1] = 0.1;
    v[2] = NAN;
    ck_assert_int_eq(bp_lr_restore(&s, NULL, 0.1, names, v, 5, &e), BP_EDATA);
    ck_assert_str_eq(e.msg, "schedule state: 'best' is NaN");
    v[2] = INFINITY;
    ck_assert_int_eq(bp_lr_restore(&s, NULL, 0.1, names, v, 5, &e), 0);
    ck_assert(s.best == INFINITY && s.lr == 0.1 && s.last_epoch == 3 && s.bad_epochs == 1);
}
END_TEST

START_TEST(test_clip_torch)
{
    size_t n = N_OF(ref_grad);
    float g[N_OF(ref_grad)];
    for (size_t i = 0; i < n; i++)
        g[i] = (float)ref_grad[i];
    double norm = bp_clip_norm(g, n, 2.0);
    ck_assert_msg(fabs(norm - 5.698210245331423) < 1e-6, "norm %.17g", norm);
    for (size_t i = 0; i < n; i++)   /* torch computes the coefficient in float */
        ck_assert_msg(fabs(g[i] - ref_clip_norm[i]) <= 2e-7 * fabs(ref_clip_norm[i]),
                      "clip_norm [%zu]: %.9g, torch %.9g", i, g[i], ref_clip_norm[i]);
    for (size_t i = 0; i < n; i++)
        g[i] = (float)ref_grad[i];
    bp_clip_value(g, n, 0.5);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(g[i] == (float)ref_clip_value[i], "clip_value [%zu]: %.9g, torch %.9g", i,
                      g[i], ref_clip_value[i]);
}
END_TEST

START_TEST(test_clip_hand)
{
    float g[3] = { 3, -4, 0 };
    double norm = bp_clip_norm(g, 3, 1.0);
    ck_assert(norm == 5.0);
    ck_assert(g[0] == (float)(3.0 / (5.0 + 1e-6)) && g[1] == (float)(-4.0 / (5.0 + 1e-6)));
    ck_assert(g[2] == 0);
    /* below the limit: untouched, bit for bit */
    float h[2] = { 0.3f, -0.4f };
    bp_clip_norm(h, 2, 1.0);
    ck_assert(h[0] == 0.3f && h[1] == -0.4f);
    /* exactly at the limit: torch's coefficient max/(norm + 1e-6) is just below 1 and applies */
    float k[2] = { 3, 4 };
    bp_clip_norm(k, 2, 5.0);
    ck_assert(k[0] == (float)(3.0 * 5.0 / (5.0 + 1e-6)) && k[0] < 3.0f);
    /* value: clamp both ways, NaN stays NaN (as torch.clamp) */
    float v[5] = { 2, -2, 0.25f, -0.5f, NAN };
    bp_clip_value(v, 5, 0.5);
    ck_assert(v[0] == 0.5f && v[1] == -0.5f && v[2] == 0.25f && v[3] == -0.5f && isnan(v[4]));
}
END_TEST

START_TEST(test_names)
{
    ck_assert_str_eq(bp_lr_names[BP_LR_CONSTANT], "constant");
    ck_assert_str_eq(bp_lr_names[BP_LR_PLATEAU], "plateau");
    ck_assert_str_eq(bp_lr_metric_names[BP_METRIC_LOSS], "loss");
    ck_assert_str_eq(bp_lr_mode_names[BP_MODE_MAX], "max");
    bp_lr_params p;
    bp_lr_defaults(&p, BP_LR_PLATEAU);
    ck_assert(p.factor == 0.1 && p.patience == 10 && p.threshold == 1e-4 && p.cooldown == 0 &&
              p.min_lr == 0 && p.eps == 1e-8 && p.metric == BP_METRIC_VAL_LOSS &&
              p.mode == BP_MODE_MIN);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("schedule");
    TCase *tc = tcase_create("schedules");
    tcase_add_test(tc, test_constant);
    tcase_add_test(tc, test_step);
    tcase_add_test(tc, test_exponential);
    tcase_add_test(tc, test_cosine);
    tcase_add_test(tc, test_cosine_warmup);
    tcase_add_test(tc, test_plateau);
    tcase_add_test(tc, test_save_restore);
    tcase_add_test(tc, test_restore_errors);
    tcase_add_test(tc, test_names);
    suite_add_tcase(s, tc);
    tc = tcase_create("clip");
    tcase_add_test(tc, test_clip_torch);
    tcase_add_test(tc, test_clip_hand);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
