/* cmd_validate.h - `bprun validate`: everything a run would use checked (config, sweep, data,
 * plugins); the trial table, a data summary and the resolved config printed.
 * The usage text lives beside the command's code. */
#ifndef BP_CMD_VALIDATE_H
#define BP_CMD_VALIDATE_H

#include <stdio.h>

#include "err.h"

extern const char bp_usage_validate[];

/* argv[0] is "validate"; bprun's own output goes to out. Returns as a bp_cmd_fn (cli.h). */
int bp_cmd_validate(int argc, char **argv, FILE *out, bp_err *e);

#endif
