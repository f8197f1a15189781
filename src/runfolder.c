#include "autoconf.h"
#include "runfolder.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const unsigned char h5_signature[8] = { 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n' };

int bp_folder_trial_name(const char *name, unsigned *id, int *part)
{
    size_t d = strspn(name, "0123456789");
    const char *tail = name + d;
    int p;
    if (!strcmp(tail, ".h5"))
        p = 0;
    else if (!strcmp(tail, ".h5.part"))
        p = 1;
    else
        return 0;
    if (d < 4 || d > 10)
        return 0;
    unsigned long long v = strtoull(name, NULL, 10);
    char canon[16];
    if (v > 4294967295ull || snprintf(canon, sizeof canon, "%04llu", v) != (int)d ||
        memcmp(canon, name, d) != 0)
        return 0;
    *id = (unsigned)v;
    *part = p;
    return 1;
}

static int attr_int_is(hid_t f, const char *name, long long want, int any)
{
    if (H5Aexists(f, name) <= 0)
        return 0;
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    if (a < 0)
        return 0;
    hid_t sp = H5Aget_space(a), ty = H5Aget_type(a);
    long long v = -1;
    int ok = sp >= 0 && ty >= 0 && H5Tget_class(ty) == H5T_INTEGER &&
             H5Sget_simple_extent_npoints(sp) == 1 && H5Aread(a, H5T_NATIVE_LLONG, &v) >= 0;
    if (ty >= 0)
        H5Tclose(ty);
    if (sp >= 0)
        H5Sclose(sp);
    H5Aclose(a);
    return ok && (any || v == want);
}

/* Whether the open regular file fd (named rel below dfd) is an HDF5 file bprun wrote: the
 * index (trial < 0) or trial `trial`. *why says what it is not. */
static int h5_is_ours(int fd, const char *path_by_name, long long trial, int part,
                      const char **why)
{
    unsigned char head[8];
    ssize_t got = pread(fd, head, sizeof head, 0);
    if (got < 0) {
        *why = "cannot be read";
        return 0;
    }
    int sig = got == (ssize_t)sizeof head && !memcmp(head, h5_signature, sizeof head);
    if (!sig) {
        *why = "not an HDF5 file";
        return part && got < (ssize_t)sizeof head;   /* a writer killed at creation */
    }
    char by_fd[64];
    snprintf(by_fd, sizeof by_fd, "/proc/self/fd/%d", fd);
    /* the descriptor's own file, even if the name was replaced since; by name without /proc */
    const char *path = access(by_fd, F_OK) == 0 ? by_fd : path_by_name;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_file_locking(fapl, 0, 1) < 0) {
        if (fapl >= 0)
            H5Pclose(fapl);
        *why = "cannot be read";
        return 0;
    }
    hid_t f = path ? H5Fopen(path, H5F_ACC_RDONLY, fapl) : H5I_INVALID_HID;
    H5Pclose(fapl);
    if (f < 0) {
        *why = "not a readable HDF5 file";
        return part;   /* a .part whose writer was killed before its first flush */
    }
    int ours = attr_int_is(f, "format_version", 0, 1) && H5Aexists(f, "bprun_version") > 0;
    if (ours && trial >= 0)
        ours = attr_int_is(f, "trial", trial, 0);
    else if (ours)
        ours = H5Aexists(f, "trial") <= 0;
    H5Fclose(f);
    *why = ours ? NULL : trial >= 0 ? "not this trial's file (no bprun attributes naming it)"
                                    : "not a bprun index (no bprun attributes)";
    return ours;
}

static int push(bp_folder_entry **v, size_t *n, const char *prefix, const char *name,
                const char *why, long long trial, int part, bp_err *e)
{
    bp_folder_entry *nv = realloc(*v, (*n + 1) * sizeof **v);
    if (!nv)
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    *v = nv;
    size_t len = strlen(prefix) + strlen(name) + 1;
    char *s = malloc(len);
    if (!s)
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    snprintf(s, len, "%s%s", prefix, name);
    nv[(*n)++] = (bp_folder_entry){ .name = s, .why = why, .trial = trial, .part = part };
    return 0;
}

