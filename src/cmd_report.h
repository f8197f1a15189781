/* cmd_report.h - `bprun report`: the command line of the report formats (report.c, report_html.c).
 * The usage text lives beside the command's code. */
#ifndef BP_CMD_REPORT_H
#define BP_CMD_REPORT_H

#include <stdio.h>

#include "err.h"

extern const char bp_usage_report[];

/* argv[0] is "report"; bprun's own output goes to out. Returns as a bp_cmd_fn (cli.h). */
int bp_cmd_report(int argc, char **argv, FILE *out, bp_err *e);

#endif
