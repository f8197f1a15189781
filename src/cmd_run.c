/* cmd_run.c - bprun run CONFIG (cmd_run.h): a sweep's trials, or one trial continued, into a
 * run folder; the stop signals and their watchdog */
#include "autoconf.h"
#include "cmd_run.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cluster.h"
#include "config.h"
#include "guard.h"
#include "plugin.h"
#include "provenance.h"
#include "report.h"
#include "resume.h"
#include "runindex.h"
#include "runlog.h"
#include "scheduler.h"
#include "sweep.h"
#include "trial.h"
#include "trialread.h"

static volatile sig_atomic_t stop_signal;

/* 1 while trials with a user's plugin run as threads of this process: its code may never
 * return and keep them from stopping, so the watchdog ends bprun STOP_WATCHDOG s after the
 * signal */
static volatile sig_atomic_t plugin_threads;
#define STOP_WATCHDOG 3

static void on_signal(int sig)
{
    stop_signal = sig;
    signal(sig, SIG_DFL); /* a second signal kills at once */
    alarm(STOP_WATCHDOG);
}

static void on_watchdog(int sig)
{
    static const char msg[] = "bprun: the trials did not stop within 3 s of the signal (plugin "
                              "code that does not return?); exiting, their files unfinished\n";
    (void)sig;
    if (!plugin_threads)
        return; /* trial processes are stopped by the scheduler itself */
    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
        _exit(1);
    _exit(stop_signal == SIGINT ? 130 : 143);
}

const char bp_usage_run[] =
    "usage: bprun run CONFIG [-o DIR] [--set KEY.PATH=VALUE]... [--sweep KEY.PATH=V1,V2,...]...\n"
    "                 [-j N] [--threads N] [--trial ID] [--fail-fast] [--quiet] [--force]\n"
    "                 [--plugin-path DIR]... [--continue FROM] [--shard I/N] [--allow-changed]\n"
    "\n"
    "Train the experiment CONFIG describes - every trial of its sweep - and write its run\n"
    "folder: index.h5 and trials/NNNN.h5 (per-epoch history, final weights, optimizer state,\n"
    "provenance), then print the ranked report. Running the same config into an existing\n"
    "run folder resumes it: finished trials are kept, the others run again; a folder made by\n"
    "a different config is refused, and so is one whose plugin or data files changed (their\n"
    "SHA-256 differs from what the run recorded; see --allow-changed). A sweep may search as\n"
    "it runs: sweep.halving, sweep.hyperband, sweep.race, sweep.pbt (population-based\n"
    "training), sweep.search (TPE or random search); docs/SEARCH.md.\n"
    "\n"
    "On a cluster (docs/CLUSTER.md): `mpirun -np N bprun run CONFIG` (bprun built with\n"
    "./configure --with-mpi) spreads the trials over N ranks, each asking for the next trial\n"
    "when it finished one and using its own -j/--threads; rank 0 writes the index. Without\n"
    "MPI, --shard I/N in each of N jobs (a job array) and then `bprun merge RUN`.\n"
    "\n"
    "A sweep.search section (docs/SEARCH.md) runs a TPE or random search over a space with\n"
    "conditional parameters, in batches of sweep.search.batch trials whatever -j is; TPE's\n"
    "batches wait for the earlier ones (also across shards), and mpirun is refused for TPE.\n"
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
    "                         also rebuilds the index when it ends); races and halving wait\n"
    "                         for the other shards at each round\n"
    "      --isolate          run each trial in its own process, so a plugin that crashes,\n"
    "                         exits or hangs fails only its trial (default: on when a plugin is\n"
    "                         the user's own - named by path or found outside bprun's plugin\n"
    "                         folders); on Ctrl-C, trials with a user's plugin not stopped\n"
    "                         within 0.5 s are killed\n"
    "      --no-isolate       run trials as threads of one process\n"
    "      --trial-timeout S  kill a trial running longer than S seconds (implies --isolate;\n"
    "                         default: no time limit)\n"
    "      --trial-memory SIZE\n"
    "                         limit each trial process's address space (RLIMIT_AS) to SIZE\n"
    "                         (K, M, G, T; at least 16M; implies --isolate; default: no\n"
    "                         limit); a trial that needs more fails, the others go on\n"
    "                         (whatever plugins print goes to stderr: docs/PLUGINS.md)\n"
    "  -q, --quiet            print nothing but errors and the final report\n"
    "  -f, --force            start over: remove the files bprun wrote in an existing run\n"
    "                         folder (nothing else; a folder bprun did not make is refused)\n"
    "  -P, --plugin-path DIR  search DIR for plugins first (repeatable)\n"
    "      --allow-changed    resume a run, or --continue a trial, although a plugin or data\n"
    "                         file differs from the one it recorded (another SHA-256); the\n"
    "                         files written record each change as a provenance line\n"
    "                         `changed: PATH OLD -> NEW` (docs/FORMAT.md)\n"
    "  -h, --help             show this help\n"
    "\n"
    "environment:\n"
    "  BPRUN_PLUGIN_PATH      plugin folders searched after --plugin-path (colon-separated)\n"
    "  BPRUN_FLUSH_MS         write and flush the per-epoch rows at most every this many ms\n"
    "                         (default 1000; 0: every epoch); docs/FORMAT.md\n"
    "  BPRUN_COMMIT_MS        group commit: trials ending within this many ms share one\n"
    "                         fsync of trials/ before they are reported (0-1000, default 200)\n"
    "  BPRUN_KERNELS          builtin or blas (default blas in a build with OpenBLAS)\n"
    "  OMP_NUM_THREADS        the default of --threads; OMP_WAIT_POLICY=passive helps on a\n"
    "                         machine shared with other jobs (docs/PERFORMANCE.md)\n";

