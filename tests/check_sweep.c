/* Unit tests of the sweep module: grid, zip, variants, random, repeats, --sweep, errors, hash,
 * trial table. Runs inside a fresh temporary folder (chdir), so messages name "c.yaml". */
#include "autoconf.h"
#include "sweep.h"
#include "halving.h"
#include "hyperband.h"
#include "rounds.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[4096];

static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(name, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    ck_assert_int_eq(fclose(f), 0);
}

static bp_sweep *load(const char *text, const char *const *sets, size_t n_sets,
                      const char *const *sweeps, size_t n_sweeps, bp_err *e)
{
    write_file("c.yaml", text);
    bp_err_clear(e);
    return bp_sweep_load("c.yaml", (char *const *)sets, n_sets, (char *const *)sweeps, n_sweeps, e);
}

static bp_sweep *load_ok(const char *text, const char *const *sets, size_t n_sets,
                         const char *const *sweeps, size_t n_sweeps)
{
    bp_err e;
    bp_sweep *s = load(text, sets, n_sets, sweeps, n_sweeps, &e);
    ck_assert_msg(s != NULL, "%s", e.msg);
    return s;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double hp(const bp_config *c, const char *name)
{
    for (size_t i = 0; i < c->train.optimizer.n_hp; i++)
        if (!strcmp(c->train.optimizer.hp[i].name, name))
            return c->train.optimizer.hp[i].value;
    return NAN;
}

static char *print_str(const bp_sweep *s)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    ck_assert_ptr_nonnull(f);
    bp_sweep_print(f, s);
    ck_assert_int_eq(fclose(f), 0);
    return buf;
}

#define BASE "data:\n  train: builtin:xor\nmodel:\n  layers: [2, 3, 1]\ntrain:\n  epochs: 3\n" \
             "  optimizer: sgd\n"

/* ---- expansion ---- */

START_TEST(test_no_sweep)
{
    const char *sets[] = { "train.epochs=5" };
    bp_sweep *s = load_ok(BASE, sets, 1, NULL, 0);
    ck_assert_uint_eq(s->n_trials, 1);
    ck_assert_uint_eq(s->n_points, 1);
    ck_assert_uint_eq(s->repeats, 1);
    ck_assert_uint_eq(s->n_axes, 0);
    const bp_trial_spec *t = &s->trials[0];
    ck_assert_uint_eq(t->id, 0);
    ck_assert_uint_eq(t->point, 0);
    ck_assert_uint_eq(t->repeat, 0);
    ck_assert_uint_eq(t->seed, 1);
    ck_assert_uint_eq(t->cfg->seed, 1);
    ck_assert_str_eq(t->cfg->path, "c.yaml");
    ck_assert_str_eq(t->cfg->text, BASE);
    ck_assert_uint_eq(t->cfg->n_overrides, 1);
    ck_assert_str_eq(t->cfg->overrides[0], "train.epochs=5");
    ck_assert_int_eq(t->cfg->train.epochs, 5);
    ck_assert_str_eq(t->cfg->experiment, "c");
    ck_assert_uint_eq(strlen(s->hash), 16);
    ck_assert_uint_eq(strspn(s->hash, "0123456789abcdef"), 16);
    ck_assert_uint_eq(strlen(t->hash), 16);
    char *p = print_str(s);
    ck_assert_str_eq(p, "trial  point  repeat  seed\n    0      0       0     1\n");
    free(p);
    bp_sweep_free(s);

    /* an empty or null sweep section is no sweep */
    s = load_ok(BASE "sweep: {}\n", NULL, 0, NULL, 0);
    ck_assert_uint_eq(s->n_trials, 1);
    bp_sweep_free(s);
    s = load_ok(BASE "sweep:\n", NULL, 0, NULL, 0);
    ck_assert_uint_eq(s->n_trials, 1);
    ck_assert_ptr_null(bp_node_get(s->trials[0].cfg->root, "sweep"));
    bp_sweep_free(s);
    bp_sweep_free(NULL);
}
END_TEST

START_TEST(test_grid)
{
    bp_sweep *s = load_ok(BASE "sweep:\n  grid:\n    train.optimizer.lr: [0.1, 0.01, 0.001]\n"
                          "    model.activation: [tanh, relu]\n", NULL, 0, NULL, 0);
    ck_assert_uint_eq(s->n_trials, 6);
    ck_assert_uint_eq(s->n_points, 6);
    ck_assert_uint_eq(s->n_axes, 2);
    ck_assert_str_eq(s->axes[0], "train.optimizer.lr");
    ck_assert_str_eq(s->axes[1], "model.activation");
    static const double lr[] = { 0.1, 0.1, 0.01, 0.01, 0.001, 0.001 };
    for (unsigned i = 0; i < 6; i++) {
        const bp_trial_spec *t = &s->trials[i];
        ck_assert_uint_eq(t->id, i);
        ck_assert_uint_eq(t->point, i);
        ck_assert_uint_eq(t->seed, 1);
        ck_assert_str_eq(t->cfg->train.optimizer.name, "sgd");
        ck_assert(hp(t->cfg, "lr") == lr[i]);
        ck_assert_str_eq(t->cfg->model.hidden[0].name, i % 2 ? "relu" : "tanh");
        ck_assert_str_eq(t->values[1], i % 2 ? "relu" : "tanh");
    }
    ck_assert_str_eq(s->trials[4].values[0], "0.001");
    /* the swept value keeps its mark in the sweep section */
    const bp_hpval *h = &s->trials[2].cfg->train.optimizer.hp[0];
    ck_assert_str_eq(h->mark.src, "c.yaml");
    ck_assert_uint_eq(h->mark.line, 10);
    ck_assert_uint_eq(h->mark.col, 31);
    char *p = print_str(s);
    ck_assert_str_eq(p,
        "trial  point  repeat  seed  train.optimizer.lr  model.activation\n"
        "    0      0       0     1  0.1                 tanh\n"
        "    1      1       0     1  0.1                 relu\n"
        "    2      2       0     1  0.01                tanh\n"
        "    3      3       0     1  0.01                relu\n"
        "    4      4       0     1  0.001               tanh\n"
        "    5      5       0     1  0.001               relu\n");
    free(p);
    bp_sweep_free(s);

    /* any YAML as a value: sequences and plugin maps */
    s = load_ok(BASE "sweep:\n  grid:\n    model.layers: [[2, 2, 1], [2, 3, 3, 1]]\n"
                "    train.optimizer: [{name: sgd, lr: 0.1}, {name: adam}]\n"
                "    model.layers[1]: [4]\n", NULL, 0, NULL, 0);
    ck_assert_uint_eq(s->n_trials, 4);
    ck_assert_str_eq(s->trials[0].values[0], "[2, 2, 1]");
    ck_assert_str_eq(s->trials[0].values[1], "{name: sgd, lr: 0.1}");
    ck_assert_str_eq(s->trials[3].values[0], "[2, 3, 3, 1]");
    ck_assert_str_eq(s->trials[3].values[1], "{name: adam}");
    ck_assert_uint_eq(s->trials[3].cfg->model.n_sizes, 4);
    ck_assert_int_eq(s->trials[3].cfg->model.sizes[1], 4); /* [1] applies after layers */
    ck_assert_int_eq(s->trials[3].cfg->model.sizes[2], 3);
    ck_assert_int_eq(s->trials[0].cfg->model.sizes[1], 4);
    ck_assert_str_eq(s->trials[1].cfg->train.optimizer.name, "adam");
    ck_assert(hp(s->trials[0].cfg, "lr") == 0.1);
    bp_sweep_free(s);
}
END_TEST

