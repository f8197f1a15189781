/* Unit tests of the config module: YAML layer, schema validation, --set, dump round trip.
 * Runs inside a fresh temporary folder (chdir), so messages name "c.yaml". */
#include "autoconf.h"
#include "config.h"

#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef BP_TEST_SRCDIR
#define BP_TEST_SRCDIR "."
#endif

static char tmpdir[4096];

static void write_file(const char *name, const char *text, size_t len)
{
    FILE *f = fopen(name, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static bp_config *load_text(const char *text, const char *const *ov, size_t n, bp_err *e)
{
    write_file("c.yaml", text, strlen(text));
    bp_err_clear(e);
    return bp_config_load("c.yaml", (char *const *)ov, n, e);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define BASE "data:\n  train: builtin:xor\nmodel:\n  layers: [2, 3, 1]\ntrain:\n  epochs: 3\n"

/* ---- valid configs ---- */

START_TEST(test_defaults)
{
    bp_err e;
    bp_config *c = load_text(BASE, NULL, 0, &e);
    ck_assert_msg(c != NULL, "%s", e.msg);
    ck_assert_str_eq(c->path, "c.yaml");
    ck_assert_str_eq(c->text, BASE);
    ck_assert_ptr_nonnull(c->root);
    ck_assert_uint_eq(c->n_overrides, 0);
    ck_assert_str_eq(c->experiment, "c");
    ck_assert_uint_eq(c->seed, 1);
    ck_assert_str_eq(c->data.train.ref, "builtin:xor");
    ck_assert_str_eq(c->data.train.mark.src, "c.yaml");
    ck_assert_uint_eq(c->data.train.mark.line, 2);
    ck_assert_uint_eq(c->data.train.mark.col, 10);
    ck_assert_ptr_null(c->data.validation.ref);
    ck_assert(c->data.val_fraction == 0);
    ck_assert_ptr_null(c->data.test.ref);
    ck_assert_int_eq(c->data.standardize, 0);
    ck_assert_uint_eq(c->model.n_sizes, 3);
    ck_assert_int_eq(c->model.sizes[0], 2);
    ck_assert_int_eq(c->model.sizes[1], 3);
    ck_assert_int_eq(c->model.sizes[2], 1);
    ck_assert_str_eq(c->model.hidden[0].name, "sigmoid");
    ck_assert_str_eq(c->model.hidden[0].key_path, "model.activation");
    ck_assert_ptr_null(c->model.hidden[0].mark.src);
    ck_assert_uint_eq(c->model.hidden[0].n_hp, 0);
    ck_assert_int_eq(c->model.output_kind, BP_OUTPUT_ACTIVATION);
    ck_assert_str_eq(c->model.output.name, "sigmoid");
    ck_assert_str_eq(c->model.output.key_path, "model.output");
    ck_assert_int_eq(c->model.loss, BP_LOSS_MSE);
    ck_assert_int_eq(c->model.init.scheme, BP_INIT_XAVIER_UNIFORM);
    ck_assert(c->model.init.range == 0.5);
    ck_assert(c->model.init.gain == 1);
    ck_assert_ptr_null(c->model.init.from);
    ck_assert_int_eq(c->train.epochs, 3);
    ck_assert_int_eq(c->train.batch_size, 32);
    ck_assert_int_eq(c->train.shuffle, 1);
    ck_assert_str_eq(c->train.optimizer.name, "sgd");
    ck_assert_str_eq(c->train.optimizer.key_path, "train.optimizer");
    ck_assert_uint_eq(c->train.optimizer.n_hp, 0);
    ck_assert_str_eq(c->output, "runs");
    bp_config_free(c);
}
END_TEST

START_TEST(test_full)
{
    bp_err e;
    const char *path = BP_TEST_SRCDIR "/tests/config/full.yaml";
    bp_config *c = bp_config_load(path, NULL, 0, &e);
    ck_assert_msg(c != NULL, "%s", e.msg);
    ck_assert_str_eq(c->experiment, "full-example");
    ck_assert_uint_eq(c->seed, 42);
    ck_assert_str_eq(c->data.train.ref, BP_TEST_SRCDIR "/tests/config/../data/iris.h5#/train");
    ck_assert(c->data.val_fraction == 0.2);
    ck_assert_ptr_null(c->data.validation.ref);
    ck_assert_uint_eq(c->data.validation.mark.line, 6);
    ck_assert_str_eq(c->data.test.ref, "/abs/iris.h5#/test");
    ck_assert_int_eq(c->data.standardize, 1);
    ck_assert_uint_eq(c->model.n_sizes, 4);
    ck_assert_int_eq(c->model.sizes[3], 3);
    ck_assert_uint_eq(c->model.sizes_mark.line, 10);
    ck_assert_str_eq(c->model.hidden[0].name, "relu");
    ck_assert_str_eq(c->model.hidden[0].key_path, "model.activation[0]");
    ck_assert_uint_eq(c->model.hidden[0].n_hp, 0);
    ck_assert_str_eq(c->model.hidden[1].name, "leaky_relu");
    ck_assert_str_eq(c->model.hidden[1].key_path, "model.activation[1]");
    ck_assert_uint_eq(c->model.hidden[1].n_hp, 1);
    ck_assert_str_eq(c->model.hidden[1].hp[0].name, "alpha");
    ck_assert(c->model.hidden[1].hp[0].value == 0.01);
    ck_assert_uint_eq(c->model.hidden[1].hp[0].mark.line, 11);
    ck_assert_uint_eq(c->model.hidden[1].hp[0].mark.col, 48);
    ck_assert_int_eq(c->model.output_kind, BP_OUTPUT_SOFTMAX);
    ck_assert_str_eq(c->model.output.name, "softmax");
    ck_assert_int_eq(c->model.loss, BP_LOSS_CROSS_ENTROPY);
    ck_assert_uint_eq(c->model.loss_mark.line, 13);
    ck_assert_int_eq(c->model.init.scheme, BP_INIT_HE_UNIFORM);
    ck_assert(c->model.init.gain == 1.5);
    ck_assert_int_eq(c->train.epochs, 50);
    ck_assert_int_eq(c->train.batch_size, 16);
    ck_assert_int_eq(c->train.shuffle, 0);
    ck_assert_str_eq(c->train.optimizer.name, "adam");
    ck_assert_uint_eq(c->train.optimizer.n_hp, 3);
    ck_assert_str_eq(c->train.optimizer.hp[0].name, "lr");
    ck_assert(c->train.optimizer.hp[0].value == 0.001);
    ck_assert_str_eq(c->train.optimizer.hp[1].name, "beta1");
    ck_assert_str_eq(c->train.optimizer.hp[2].name, "amsgrad");
    ck_assert(c->train.optimizer.hp[2].value == 1);
    ck_assert_int_eq(c->train.schedule.kind, BP_LR_PLATEAU);
    ck_assert_int_eq(c->train.schedule.patience, 5);
    ck_assert(c->train.schedule.factor == 0.5);
    ck_assert_uint_eq(c->train.schedule_mark.line, 20);
    ck_assert_int_eq(c->train.clip, BP_CLIP_NORM);
    ck_assert(c->train.clip_max == 5);
    ck_assert_str_eq(c->output, "results");
    bp_config_free(c);
}
END_TEST

START_TEST(test_variants)
{
    bp_err e;
    bp_config *c = load_text(
        "experiment: x_1.2\nseed: 9223372036854775807\n"
        "data:\n  train: d/f.h5#/train\n  validation: v.h5\n  standardize: True\n"
        "model:\n  layers: [784, 100, 100, 100, 2]\n"
        "  activation: {name: tanh, scale: 2}\n  loss: cross_entropy\n"
        "  init: {scheme: uniform, range: 0.1}\n"
        "train:\n  epochs: 1e3\n  batch_size: full\n  shuffle: FALSE\n"
        "  optimizer: {lr: 0.5, nesterov: false}\n",
        NULL, 0, &e);
    ck_assert_msg(c != NULL, "%s", e.msg);
    ck_assert_str_eq(c->experiment, "x_1.2");
    ck_assert_uint_eq(c->seed, 9223372036854775807u);
    ck_assert_str_eq(c->data.train.ref, "d/f.h5#/train"); /* config in the working directory */
    ck_assert_str_eq(c->data.validation.ref, "v.h5");
    ck_assert_int_eq(c->data.standardize, 1);
    for (int i = 0; i < 3; i++) {
        ck_assert_str_eq(c->model.hidden[i].name, "tanh");
        ck_assert_str_eq(c->model.hidden[i].key_path, "model.activation");
        ck_assert_uint_eq(c->model.hidden[i].n_hp, 1);
        ck_assert(c->model.hidden[i].hp[0].value == 2);
    }
    /* cross_entropy: output defaults to softmax */
    ck_assert_int_eq(c->model.output_kind, BP_OUTPUT_SOFTMAX);
    ck_assert_str_eq(c->model.output.name, "softmax");
    ck_assert_int_eq(c->model.init.scheme, BP_INIT_UNIFORM);
    ck_assert(c->model.init.range == 0.1);
    ck_assert_int_eq(c->train.epochs, 1000);
    ck_assert_int_eq(c->train.batch_size, 0);
    ck_assert_int_eq(c->train.shuffle, 0);
    ck_assert_str_eq(c->train.optimizer.name, "sgd"); /* map without name: the default */
    ck_assert_uint_eq(c->train.optimizer.n_hp, 2);
    ck_assert(c->train.optimizer.hp[1].value == 0);
    bp_config_free(c);

    /* binary_cross_entropy with the default (sigmoid) output; init from; plugin paths */
    mkdir("configs", 0755);
    write_file("configs/my-exp.yml",
               "data: {train: builtin:spiral:n=100}\n"
               "model:\n  layers: [2, 1]\n  loss: binary_cross_entropy\n"
               "  init: {from: ../runs/a/trials/0001.h5}\n  output: ./plug/sig.so\n"
               "train: {epochs: 1, optimizer: /opt/p/sgd2.so}\n", 0 + strlen(
               "data: {train: builtin:spiral:n=100}\n"
               "model:\n  layers: [2, 1]\n  loss: binary_cross_entropy\n"
               "  init: {from: ../runs/a/trials/0001.h5}\n  output: ./plug/sig.so\n"
               "train: {epochs: 1, optimizer: /opt/p/sgd2.so}\n"));
    c = bp_config_load("configs/my-exp.yml", NULL, 0, &e);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(e.msg, "configs/my-exp.yml:6:11: model.output: loss binary_cross_entropy "
                            "requires output sigmoid (got 'configs/./plug/sig.so')");
    const char *ov[] = { "model.output=sigmoid", "model.activation=relu.so" };
    c = bp_config_load("configs/my-exp.yml", (char *const *)ov, 2, &e);
    ck_assert_msg(c != NULL, "%s", e.msg);
    ck_assert_str_eq(c->experiment, "my-exp");
    ck_assert_str_eq(c->data.train.ref, "builtin:spiral:n=100");
    ck_assert_uint_eq(c->model.n_sizes, 2);
    ck_assert_int_eq(c->model.output_kind, BP_OUTPUT_ACTIVATION);
    ck_assert_str_eq(c->model.output.name, "sigmoid");
    ck_assert_str_eq(c->model.output.mark.src, "--set");
    ck_assert_int_eq(c->model.init.scheme, BP_INIT_FROM);
    ck_assert_str_eq(c->model.init.from, "configs/../runs/a/trials/0001.h5");
    ck_assert_str_eq(c->train.optimizer.name, "/opt/p/sgd2.so");
    ck_assert_uint_eq(c->n_overrides, 2);
    ck_assert_str_eq(c->overrides[1], "model.activation=relu.so");
    bp_config_free(c);
}
END_TEST

/* ---- errors: config text -> exact message ---- */

typedef struct bad_case {
    const char *text;
    const char *msg;
} bad_case;

static const bad_case bad[] = {
    /* the message shapes of the brief */
    { "data:\n  train: builtin:xor\ntrain:\n  epochs: 3\n  epoch: 4\nmodel: {layers: [1, 1]}\n",
      "c.yaml:5:3: train.epoch: unknown key (did you mean 'epochs'?)" },
    { "data:\n  train: builtin:xor\ntrain:\n  epochs: 3\n  foo: 4\nmodel: {layers: [1, 1]}\n",
      "c.yaml:5:3: train.foo: unknown key (valid keys: epochs, batch_size, shuffle, optimizer, "
      "schedule, clip, early_stopping, target_loss, target_accuracy, target_max_error, "
      "diverge_factor, reduction, phases)" },
    { "data:\n  train: builtin:xor\nmodel:\n  layers: [2, 1]\ntrain:\n  epochs: ten\n",
      "c.yaml:6:11: train.epochs: expected an integer (got 'ten')" },
    { "data:\n  train: builtin:xor\nmodel:\n  layers: [2, 1]\ntrain:\n  epochs: 0\n",
      "c.yaml:6:11: train.epochs: must be >= 1 (got 0)" },
    { "data: {train: builtin:xor}\nmodel:\n  loss: mse\ntrain: {epochs: 1}\n",
      "c.yaml:2:1: model: missing required key 'layers'" },
    { "data: {train: builtin:xor}\nmodel: {layers: [2, 1]}\n",
      "c.yaml:1:1: missing required key 'train'" },
    { "data: {train: builtin:xor}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 1]\n\n\n\n\n"
      "  loss:      mse2\n",
      "c.yaml:9:14: model.loss: unknown value 'mse2' (did you mean 'mse'?)" },
    { BASE "trian: {}\n", "c.yaml:7:1: trian: unknown key (did you mean 'train'?)" },
    { BASE "model2: 1\n", "c.yaml:7:1: model2: unknown key (did you mean 'model'?)" },
    { BASE "zzz: 1\n",
      "c.yaml:7:1: zzz: unknown key (valid keys: experiment, seed, data, model, train, output, diagnostics)" },
    { "model:\n  loss: bogus\n  layers: [2, 1]\ndata: {train: builtin:xor}\ntrain: {epochs: 1}\n",
      "c.yaml:2:9: model.loss: unknown value 'bogus' (valid values: mse, cross_entropy, "
      "binary_cross_entropy)" },
    /* types */
    { BASE "  batch_size: \"10\"\n",
      "c.yaml:7:15: train.batch_size: expected an integer or 'full' (got quoted string '10')" },
    { BASE "  batch_size: 2.5\n",
      "c.yaml:7:15: train.batch_size: expected an integer or 'full' (got '2.5')" },
    { BASE "  batch_size: all\n",
      "c.yaml:7:15: train.batch_size: expected an integer or 'full' (got 'all')" },
    { BASE "  batch_size: 0\n", "c.yaml:7:15: train.batch_size: must be >= 1 (got 0)" },
    { BASE "  batch_size: [1]\n",
      "c.yaml:7:15: train.batch_size: expected an integer or 'full' (got a sequence)" },
    { "data: {train: x}\nmodel: {layers: [2, 1]}\ntrain:\n\n\n\n  epochs: 1000000001\n",
      "c.yaml:7:11: train.epochs: must be <= 1000000000 (got 1000000001)" },
    { "data: {train: x}\nmodel: {layers: [2, 1]}\ntrain:\n\n\n\n  epochs: 1e30\n", "c.yaml:7:11: train.epochs: must be <= 1000000000 (got 1e30)" },
    { "train:\n  epochs:\n" "data: {train: builtin:xor}\nmodel: {layers: [2, 1]}\n",
      "c.yaml:2:10: train.epochs: missing value (expected an integer)" },
    { "train: {epochs: 1}\ndata: {train: builtin:xor}\nmodel:\n",
      "c.yaml:3:7: model: missing value (expected a map)" },
    { "train: {epochs: 1}\ndata: {train: builtin:xor}\nmodel: [2, 1]\n",
      "c.yaml:3:8: model: expected a map (got a sequence)" },
    { "train: 5\ndata: {train: builtin:xor}\nmodel: {layers: [2, 1]}\n",
      "c.yaml:1:8: train: expected a map (got '5')" },
    { "seed: -1\n" BASE, "c.yaml:1:7: seed: must be >= 0 (got -1)" },
    { "seed: 9223372036854775808\n" BASE,
      "c.yaml:1:7: seed: must be <= 9223372036854775807 (got 9223372036854775808)" },
    { "seed: 0x10\n" BASE, "c.yaml:1:7: seed: expected an integer (got '0x10')" },
    { BASE "  shuffle: yes\n", "c.yaml:7:12: train.shuffle: expected true or false (got 'yes'; write true)" },
    { BASE "  shuffle: Off\n", "c.yaml:7:12: train.shuffle: expected true or false (got 'Off'; write false)" },
    { BASE "  shuffle: 1\n", "c.yaml:7:12: train.shuffle: expected true or false (got '1')" },
    { BASE "  shuffle: 'true'\n",
      "c.yaml:7:12: train.shuffle: expected true or false (got quoted string 'true')" },
    { BASE "  optimizer: {name: sgd, lr: .nan}\n",
      "c.yaml:7:30: train.optimizer.lr: must be a finite number (got '.nan')" },
    { BASE "  optimizer: {name: sgd, lr: -.Inf}\n",
      "c.yaml:7:30: train.optimizer.lr: must be a finite number (got '-.Inf')" },
    { BASE "  optimizer: {name: sgd, lr: 1e999}\n",
      "c.yaml:7:30: train.optimizer.lr: must be a finite number (got '1e999')" },
    { BASE "  optimizer: {name: sgd, lr: fast}\n",
      "c.yaml:7:30: train.optimizer.lr: expected a number or true/false (got 'fast')" },
    { BASE "  optimizer: {name: sgd, lr: '0.1'}\n",
      "c.yaml:7:30: train.optimizer.lr: expected a number or true/false (got quoted string '0.1')" },
    { BASE "  optimizer: {name: sgd, nesterov: on}\n",
      "c.yaml:7:36: train.optimizer.nesterov: expected a number or true/false (got 'on'; write true)" },
    { BASE "  optimizer: {name: sgd, lr: }\n",
      "c.yaml:7:30: train.optimizer.lr: missing value (expected a number or true/false)" },
    { BASE "  optimizer: {name: [sgd]}\n",
      "c.yaml:7:21: train.optimizer.name: expected a plugin name (got a sequence)" },
    { BASE "  optimizer: [sgd]\n",
      "c.yaml:7:14: train.optimizer: expected a plugin name or a map {name: NAME, ...} (got a "
      "sequence)" },
    { BASE "  optimizer: ''\n",
      "c.yaml:7:14: train.optimizer: must not be empty (expected a plugin name)" },
    /* top level strings */
    { "experiment: my exp\n" BASE,
      "c.yaml:1:13: experiment: must be a name of letters, digits, '.', '_' and '-' (not '.' or "
      "'..') (got 'my exp')" },
    { "experiment: ..\n" BASE,
      "c.yaml:1:13: experiment: must be a name of letters, digits, '.', '_' and '-' (not '.' or "
      "'..') (got '..')" },
    { "output: {a: 1}\n" BASE, "c.yaml:1:9: output: expected a folder (got a map)" },
    /* data */
    { "data:\n  train: '#/x'\nmodel: {layers: [2, 1]}\ntrain: {epochs: 1}\n",
      "c.yaml:2:10: data.train: missing the file name before '#' (got '#/x')" },
    { "data:\n  train: f.h5#x\nmodel: {layers: [2, 1]}\ntrain: {epochs: 1}\n",
      "c.yaml:2:10: data.train: the group after '#' must start with '/' (got 'f.h5#x')" },
    { "data:\n  train: 'builtin:'\nmodel: {layers: [2, 1]}\ntrain: {epochs: 1}\n",
      "c.yaml:2:10: data.train: expected builtin:NAME (got 'builtin:')" },
    { "data:\n  train: 5\n  validation: 1.5\nmodel: {layers: [2, 1]}\ntrain: {epochs: 1}\n",
      "c.yaml:3:15: data.validation: must be in [0, 1) (got 1.5)" },
    { "data:\n  train: x\n  validation: -0.1\nmodel: {layers: [2, 1]}\ntrain: {epochs: 1}\n",
      "c.yaml:3:15: data.validation: must be in [0, 1) (got -0.1)" },
    { "data:\n  train: x\n  validation: .nan\nmodel: {layers: [2, 1]}\ntrain: {epochs: 1}\n",
      "c.yaml:3:15: data.validation: must be a finite number (got '.nan')" },
    { "data:\n  train:\nmodel: {layers: [2, 1]}\ntrain: {epochs: 1}\n",
      "c.yaml:2:9: data.train: missing value (expected a dataset reference)" },
    { "data:\n  validation: 0.1\nmodel: {layers: [2, 1]}\ntrain: {epochs: 1}\n",
      "c.yaml:1:1: data: missing required key 'train'" },
    { "data:\n  train: x\n  standardise: true\nmodel: {layers: [2, 1]}\ntrain: {epochs: 1}\n",
      "c.yaml:3:3: data.standardise: unknown key (did you mean 'standardize'?)" },
    /* model */
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2]\n",
      "c.yaml:4:11: model.layers: expected 2 to 64 layer sizes: input, hidden..., output (got 1)" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 0, 1]\n",
      "c.yaml:4:15: model.layers[1]: must be >= 1 (got 0)" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 1000001]\n",
      "c.yaml:4:15: model.layers[1]: must be <= 1000000 (got 1000001)" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: 3\n",
      "c.yaml:4:11: model.layers: expected a sequence of layer sizes like [2, 3, 1] (got '3')" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 3, 3, 1]\n"
      "  activation: [relu, tanh, relu]\n",
      "c.yaml:5:15: model.activation: expected 2 entries, one per hidden layer (got 3)" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 3, 1]\n"
      "  activation: [relu, tanh]\n",
      "c.yaml:5:15: model.activation: expected 1 entry, one per hidden layer (got 2)" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 3, 3, 1]\n"
      "  activation: [relu, {name: tanh, k: x}]\n",
      "c.yaml:5:38: model.activation[1].k: expected a number or true/false (got 'x')" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 3, 3, 1]\n"
      "  activation: [relu, softmax]\n",
      "c.yaml:5:22: model.activation[1]: softmax is only available as the output activation "
      "(model.output)" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 3, 3, 1]\n"
      "  activation: [relu, ~]\n",
      "c.yaml:5:22: model.activation[1]: missing value (expected a plugin name)" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 3, 3]\n"
      "  loss: cross_entropy\n  output: sigmoid\n",
      "c.yaml:6:11: model.output: loss cross_entropy requires output softmax (got 'sigmoid')" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 3, 3]\n  output: softmax\n",
      "c.yaml:5:11: model.output: softmax output requires loss cross_entropy (got loss 'mse')" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 3, 1]\n"
      "  loss: cross_entropy\n",
      "c.yaml:5:9: model.loss: softmax needs at least 2 output units (got 1); for one output unit "
      "use loss binary_cross_entropy with output sigmoid" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 3, 1]\n"
      "  loss: cross_entropy\n  output: {name: softmax}\n",
      "c.yaml:6:18: model.output: softmax needs at least 2 output units (got 1); for one output "
      "unit use loss binary_cross_entropy with output sigmoid" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 3, 2]\n"
      "  loss: cross_entropy\n  output: {name: softmax, t: 2}\n",
      "c.yaml:6:30: model.output: softmax takes no hyperparameters (got 't')" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 3, 1]\n"
      "  loss: binary_cross_entropy\n  output: tanh\n",
      "c.yaml:6:11: model.output: loss binary_cross_entropy requires output sigmoid (got 'tanh')" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 1]\n  init: xavier\n",
      "c.yaml:5:9: model.init: unknown value 'xavier' (valid values: uniform, xavier_uniform, xavier_normal, "
      "he_uniform, he_normal)" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 1]\n  init: from\n",
      "c.yaml:5:9: model.init: 'from' needs a file: write {from: PATH}" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 1]\n  init: {scheme: from}\n",
      "c.yaml:5:18: model.init.scheme: 'from' needs a file: write {from: PATH}" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 1]\n"
      "  init: {from: x.h5, scheme: uniform}\n",
      "c.yaml:5:22: model.init.scheme: not allowed together with 'from'" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 1]\n  init: {range: 0.1}\n",
      "c.yaml:5:10: model.init.range: only applies to scheme uniform (got scheme 'xavier_uniform')" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 1]\n"
      "  init: {scheme: uniform, gain: 2}\n",
      "c.yaml:5:27: model.init.gain: does not apply to scheme uniform (use range)" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 1]\n"
      "  init: {scheme: uniform, range: 0}\n",
      "c.yaml:5:34: model.init.range: must be > 0 (got 0)" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 1]\n  init: {sceme: he_normal}\n",
      "c.yaml:5:10: model.init.sceme: unknown key (did you mean 'scheme'?)" },
    { "data: {train: x}\ntrain: {epochs: 1}\nmodel:\n  layers: [2, 1]\n  init: [he_normal]\n",
      "c.yaml:5:9: model.init: expected a scheme name or a map {scheme: NAME, ...} (got a sequence)" },
    /* YAML layer */
    { "data:\n  train: x\n bad: 1\n",
      "c.yaml:3:2: YAML syntax error: did not find expected key (while parsing a block mapping "
      "that started at 1:1)" },
    { "model:\n  layers: [2, 1]\n  loss: mse\n bad\n",
      "c.yaml:4:2: YAML syntax error: did not find expected key (while parsing a block mapping "
      "that started at 1:1)" },
    { "data:\n  train: x\n  test: [1\nmodel: 1\n",
      "c.yaml:4:6: YAML syntax error: did not find expected ',' or ']' (while parsing a flow "
      "sequence that started at 3:9)" },
    { "a: 'unterminated\n",
      "c.yaml:2:1: YAML syntax error: found unexpected end of stream (while scanning a quoted "
      "scalar that started at 1:4)" },
    { "a:\tb\n\tc: 1\n",
      "c.yaml:2:1: YAML syntax error: found a tab character that violates indentation (while "
      "scanning a plain scalar that started at 1:4)" },
    { "data:\n  train: builtin:xor\nmodel:\n  layers: [2, 1]\ntrain:\n  epochs: 3\n"
      "  epochs: 4\n",
      "c.yaml:7:3: train.epochs: duplicate key (first at line 6)" },
    { "model:\n  activation: [relu, {name: tanh, k: 1, k: 2}]\n",
      "c.yaml:2:41: model.activation[1].k: duplicate key (first at line 2)" },
    { "data: &d\n  train: x\n", "c.yaml:1:7: anchors and aliases are not allowed in a bprun config" },
    { "data:\n  train: &t x\n", "c.yaml:2:10: anchors and aliases are not allowed in a bprun config" },
    { "data:\n  train: *t\n", "c.yaml:2:10: anchors and aliases are not allowed in a bprun config" },
    { "data:\n  train: !!str x\n", "c.yaml:2:10: tags are not allowed in a bprun config (got '!!str')" },
    { "data: !custom\n  train: x\n", "c.yaml:1:7: tags are not allowed in a bprun config (got '!custom')" },
    { "seed: !!int 3\n", "c.yaml:1:7: tags are not allowed in a bprun config (got '!!int')" },
    { "\"a\\nb\": {x: 1, x: 2}\n", "c.yaml:1:16: a?b.x: duplicate key (first at line 1)" },
    { "a: 1\n---\nb: 2\n", "c.yaml:2:1: more than one YAML document in a config" },
    { "", "c.yaml: empty config" },
    { "# nothing but a comment\n\n", "c.yaml: empty config" },
    { "---\n", "c.yaml: empty config" },
    { "~\n", "c.yaml: empty config" },
    { "- data\n- model\n", "c.yaml:1:1: the top level of a config must be a map of keys (got a sequence)" },
    { "hello\n", "c.yaml:1:1: the top level of a config must be a map of keys (got a string)" },
    { "? [a, b]\n: 1\n", "c.yaml:1:3: a key must be a non-empty string (got a sequence)" },
    { "data:\n  {x: 1}: 2\n", "c.yaml:2:3: data: a key must be a non-empty string (got a map)" },
    { "data:\n  '': 2\n", "c.yaml:2:3: data: a key must be a non-empty string (got an empty key)" },
    { "data:\n  train: \"a\\0b\"\n", "c.yaml:2:10: data.train: NUL character in a string" },
    { "a: [x, \"\\x00\"]\n", "c.yaml:1:8: a[1]: NUL character in a string" },
    { "a: 1\x01\n", "c.yaml:1:5: YAML syntax error: control characters are not allowed (0x01 at byte 4)" },
    { "a: \xc3\x28\n", "c.yaml:1:5: YAML syntax error: invalid trailing UTF-8 octet (0x28 at byte 4)" },
    /* train.schedule and train.clip */
