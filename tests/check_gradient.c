/* Finite-difference gradient check of backprop for every activation plugin x every loss:
 * hidden layers use the activation under test; mse is checked with that activation on the
 * output layer too; cross_entropy with softmax; binary_cross_entropy with sigmoid.
 * Central differences in double around float parameters; parameters whose two one-sided
 * differences disagree (a kink of relu/leaky_relu crossed) are skipped and counted. */
#include "autoconf.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backprop.h"
#include "model.h"
#include "plugin.h"
#include "rng.h"

static const char *const acts[] = { "sigmoid", "tanh", "relu", "identity", "leaky_relu",
                                    "elu", "softplus", "softsign", "gelu" };

static bp_registry *reg;

static const bp_loaded *get(const char *name)
{
    bp_err e;
    const bp_loaded *p = bp_registry_get(reg, name, BP_ACTIVATION, &e);
    ck_assert_msg(p != NULL, "%s", e.msg);
    return p;
}

static void set_act(bp_act *a, const bp_loaded *p)
{
    a->name = p->desc->name;
    a->fn = p->desc->u.activation;
    a->n_hp = a->fn->n_hparams;
    for (size_t i = 0; i < a->n_hp; i++)
        a->hp[i] = a->fn->hparams[i].def;
}

static double mean_loss(bp_model *m, bp_work *w, const bp_dataset *d)
{
    bp_gather(w, d, NULL, 0, d->n);
    bp_forward(m, w, w->Xb, d->n, 1);
    bp_loss_batch(m, w, d, d->n, NULL, 0);
    double s = 0;
    for (size_t r = 0; r < d->n; r++)
        s += w->loss_row[r];
    return s / (double)d->n;
}

static void check(const char *hidden, const char *output, bp_loss loss, size_t n_out)
{
    int sizes[] = { 3, 5, 4, (int)n_out };
    bp_err e;
    bp_model *m = bp_model_new(sizes, 4, &e);
    ck_assert_ptr_nonnull(m);
    bp_model_init(m, BP_INIT_UNIFORM, 0.9, 1, 21, 0);
    set_act(&m->act[0], get(hidden));
    set_act(&m->act[1], get(hidden));
    if (output)
        set_act(&m->act[2], get(output));
    else
        m->softmax = 1;
    m->loss = loss;
    size_t n = 5;
    float X[15], Y[20];
    int32_t y[5];
    bp_rng r = bp_rng_stream(22, 0, BP_RNG_INIT, 0);
    for (int i = 0; i < 15; i++)
        X[i] = (float)(4.0 * bp_rng_uniform(&r) - 2.0);
    for (size_t i = 0; i < n * n_out; i++)
        Y[i] = (float)bp_rng_uniform(&r);
    for (size_t i = 0; i < n; i++)
        y[i] = (int32_t)(i % n_out);
    bp_dataset d = { .n = n, .d = 3, .X = X, .k = n_out };
    if (loss == BP_LOSS_CROSS_ENTROPY) {
        d.kind = BP_TARGET_LABELS;
        d.y = y;
    } else {
        d.kind = BP_TARGET_MATRIX;
        d.Y = Y;
    }
    bp_work *w = bp_work_new(m, n, &e);
    float *g = calloc(m->n_params, sizeof *g);
    bp_gather(w, &d, NULL, 0, n);
    bp_forward(m, w, w->Xb, n, 1);
    bp_loss_batch(m, w, &d, n, NULL, 1);
    bp_backward(m, w, w->Xb, n, g, 1);
    size_t skipped = 0;
    double worst = 0;
    for (size_t i = 0; i < m->n_params; i++) {
        float keep = m->params[i];
        const float h = 1e-2f;
        double l0 = mean_loss(m, w, &d);
        m->params[i] = keep + h;
        double lp = mean_loss(m, w, &d);
        m->params[i] = keep - h;
        double lm = mean_loss(m, w, &d);
        m->params[i] = keep;
        double hp = (double)(keep + h) - keep, hm = (double)keep - (double)(keep - h);
        double fwd = (lp - l0) / hp, bwd = (l0 - lm) / hm, fd = (lp - lm) / (hp + hm);
        if (fabs(fwd - bwd) > 0.05 * (1.0 + fabs(fd))) {
            skipped++;
            continue;
        }
        double err = fabs(fd - g[i]) / (1.0 + fabs(fd));
        if (err > worst)
            worst = err;
        ck_assert_msg(err <= 2e-3, "%s/%s/%s param %zu: backprop %.7g, finite difference %.7g",
                      hidden, output ? output : "softmax", bp_loss_names[loss], i, g[i], fd);
    }
    ck_assert_msg(skipped * 10 <= m->n_params, "%s: %zu of %zu parameters at kinks", hidden,
                  skipped, m->n_params);
    printf("gradient %-10s output %-10s loss %-21s max rel err %.2e (%zu kinks skipped)\n",
           hidden, output ? output : "softmax", bp_loss_names[loss], worst, skipped);
    free(g);
    bp_work_free(w);
    bp_model_free(m);
}

START_TEST(every_activation_every_loss)
{
    const char *a = acts[_i];
    check(a, a, BP_LOSS_MSE, 2);
    check(a, NULL, BP_LOSS_CROSS_ENTROPY, 3);
    check(a, "sigmoid", BP_LOSS_BCE, 2);
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
    Suite *s = suite_create("gradient");
    TCase *tc = tcase_create("fd");
    tcase_add_loop_test(tc, every_activation_every_loss, 0, (int)(sizeof acts / sizeof acts[0]));
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    bp_registry_free(reg);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
