/* cmd_plugins.h - `bprun plugins`: the plugins of the search path listed, or one shown in full.
 * The usage text lives beside the command's code. */
#ifndef BP_CMD_PLUGINS_H
#define BP_CMD_PLUGINS_H

#include <stdio.h>

#include "err.h"

extern const char bp_usage_plugins[];

/* argv[0] is "plugins"; bprun's own output goes to out. Returns as a bp_cmd_fn (cli.h). */
int bp_cmd_plugins(int argc, char **argv, FILE *out, bp_err *e);

#endif