#define T7 "data: {train: x}\nmodel: {layers: [2, 1]}\ntrain:\n  epochs: 5\n"
    { T7 "  schedule: cosin\n", "c.yaml:5:13: train.schedule: unknown value 'cosin' (did you mean 'cosine'?)" },
    { T7 "  schedule: linear\n", "c.yaml:5:13: train.schedule: unknown value 'linear' (valid values: "
      "constant, step, exponential, cosine, plateau)" },
    { T7 "  schedule: [step]\n", "c.yaml:5:13: train.schedule: expected a schedule name or a map "
      "{name: NAME, ...} (got a sequence)" },
    { T7 "  schedule: {step_size: 2}\n", "c.yaml:5:3: train.schedule: missing required key 'name'" },
    { T7 "  schedule: {name: }\n", "c.yaml:5:20: train.schedule.name: missing value (expected a schedule name)" },
    { T7 "  schedule: step\n", "c.yaml:5:13: train.schedule: schedule step needs step_size: write "
      "{name: step, step_size: ...}" },
    { T7 "  schedule: exponential\n", "c.yaml:5:13: train.schedule: schedule exponential needs "
      "gamma: write {name: exponential, gamma: ...}" },
    { T7 "  schedule: {name: step, gamma: 0.5}\n", "c.yaml:5:3: train.schedule: missing required key 'step_size'" },
    { T7 "  schedule: {name: step, step_size: 0}\n", "c.yaml:5:37: train.schedule.step_size: must be >= 1 (got 0)" },
    { T7 "  schedule: {name: step, step_size: 2.5}\n", "c.yaml:5:37: train.schedule.step_size: "
      "expected an integer (got '2.5')" },
    { T7 "  schedule: {name: step, step_size: 2, gamma: 0}\n", "c.yaml:5:47: train.schedule.gamma: "
      "must be in (0, 1] (got 0)" },
    { T7 "  schedule: {name: exponential, gamma: 1.01}\n", "c.yaml:5:40: train.schedule.gamma: "
      "must be in (0, 1] (got 1.01)" },
    { T7 "  schedule: {name: step, step_size: 2, t_max: 3}\n", "c.yaml:5:40: train.schedule.t_max: "
      "unknown key (valid keys: name, step_size, gamma)" },
    { T7 "  schedule: {name: cosine, eta_mn: 3}\n", "c.yaml:5:28: train.schedule.eta_mn: unknown key "
      "(did you mean 'eta_min'?)" },
    { T7 "  schedule: {name: cosine, eta_min: -1}\n", "c.yaml:5:37: train.schedule.eta_min: must be >= 0 (got -1)" },
    { T7 "  schedule: {name: cosine, warmup_epochs: 5}\n", "c.yaml:5:43: train.schedule.warmup_epochs: "
      "must be less than t_max (got 5, t_max 5)" },
    { T7 "  schedule: {name: cosine, t_max: 3, warmup_epochs: 3}\n", "c.yaml:5:53: "
      "train.schedule.warmup_epochs: must be less than t_max (got 3, t_max 3)" },
    { T7 "  schedule: {name: cosine, warmup_start: 1.5}\n", "c.yaml:5:42: train.schedule.warmup_start: "
      "must be in [0, 1] (got 1.5)" },
    { T7 "  schedule: plateau\n", "c.yaml:5:13: train.schedule: metric val_loss needs validation data "
      "(set data.validation, or use metric: loss)" },
    { T7 "  schedule: {name: plateau, metric: val_loss}\n", "c.yaml:5:37: train.schedule.metric: metric "
      "val_loss needs validation data (set data.validation, or use metric: loss)" },
    { T7 "  schedule: {name: plateau, metric: acc}\n", "c.yaml:5:37: train.schedule.metric: unknown value "
      "'acc' (valid values: val_loss, loss)" },
    { T7 "  schedule: {name: plateau, metric: loss, mode: least}\n", "c.yaml:5:49: train.schedule.mode: "
      "unknown value 'least' (valid values: min, max)" },
    { T7 "  schedule: {name: plateau, metric: loss, factor: 1}\n", "c.yaml:5:51: train.schedule.factor: "
      "must be in (0, 1) (got 1)" },
    { T7 "  schedule: {name: plateau, metric: loss, patience: -1}\n", "c.yaml:5:53: "
      "train.schedule.patience: must be >= 0 (got -1)" },
    { T7 "  schedule: {name: plateau, metric: loss, threshold: 1}\n", "c.yaml:5:54: "
      "train.schedule.threshold: must be in [0, 1) (got 1)" },
    { T7 "  schedule: {name: plateau, metric: loss, min_lr: .nan}\n", "c.yaml:5:51: "
      "train.schedule.min_lr: must be a finite number (got '.nan')" },
    { T7 "  clip: 1\n", "c.yaml:5:9: train.clip: expected a map {norm: MAX_NORM} or {value: V} (got '1')" },
    { T7 "  clip: {}\n", "c.yaml:5:9: train.clip: expected {norm: MAX_NORM} or {value: V}" },
    { T7 "  clip: {norm: 1, value: 1}\n", "c.yaml:5:19: train.clip.value: give norm or value, not both" },
    { T7 "  clip: {norm: 0}\n", "c.yaml:5:16: train.clip.norm: must be > 0 (got 0)" },
    { T7 "  clip: {max: 1}\n", "c.yaml:5:10: train.clip.max: unknown key (valid keys: norm, value)" },
    /* train.early_stopping and train.target_loss */
    { T7 "  early_stopping: 3\n", "c.yaml:5:19: train.early_stopping: expected a map {patience: N, "
      "...} (got '3')" },
    { T7 "  early_stopping: {metric: loss}\n", "c.yaml:5:3: train.early_stopping: missing required "
      "key 'patience'" },
    { T7 "  early_stopping: {patience: 0, metric: loss}\n", "c.yaml:5:30: "
      "train.early_stopping.patience: must be >= 1 (got 0)" },
    { T7 "  early_stopping: {patience: 2}\n", "c.yaml:5:19: train.early_stopping: metric val_loss "
      "needs validation data (set data.validation, or use metric: loss)" },
    { T7 "  early_stopping: {patience: 2, metric: val_accuracy}\n", "c.yaml:5:41: "
      "train.early_stopping.metric: metric val_accuracy needs validation data (set "
      "data.validation, or use metric: accuracy)" },
    { T7 "  early_stopping: {patience: 2, metric: acc}\n", "c.yaml:5:41: train.early_stopping.metric: "
      "unknown value 'acc' (valid values: val_loss, loss, val_accuracy, accuracy)" },
    { T7 "  early_stopping: {patience: 2, metric: loss, min_delta: -1}\n", "c.yaml:5:58: "
      "train.early_stopping.min_delta: must be >= 0 (got -1)" },
    { T7 "  early_stopping: {patience: 2, metric: loss, restore: true}\n", "c.yaml:5:47: "
      "train.early_stopping.restore: unknown key (valid keys: metric, patience, min_delta, "
      "restore_best)" },
    { T7 "  early_stopping: {patience: 2, metric: loss, restore_best: 1}\n", "c.yaml:5:61: "
      "train.early_stopping.restore_best: expected true or false (got '1')" },
    { T7 "  target_loss: 0\n", "c.yaml:5:16: train.target_loss: must be > 0 (got 0)" },
    { T7 "  target_loss: [1]\n", "c.yaml:5:16: train.target_loss: expected a number (got a sequence)" },
    { T7 "  target_accuracy: 0\n", "c.yaml:5:20: train.target_accuracy: must be in (0, 1] (got 0)" },
    { T7 "  target_accuracy: 1.5\n", "c.yaml:5:20: train.target_accuracy: must be in (0, 1] (got 1.5)" },
    { T7 "  target_max_error: 0\n", "c.yaml:5:21: train.target_max_error: must be > 0 (got 0)" },
    { T7 "  reduction: sun\n", "c.yaml:5:14: train.reduction: unknown value 'sun' (did you mean "
      "'sum'?)" },
    { T7 "  reduction: total\n", "c.yaml:5:14: train.reduction: unknown value 'total' (valid "
      "values: mean, sum)" },
    { T7 "  diverge_factor: 1\n", "c.yaml:5:19: train.diverge_factor: must be 0 (off) or a number > 1 (got 1)" },
    { T7 "  diverge_factor: -5\n", "c.yaml:5:19: train.diverge_factor: must be 0 (off) or a number > 1 (got -5)" },
    { T7 "  diverge_factor: .inf\n", "c.yaml:5:19: train.diverge_factor: must be a finite number (got '.inf')" },
