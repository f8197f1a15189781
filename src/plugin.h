/* plugin.h - finding, validating, loading and registering plugins (the host side of
 * include/bprun/plugin.h).
 *
 * Search order for a name: an explicit path (the name contains '/' or ends in ".so") is used
 * as given; otherwise NAME.so is looked up in each directory of the search path, in order:
 * --plugin-path directories, then BPRUN_PLUGIN_PATH (colon-separated), then the installed
 * plugin directory (and, when running from the build tree, its plugins/.libs). The current
 * directory is never searched implicitly.
 *
 * Validation before running any plugin code other than the entry function: regular file,
 * dlopen(RTLD_NOW | RTLD_LOCAL) (so unresolved symbols fail now, not hours into a sweep), the
 * entry symbol present, then the descriptor: non-NULL, abi, size, kind, name (an identifier
 * matching the file name for installed plugins), summary, the kind's table non-NULL with the
 * right size, required function slots non-NULL, hyperparameter declarations well-formed
 * (names, defaults within ranges, no duplicates). Each failure has its own message naming the
 * file, e.g. "plugins/bad.so: bp_plugin_entry returned abi 7, this bprun needs 1".
 */
#ifndef BP_PLUGIN_H
#define BP_PLUGIN_H

#include <stddef.h>

#include "bprun/plugin.h"
#include "config.h"
#include "err.h"

#define BP_MAX_HPARAMS 32   /* most hyperparameters one plugin may declare */

typedef struct bp_loaded {
    char *path;                /* resolved file path */
    void *handle;              /* dlopen handle */
    const bp_plugin *desc;     /* the validated descriptor */
} bp_loaded;

typedef struct bp_registry bp_registry;

/* A registry with a search path. dirs: extra directories (from --plugin-path), searched first;
 * may be NULL. The environment variable BPRUN_PLUGIN_PATH and the built-in directories are
 * appended. */
bp_registry *bp_registry_new(char *const *dirs, size_t n_dirs, bp_err *e);
/* dlcloses everything loaded. Accepts NULL. */
void bp_registry_free(bp_registry *r);

/* Load (once; later calls return the same record) the plugin named name (a name or a path)
 * of the given kind. Borrowed pointer, valid until bp_registry_free. */
const bp_loaded *bp_registry_get(bp_registry *r, const char *name, int kind, bp_err *e);

/* Load and validate a single file, for the tests and `bprun plugins FILE`. */
int bp_plugin_load_file(const char *path, bp_loaded *out, bp_err *e);
void bp_plugin_unload(bp_loaded *p);

/* Every plugin in the search path (each directory's *.so, first occurrence of a name wins),
 * loaded and validated; broken files are reported through the callback and skipped. */
typedef void (*bp_plugin_visit)(void *ud, const bp_loaded *p, const char *broken_path,
                                const bp_err *why);
int bp_registry_scan(bp_registry *r, bp_plugin_visit visit, void *ud, bp_err *e);

/* Check a config's plugin reference against the plugin's declarations: unknown names (listing
 * the valid ones, with a did-you-mean), non-integral integers, non-boolean booleans and values
 * outside the range (naming the range) are config errors at the value's mark. On success the
 * reference is completed with the defaults of every hyperparameter not given (so dumps show
 * them) and values[] receives all values in declaration order. */
int bp_plugin_bind(const bp_loaded *p, bp_pluginref *ref, double *values, bp_err *e);

/* The directories searched, in order (borrowed; for `bprun plugins` and messages). */
size_t bp_registry_dirs(const bp_registry *r, const char *const **dirs);

/* Human-readable kind name: "optimizer", "activation". */
const char *bp_plugin_kind_name(int kind);

#endif
