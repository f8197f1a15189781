/* data.h - datasets: HDF5 layout, loading (built-in generators: generate.h), validation,
 * splits, standardization, import. The container itself: dataset.h.
 *
 * The layout (docs/DATA.md): a group holds
 *   X  N x D features, float32 or float64 (stored as float32 in memory)
 *   y  N integer class labels (any integer type), 0 <= y < K, or
 *   Y  N x K float targets (float32/float64)
 * and optionally the integer attribute n_classes (K for y; on y, else on the group; default:
 * the length of the string attribute class_names if present, else max(y)+1).
 * Every value must be finite. Rows and columns in messages are 0-based (as in h5py/numpy); CSV
 * line and column numbers are 1-based (as in editors). A reference names a group as "file.h5#/group" ("#/" may be
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

#include "dataset.h"
#include "err.h"

/* Load a dataset reference (see above). Errors name the file, group and dataset:
 * "data/x.h5#/train/X: expected a 2-D float32 or float64 dataset (got 3-D)". NULL on error
 * (BP_EDATA, BP_ENOMEM). The reference is split at its first '#'. MUST NOT print (HDF5's own
 * error printing is switched off during the call and restored after it). */
bp_dataset *bp_data_load(const char *ref, bp_err *e);

/* Split off a fraction of rows (rounded to nearest) into *val, keeping the rest in *train;
 * rows are chosen by a permutation drawn from seed. The input is not modified. frac MUST be in
 * (0, 1) (else BP_ECONFIG); n_val = round(frac * n); when that leaves either side without a
 * row (n_val < 1 or n_val > n - 1) it is BP_ECONFIG, with both counts and the fractions that
 * work; n < 2 is BP_EDATA. The permutation is bp_rng_permutation over
 * bp_rng_stream(seed, 0, BP_RNG_SPLIT, 0); *val holds its first n_val rows in permutation
 * order, *train the other rows in ascending original order. */
int bp_data_split(const bp_dataset *all, double frac, uint64_t seed, bp_dataset **train,
                  bp_dataset **val, bp_err *e);

/* Per-feature mean and population standard deviation of d (two passes in row order, double
 * accumulation; the std of a constant feature (exactly 0) is reported as 1 so it standardizes
 * to 0). mean and std have d->d entries. */
void bp_data_moments(const bp_dataset *d, double *mean, double *std);
/* X := (X - mean) / std, in place. */
void bp_data_standardize(bp_dataset *d, const double *mean, const double *std);

/* Check that a dataset fits a model with n_in inputs and n_out outputs; for LABELS with
 * n_out > 1 every label must be < n_out (and k <= n_out); with n_out == 1 labels must be 0 or 1;
 * for MATRIX k must equal n_out. The message names the dataset and the config key
 * (model.layers); the wording of each is listed in docs/DATA.md. BP_EDATA on mismatch. */
int bp_data_check_shape(const bp_dataset *d, size_t n_in, size_t n_out, bp_err *e);

/* Write a dataset to file#group (creates the file if missing; refuses to replace an existing
 * group unless overwrite). X as float32, y as int32 (attributes n_classes and, when set,
 * class_names), Y as float32; the group gets the attribute source = d->name when set. Datasets
 * over 65536 values are chunked (about 1 MiB per chunk) and deflated (level 4). group NULL, ""
 * or "/" is the root group (then X, y and Y are what "exists" means). d is checked first (every
 * value finite, labels in [0, k)) so a written group always loads. Errors: BP_EEXIST, BP_EIO,
 * BP_EDATA (invalid d). */
int bp_data_write(const bp_dataset *d, const char *file, const char *group, int overwrite,
                  bp_err *e);

/* Import. Paths ending in .gz are decompressed with zlib. */
typedef struct bp_csv_opts {
    int header;            /* -1 detect: the first row is a header when one of its fields is not
                              a number while the second row's field in that column is (or there
                              is no second row); 0 no, 1 yes */
    char delimiter;        /* 0 = detect from the first line among , ; tab (most frequent), else
                              whitespace; ' ' = runs of spaces/tabs */
    long label_column;     /* column holding class labels, counted FROM 0 (a CLI taking 1-based
                              N passes N - 1); -1 = last; -2 = none: the last target_columns
                              columns are float targets Y */
    const char *label_name;/* or pick the label column by header name (NULL: use label_column);
                              with header -1 it implies a header row */
    int labels_text;       /* 1: labels are strings (e.g. iris species): sorted unique names map
                              to 0..k-1 and are kept in class_names; 0: labels are non-negative
                              integral numbers; -1 detect (numeric when all are) */
    size_t target_columns; /* with label_column -2: how many trailing columns are targets (>= 1) */
} bp_csv_opts;
/* o NULL means {.header = -1, .label_column = -1, .labels_text = -1} (detect everything, labels
 * in the last column). Empty lines are skipped; fields may be "quoted" ("" inside is a quote);
 * a UTF-8 BOM is ignored. Errors: "FILE:LINE: column C: not a number ('abc')" (BP_EDATA); bad options
 * BP_EUSAGE; unreadable file BP_EIO. d->name is path. */
bp_dataset *bp_import_csv(const char *path, const bp_csv_opts *o, bp_err *e);
/* The same for CSV text already in memory (len bytes, need not end in a NUL; never
 * decompressed): name stands for the path in messages and d->name. (Added for the fuzz
 * targets, which parse from memory.) */
bp_dataset *bp_import_csv_text(const char *name, const char *text, size_t len,
                               const bp_csv_opts *o, bp_err *e);
/* IDX (LeCun's MNIST format, uint8/int8/int16/int32/float/double): images N x rows x cols (or
 * any rank >= 1; flattened), labels N (any integer type, values >= 0; k = max + 1). scale
 * multiplies feature values (1/255 for pixels) and MUST be finite and nonzero (BP_EUSAGE).
 * Header sizes are checked against the data: short or longer files are BP_EDATA. d->name is
 * the images path. */
bp_dataset *bp_import_idx(const char *images, const char *labels, double scale, bp_err *e);

#endif