START_TEST(test_zip_variants)
{
    bp_sweep *s = load_ok(BASE "sweep:\n  zip:\n    train.optimizer.lr: [0.5, 0.25, 0.125]\n"
                          "    train.optimizer.momentum: [0.0, 0.5, 0.9]\n"
                          "  grid: {train.epochs: [10, 20]}\n", NULL, 0, NULL, 0);
    ck_assert_uint_eq(s->n_trials, 6);
    ck_assert_str_eq(s->axes[0], "train.epochs"); /* grid before zip, whatever the order written */
    ck_assert_str_eq(s->axes[1], "train.optimizer.lr");
    ck_assert_str_eq(s->axes[2], "train.optimizer.momentum");
    static const int ep[] = { 10, 10, 10, 20, 20, 20 };
    static const double lr[] = { 0.5, 0.25, 0.125 }, mom[] = { 0.0, 0.5, 0.9 };
    for (unsigned i = 0; i < 6; i++) {
        ck_assert_int_eq(s->trials[i].cfg->train.epochs, ep[i]);
        ck_assert(hp(s->trials[i].cfg, "lr") == lr[i % 3]);
        ck_assert(hp(s->trials[i].cfg, "momentum") == mom[i % 3]);
    }
    bp_sweep_free(s);

    s = load_ok(BASE "sweep:\n  variants:\n    - {model.layers: [2, 2, 1]}\n"
                "    - {model.layers: [2, 5, 1], train.epochs: 7}\n    - {}\n", NULL, 0, NULL, 0);
    ck_assert_uint_eq(s->n_trials, 3);
    ck_assert_uint_eq(s->n_axes, 2);
    ck_assert_str_eq(s->axes[0], "model.layers");
    ck_assert_str_eq(s->axes[1], "train.epochs");
    ck_assert_int_eq(s->trials[0].cfg->model.sizes[1], 2);
    ck_assert_int_eq(s->trials[0].cfg->train.epochs, 3);
    ck_assert_str_eq(s->trials[0].values[1], "3"); /* not in the variant: the value it has */
    ck_assert_int_eq(s->trials[1].cfg->model.sizes[1], 5);
    ck_assert_int_eq(s->trials[1].cfg->train.epochs, 7);
    ck_assert_str_eq(s->trials[2].values[0], "[2, 3, 1]");
    ck_assert_str_eq(s->trials[2].values[1], "3");
    bp_sweep_free(s);

    /* all blocks: grid x zip x variants x random x repeats */
    s = load_ok(BASE "sweep:\n  random: {trials: 2, params: {train.optimizer.lr: {uniform: [0, 1]}}}\n"
                "  variants: [{model.activation: tanh}, {model.activation: relu}]\n"
                "  zip: {train.batch_size: [1, 2], train.shuffle: [true, false]}\n"
                "  grid: {train.epochs: [4, 5]}\n  repeats: 2\n", NULL, 0, NULL, 0);
    ck_assert_uint_eq(s->n_points, 16);
    ck_assert_uint_eq(s->n_trials, 32);
    ck_assert_str_eq(s->axes[3], "model.activation");
    ck_assert_str_eq(s->axes[4], "train.optimizer.lr");
    /* point 13 = epochs 5 (13/8), zip row 1 (13/4%2), variant 0 (13/2%2), sample 1 (13%2) */
    const bp_trial_spec *t = &s->trials[27];
    ck_assert_uint_eq(t->point, 13);
    ck_assert_uint_eq(t->repeat, 1);
    ck_assert_uint_eq(t->seed, 2);
    ck_assert_int_eq(t->cfg->train.epochs, 5);
    ck_assert_int_eq(t->cfg->train.batch_size, 2);
    ck_assert_int_eq(t->cfg->train.shuffle, 0);
    ck_assert_str_eq(t->cfg->model.hidden[0].name, "tanh");
    ck_assert_str_eq(s->trials[5].cfg->model.hidden[0].name, "relu"); /* point 2: variant 1 */
    ck_assert_str_eq(t->values[4], s->trials[3].values[4]); /* sample 1 */
    ck_assert_str_ne(t->values[4], s->trials[1].values[4]); /* sample 0 */
    bp_sweep_free(s);
}
END_TEST

#define RANDOM BASE "sweep:\n  random:\n    trials: 300\n    params:\n" \
    "      train.optimizer.lr: {log_uniform: [1e-4, 1]}\n" \
    "      train.batch_size: {int: [1, 3]}\n" \
    "      model.activation: {choice: [tanh, relu, {name: leaky_relu, alpha: 0.1}]}\n" \
    "      train.optimizer.momentum: {uniform: [0.5, 0.9]}\n"

START_TEST(test_random)
{
    bp_sweep *a = load_ok(RANDOM, NULL, 0, NULL, 0), *b = load_ok(RANDOM, NULL, 0, NULL, 0);
    const char *sets[] = { "seed=2" };
    bp_sweep *c = load_ok(RANDOM, sets, 1, NULL, 0);
    ck_assert_uint_eq(a->n_trials, 300);
    int seen_int[4] = { 0 }, seen_choice[3] = { 0 }, differ = 0;
    double lr_min = 1, lr_max = 0;
    for (size_t i = 0; i < 300; i++) {
        const bp_config *x = a->trials[i].cfg;
        for (size_t k = 0; k < 4; k++)
            ck_assert_str_eq(a->trials[i].values[k], b->trials[i].values[k]);
        differ += strcmp(a->trials[i].values[0], c->trials[i].values[0]) != 0;
        double lr = hp(x, "lr"), m = hp(x, "momentum");
        ck_assert(lr >= 1e-4 && lr <= 1);
        ck_assert(m >= 0.5 && m <= 0.9);
        lr_min = fmin(lr_min, lr);
        lr_max = fmax(lr_max, lr);
        ck_assert(x->train.batch_size >= 1 && x->train.batch_size <= 3);
        seen_int[x->train.batch_size]++;
        const char *act = x->model.hidden[0].name;
        seen_choice[!strcmp(act, "tanh") ? 0 : !strcmp(act, "relu") ? 1 : 2]++;
        if (!strcmp(act, "leaky_relu"))
            ck_assert_str_eq(a->trials[i].values[2], "{name: leaky_relu, alpha: 0.1}");
        /* the sampled text is the value the config got, exactly */
        ck_assert(strtod(a->trials[i].values[0], NULL) == lr);
    }
    ck_assert(seen_int[1] && seen_int[2] && seen_int[3]);
    ck_assert(seen_choice[0] && seen_choice[1] && seen_choice[2]);
    ck_assert(lr_min < 1e-3 && lr_max > 0.1); /* log scale: spread over the decades */
    ck_assert_int_gt(differ, 290);
    ck_assert_str_eq(a->hash, b->hash);
    ck_assert_str_ne(a->hash, c->hash);
    bp_sweep_free(a);
    bp_sweep_free(b);
    bp_sweep_free(c);

    /* the sample of index k does not depend on how many are drawn; int over a full range */
    a = load_ok(BASE "sweep: {random: {trials: 3, params: {train.optimizer.lr: {uniform: [0, 1]}}}}\n",
                NULL, 0, NULL, 0);
    b = load_ok(BASE "sweep: {random: {trials: 5, params: {train.optimizer.lr: {uniform: [0, 1]}}}}\n",
                NULL, 0, NULL, 0);
    for (size_t i = 0; i < 3; i++)
        ck_assert_str_eq(a->trials[i].values[0], b->trials[i].values[0]);
    bp_sweep_free(a);
    bp_sweep_free(b);
    a = load_ok(BASE "sweep: {random: {trials: 4, params: {train.optimizer.lr: {int: "
                "[-9223372036854775808, 9223372036854775807]}, train.epochs: {int: [7, 7]}}}}\n",
                NULL, 0, NULL, 0);
    for (size_t i = 0; i < 4; i++)
        ck_assert_int_eq(a->trials[i].cfg->train.epochs, 7);
    bp_sweep_free(a);
}
END_TEST

