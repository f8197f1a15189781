/* fuzz_common.h - helpers of the fuzz targets (fuzz_common.c). */
#ifndef BP_FUZZ_COMMON_H
#define BP_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "sweep.h"

/* Most trials a target lets a sweep expand to: a valid sweep of thousands of trials takes
 * seconds under ASan (each trial is cloned, validated and dumped) and says nothing new. */
#define BP_FUZZ_MAX_TRIALS 8u

/* bp_fuzz_tmpdir()/name into buf (aborts when it does not fit). */
const char *bp_fuzz_path(const char *name, char *buf, size_t size);
/* Writes data to path, replacing it (aborts on failure: the fuzzer's own environment). */
void bp_fuzz_write(const char *path, const uint8_t *data, size_t size);
/* With rc < 0, e MUST hold code rc and a non-empty one-line message; aborts otherwise. */
void bp_fuzz_check_err(const bp_err *e, int rc, const char *what);

/* A NULL result MUST come with an error in e as above; aborts otherwise. */
void bp_fuzz_check_null(const void *p, const bp_err *e, const char *what);

/* An upper estimate of the trials root's sweep section expands to (grid lengths x zip length x
 * variants x random.trials x repeats, saturating), times extra (the --sweep axes' product;
 * 0 counts as 1). */
uint64_t bp_fuzz_sweep_size(const bp_node *root, uint64_t extra);
/* Whether a sweep of n trials is worth expanding: at most BP_FUZZ_MAX_TRIALS, or more than
 * BP_SWEEP_MAX_TRIALS (refused before expanding). */
int bp_fuzz_sweep_small(uint64_t n);

#endif
