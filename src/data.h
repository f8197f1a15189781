/* data.h - datasets: HDF5 layout, validation, splits, standardization, import, generators.
 *
 * The layout (docs/DATA.md): a group holds
 *   X  N x D features, float32 or float64 (stored as float32 in memory)
 *   y  N integer class labels (any integer type), 0 <= y < K, or
 *   Y  N x K float targets (float32/float64)
 * and optionally the attribute n_classes (integer K for y; default max(y)+1).
 * Every value must be finite. A reference names a group as "file.h5#/group" ("#/" may be
 * omitted for the root group), or a built-in generator as "builtin:NAME[:ARG[:ARG]]":
 *   builtin:xor               4 x 2 -> 1 (targets 0/1, in the classic order 00 01 10 11)
 *   builtin:parity:N          2^N x N -> 1 (target 1 when the number of ones is odd)
 *   builtin:encoder:N         N x N -> N (one-hot in, same one-hot out)
 *   builtin:spirals           194 x 2 -> 1 (Lang & Witbrock two spirals: point i = 0..96 at
 *                             angle i*pi/16, radius 6.5*(104-i)/104, class 1; mirrored, class 0)
 * Generators are deterministic and need no file.
 */
#ifndef BP_DATA_H
#define BP_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef enum bp_target_kind { BP_TARGET_LABELS, BP_TARGET_MATRIX } bp_target_kind;

typedef struct bp_dataset {
    char *name;            /* the reference it was loaded from (for messages and provenance) */
    size_t n, d;           /* rows, features */
    float *X;              /* n * d, row-major */
    bp_target_kind kind;
    size_t k;              /* LABELS: number of classes; MATRIX: target width */
    int32_t *y;            /* LABELS: n labels in [0, k) */
    float *Y;              /* MATRIX: n * k, row-major */
} bp_dataset;

/* Load a dataset reference (see above). Errors name the file, group and dataset:
 * "data/x.h5#/train/X: expected a 2-D float dataset (got 3-D)". NULL on error (BP_EDATA,
 * BP_ENOMEM). */
bp_dataset *bp_data_load(const char *ref, bp_err *e);
void bp_data_free(bp_dataset *d);

/* Split off a fraction of rows (rounded to nearest, at least 1 row when frac > 0) into *val,
 * keeping the rest in *train; rows are chosen by a permutation drawn from seed. The input is
 * not modified. */
int bp_data_split(const bp_dataset *all, double frac, uint64_t seed, bp_dataset **train,
                  bp_dataset **val, bp_err *e);

/* Per-feature mean and standard deviation of d (double accumulation; std of a constant feature
 * is reported as 1 so it standardizes to 0). mean and std have d->d entries. */
void bp_data_moments(const bp_dataset *d, double *mean, double *std);
/* X := (X - mean) / std, in place. */
void bp_data_standardize(bp_dataset *d, const double *mean, const double *std);

/* Check that a dataset fits a model with n_in inputs and n_out outputs; for LABELS with
 * n_out > 1 every label must be < n_out; with n_out == 1 labels must be 0 or 1. The message
 * names the dataset and the config key (model.layers). */
int bp_data_check_shape(const bp_dataset *d, size_t n_in, size_t n_out, bp_err *e);

/* Write a dataset to file#group (creates the file if missing; refuses to replace an existing
 * group unless overwrite). X as float32, y as int32, Y as float32. */
int bp_data_write(const bp_dataset *d, const char *file, const char *group, int overwrite,
                  bp_err *e);

/* Import. Paths ending in .gz are decompressed with zlib. */
typedef struct bp_csv_opts {
    int header;            /* -1 detect (first row not all numeric), 0 no, 1 yes */
    char delimiter;        /* 0 = detect from the first line among , ; tab and space */
    long label_column;     /* column holding class labels; -1 = last; -2 = none (needs k) */
    const char *label_name;/* or pick the label column by header name (NULL: use label_column) */
    int labels_text;       /* labels are strings (e.g. iris species): map sorted names to 0.. */
} bp_csv_opts;
bp_dataset *bp_import_csv(const char *path, const bp_csv_opts *o, bp_err *e);
/* IDX (LeCun's MNIST format, uint8/int8/int16/int32/float/double): images N x rows x cols (or
 * any rank >= 1; flattened), labels N. scale multiplies feature values (1/255 for pixels). */
bp_dataset *bp_import_idx(const char *images, const char *labels, double scale, bp_err *e);
/* The built-in generators (name and arguments as in a "builtin:" reference). */
bp_dataset *bp_data_generate(const char *spec, bp_err *e);

#endif