/* run's own options besides the shared ones of cli.h */
typedef struct run_opts {
    const char *from;        /* --continue */
    int jobs, fail_fast, isolate;
    int shard_i, shard_n;    /* --shard I/N */
    long trial;
    double timeout;
    size_t memory;           /* --trial-memory, bytes */
    int allow_changed;       /* --allow-changed */
} run_opts;

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

/* "SIZE[K|M|G|T]" (powers of 1024, an optional trailing B or iB), at least 16 MiB */
static int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !(s[0] >= '0' && s[0] <= '9'))
        return -1;
    static const char units[] = "KMGT";
    const char *u = *end ? strchr(units, *end >= 'a' ? *end - 'a' + 'A' : *end) : NULL;
    if (u && *end) {
        for (const char *k = units; k <= u; k++)
            v *= 1024.0;
        end++;
        if (*end == 'i' && end[1] == 'B')
            end += 2;
    }
    if (*end == 'B')
        end++;
    if (*end || !(v >= 16.0 * 1024 * 1024) || v > 0x1p62)
        return -1;
    *out = (size_t)v;
    return 0;
}

static int take(void *ud, int ch, const char *arg, bp_err *e)
{
    run_opts *r = ud;
    switch (ch) {
    case 'j':
        if (bp_cli_threads(arg, &r->jobs))
            return bp_cli_usage(e, "--jobs: expected an integer from 1 to 4096 (got '%s')", arg);
        return 0;
    case 'T':
        if (bp_cli_long(arg, 0, &r->trial))
            return bp_cli_usage(e, "--trial: expected a trial id, 0 or more (got '%s')", arg);
        return 0;
    case 'F':
        r->fail_fast = 1;
        return 0;
    case 'S':
        if (parse_shard(arg, &r->shard_i, &r->shard_n))
            return bp_cli_usage(e, "--shard: expected I/N, integers with 1 <= I <= N (got '%s')",
                                arg);
        return 0;
    case 'c':
        r->from = arg;
        return 0;
    case 'I':
        r->isolate = 1;
        return 0;
    case 'N':
        r->isolate = 0;
        return 0;
    case 'L':
        if (bp_cli_number(arg, &r->timeout) || !(r->timeout > 0))
            return bp_cli_usage(e, "--trial-timeout: expected a number of seconds > 0 (got "
                                "'%s')", arg);
        return 0;
    case 'M':
        if (parse_size(arg, &r->memory))
            return bp_cli_usage(e, "--trial-memory: expected a size of at least 16M, such as "
                                "512M or 4G (got '%s')", arg);
        return 0;
    default: /* 'A' */
        r->allow_changed = 1;
        return 0;
    }
}

