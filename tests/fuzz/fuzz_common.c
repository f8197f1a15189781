/* fuzz_common.c - helpers shared by the fuzz targets: a temporary folder, file writing, the
 * error-message contract check, a sweep's size. */
#include "autoconf.h"
#include "fuzz.h"
#include "fuzz_common.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[4096];

static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            char p[8192];
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
                (size_t)snprintf(p, sizeof p, "%s/%s", tmpdir, de->d_name) < sizeof p)
                unlink(p);
        }
        closedir(d);
    }
    rmdir(tmpdir);
}

const char *bp_fuzz_tmpdir(void)
{
    if (!tmpdir[0]) {
        /* /dev/shm when TMPDIR is not set: rewriting a file on a disk's file system (ext4
         * flushes a truncated file) cost more than the target's own work */
        const char *t = getenv("TMPDIR");
        if (!t || !*t)
            t = access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(tmpdir, sizeof tmpdir, "%s/bprun-fuzz.XXXXXX", t);
        if (!mkdtemp(tmpdir)) {
            perror("bprun-fuzz: mkdtemp");
            abort();
        }
        atexit(remove_tmpdir);
    }
    return tmpdir;
}

const char *bp_fuzz_path(const char *name, char *buf, size_t size)
{
    if ((size_t)snprintf(buf, size, "%s/%s", bp_fuzz_tmpdir(), name) >= size)
        abort();
    return buf;
}

void bp_fuzz_write(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

void bp_fuzz_check_err(const bp_err *e, int rc, const char *what)
{
    if (rc == 0)
        return;
    if (rc > 0 || e->code != rc || e->msg[0] == '\0' || strchr(e->msg, '\n')) {
        fprintf(stderr, "%s: broken error contract: rc %d, code %d, message '%s'\n", what, rc,
                e->code, e->msg);
        abort();
    }
}

void bp_fuzz_check_null(const void *p, const bp_err *e, const char *what)
{
    if (!p)
        bp_fuzz_check_err(e, e->code < 0 ? e->code : 1, what);
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static uint64_t count_of(const bp_node *n)
{
    if (!n)
        return 1;
    if (n->kind != BP_NODE_SCALAR)
        return n->n ? n->n : 1;
    double v = strtod(n->value ? n->value : "", NULL); /* "20", "2e1", "20.0" */
    return !(v >= 1) ? 1 : v >= 1e18 ? UINT64_MAX : (uint64_t)ceil(v);
}

uint64_t bp_fuzz_sweep_size(const bp_node *root, uint64_t extra)
{
    const bp_node *sw = root && root->kind == BP_NODE_MAP ? bp_node_get(root, "sweep") : NULL;
    uint64_t n = extra ? extra : 1;
    if (!sw || sw->kind != BP_NODE_MAP)
        return n;
    const bp_node *grid = bp_node_get(sw, "grid"), *zip = bp_node_get(sw, "zip"),
                  *random = bp_node_get(sw, "random");
    for (size_t i = 0; grid && grid->kind == BP_NODE_MAP && i < grid->n; i++)
        n = sat_mul(n, count_of(grid->items[i]));
    if (zip && zip->kind == BP_NODE_MAP && zip->n)
        n = sat_mul(n, count_of(zip->items[0]));
    n = sat_mul(n, count_of(bp_node_get(sw, "variants")));
    if (random && random->kind == BP_NODE_MAP)
        n = sat_mul(n, count_of(bp_node_get(random, "trials")));
    const bp_node *rep = bp_node_get(sw, "repeats");
    return sat_mul(n, rep && rep->kind == BP_NODE_SCALAR ? count_of(rep) : 1);
}

int bp_fuzz_sweep_small(uint64_t n)
{
    return n <= BP_FUZZ_MAX_TRIALS || n > BP_SWEEP_MAX_TRIALS;
}
