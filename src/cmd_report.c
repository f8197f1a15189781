/* cmd_report.c - bprun report RUN... (cmd_report.h): the options of report.c's formats */
#include "autoconf.h"
#include "cmd_report.h"

#include <string.h>

#include "cli.h"
#include "report.h"
#include "report_html.h"

const char bp_usage_report[] =
    "usage: bprun report RUN... [--format text|csv|markdown|json|html] [-o FILE] [--top N]\n"
    "                        [--metric M]\n"
    "                        [--by mean|median] [--alpha A] [--all-pairs]\n"
    "                        [--table trials|points|comparisons|epochs|\n"
    "                                 lineage|search]\n"
    "\n"
    "The report of a run folder, also of one still running: the trials ranked by the metric\n"
    "with their swept values, status, epochs and metrics; for a sweep with repeats, every\n"
    "point (all repeats of one setting) ranked by the mean or median of the metric with 95%\n"
    "intervals, failed repeats counted, success rate and epochs to solve when a target was\n"
    "set, and the best point compared with each other point over the seeds they share\n"
    "(Wilcoxon signed-rank, Holm-adjusted: better, worse or not distinguishable); then the\n"
    "best point's complete config, ready to rerun (a sweep.pbt run: the winner's lineage and\n"
    "its schedule as a plain config). Several RUN folders are compared as one\n"
    "sweep with a first axis `run`. docs/REPORT.md explains every number.\n"
    "\n"
    "  --format F             text (default), csv, markdown, json or html (one self-contained\n"
    "                         interactive page: curves, sweep axes, tables, diagnostics)\n"
    "  -o, --output FILE      write the report to FILE (written whole, then renamed into\n"
    "                         place) instead of standard output\n"
    "  --top N                only the N best trials in the ranked table\n"
    "  --metric M             rank by the final loss, val_loss, best_val_loss, accuracy,\n"
    "                         val_accuracy, test_loss, test_accuracy, epochs_to_target or\n"
    "                         seconds (default: val_loss, or loss without validation data)\n"
    "  --by S                 rank points by their mean (default) or median\n"
    "  --alpha A              significance level of the verdicts (default 0.05)\n"
    "  --all-pairs            compare every pair of points, not only the best with the others\n"
    "  --table T              csv only: trials (default), points, comparisons, epochs,\n"
    "                         lineage (sweep.pbt: the winner's generations) or search\n"
    "                         (a sweep.search run's best so far per trial)\n"
    "  -h, --help             show this help\n";

typedef struct report_cli {
    bp_report_opts o;
    int table_given;
} report_cli;

/* index of name in names[from..n), or -1 */
static int lookup(const char *name, const char *const *names, int from, int n)
{
    int k = -1;
    for (int i = from; i < n; i++)
        if (!strcmp(name, names[i]))
            k = i;
    return k;
}

static int take(void *ud, int ch, const char *arg, bp_err *e)
{
    report_cli *r = ud;
    int k;
    switch (ch) {
    case 'F':
        if ((k = lookup(arg, bp_report_format_names, 0, BP_REPORT_FORMAT_COUNT)) < 0)
            return bp_cli_usage(e, "--format: expected text, csv, markdown, json or html (got "
                                "'%s')", arg);
        r->o.format = (bp_report_format)k;
        return 0;
    case 'n':
        if (bp_cli_long(arg, 1, &r->o.top))
            return bp_cli_usage(e, "--top: expected a positive integer (got '%s')", arg);
        return 0;
    case 'm':
        if ((k = lookup(arg, bp_rank_metric_names, 1, BP_RANK_COUNT)) < 0)
            return bp_cli_usage(e, "--metric: expected loss, val_loss, best_val_loss, "
                                "accuracy, val_accuracy, test_loss, test_accuracy, "
                                "epochs_to_target or seconds (got '%s')", arg);
        r->o.metric = (bp_rank_metric)k;
        return 0;
    case 'b':
        if (strcmp(arg, "mean") && strcmp(arg, "median"))
            return bp_cli_usage(e, "--by: expected mean or median (got '%s')", arg);
        r->o.by_median = !strcmp(arg, "median");
        return 0;
    case 'a':
        if (bp_cli_number(arg, &r->o.alpha) || !(r->o.alpha > 0 && r->o.alpha < 1))
            return bp_cli_usage(e, "--alpha: expected a number between 0 and 1 (got '%s')", arg);
        return 0;
    case 'A':
        r->o.all_pairs = 1;
        return 0;
    default: /* 't' */
        if ((k = lookup(arg, bp_report_table_names, 0, BP_TABLE_COUNT)) < 0)
            return bp_cli_usage(e, "--table: expected trials, points, comparisons, epochs, "
                                "lineage or search (got '%s')", arg);
        r->o.table = (bp_report_table)k;
        r->table_given = 1;
        return 0;
    }
}

static const struct option report_options[] = {
    { "format", required_argument, NULL, 'F' }, { "top", required_argument, NULL, 'n' },
    { "metric", required_argument, NULL, 'm' }, { "by", required_argument, NULL, 'b' },
    { "alpha", required_argument, NULL, 'a' }, { "all-pairs", no_argument, NULL, 'A' },
    { "table", required_argument, NULL, 't' }
};

int bp_cmd_report(int argc, char **argv, FILE *out, bp_err *e)
{
    report_cli r = { .o = { .format = BP_REPORT_TEXT, .alpha = 0.05 } };
    bp_cli c = { 0 };
    bp_cli_spec spec = { .cmd = "report", .usage = bp_usage_report, .shared = "o",
                         .shorts = ":ho:", .own = report_options,
                         .n_own = sizeof report_options / sizeof report_options[0],
                         .take = take, .ud = &r };
    int i = bp_cli_parse(argc, argv, &spec, &c, out, e);
    bp_cli_free(&c);
    if (i <= 0)
        return i;
    if (argc - i < 1)
        return bp_cli_usage(e, "%s", "missing RUN");
    if (r.table_given && r.o.format != BP_REPORT_CSV)
        return bp_cli_usage(e, "--table applies to --format csv only (got --format %s: it "
                            "holds every table)", bp_report_format_names[r.o.format]);
    if (bp_report_output((const char *const *)argv + i, (size_t)(argc - i), &r.o, c.output, out,
                         e))
        return e->code;
    return 0;
}
