/* cmd_lrfind.c - bprun lr-find CONFIG (cmd_lrfind.h): the learning-rate range test and its
 * output file */
#include "autoconf.h"
#include "cmd_lrfind.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "lrfind.h"
#include "plugin.h"
#include "sweep.h"
#include "trial.h"

const char bp_usage_lrfind[] =
    "usage: bprun lr-find CONFIG [--min LR] [--max LR] [--steps N] [--smooth BETA]\n"
    "                     [--sweep-epochs E] [-o OUT.h5] [--force] [--set KEY.PATH=VALUE]...\n"
    "                     [--threads N] [--plugin-path DIR]...\n"
    "\n"
    "The learning-rate range test (docs/LRFIND.md). From the configured start, train on run's\n"
    "batches while the optimizer's lr rises exponentially from --min to --max over the steps;\n"
    "record each batch's loss and its smoothed loss (moving average with bias correction);\n"
    "stop when the smoothed loss exceeds 4 x its best or the loss is not finite. Reports\n"
    "  (a) the lr of the steepest descent of the smoothed loss against log lr (first and last\n"
    "      10% of the points ignored),\n"
    "  (b) one tenth of the lr at the minimum smoothed loss, and\n"
    "  (v) the valley (fastai's rule: 1/2 of the way down the longest descent);\n"
    "the candidate is (v), else (a), else (b). Then a paired sweep: from the same initial\n"
    "weights and batches, E epochs at a constant lr for the candidate and its factor-3\n"
    "neighbours, walking while the last epoch's training loss falls, then factor sqrt(3)\n"
    "around the best. The suggestion, the sweep's best, is printed as a sweep over a/3, a,\n"
    "3a, ready to paste.\n"
    "\n"
    "  --min LR               first learning rate (default 1e-6)\n"
    "  --max LR               last learning rate (default 10)\n"
    "  --steps N              steps (batches) to take (default: one epoch)\n"
    "  --smooth BETA          moving-average factor, 0 <= BETA < 1 (default 0.98)\n"    "  --sweep-epochs E       epochs per rate of the paired sweep (default: the range\n"
    "                         test's epochs, at least 1); 0: no sweep, suggest the candidate\n"
    "  -o, --output FILE      results (default OUTPUT/EXPERIMENT-lr-find.h5, i.e.\n"
    "                         runs/<experiment>-lr-find.h5): datasets lr, loss, smooth_loss,\n"
    "                         sweep_lr, sweep_loss;\n"
    "                         the suggestions and the rule as attributes. Plot it with\n"
    "                         bprun-plot --lr-find FILE\n"
    "  -f, --force            replace an existing output file\n"
    "  -s, --set K=V          override a config value (as for run)\n"
    "  -t, --threads N        threads for the kernels\n"
    "  -P, --plugin-path DIR  search DIR for plugins first (repeatable)\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit status: 0 with a suggestion; 1 when there is none (too few points, or the loss\n"
    "never fell) or on a run-time error; 2 for usage, config, data or plugin errors.\n";

static int take(void *ud, int ch, const char *arg, bp_err *e)
{
    bp_lrfind_opts *lf = ud;
    uint64_t v;
    switch (ch) {
    case 'm':
        if (bp_cli_number(arg, &lf->lr_min) || lf->lr_min <= 0)
            return bp_cli_usage(e, "--min: expected a positive number (got '%s')", arg);
        return 0;
    case 'M':
        if (bp_cli_number(arg, &lf->lr_max) || lf->lr_max <= 0)
            return bp_cli_usage(e, "--max: expected a positive number (got '%s')", arg);
        return 0;
    case 'N':
        if (bp_cli_count(arg, &lf->steps) || lf->steps < 1)
            return bp_cli_usage(e, "--steps: expected a positive number of steps (got '%s')",
                                arg);
        return 0;
    case 'b':
        if (bp_cli_number(arg, &lf->smooth) || lf->smooth < 0 || lf->smooth >= 1)
            return bp_cli_usage(e, "--smooth: expected a number from 0 to below 1 (got '%s')",
                                arg);
        return 0;
    default: /* 'E' */
        if (bp_cli_count(arg, &v) || v > 1000000000)
            return bp_cli_usage(e, "--sweep-epochs: expected a number of epochs, 0 or more "
                                "(got '%s')", arg);
        lf->sweep_epochs = (long)v;
        return 0;
    }
}

