/* Unit tests of population-based training (pbt.h): the sweep.pbt section (members, errors with
 * their marks), the exploit decision (truncation, ranking, ties, members out, the draw) and
 * explore (perturb, resample, ranges, integers). From a config text in memory, so messages name
 * "c.yaml". */
#include "autoconf.h"
#include "pbt.h"
#include "sweep.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE "seed: 5\n" \
             "data: {train: \"builtin:xor\"}\n" \
             "model: {layers: [2, 2, 1], activation: sigmoid, output: sigmoid, loss: mse}\n" \
             "train: {epochs: 20, batch_size: 1, optimizer: {name: sgd, lr: 0.5}}\n"

static bp_sweep *load(const char *sweep, bp_err *e)
{
    char text[4096];
    snprintf(text, sizeof text, "%s%s", BASE, sweep);
    bp_err_clear(e);
    return bp_sweep_load_text("c.yaml", text, strlen(text), NULL, 0, NULL, 0, e);
}

static void load_err(const char *sweep, const char *want)
{
    bp_err e;
    bp_sweep *s = load(sweep, &e);
    ck_assert_msg(s == NULL, "loaded: %s", sweep);
    ck_assert_msg(strstr(e.msg, want) != NULL, "got '%s', want '%s'", e.msg, want);
    ck_assert_int_eq(e.code, BP_ECONFIG);
}

START_TEST(test_members)
{
    bp_err e;
    bp_sweep *s = load("sweep:\n  pbt: {population: 4, interval: 5, metric: loss,\n"
                       "        params: {train.optimizer.lr: {log_uniform: [0.1, 2]},\n"
                       "                 train.optimizer.momentum: {uniform: [0, 0.9]}}}\n", &e);
    ck_assert_msg(s != NULL, "%s", e.msg);
    ck_assert_uint_eq(s->n_trials, 4);
    ck_assert_uint_eq(s->pbt.population, 4);
    ck_assert_int_eq(s->pbt.interval, 5);
    ck_assert_int_eq(s->pbt.val, 0);
    ck_assert(s->pbt.truncation == 0.2 && s->pbt.perturb[0] == 0.8 && s->pbt.perturb[1] == 1.2);
    ck_assert_uint_eq(s->pbt.n_params, 2);
    ck_assert_str_eq(s->pbt.params[0].name, "lr");
    for (size_t m = 0; m < 4; m++) {
        /* every member trains with the experiment's seed; its values are random sample m */
        ck_assert_uint_eq(s->trials[m].seed, 5);
        ck_assert_uint_eq(s->trials[m].point, m);
        double lr = strtod(s->trials[m].values[0], NULL);
        ck_assert(lr >= 0.1 && lr <= 2);
        ck_assert(s->trials[m].cfg->train.optimizer.n_hp == 2);
    }
    char h[17];
    memcpy(h, s->hash, sizeof h);
    bp_sweep_free(s);
    /* another setting is another run */
    s = load("sweep:\n  pbt: {population: 4, interval: 5, metric: loss, exploit: {truncation: 0.5},\n"
             "        params: {train.optimizer.lr: {log_uniform: [0.1, 2]},\n"
             "                 train.optimizer.momentum: {uniform: [0, 0.9]}}}\n", &e);
    ck_assert_msg(s != NULL, "%s", e.msg);
    ck_assert_str_ne(h, s->hash);
    bp_sweep_free(s);
}
END_TEST

