/* fuzz_common.h - helpers of the fuzz targets (fuzz_common.c). */
#ifndef BP_FUZZ_COMMON_H
#define BP_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* bp_fuzz_tmpdir()/name into buf (aborts when it does not fit). */
const char *bp_fuzz_path(const char *name, char *buf, size_t size);
/* Writes data to path, replacing it (aborts on failure: the fuzzer's own environment). */
void bp_fuzz_write(const char *path, const uint8_t *data, size_t size);
/* With rc < 0, e MUST hold code rc and a non-empty one-line message; aborts otherwise. */
void bp_fuzz_check_err(const bp_err *e, int rc, const char *what);

/* A NULL result MUST come with an error in e as above; aborts otherwise. */
void bp_fuzz_check_null(const void *p, const bp_err *e, const char *what);

#endif
