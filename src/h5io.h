/* h5io.h - the HDF5 and file helpers bprun's writers and readers of run folders share: error
 * messages for HDF5 failures, attributes written and read, datasets, fsync and the atomic
 * rename, the format version check. Library-internal (not installed).
 *
 * Errors: 0 or a negative BP_E* code with one line in the bp_err naming the file and the object
 * ("runs/x/trials/0000.h5.part#/epochs/loss: cannot ... (HDF5: reason)"). */
#ifndef BP_H5IO_H
#define BP_H5IO_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The format_version attribute of every file bprun writes (docs/FORMAT.md). */
#define BP_FORMAT_VERSION 1

/* HDF5 prints its error stack by default; only main prints. The setting is per thread in a
 * thread-safe HDF5, so every entry point of the modules writing or reading run folders calls
 * this. */
void bp_h5_quiet(void);
/* A malloc'd formatted string, or NULL with BP_ENOMEM in e. */
char *bp_h5_fmt_alloc(bp_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One line for an HDF5 failure: "file#object: what (HDF5: innermost reason)" (obj MAY be NULL:
 * "file: what (...)"), BP_EIO. Call it before any other HDF5 call replaces the error stack. */
int bp_h5_fail(bp_err *e, const char *file, const char *obj, const char *what);
/* The current UTC time as YYYY-MM-DDTHH:MM:SSZ ("unknown" if it cannot be told). */
void bp_h5_iso_now(char *buf, size_t n);

/* ---- attribute writers (replace an attribute of the same name); obj names loc in messages */

/* A variable-length UTF-8 string type (the caller closes it), or a negative id. */
hid_t bp_h5_vlstr_type(void);
/* n items of type (or one scalar) as attribute name of loc. */
int bp_h5_put_attr(bp_err *e, const char *file, hid_t loc, const char *obj, const char *name,
                   hid_t type, size_t n, int scalar, const void *buf);
/* val NULL writes "". */
int bp_h5_attr_str(bp_err *e, const char *file, hid_t loc, const char *obj, const char *name,
                   const char *val);
/* A 1-D list of n strings; every item MUST be non-NULL. */
int bp_h5_attr_strs(bp_err *e, const char *file, hid_t loc, const char *obj, const char *name,
                    const char *const *v, size_t n);
int bp_h5_attr_int(bp_err *e, const char *file, hid_t loc, const char *obj, const char *name,
                   int v);
int bp_h5_attr_u64(bp_err *e, const char *file, hid_t loc, const char *obj, const char *name,
                   uint64_t v);
int bp_h5_attr_dbl(bp_err *e, const char *file, hid_t loc, const char *obj, const char *name,
                   double v);
/* The root attributes a trial file and the index share: format_version, bprun_version, config,
 * resolved_config, provenance (provenance.h), threads. */
int bp_h5_attr_common(bp_err *e, const char *file, hid_t f, const char *config,
                      const char *resolved, int threads);
/* A new dataset name in loc (rank, dims) holding buf (of mtype), stored as ftype. */
int bp_h5_write_dataset(bp_err *e, const char *file, hid_t loc, const char *obj,
                        const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims,
                        const void *buf);

/* ---- files */

/* fsync path (a folder when dir) */
int bp_h5_fsync_path(bp_err *e, const char *path, int dir);
/* rename src into place (dst) after fsync'ing it, then fsync the folder dir holding both. */
int bp_h5_commit_file(bp_err *e, const char *src, const char *dst, const char *dir);
/* A file bprun is about to create (truncating what is there) is absent or a regular file:
 * never written through a symbolic link, never a FIFO (else BP_EEXIST naming it). */
int bp_h5_not_a_file(bp_err *e, const char *path);

/* ---- attribute readers; where names loc in messages */

/* Reads attribute name of loc as n items of memtype (1-D or scalar, of class cls; integers are
 * accepted for H5T_FLOAT), size bytes each; *out malloc'd (NULL when empty). Missing: BP_EIO. */
int bp_h5_get_attr(bp_err *e, const char *where, hid_t loc, const char *name, H5T_class_t cls,
                   hid_t memtype, size_t size, void **out, size_t *n);
/* Frees n strings and the array (accepts NULL). */
void bp_h5_free_strs(char **v, size_t n);
/* String attributes, variable-length (what bprun writes) or fixed-length: *out holds *n
 * malloc'd copies (free with bp_h5_free_strs). */
int bp_h5_get_strs(bp_err *e, const char *where, hid_t loc, const char *name, char ***out,
                   size_t *n);
/* One string attribute, malloc'd. */
int bp_h5_get_str(bp_err *e, const char *where, hid_t loc, const char *name, char **out);
/* loc's format_version is BP_FORMAT_VERSION (else BP_EIO: "not a bprun file" when missing). */
int bp_h5_check_version(bp_err *e, const char *where, hid_t loc);

#endif
