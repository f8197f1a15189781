/* fuzz.h - the libFuzzer entry point the fuzz targets define (tests/fuzz/fuzz_*.c). Built with
 * clang -fsanitize=fuzzer it is driven by libFuzzer; built with replay.c it replays a corpus
 * (make check). The target MUST NOT keep state between calls that changes its behaviour, and
 * calls abort() when bprun breaks a contract (an error with an empty or multi-line message). */
#ifndef BP_FUZZ_H
#define BP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A private temporary folder for the target's files (made on first use, removed at exit). */
const char *bp_fuzz_tmpdir(void);

#endif