START_TEST(test_repeats)
{
    bp_sweep *s = load_ok(BASE "seed: 10\nsweep:\n  grid: {train.epochs: [1, 2]}\n  repeats: 3\n",
                          NULL, 0, NULL, 0);
    ck_assert_uint_eq(s->n_points, 2);
    ck_assert_uint_eq(s->repeats, 3);
    ck_assert_uint_eq(s->n_trials, 6);
    for (unsigned i = 0; i < 6; i++) {
        const bp_trial_spec *t = &s->trials[i];
        ck_assert_uint_eq(t->id, i);
        ck_assert_uint_eq(t->point, i / 3);
        ck_assert_uint_eq(t->repeat, i % 3);
        ck_assert_uint_eq(t->seed, 10 + i % 3);
        ck_assert_uint_eq(t->cfg->seed, 10 + i % 3);
        ck_assert_int_eq(t->cfg->train.epochs, 1 + (int)i / 3);
        const bp_node *sn = bp_node_get(t->cfg->root, "seed");
        ck_assert_ptr_nonnull(sn);
        char want[8];
        snprintf(want, sizeof want, "%u", 10 + i % 3);
        ck_assert_str_eq(sn->value, want);
        for (unsigned j = 0; j < i; j++) /* every trial's own hash */
            ck_assert_str_ne(t->hash, s->trials[j].hash);
    }
    char *p = print_str(s);
    ck_assert_str_eq(p,
        "trial  point  repeat  seed  train.epochs\n"
        "    0      0       0    10  1\n"
        "    1      0       1    11  1\n"
        "    2      0       2    12  1\n"
        "    3      1       0    10  2\n"
        "    4      1       1    11  2\n"
        "    5      1       2    12  2\n");
    free(p);
    bp_sweep_free(s);

    /* --set reaches the sweep section too */
    const char *sets[] = { "sweep.repeats=4" };
    s = load_ok(BASE "sweep: {repeats: 2}\n", sets, 1, NULL, 0);
    ck_assert_uint_eq(s->n_trials, 4);
    ck_assert_uint_eq(s->trials[3].seed, 4);
    bp_sweep_free(s);
}
END_TEST

START_TEST(test_cli_sweep)
{
    const char *sw[] = { "train.optimizer.lr=1e-3,1e-2,1e-1", "model.activation=tanh,relu",
                         "train.epochs=7" };
    bp_sweep *s = load_ok(BASE "sweep:\n  grid: {model.activation: [sigmoid], train.batch_size: [1, 2]}\n",
                          NULL, 0, sw, 3);
    /* replaced in place, added at the end of the grid */
    ck_assert_uint_eq(s->n_axes, 4);
    ck_assert_str_eq(s->axes[0], "model.activation");
    ck_assert_str_eq(s->axes[1], "train.batch_size");
    ck_assert_str_eq(s->axes[2], "train.optimizer.lr");
    ck_assert_str_eq(s->axes[3], "train.epochs");
    ck_assert_uint_eq(s->n_trials, 12);
    ck_assert_str_eq(s->trials[0].cfg->model.hidden[0].name, "tanh");
    ck_assert_str_eq(s->trials[6].cfg->model.hidden[0].name, "relu");
    ck_assert(hp(s->trials[1].cfg, "lr") == 1e-2);
    ck_assert_str_eq(s->trials[1].values[2], "1e-2");
    ck_assert_int_eq(s->trials[11].cfg->train.epochs, 7);
    const bp_hpval *h = &s->trials[1].cfg->train.optimizer.hp[0];
    ck_assert_str_eq(h->mark.src, "--sweep");
    ck_assert_uint_eq(h->mark.line, 1);
    ck_assert_uint_eq(h->mark.col, 6);
    bp_sweep_free(s);

    /* commas inside [] {} and quotes do not split; no sweep section needed */
    const char *sw2[] = { "model.layers=[2, 2, 1],[2,4,1] , [2, 8, 8, 1]",
                          "train.optimizer={name: adam, lr: 0.1},{name: sgd}",
                          "model.output='a,b', \"c,\\\"d\",'it''s'" };
    s = load_ok(BASE, NULL, 0, sw2, 3);
    ck_assert_uint_eq(s->n_trials, 18);
    ck_assert_str_eq(s->trials[0].values[0], "[2, 2, 1]");
    ck_assert_str_eq(s->trials[6].values[0], "[2, 4, 1]");
    ck_assert_str_eq(s->trials[12].values[0], "[2, 8, 8, 1]");
    ck_assert_uint_eq(s->trials[12].cfg->model.n_sizes, 4);
    ck_assert_str_eq(s->trials[0].values[1], "{name: adam, lr: 0.1}");
    ck_assert_str_eq(s->trials[3].values[1], "{name: sgd}");
    ck_assert_str_eq(s->trials[0].cfg->model.output.name, "a,b");
    ck_assert_str_eq(s->trials[0].values[2], "\"a,b\"");
    ck_assert_str_eq(s->trials[1].cfg->model.output.name, "c,\"d");
    ck_assert_str_eq(s->trials[2].cfg->model.output.name, "it's");
    /* marks count columns in the whole list */
    ck_assert_uint_eq(s->trials[12].cfg->model.sizes_mark.col, 21);
    bp_sweep_free(s);
}
END_TEST

/* ---- errors ---- */

typedef struct bad_case {
    const char *yaml;     /* appended to BASE */
    const char *sweep;    /* one --sweep, or NULL */
    int code;
    const char *msg;
} bad_case;