/* One entry named like a file of bprun's (the index or a trial file): ours or bad. */
static int classify(bp_folder *f, int at, const char *dir, const char *prefix, const char *name,
                    long long trial, int part, int deep, bp_err *e)
{
    struct stat st;
    if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : bp_err_set(e, BP_EIO, "%s%s: %s", prefix, name,
                                                strerror(errno));
    const char *why = NULL;
    int ours = 0;
    if (S_ISLNK(st.st_mode)) {
        why = "a symbolic link, not a file bprun wrote";
    } else if (!S_ISREG(st.st_mode)) {
        why = "not a regular file";
    } else if (!deep && !part) {
        ours = 1;
    } else {
        int fd = openat(at, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
            return 0;   /* gone since the listing: another bprun renamed it (its .part) */
        if (fd < 0) {
            why = "cannot be read";
        } else {
            char *full = NULL;
            size_t len = strlen(dir) + strlen(prefix) + strlen(name) + 2;
            if ((full = malloc(len)))
                snprintf(full, len, "%s/%s%s", dir, prefix, name);
            if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
                ours = h5_is_ours(fd, full, trial, part, &why);
            else
                why = "not a regular file";
            free(full);
            close(fd);
        }
    }
    return ours ? push(&f->ours, &f->n_ours, prefix, name, NULL, trial, part, e)
                : push(&f->bad, &f->n_bad, prefix, name, why, trial, part, e);
}

/* The HTML report (or its .part): bprun's when it is a regular file beginning with the magic
 * line (a .part also when shorter: a writer killed at creation). */
static int classify_report(bp_folder *f, int at, const char *name, int part, bp_err *e)
{
    static const char magic[] = BP_REPORT_HTML_MAGIC;
    struct stat st;
    if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : bp_err_set(e, BP_EIO, "%s: %s", name, strerror(errno));
    const char *why = NULL;
    if (S_ISLNK(st.st_mode)) {
        why = "a symbolic link, not a file bprun wrote";
    } else if (!S_ISREG(st.st_mode)) {
        why = "not a regular file";
    } else {
        int fd = openat(at, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
            return 0;   /* renamed or removed since the listing */
        char head[sizeof magic - 1];
        ssize_t got = fd < 0 ? -1 : pread(fd, head, sizeof head, 0);
        if (fd >= 0)
            close(fd);
        if (got < 0)
            why = "cannot be read";
        else if ((size_t)got == sizeof head ? memcmp(head, magic, sizeof head) != 0
                                            : !part || memcmp(head, magic, (size_t)got) != 0)
            why = "not a report bprun wrote";
    }
    return why ? push(&f->bad, &f->n_bad, "", name, why, -1, part, e)
               : push(&f->ours, &f->n_ours, "", name, NULL, -1, part, e);
}

static int scan_trials(bp_folder *f, int dfd, const char *dir, int deep, bp_err *e)
{
    int tfd = openat(dfd, "trials", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (tfd < 0 && errno == ENOENT) {
        f->has_trials = 0;   /* removed since the listing (another bprun's --force) */
        return 0;
    }
    if (tfd < 0)
        return bp_err_set(e, BP_EIO, "%s/trials: cannot read: %s", dir, strerror(errno));
    DIR *d = fdopendir(tfd);
    if (!d) {
        close(tfd);
        return bp_err_set(e, BP_EIO, "%s/trials: cannot read: %s", dir, strerror(errno));
    }
    int rc = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d))) {
        const char *n = de->d_name;
        unsigned id;
        int part;
        if (!strcmp(n, ".") || !strcmp(n, ".."))
            continue;
        if (bp_folder_trial_name(n, &id, &part))
            rc = classify(f, dirfd(d), dir, "trials/", n, id, part, deep, e);
        else
            rc = push(&f->foreign, &f->n_foreign, "trials/", n, NULL, -1, 0, e);
    }
    closedir(d);
    return rc;
}

int bp_folder_open(const char *dir, bp_err *e)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    if (errno == ENOTDIR)
        bp_err_set(e, BP_EEXIST, "%s: exists and is not a folder; use -o to choose another "
                   "folder", dir);
    else
        bp_err_set(e, BP_EIO, "%s: cannot open run folder: %s", dir, strerror(errno));
    return -1;
}

