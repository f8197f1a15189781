/* bprun: command line -> subcommand; exit codes; the only place that prints errors. */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backprop.h"
#include "cluster.h"
#include "config.h"
#include "data.h"
#include "err.h"
#include "lrfind.h"
#include "plugin.h"
#include "report.h"
#include "resume.h"
#include "runlog.h"
#include "scheduler.h"
#include "sweep.h"
#include "trace.h"
#include "trial.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
    signal(sig, SIG_DFL); /* a second signal kills at once */
}

static const char usage_main[] =
    "usage: bprun COMMAND [ARGS]\n"
    "\n"
    "Backpropagation experiments from one YAML file.\n"
    "\n"
    "commands:\n"
    "  run CONFIG        train the experiment, write results to a run folder (HDF5)\n"
    "  validate CONFIG   check the config, data and plugins; print the resolved config\n"
    "  report RUN        ranked trials, a summary per sweep point, the best setting\n"
    "  merge RUN         rebuild a run's index from its trial files (after --shard runs)\n"
    "  plugins [NAME]    list the optimizer and activation plugins found, or show one\n"
    "  eval MODEL DATA   loss and accuracy of saved weights on a dataset\n"
    "  import KIND ...   convert CSV, IDX or a built-in dataset to bprun's HDF5 layout\n"
    "  trace CONFIG      show one training step: z, activations, error terms, gradients\n"
    "  lr-find CONFIG    learning-rate range test: loss against a rising lr, a suggestion\n"
    "  help [COMMAND]    show help for a command\n"
    "\n"
    "options:\n"
    "  -h, --help        show this help\n"
    "  -V, --version     show the version\n"
    "\n"
    "Exit status: 0 success; 1 run-time failure (I/O, a trial that failed or diverged);\n"
    "2 usage, config, data or plugin error; 130/143 interrupted by SIGINT/SIGTERM.\n"
    "Documentation: README.md, docs/CONFIG.md, docs/DATA.md, docs/FORMAT.md, docs/PLUGINS.md,\n"
    "docs/DIAGNOSTICS.md, docs/PERFORMANCE.md, docs/CLUSTER.md, man bprun.\n";

static const char usage_run[] =
    "usage: bprun run CONFIG [-o DIR] [--set KEY.PATH=VALUE]... [--sweep KEY.PATH=V1,V2,...]...\n"
    "                 [-j N] [--threads N] [--trial ID] [--fail-fast] [--quiet] [--force]\n"
    "                 [--plugin-path DIR]... [--continue FROM] [--shard I/N]\n"
    "\n"
    "Train the experiment CONFIG describes - every trial of its sweep - and write its run\n"
    "folder: index.h5 and trials/NNNN.h5 (per-epoch history, final weights, optimizer state,\n"
    "provenance), then print the ranked report. Running the same config into an existing\n"
    "run folder resumes it: finished trials are kept, the others run again; a folder made by\n"
    "a different config is refused.\n"
    "\n"
    "On a cluster (docs/CLUSTER.md): `mpirun -np N bprun run CONFIG` (bprun built with\n"
    "./configure --with-mpi) spreads the trials over N ranks, each asking for the next trial\n"
    "when it finished one and using its own -j/--threads; rank 0 writes the index. Without\n"
    "MPI, --shard I/N in each of N jobs (a job array) and then `bprun merge RUN`.\n"
    "\n"
    "  -c, --continue FROM    continue a completed or interrupted trial: FROM is a trial\n"
    "                         file, a run folder (its trial 0000) or RUN#ID. The new run\n"
    "                         starts from FROM's weights, optimizer and schedule state,\n"
    "                         copies its per-epoch history, and trains the epochs after\n"
    "                         FROM's up to train.epochs (raise it with --set\n"
    "                         train.epochs=N). CONFIG must resolve to FROM's config but for\n"
    "                         train.epochs (and have no sweep); the result is bit-identical\n"
    "                         to one long run. FROM's own run folder is refused as output.\n"
    "  -o, --output DIR       run folder (default: OUTPUT/EXPERIMENT from the config,\n"
    "                         i.e. runs/<experiment>)\n"
    "  -s, --set K=V          override a config value; K is a key path such as\n"
    "                         train.optimizer.lr or model.layers[1]; V is YAML\n"
    "  -w, --sweep K=V1,V2    add a sweep axis (or replace the grid axis of K); values are YAML\n"
    "  -j, --jobs N           trials at once (default: chosen by model size, and printed)\n"
    "  -t, --threads N        threads in all (default: OMP_NUM_THREADS or all cores)\n"
    "  -T, --trial ID         run only trial ID of the sweep (results identical to the sweep's)\n"
    "  -F, --fail-fast        stop at the first trial that fails or diverges\n"
    "  -S, --shard I/N        run only share I of N (trials whose id mod N is I-1); shards may\n"
    "                         run at once on one folder; then `bprun merge RUN` (each shard\n"
    "                         also rebuilds the index when it ends)\n"
    "      --isolate          run each trial in its own process, so a crashing plugin fails only\n"
    "                         its trial (default: on when a plugin is the user's own - named by\n"
    "                         path or found outside bprun's plugin folders)\n"
    "      --no-isolate       run trials as threads of one process\n"
    "      --trial-timeout S  kill a trial running longer than S seconds (implies --isolate)\n"
    "  -q, --quiet            print nothing but errors and the final report\n"
    "  -f, --force            start over: replace an existing run folder's results\n"
    "  -P, --plugin-path DIR  search DIR for plugins first (repeatable)\n"
    "  -h, --help             show this help\n"
    "\n"
    "environment:\n"
    "  BPRUN_PLUGIN_PATH      plugin folders searched after --plugin-path (colon-separated)\n"
    "  BPRUN_FLUSH_MS         write and flush the per-epoch rows at most every this many ms\n"
    "                         (default 1000; 0: every epoch); docs/FORMAT.md\n"
    "  BPRUN_KERNELS          builtin or blas (default blas in a build with OpenBLAS)\n"
    "  OMP_NUM_THREADS        the default of --threads; OMP_WAIT_POLICY=passive helps on a\n"
    "                         machine shared with other jobs (docs/PERFORMANCE.md)\n";