#undef T7
};

START_TEST(test_bad)
{
    bp_err e;
    bp_config *c = load_text(bad[_i].text, NULL, 0, &e);
    if (c)
        bp_config_free(c);
    ck_assert_msg(c == NULL, "case %d accepted", _i);
    ck_assert_int_eq(e.code, BP_ECONFIG);
    ck_assert_str_eq(e.msg, bad[_i].msg);
}
END_TEST

START_TEST(test_nul_and_garbage)
{
    bp_err e;
    static const char nul[] = "data:\n  train: x\0y\n";
    write_file("c.yaml", nul, sizeof nul - 1);
    bp_config *c = bp_config_load("c.yaml", NULL, 0, &e);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(e.code, BP_ECONFIG);
    ck_assert_str_eq(e.msg, "c.yaml:2:11: YAML syntax error: control characters are not allowed "
                            "(0x00 at byte 16)");
    /* random binary garbage (fixed seeds): always a clean config error, never a crash */
    unsigned char buf[4096];
    uint64_t s = 88172645463325252u;
    for (int round = 0; round < 200; round++) {
        size_t len = 1 + (size_t)(round * 37) % sizeof buf;
        for (size_t i = 0; i < len; i++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            buf[i] = (unsigned char)s;
        }
        write_file("c.yaml", (const char *)buf, len);
        bp_err_clear(&e);
        c = bp_config_load("c.yaml", NULL, 0, &e);
        ck_assert_ptr_null(c);
        ck_assert_int_eq(e.code, BP_ECONFIG);
        ck_assert(strncmp(e.msg, "c.yaml", 6) == 0);
        ck_assert_ptr_null(strchr(e.msg, '\n'));
    }
    /* a byte-order mark is fine; UTF-16 is not */
    write_file("c.yaml", "\xEF\xBB\xBF" BASE, strlen(BASE) + 3);
    c = bp_config_load("c.yaml", NULL, 0, &e);
    ck_assert_msg(c != NULL, "%s", e.msg);
    bp_config_free(c);
    write_file("c.yaml", "\xFF\xFE" "a\0:\0 \0001\0", 10);
    c = bp_config_load("c.yaml", NULL, 0, &e);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(e.msg, "c.yaml:1:1: YAML syntax error: invalid leading UTF-8 octet (0xff at byte 0)");
}
END_TEST

