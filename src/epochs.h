/* epochs.h - reading a trial file back for the report formats (report.c, report_html.c):
 * opening it without blocking on a non-regular file, its string attributes and datasets, and
 * its per-epoch columns (/epochs, docs/FORMAT.md). Functions that read return NULL, a negative
 * id or nothing when the file or object is missing or unreadable: the report says what it could
 * read.
 */
#ifndef BP_EPOCHS_H
#define BP_EPOCHS_H

#include <hdf5.h>
#include <stddef.h>

/* A trial file (or the index) opened read-only: a negative id when it is missing, unreadable
 * or not a regular file (which would block HDF5's open). */
hid_t bp_epochs_open(const char *path);
/* A variable-length UTF-8 string attribute of loc (malloc'd), NULL when absent. */
char *bp_epochs_str_attr(hid_t loc, const char *name);
/* want strings of the attribute (attr = 1) or dataset name of loc into *out (malloc'd array of
 * malloc'd strings): 0, or -1 (nothing allocated) when absent, unreadable or not want long. */
int bp_epochs_strings(hid_t loc, const char *name, int attr, size_t want, char ***out);

/* One trial file's /epochs (the `columns` order, then any others), 2-D columns (epochs x
 * layers) split into name[j]: n names (malloc'd) and `rows` values per name (the shortest
 * column's length: a killed writer's columns may differ). Nothing when the file is missing or
 * unreadable. */
typedef struct bp_epochs {
    size_t n, rows;
    char **names;
    double **v;
    char *status;     /* the file's status attribute, or NULL */
} bp_epochs;

void bp_epochs_read(const char *path, bp_epochs *c);
/* The same from a file opened with bp_epochs_open (f stays open: the caller closes it). */
void bp_epochs_read_open(hid_t f, bp_epochs *c);
void bp_epochs_free(bp_epochs *c);

#endif