static const char usage_merge[] =
    "usage: bprun merge RUN [--quiet]\n"
    "\n"
    "Rebuild RUN/index.h5 from the trial files in RUN/trials: after `bprun run --shard I/N`\n"
    "jobs, or while they still run (it takes the folder's lock briefly, like a shard). Trials\n"
    "without a finished file are recorded as pending and counted. Once every trial is done,\n"
    "the index equals the one a single `bprun run` writes. Safe to run again at any time.\n"
    "\n"
    "  -q, --quiet            print nothing but errors\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit status: 0 the index was written (trials may be missing: see the message); 1 the\n"
    "folder is in use or cannot be written; 2 RUN is not a run folder or has no trial files.\n";

static const char usage_validate[] =
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

static const char usage_report[] =
    "usage: bprun report RUN [--format text|csv|markdown|json] [--top N]\n"
    "\n"
    "The report of a run folder, also of one still running: the trials ranked by final\n"
    "validation loss (training loss without validation data) with their swept values,\n"
    "status, epochs and metrics; for a sweep with repeats, mean, std, min, max and success\n"
    "rate per point; and the best trial's complete config, ready to rerun.\n"
    "\n"
    "  --format F             text (default), csv, markdown or json\n"
    "  --top N                only the N best trials in the ranked table\n"
    "  -h, --help             show this help\n";

static const char usage_plugins[] =
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

static const char usage_eval[] =
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

static const char usage_import[] =
    "usage: bprun import csv FILE -o OUT.h5#/GROUP [--label-column N|NAME] [--header|--no-header]\n"
    "                    [--delimiter C] [--force]\n"
    "       bprun import idx IMAGES LABELS -o OUT.h5#/GROUP [--scale S] [--force]\n"
    "       bprun import builtin:NAME[:ARGS] -o OUT.h5#/GROUP [--force]\n"
    "\n"
    "Convert a dataset to bprun's HDF5 layout (docs/DATA.md): X (N x D float32) and y (class\n"
    "labels) or Y (N x K targets). Files ending in .gz are decompressed.\n"
    "\n"
    "  -o, --output REF       destination file#group (required)\n"
    "  -l, --label-column C   CSV: the label column, by number (from 1; default: the last)\n"
    "                         or header name; text labels are numbered in sorted order\n"
    "      --header           CSV: the first row is a header\n"
    "      --no-header        CSV: the first row is data (default: detected)\n"
    "  -d, --delimiter C      CSV: field delimiter (default: detected among , ; tab space)\n"
    "      --scale S          IDX: multiply every feature by S (default 1; 0.00392156862745098\n"
    "                         = 1/255 maps pixels to [0, 1])\n"
    "  -f, --force            replace an existing group\n"
    "  -h, --help             show this help\n"
    "\n"
    "built-in datasets: xor, parity:N, encoder:N, spirals (see docs/DATA.md)\n";

static const char usage_trace[] =
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

static const char usage_lrfind[] =
    "usage: bprun lr-find CONFIG [--min LR] [--max LR] [--steps N] [--smooth BETA] [-o OUT.h5]\n"
    "                     [--force] [--set KEY.PATH=VALUE]... [--threads N] [--plugin-path DIR]...\n"
    "\n"
    "The learning-rate range test (docs/LRFIND.md). From the configured start, train on run's\n"
    "batches while the optimizer's lr rises exponentially from --min to --max over the steps;\n"
    "record each batch's loss and its smoothed loss (moving average with bias correction);\n"
    "stop when the smoothed loss exceeds 4 x its best or the loss is not finite. Suggests\n"
    "  (a) the lr of the steepest descent of the smoothed loss against log lr (first and last\n"
    "      10% of the points ignored), and\n"
    "  (b) one tenth of the lr at the minimum smoothed loss;\n"
    "and prints the suggestion ((a), else (b)) as a sweep over a/3, a, 3a, ready to paste.\n"
    "\n"
    "  --min LR               first learning rate (default 1e-6)\n"
    "  --max LR               last learning rate (default 10)\n"
    "  --steps N              steps (batches) to take (default: one epoch)\n"
    "  --smooth BETA          moving-average factor, 0 <= BETA < 1 (default 0.98)\n"
    "  -o, --output FILE      results (default OUTPUT/EXPERIMENT-lr-find.h5, i.e.\n"
    "                         runs/<experiment>-lr-find.h5): datasets lr, loss, smooth_loss;\n"
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

typedef struct cli {
    const char *output;
    const char *from;        /* --continue */
    char **sets;
    size_t n_sets;
    char **sweeps;
    size_t n_sweeps;
    int jobs, fail_fast, isolate;
    int shard_i, shard_n;    /* --shard I/N */
    long trial;
    double timeout;
    char **plugin_dirs;
    size_t n_plugin_dirs;
    int threads, quiet, force;
} cli;

static void cli_free(cli *c)
{
    free(c->sweeps);
    free(c->sets);
    free(c->plugin_dirs);
}

static int push(char ***v, size_t *n, char *s)
{
    char **p = realloc(*v, (*n + 1) * sizeof *p);
    if (!p)
        return -1;
    p[(*n)++] = s;
    *v = p;
    return 0;
}

static int fail(const bp_err *e)
{
    fprintf(stderr, "bprun: %s\n", e->msg);
    return bp_err_exit_status(e->code);
}

static int usage_error(const char *cmd, const char *fmt, const char *arg)
{
    fprintf(stderr, "bprun%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'bprun %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
    return 2;
}

static int parse_threads(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < 1 || v > 4096)
        return -1;
    *out = (int)v;
    return 0;
}

/* "I/N" with integers 1 <= I <= N */
static int parse_shard(const char *s, int *i, int *n)
{
    char *end, *end2;
    errno = 0;
    long a = strtol(s, &end, 10);
    if (errno || end == s || *end != '/' || !(end[1] >= '0' && end[1] <= '9') ||
        !(s[0] >= '0' && s[0] <= '9'))
        return -1;
    long b = strtol(end + 1, &end2, 10);
    if (errno || *end2 || a < 1 || b < 1 || a > b || b > 1000000)
        return -1;
    *i = (int)a;
    *n = (int)b;
    return 0;
}

