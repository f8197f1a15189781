/* fingerprint.h - the SHA-256 of a file, taken once per process.
 *
 * Provenance records the digest of every plugin file and data file a run uses, and a resumed
 * run compares them; a sweep of many trials asks for the same files again and again, so the
 * digest is kept per process, keyed by the path and the file's device, inode, size and
 * modification time (a file replaced or rewritten since is read again). Thread-safe.
 */
#ifndef BP_FINGERPRINT_H
#define BP_FINGERPRINT_H

#include "err.h"

#define BP_SHA256_HEX 65 /* 64 lowercase hex digits and the NUL */

/* The SHA-256 of the regular file at path as 64 lowercase hex digits in hex. 0, or BP_EIO
 * ("PATH: cannot open: REASON", "PATH: not a regular file (...)", "PATH: read failed: REASON"),
 * or BP_ENOMEM. */
int bp_sha256_file(const char *path, char hex[BP_SHA256_HEX], bp_err *e);

/* The number of files read and hashed so far in this process (the cache's misses; for tests). */
unsigned long bp_sha256_files_read(void);

#endif
