/* cmd_trace.h - `bprun trace`: one training step of an experiment shown (trace.c).
 * The usage text lives beside the command's code. */
#ifndef BP_CMD_TRACE_H
#define BP_CMD_TRACE_H

#include <stdio.h>

#include "err.h"

extern const char bp_usage_trace[];

/* argv[0] is "trace"; bprun's own output goes to out. Returns as a bp_cmd_fn (cli.h). */
int bp_cmd_trace(int argc, char **argv, FILE *out, bp_err *e);

#endif
