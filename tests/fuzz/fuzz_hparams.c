/* fuzz_hparams.c - bytes -> plugin hyperparameter binding. The bundled plugins are loaded once,
 * at the first input, from BP_FUZZ_PLUGIN_DIR (the build tree's plugins/.libs; the environment
 * variable of the same name overrides it). Each input is a slot byte (its value mod 4:
 * train.optimizer, model.activation, model.output, model.activation[1]) then a YAML value set
 * there in a valid base config; a config that validates has every plugin reference that names
 * a loaded plugin of the right kind bound with bp_plugin_bind (names not loaded are skipped:
 * looking them up searches the disk). A bind that succeeds MUST give every declared
 * hyperparameter a value within its range, in declaration order, and binding again MUST give
 * the same values. */
#include "autoconf.h"
#include "fuzz.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_common.h"
#include "plugin.h"

#ifndef BP_FUZZ_PLUGIN_DIR
#define BP_FUZZ_PLUGIN_DIR "plugins/.libs"
#endif

static const char base_text[] =
    "experiment: hp\n"
    "data:\n"
    "  train: builtin:xor\n"
    "model:\n"
    "  layers: [2, 3, 3, 1]\n"
    "  activation: tanh\n"
    "  output: sigmoid\n"
    "  loss: mse\n"
    "train:\n"
    "  epochs: 5\n"
    "  optimizer: {name: sgd, lr: 0.5}\n";
static const char *const slots[4] = { "train.optimizer", "model.activation", "model.output",
                                      "model.activation[1]" };

static bp_registry *reg;
static const bp_loaded *loaded[64];
static size_t n_loaded;
static bp_node *base;
static char dir[4096];

static void visit(void *ud, const bp_loaded *p, const char *broken, const bp_err *why)
{
    (void)ud;
    if (!p) {
        fprintf(stderr, "fuzz_hparams: %s: %s\n", broken, why->msg);
        abort();
    }
    size_t l = strlen(dir);
    if (n_loaded < sizeof loaded / sizeof *loaded && !strncmp(p->path, dir, l) &&
        p->path[l] == '/')
        loaded[n_loaded++] = p;
}

static void setup(void)
{
    bp_err e;
    const char *d = getenv("BP_FUZZ_PLUGIN_DIR");
    char *real = realpath(d && *d ? d : BP_FUZZ_PLUGIN_DIR, NULL);
    if (!real || (size_t)snprintf(dir, sizeof dir, "%s", real) >= sizeof dir) {
        fprintf(stderr, "fuzz_hparams: no plugin folder %s\n", d && *d ? d : BP_FUZZ_PLUGIN_DIR);
        abort();
    }
    free(real);
    char *dirs[1] = { dir };
    unsetenv("BPRUN_PLUGIN_PATH");   /* the bundled plugins only (not the broken test ones) */
    bp_err_clear(&e);
    if (!(reg = bp_registry_new(dirs, 1, &e)) || bp_registry_scan(reg, visit, NULL, &e) < 0) {
        fprintf(stderr, "fuzz_hparams: %s\n", e.msg);
        abort();
    }
    if (n_loaded < 2) {
        fprintf(stderr, "fuzz_hparams: %s holds %zu plugins\n", dir, n_loaded);
        abort();
    }
    if (!(base = bp_yaml_parse_string(base_text, sizeof base_text - 1, "base.yaml", &e))) {
        fprintf(stderr, "fuzz_hparams: the base config: %s\n", e.msg);
        abort();
    }
}

static const bp_loaded *find(const char *name, int kind)
{
    for (size_t i = 0; name && i < n_loaded; i++)
        if (loaded[i]->desc->kind == kind && !strcmp(loaded[i]->desc->name, name))
            return loaded[i];
    return NULL;
}

static void bind(bp_pluginref *ref, int kind)
{
    const bp_loaded *p = find(ref->name, kind);
    if (!p)
        return;
    const bp_hparam *hp = kind == BP_OPTIMIZER ? p->desc->u.optimizer->hparams
                                               : p->desc->u.activation->hparams;
    uint32_t n = kind == BP_OPTIMIZER ? p->desc->u.optimizer->n_hparams
                                      : p->desc->u.activation->n_hparams;
    double v[BP_MAX_HPARAMS], again[BP_MAX_HPARAMS];
    bp_err e;
    bp_err_clear(&e);
    int rc = bp_plugin_bind(p, ref, v, &e);
    bp_fuzz_check_err(&e, rc, "bp_plugin_bind");
    if (rc)
        return;
    if (ref->n_hp != n)
        abort();
    for (uint32_t j = 0; j < n; j++) {
        if (strcmp(ref->hp[j].name, hp[j].name) || ref->hp[j].value != v[j] || !isfinite(v[j]) ||
            v[j] < hp[j].min || v[j] > hp[j].max ||
            ((hp[j].flags & BP_HP_MIN_OPEN) && v[j] == hp[j].min) ||
            ((hp[j].flags & BP_HP_MAX_OPEN) && v[j] == hp[j].max) ||
            ((hp[j].flags & BP_HP_INTEGER) && v[j] != floor(v[j])) ||
            ((hp[j].flags & BP_HP_BOOL) && v[j] != 0 && v[j] != 1))
            abort();
    }
    bp_err_clear(&e);
    if (bp_plugin_bind(p, ref, again, &e) != 0 || ref->n_hp != n ||
        (n && memcmp(v, again, n * sizeof *v)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bp_err e;
    if (!reg)
        setup();
    if (size < 1 || memchr(data, '\0', size))
        return 0;
    char *text = malloc(size);
    if (!text)
        abort();
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    bp_err_clear(&e);
    bp_node *value = bp_yaml_parse_value(text, "--set", &e);
    bp_fuzz_check_null(value, &e, "bp_yaml_parse_value");
    free(text);
    if (!value)
        return 0;
    bp_node *root = bp_node_clone(base, &e);
    if (!root)
        abort();
    bp_err_clear(&e);
    int rc = bp_node_set_path(root, slots[data[0] % 4], value, &e);
    bp_fuzz_check_err(&e, rc, "bp_node_set_path");
    if (rc) {
        bp_node_free(root);
        return 0;
    }
    bp_err_clear(&e);
    bp_config *c = bp_config_from_node(root, "base.yaml", &e);
    bp_fuzz_check_null(c, &e, "bp_config_from_node");
    if (c) {
        bind(&c->train.optimizer, BP_OPTIMIZER);
        for (size_t l = 0; l + 2 < c->model.n_sizes; l++)
            bind(&c->model.hidden[l], BP_ACTIVATION);
        if (c->model.output_kind == BP_OUTPUT_ACTIVATION)
            bind(&c->model.output, BP_ACTIVATION);
        char *dump = bp_config_dump_string(c);
        if (!dump)
            abort();
        free(dump);
    }
    bp_config_free(c);
    return 0;
}