/* Common options; returns optind, or -1 after printing a usage error (exit 2), or -2 for help.
 * allowed: the short letters of the options this command takes. */
static int parse_common(int argc, char **argv, const char *cmd, const char *usage,
                        const char *allowed, cli *c)
{
    static const struct option all[] = {
        { "output", required_argument, NULL, 'o' }, { "set", required_argument, NULL, 's' },
        { "threads", required_argument, NULL, 't' }, { "quiet", no_argument, NULL, 'q' },
        { "force", no_argument, NULL, 'f' }, { "plugin-path", required_argument, NULL, 'P' },
        { "sweep", required_argument, NULL, 'w' }, { "jobs", required_argument, NULL, 'j' },
        { "trial", required_argument, NULL, 'T' }, { "fail-fast", no_argument, NULL, 'F' },
        { "continue", required_argument, NULL, 'c' }, { "isolate", no_argument, NULL, 'I' },
        { "no-isolate", no_argument, NULL, 'N' }, { "trial-timeout", required_argument, NULL, 'L' },
        { "shard", required_argument, NULL, 'S' },
        { "help", no_argument, NULL, 'h' }
    };
    struct option opts[sizeof all / sizeof all[0] + 1];
    char shorts[32];
    size_t no = 0, ns = 0;
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        if (!strchr(allowed, all[k].val) && all[k].val != 'h')
            continue;
        opts[no++] = all[k];
        shorts[ns++] = (char)all[k].val;
        if (all[k].has_arg == required_argument)
            shorts[ns++] = ':';
    }
    memset(&opts[no], 0, sizeof opts[no]);
    shorts[ns] = '\0';
    char optstring[40];
    snprintf(optstring, sizeof optstring, ":%s", shorts);
    int ch;
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, optstring, opts, NULL)) != -1) {
        switch (ch) {
        case 'o':
            c->output = optarg;
            break;
        case 's':
            if (push(&c->sets, &c->n_sets, optarg))
                return usage_error(cmd, "%s", "out of memory"), -1;
            break;
        case 't':
            if (parse_threads(optarg, &c->threads))
                return usage_error(cmd, "--threads: expected an integer from 1 to 4096 (got '%s')", optarg), -1;
            break;
        case 'q':
            c->quiet = 1;
            break;
        case 'w':
            if (push(&c->sweeps, &c->n_sweeps, optarg))
                return usage_error(cmd, "%s", "out of memory"), -1;
            break;
        case 'j':
            if (parse_threads(optarg, &c->jobs))
                return usage_error(cmd, "--jobs: expected an integer from 1 to 4096 (got '%s')", optarg), -1;
            break;
        case 'T': {
            char *end;
            errno = 0;
            c->trial = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || c->trial < 0)
                return usage_error(cmd, "--trial: expected a trial id, 0 or more (got '%s')", optarg), -1;
            break;
        }
        case 'F':
            c->fail_fast = 1;
            break;
        case 'S':
            if (parse_shard(optarg, &c->shard_i, &c->shard_n))
                return usage_error(cmd, "--shard: expected I/N, integers with 1 <= I <= N (got '%s')", optarg), -1;
            break;
        case 'c':
            c->from = optarg;
            break;
        case 'I':
            c->isolate = 1;
            break;
        case 'N':
            c->isolate = 0;
            break;
        case 'L': {
            char *end;
            errno = 0;
            c->timeout = strtod(optarg, &end);
            if (errno || *end || end == optarg || !(c->timeout > 0) || !isfinite(c->timeout))
                return usage_error(cmd, "--trial-timeout: expected a number of seconds > 0 (got '%s')", optarg), -1;
            break;
        }
        case 'f':
            c->force = 1;
            break;
        case 'P':
            if (push(&c->plugin_dirs, &c->n_plugin_dirs, optarg))
                return usage_error(cmd, "%s", "out of memory"), -1;
            break;
        case 'h':
            fputs(usage, stdout);
            return -2;
        case ':':
            return usage_error(cmd, "option '%s' needs a value", argv[optind - 1]), -1;
        default:
            return usage_error(cmd, "unknown option '%s'", argv[optind - 1]), -1;
        }
    }
    return optind;
}

static int default_threads(int requested)
{
    return requested > 0 ? requested : omp_get_max_threads();
}

/* bprun run CONFIG --continue FROM: one trial, started from FROM's saved state */
static int run_continue(const cli *c, bp_sweep *sw, bp_registry *reg, const char *dir, bp_err *e)
{
    if (sw->n_trials != 1)
        return bp_err_set(e, BP_EUSAGE, "--continue: the config has %zu trials; continue one "
                          "trial at a time (--trial does not apply)", sw->n_trials);
    bp_config *cfg = sw->trials[0].cfg;
    bp_experiment *x = NULL;
    bp_resume *from = NULL;
    bp_run *run = NULL;
    char *resolved = NULL, *table = NULL;
    size_t table_len = 0;
    int threads = default_threads(c->threads), rc;
    if ((rc = bp_experiment_prepare(cfg, reg, &x, e)) ||
        (rc = bp_resume_load(c->from, x, &from, e)) ||
        (rc = bp_resume_check_output(from, dir, e)))
        goto out;
    if (!(run = bp_run_create(dir, c->force, e))) {
        rc = e->code;
        goto out;
    }
    FILE *tf = open_memstream(&table, &table_len);
    if (!tf || !(resolved = bp_config_dump_string(cfg))) {
        if (tf)
            fclose(tf);
        rc = bp_err_set(e, BP_ENOMEM, "out of memory");
        goto out;
    }
    bp_sweep_print(tf, sw);
    fclose(tf);
    /* the trial keeps FROM's id, so the index has no per-id params table */
    bp_run_set_sweep(run, sw->hash, table, 0, NULL, NULL);
    if (!c->quiet)
        fprintf(stderr, "bprun: continuing %s (%s after %d epochs) up to epoch %d, output %s\n",
                from->rec->where, from->rec->status, from->rec->epochs_done, cfg->train.epochs, dir);
    bp_trial_summary sum;
    bp_trial_opts o = { .trial = from->rec->trial, .threads = threads, .quiet = c->quiet,
                        .stop = &stop_signal, .resume = from };
    if ((rc = bp_experiment_run_trial(x, run, &o, &sum, e)))
        goto out;
    rc = bp_run_write_index(run, cfg->text, resolved, &sum, 1, threads, e);
    if (!rc && strcmp(sum.status, "completed"))
        rc = 1; /* reported after the table */
out:
    bp_run_close(run);
    bp_resume_free(from);
    bp_experiment_free(x);
    free(resolved);
    free(table);
    return rc;
}

