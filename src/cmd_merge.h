/* cmd_merge.h - `bprun merge`: a run folder's index.h5 rebuilt from its trial files (after
 * --shard jobs).
 * The usage text lives beside the command's code. */
#ifndef BP_CMD_MERGE_H
#define BP_CMD_MERGE_H

#include <stdio.h>

#include "err.h"

extern const char bp_usage_merge[];

/* argv[0] is "merge"; bprun's own output goes to out. Returns as a bp_cmd_fn (cli.h). */
int bp_cmd_merge(int argc, char **argv, FILE *out, bp_err *e);

#endif
