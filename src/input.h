/* input.h - opening the files bprun reads.
 *
 * Every file bprun reads (configs, datasets, CSV and IDX inputs, run indexes and trial files,
 * plugins given by path) goes through here first, so that a FIFO, a device (/dev/zero,
 * /dev/tty), a socket or a directory is refused with one line instead of blocking bprun or
 * feeding it endless bytes. Only regular files are accepted.
 */
#ifndef BP_INPUT_H
#define BP_INPUT_H

#include "err.h"

/* Opens path read-only with O_NONBLOCK, O_CLOEXEC and O_NOCTTY (so a FIFO without a writer
 * or a terminal cannot block the open), refuses anything but a regular file, then clears
 * O_NONBLOCK. Returns the descriptor (the caller closes it), or `code` with e set to
 * "PATH: cannot open: REASON" or "PATH: not a regular file (a FIFO)" (a directory, a
 * character device, a block device, a socket). If size is non-NULL it receives the size. */
int bp_input_open(const char *path, int code, unsigned long long *size, bp_err *e);

/* The same check for a file another library opens by path (HDF5, dlopen): open, check,
 * close. Also refuses a path that names a file descriptor (/dev/stdin, /dev/fd/N,
 * /proc/PID/fd/N), which the library would open a second time and may find changed.
 * Returns 0 (and the size in *size if size is non-NULL), or `code` with e set as
 * bp_input_open does. */
int bp_input_check(const char *path, int code, unsigned long long *size, bp_err *e);

/* What a file of this st_mode is, for messages: "a FIFO", "a directory", ... */
const char *bp_input_kind(unsigned mode);

#endif
