#include "autoconf.h"
#include "dataset.h"

#include <stdint.h>
#include <stdlib.h>

/* ---- datasets ---------------------------------------------------------------------------- */

int bp_data_mul_ok(size_t a, size_t b, size_t elem)
{
    return a == 0 || b == 0 || (b <= SIZE_MAX / elem && a <= SIZE_MAX / elem / b);
}

bp_dataset *bp_data_new(const char *name, size_t n, size_t d, bp_target_kind kind, size_t k,
                        bp_err *e)
{
    size_t tk = kind == BP_TARGET_MATRIX ? k : 1;
    if (!bp_data_mul_ok(n, d, sizeof(float)) || !bp_data_mul_ok(n, tk, sizeof(float))) {
        bp_err_set(e, BP_ENOMEM, "%s: %zu x %zu values are too many for this machine",
                   name ? name : "dataset", n, !bp_data_mul_ok(n, d, sizeof(float)) ? d : tk);
        return NULL;
    }
    bp_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) {
        bp_err_set(e, BP_ENOMEM, "out of memory allocating a dataset");
        return NULL;
    }
    ds->n = n;
    ds->d = d;
    ds->kind = kind;
    ds->k = k;
    if (name && !(ds->name = bp_xstrdup(name, e)))
        goto fail;
    if (!(ds->X = bp_xcalloc(n * d, sizeof(float), e)))
        goto fail;
    if (kind == BP_TARGET_MATRIX) {
        if (!(ds->Y = bp_xcalloc(n * k, sizeof(float), e)))
            goto fail;
    } else if (!(ds->y = bp_xcalloc(n, sizeof(int32_t), e))) {
        goto fail;
    }
    return ds;
fail:
    bp_data_free(ds);
    return NULL;
}

void bp_data_free(bp_dataset *d)
{
    if (!d)
        return;
    if (d->class_names) {
        for (size_t i = 0; i < d->k; i++)
            free(d->class_names[i]);
        free(d->class_names);
    }
    free(d->name);
    free(d->X);
    free(d->y);
    free(d->Y);
    free(d);
}