static int cmd_run(int argc, char **argv)
{
    cli c = { .trial = -1, .isolate = -1 };
    int i = parse_common(argc, argv, "run", usage_run, "ostqfPwjTFcINLS", &c), rc = 0;
    if (i < 0) {
        cli_free(&c);
        return i == -2 ? 0 : 2;
    }
    if (argc - i != 1) {
        cli_free(&c);
        return usage_error("run", "%s", argc - i ? "expected one CONFIG file" : "missing CONFIG");
    }
    bp_err e;
    bp_err_clear(&e);
    bp_registry *reg = NULL;
    bp_sweep *sw = NULL;
    char dir[4096];
    /* under mpirun: only rank 0 prints (the others print nothing but their own errors) */
    if (bp_mpi_start(&argc, &argv, &e))
        goto error;
    int lead = bp_mpi_rank() == 0;
    if (!lead)
        c.quiet = 1;
    if (c.from && bp_mpi_size() > 1) {
        bp_err_set(&e, BP_EUSAGE, "--continue cannot be used under mpirun (it runs one trial)");
        goto error;
    }
    sw = bp_sweep_load(argv[i], c.sets, c.n_sets, c.sweeps, c.n_sweeps, &e);
    if (!sw || !(reg = bp_registry_new(c.plugin_dirs, c.n_plugin_dirs, &e)))
        goto error;
    const bp_config *c0 = sw->trials[0].cfg;
    if (c.output)
        snprintf(dir, sizeof dir, "%s", c.output);
    else if ((size_t)snprintf(dir, sizeof dir, "%s/%s", c0->output, c0->experiment) >= sizeof dir) {
        bp_err_set(&e, BP_ECONFIG, "output: path too long");
        goto error;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (c.from) {
        if ((rc = run_continue(&c, sw, reg, dir, &e)) < 0)
            goto error;
        bp_report_opts ro = { .format = BP_REPORT_TEXT, .top = 20 };
        if (bp_report(dir, &ro, stdout, &e))
            goto error;
        printf("output: %s\n", dir);
        rc = stop_signal > 0 ? (stop_signal == SIGINT ? 130 : 143) : rc;
        goto done;
    }
    bp_sched_opts so = { .run_dir = dir, .threads = default_threads(c.threads), .jobs = c.jobs,
                         .quiet = c.quiet, .fail_fast = c.fail_fast, .force = c.force,
                         .only = c.trial, .stop = &stop_signal, .isolate = c.isolate,
                         .trial_timeout = c.timeout, .shard_i = c.shard_i,
                         .shard_n = c.shard_n };
    bp_sched_result res;
    if (!c.quiet)
        fprintf(stderr, "bprun: %s: %zu trial%s, output %s\n", c0->experiment, sw->n_trials,
                sw->n_trials == 1 ? "" : "s", dir);
    if (bp_sched_run(sw, reg, &so, &res, &e))
        goto error;
    bp_report_opts ro = { .format = BP_REPORT_TEXT, .top = 20 };
    if (lead && bp_report(dir, &ro, stdout, &e))
        goto error;
    if (lead)
        printf("output: %s\n", dir);
    if (stop_signal > 0)
        rc = stop_signal == SIGINT ? 130 : 143;
    else
        rc = res.failed || res.interrupted || (stop_signal < 0) ? 1 : 0;
    goto done;
error:
    rc = bp_mpi_rank() == 0 ? fail(&e) : bp_err_exit_status(e.code);
done:
    fflush(stdout);
    bp_mpi_stop();
    bp_registry_free(reg);
    bp_sweep_free(sw);
    cli_free(&c);
    return rc;
}

static int cmd_merge(int argc, char **argv)
{
    cli c = { .trial = -1 };
    int i = parse_common(argc, argv, "merge", usage_merge, "q", &c);
    cli_free(&c);
    if (i < 0)
        return i == -2 ? 0 : 2;
    if (argc - i != 1)
        return usage_error("merge", "%s", argc - i ? "expected one RUN folder" : "missing RUN");
    bp_err e;
    bp_err_clear(&e);
    bp_merge_result mr;
    if (bp_run_merge(argv[i], 120.0, &mr, &e))
        return fail(&e);
    if (!c.quiet) {
        printf("merged %s/index.h5: %zu trial%s, %zu finished", argv[i], mr.n_trials,
               mr.n_trials == 1 ? "" : "s", mr.finished);
        if (mr.missing)
            printf(", %zu not finished (recorded as pending)", mr.missing);
        printf("\n");
    }
    return 0;
}

static void describe(const char *what, const bp_dataset *d)
{
    if (!d)
        return;
    printf("#   %-10s %s: %zu rows x %zu features, ", what, d->name, d->n, d->d);
    if (d->kind == BP_TARGET_LABELS)
        printf("%zu classes\n", d->k);
    else
        printf("%zu targets\n", d->k);
}

static int cmd_validate(int argc, char **argv)
{
    cli c = { .trial = -1 };
    int i = parse_common(argc, argv, "validate", usage_validate, "swP", &c), rc = 0;
    if (i < 0) {
        cli_free(&c);
        return i == -2 ? 0 : 2;
    }
    if (argc - i != 1) {
        cli_free(&c);
        return usage_error("validate", "%s", argc - i ? "expected one CONFIG file" : "missing CONFIG");
    }
    bp_err e;
    bp_err_clear(&e);
    bp_registry *reg = NULL;
    bp_experiment **x = NULL;
    bp_sweep *sw = bp_sweep_load(argv[i], c.sets, c.n_sets, c.sweeps, c.n_sweeps, &e);
    if (!sw || !(reg = bp_registry_new(c.plugin_dirs, c.n_plugin_dirs, &e)) ||
        !(x = bp_xcalloc(sw->n_trials, sizeof *x, &e)) || bp_sched_prepare(sw, reg, x, &e)) {
        rc = fail(&e);
    } else {
        const bp_config *cfg = sw->trials[0].cfg;
        printf("# %s: valid\n", argv[i]);
        if (sw->n_trials > 1 || sw->n_axes) {
            printf("# %zu trial%s (%zu point%s x %u repeat%s), sweep hash %s\n", sw->n_trials,
                   sw->n_trials == 1 ? "" : "s", sw->n_points, sw->n_points == 1 ? "" : "s",
                   sw->repeats, sw->repeats == 1 ? "" : "s", sw->hash);
            bp_sweep_print(stdout, sw);
        }
        printf("# data:\n");
        describe("train", x[0]->train);
        describe("validation", x[0]->val);
        describe("test", x[0]->test);
        size_t np = 0;
        for (size_t l = 0; l + 1 < cfg->model.n_sizes; l++)
            np += (size_t)(cfg->model.sizes[l] + 1) * (size_t)cfg->model.sizes[l + 1];
        printf("# model: %zu parameters\n", np);
        if (sw->n_trials > 1)
            printf("# resolved config of trial 0000:\n");
        bp_config_dump(stdout, cfg);
    }
    for (size_t k = sw && x ? sw->n_trials : 0; k-- > 0;)
        bp_experiment_free(x[k]);
    free(x);
    bp_registry_free(reg);
    bp_sweep_free(sw);
    cli_free(&c);
    return rc;
}

static int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'F' }, { "top", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
    };
    bp_report_opts o = { .format = BP_REPORT_TEXT };
    int ch;
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (ch) {
        case 'F': {
            int k = -1;
            for (int f = 0; f < BP_REPORT_FORMAT_COUNT; f++)
                if (!strcmp(optarg, bp_report_format_names[f]))
                    k = f;
            if (k < 0)
                return usage_error("report", "--format: expected text, csv, markdown or json (got '%s')", optarg);
            o.format = (bp_report_format)k;
            break;
        }
        case 'n': {
            char *end;
            errno = 0;
            o.top = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || o.top < 1)
                return usage_error("report", "--top: expected a positive integer (got '%s')", optarg);
            break;
        }
        case 'h': fputs(usage_report, stdout); return 0;
        case ':': return usage_error("report", "option '%s' needs a value", argv[optind - 1]);
        default: return usage_error("report", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return usage_error("report", "%s", argc - optind ? "expected one RUN folder" : "missing RUN");
    bp_err e;
    bp_err_clear(&e);
    if (bp_report(argv[optind], &o, stdout, &e))
        return fail(&e);
    return 0;
}

