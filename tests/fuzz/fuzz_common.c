/* fuzz_common.c - helpers shared by the fuzz targets: a temporary folder, file writing and the
 * error-message contract check. */
#include "autoconf.h"
#include "fuzz.h"
#include "fuzz_common.h"

#include <dirent.h>
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
        const char *t = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/bprun-fuzz.XXXXXX", t && *t ? t : "/tmp");
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