START_TEST(test_files)
{
    bp_err e;
    bp_config *c = bp_config_load("missing.yaml", NULL, 0, &e);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(e.code, BP_ECONFIG);
    ck_assert_str_eq(e.msg, "missing.yaml: cannot open: No such file or directory");
    mkdir("adir", 0755);
    c = bp_config_load("adir", NULL, 0, &e);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(e.msg, "adir: not a regular file (a directory)");
    bp_node *n = bp_yaml_parse_file("missing.yaml", &e);
    ck_assert_ptr_null(n);
    ck_assert_str_eq(e.msg, "missing.yaml: cannot open: No such file or directory");

    /* too large: BP_CONFIG_MAX_BYTES + 1 bytes of comment */
    size_t len = BP_CONFIG_MAX_BYTES + 1;
    char *big = malloc(len);
    ck_assert_ptr_nonnull(big);
    memset(big, ' ', len);
    big[0] = '#';
    write_file("big.yaml", big, len);
    double t0 = now();
    c = bp_config_load("big.yaml", NULL, 0, &e);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(e.msg, "big.yaml: config is larger than 4194304 bytes");
    n = bp_yaml_parse_string(big, len, "s", &e);
    ck_assert_ptr_null(n);
    ck_assert_str_eq(e.msg, "s: config is larger than 4194304 bytes");
    ck_assert(now() - t0 < 1.0);
    free(big);

    if (geteuid() != 0) { /* root reads anything */
        write_file("locked.yaml", BASE, strlen(BASE));
        chmod("locked.yaml", 0);
        c = bp_config_load("locked.yaml", NULL, 0, &e);
        ck_assert_ptr_null(c);
        ck_assert_str_eq(e.msg, "locked.yaml: cannot open: Permission denied");
    }
}
END_TEST