static const bad_case bad[] = {
    { "sweep:\n  gird: {train.epochs: [1]}\n", NULL, BP_ECONFIG,
      "c.yaml:9:3: sweep.gird: unknown key (did you mean 'grid'?)" },
    { "sweep:\n  foo: 1\n", NULL, BP_ECONFIG,
      "c.yaml:9:3: sweep.foo: unknown key (valid keys: grid, zip, variants, random, repeats, "
      "halving, race, hyperband, pbt, search)" },
    { "sweep:\n  search: {params: {train.epochs: {int: [1, 2]}}}\n", NULL, BP_ECONFIG,
      "c.yaml:9:3: sweep.search: missing required key 'trials'" },
    { "sweep:\n  search: {trials: 4, method: bayes, params: {train.epochs: {int: [1, 2]}}}\n",
      NULL, BP_ECONFIG, "c.yaml:9:31: sweep.search.method: expected tpe or random (got 'bayes')" },
    { "sweep:\n  search: {trials: 4, params: {seed: {int: [1, 2]}}}\n", NULL, BP_ECONFIG,
      "c.yaml:9:32: sweep.search.params.seed: the seed cannot be searched (every trial of a "
      "search uses the experiment seed; search again with --set seed=N)" },
    { "sweep:\n  search: {trials: 4, batch: 0, params: {train.epochs: {int: [1, 2]}}}\n", NULL,
      BP_ECONFIG, "c.yaml:9:30: sweep.search.batch: must be >= 1 (got 0)" },
    { "sweep:\n  search: {trials: 4, params: {train.epochs: {int: [1, 2]}}}\n",
      "train.batch_size=1,2", BP_ECONFIG, "c.yaml:9:3: sweep.search: cannot be combined with "
      "other sweep blocks or --sweep (got --sweep train.batch_size=1,2)" },
    { "sweep:\n  repeats: 2\n  search: {trials: 4, params: {train.epochs: {int: [1, 2]}}}\n",
      NULL, BP_ECONFIG, "c.yaml:10:3: sweep.search: cannot be combined with other sweep blocks "
      "or --sweep (got sweep.repeats)" },
    { "sweep:\n  search: {trials: 4, params: {train.optimizer: {choice: [{name: sgd, lr: "
      "{unifrom: [0, 1]}}]}}}\n", NULL, BP_ECONFIG, "c.yaml:9:76: sweep.search.params."
      "train.optimizer.choice[0].lr.unifrom: unknown key (did you mean 'uniform'?)" },
    { "sweep:\n  search: {trials: 4, params: {train.optimizer: {choice: [{name: sgd, lr: "
      "{choice: []}}]}}}\n", NULL, BP_ECONFIG, "c.yaml:9:84: sweep.search.params."
      "train.optimizer.choice[0].lr.choice: expected a sequence of at least one option (got [])" },
    { "sweep:\n  hyperband: {max_epochs: 9}\n  search: {trials: 4, params: {train.epochs: "
      "{int: [1, 2]}}}\n", NULL, BP_ECONFIG, "c.yaml:10:3: sweep.search: cannot be combined with "
      "other sweep blocks or --sweep (got sweep.hyperband)" },
    { "sweep:\n  pbt: {population: 4}\n  search: {trials: 4, params: {train.epochs: "
      "{int: [1, 2]}}}\n", NULL, BP_ECONFIG, "c.yaml:9:3: sweep.pbt: cannot be used with "
      "sweep.search (the population is the whole search)" },
    { "sweep:\n  halving: {rungs: [1, 1]}\n", NULL, BP_ECONFIG,
      "c.yaml:9:24: sweep.halving.rungs[1]: rungs must increase (got 1 after 1)" },
    { "sweep:\n  halving: {rungs: [2], metric: acc}\n", NULL, BP_ECONFIG,
      "c.yaml:9:33: sweep.halving.metric: expected val_loss or loss (got 'acc')" },
    { "sweep:\n  halving: {rungs: [2], eta: 2, keep: 0.5}\n", NULL, BP_ECONFIG,
      "c.yaml:9:39: sweep.halving.keep: give eta or keep, not both" },
    { "sweep:\n  halving: {rungs: [2], keep: 1}\n", NULL, BP_ECONFIG,
      "c.yaml:9:31: sweep.halving.keep: must be in (0, 1) (got 1)" },
    { "sweep:\n  halving: {eta: 2}\n", NULL, BP_ECONFIG,
      "c.yaml:9:3: sweep.halving: missing required key 'rungs'" },
    { "sweep:\n  halving: {rungs: [2]}\n", NULL, BP_ECONFIG,
      "c.yaml:9:3: sweep.halving: metric val_loss needs validation data (set data.validation, or "
      "use metric: loss)" },
    { "sweep:\n  grid: {train.epochs: [3, 4]}\n  halving: {rungs: [2], metric: loss}\n", NULL,
      BP_ECONFIG, "c.yaml:10:3: sweep.halving: needs the same train.epochs in every trial (trial "
      "0 has 3, trial 1 has 4)" },
    { "sweep: [1]\n", NULL, BP_ECONFIG, "c.yaml:8:8: sweep: expected a map (got a sequence)" },
    { "sweep:\n  grid: [1]\n", NULL, BP_ECONFIG,
      "c.yaml:9:9: sweep.grid: expected a map of key paths to sequences of values (got a sequence)" },
    { "sweep:\n  grid:\n    train.epochs: 5\n", NULL, BP_ECONFIG,
      "c.yaml:10:19: sweep.grid.train.epochs: expected a sequence of values (got '5')" },
    { "sweep:\n  grid:\n    train.epochs: []\n", NULL, BP_ECONFIG,
      "c.yaml:10:19: sweep.grid.train.epochs: expected at least one value (got [])" },
    { "sweep:\n  grid:\n    train.epochs: {a: 1}\n", NULL, BP_ECONFIG,
      "c.yaml:10:19: sweep.grid.train.epochs: expected a sequence of values (got a map)" },
    { "sweep:\n  zip:\n    train.epochs: [1, 2]\n    train.batch_size: [1, 2, 3]\n", NULL, BP_ECONFIG,
      "c.yaml:11:23: sweep.zip.train.batch_size: expected 2 values, as many as "
      "sweep.zip.train.epochs (got 3)" },
    { "sweep:\n  zip: {train.epochs: []}\n", NULL, BP_ECONFIG,
      "c.yaml:9:23: sweep.zip.train.epochs: expected at least one value (got [])" },
    { "sweep:\n  variants: {a: 1}\n", NULL, BP_ECONFIG,
      "c.yaml:9:13: sweep.variants: expected a sequence of maps (got a map)" },
    { "sweep:\n  variants: []\n", NULL, BP_ECONFIG,
      "c.yaml:9:13: sweep.variants: expected at least one variant (got [])" },
    { "sweep:\n  variants: [{train.epochs: 2}, tanh]\n", NULL, BP_ECONFIG,
      "c.yaml:9:33: sweep.variants[1]: expected a map of key paths to values (got 'tanh')" },
    { "sweep:\n  repeats: 0\n", NULL, BP_ECONFIG,
      "c.yaml:9:12: sweep.repeats: must be >= 1 (got 0)" },
    { "sweep:\n  repeats: 100001\n", NULL, BP_ECONFIG,
      "c.yaml:9:12: sweep.repeats: must be <= 100000 (got 100001)" },
    { "sweep:\n  repeats: two\n", NULL, BP_ECONFIG,
      "c.yaml:9:12: sweep.repeats: expected an integer (got 'two')" },
    { "sweep:\n  repeats: 2.5\n", NULL, BP_ECONFIG,
      "c.yaml:9:12: sweep.repeats: expected an integer (got '2.5')" },
    { "sweep:\n  random: 5\n", NULL, BP_ECONFIG,
      "c.yaml:9:11: sweep.random: expected a map {trials: N, params: {...}} (got '5')" },
    { "sweep:\n  random: {trails: 5}\n", NULL, BP_ECONFIG,
      "c.yaml:9:12: sweep.random.trails: unknown key (did you mean 'trials'?)" },
    { "sweep:\n  random: {trials: 5}\n", NULL, BP_ECONFIG,
      "c.yaml:9:3: sweep.random: missing required key 'params'" },
    { "sweep:\n  random: {params: {train.epochs: {int: [1, 2]}}}\n", NULL, BP_ECONFIG,
      "c.yaml:9:3: sweep.random: missing required key 'trials'" },
    { "sweep:\n  random: {trials: 0, params: {train.epochs: {int: [1, 2]}}}\n", NULL, BP_ECONFIG,
      "c.yaml:9:20: sweep.random.trials: must be >= 1 (got 0)" },
    { "sweep:\n  random: {trials: 2, params: {}}\n", NULL, BP_ECONFIG,
      "c.yaml:9:31: sweep.random.params: expected at least one parameter (got {})" },
    { "sweep:\n  random: {trials: 2, params: [1]}\n", NULL, BP_ECONFIG,
      "c.yaml:9:31: sweep.random.params: expected a map of key paths to distributions (got a "
      "sequence)" },
    { "sweep:\n  random: {trials: 2, params: {train.epochs: 5}}\n", NULL, BP_ECONFIG,
      "c.yaml:9:46: sweep.random.params.train.epochs: expected a map "
      "{uniform|log_uniform|int|choice: ...} (got '5')" },
    { "sweep:\n  random: {trials: 2, params: {train.epochs: {}}}\n", NULL, BP_ECONFIG,
      "c.yaml:9:46: sweep.random.params.train.epochs: expected one of uniform, log_uniform, int, "
      "choice (got {})" },
    { "sweep:\n  random: {trials: 2, params: {train.epochs: {unifrom: [1, 2]}}}\n", NULL,
      BP_ECONFIG, "c.yaml:9:47: sweep.random.params.train.epochs.unifrom: unknown key (did you "
      "mean 'uniform'?)" },
    { "sweep:\n  random: {trials: 2, params: {train.epochs: {normal: [1, 2]}}}\n", NULL,
      BP_ECONFIG, "c.yaml:9:47: sweep.random.params.train.epochs.normal: unknown key (valid keys: "
      "uniform, log_uniform, int, choice)" },
    { "sweep:\n  random: {trials: 2, params: {train.epochs: {int: [1, 2], choice: [1]}}}\n", NULL,
      BP_ECONFIG, "c.yaml:9:60: sweep.random.params.train.epochs.choice: only one distribution "
      "per parameter (also got 'int')" },
    { "sweep:\n  random: {trials: 2, params: {train.epochs: {int: [1, 2, 3]}}}\n", NULL,
      BP_ECONFIG, "c.yaml:9:52: sweep.random.params.train.epochs.int: expected [low, high] (got "
      "a sequence of 3)" },
    { "sweep:\n  random: {trials: 2, params: {train.epochs: {int: 4}}}\n", NULL,
      BP_ECONFIG, "c.yaml:9:52: sweep.random.params.train.epochs.int: expected [low, high] (got "
      "'4')" },
    { "sweep:\n  random: {trials: 2, params: {train.epochs: {int: [1, 2.5]}}}\n", NULL,
      BP_ECONFIG, "c.yaml:9:56: sweep.random.params.train.epochs.int[1]: expected an integer "
      "(got '2.5')" },
    { "sweep:\n  random: {trials: 2, params: {train.epochs: {int: [5, 3]}}}\n", NULL,
      BP_ECONFIG, "c.yaml:9:52: sweep.random.params.train.epochs.int: low must be <= high (got "
      "[5, 3])" },
    { "sweep:\n  random: {trials: 2, params: {train.optimizer.lr: {uniform: [1, 1]}}}\n", NULL,
      BP_ECONFIG, "c.yaml:9:62: sweep.random.params.train.optimizer.lr.uniform: low must be < "
      "high (got [1, 1])" },
    { "sweep:\n  random: {trials: 2, params: {train.optimizer.lr: {uniform: [a, 1]}}}\n", NULL,
      BP_ECONFIG, "c.yaml:9:63: sweep.random.params.train.optimizer.lr.uniform[0]: expected a "
      "number (got 'a')" },
    { "sweep:\n  random: {trials: 2, params: {train.optimizer.lr: {uniform: [0, 1e999]}}}\n", NULL,
      BP_ECONFIG, "c.yaml:9:66: sweep.random.params.train.optimizer.lr.uniform[1]: must be a "
      "finite number (got '1e999')" },
    { "sweep:\n  random: {trials: 2, params: {train.optimizer.lr: {log_uniform: [0, 1]}}}\n", NULL,
      BP_ECONFIG, "c.yaml:9:66: sweep.random.params.train.optimizer.lr.log_uniform: expected 0 < "
      "low < high (got [0, 1])" },
    { "sweep:\n  random: {trials: 2, params: {model.activation: {choice: []}}}\n", NULL,
      BP_ECONFIG, "c.yaml:9:59: sweep.random.params.model.activation.choice: expected at least "
      "one value (got [])" },
    { "sweep:\n  random: {trials: 2, params: {model.activation: {choice: tanh}}}\n", NULL,
      BP_ECONFIG, "c.yaml:9:59: sweep.random.params.model.activation.choice: expected a sequence "
      "of values (got 'tanh')" },
    /* one key, one block */
    { "sweep:\n  grid: {train.epochs: [1]}\n  zip: {train.epochs: [2]}\n", NULL, BP_ECONFIG,
      "c.yaml:10:9: sweep.zip.train.epochs: already swept in sweep.grid (c.yaml:9:10)" },
    { "sweep:\n  grid: {train.epochs: [1]}\n  variants: [{train.epochs: 2}]\n", NULL, BP_ECONFIG,
      "c.yaml:10:15: sweep.variants[0].train.epochs: already swept in sweep.grid (c.yaml:9:10)" },
    { "sweep:\n  zip: {train.epochs: [1]}\n  random: {trials: 1, params: {train.epochs: {int: "
      "[1, 2]}}}\n", NULL, BP_ECONFIG, "c.yaml:10:32: sweep.random.params.train.epochs: already "
      "swept in sweep.zip (c.yaml:9:9)" },
    { "sweep:\n  grid: {seed: [1, 2]}\n", NULL, BP_ECONFIG,
      "c.yaml:9:10: sweep.grid.seed: the seed cannot be swept (use sweep.repeats for restarts)" },
    { "sweep:\n  variants: [{experiment: a}]\n", NULL, BP_ECONFIG,
      "c.yaml:9:15: sweep.variants[0].experiment: cannot be swept: all trials of a sweep share "
      "one run folder" },
    /* key paths are checked like --set paths */
    { "sweep:\n  grid:\n    model.layers[9]: [1]\n", NULL, BP_ECONFIG,
      "c.yaml:10:5: sweep.grid: model.layers[9]: index 9 is out of range (model.layers has 3 "
      "entries)" },
    { "sweep:\n  grid: {train..epochs: [1]}\n", NULL, BP_EUSAGE,
      "c.yaml:9:10: sweep.grid: train..epochs: empty key in the path" },
    { "sweep:\n  variants:\n    - {}\n    - model.layers[x]: 1\n", NULL, BP_EUSAGE,
      "c.yaml:11:7: sweep.variants[1]: model.layers[x]: expected a number inside [ ]" },
    /* trial configs are validated; swept values are reported at their mark */
    { "sweep:\n  grid:\n    train.epochs: [10, 0]\n", NULL, BP_ECONFIG,
      "c.yaml:10:24: train.epochs: must be >= 1 (got 0) (in trial 1: train.epochs=0)" },
    { "sweep:\n  grid: {train.epoch: [1]}\n", NULL, BP_ECONFIG,
      "c.yaml:9:10: train.epoch: unknown key (did you mean 'epochs'?) (in trial 0: "
      "train.epoch=1)" },
    { "sweep:\n  variants: [{}, {model.loss: cross_entropy}]\n  grid: {train.epochs: [1]}\n", NULL,
      BP_ECONFIG, "c.yaml:9:31: model.loss: softmax needs at least 2 output units (got 1); for "
      "one output unit use loss binary_cross_entropy with output sigmoid (in trial 1: "
      "train.epochs=1, model.loss=cross_entropy)" },
    { "sweep:\n  random: {trials: 3, params: {train.batch_size: {int: [-5, -1]}}}\n", NULL,
      BP_ECONFIG, "c.yaml:9:50: train.batch_size: must be >= 1 (got -2) (in trial 0: "
      "train.batch_size=-2)" },
    { "seed: x\nsweep:\n  repeats: 2\n", NULL, BP_ECONFIG,
      "c.yaml:8:7: seed: expected an integer (got 'x')" },
    /* limits */
    { "sweep:\n  grid: {train.epochs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}\n  repeats: 10001\n", NULL,
      BP_ECONFIG, "c.yaml:8:1: sweep: expands to more than 100000 trials" },
    /* --sweep */
    { "", "foo", BP_EUSAGE, "--sweep foo: expected key.path=value1,value2,..." },
    { "", "=1,2", BP_EUSAGE, "--sweep =1,2: expected key.path=value1,value2,..." },
    { "", "train.epochs=1,,2", BP_EUSAGE, "--sweep train.epochs=1,,2: expected "
      "key.path=value1,value2,... (value 2 is empty; write null for the default)" },
    { "", "train.epochs=", BP_EUSAGE, "--sweep train.epochs=: expected key.path=value1,value2,... "
      "(value 1 is empty; write null for the default)" },
    { "", "train.epochs=1,", BP_EUSAGE, "--sweep train.epochs=1,: expected "
      "key.path=value1,value2,... (value 2 is empty; write null for the default)" },
    { "", "model.layers=[2, 3", BP_ECONFIG, "--sweep model.layers=[2, 3: --sweep:2:1: YAML syntax "
      "error: did not find expected ',' or ']' (while parsing a flow sequence that started at 1:1)" },
    { "sweep:\n  zip: {train.epochs: [1]}\n", "train.epochs=1,2", BP_EUSAGE,
      "--sweep train.epochs=1,2: already swept in sweep.zip (c.yaml:9:9)" },
    { "", "seed=1,2", BP_EUSAGE,
      "--sweep seed=1,2: the seed cannot be swept (use sweep.repeats for restarts)" },
    { "", "model.layers[7]=1,2", BP_ECONFIG, "--sweep model.layers[7]=1,2: model.layers[7]: index "
      "7 is out of range (model.layers has 3 entries)" },
    { "", "train.epochs=5, -1", BP_ECONFIG,
      "--sweep:1:4: train.epochs: must be >= 1 (got -1) (in trial 1: train.epochs=-1)" },
    { "", "model.layers=[2, 3, 1],[2, x, 1]", BP_ECONFIG,
      "--sweep:1:15: model.layers[1]: expected an integer (got 'x') (in trial 1: "
      "model.layers=[2, x, 1])" },
};

