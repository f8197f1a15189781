/* cmd_eval.h - `bprun eval`: loss and accuracy of a trained net on a dataset; the net loaded by
 * modelapi.c's loader, as bprun predict and the model API load it.
 * The usage text lives beside the command's code. */
#ifndef BP_CMD_EVAL_H
#define BP_CMD_EVAL_H

#include <stdio.h>

#include "err.h"

extern const char bp_usage_eval[];

/* argv[0] is "eval"; bprun's own output goes to out. Returns as a bp_cmd_fn (cli.h). */
int bp_cmd_eval(int argc, char **argv, FILE *out, bp_err *e);

#endif
