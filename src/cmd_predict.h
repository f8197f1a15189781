/* cmd_predict.h - `bprun predict`: a trained net's outputs and predicted classes for every row
 * of a dataset (docs/PREDICT.md). The usage text lives beside the command's code. */
#ifndef BP_CMD_PREDICT_H
#define BP_CMD_PREDICT_H

#include <stdio.h>

#include "err.h"

extern const char bp_usage_predict[];

/* argv[0] is "predict". Writes the usage (--help) or, without -o, the CSV table to out.
 * Returns as a bp_cmd_fn (cli.h): 0 (also after the help), BP_CLI_USAGE for any usage error,
 * or another negative BP_E* code with e set. MUST NOT print errors. */
int bp_cmd_predict(int argc, char **argv, FILE *out, bp_err *e);

#endif
