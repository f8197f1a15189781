/* fuzz_override.c - bytes -> command-line overrides applied to a valid config (XOR, no sweep
 * section): each line is a --sweep KEY=V1,V2,... when it starts with '~' (the rest of the
 * line), else a --set KEY=VALUE (at most 8 of each; a NUL ends the input). The --set lines are
 * applied to the parsed base with bp_node_apply_override, then all go through
 * bp_sweep_load_text as `bprun run base.yaml --set ... --sweep ...` would: a --set that fails
 * on the tree MUST fail there with the same message. Without a --sweep or a sweep section the
 * tree is validated directly (the one trial bp_sweep_load_text would make). Sweeps over
 * BP_FUZZ_MAX_TRIALS trials are not expanded. */
#include "autoconf.h"
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_common.h"
#include "sweep.h"

#define MAX_ARGS 8

static const char base_text[] =
    "experiment: xor\n"
    "seed: 3\n"
    "data:\n"
    "  train: builtin:xor\n"
    "model:\n"
    "  layers: [2, 2, 1]\n"
    "  activation: sigmoid\n"
    "  output: sigmoid\n"
    "  loss: mse\n"
    "  init: {scheme: uniform, range: 1.0}\n"
    "train:\n"
    "  epochs: 50\n"
    "  batch_size: 1\n"
    "  shuffle: false\n"
    "  optimizer: {name: sgd, lr: 0.5}\n";

static bp_node *base;

/* Values in a --sweep argument (an upper bound: every comma counts). */
static uint64_t sweep_values(const char *arg)
{
    uint64_t n = 1;
    for (const char *p = arg; *p; p++)
        n += *p == ',';
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bp_err e;
    if (!base) {
        bp_err_clear(&e);
        if (!(base = bp_yaml_parse_string(base_text, sizeof base_text - 1, "base.yaml", &e))) {
            fprintf(stderr, "fuzz_override: the base config: %s\n", e.msg);
            abort();
        }
    }
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    char *sets[MAX_ARGS], *sweeps[MAX_ARGS];
    size_t n_sets = 0, n_sweeps = 0;
    for (char *line = text, *next; line && line < text + size; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (line[0] == '~' && n_sweeps < MAX_ARGS)
            sweeps[n_sweeps++] = line + 1;
        else if (line[0] != '~' && n_sets < MAX_ARGS)
            sets[n_sets++] = line;
    }

    /* the --set lines on the tree, one by one */
    bp_node *root = bp_node_clone(base, &e);
    if (!root)
        abort();
    int failed = 0;
    char set_msg[sizeof e.msg] = "";
    for (size_t i = 0; i < n_sets && !failed; i++) {
        bp_err_clear(&e);
        int rc = bp_node_apply_override(root, sets[i], &e);
        bp_fuzz_check_err(&e, rc, "bp_node_apply_override");
        if (rc) {
            failed = 1;
            memcpy(set_msg, e.msg, sizeof set_msg);
        }
    }
    uint64_t extra = 1;
    for (size_t i = 0; i < n_sweeps; i++)
        extra = extra > UINT64_MAX / 4096 ? extra : extra * sweep_values(sweeps[i]);
    uint64_t trials = failed ? 1 : bp_fuzz_sweep_size(root, extra);
    int has_sweep = n_sweeps || (root->kind == BP_NODE_MAP && bp_node_get(root, "sweep"));
    if (!failed && !has_sweep) {
        /* one trial: the command would validate this tree (cheaper than parsing the base again) */
        bp_err_clear(&e);
        bp_config *c = bp_config_from_node(root, "base.yaml", &e);
        bp_fuzz_check_null(c, &e, "bp_config_from_node");
        bp_config_free(c);
        free(text);
        return 0;
    }
    bp_node_free(root);

    /* the command's whole path */
    if (bp_fuzz_sweep_small(trials)) {
        bp_err_clear(&e);
        bp_sweep *s = bp_sweep_load_text("base.yaml", base_text, sizeof base_text - 1, sets,
                                         n_sets, sweeps, n_sweeps, &e);
        bp_fuzz_check_null(s, &e, "bp_sweep_load_text");
        if (s && s->n_trials == 0)
            abort();
        for (size_t t = 0; s && t < s->n_trials; t++)
            if (!s->trials[t].cfg || s->trials[t].cfg->n_overrides != n_sets)
                abort();
        if (failed && (s || strcmp(e.msg, set_msg))) {
            fprintf(stderr, "bp_sweep_load_text: '%s', but the --set said '%s'\n",
                    s ? "(loaded)" : e.msg, set_msg);
            abort();
        }
        bp_sweep_free(s);
    }
    free(text);
    return 0;
}