int bp_folder_scan(int dfd, const char *dir, int deep, bp_folder *f, bp_err *e)
{
    memset(f, 0, sizeof *f);
    int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    if (!d) {
        if (dup_fd >= 0)
            close(dup_fd);
        return bp_err_set(e, BP_EIO, "%s: cannot read run folder: %s", dir, strerror(errno));
    }
    rewinddir(d);
    int rc = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d))) {
        const char *n = de->d_name;
        struct stat st;
        if (!strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, ".lock"))
            continue;
        if (!strcmp(n, "index.h5") || !strcmp(n, "index.h5.part")) {
            rc = classify(f, dfd, dir, "", n, -1, n[8] == '.', deep, e);
        } else if (!strcmp(n, BP_RUN_REPORT_HTML) || !strcmp(n, BP_RUN_REPORT_HTML ".part")) {
            rc = classify_report(f, dfd, n, n[sizeof BP_RUN_REPORT_HTML - 1] == '.', e);
        } else if (!strcmp(n, "trials")) {
            if (fstatat(dfd, n, &st, AT_SYMLINK_NOFOLLOW) != 0)
                rc = bp_err_set(e, BP_EIO, "%s/trials: %s", dir, strerror(errno));
            else if (S_ISDIR(st.st_mode))
                f->has_trials = 1;
            else
                rc = push(&f->bad, &f->n_bad, "", n, S_ISLNK(st.st_mode)
                          ? "a symbolic link, not the folder bprun made"
                          : "not a folder", -1, 0, e);
        } else {
            rc = push(&f->foreign, &f->n_foreign, "", n, NULL, -1, 0, e);
        }
    }
    closedir(d);
    if (!rc && f->has_trials)
        rc = scan_trials(f, dfd, dir, deep, e);
    if (rc)
        return rc;
    f->empty = !f->n_bad && !f->n_foreign;
    for (size_t i = 0; i < f->n_ours; i++) {
        if (!strcmp(f->ours[i].name, "index.h5"))
            f->has_index = 1;
        if (!f->ours[i].part)
            f->empty = 0;
    }
    return 0;
}

static void free_entries(bp_folder_entry *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
}

void bp_folder_free(bp_folder *f)
{
    if (!f)
        return;
    free_entries(f->ours, f->n_ours);
    free_entries(f->bad, f->n_bad);
    free_entries(f->foreign, f->n_foreign);
    memset(f, 0, sizeof *f);
}

int bp_folder_remove_ours(int dfd, const char *dir, const bp_folder *f, int parts_only,
                          bp_err *e)
{
    int tfd = -1, rc = 0;
    if (f->has_trials &&
        (tfd = openat(dfd, "trials", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return bp_err_set(e, BP_EIO, "%s/trials: cannot open: %s", dir, strerror(errno));
    for (size_t i = 0; i < f->n_ours && !rc; i++) {
        const bp_folder_entry *x = &f->ours[i];
        if (parts_only && !x->part)
            continue;
        int in_trials = x->trial >= 0;
        const char *base = in_trials ? x->name + strlen("trials/") : x->name;
        if (unlinkat(in_trials ? tfd : dfd, base, 0) != 0 && errno != ENOENT)
            rc = bp_err_set(e, BP_EIO, "%s/%s: cannot remove: %s", dir, x->name,
                            strerror(errno));
    }
    if (tfd >= 0)
        close(tfd);
    if (!rc && f->has_trials)
        unlinkat(dfd, "trials", AT_REMOVEDIR);   /* only succeeds when nothing else is in it */
    return rc;
}

char *bp_folder_list(const char *dir, const bp_folder_entry *v, size_t n, size_t shown)
{
    size_t len = 64;
    for (size_t i = 0; i < n && i < shown; i++)
        len += strlen(dir) + strlen(v[i].name) + 8;
    char *s = malloc(len);
    if (!s)
        return NULL;
    size_t at = 0;
    s[0] = '\0';
    for (size_t i = 0; i < n && i < shown; i++)
        at += (size_t)snprintf(s + at, len - at, "%s%s/%s",
                               i == 0 ? "" : i + 1 == n ? " and " : ", ", dir, v[i].name);
    if (n > shown)
        snprintf(s + at, len - at, " and %zu more", n - shown);
    return s;
}

int bp_folder_refuse_bad(const bp_folder *f, const char *dir, const char *action, bp_err *e)
{
    if (!f->n_bad)
        return 0;
    const bp_folder_entry *b = &f->bad[0];
    if (f->n_bad == 1)
        return bp_err_set(e, BP_EEXIST, "%s/%s: %s; %s", dir, b->name, b->why, action);
    return bp_err_set(e, BP_EEXIST, "%s/%s: %s (and %zu more such files); %s", dir, b->name,
                      b->why, f->n_bad - 1, action);
}
