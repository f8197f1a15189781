/* dataset.h - the dataset container: features X and targets (class labels y or a target
 * matrix Y) in memory, as every loader, importer and generator makes them (data.h,
 * generate.h). */
#ifndef BP_DATASET_H
#define BP_DATASET_H

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
    char **class_names;    /* LABELS: NULL, or k names (attribute class_names of y) */
} bp_dataset;

/* A zero-filled dataset with X (n x d) and y (n) or Y (n x k) allocated; name is copied (may be
 * NULL). NULL on error (BP_ENOMEM, also when n*d or n*k overflow). Free with bp_data_free. */
bp_dataset *bp_data_new(const char *name, size_t n, size_t d, bp_target_kind kind, size_t k,
                        bp_err *e);
/* Frees d and everything it holds. Accepts NULL. */
void bp_data_free(bp_dataset *d);
/* a x b items of elem bytes each fit in a size_t (a or b 0: yes) */
int bp_data_mul_ok(size_t a, size_t b, size_t elem);

#endif