START_TEST(test_bad)
{
    const bad_case *b = &bad[_i];
    char text[2048];
    snprintf(text, sizeof text, "%s%s", BASE, b->yaml);
    const char *sw[] = { b->sweep };
    bp_err e;
    bp_sweep *s = load(text, NULL, 0, sw, b->sweep ? 1 : 0, &e);
    ck_assert_msg(s == NULL, "case %d loaded", _i);
    ck_assert_int_eq(e.code, b->code);
    ck_assert_str_eq(e.msg, b->msg);
}
END_TEST

START_TEST(test_bad_files)
{
    bp_err e;
    bp_err_clear(&e);
    ck_assert_ptr_null(bp_sweep_load("missing.yaml", NULL, 0, NULL, 0, &e));
    ck_assert_str_eq(e.msg, "missing.yaml: cannot open: No such file or directory");
    ck_assert_ptr_null(bp_sweep_load("missing.yaml", NULL, 0, NULL, 0, NULL));
    ck_assert_ptr_null(load("- 1\n", NULL, 0, NULL, 0, &e));
    ck_assert_int_eq(e.code, BP_ECONFIG);
    const char *sets[] = { "sweep.repeat=2" };
    ck_assert_ptr_null(load(BASE, sets, 1, NULL, 0, &e));
    ck_assert_str_eq(e.msg, "--set:1:1: sweep.repeat: unknown key (did you mean 'repeats'?)");
    const char *bad_set[] = { "train.epochs" };
    ck_assert_ptr_null(load(BASE, bad_set, 1, NULL, 0, &e));
    ck_assert_str_eq(e.msg, "--set train.epochs: expected key.path=value");
    /* a huge config times many trials is refused before it eats the memory */
    size_t n = 3u << 20;
    char *big = malloc(n + 256);
    ck_assert_ptr_nonnull(big);
    memcpy(big, BASE "sweep: {repeats: 1000}\n#", strlen(BASE) + 24);
    memset(big + strlen(BASE) + 24, 'x', n);
    big[strlen(BASE) + 24 + n] = '\0';
    ck_assert_ptr_null(load(big, NULL, 0, NULL, 0, &e));
    free(big);
    ck_assert_int_eq(e.code, BP_ECONFIG);
    ck_assert_msg(strstr(e.msg, "c.yaml:8:1: sweep: 1000 trials of this config would take about ")
                  == e.msg, "%s", e.msg);
}
END_TEST