START_TEST(test_errors)
{
    load_err("sweep:\n  pbt: {population: 4, interval: 5, metric: loss, params: {model.layers: "
             "{int: [1, 3]}}}\n", "c.yaml:6:60: sweep.pbt.params.model.layers: expected a "
             "hyperparameter of the optimizer");
    load_err("sweep:\n  pbt: {population: 4, interval: 5, metric: loss, params: "
             "{train.optimizer.lr: {choice: [0.1, 0.2]}}}\n", "a PBT parameter must be a number");
    load_err("sweep:\n  pbt: {population: 1, interval: 5, metric: loss, params: "
             "{train.optimizer.lr: {uniform: [0.1, 0.2]}}}\n",
             "c.yaml:6:21: sweep.pbt.population: must be in [2, 10000] (got 1)");
    load_err("sweep:\n  pbt: {population: 3, intervall: 5, params: {}}\n",
             "sweep.pbt.intervall: unknown key (did you mean 'interval'?)");
    load_err("sweep:\n  pbt: {population: 3, interval: 20, metric: loss, params: "
             "{train.optimizer.lr: {uniform: [0.1, 0.2]}}}\n",
             "sweep.pbt.interval: must be less than train.epochs (got 20, train.epochs 20)");
    load_err("sweep:\n  pbt: {population: 3, interval: 5, params: "
             "{train.optimizer.lr: {uniform: [0.1, 0.2]}}}\n", "val_loss (the default) needs "
             "validation data");
    load_err("sweep:\n  pbt: {population: 3, interval: 5, metric: loss, exploit: {truncation: "
             "0.6}, params: {train.optimizer.lr: {uniform: [0.1, 0.2]}}}\n",
             "sweep.pbt.exploit.truncation: must be in (0, 0.5] (got 0.6)");
    load_err("sweep:\n  pbt: {population: 3, interval: 5, metric: loss, explore: {perturb: "
             "[0.8]}, params: {train.optimizer.lr: {uniform: [0.1, 0.2]}}}\n",
             "sweep.pbt.explore.perturb: expected two factors");
    load_err("sweep:\n  pbt: {population: 3, interval: 5, metric: loss, explore: {resample: "
             "2}, params: {train.optimizer.lr: {uniform: [0.1, 0.2]}}}\n",
             "sweep.pbt.explore.resample: must be in [0, 1] (got 2)");
    load_err("sweep:\n  pbt: {population: 3, interval: 5, metric: loss, params: "
             "{train.optimizer.lr: {uniform: [0.3, 0.2]}}}\n", "low must be < high");
    load_err("sweep:\n  repeats: 2\n  pbt: {population: 3, interval: 5, metric: loss, params: "
             "{train.optimizer.lr: {uniform: [0.1, 0.2]}}}\n",
             "c.yaml:7:3: sweep.pbt: cannot be used with sweep.repeats");
    /* Hyperband and halving decide over the points; PBT is the whole search */
    load_err("sweep:\n  hyperband: {max_epochs: 9, eta: 3, metric: loss}\n  pbt: {population: 3, "
             "interval: 5, metric: loss, params: {train.optimizer.lr: {uniform: [0.1, 0.2]}}}\n",
             "c.yaml:7:3: sweep.pbt: cannot be used with sweep.hyperband (the population is the "
             "whole search)");
    load_err("sweep:\n  pbt: {population: 3, interval: 5, metric: loss, params: "
             "{train.optimizer.lr: {uniform: [0.1, 0.2]}}}\n  hyperband: {max_epochs: 9}\n",
             "c.yaml:6:3: sweep.pbt: cannot be used with sweep.hyperband (the population is the "
             "whole search)");
}
END_TEST

static bp_pbt pbt_of(double trunc, double resample)
{
    static bp_pbt_param params[2];
    params[0] = (bp_pbt_param){ .key = "train.optimizer.lr", .name = "lr",
                                .dist = BP_PBT_LOG_UNIFORM, .lo = 0.01, .hi = 1 };
    params[1] = (bp_pbt_param){ .key = "train.optimizer.k", .name = "k", .dist = BP_PBT_INT,
                                .lo = 1, .hi = 10 };
    return (bp_pbt){ .population = 10, .interval = 5, .truncation = trunc,
                     .perturb = { 0.8, 1.2 }, .resample = resample, .n_params = 2,
                     .params = params };
}