/* bprun run CONFIG --continue FROM: one trial, started from FROM's saved state */
static int run_continue(const bp_cli *c, const run_opts *r, bp_sweep *sw, bp_registry *reg,
                        const char *dir, bp_err *e)
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
    int threads = bp_cli_default_threads(c->threads), rc;
    if ((rc = bp_experiment_prepare(cfg, reg, &x, e)) ||
        (rc = bp_resume_load(r->from, x, &from, e)) ||
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
        fprintf(stderr, "bprun: continuing %s (%s after %d epoch%s) up to epoch %d, output %s\n",
                from->rec->where, from->rec->status, from->rec->epochs_done,
                bp_s((unsigned long long)from->rec->epochs_done), cfg->train.epochs, dir);
    bp_trial_summary sum;
    bp_trial_opts o = { .trial = from->rec->trial, .threads = threads, .quiet = c->quiet,
                        .stop = &stop_signal, .resume = from };
    plugin_threads = bp_sched_user_plugin(x); /* the stop watchdog, as for a sweep's trials */
    rc = bp_experiment_run_trial(x, run, &o, &sum, e);
    plugin_threads = 0;
    if (rc)
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

static const struct option run_options[] = {
    { "jobs", required_argument, NULL, 'j' }, { "trial", required_argument, NULL, 'T' },
    { "fail-fast", no_argument, NULL, 'F' }, { "continue", required_argument, NULL, 'c' },
    { "isolate", no_argument, NULL, 'I' }, { "no-isolate", no_argument, NULL, 'N' },
    { "trial-timeout", required_argument, NULL, 'L' }, { "shard", required_argument, NULL, 'S' },
    { "trial-memory", required_argument, NULL, 'M' }, { "allow-changed", no_argument, NULL, 'A' }
};

static int run(int argc, char **argv, bp_cli *c, run_opts *r, FILE *out, bp_err *e)
{
    bp_cli_spec spec = { .cmd = "run", .usage = bp_usage_run, .shared = "ostqfPw",
                         .shorts = ":o:s:t:qfP:w:j:T:Fc:INL:S:M:Ah", .own = run_options,
                         .n_own = sizeof run_options / sizeof run_options[0], .take = take,
                         .ud = r };
    int i = bp_cli_parse(argc, argv, &spec, c, out, e), rc = 0;
    if (i <= 0)
        return i;
    if (r->from && (r->isolate > 0 || r->timeout > 0 || r->memory))
        return bp_cli_usage(e, "%s", "--continue runs its one trial in bprun's own process; "
                            "--isolate, --trial-timeout and --trial-memory do not apply");
    if (r->isolate == 0 && (r->timeout > 0 || r->memory))
        return bp_cli_usage(e, "%s: a per-trial limit needs trial processes; it cannot be used "
                            "with --no-isolate", r->timeout > 0 ? "--trial-timeout"
                                                              : "--trial-memory");
    if (argc - i != 1)
        return bp_cli_usage(e, "%s", argc - i ? "expected one CONFIG file" : "missing CONFIG");
    bp_registry *reg = NULL;
    bp_sweep *sw = NULL;
    char dir[4096];
    bp_provenance_allow_changed(r->allow_changed);
    /* under mpirun: only rank 0 prints (the others print nothing but their own errors) */
    if (bp_mpi_start(&argc, &argv, e))
        goto error;
    int lead = bp_mpi_rank() == 0;
    if (!lead)
        c->quiet = 1;
    if (r->from && bp_mpi_size() > 1) {
        bp_err_set(e, BP_EUSAGE, "--continue cannot be used under mpirun (it runs one trial)");
        goto error;
    }
    sw = bp_sweep_load(argv[i], c->sets, c->n_sets, c->sweeps, c->n_sweeps, e);
    if (!sw || !(reg = bp_registry_new(c->plugin_dirs, c->n_plugin_dirs, e)))
        goto error;
    const bp_config *c0 = sw->trials[0].cfg;
    if (c->output) {
        if ((size_t)snprintf(dir, sizeof dir, "%s", c->output) >= sizeof dir) {
            bp_err_set(e, BP_EUSAGE, "-o: path too long (%zu bytes; at most %zu)",
                       strlen(c->output), sizeof dir - 1);
            goto error;
        }
    } else if ((size_t)snprintf(dir, sizeof dir, "%s/%s", c0->output, c0->experiment) >= sizeof dir) {
        bp_err_set(e, BP_ECONFIG, "output: path too long");
        goto error;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGALRM, on_watchdog);
    bp_guard_phase("during training");
    if (r->from) {
        if ((rc = run_continue(c, r, sw, reg, dir, e)) < 0)
            goto error;
        fprintf(out, "output: %s\n", dir);
        bp_report_opts ro = { .format = BP_REPORT_TEXT, .top = 20 };
        if (bp_report(dir, &ro, out, e))
            goto error;
        rc = stop_signal > 0 ? (stop_signal == SIGINT ? 130 : 143) : rc;
        goto done;
    }
    bp_sched_opts so = { .run_dir = dir, .threads = bp_cli_default_threads(c->threads),
                         .jobs = r->jobs, .quiet = c->quiet, .fail_fast = r->fail_fast,
                         .force = c->force, .only = r->trial, .stop = &stop_signal,
                         .in_threads = &plugin_threads, .isolate = r->isolate,
                         .trial_timeout = r->timeout, .trial_memory = r->memory,
                         .shard_i = r->shard_i, .shard_n = r->shard_n };
    bp_sched_result res;
    if (!c->quiet)
        fprintf(stderr, "bprun: %s: %zu trial%s, output %s\n", c0->experiment, sw->n_trials,
                sw->n_trials == 1 ? "" : "s", dir);
    if (bp_sched_run(sw, reg, &so, &res, e))
        goto error;
    /* the run folder first: the report ends with the best setting, to copy to the end */
    if (lead)
        fprintf(out, "output: %s\n", dir);
    bp_report_opts ro = { .format = BP_REPORT_TEXT, .top = 20 };
    if (lead && bp_report(dir, &ro, out, e))
        goto error;
    if (stop_signal > 0)
        rc = stop_signal == SIGINT ? 130 : 143;
    else
        rc = res.failed || res.interrupted || (stop_signal < 0) ? 1 : 0;
    goto done;
error:
    /* printed here, before MPI's closing barrier, and by rank 0 only */
    rc = bp_mpi_rank() == 0 ? bp_cli_fail("run", e->code, e) : bp_err_exit_status(e->code);
done:
    fflush(out);
    bp_mpi_stop();
    bp_registry_free(reg);
    bp_sweep_free(sw);
    return rc;
}

int bp_cmd_run(int argc, char **argv, FILE *out, bp_err *e)
{
    bp_cli c = { 0 };
    run_opts r = { .trial = -1, .isolate = -1 };
    int rc = run(argc, argv, &c, &r, out, e);
    bp_cli_free(&c);
    return rc;
}