/* ---- hash, performance ---- */

START_TEST(test_halving)
{
    bp_sweep *s = load_ok(BASE "sweep:\n  grid: {train.optimizer.lr: [0.1, 0.2]}\n"
                          "  halving: {rungs: [1, 2, 3], keep: 0.25, metric: loss}\n",
                          NULL, 0, NULL, 0);
    ck_assert_uint_eq(s->halving.n_rungs, 2); /* the last rung is train.epochs: the end */
    ck_assert_int_eq(s->halving.rungs[0], 1);
    ck_assert_int_eq(s->halving.rungs[1], 2);
    ck_assert(s->halving.eta == 4);
    ck_assert_int_eq(s->halving.val, 0);
    bp_sweep_free(s);
    const char *sets[] = { "data.validation=0.5" };
    s = load_ok(BASE "sweep:\n  halving: {rungs: [2]}\n", sets, 1, NULL, 0);
    ck_assert_uint_eq(s->halving.n_rungs, 1);
    ck_assert(s->halving.eta == 3);
    ck_assert_int_eq(s->halving.val, 1);
    bp_sweep_free(s);
    s = load_ok(BASE, NULL, 0, NULL, 0);
    ck_assert_uint_eq(s->halving.n_rungs, 0);
    bp_sweep_free(s);
}
END_TEST

