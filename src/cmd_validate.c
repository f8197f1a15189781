/* cmd_validate.c - bprun validate CONFIG (cmd_validate.h): everything a run would use checked,
 * the resolved config printed */
#include "autoconf.h"
#include "cmd_validate.h"

#include <stdlib.h>

#include "cli.h"
#include "config.h"
#include "data.h"
#include "plugin.h"
#include "scheduler.h"
#include "sweep.h"
#include "trial.h"

const char bp_usage_validate[] =
    "usage: bprun validate CONFIG [--set KEY.PATH=VALUE]... [--sweep KEY.PATH=V1,V2,...]...\n"
    "                      [--plugin-path DIR]...\n"
    "\n"
    "Check everything a run would use: the YAML, every key and value, every trial of the\n"
    "sweep, the datasets (loaded and checked against model.layers) and the plugins (loaded,\n"
    "hyperparameters checked). Prints the trial table of a sweep, a data summary and the\n"
    "resolved config (every default filled in); trains nothing.\n"
    "\n"
    "  -s, --set K=V          override a config value (as for run)\n"
    "  -w, --sweep K=V1,V2    add a sweep axis (as for run)\n"
    "  -P, --plugin-path DIR  search DIR for plugins first (repeatable)\n"
    "  -h, --help             show this help\n";

static void describe(FILE *out, const char *what, const bp_dataset *d)
{
    if (!d)
        return;
    fprintf(out, "#   %-10s %s: %zu row%s x %zu feature%s, ", what, d->name, d->n, bp_s(d->n),
            d->d, bp_s(d->d));
    if (d->kind == BP_TARGET_LABELS)
        fprintf(out, "%zu class%s\n", d->k, d->k == 1 ? "" : "es");
    else
        fprintf(out, "%zu target%s\n", d->k, bp_s(d->k));
}

static int validate(const char *path, const bp_cli *c, FILE *out, bp_err *e)
{
    bp_registry *reg = NULL;
    bp_experiment **x = NULL;
    int rc = 0;
    bp_sweep *sw = bp_sweep_load(path, c->sets, c->n_sets, c->sweeps, c->n_sweeps, e);
    if (!sw || !(reg = bp_registry_new(c->plugin_dirs, c->n_plugin_dirs, e)) ||
        !(x = bp_xcalloc(sw->n_trials, sizeof *x, e)) || bp_sched_prepare(sw, reg, x, e)) {
        rc = e->code;
    } else {
        const bp_config *cfg = sw->trials[0].cfg;
        fprintf(out, "# %s: valid\n", path);
        if (sw->n_trials > 1 || sw->n_axes) {
            fprintf(out, "# %zu trial%s (%zu point%s x %u repeat%s), sweep hash %s\n",
                    sw->n_trials, sw->n_trials == 1 ? "" : "s", sw->n_points,
                    sw->n_points == 1 ? "" : "s", sw->repeats, sw->repeats == 1 ? "" : "s",
                    sw->hash);
            bp_sweep_print(out, sw);
        }
        fprintf(out, "# data:\n");
        describe(out, "train", x[0]->train);
        describe(out, "validation", x[0]->val);
        describe(out, "test", x[0]->test);
        size_t np = 0;
        for (size_t l = 0; l + 1 < cfg->model.n_sizes; l++)
            np += (size_t)(cfg->model.sizes[l] + 1) * (size_t)cfg->model.sizes[l + 1];
        fprintf(out, "# model: %zu parameter%s\n", np, bp_s(np));
        if (sw->n_trials > 1)
            fprintf(out, "# resolved config of trial 0000:\n");
        bp_config_dump(out, cfg);
    }
    for (size_t k = sw && x ? sw->n_trials : 0; k-- > 0;)
        bp_experiment_free(x[k]);
    free(x);
    bp_registry_free(reg);
    bp_sweep_free(sw);
    return rc;
}

int bp_cmd_validate(int argc, char **argv, FILE *out, bp_err *e)
{
    bp_cli c = { 0 };
    bp_cli_spec spec = { .cmd = "validate", .usage = bp_usage_validate, .shared = "swP",
                         .shorts = ":s:P:w:h" };
    int i = bp_cli_parse(argc, argv, &spec, &c, out, e);
    if (i > 0 && argc - i != 1)
        i = bp_cli_usage(e, "%s", argc - i ? "expected one CONFIG file" : "missing CONFIG");
    int rc = i > 0 ? validate(argv[i], &c, out, e) : i;
    bp_cli_free(&c);
    return rc;
}