static void print_hparams(const bp_hparam *h, uint32_t n, const char *indent)
{
    for (uint32_t i = 0; i < n; i++) {
        char lo[32], hi[32];
        if (h[i].flags & BP_HP_BOOL) {
            printf("%s%-24s default %-8s bool", indent, h[i].name, h[i].def != 0 ? "true" : "false");
        } else {
            if (isinf(h[i].min))
                snprintf(lo, sizeof lo, "-inf");
            else
                snprintf(lo, sizeof lo, "%g", h[i].min);
            if (isinf(h[i].max))
                snprintf(hi, sizeof hi, "inf");
            else
                snprintf(hi, sizeof hi, "%g", h[i].max);
            printf("%s%-24s default %-8g %s%s, %s%s%s", indent, h[i].name, h[i].def,
                   (h[i].flags & BP_HP_MIN_OPEN) || isinf(h[i].min) ? "(" : "[", lo, hi,
                   (h[i].flags & BP_HP_MAX_OPEN) || isinf(h[i].max) ? ")" : "]",
                   h[i].flags & BP_HP_INTEGER ? " integer" : "");
        }
        if (h[i].help)
            printf("  %s", h[i].help);
        putchar('\n');
    }
}

static void show_plugin(const bp_loaded *p, int full)
{
    const bp_plugin *d = p->desc;
    printf("%-10s %-14s %s\n", bp_plugin_kind_name(d->kind), d->name, p->path);
    printf("           %s\n", d->summary);
    if (d->kind == BP_OPTIMIZER) {
        const bp_optimizer *o = d->u.optimizer;
        print_hparams(o->hparams, o->n_hparams, "             ");
        if (full)
            printf("           state: %u value%s per parameter%s%s\n", o->n_state,
                   o->n_state == 1 ? "" : "s",
                   o->flags & BP_OPT_ELEMENTWISE ? "; elementwise" : "",
                   o->flags & BP_OPT_FULL_BATCH ? "; full-batch method" : "");
    } else {
        const bp_activation *a = d->u.activation;
        print_hparams(a->hparams, a->n_hparams, "             ");
        if (full)
            printf("           second derivative: %s\n", a->second ? "yes" : "no");
    }
}

typedef struct scan_ctx {
    int broken;
} scan_ctx;

static void on_plugin(void *ud, const bp_loaded *p, const char *broken_path, const bp_err *why)
{
    scan_ctx *s = ud;
    if (p) {
        show_plugin(p, 0);
    } else {
        s->broken++;
        printf("%-10s %-14s %s\n           %s\n", "broken", "-", broken_path, why->msg);
    }
}

