/* cmd_eval.c - bprun eval MODEL DATA (cmd_eval.h): loss and accuracy of a saved net, loaded as
 * bprun predict and the model API load it (modelapi.h) */
#include "autoconf.h"
#include "cmd_eval.h"

#include <math.h>

#include "backprop.h"
#include "cli.h"
#include "data.h"
#include "modelapi.h"

const char bp_usage_eval[] =
    "usage: bprun eval MODEL DATA [--threads N] [--plugin-path DIR]...\n"
    "\n"
    "Loss and accuracy of saved weights on a dataset. MODEL is a trial file\n"
    "(runs/x/trials/0000.h5), a run folder (its trial 0000) or RUN#ID; DATA is a dataset\n"
    "reference (file.h5#/group or builtin:NAME). The model's standardization, if any, is\n"
    "applied to DATA first.\n"
    "\n"
    "  -t, --threads N        threads for the kernels\n"
    "  -P, --plugin-path DIR  search DIR for plugins first (repeatable)\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit status: 0 a finite loss; 1 a loss that is NaN or infinite (printed, then an error\n"
    "line), or a run-time error; 2 usage, data or plugin errors.\n";

static int eval(const char *model, const char *data, const bp_cli *c, FILE *out, bp_err *e)
{
    bp_dataset *d = NULL;
    bp_model *m = NULL;
    bp_work *w = NULL;
    int rc = 0;
    if (!(m = bp_model_open(model, c->plugin_dirs, c->n_plugin_dirs, e)) ||
        !(d = bp_data_load(data, e)) ||
        bp_data_check_shape(d, (size_t)m->sizes[0], (size_t)m->sizes[m->n_layers], e) ||
        !(w = bp_work_new(m, 256, e))) {
        rc = e->code;
    } else {
        if (m->mean)
            bp_data_standardize(d, m->mean, m->std);
        double loss, acc;
        bp_evaluate(m, w, d, bp_cli_default_threads(c->threads), &loss, &acc);
        fprintf(out, "model     %s\ndata      %s (%zu row%s)\nloss      %.9g\naccuracy  %.6f\n",
                model, d->name, d->n, bp_s(d->n), loss, acc);
        if (!isfinite(loss)) {   /* a result, but not one to trust: exit 1 */
            size_t k = 0;
            while (k < m->n_params && isfinite(m->params[k]))
                k++;
            rc = bp_err_set(e, BP_ERUN, "%s: the loss on %s is %s: %s", model, d->name,
                            isnan(loss) ? "NaN" : "infinite", k < m->n_params
                            ? "the model's weights are not finite (a diverged trial?)"
                            : "the model's outputs overflow on this data");
        }
    }
    bp_work_free(w);
    bp_model_free(m);
    bp_data_free(d);
    return rc;
}

int bp_cmd_eval(int argc, char **argv, FILE *out, bp_err *e)
{
    bp_cli c = { 0 };
    bp_cli_spec spec = { .cmd = "eval", .usage = bp_usage_eval, .shared = "tP",
                         .shorts = ":t:P:h" };
    int i = bp_cli_parse(argc, argv, &spec, &c, out, e);
    if (i > 0 && argc - i != 2)
        i = bp_cli_usage(e, "%s", "expected MODEL and DATA");
    int rc = i > 0 ? eval(argv[i], argv[i + 1], &c, out, e) : i;
    bp_cli_free(&c);
    return rc;
}
