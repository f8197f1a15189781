/* plugin.h - finding, validating, loading and registering plugins (the host side of
 * include/bprun/plugin.h).
 *
 * Search order for a name: an explicit path (the name contains '/' or ends in ".so") is used
 * as given; otherwise NAME.so is looked up in each directory of the search path, in order:
 * --plugin-path directories, then BPRUN_PLUGIN_PATH (colon-separated; empty entries are
 * skipped), then, when the running binary sits in a build tree (<dir of
 * /proc/self/exe>/plugins/.libs exists), that directory, then the installed plugin directory
 * BP_PLUGINDIR. A directory listed twice is searched once. The current directory is never
 * searched implicitly. The first NAME.so found is used even if it is broken.
 *
 * Validation before running any plugin code other than the entry function: regular file,
 * dlopen(RTLD_NOW | RTLD_LOCAL) (so unresolved symbols fail now, not hours into a sweep), the
 * entry symbol present, then the descriptor: non-NULL, abi, size, kind, name (an identifier
 * matching the file name for installed plugins), summary, the kind's table non-NULL with the
 * right size, required function slots non-NULL, hyperparameter declarations well-formed
 * (names, defaults within ranges, no duplicates). Each failure has its own message naming the
 * file, e.g. "plugins/bad.so: built for plugin ABI 7, this bprun supports 1; rebuild it against
 * this bprun's bprun/plugin.h". All are BP_EPLUGIN; docs/PLUGINS.md lists them. Size fields
 * smaller than this bprun's struct are rejected; larger ones (a newer header of the same ABI
 * that appended fields) are accepted and the appended fields ignored.
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
 * of the given kind (0: any kind). Borrowed pointer, valid until bp_registry_free. NULL with
 * BP_EPLUGIN when it is not found ("optimizer 'sgdd' not found (did you mean 'sgd'?);
 * searched: DIR, DIR"), is broken (the file's own message), is of another kind, or was found as
 * NAME.so but declares another name. */
const bp_loaded *bp_registry_get(bp_registry *r, const char *name, int kind, bp_err *e);

/* The same for a reference from a config: messages are prefixed with the reference's mark and
 * key path, and a wrong kind reads "c.yaml:7:14: train.optimizer: DIR/relu.so is an
 * activation, but train.optimizer needs an optimizer". (Added after the first contract;
 * bp_registry_get is unchanged.) */
const bp_loaded *bp_registry_get_ref(bp_registry *r, const bp_pluginref *ref, int kind,
                                     bp_err *e);

/* Load and validate a single file, for the tests and `bprun plugins FILE`. out is filled only
 * on success; release it with bp_plugin_unload (accepts NULL and an unfilled record). */
int bp_plugin_load_file(const char *path, bp_loaded *out, bp_err *e);
void bp_plugin_unload(bp_loaded *p);

/* The descriptor checks of bp_plugin_load_file on a descriptor already in memory (path names
 * it in messages). 0 or BP_EPLUGIN. (Added after the first contract, for tests and tools.) */
int bp_plugin_check_desc(const bp_plugin *d, const char *path, bp_err *e);

/* Every plugin in the search path (each directory's *.so in name order, first occurrence of a
 * name wins, even when it is broken), loaded and validated; visit gets (ud, p, NULL, NULL) for
 * each good plugin and (ud, NULL, path, why) for each broken file. Returns 0, or an error only
 * for failures of the scan itself (out of memory). */
typedef void (*bp_plugin_visit)(void *ud, const bp_loaded *p, const char *broken_path,
                                const bp_err *why);
int bp_registry_scan(bp_registry *r, bp_plugin_visit visit, void *ud, bp_err *e);

/* Check a config's plugin reference against the plugin's declarations: unknown names (listing
 * the valid ones, with a did-you-mean), non-integral integers, non-boolean booleans and values
 * outside the range (naming the range) are config errors at the value's mark. On success the
 * reference is completed with the defaults of every hyperparameter not given (so dumps show
 * them: appended entries have mark.src NULL) and values[] (room for BP_MAX_HPARAMS) receives
 * all values in declaration order. Messages:
 *     c.yaml:7:5: train.optimizer.momentm: sgd has no hyperparameter 'momentm' (did you mean
 *         'momentum'?; valid: lr, momentum, dampening, nesterov, weight_decay)
 *     c.yaml:7:15: train.optimizer.lr: must be in (0, inf) (got -1)
 *     ...: must be an integer (got 2.5) / must be true or false (got 2) / must be a finite
 *     number (got inf) / given twice
 * all BP_ECONFIG. The mark is the hpval's; a default's prints as "(default)". */
int bp_plugin_bind(const bp_loaded *p, bp_pluginref *ref, double *values, bp_err *e);

/* Plugins compiled into the program (descriptors with static storage): a name found in no
 * folder of the search path is taken from them, so a plugin file of the same name always wins.
 * Each is checked as bp_plugin_check_desc does; their path reads "WHERE (built-in NAME)".
 * 0, BP_EPLUGIN or BP_ENOMEM. (Added for libbprun-model: modelapi.h.) */
int bp_registry_add_builtins(bp_registry *r, const bp_plugin *const *descs, size_t n,
                             const char *where, bp_err *e);
/* The directories searched, in order (borrowed; for `bprun plugins` and messages). */
size_t bp_registry_dirs(const bp_registry *r, const char *const **dirs);

/* Human-readable kind name: "optimizer", "activation". */
const char *bp_plugin_kind_name(int kind);

#endif
