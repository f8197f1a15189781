/* cmd_run.h - `bprun run`: train every trial of an experiment's sweep (or continue one trial)
 * into a run folder, then print its report; under mpirun, the ranks share the trials. The stop
 * signals (SIGINT, SIGTERM) and their watchdog are installed here, once the run folder is known.
 * The usage text lives beside the command's code. */
#ifndef BP_CMD_RUN_H
#define BP_CMD_RUN_H

#include <stdio.h>

#include "err.h"

extern const char bp_usage_run[];

/* argv[0] is "run"; bprun's own output goes to out. Returns as a bp_cmd_fn (cli.h), except
 * that an error after MPI started is printed here (bp_cli_fail, by rank 0 only, before MPI's
 * closing barrier) and its exit status returned. */
int bp_cmd_run(int argc, char **argv, FILE *out, bp_err *e);

#endif
