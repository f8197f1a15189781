/* provenance.h - where and with what a run was made, recorded in every file bprun writes:
 * the machine and libraries, the bprun build (git describe), the command line, and the inputs
 * (each plugin file and data file with its SHA-256). Format: docs/FORMAT.md, "Provenance".
 *
 * The inputs are the process's: every file noted (bp_provenance_add_*) before a trial file or
 * index is written is listed in it. Note them before trials start; all functions are
 * thread-safe. */
#ifndef BP_PROVENANCE_H
#define BP_PROVENANCE_H

#include "err.h"

/* Provenance as "key: value" lines (bprun version, host, CPU model, compiler and flags, HDF5,
 * libyaml and zlib versions, threads, kernels, start time, working folder, git, command line,
 * then the inputs and the changes --allow-changed let through). malloc'd; NULL when out of
 * memory. */
char *bp_provenance_text(int threads);

/* The command line, recorded as the line `command:` (the arguments joined with spaces, each
 * quoted for a POSIX shell where it needs it). argv is copied. 0 or BP_ENOMEM. */
int bp_provenance_set_command(int argc, char *const *argv);
/* The shell-quoted form of one argument (malloc'd; NULL when out of memory): unchanged when
 * it is made of A-Z a-z 0-9 and _@%+=:,./- only, else in single quotes ('\'' for a '). */
char *bp_provenance_quote(const char *arg);

/* A plugin file this process loaded: its absolute path (realpath) and SHA-256 (fingerprint.h)
 * become the line `plugin: SHA256 PATH`, once per path (with the first digest: a plugin is
 * loaded once). 0, BP_EIO (naming the file), BP_EUSAGE (a path holding a line break, which a
 * provenance line cannot hold) or BP_ENOMEM. */
int bp_provenance_add_plugin(const char *path, bp_err *e);
/* A dataset reference as bp_data_load takes it: FILE[#GROUP] becomes `data: SHA256 PATH` (the
 * file's absolute path), a `builtin:` reference `data: builtin:...` as given. Once each. */
int bp_provenance_add_data(const char *ref, bp_err *e);

/* Whether bp_provenance_check lets a changed input through (bprun run --allow-changed). */
void bp_provenance_allow_changed(int allow);

/* Compare the inputs recorded in the provenance text `old` (of the file `where`, for messages:
 * a run's index.h5, a trial being continued) with this process's: a plugin or data file of
 * the same absolute path (else of the same kind and file name) with another SHA-256 is a
 * change. Without allow_changed the first change is refused: BP_EEXIST "PATH: changed since
 * WHERE recorded it (sha256 OLD..., now NEW...); rebuild or restore it, or use
 * --allow-changed to go on and record the change". With it, each change is recorded as
 * `changed: PATH OLD -> NEW` in the provenance written from then on. Text without input lines
 * (written by an older bprun) or NULL has nothing to compare: 0. */
int bp_provenance_check(const char *old, const char *where, bp_err *e);

#endif
