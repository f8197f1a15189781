/* generate.h - the built-in datasets, made without a file ("builtin:NAME[:ARG]" references:
 * docs/DATA.md, data.h). */
#ifndef BP_GENERATE_H
#define BP_GENERATE_H

#include "dataset.h"
#include "err.h"

/* The built-in generators (name and arguments as in a "builtin:" reference; the "builtin:"
 * prefix may be omitted). All targets are MATRIX (n x 1, or N x N for the encoder). Unknown
 * names and bad arguments are BP_EDATA with a message listing the valid ones. */
bp_dataset *bp_data_generate(const char *spec, bp_err *e);

#endif
