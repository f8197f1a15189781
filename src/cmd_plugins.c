/* cmd_plugins.c - bprun plugins [NAME] (cmd_plugins.h): the plugins found, or one in full */
#include "autoconf.h"
#include "cmd_plugins.h"

#include <math.h>

#include "cli.h"
#include "plugin.h"

const char bp_usage_plugins[] =
    "usage: bprun plugins [NAME|FILE] [--plugin-path DIR]...\n"
    "\n"
    "Without NAME: every plugin found in the search path, with its kind, name, file, summary\n"
    "and hyperparameters (default and valid range); broken plugin files are listed with the\n"
    "reason. With NAME (or a path to a .so): that plugin in full.\n"
    "Search path: --plugin-path, then BPRUN_PLUGIN_PATH (colon-separated), then the build\n"
    "tree's plugins (when run from a build tree), then the installed plugin folder.\n"
    "\n"
    "  -P, --plugin-path DIR  search DIR first (repeatable)\n"
    "  -h, --help             show this help\n";

static void print_hparams(FILE *out, const bp_hparam *h, uint32_t n, const char *indent)
{
    for (uint32_t i = 0; i < n; i++) {
        char lo[32], hi[32];
        if (h[i].flags & BP_HP_BOOL) {
            fprintf(out, "%s%-24s default %-8s bool", indent, h[i].name,
                    h[i].def != 0 ? "true" : "false");
        } else {
            if (isinf(h[i].min))
                snprintf(lo, sizeof lo, "-inf");
            else
                snprintf(lo, sizeof lo, "%g", h[i].min);
            if (isinf(h[i].max))
                snprintf(hi, sizeof hi, "inf");
            else
                snprintf(hi, sizeof hi, "%g", h[i].max);
            fprintf(out, "%s%-24s default %-8g %s%s, %s%s%s", indent, h[i].name, h[i].def,
                    (h[i].flags & BP_HP_MIN_OPEN) || isinf(h[i].min) ? "(" : "[", lo, hi,
                    (h[i].flags & BP_HP_MAX_OPEN) || isinf(h[i].max) ? ")" : "]",
                    h[i].flags & BP_HP_INTEGER ? " integer" : "");
        }
        if (h[i].help)
            fprintf(out, "  %s", h[i].help);
        fputc('\n', out);
    }
}

static void show_plugin(FILE *out, const bp_loaded *p, int full)
{
    const bp_plugin *d = p->desc;
    fprintf(out, "%-10s %-14s %s\n", bp_plugin_kind_name(d->kind), d->name, p->path);
    fprintf(out, "           %s\n", d->summary);
    if (d->kind == BP_OPTIMIZER) {
        const bp_optimizer *o = d->u.optimizer;
        print_hparams(out, o->hparams, o->n_hparams, "             ");
        if (full)
            fprintf(out, "           state: %u value%s per parameter%s%s\n", o->n_state,
                    o->n_state == 1 ? "" : "s",
                    o->flags & BP_OPT_ELEMENTWISE ? "; elementwise" : "",
                    o->flags & BP_OPT_FULL_BATCH ? "; full-batch method" : "");
    } else {
        const bp_activation *a = d->u.activation;
        print_hparams(out, a->hparams, a->n_hparams, "             ");
        if (full)
            fprintf(out, "           second derivative: %s\n", a->second ? "yes" : "no");
    }
}

static void on_plugin(void *ud, const bp_loaded *p, const char *broken_path, const bp_err *why)
{
    FILE *out = ud;
    if (p)
        show_plugin(out, p, 0);
    else
        fprintf(out, "%-10s %-14s %s\n           %s\n", "broken", "-", broken_path, why->msg);
}

static int plugins(const char *name, const bp_cli *c, FILE *out, bp_err *e)
{
    int rc = 0;
    bp_registry *reg = bp_registry_new(c->plugin_dirs, c->n_plugin_dirs, e);
    if (!reg) {
        rc = e->code;
    } else if (name) {
        const bp_loaded *p = bp_registry_get(reg, name, BP_OPTIMIZER, e);
        if (!p) {
            bp_err e2;
            bp_err_clear(&e2);
            p = bp_registry_get(reg, name, BP_ACTIVATION, &e2);
        }
        if (p)
            show_plugin(out, p, 1);
        else
            rc = e->code;
    } else {
        const char *const *dirs;
        size_t nd = bp_registry_dirs(reg, &dirs);
        fprintf(out, "search path:");
        for (size_t k = 0; k < nd; k++)
            fprintf(out, "%s%s", k ? ":" : " ", dirs[k]);
        fprintf(out, "\n\n");
        if (bp_registry_scan(reg, on_plugin, out, e))
            rc = e->code;
    }
    bp_registry_free(reg);
    return rc;
}

int bp_cmd_plugins(int argc, char **argv, FILE *out, bp_err *e)
{
    bp_cli c = { 0 };
    bp_cli_spec spec = { .cmd = "plugins", .usage = bp_usage_plugins, .shared = "P",
                         .shorts = ":P:h" };
    int i = bp_cli_parse(argc, argv, &spec, &c, out, e);
    if (i > 0 && argc - i > 1)
        i = bp_cli_usage(e, "%s", "expected at most one NAME");
    int rc = i > 0 ? plugins(argc - i == 1 ? argv[i] : NULL, &c, out, e) : i;
    bp_cli_free(&c);
    return rc;
}
