/* fuzz_config.c - bytes -> the config reader: YAML text -> node tree -> validated config; the
 * same bytes as a --set value, and, when they hold a sweep section, as a config's text expanded
 * by the sweep module (from memory: bp_sweep_load_text; sweeps over BP_FUZZ_MAX_TRIALS trials
 * are not expanded). */
#include "autoconf.h"
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_common.h"
#include "sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bp_err e;
    uint64_t trials = 1;

    /* the reader from a string, then the schema */
    bp_err_clear(&e);
    bp_node *root = bp_yaml_parse_string((const char *)data, size, "fuzz.yaml", &e);
    bp_fuzz_check_null(root, &e, "bp_yaml_parse_string");
    char parse_msg[sizeof e.msg];
    memcpy(parse_msg, e.msg, sizeof parse_msg);
    int root_ok = root != NULL,
        root_has_sweep = root && root->kind == BP_NODE_MAP && bp_node_get(root, "sweep");
    if (root) {
        trials = bp_fuzz_sweep_size(root, 0);
        bp_node *copy = bp_node_clone(root, &e);
        bp_fuzz_check_null(copy, &e, "bp_node_clone");
        bp_err_clear(&e);
        bp_config *c = bp_config_from_node(root, "fuzz.yaml", &e);
        bp_fuzz_check_null(c, &e, "bp_config_from_node");
        if (c) {
            char *dump = bp_config_dump_string(c);
            if (!dump)
                abort();
            free(dump);
        }
        bp_config_free(c);
        /* the same text as a --set value: into a fresh tree at a fixed key */
        char *text = malloc(size + 32);
        if (!text)
            abort();
        memcpy(text, "train.optimizer=", 16);
        memcpy(text + 16, data, size);
        text[16 + size] = '\0';
        if (copy && strlen(text) == 16 + size) {   /* no NUL inside */
            bp_err_clear(&e);
            int rc = bp_node_apply_override(copy, text, &e);
            bp_fuzz_check_err(&e, rc, "bp_node_apply_override");
        }
        free(text);
        bp_node_free(copy);
    }

    /* the whole path a command takes: text -> sweep -> every trial's config; without a sweep
     * section that is the reader and the schema again, so only a text with one (or a text the
     * reader refused: the same message) */
    if (root_has_sweep ? !bp_fuzz_sweep_small(trials) : !!root_ok)
        return 0;
    bp_err_clear(&e);
    bp_sweep *s = bp_sweep_load_text("fuzz.yaml", (const char *)data, size, NULL, 0, NULL, 0, &e);
    bp_fuzz_check_null(s, &e, "bp_sweep_load_text");
    if (s && (s->n_trials == 0 || !s->trials[0].cfg))
        abort();
    if (!root_ok && (s || strcmp(e.msg, parse_msg))) {   /* the same reader, the same message */
        fprintf(stderr, "bp_sweep_load_text: '%s', but the parser said '%s'\n", e.msg, parse_msg);
        abort();
    }
    bp_sweep_free(s);
    return 0;
}