static int cmd_plugins(int argc, char **argv)
{
    cli c = { 0 };
    int i = parse_common(argc, argv, "plugins", usage_plugins, "P", &c), rc = 0;
    if (i < 0) {
        cli_free(&c);
        return i == -2 ? 0 : 2;
    }
    if (argc - i > 1) {
        cli_free(&c);
        return usage_error("plugins", "%s", "expected at most one NAME");
    }
    bp_err e;
    bp_err_clear(&e);
    bp_registry *reg = bp_registry_new(c.plugin_dirs, c.n_plugin_dirs, &e);
    if (!reg) {
        rc = fail(&e);
    } else if (argc - i == 1) {
        const bp_loaded *p = bp_registry_get(reg, argv[i], BP_OPTIMIZER, &e);
        if (!p) {
            bp_err e2;
            bp_err_clear(&e2);
            p = bp_registry_get(reg, argv[i], BP_ACTIVATION, &e2);
        }
        if (p)
            show_plugin(p, 1);
        else
            rc = fail(&e);
    } else {
        const char *const *dirs;
        size_t nd = bp_registry_dirs(reg, &dirs);
        printf("search path:");
        for (size_t k = 0; k < nd; k++)
            printf("%s%s", k ? ":" : " ", dirs[k]);
        printf("\n\n");
        scan_ctx s = { 0 };
        if (bp_registry_scan(reg, on_plugin, &s, &e))
            rc = fail(&e);
    }
    bp_registry_free(reg);
    cli_free(&c);
    return rc;
}

static int cmd_eval(int argc, char **argv)
{
    cli c = { 0 };
    int i = parse_common(argc, argv, "eval", usage_eval, "tP", &c), rc = 0;
    if (i < 0) {
        cli_free(&c);
        return i == -2 ? 0 : 2;
    }
    if (argc - i != 2) {
        cli_free(&c);
        return usage_error("eval", "%s", "expected MODEL and DATA");
    }
    bp_err e;
    bp_err_clear(&e);
    bp_registry *reg = NULL;
    bp_saved_model *s = NULL;
    bp_dataset *d = NULL;
    bp_model *m = NULL;
    bp_work *w = NULL;
    if (!(reg = bp_registry_new(c.plugin_dirs, c.n_plugin_dirs, &e)) ||
        !(s = bp_saved_model_read(argv[i], &e)) || !(d = bp_data_load(argv[i + 1], &e)) ||
        !(m = bp_saved_model_build(s, reg, &e)) ||
        bp_data_check_shape(d, (size_t)m->sizes[0], (size_t)m->sizes[m->n_layers], &e) ||
        !(w = bp_work_new(m, 256, &e))) {
        rc = fail(&e);
    } else {
        if (s->mean)
            bp_data_standardize(d, s->mean, s->std);
        double loss, acc;
        bp_evaluate(m, w, d, default_threads(c.threads), &loss, &acc);
        printf("model     %s\ndata      %s (%zu rows)\nloss      %.9g\naccuracy  %.6f\n", argv[i],
               d->name, d->n, loss, acc);
        if (!isfinite(loss)) {   /* a result, but not one to trust: exit 1 */
            size_t k = 0;
            while (k < m->n_params && isfinite(m->params[k]))
                k++;
            bp_err_set(&e, BP_ERUN, "%s: the loss on %s is %s: %s", argv[i], d->name,
                       isnan(loss) ? "NaN" : "infinite", k < m->n_params
                       ? "the model's weights are not finite (a diverged trial?)"
                       : "the model's outputs overflow on this data");
            rc = fail(&e);
        }
    }
    bp_work_free(w);
    bp_model_free(m);
    bp_data_free(d);
    bp_saved_model_free(s);
    bp_registry_free(reg);
    cli_free(&c);
    return rc;
}

static int split_ref(const char *ref, char *file, size_t fsz, const char **group)
{
    const char *h = strrchr(ref, '#');
    size_t n = h ? (size_t)(h - ref) : strlen(ref);
    if (n == 0 || n >= fsz)
        return -1;
    memcpy(file, ref, n);
    file[n] = '\0';
    *group = h && h[1] ? h + 1 : "/";
    return 0;
}

static int cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' }, { "label-column", required_argument, NULL, 'l' },
        { "header", no_argument, NULL, 'H' }, { "no-header", no_argument, NULL, 'N' },
        { "delimiter", required_argument, NULL, 'd' }, { "scale", required_argument, NULL, 'S' },
        { "force", no_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *out = NULL;
    bp_csv_opts co = { .header = -1, .delimiter = 0, .label_column = -1, .labels_text = -1 };
    double scale = NAN;
    int force = 0, ch;
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, ":o:l:d:fh", opts, NULL)) != -1) {
        char *end;
        switch (ch) {
        case 'o': out = optarg; break;
        case 'l':
            errno = 0;
            co.label_column = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg) {
                co.label_name = optarg;
                co.label_column = -1;
            } else if (co.label_column < 1) {
                return usage_error("import", "--label-column: columns count from 1 (got '%s')", optarg);
            } else {
                co.label_column -= 1;
            }
            break;
        case 'H': co.header = 1; break;
        case 'N': co.header = 0; break;
        case 'd':
            if (strlen(optarg) != 1 && strcmp(optarg, "\\t") && strcmp(optarg, "tab"))
                return usage_error("import", "--delimiter: expected one character (got '%s')", optarg);
            co.delimiter = strlen(optarg) == 1 ? optarg[0] : '\t';
            break;
        case 'S':
            errno = 0;
            scale = strtod(optarg, &end);
            if (errno || *end || end == optarg || !isfinite(scale) || scale == 0)
                return usage_error("import", "--scale: expected a finite non-zero number (got '%s')", optarg);
            break;
        case 'f': force = 1; break;
        case 'h': fputs(usage_import, stdout); return 0;
        case ':': return usage_error("import", "option '%s' needs a value", argv[optind - 1]);
        default: return usage_error("import", "unknown option '%s'", argv[optind - 1]);
        }
    }
    int nargs = argc - optind;
    char **a = argv + optind;
    if (nargs < 1)
        return usage_error("import", "%s", "missing KIND (csv, idx or builtin:NAME)");
    if (!out)
        return usage_error("import", "%s", "missing -o OUT.h5#/GROUP");
    char file[4096];
    const char *group;
    if (split_ref(out, file, sizeof file, &group))
        return usage_error("import", "-o: expected FILE.h5#/GROUP (got '%s')", out);
    bp_err e;
    bp_err_clear(&e);
    bp_dataset *d = NULL;
    if (!strcmp(a[0], "csv")) {
        if (nargs != 2)
            return usage_error("import", "%s", "csv needs exactly one FILE");
        d = bp_import_csv(a[1], &co, &e);
    } else if (!strcmp(a[0], "idx")) {
        if (nargs != 3)
            return usage_error("import", "%s", "idx needs IMAGES and LABELS");
        d = bp_import_idx(a[1], a[2], isnan(scale) ? 1.0 : scale, &e);
    } else if (!strncmp(a[0], "builtin:", 8)) {
        if (nargs != 1)
            return usage_error("import", "%s", "builtin:NAME takes no files");
        d = bp_data_generate(a[0], &e);
    } else {
        return usage_error("import", "unknown KIND '%s' (expected csv, idx or builtin:NAME)", a[0]);
    }
    if (!d)
        return fail(&e);
    int rc = bp_data_write(d, file, group, force, &e);
    if (rc) {
        bp_data_free(d);
        return fail(&e);
    }
    printf("wrote %s#%s: %zu rows x %zu features, %zu %s\n", file, group, d->n, d->d, d->k,
           d->kind == BP_TARGET_LABELS ? "classes" : "targets");
    bp_data_free(d);
    return 0;
}