static const struct option lrfind_options[] = {
    { "min", required_argument, NULL, 'm' }, { "max", required_argument, NULL, 'M' },
    { "steps", required_argument, NULL, 'N' }, { "smooth", required_argument, NULL, 'b' },
    { "sweep-epochs", required_argument, NULL, 'E' }
};

static int lrfind(const char *config, const bp_cli *c, bp_lrfind_opts *lf, FILE *out,
                  bp_err *e)
{
    bp_sweep *sw = NULL;
    bp_registry *reg = NULL;
    bp_experiment *x = NULL;
    bp_lrfind *r = NULL;
    char path[4096];
    int rc = 0;
    lf->threads = bp_cli_default_threads(c->threads);
    if (bp_cli_prepare_one(c, config, &sw, &reg, &x, e))
        goto error;
    const bp_config *cfg = x->cfg;
    if (c->output) {
        if ((size_t)snprintf(path, sizeof path, "%s", c->output) >= sizeof path) {
            bp_err_set(e, BP_EUSAGE, "-o: path too long");
            goto error;
        }
    } else {
        if ((size_t)snprintf(path, sizeof path, "%s/%s-lr-find.h5", cfg->output,
                             cfg->experiment) >= sizeof path) {
            bp_err_set(e, BP_ECONFIG, "output: path too long");
            goto error;
        }
        if (mkdir(cfg->output, 0777) != 0 && errno != EEXIST) {
            bp_err_set(e, BP_EIO, "%s: cannot create folder: %s", cfg->output, strerror(errno));
            goto error;
        }
    }
    if (!c->force && access(path, F_OK) == 0) {
        bp_err_set(e, BP_EEXIST, "%s: exists; use --force to replace it, or -o to choose another "
                   "file", path);
        goto error;
    }
    if (bp_lrfind_run(x, lf, &r, e) || bp_lrfind_write(r, path, cfg, c->force, e))
        goto error;
    fprintf(out, "lr-find of %s\n", config);
    bp_lrfind_print(out, r);
    fprintf(out, "output: %s\n", path);
    if (!isfinite(r->suggested))   /* printed after the table: exit 1 */
        rc = bp_err_set(e, BP_ERUN, "lr-find: no suggestion: %s", r->why_none);
    goto done;
error:
    rc = e->code;
done:
    bp_lrfind_free(r);
    bp_experiment_free(x);
    bp_registry_free(reg);
    bp_sweep_free(sw);
    return rc;
}

int bp_cmd_lrfind(int argc, char **argv, FILE *out, bp_err *e)
{
    bp_lrfind_opts lf = { .lr_min = 1e-6, .lr_max = 10, .smooth = 0.98, .blowup = 4,
                          .sweep_epochs = -1 };
    bp_cli c = { 0 };
    bp_cli_spec spec = { .cmd = "lr-find", .usage = bp_usage_lrfind, .shared = "stPof",
                         .shorts = ":s:t:P:o:fh", .own = lrfind_options,
                         .n_own = sizeof lrfind_options / sizeof lrfind_options[0],
                         .take = take, .ud = &lf, .set_unchecked = 1 };
    int i = bp_cli_parse(argc, argv, &spec, &c, out, e);
    if (i > 0 && !(lf.lr_min < lf.lr_max)) {
        char range[96];
        snprintf(range, sizeof range, "--min %g, --max %g", lf.lr_min, lf.lr_max);
        i = bp_cli_usage(e, "--min must be below --max (got %s)", range);
    }
    if (i > 0 && argc - i != 1)
        i = bp_cli_usage(e, "%s", argc - i ? "expected one CONFIG file" : "missing CONFIG");
    int rc = i > 0 ? lrfind(argv[i], &c, &lf, out, e) : i;
    bp_cli_free(&c);
    return rc;
}
