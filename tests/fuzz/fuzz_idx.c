/* fuzz_idx.c - bytes -> IDX import: an images file followed by a labels file, split where the
 * first header says the images end. The importer reads paths (zlib streams them), so each part
 * goes into a memory file (memfd_create, rewritten per input) named /proc/self/fd/N: no disk.
 * A dataset that loads MUST be valid (every value finite, labels in [0, k), n x d as the
 * header says), and MUST load the same with its images gzipped. */
#include "autoconf.h"
#include "fuzz.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "data.h"
#include "fuzz_common.h"

static int fds[3] = { -1, -1, -1 };
static char names[3][64];

static const char *memfile(int i, const uint8_t *data, size_t size)
{
    if (fds[i] < 0) {
        if ((fds[i] = memfd_create("fuzz.idx", MFD_CLOEXEC)) < 0) {
            perror("bprun-fuzz: memfd_create");
            abort();
        }
        snprintf(names[i], sizeof names[i], "/proc/self/fd/%d", fds[i]);
    }
    if (ftruncate(fds[i], 0) != 0 || (size && pwrite(fds[i], data, size, 0) != (ssize_t)size)) {
        perror("bprun-fuzz: memory file");
        abort();
    }
    return names[i];
}

/* Where the images file ends: its header's element count times the element size after the
 * header (the whole input when that does not fit). */
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

/* data gzipped (a small window: deflate's default state is 256 KiB); NULL when it fails. */
static uint8_t *gzip(const uint8_t *data, size_t size, size_t *out_size)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 1, Z_DEFLATED, 16 + 9, 1, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong cap = deflateBound(&z, (uLong)size) + 32;
    uint8_t *out = malloc(cap);
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)size;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (!out || deflate(&z, Z_FINISH) != Z_STREAM_END) {
        free(out);
        out = NULL;
    }
    *out_size = z.total_out;
    deflateEnd(&z);
    return out;
}

static int same(const bp_dataset *a, const bp_dataset *b)
{
    return a->n == b->n && a->d == b->d && a->k == b->k &&
           !memcmp(a->X, b->X, a->n * a->d * sizeof *a->X) &&
           !memcmp(a->y, b->y, a->n * sizeof *a->y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bp_err e;
    size_t split = idx_length(data, size);
    const char *a = memfile(0, data, split), *b = memfile(1, data + split, size - split);
    bp_err_clear(&e);
    bp_dataset *d = bp_import_idx(a, b, 1.0 / 255, &e);
    bp_fuzz_check_null(d, &e, "bp_import_idx");
    if (d && data[0] == 0) {   /* (each gzip stream costs zlib 384 KiB of buffers) */
        size_t zn;
        uint8_t *zd = gzip(data, split, &zn);
        if (!zd)
            abort();
        bp_err ez;
        bp_err_clear(&ez);
        bp_dataset *dz = bp_import_idx(memfile(2, zd, zn), b, 1.0 / 255, &ez);
        bp_fuzz_check_null(dz, &ez, "bp_import_idx (gzipped images)");
        if (!dz || !same(d, dz)) {
            fprintf(stderr, "gzipped images: %s\n", dz ? "other values" : ez.msg);
            abort();
        }
        bp_data_free(dz);
        free(zd);
    }
    if (d) {
        /* rows as the images header says (a gzipped input's header is inside the stream) */
        size_t n = (size_t)data[4] << 24 | (size_t)data[5] << 16 | (size_t)data[6] << 8 | data[7];
        if ((data[0] == 0 && d->n != n) || d->n < 1 || d->d < 1 || d->kind != BP_TARGET_LABELS ||
            d->k < 1 || !d->X || !d->y)
            abort();
        for (size_t i = 0; i < d->n * d->d; i++)
            if (!isfinite(d->X[i]))
                abort();
        for (size_t i = 0; i < d->n; i++)
            if (d->y[i] < 0 || (size_t)d->y[i] >= d->k)
                abort();
    }
    bp_data_free(d);
    return 0;
}
