/* fuzz_csv.c - bytes -> CSV import from memory (bp_import_csv_text), three times: options
 * detected (labels in the last column), float targets with a header, and options picked by the
 * last byte. A dataset that loads MUST be valid (what bp_data_write checks before writing:
 * every value finite, labels in [0, k), class names when labels are text) and MUST split. */
#include "autoconf.h"
#include "fuzz.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "data.h"
#include "fuzz_common.h"

static void check_dataset(const bp_dataset *d)
{
    bp_err e;
    if (d->n < 1 || d->d < 1 || d->k < 1 || !d->X)
        abort();
    for (size_t i = 0; i < d->n * d->d; i++)
        if (!isfinite(d->X[i]))
            abort();
    if (d->kind == BP_TARGET_LABELS) {
        if (!d->y)
            abort();
        for (size_t i = 0; i < d->n; i++)
            if (d->y[i] < 0 || (size_t)d->y[i] >= d->k)
                abort();
        for (size_t j = 0; d->class_names && j < d->k; j++)
            if (!d->class_names[j] || !d->class_names[j][0])
                abort();
    } else {
        if (!d->Y)
            abort();
        for (size_t i = 0; i < d->n * d->k; i++)
            if (!isfinite(d->Y[i]))
                abort();
    }
    size_t n_out = d->kind == BP_TARGET_LABELS ? (d->k > 1 ? d->k : 2) : d->k;
    bp_err_clear(&e);
    int rc = bp_data_check_shape(d, d->d, n_out, &e);
    bp_fuzz_check_err(&e, rc, "bp_data_check_shape");
    if (rc)
        abort();   /* a dataset fits a model of its own shape */
    if (d->n >= 2) {
        bp_dataset *tr = NULL, *va = NULL;
        bp_err_clear(&e);
        rc = bp_data_split(d, 0.25, 7, &tr, &va, &e);
        bp_fuzz_check_err(&e, rc, "bp_data_split");
        if (rc == 0 && (!tr || !va || tr->n + va->n != d->n || tr->d != d->d))
            abort();
        bp_data_free(tr);
        bp_data_free(va);
    }
}

static void import(const uint8_t *data, size_t size, const bp_csv_opts *o, const char *what)
{
    bp_err e;
    bp_err_clear(&e);
    bp_dataset *d = bp_import_csv_text("fuzz.csv", (const char *)data, size, o, &e);
    bp_fuzz_check_null(d, &e, what);
    if (d)
        check_dataset(d);
    bp_data_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    import(data, size, NULL, "bp_import_csv_text");
    bp_csv_opts t = { .header = 1, .label_column = -2, .labels_text = -1, .target_columns = 1 };
    import(data, size, &t, "bp_import_csv_text (targets)");
    if (size) {
        static const char delims[] = { 0, ',', ';', '\t', ' ', '|' };
        static const long columns[] = { -1, 0, 1, -2, -2, 3 };
        unsigned b = data[size - 1];
        bp_csv_opts o = { .header = (int)(b % 3) - 1, .delimiter = delims[b / 3 % 6],
                          .label_column = columns[b / 18 % 6],
                          .labels_text = (int)(b / 108 % 3) - 1,
                          .target_columns = 1 + b / 36 % 3,
                          .label_name = b >= 240 ? "label" : NULL };
        import(data, size, &o, "bp_import_csv_text (options)");
    }
    return 0;
}