/* rounds.h: a fake executor that "runs" a round by setting each trial's row from a table;
 * the halving strategy's rounds and decisions over it (no files: every row ends at the rung) */
typedef struct fake_exec {
    bp_trial_summary rows[8];
    const double *loss;   /* loss of trial i at epoch e: loss[i * 4 + e - 1] */
    int seen[8][4];       /* round k ran trial i */
    size_t rounds;
    int stop_at;          /* exec says stop in this round (-1: never) */
    bp_halving_rounds *h;
} fake_exec;

static int fake_run(void *ud, const bp_round *r, bp_err *e)
{
    (void)e;
    fake_exec *f = ud;
    if ((int)f->rounds == f->stop_at)
        return 1;
    for (size_t i = 0; i < r->n; i++) {
        size_t id = r->ids[i];
        bp_trial_summary *t = &f->rows[id];
        const char *msg;
        f->seen[id][f->rounds] = 1;
        if (bp_round_reached(t, r->until))
            continue;
        if (bp_halving_action(f->h, id, &msg) == BP_HALVING_PRUNE) {
            t->status = "pruned";   /* ended where it stands */
            continue;
        }
        t->epochs = r->until;
        t->status = r->until < 4 ? "interrupted" : "completed";
        t->final_loss = f->loss[id * 4 + (size_t)t->epochs - 1];
    }
    f->rounds++;
    return 0;
}

START_TEST(test_rounds_halving)
{
    const char *sets[] = { "train.epochs=4" };
    bp_sweep *s = load_ok(BASE "sweep:\n  grid: {train.optimizer.lr: [0.1, 0.2, 0.3, 0.4]}\n"
                          "  repeats: 2\n  halving: {rungs: [1, 2], eta: 2, metric: loss}\n",
                          sets, 1, NULL, 0);
    ck_assert_uint_eq(s->n_trials, 8);
    /* point 1 best at rungs 1 and 2, point 2 next; points 0 and 3 worst at rung 1 */
    static const double loss[] = { 9, 9, 9, 9,  9, 9, 9, 9,  5, 4, 3, 2,  5, 4, 3, 2,
                                   6, 5, 4, 3,  6, 5, 4, 3,  8, 8, 8, 8,  8, 8, 8, 8 };
    fake_exec f = { .loss = loss, .stop_at = -1 };
    for (size_t i = 0; i < 8; i++)
        f.rows[i].status = "pending";
    bp_err e;
    bp_err_clear(&e);
    bp_halving_rounds *h = bp_halving_rounds_new(s, "/nonexistent", &e);
    ck_assert_ptr_nonnull(h);
    f.h = h;
    bp_rounds_ops ops = bp_halving_rounds_ops(h);
    bp_rounds_exec x = { .ud = &f, .exec = fake_run, .rows = f.rows };
    ck_assert_int_eq(bp_rounds_drive(&ops, &x, &e), 0);
    ck_assert_uint_eq(f.rounds, 3);
    const char *want[] = { "pruned", "pruned", "completed", "completed", "pruned", "pruned",
                           "pruned", "pruned" };
    int epochs[] = { 1, 1, 4, 4, 2, 2, 1, 1 };
    for (size_t i = 0; i < 8; i++) {
        ck_assert_str_eq(f.rows[i].status, want[i]);
        ck_assert_int_eq(f.rows[i].epochs, epochs[i]);
    }
    /* round 2 (k = 1) trains points 1 and 2 and ends points 0 and 3 as pruned */
    for (size_t i = 0; i < 8; i++)
        ck_assert_int_eq(f.seen[i][1], 1);
    ck_assert_int_eq(f.seen[0][2], 0);
    ck_assert_int_eq(f.seen[4][2], 1);   /* point 2 is pruned in round 3 */
    const char *msg;
    ck_assert_int_eq(bp_halving_action(h, 4, &msg), BP_HALVING_PRUNE);
    ck_assert_str_eq(msg, "pruned at epoch 2 (rung 2 of 2): point 2's mean loss 5 over its "
                     "repeats ranked 2 of 2 points, the best 1 go on");
    ck_assert_int_eq(bp_halving_action(h, 2, &msg), BP_HALVING_TRAIN);
    ck_assert_int_eq(bp_halving_action(h, 0, &msg), BP_HALVING_NONE);
    bp_halving_rounds_free(h);
    /* a stop in the second round: no decision after it, the rounds end without error */
    fake_exec g = { .loss = loss, .stop_at = 1 };
    for (size_t i = 0; i < 8; i++)
        g.rows[i].status = "pending";
    h = bp_halving_rounds_new(s, "/nonexistent", &e);
    g.h = h;
    ops = bp_halving_rounds_ops(h);
    x = (bp_rounds_exec){ .ud = &g, .exec = fake_run, .rows = g.rows };
    ck_assert_int_eq(bp_rounds_drive(&ops, &x, &e), 0);
    ck_assert_uint_eq(g.rounds, 1);
    ck_assert_str_eq(g.rows[0].status, "interrupted");
    bp_halving_rounds_free(h);
    bp_sweep_free(s);
    /* reached: ended, or paused at or after the round's epoch */
    bp_trial_summary r = { .status = "interrupted", .epochs = 3 };
    ck_assert(bp_round_reached(&r, 3) && bp_round_reached(&r, 2) && !bp_round_reached(&r, 4));
    ck_assert(!bp_round_reached(&r, 0));
    r.status = "skipped";
    ck_assert(bp_round_reached(&r, 0));
    r.status = "pending";
    ck_assert(!bp_round_reached(&r, 1));
}
END_TEST

