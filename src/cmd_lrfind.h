/* cmd_lrfind.h - `bprun lr-find`: the learning-rate range test (lrfind.c) and its output file.
 * The usage text lives beside the command's code. */
#ifndef BP_CMD_LRFIND_H
#define BP_CMD_LRFIND_H

#include <stdio.h>

#include "err.h"

extern const char bp_usage_lrfind[];

/* argv[0] is "lr-find"; bprun's own output goes to out. Returns as a bp_cmd_fn (cli.h). */
int bp_cmd_lrfind(int argc, char **argv, FILE *out, bp_err *e);

#endif
