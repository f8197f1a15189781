/* input.h - opening the files bprun reads.
 *
 * Every file bprun reads (configs, datasets, CSV and IDX inputs, run indexes and trial files,
 * plugins given by path) goes through here first, so that a FIFO, a device (/dev/zero,
 * /dev/tty), a socket or a directory is refused with one line instead of blocking bprun or
 * feeding it endless bytes. Only regular files are accepted.
 */
#ifndef BP_INPUT_H
#define BP_INPUT_H

#include <hdf5.h>

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

/* External links of HDF5 files lead HDF5 to open other files by name: give path lookups that
 * may cross one (opening a group, a dataset, an index's trial) the link access property list
 * bp_input_link_access returns, and each target that exists is checked as bp_input_check
 * does before HDF5 opens it (a relative target beside the linking file, where HDF5 looks
 * first). A refused target fails the HDF5 call and leaves its message in l->err, with code
 * l->code (set it before; err is cleared). Returns the list (H5Pclose it), or a negative id
 * when it cannot be made. */
typedef struct bp_input_links {
    int code;
    bp_err err;
} bp_input_links;
hid_t bp_input_link_access(bp_input_links *l);

/* What a file of this st_mode is, for messages: "a FIFO", "a directory", ... */
const char *bp_input_kind(unsigned mode);

#endif