START_TEST(test_exploit)
{
    bp_pbt p = pbt_of(0.2, 0);
    double m[10] = { 5, 1, 9, 3, NAN, 2, 7, 8, 4, 6 };
    unsigned char alive[10];
    long parent[10];
    memset(alive, 1, sizeof alive);
    /* 10 live: the worst 2 (NaN last: member 4, then 9 at member 2) copy one of the best 2 (1, 5) */
    ck_assert_uint_eq(bp_pbt_exploit(&p, 1, 1, m, alive, 10, parent), 2);
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 2)
            ck_assert(parent[i] == 1 || parent[i] == 5);
        else
            ck_assert_int_eq(parent[i], -1);
    }
    /* the same inputs, the same decisions; another generation draws again */
    long again[10];
    bp_pbt_exploit(&p, 1, 1, m, alive, 10, again);
    ck_assert_mem_eq(parent, again, sizeof parent);
    int differs = 0;
    for (unsigned g = 2; g < 40; g++) {
        bp_pbt_exploit(&p, 1, g, m, alive, 10, again);
        differs |= again[4] != parent[4];
    }
    ck_assert(differs);
    /* members out do not count: 4 live -> ceil(0.8) = 1 copies */
    memset(alive, 0, sizeof alive);
    alive[0] = alive[1] = alive[2] = alive[3] = 1;
    ck_assert_uint_eq(bp_pbt_exploit(&p, 1, 1, m, alive, 10, parent), 1);
    ck_assert_int_eq(parent[2], 1);
    for (int i = 0; i < 10; i++)
        if (i != 2)
            ck_assert_int_eq(parent[i], -1);
    /* ties by member index: the later member is the worse one */
    double tie[3] = { 1, 1, 1 };
    p.truncation = 0.5;
    ck_assert_uint_eq(bp_pbt_exploit(&p, 1, 1, tie, alive, 3, parent), 1);
    ck_assert_int_eq(parent[2], 0);
    ck_assert(parent[0] == -1 && parent[1] == -1);
    /* one member alone copies nobody */
    ck_assert_uint_eq(bp_pbt_exploit(&p, 1, 1, tie, alive, 1, parent), 0);
}
END_TEST

START_TEST(test_explore)
{
    bp_pbt p = pbt_of(0.2, 0);
    double in[2] = { 0.5, 5 }, out[2];
    int up = 0, down = 0;
    for (unsigned g = 1; g < 200; g++) {
        bp_pbt_explore(&p, 3, g, 7, in, out);
        ck_assert(out[0] == 0.5 * 0.8 || out[0] == 0.5 * 1.2);
        ck_assert(out[1] == 4 || out[1] == 6);
        up += out[0] > 0.5;
        down += out[0] < 0.5;
    }
    ck_assert(up > 50 && down > 50);
    /* clamped to the range */
    double edge[2] = { 0.95, 10 };
    for (unsigned g = 1; g < 50; g++) {
        bp_pbt_explore(&p, 3, g, 7, edge, out);
        ck_assert(out[0] <= 1 && out[1] <= 10);
    }
    /* resample 1: every value drawn from its distribution */
    p.resample = 1;
    int off = 0;
    for (unsigned g = 1; g < 200; g++) {
        bp_pbt_explore(&p, 3, g, 7, in, out);
        ck_assert(out[0] >= 0.01 && out[0] <= 1);
        ck_assert(out[1] >= 1 && out[1] <= 10 && out[1] == floor(out[1]));
        off += out[0] != 0.4 && out[0] != 0.6;
    }
    ck_assert_int_eq(off, 199);
    /* a pure function of (seed, generation, member) */
    double a[2], b[2];
    bp_pbt_explore(&p, 3, 9, 2, in, a);
    bp_pbt_explore(&p, 3, 9, 2, in, b);
    ck_assert_mem_eq(a, b, sizeof a);
}
END_TEST

static Suite *pbt_suite(void)
{
    Suite *s = suite_create("pbt");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_members);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_exploit);
    tcase_add_test(tc, test_explore);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pbt_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
