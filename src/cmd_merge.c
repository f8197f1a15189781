/* cmd_merge.c - bprun merge RUN (cmd_merge.h): a run's index rebuilt from its trial files */
#include "autoconf.h"
#include "cmd_merge.h"

#include "cli.h"
#include "runindex.h"

const char bp_usage_merge[] =
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

int bp_cmd_merge(int argc, char **argv, FILE *out, bp_err *e)
{
    bp_cli c = { 0 };
    bp_cli_spec spec = { .cmd = "merge", .usage = bp_usage_merge, .shared = "q",
                         .shorts = ":qh" };
    int i = bp_cli_parse(argc, argv, &spec, &c, out, e);
    bp_cli_free(&c);
    if (i <= 0)
        return i;
    if (argc - i != 1)
        return bp_cli_usage(e, "%s", argc - i ? "expected one RUN folder" : "missing RUN");
    bp_merge_result mr;
    if (bp_run_merge(argv[i], 120.0, &mr, e))
        return e->code;
    if (!c.quiet) {
        fprintf(out, "merged %s/index.h5: %zu trial%s, %zu finished", argv[i], mr.n_trials,
                mr.n_trials == 1 ? "" : "s", mr.finished);
        if (mr.missing)
            fprintf(out, ", %zu not finished (recorded as pending)", mr.missing);
        fprintf(out, "\n");
    }
    if (mr.n_ignored)
        fprintf(stderr, "bprun: merge left out %zu entr%s of %s/trials that %s not trial files of "
                "this run: %s\n", mr.n_ignored, mr.n_ignored == 1 ? "y" : "ies", argv[i],
                mr.n_ignored == 1 ? "is" : "are", mr.ignored);
    return 0;
}