/* Options of trace and lr-find besides the common --set, --threads, --plugin-path. */
typedef struct step_cli {
    cli c;
    long sample;
    int batch;
    uint64_t steps;
    bp_trace_format format;
    bp_lrfind_opts lf;
} step_cli;

static int parse_count(const char *arg, uint64_t *out)
{
    char *end;
    errno = 0;
    if (arg[0] == '-' || arg[0] == '+')
        return -1;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno || *end || end == arg)
        return -1;
    *out = v;
    return 0;
}

static int parse_positive(const char *arg, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno || *end || end == arg || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* Returns optind, -1 after a usage error, -2 after --help. */
static int parse_step_cli(int argc, char **argv, const char *cmd, const char *usage, step_cli *o)
{
    static const struct option all[] = {
        { "set", required_argument, NULL, 's' }, { "threads", required_argument, NULL, 't' },
        { "plugin-path", required_argument, NULL, 'P' }, { "help", no_argument, NULL, 'h' },
        { "sample", required_argument, NULL, 'S' }, { "batch", no_argument, NULL, 'B' },
        { "step", required_argument, NULL, 'K' }, { "format", required_argument, NULL, 'R' },
        { "min", required_argument, NULL, 'm' }, { "max", required_argument, NULL, 'M' },
        { "steps", required_argument, NULL, 'N' }, { "smooth", required_argument, NULL, 'b' },
        { "output", required_argument, NULL, 'o' }, { "force", no_argument, NULL, 'f' }
    };
    int trace = !strcmp(cmd, "trace"), ch;
    /* each command takes only its own options */
    const char *own = trace ? "stPhSBKR" : "stPhmMNbof";
    struct option opts[sizeof all / sizeof all[0] + 1];
    size_t no = 0;
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        if (strchr(own, all[k].val))
            opts[no++] = all[k];
    memset(&opts[no], 0, sizeof opts[no]);
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, trace ? ":s:t:P:h" : ":s:t:P:o:fh", opts, NULL)) != -1) {
        char *end;
        switch (ch) {
        case 's':
            if (push(&o->c.sets, &o->c.n_sets, optarg))
                return usage_error(cmd, "%s", "out of memory"), -1;
            break;
        case 't':
            if (parse_threads(optarg, &o->c.threads))
                return usage_error(cmd, "--threads: expected an integer from 1 to 4096 (got '%s')", optarg), -1;
            break;
        case 'P':
            if (push(&o->c.plugin_dirs, &o->c.n_plugin_dirs, optarg))
                return usage_error(cmd, "%s", "out of memory"), -1;
            break;
        case 'h':
            fputs(usage, stdout);
            return -2;
        case 'S':
            errno = 0;
            o->sample = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || o->sample < 0)
                return usage_error(cmd, "--sample: expected a training row, 0 or more (got '%s')", optarg), -1;
            break;
        case 'B':
            o->batch = 1;
            break;
        case 'K':
            if (parse_count(optarg, &o->steps))
                return usage_error(cmd, "--step: expected a number of steps, 0 or more (got '%s')", optarg), -1;
            break;
        case 'R': {
            int k = -1;
            for (int f = 0; f < BP_TRACE_FORMAT_COUNT; f++)
                if (!strcmp(optarg, bp_trace_format_names[f]))
                    k = f;
            if (k < 0)
                return usage_error(cmd, "--format: expected text, csv or json (got '%s')", optarg), -1;
            o->format = (bp_trace_format)k;
            break;
        }
        case 'm':
            if (parse_positive(optarg, &o->lf.lr_min) || o->lf.lr_min <= 0)
                return usage_error(cmd, "--min: expected a positive number (got '%s')", optarg), -1;
            break;
        case 'M':
            if (parse_positive(optarg, &o->lf.lr_max) || o->lf.lr_max <= 0)
                return usage_error(cmd, "--max: expected a positive number (got '%s')", optarg), -1;
            break;
        case 'N':
            if (parse_count(optarg, &o->lf.steps) || o->lf.steps < 1)
                return usage_error(cmd, "--steps: expected a positive number of steps (got '%s')", optarg), -1;
            break;
        case 'b':
            if (parse_positive(optarg, &o->lf.smooth) || o->lf.smooth < 0 || o->lf.smooth >= 1)
                return usage_error(cmd, "--smooth: expected a number from 0 to below 1 (got '%s')", optarg), -1;
            break;
        case 'o':
            o->c.output = optarg;
            break;
        case 'f':
            o->c.force = 1;
            break;
        case ':':
            return usage_error(cmd, "option '%s' needs a value", argv[optind - 1]), -1;
        default:
            return usage_error(cmd, "unknown option '%s'", argv[optind - 1]), -1;
        }
    }
    if (o->batch && o->sample >= 0)
        return usage_error(cmd, "%s", "--sample and --batch exclude each other"), -1;
    if (!trace && !(o->lf.lr_min < o->lf.lr_max)) {
        char range[96];
        snprintf(range, sizeof range, "--min %g, --max %g", o->lf.lr_min, o->lf.lr_max);
        return usage_error(cmd, "--min must be below --max (got %s)", range), -1;
    }
    if (argc - optind != 1)
        return usage_error(cmd, "%s", argc - optind ? "expected one CONFIG file" : "missing CONFIG"), -1;
    return optind;
}

