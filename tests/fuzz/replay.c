/* replay.c - runs a fuzz target over files without libFuzzer: each argument is a file or a
 * folder (its files, sorted by name); with no argument, the folders compiled in as
 * BP_FUZZ_CORPUS (colon-separated). Exit 0 when every input ran (a crash ends the process). */
#include "autoconf.h"
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 4096, n = 0;
    unsigned char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
    }
    int bad = ferror(f) || !buf;
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(buf);
        return -1;
    }
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path, size_t *count)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return run_file(path);
    }
    DIR *d = opendir(path);
    if (!d) {
        perror(path);
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char **v = realloc(names, (n + 1) * sizeof *v);
        size_t len = strlen(path) + strlen(de->d_name) + 2;
        if (!v || !(v[n] = malloc(len))) {
            names = v ? v : names;
            rc = -1;
            break;
        }
        names = v;
        snprintf(names[n++], len, "%s/%s", path, de->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        struct stat fs;
        if (rc == 0 && stat(names[i], &fs) == 0 && S_ISREG(fs.st_mode)) {
            (*count)++;
            rc = run_file(names[i]);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    int rc = 0;
    if (argc > 1) {
        for (int i = 1; i < argc && rc == 0; i++)
            rc = run_path(argv[i], &count);
    } else {
        char *dirs = strdup(BP_FUZZ_CORPUS);
        for (char *s = dirs, *tok; rc == 0 && (tok = strtok(s, ":")); s = NULL)
            rc = run_path(tok, &count);
        free(dirs);
    }
    printf("%s: %zu inputs replayed%s\n", argv[0], count, rc ? ", stopped by an error" : "");
    return rc ? 1 : 0;
}