START_TEST(test_alias_bomb)
{
    bp_err e;
    double t0 = now();
    bp_config *c = bp_config_load(BP_TEST_SRCDIR "/tests/config/billion-laughs.yaml", NULL, 0, &e);
    ck_assert(now() - t0 < 1.0);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(e.code, BP_ECONFIG);
    ck_assert_str_eq(e.msg, BP_TEST_SRCDIR "/tests/config/billion-laughs.yaml:3:4: anchors and "
                            "aliases are not allowed in a bprun config");
}
END_TEST

static void expect_deep(const char *text, size_t len, const char *msg)
{
    bp_err e;
    write_file("c.yaml", text, len);
    double t0 = now();
    bp_config *c = bp_config_load("c.yaml", NULL, 0, &e);
    double dt = now() - t0;
    ck_assert_ptr_null(c);
    ck_assert_int_eq(e.code, BP_ECONFIG);
    ck_assert_str_eq(e.msg, msg);
    ck_assert_msg(dt < 1.0, "took %.2f s", dt);
}

START_TEST(test_depth)
{
    size_t n = 100000;
    char *t = malloc(4 * n + 200);
    ck_assert_ptr_nonnull(t);
    /* 100000 '[' : rejected at the 65th level (the top-level map is level 1) */
    memcpy(t, "a: ", 3);
    memset(t + 3, '[', n);
    expect_deep(t, 3 + n, "c.yaml:1:67: nesting deeper than 64 levels");
    memset(t, '[', n);
    expect_deep(t, n, "c.yaml:1:65: nesting deeper than 64 levels");
    /* 100000 '{a: ' */
    size_t o = 0;
    memcpy(t, "a: ", 3);
    o = 3;
    for (size_t i = 0; i < n; i++, o += 4)
        memcpy(t + o, "{a: ", 4);
    expect_deep(t, o, "c.yaml:1:256: nesting deeper than 64 levels");
    /* block nesting by indentation: 65 levels */
    o = 0;
    for (int i = 0; i < 65; i++) {
        memset(t + o, ' ', (size_t)i);
        o += (size_t)i;
        memcpy(t + o, "k:\n", 3);
        o += 3;
    }
    expect_deep(t, o, "c.yaml:65:65: nesting deeper than 64 levels");
    /* block sequences: "- - - ..." */
    memcpy(t, "a:\n", 3);
    o = 3;
    for (size_t i = 0; i < n; i++, o += 2)
        memcpy(t + o, "- ", 2);
    t[o++] = 'x';
    expect_deep(t, o, "c.yaml:2:129: nesting deeper than 64 levels");
    /* 2 million values: rejected at the node limit, fast */
    free(t);
    size_t big = 2000000;
    t = malloc(2 * big + 10);
    ck_assert_ptr_nonnull(t);
    memcpy(t, "a: [", 4);
    o = 4;
    for (size_t i = 0; i < big; i++, o += 2)
        memcpy(t + o, "1,", 2);
    t[o - 1] = ']';
    expect_deep(t, o, "c.yaml:1:199999: more than 100000 keys and values in one config");
    free(t);

    /* 64 levels are fine for the YAML layer (the schema then rejects the unknown key) */
    char ok[300];
    o = 0;
    memcpy(ok, "a: ", 3);
    o = 3;
    memset(ok + o, '[', 63);
    o += 63;
    memset(ok + o, ']', 63);
    o += 63;
    ok[o] = '\0';
    bp_err e;
    bp_node *root = bp_yaml_parse_string(ok, o, "c.yaml", &e);
    ck_assert_msg(root != NULL, "%s", e.msg);
    bp_node_free(root);
    /* brackets in quotes, comments and block scalars are not nesting */
    char *q = malloc(600);
    ck_assert_ptr_nonnull(q);
    o = (size_t)snprintf(q, 600, "a: \"");
    memset(q + o, '[', 100);
    o += 100;
    o += (size_t)snprintf(q + o, 600 - o, "\"\nb: |\n  ");
    memset(q + o, '{', 100);
    o += 100;
    o += (size_t)snprintf(q + o, 600 - o, "\n# ");
    memset(q + o, '[', 100);
    o += 100;
    q[o] = '\0';
    root = bp_yaml_parse_string(q, o, "c.yaml", &e);
    ck_assert_msg(root != NULL, "%s", e.msg);
    ck_assert_uint_eq(strlen(bp_node_get(root, "a")->value), 100);
    bp_node_free(root);
    free(q);
}
END_TEST

/* ---- the node layer ---- */

START_TEST(test_nodes)
{
    bp_err e;
    bp_node *n = bp_yaml_parse_value("[2,3,1]", "--set", &e);
    ck_assert_ptr_nonnull(n);
    ck_assert_int_eq(n->kind, BP_NODE_SEQ);
    ck_assert_uint_eq(n->n, 3);
    ck_assert_str_eq(n->items[1]->value, "3");
    ck_assert_uint_eq(n->items[1]->mark.col, 4);
    ck_assert_str_eq(n->items[1]->mark.src, "--set");
    bp_node_free(n);

    n = bp_yaml_parse_value("{name: adam, lr: 0.1}", "--set", &e);
    ck_assert_ptr_nonnull(n);
    ck_assert_int_eq(n->kind, BP_NODE_MAP);
    ck_assert_str_eq(n->keys[1], "lr");
    ck_assert_uint_eq(n->key_marks[1].col, 14);
    ck_assert_str_eq(bp_node_get(n, "name")->value, "adam");
    ck_assert_ptr_null(bp_node_get(n, "nope"));
    bp_node *c = bp_node_clone(n, &e);
    bp_node_free(n);
    ck_assert_str_eq(bp_node_get(c, "lr")->value, "0.1");
    ck_assert_str_eq(c->key_marks[1].src, "--set");
    bp_node_free(c);

    n = bp_yaml_parse_value("'5'", "--set", &e);
    ck_assert_int_eq(n->kind, BP_NODE_SCALAR);
    ck_assert_int_eq(n->quoted, 1);
    ck_assert_str_eq(n->value, "5");
    bp_node_free(n);
    n = bp_yaml_parse_value("", "--set", &e);
    ck_assert_ptr_nonnull(n);
    ck_assert_int_eq(n->kind, BP_NODE_SCALAR);
    ck_assert_str_eq(n->value, "");
    bp_node_free(n);
    ck_assert_ptr_null(bp_yaml_parse_value("[1, 2", "--set", &e));
    ck_assert_str_eq(e.msg, "--set:2:1: YAML syntax error: did not find expected ',' or ']' "
                            "(while parsing a flow sequence that started at 1:1)");
    ck_assert_ptr_null(bp_yaml_parse_value("&a 1", "--set", &e));
    ck_assert_str_eq(e.msg, "--set:1:1: anchors and aliases are not allowed in a bprun config");

    /* dump keeps structure, order and quoting */
    const char *text = "b: 1\na:\n  - x\n  - {k: 'y', j: [1, 2]}\n  - []\nc: \"1\"\nd:\ne: 'a: b'\n";
    n = bp_yaml_parse_string(text, strlen(text), "t", &e);
    ck_assert_ptr_nonnull(n);
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    bp_node_dump(f, n, 0);
    fclose(f);
    ck_assert_str_eq(buf, "b: 1\na:\n  - x\n  - k: \"y\"\n    j:\n      - 1\n      - 2\n  - []\n"
                          "c: \"1\"\nd: null\ne: \"a: b\"\n");
    bp_node *back = bp_yaml_parse_string(buf, size, "t2", &e);
    ck_assert_ptr_nonnull(back);
    ck_assert_int_eq(bp_node_get(back, "c")->quoted, 1);
    ck_assert_str_eq(bp_node_get(back, "e")->value, "a: b");
    bp_node_free(back);
    free(buf);
    bp_node_free(n);
}
END_TEST

