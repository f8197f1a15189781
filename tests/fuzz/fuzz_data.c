/* fuzz_data.c - bytes -> dataset loading. The bytes are written to a temporary file and read
 * the way their first bytes suggest: an HDF5 signature -> bp_data_load; 00 00 -> an IDX images
 * file followed by an IDX labels file (split where the first header says the images end) ->
 * bp_import_idx; 1f 8b -> a gzipped CSV; anything else -> bp_import_csv. A dataset that loads
 * is written with bp_data_write and MUST load back with the same shape. */
#include "autoconf.h"
#include "fuzz.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "fuzz_common.h"

static void round_trip(bp_dataset *d)
{
    bp_err e;
    char out[4200], ref[4300];
    bp_err_clear(&e);
    size_t n_out = d->kind == BP_TARGET_LABELS ? (d->k > 1 ? d->k : 2) : d->k;
    int rc = bp_data_check_shape(d, d->d, n_out, &e);
    bp_fuzz_check_err(&e, rc, "bp_data_check_shape");
    if (d->n >= 2) {
        bp_dataset *tr = NULL, *va = NULL;
        bp_err_clear(&e);
        rc = bp_data_split(d, 0.25, 7, &tr, &va, &e);
        bp_fuzz_check_err(&e, rc, "bp_data_split");
        if (rc == 0 && (!tr || !va || tr->n + va->n != d->n))
            abort();
        bp_data_free(tr);
        bp_data_free(va);
    }
    bp_fuzz_path("out.h5", out, sizeof out);
    bp_err_clear(&e);
    rc = bp_data_write(d, out, "/g", 1, &e);
    if (rc) {   /* a dataset an importer accepted must be writable */
        bp_fuzz_check_err(&e, rc, "bp_data_write");
        abort();
    }
    snprintf(ref, sizeof ref, "%s#/g", out);
    bp_err_clear(&e);
    bp_dataset *back = bp_data_load(ref, &e);
    if (!back || back->n != d->n || back->d != d->d || back->kind != d->kind || back->k != d->k) {
        fprintf(stderr, "round trip changed the dataset: %s\n", back ? "shape" : e.msg);
        abort();
    }
    bp_data_free(back);
}

static size_t idx_length(const uint8_t *p, size_t size)
{
    static const size_t esize[16] = { [0x8] = 1, [0x9] = 1, [0xB] = 2, [0xC] = 4, [0xD] = 4,
                                      [0xE] = 8 };
    if (size < 4)
        return size;
    size_t head = 4 + 4 * (size_t)p[3], count = 1, es = p[2] < 16 && esize[p[2]] ? esize[p[2]] : 1;
    if (head > size)
        return size;
    for (size_t i = 0; i < p[3]; i++) {
        const uint8_t *q = p + 4 + 4 * i;
        size_t dim = (size_t)q[0] << 24 | (size_t)q[1] << 16 | (size_t)q[2] << 8 | q[3];
        if (dim && count > size / dim)
            return size;
        count *= dim;
    }
    return count > (size - head) / es ? size : head + count * es;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bp_err e;
    char a[4200], b[4200], ref[4300];
    bp_dataset *d = NULL;
    bp_err_clear(&e);
    if (size >= 8 && !memcmp(data, "\211HDF\r\n\032\n", 8)) {
        bp_fuzz_write(bp_fuzz_path("in.h5", a, sizeof a), data, size);
        d = bp_data_load(a, &e);
        bp_fuzz_check_null(d, &e, "bp_data_load");
        bp_data_free(d);
        snprintf(ref, sizeof ref, "%s#/train", a);
        bp_err_clear(&e);
        d = bp_data_load(ref, &e);
        bp_fuzz_check_null(d, &e, "bp_data_load #/train");
    } else if (size >= 2 && data[0] == 0 && data[1] == 0) {
        size_t split = idx_length(data, size);
        bp_fuzz_write(bp_fuzz_path("images.idx", a, sizeof a), data, split);
        bp_fuzz_write(bp_fuzz_path("labels.idx", b, sizeof b), data + split, size - split);
        d = bp_import_idx(a, b, 1.0 / 255, &e);
        bp_fuzz_check_null(d, &e, "bp_import_idx");
    } else if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        bp_fuzz_write(bp_fuzz_path("in.csv.gz", a, sizeof a), data, size);
        d = bp_import_csv(a, NULL, &e);
        bp_fuzz_check_null(d, &e, "bp_import_csv (gz)");
    } else {
        bp_fuzz_write(bp_fuzz_path("in.csv", a, sizeof a), data, size);
        d = bp_import_csv(a, NULL, &e);
        bp_fuzz_check_null(d, &e, "bp_import_csv");
        if (d)
            round_trip(d);
        bp_data_free(d);
        /* the same text as float targets (the last column), header forced */
        bp_csv_opts o = { .header = 1, .delimiter = 0, .label_column = -2, .labels_text = -1,
                          .target_columns = 1 };
        bp_err_clear(&e);
        d = bp_import_csv(a, &o, &e);
        bp_fuzz_check_null(d, &e, "bp_import_csv (targets)");
    }
    if (d)
        round_trip(d);
    bp_data_free(d);
    return 0;
}
