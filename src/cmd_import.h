/* cmd_import.h - `bprun import`: CSV, IDX or a built-in dataset converted to bprun's HDF5 layout.
 * The usage text lives beside the command's code. */
#ifndef BP_CMD_IMPORT_H
#define BP_CMD_IMPORT_H

#include <stdio.h>

#include "err.h"

extern const char bp_usage_import[];

/* argv[0] is "import"; bprun's own output goes to out. Returns as a bp_cmd_fn (cli.h). */
int bp_cmd_import(int argc, char **argv, FILE *out, bp_err *e);

#endif
