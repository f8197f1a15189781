/* cmd_trace.c - bprun trace CONFIG (cmd_trace.h): one training step shown */
#include "autoconf.h"
#include "cmd_trace.h"

#include <string.h>

#include "cli.h"
#include "plugin.h"
#include "sweep.h"
#include "trace.h"
#include "trial.h"

const char bp_usage_trace[] =
    "usage: bprun trace CONFIG [--sample I | --batch] [--step K] [--format text|csv|json]\n"
    "                   [--set KEY.PATH=VALUE]... [--threads N] [--plugin-path DIR]...\n"
    "\n"
    "Show one training step of the experiment as the derivation writes it (docs/BACKPROP.md):\n"
    "per layer and node the net input z, the activation, the error term (dL/dz) and the bias\n"
    "gradient; per weight the gradient dL/dW = error term x input activation, the update the\n"
    "configured optimizer applied (after - before) and the values before and after; the loss\n"
    "of the batch before the step and, recomputed, after it. The step is bprun run's own\n"
    "(trial 0, the config's seed): the same code, batches, optimizer, schedule and clipping.\n"
    "\n"
    "  --step K               first train K steps as run would (default 0), trace step K+1\n"
    "  --batch                trace run's batch of step K+1 (default): gradients are batch\n"
    "                         means; z, activation and error term are its first row's\n"
    "  --sample I             trace a step on a batch of exactly training row I (0-based,\n"
    "                         after the validation split), from the state after K steps\n"
    "  --format F             text (default: aligned tables), csv or json (every value)\n"
    "  -s, --set K=V          override a config value (as for run)\n"
    "  -t, --threads N        threads for the kernels\n"
    "  -P, --plugin-path DIR  search DIR for plugins first (repeatable)\n"
    "  -h, --help             show this help\n"
    "\n"
    "Numbers have 6 significant digits. Layer 0 is the input; layer l's weights are\n"
    "/model/layer_<l-1> of a trial file.\n";

typedef struct trace_cli {
    long sample;
    int batch;
    uint64_t steps;
    bp_trace_format format;
} trace_cli;

static int take(void *ud, int ch, const char *arg, bp_err *e)
{
    trace_cli *o = ud;
    switch (ch) {
    case 'S':
        if (bp_cli_long(arg, 0, &o->sample))
            return bp_cli_usage(e, "--sample: expected a training row, 0 or more (got '%s')", arg);
        return 0;
    case 'B':
        o->batch = 1;
        return 0;
    case 'K':
        if (bp_cli_count(arg, &o->steps))
            return bp_cli_usage(e, "--step: expected a number of steps, 0 or more (got '%s')",
                                arg);
        return 0;
    default: { /* 'R' */
        int k = -1;
        for (int f = 0; f < BP_TRACE_FORMAT_COUNT; f++)
            if (!strcmp(arg, bp_trace_format_names[f]))
                k = f;
        if (k < 0)
            return bp_cli_usage(e, "--format: expected text, csv or json (got '%s')", arg);
        o->format = (bp_trace_format)k;
        return 0;
    }
    }
}

static const struct option trace_options[] = {
    { "sample", required_argument, NULL, 'S' }, { "batch", no_argument, NULL, 'B' },
    { "step", required_argument, NULL, 'K' }, { "format", required_argument, NULL, 'R' }
};

static int trace(const char *path, const bp_cli *c, const trace_cli *o, FILE *out, bp_err *e)
{
    bp_sweep *sw = NULL;
    bp_registry *reg = NULL;
    bp_experiment *x = NULL;
    bp_trace *t = NULL;
    bp_trace_opts to = { .sample = o->sample, .steps = o->steps,
                         .threads = bp_cli_default_threads(c->threads) };
    int rc = 0;
    if (bp_cli_prepare_one(c, path, &sw, &reg, &x, e) || bp_trace_run(x, &to, &t, e))
        rc = e->code;
    else
        bp_trace_print(out, t, o->format);
    bp_trace_free(t);
    bp_experiment_free(x);
    bp_registry_free(reg);
    bp_sweep_free(sw);
    return rc;
}

int bp_cmd_trace(int argc, char **argv, FILE *out, bp_err *e)
{
    trace_cli o = { .sample = -1 };
    bp_cli c = { 0 };
    bp_cli_spec spec = { .cmd = "trace", .usage = bp_usage_trace, .shared = "stP",
                         .shorts = ":s:t:P:h", .own = trace_options,
                         .n_own = sizeof trace_options / sizeof trace_options[0], .take = take,
                         .ud = &o, .set_unchecked = 1 };
    int i = bp_cli_parse(argc, argv, &spec, &c, out, e);
    if (i > 0 && o.batch && o.sample >= 0)
        i = bp_cli_usage(e, "%s", "--sample and --batch exclude each other");
    if (i > 0 && argc - i != 1)
        i = bp_cli_usage(e, "%s", argc - i ? "expected one CONFIG file" : "missing CONFIG");
    int rc = i > 0 ? trace(argv[i], &c, &o, out, e) : i;
    bp_cli_free(&c);
    return rc;
}