/* The experiment of trial 0 of CONFIG, prepared as run prepares it. */
static int prepare_one(const step_cli *o, const char *path, bp_sweep **sw, bp_registry **reg,
                       bp_experiment **x, bp_err *e)
{
    if (!(*sw = bp_sweep_load(path, o->c.sets, o->c.n_sets, NULL, 0, e)) ||
        !(*reg = bp_registry_new(o->c.plugin_dirs, o->c.n_plugin_dirs, e)))
        return e->code;
    return bp_experiment_prepare((*sw)->trials[0].cfg, *reg, x, e);
}

static int cmd_trace(int argc, char **argv)
{
    step_cli o = { .sample = -1 };
    int i = parse_step_cli(argc, argv, "trace", usage_trace, &o), rc = 0;
    if (i < 0) {
        cli_free(&o.c);
        return i == -2 ? 0 : 2;
    }
    bp_err e;
    bp_err_clear(&e);
    bp_sweep *sw = NULL;
    bp_registry *reg = NULL;
    bp_experiment *x = NULL;
    bp_trace *t = NULL;
    bp_trace_opts to = { .sample = o.sample, .steps = o.steps,
                         .threads = default_threads(o.c.threads) };
    if (prepare_one(&o, argv[i], &sw, &reg, &x, &e) || bp_trace_run(x, &to, &t, &e))
        rc = fail(&e);
    else
        bp_trace_print(stdout, t, o.format);
    bp_trace_free(t);
    bp_experiment_free(x);
    bp_registry_free(reg);
    bp_sweep_free(sw);
    cli_free(&o.c);
    return rc;
}

static int cmd_lrfind(int argc, char **argv)
{
    step_cli o = { .sample = -1, .lf = { .lr_min = 1e-6, .lr_max = 10, .smooth = 0.98,
                                         .blowup = 4 } };
    int i = parse_step_cli(argc, argv, "lr-find", usage_lrfind, &o), rc = 0;
    if (i < 0) {
        cli_free(&o.c);
        return i == -2 ? 0 : 2;
    }
    o.lf.threads = default_threads(o.c.threads);
    bp_err e;
    bp_err_clear(&e);
    bp_sweep *sw = NULL;
    bp_registry *reg = NULL;
    bp_experiment *x = NULL;
    bp_lrfind *r = NULL;
    char path[4096];
    if (prepare_one(&o, argv[i], &sw, &reg, &x, &e))
        goto error;
    const bp_config *cfg = x->cfg;
    if (o.c.output) {
        if ((size_t)snprintf(path, sizeof path, "%s", o.c.output) >= sizeof path) {
            bp_err_set(&e, BP_EUSAGE, "-o: path too long");
            goto error;
        }
    } else {
        if ((size_t)snprintf(path, sizeof path, "%s/%s-lr-find.h5", cfg->output,
                             cfg->experiment) >= sizeof path) {
            bp_err_set(&e, BP_ECONFIG, "output: path too long");
            goto error;
        }
        if (mkdir(cfg->output, 0777) != 0 && errno != EEXIST) {
            bp_err_set(&e, BP_EIO, "%s: cannot create folder: %s", cfg->output, strerror(errno));
            goto error;
        }
    }
    if (!o.c.force && access(path, F_OK) == 0) {
        bp_err_set(&e, BP_EEXIST, "%s: exists; use --force to replace it, or -o to choose another "
                   "file", path);
        goto error;
    }
    if (bp_lrfind_run(x, &o.lf, &r, &e) || bp_lrfind_write(r, path, cfg, o.c.force, &e))
        goto error;
    printf("lr-find of %s\n", argv[i]);
    bp_lrfind_print(stdout, r);
    printf("output: %s\n", path);
    if (!isfinite(r->suggested)) {
        fprintf(stderr, "bprun: lr-find: no suggestion: %s\n", r->why_none);
        rc = 1;
    }
    goto done;
error:
    rc = fail(&e);
done:
    bp_lrfind_free(r);
    bp_experiment_free(x);
    bp_registry_free(reg);
    bp_sweep_free(sw);
    cli_free(&o.c);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_main, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("%s\n", PACKAGE_STRING);
        return 0;
    }
    if (!strcmp(cmd, "help")) {
        const char *what = argc > 2 ? argv[2] : "";
        const char *u = !strcmp(what, "run") ? usage_run : !strcmp(what, "validate") ? usage_validate
                      : !strcmp(what, "report") ? usage_report
                      : !strcmp(what, "merge") ? usage_merge
                      : !strcmp(what, "plugins") ? usage_plugins : !strcmp(what, "eval") ? usage_eval
                      : !strcmp(what, "import") ? usage_import : !strcmp(what, "trace") ? usage_trace
                      : !strcmp(what, "lr-find") ? usage_lrfind : argc > 2 ? NULL : usage_main;
        if (!u)
            return usage_error(NULL, "unknown command '%s'", what);
        fputs(u, stdout);
        return 0;
    }
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "validate"))
        return cmd_validate(argc - 1, argv + 1);
    if (!strcmp(cmd, "plugins"))
        return cmd_plugins(argc - 1, argv + 1);
    if (!strcmp(cmd, "eval"))
        return cmd_eval(argc - 1, argv + 1);
    if (!strcmp(cmd, "import"))
        return cmd_import(argc - 1, argv + 1);
    if (!strcmp(cmd, "report"))
        return cmd_report(argc - 1, argv + 1);
    if (!strcmp(cmd, "merge"))
        return cmd_merge(argc - 1, argv + 1);
    if (!strcmp(cmd, "trace"))
        return cmd_trace(argc - 1, argv + 1);
    if (!strcmp(cmd, "lr-find"))
        return cmd_lrfind(argc - 1, argv + 1);
    static const char *const cmds[] = { "run", "validate", "report", "plugins", "eval", "import",
                                        "trace", "lr-find", "merge", "help" };
    const char *s = bp_suggest(cmd, cmds, 10);
    fprintf(stderr, "bprun: unknown command '%s'%s%s%s\nTry 'bprun --help'.\n", cmd,
            s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
    return 2;
}