START_TEST(test_write_string)
{
    static const struct { const char *s; int flow; const char *out; } cases[] = {
        { "runs", 0, "runs" },
        { "builtin:xor", 0, "builtin:xor" },
        { "builtin:xor", 1, "\"builtin:xor\"" },
        { "a b#c", 0, "a b#c" },
        { "a #c", 0, "\"a #c\"" },
        { "a: b", 0, "\"a: b\"" },
        { "a,b", 0, "a,b" },
        { "a,b", 1, "\"a,b\"" },
        { "", 0, "\"\"" },
        { "1", 0, "\"1\"" },
        { "0.5", 0, "\"0.5\"" },
        { "-3", 0, "\"-3\"" },
        { "yes", 0, "\"yes\"" },
        { "Null", 0, "\"Null\"" },
        { "-x", 0, "\"-x\"" },
        { " lead", 0, "\" lead\"" },
        { "trail ", 0, "\"trail \"" },
        { "q\"b\\", 0, "q\"b\\" },
        { "\"q", 0, "\"\\\"q\"" },
        { "tab\there", 0, "\"tab\\there\"" },
        { "new\nline", 0, "\"new\\nline\"" },
        { "x.h5#/train", 0, "x.h5#/train" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        bp_yaml_write_string(f, cases[i].s, cases[i].flow);
        fclose(f);
        ck_assert_msg(!strcmp(buf, cases[i].out), "'%s' -> '%s', expected '%s'", cases[i].s, buf,
                      cases[i].out);
        /* and it reads back as the same string */
        char doc[200];
        snprintf(doc, sizeof doc, cases[i].flow ? "k: [%s]" : "k: %s", buf);
        bp_err e;
        bp_node *n = bp_yaml_parse_string(doc, strlen(doc), "t", &e);
        ck_assert_msg(n != NULL, "%s: %s", doc, e.msg);
        bp_node *v = bp_node_get(n, "k");
        if (cases[i].flow)
            v = v->items[0];
        ck_assert_str_eq(v->value, cases[i].s);
        bp_node_free(n);
        free(buf);
    }
}
END_TEST

/* ---- --set ---- */

START_TEST(test_set)
{
    bp_err e;
    const char *ov[] = {
        "train.epochs=5",                       /* existing key */
        "train.shuffle=false",                  /* new key */
        "model.layers=[2,4,4,3]",               /* flow sequence */
        "model.layers[1]=64",                   /* index */
        "model.activation=[relu, relu]",
        "model.activation[1]={name: tanh, k: 2}",
        "train.optimizer={name: adam, lr: 0.1}", /* flow map */
        "train.optimizer.lr=0.5",               /* into a map */
        "data.test=t.h5#/test",                 /* relative to the working directory */
        "  model.loss = cross_entropy",         /* spaces around the path */
        "data.validation=",                     /* null: back to the default */
        "output=o",
    };
    bp_config *c = load_text("data:\n  train: builtin:xor\n  validation: 0.5\nmodel:\n"
                             "  layers: [2, 3, 1]\ntrain:\n  epochs: 3\n",
                             ov, sizeof ov / sizeof *ov, &e);
    ck_assert_msg(c != NULL, "%s", e.msg);
    ck_assert_int_eq(c->train.epochs, 5);
    ck_assert_int_eq(c->train.shuffle, 0);
    ck_assert_uint_eq(c->model.n_sizes, 4);
    ck_assert_int_eq(c->model.sizes[1], 64);
    ck_assert_int_eq(c->model.sizes[3], 3);
    ck_assert_str_eq(c->model.hidden[0].name, "relu");
    ck_assert_str_eq(c->model.hidden[1].name, "tanh");
    ck_assert_str_eq(c->model.hidden[1].key_path, "model.activation[1]");
    ck_assert_uint_eq(c->model.hidden[1].n_hp, 1);
    ck_assert_str_eq(c->model.hidden[1].hp[0].mark.src, "--set");
    ck_assert_uint_eq(c->model.hidden[1].hp[0].mark.col, 17);
    ck_assert_str_eq(c->train.optimizer.name, "adam");
    ck_assert_uint_eq(c->train.optimizer.n_hp, 1);
    ck_assert(c->train.optimizer.hp[0].value == 0.5);
    ck_assert_str_eq(c->data.test.ref, "t.h5#/test");
    ck_assert_ptr_null(c->data.validation.ref);
    ck_assert(c->data.val_fraction == 0);
    ck_assert_int_eq(c->model.loss, BP_LOSS_CROSS_ENTROPY);
    ck_assert_int_eq(c->model.output_kind, BP_OUTPUT_SOFTMAX);
    ck_assert_str_eq(c->output, "o");
    ck_assert_uint_eq(c->n_overrides, sizeof ov / sizeof *ov);
    ck_assert_str_eq(c->overrides[0], "train.epochs=5");
    /* the tree holds the overrides */
    ck_assert_str_eq(bp_node_get(bp_node_get(c->root, "train"), "epochs")->value, "5");
    bp_config_free(c);

    /* a plugin given by name becomes {name: ...} when a hyperparameter is set */
    const char *ov2[] = { "train.optimizer.lr=0.25", "model.init.scheme=he_normal",
                          "seed=12" };
    c = load_text(BASE "  optimizer: momentum\n", ov2, 3, &e);
    ck_assert_msg(c != NULL, "%s", e.msg);
    ck_assert_str_eq(c->train.optimizer.name, "momentum");
    ck_assert_uint_eq(c->train.optimizer.n_hp, 1);
    ck_assert(c->train.optimizer.hp[0].value == 0.25);
    ck_assert_int_eq(c->model.init.scheme, BP_INIT_HE_NORMAL);
    ck_assert_uint_eq(c->seed, 12);
    bp_config_free(c);

    /* a relative data path given with --set stays relative to the working directory */
    mkdir("sub", 0755);
    write_file("sub/c.yaml", BASE "  optimizer: ./p/opt.so\n", strlen(BASE "  optimizer: ./p/opt.so\n"));
    const char *ov3[] = { "data.test=d/t.h5#/t", "data.validation=v.h5" };
    c = bp_config_load("sub/c.yaml", (char *const *)ov3, 2, &e);
    ck_assert_msg(c != NULL, "%s", e.msg);
    ck_assert_str_eq(c->data.test.ref, "d/t.h5#/t");
    ck_assert_str_eq(c->data.validation.ref, "v.h5");
    ck_assert_str_eq(c->train.optimizer.name, "sub/./p/opt.so");
    bp_config_free(c);
}
END_TEST

typedef struct bad_set {
    const char *assignment;
    int code;
    const char *msg;
} bad_set;

static const bad_set bad_sets[] = {
    { "train.epochs=abc", BP_ECONFIG, "--set:1:1: train.epochs: expected an integer (got 'abc')" },
    { "train.epochs=  'x'", BP_ECONFIG,
      "--set:1:3: train.epochs: expected an integer (got quoted string 'x')" },
    { "model.layers=[2, x, 1]", BP_ECONFIG,
      "--set:1:5: model.layers[1]: expected an integer (got 'x')" },
    { "train.epochs=[1", BP_ECONFIG,
      "--set:2:1: YAML syntax error: did not find expected ',' or ']' (while parsing a flow "
      "sequence that started at 1:1)" },
    { "foo", BP_EUSAGE, "--set foo: expected key.path=value" },
    { "=5", BP_EUSAGE, "--set =5: expected key.path=value" },
    { " =5", BP_EUSAGE, "--set  =5: expected key.path=value" },
    { "a..b=1", BP_EUSAGE, "--set a..b=1: a..b: empty key in the path" },
    { "a.=1", BP_EUSAGE, "--set a.=1: a.: empty key in the path" },
    { "model.layers[x]=1", BP_EUSAGE,
      "--set model.layers[x]=1: model.layers[x]: expected a number inside [ ]" },
    { "model.layers[1=1", BP_EUSAGE,
      "--set model.layers[1=1: model.layers[1: expected a number inside [ ]" },
    { "model.layers[1]x=1", BP_EUSAGE,
      "--set model.layers[1]x=1: model.layers[1]x: expected '.' or '[' after ']'" },
    { "model.layers[9]=1", BP_ECONFIG,
      "--set model.layers[9]=1: model.layers[9]: index 9 is out of range (model.layers has 3 "
      "entries)" },
    { "model.activation[0]=relu", BP_ECONFIG,
      "--set model.activation[0]=relu: model.activation[0]: model.activation does not exist "
      "(cannot index it)" },
    { "data.train[0]=x", BP_ECONFIG,
      "--set data.train[0]=x: data.train[0]: data.train is a string, not a sequence" },
    { "model.layers.x=1", BP_ECONFIG,
      "--set model.layers.x=1: model.layers.x: model.layers is a sequence, not a map" },
    { "foo.bar=1", BP_ECONFIG,
      "--set:1:1: foo: unknown key (valid keys: experiment, seed, data, model, train, output, diagnostics)" },
    { "train.epoch=1", BP_ECONFIG, "--set:1:1: train.epoch: unknown key (did you mean 'epochs'?)" },
    { "model.layers[3]=0", BP_ECONFIG, "--set:1:1: model.layers[3]: must be >= 1 (got 0)" },
    { "train.epochs=", BP_ECONFIG, "--set:1:1: train.epochs: missing value (expected an integer)" },
};

START_TEST(test_set_bad)
{
    bp_err e;
    const char *ov[] = { bad_sets[_i].assignment };
    bp_config *c = load_text(BASE, ov, 1, &e);
    if (c)
        bp_config_free(c);
    ck_assert_msg(c == NULL, "case %d accepted", _i);
    ck_assert_int_eq(e.code, bad_sets[_i].code);
    ck_assert_str_eq(e.msg, bad_sets[_i].msg);
}
END_TEST

START_TEST(test_set_path_api)
{
    bp_err e;
    const char *text = "a: 1\nb: [x, y]\n";
    bp_node *root = bp_yaml_parse_string(text, strlen(text), "t", &e);
    ck_assert_ptr_nonnull(root);
    ck_assert_int_eq(bp_node_set_path(root, "c.d.e", bp_yaml_parse_value("7", "v", &e), &e), 0);
    ck_assert_str_eq(bp_node_get(bp_node_get(bp_node_get(root, "c"), "d"), "e")->value, "7");
    ck_assert_str_eq(root->keys[2], "c");
    ck_assert_str_eq(root->key_marks[2].src, "v");
    ck_assert_int_eq(bp_node_set_path(root, "b[2]", bp_yaml_parse_value("z", "v", &e), &e), 0);
    ck_assert_uint_eq(bp_node_get(root, "b")->n, 3);
    ck_assert_int_eq(bp_node_set_path(root, "b[0]", bp_yaml_parse_value("w", "v", &e), &e), 0);
    ck_assert_str_eq(bp_node_get(root, "b")->items[0]->value, "w");
    ck_assert_int_eq(bp_node_set_path(root, "a.lr", bp_yaml_parse_value("0.1", "v", &e), &e), 0);
    bp_node *a = bp_node_get(root, "a");
    ck_assert_int_eq(a->kind, BP_NODE_MAP);
    ck_assert_str_eq(bp_node_get(a, "name")->value, "1");
    ck_assert_str_eq(bp_node_get(a, "lr")->value, "0.1");
    ck_assert_int_eq(bp_node_set_path(root, "", bp_yaml_parse_value("1", "v", &e), &e), BP_EUSAGE);
    ck_assert_int_eq(bp_node_apply_override(root, "b[3]=q", &e), 0);
    ck_assert_uint_eq(bp_node_get(root, "b")->n, 4);
    bp_node_free(root);
}
END_TEST

/* ---- dump round trip ---- */

static void assert_ref_eq(const bp_pluginref *a, const bp_pluginref *b)
{
    ck_assert_str_eq(a->name, b->name);
    ck_assert_uint_eq(a->n_hp, b->n_hp);
    for (size_t i = 0; i < a->n_hp; i++) {
        ck_assert_str_eq(a->hp[i].name, b->hp[i].name);
        ck_assert_msg(a->hp[i].value == b->hp[i].value, "%s: %.17g != %.17g", a->hp[i].name,
                      a->hp[i].value, b->hp[i].value);
    }
}

static void assert_str_or_null_eq(const char *a, const char *b)
{
    if (!a || !b)
        ck_assert_ptr_eq(a, b);
    else
        ck_assert_str_eq(a, b);
}

static void assert_config_eq(const bp_config *a, const bp_config *b)
{
    ck_assert_str_eq(a->experiment, b->experiment);
    ck_assert_uint_eq(a->seed, b->seed);
    assert_str_or_null_eq(a->data.train.ref, b->data.train.ref);
    assert_str_or_null_eq(a->data.validation.ref, b->data.validation.ref);
    ck_assert(a->data.val_fraction == b->data.val_fraction);
    assert_str_or_null_eq(a->data.test.ref, b->data.test.ref);
    ck_assert_int_eq(a->data.standardize, b->data.standardize);
    ck_assert_uint_eq(a->model.n_sizes, b->model.n_sizes);
    for (size_t i = 0; i < a->model.n_sizes; i++)
        ck_assert_int_eq(a->model.sizes[i], b->model.sizes[i]);
    for (size_t i = 0; i + 2 < a->model.n_sizes; i++)
        assert_ref_eq(&a->model.hidden[i], &b->model.hidden[i]);
    ck_assert_int_eq(a->model.output_kind, b->model.output_kind);
    assert_ref_eq(&a->model.output, &b->model.output);
    ck_assert_int_eq(a->model.loss, b->model.loss);
    ck_assert_int_eq(a->model.init.scheme, b->model.init.scheme);
    ck_assert(a->model.init.range == b->model.init.range);
    ck_assert(a->model.init.gain == b->model.init.gain);
    assert_str_or_null_eq(a->model.init.from, b->model.init.from);
    ck_assert_int_eq(a->train.epochs, b->train.epochs);
    ck_assert_int_eq(a->train.batch_size, b->train.batch_size);
    ck_assert_int_eq(a->train.shuffle, b->train.shuffle);
    assert_ref_eq(&a->train.optimizer, &b->train.optimizer);
    const bp_lr_params *sa = &a->train.schedule, *sb = &b->train.schedule;
    ck_assert_int_eq(sa->kind, sb->kind);
    ck_assert_int_eq(sa->step_size, sb->step_size);
    ck_assert_int_eq(sa->t_max, sb->t_max);
    ck_assert_int_eq(sa->warmup_epochs, sb->warmup_epochs);
    ck_assert_int_eq(sa->metric, sb->metric);
    ck_assert_int_eq(sa->mode, sb->mode);
    ck_assert_int_eq(sa->patience, sb->patience);
    ck_assert_int_eq(sa->cooldown, sb->cooldown);
    ck_assert(sa->gamma == sb->gamma && sa->eta_min == sb->eta_min);
    ck_assert(sa->warmup_start == sb->warmup_start && sa->factor == sb->factor);
    ck_assert(sa->threshold == sb->threshold && sa->min_lr == sb->min_lr && sa->eps == sb->eps);
    ck_assert_int_eq(a->train.clip, b->train.clip);
    ck_assert(a->train.clip_max == b->train.clip_max);
    ck_assert(a->train.target_loss == b->train.target_loss);
    ck_assert(a->train.target_accuracy == b->train.target_accuracy);
    ck_assert(a->train.target_max_error == b->train.target_max_error);
    ck_assert_int_eq(a->train.reduction, b->train.reduction);
    ck_assert_str_eq(a->output, b->output);
}

static const char *const round_trip[] = {
    BASE,
    "experiment: '123'\nseed: 0\n"
    "data: {train: 'd/a b,c.h5#/x y', validation: 'yes', test: builtin:gauss:n=3}\n"
    "model:\n  layers: [3, 5, 5, 5, 2]\n"
    "  activation: [relu, {name: 'p/x,y.so', a: 0.1, b: 1e-300}, {name: relu}]\n"
    "  loss: cross_entropy\n  init: {scheme: uniform, range: 0.30000000000000004}\n"
    "train:\n  epochs: 1000000000\n  batch_size: full\n  shuffle: false\n"
    "  optimizer: {name: sgd, lr: 0.1, momentum: 0.3333333333333333, big: 1.7976931348623157e308,"
    " neg: -2.5e-7, t: true}\noutput: 'out: x'\n",
    "data: {train: x.h5, validation: 0.25}\nmodel:\n  layers: [2, 2]\n"
    "  activation: tanh\n  output: {name: tanh, s: 2}\n  init: {from: w.h5}\n"
    "train: {epochs: 1, batch_size: 1}\n",
    "data: {train: x.h5}\nmodel:\n  layers: [2, 4, 4, 1]\n  activation: {name: elu, a: 1}\n"
    "  loss: binary_cross_entropy\n  init: {scheme: he_normal, gain: 1.4142135623730951}\n"
    "train: {epochs: 1}\n",
    /* training helpers: every schedule, both clips */
    BASE "  schedule: {name: step, step_size: 7, gamma: 0.3333333333333333}\n  clip: {norm: 0.25}\n",
    BASE "  schedule: {name: exponential, gamma: 0.99}\n  clip: {value: 1e-3}\n",
    BASE "  schedule: {name: cosine, eta_min: 1e-5, warmup_epochs: 2, warmup_start: 0.1}\n",
    BASE "  schedule: {name: cosine, t_max: 100}\n",
    BASE "  schedule: {name: plateau, metric: loss, mode: max, factor: 0.5, patience: 0,"
    " threshold: 0.01, cooldown: 2, min_lr: 1e-6, eps: 0}\n",
    "data: {train: x.h5, validation: 0.1}\nmodel: {layers: [2, 1]}\n"
    "train: {epochs: 9, schedule: plateau}\n",
    "data: {train: x.h5}\nmodel: {layers: [2, 1]}\n"
    "train: {epochs: 9, reduction: sum, target_accuracy: 0.75, target_max_error: 0.4}\n",
};

START_TEST(test_round_trip)
{
    bp_err e;
    bp_config *a = load_text(round_trip[_i], NULL, 0, &e);
    ck_assert_msg(a != NULL, "%s", e.msg);
    char *d1 = bp_config_dump_string(a);
    ck_assert_ptr_nonnull(d1);
    bp_node *root = bp_yaml_parse_string(d1, strlen(d1), "dump", &e);
    ck_assert_msg(root != NULL, "%s\n%s", e.msg, d1);
    bp_config *b = bp_config_from_node(root, NULL, &e);
    ck_assert_msg(b != NULL, "%s\n%s", e.msg, d1);
    assert_config_eq(a, b);
    char *d2 = bp_config_dump_string(b);
    ck_assert_str_eq(d1, d2);
    free(d1);
    free(d2);
    bp_config_free(a);
    bp_config_free(b);
}
END_TEST

START_TEST(test_dump_golden)
{
    bp_err e;
    const char *ov[] = { "train.optimizer={name: sgd, lr: 0.1}" };
    bp_config *c = load_text(BASE, ov, 1, &e);
    ck_assert_msg(c != NULL, "%s", e.msg);
    char *d = bp_config_dump_string(c);
    ck_assert_str_eq(d,
                     "experiment: c\n"
                     "seed: 1\n"
                     "data:\n"
                     "  train: builtin:xor\n"
                     "  validation: 0\n"
                     "  test: null\n"
                     "  standardize: false\n"
                     "model:\n"
                     "  layers: [2, 3, 1]\n"
                     "  activation: {name: sigmoid}\n"
                     "  output: {name: sigmoid}\n"
                     "  loss: mse\n"
                     "  init: {scheme: xavier_uniform, gain: 1}\n"
                     "train:\n"
                     "  epochs: 3\n"
                     "  batch_size: 32\n"
                     "  shuffle: true\n"
                     "  optimizer: {name: sgd, lr: 0.1}\n"
                     "  schedule: {name: constant}\n"
                     "  clip: null\n"
                     "  early_stopping: null\n"
                     "  target_loss: null\n"
                     "output: runs\n");
    ck_assert(c->train.diverge_factor == BP_DIVERGE_FACTOR_DEFAULT);
    free(d);
    bp_config_free(c);
    /* train.diverge_factor is dumped only when not the default, so old dumps stay the same */
    const char *ov2[] = { "train.diverge_factor=50" }, *ov3[] = { "train.diverge_factor=0" };
    c = load_text(BASE, ov2, 1, &e);
    ck_assert_msg(c != NULL, "%s", e.msg);
    d = bp_config_dump_string(c);
    ck_assert_ptr_nonnull(strstr(d, "  target_loss: null\n  diverge_factor: 50\noutput: runs\n"));
    free(d);
    bp_config_free(c);
    c = load_text(BASE, ov3, 1, &e);
    ck_assert_msg(c != NULL, "%s", e.msg);
    ck_assert(c->train.diverge_factor == 0);
    d = bp_config_dump_string(c);
    ck_assert_ptr_nonnull(strstr(d, "  diverge_factor: 0\n"));
    free(d);
    bp_config_free(c);

    /* train.reduction and train.target_accuracy: dumped only when set (sum, a target) */
    bp_config *c2 = load_text(BASE, NULL, 0, &e);
    ck_assert_msg(c2 != NULL, "%s", e.msg);
    ck_assert(c2->train.reduction == BP_REDUCTION_MEAN && c2->train.target_accuracy == 0);
    bp_config_free(c2);
    const char *ov4[] = { "train.reduction=sum", "train.target_accuracy=0.9" };
    c2 = load_text(BASE, ov4, 2, &e);
    ck_assert_msg(c2 != NULL, "%s", e.msg);
    ck_assert(c2->train.reduction == BP_REDUCTION_SUM && c2->train.target_accuracy == 0.9);
    d = bp_config_dump_string(c2);
    ck_assert_ptr_nonnull(strstr(d, "  target_loss: null\n  target_accuracy: 0.9\n  reduction: "
                                    "sum\noutput: runs\n"));
    free(d);
    bp_config_free(c2);

    /* from_node with a tree that is not a map, and with no file name for the experiment */
    bp_node *n = bp_yaml_parse_value("[1]", "v", &e);
    ck_assert_ptr_null(bp_config_from_node(n, NULL, &e));
    ck_assert_str_eq(e.msg, "v:1:1: the top level of a config must be a map of keys");
    n = bp_yaml_parse_string(BASE, strlen(BASE), "s", &e);
    ck_assert_ptr_null(bp_config_from_node(n, NULL, &e));
    ck_assert_str_eq(e.msg, "s:1:1: missing required key 'experiment' (no config file name to "
                            "take it from)");
    write_file("bad name.yaml", BASE, strlen(BASE));
    ck_assert_ptr_null(bp_config_load("bad name.yaml", NULL, 0, &e));
    ck_assert_str_eq(e.msg, "bad name.yaml: experiment: the file name 'bad name' is not a valid "
                            "experiment name (letters, digits, '.', '_', '-'): set experiment: NAME");
}
END_TEST

START_TEST(test_helpers)
{
    bp_err e;
    bp_config *c = load_text(BASE, NULL, 0, &e);
    ck_assert_msg(c != NULL, "%s", e.msg);
    ck_assert_int_eq(c->train.schedule.kind, BP_LR_CONSTANT);
    ck_assert_ptr_null(c->train.schedule_mark.src);
    ck_assert_int_eq(c->train.clip, BP_CLIP_NONE);
    bp_config_free(c);

    c = load_text(BASE "  schedule: {name: step, step_size: 4}\n  clip: {norm: 2.5}\n", NULL, 0, &e);
    ck_assert_msg(c != NULL, "%s", e.msg);
    ck_assert_int_eq(c->train.schedule.kind, BP_LR_STEP);
    ck_assert_int_eq(c->train.schedule.step_size, 4);
    ck_assert(c->train.schedule.gamma == 0.1);
    ck_assert_uint_eq(c->train.schedule_mark.line, 7);
    ck_assert_uint_eq(c->train.schedule_mark.col, 13);
    ck_assert_int_eq(c->train.clip, BP_CLIP_NORM);
    ck_assert(c->train.clip_max == 2.5);
    bp_config_free(c);

    /* cosine: t_max defaults to train.epochs, also when epochs comes from --set */
    const char *ov[] = { "train.epochs=40", "train.clip.value=0.5" };
    c = load_text(BASE "  schedule: cosine\n", ov, 2, &e);
    ck_assert_msg(c != NULL, "%s", e.msg);
    ck_assert_int_eq(c->train.schedule.kind, BP_LR_COSINE);
    ck_assert_int_eq(c->train.schedule.t_max, 40);
    ck_assert(c->train.schedule.eta_min == 0 && c->train.schedule.warmup_start == 0);
    ck_assert_int_eq(c->train.schedule.warmup_epochs, 0);
    ck_assert_int_eq(c->train.clip, BP_CLIP_VALUE);
    ck_assert(c->train.clip_max == 0.5);
    bp_config_free(c);

    /* plateau defaults (torch's), with validation data */
    const char *ov2[] = { "data.validation=0.2" };
    c = load_text(BASE "  schedule: plateau\n", ov2, 1, &e);
    ck_assert_msg(c != NULL, "%s", e.msg);
    const bp_lr_params *p = &c->train.schedule;
    ck_assert_int_eq(p->kind, BP_LR_PLATEAU);
    ck_assert_int_eq(p->metric, BP_METRIC_VAL_LOSS);
    ck_assert_int_eq(p->mode, BP_MODE_MIN);
    ck_assert(p->factor == 0.1 && p->threshold == 1e-4 && p->min_lr == 0 && p->eps == 1e-8);
    ck_assert_int_eq(p->patience, 10);
    ck_assert_int_eq(p->cooldown, 0);
    char *d = bp_config_dump_string(c);
    ck_assert_ptr_nonnull(strstr(d, "\n  schedule: {name: plateau, metric: val_loss, mode: min, "
                                    "factor: 0.1, patience: 10, threshold: 0.0001, cooldown: 0, "
                                    "min_lr: 0, eps: 1e-08}\n  clip: null\n"));
    free(d);
    bp_config_free(c);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_full);
    tcase_add_test(tc, test_variants);
    tcase_add_test(tc, test_helpers);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_loop_test(tc, test_bad, 0, (int)(sizeof bad / sizeof *bad));
    tcase_add_test(tc, test_nul_and_garbage);
    tcase_add_test(tc, test_files);
    tcase_add_test(tc, test_alias_bomb);
    tcase_add_test(tc, test_depth);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    tc = tcase_create("nodes");
    tcase_add_test(tc, test_nodes);
    tcase_add_test(tc, test_write_string);
    tcase_add_test(tc, test_set_path_api);
    suite_add_tcase(s, tc);
    tc = tcase_create("set");
    tcase_add_test(tc, test_set);
    tcase_add_loop_test(tc, test_set_bad, 0, (int)(sizeof bad_sets / sizeof *bad_sets));
    suite_add_tcase(s, tc);
    tc = tcase_create("dump");
    tcase_add_loop_test(tc, test_round_trip, 0, (int)(sizeof round_trip / sizeof *round_trip));
    tcase_add_test(tc, test_dump_golden);
    suite_add_tcase(s, tc);
    return s;
}

static void rm_rf(const char *dir)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

int main(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/check_config.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmpdir) || chdir(tmpdir) != 0) {
        perror(tmpdir);
        return 99;
    }
    SRunner *sr = srunner_create(config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (chdir("/") == 0)
        rm_rf(tmpdir);
    return failed ? 1 : 0;
}
