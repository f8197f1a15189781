/* runfolder.h - what a run folder holds: bprun's own files told from everything else, and the
 * removal of bprun's files (`--force`) without following a symbolic link. docs/FORMAT.md,
 * "What --force removes".
 *
 * bprun's entries in a run folder RUN:
 *   RUN/.lock                           the lock file (bprun never removes it)
 *   RUN/index.h5, RUN/index.h5.part     the index
 *   RUN/trials/                         a folder (not a symbolic link)
 *   RUN/trials/ID.h5, ID.h5.part        trial files; ID is a trial id as bprun prints it
 *                                       (%04u: 0000 ... 4294967295, no other leading zeros)
 *   RUN/report.html, report.html.part   the HTML report (report_html.h), refreshed with the
 *                                       index
 * A file with one of these names is bprun's only when it is a regular file (not a symbolic
 * link) and an HDF5 file whose root attributes say so: format_version and bprun_version, and
 * for a trial file a `trial` attribute equal to ID (the index has none). The report is bprun's
 * when it is a regular file starting with BP_REPORT_HTML_MAGIC (its .part also when shorter
 * than that: a writer killed at creation). A .part file is also
 * bprun's when it is not (yet) a readable HDF5 file but a regular file of fewer than 8 bytes or
 * one starting with the HDF5 signature: a writer killed while creating it.
 *
 * Everything is looked at relative to the folder's descriptor (openat with O_NOFOLLOW, fstatat
 * with AT_SYMLINK_NOFOLLOW, unlinkat): nothing outside the folder is read, followed or removed.
 * Errors: BP_EIO naming the entry ("RUN/trials: cannot read: <strerror>"), BP_ENOMEM.
 */
#ifndef BP_RUNFOLDER_H
#define BP_RUNFOLDER_H

#include <stddef.h>

#include "err.h"

/* The HTML report's name in a run folder, and how every HTML report bprun writes begins. */
#define BP_RUN_REPORT_HTML "report.html"
#define BP_REPORT_HTML_MAGIC "<!DOCTYPE html>\n<!-- bprun report:"

/* The longest trial file path below a run folder: "/trials/4294967295.h5.part". */
#define BP_FOLDER_TAIL_MAX 26

typedef struct bp_folder_entry {
    char *name;       /* relative to the run folder: "index.h5", "trials/0003.h5", "notes.txt" */
    const char *why;  /* for an entry with bprun's name that is not bprun's: why not (static) */
    long long trial;  /* a trial file's id; -1 otherwise */
    int part;         /* a .part file */
} bp_folder_entry;

typedef struct bp_folder {
    /* Nothing in it, or nothing but what a bprun killed before its first index leaves: .lock,
     * index.h5.part, trials/ with only .part files, all bprun's. */
    int empty;
    int has_index;             /* index.h5 is bprun's */
    int has_trials;            /* trials/ is a folder */
    bp_folder_entry *ours;     /* bprun's files (never .lock or trials/ itself) */
    size_t n_ours;
    bp_folder_entry *bad;      /* entries with bprun's names that are not bprun's */
    size_t n_bad;
    bp_folder_entry *foreign;  /* everything else (trials/ entries included), but .lock */
    size_t n_foreign;
} bp_folder;

/* Open the run folder named dir (following a symbolic link only in dir itself) for the
 * functions below: a descriptor (O_DIRECTORY, close-on-exec), or -1 with BP_EIO/BP_EEXIST
 * ("DIR: exists and is not a folder; use -o to choose another folder"). */
int bp_folder_open(const char *dir, bp_err *e);

/* Look at every entry of the folder dfd (dir names it in messages) and of its trials/. With
 * deep = 0 only .part files are opened (the index and finished trial files are bprun's by
 * their names and type alone: cheap, for folders bprun will not remove anything from but
 * .part files); with deep = 1 every file with bprun's name is. f MUST be freed with
 * bp_folder_free, also after a failure. */
int bp_folder_scan(int dfd, const char *dir, int deep, bp_folder *f, bp_err *e);
void bp_folder_free(bp_folder *f);

/* Remove bprun's files that f found (only .part files with parts_only), each with unlinkat
 * relative to dfd, then trials/ when that emptied it. */
int bp_folder_remove_ours(int dfd, const char *dir, const bp_folder *f, int parts_only,
                          bp_err *e);

/* BP_EEXIST for the first of f->bad: "DIR/NAME: WHY; ACTION" plus " (and N more such
 * files)" when there are more. Returns 0 when f->bad is empty. */
int bp_folder_refuse_bad(const bp_folder *f, const char *dir, const char *action, bp_err *e);

/* "DIR/A, DIR/B, DIR/C and N more" for the entries, at most `shown` named. malloc'd; NULL
 * when out of memory. */
char *bp_folder_list(const char *dir, const bp_folder_entry *v, size_t n, size_t shown);

/* 1 when name is a trial file's name (ID.h5 or ID.h5.part, ID as bprun prints it), with the
 * id and whether it is a .part; 0 otherwise. */
int bp_folder_trial_name(const char *name, unsigned *id, int *part);

#endif