/* hyperband.h against the paper's Table 1 (R = 81, eta = 3) and the R = 27 example */
START_TEST(test_hyperband_brackets)
{
    bp_hyperband_bracket b[BP_HYPERBAND_MAX_BRACKETS];
    ck_assert_uint_eq(bp_hyperband_brackets(81, 3, b), 5);
    static const size_t n[] = { 81, 34, 15, 8, 5 };
    static const int r0[] = { 1, 3, 9, 27, 81 };
    for (size_t i = 0; i < 5; i++) {
        ck_assert_int_eq(b[i].s, 4 - (int)i);
        ck_assert_uint_eq(b[i].n, n[i]);
        ck_assert_int_eq(b[i].rungs[0], r0[i]);
        ck_assert_int_eq(b[i].rungs[b[i].n_stages - 1], 81);
    }
    /* bracket s = 4: 81 -> 27 -> 9 -> 3 -> 1 points at 1, 3, 9, 27, 81 epochs */
    static const size_t keep4[] = { 27, 9, 3, 1 };
    static const int rung4[] = { 1, 3, 9, 27, 81 };
    for (size_t i = 0; i < 4; i++)
        ck_assert_uint_eq(b[0].keep[i], keep4[i]);
    for (size_t i = 0; i < 5; i++)
        ck_assert_int_eq(b[0].rungs[i], rung4[i]);
    ck_assert_uint_eq(b[1].keep[0], 11);   /* 34 -> 11 -> 3 -> 1 */
    ck_assert_uint_eq(b[1].keep[1], 3);
    ck_assert_uint_eq(b[1].keep[2], 1);
    ck_assert_uint_eq(bp_hyperband_points(81, 3), 81 + 34 + 15 + 8 + 5);
    ck_assert_uint_eq(bp_hyperband_points(27, 3), 49);
    ck_assert_uint_eq(bp_hyperband_points(9, 3), 17);
    ck_assert_uint_eq(bp_hyperband_brackets(2, 2, b), 2);   /* s_max = 1 */
    ck_assert_uint_eq(b[0].n, 2);
    ck_assert_int_eq(b[0].rungs[0], 1);
}
END_TEST

START_TEST(test_hash)
{
    const char *text = BASE "sweep:\n  grid: {train.optimizer.lr: [0.1, 0.2]}\n  repeats: 2\n";
    bp_sweep *a = load_ok(text, NULL, 0, NULL, 0), *b = load_ok(text, NULL, 0, NULL, 0);
    ck_assert_str_eq(a->hash, b->hash);
    for (size_t i = 0; i < a->n_trials; i++)
        ck_assert_str_eq(a->trials[i].hash, b->trials[i].hash);
    bp_sweep_free(b);
    /* comments and spelling of the same value do not matter */
    b = load_ok(BASE "# a comment\nsweep:\n  grid: {train.optimizer.lr: [0.10, 2e-1]}\n  repeats: 2\n",
                NULL, 0, NULL, 0);
    ck_assert_str_eq(a->hash, b->hash);
    bp_sweep_free(b);
    /* any change of a value, an override, the order, repeats or seed changes it */
    const char *other[] = {
        BASE "sweep:\n  grid: {train.optimizer.lr: [0.1, 0.3]}\n  repeats: 2\n",
        BASE "sweep:\n  grid: {train.optimizer.lr: [0.2, 0.1]}\n  repeats: 2\n",
        BASE "sweep:\n  grid: {train.optimizer.lr: [0.1, 0.2]}\n  repeats: 3\n",
        BASE "seed: 2\nsweep:\n  grid: {train.optimizer.lr: [0.1, 0.2]}\n  repeats: 2\n",
        BASE "sweep:\n  grid: {train.optimizer.momentum: [0.1, 0.2]}\n  repeats: 2\n",
        BASE "sweep:\n  grid: {train.optimizer.lr: [0.1, 0.2]}\n  repeats: 2\n"
             "  halving: {rungs: [2], metric: loss}\n",
    };
    for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
        b = load_ok(other[i], NULL, 0, NULL, 0);
        ck_assert_msg(strcmp(a->hash, b->hash) != 0, "case %zu", i);
        bp_sweep_free(b);
    }
    const char *sets[] = { "train.epochs=4" };
    b = load_ok(text, sets, 1, NULL, 0);
    ck_assert_str_ne(a->hash, b->hash);
    ck_assert_str_ne(a->trials[0].hash, b->trials[0].hash);
    bp_sweep_free(b);
    const char *sw[] = { "train.optimizer.lr=0.1,0.2" };
    b = load_ok(text, NULL, 0, sw, 1); /* the same trials, given another way */
    ck_assert_str_eq(a->hash, b->hash);
    bp_sweep_free(b);
    bp_sweep_free(a);
}
END_TEST

START_TEST(test_performance)
{
    char text[8192];
    size_t o = (size_t)snprintf(text, sizeof text, "%ssweep:\n  grid:\n    train.epochs: [", BASE);
    for (int i = 1; i <= 100; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%s%d", i > 1 ? ", " : "", i);
    o += (size_t)snprintf(text + o, sizeof text - o, "]\n    train.optimizer.lr: [");
    for (int i = 1; i <= 100; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%s%d.5", i > 1 ? ", " : "", i);
    snprintf(text + o, sizeof text - o, "]\n");
    double t0 = now();
    bp_sweep *s = load_ok(text, NULL, 0, NULL, 0);
    double dt = now() - t0;
    ck_assert_uint_eq(s->n_trials, 10000);
    ck_assert_int_eq(s->trials[9999].cfg->train.epochs, 100);
    ck_assert(hp(s->trials[9999].cfg, "lr") == 100.5);
#if defined(__SANITIZE_ADDRESS__)
    ck_assert_msg(dt < 10.0, "%.3f s", dt);
#else
    ck_assert_msg(dt < 1.0, "%.3f s", dt);
#endif
    bp_sweep_free(s);
}
END_TEST

static Suite *sweep_suite(void)
{
    Suite *s = suite_create("sweep");
    TCase *tc = tcase_create("expand");
    tcase_add_test(tc, test_no_sweep);
    tcase_add_test(tc, test_grid);
    tcase_add_test(tc, test_zip_variants);
    tcase_add_test(tc, test_random);
    tcase_add_test(tc, test_repeats);
    tcase_add_test(tc, test_cli_sweep);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_loop_test(tc, test_bad, 0, (int)(sizeof bad / sizeof *bad));
    tcase_add_test(tc, test_bad_files);
    suite_add_tcase(s, tc);
    tc = tcase_create("hash");
    tcase_add_test(tc, test_hash);
    tcase_add_test(tc, test_halving);
    tcase_add_test(tc, test_rounds_halving);
    tcase_add_test(tc, test_hyperband_brackets);
    tcase_add_test(tc, test_performance);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/check_sweep.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmpdir) || chdir(tmpdir) != 0) {
        perror(tmpdir);
        return 99;
    }
    SRunner *sr = srunner_create(sweep_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (chdir("/") == 0) {
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    return failed ? 1 : 0;
}
