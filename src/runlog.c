#include "autoconf.h"
#include "runlog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "input.h"
#include "minima.h"
#include "runfolder.h"

#define EPOCH_CHUNK 256       /* rows of an /epochs chunk, at least ... */
#define EPOCH_CHUNK_MAX 8192  /* ... and at most (bp_trial_meta.epochs_hint) */
#define KEEP_HINT_MAX 16384   /* most rows the kept rows' buffer starts with (epochs_hint) */
#define STATUS_LEN 16
/* Trial files put every object of TORN_MIN bytes or more at a multiple of TORN_PAGE
 * (H5Pset_alignment). Linux finishes the page it is copying when a write is hit by SIGKILL,
 * but may stop before the next one, so an object that straddles a page boundary can be left
 * half old, half new. The one object a flush rewrites with new content is a chunk B-tree node
 * (2096 bytes): a torn node held the new child count with the old, empty entries, the lookup
 * of chunk 0 then failed, and acknowledged rows read as 0 (tests/check_runlog's kills: about
 * 1 in 1000 kills in the first 3 ms, with the CPUs loaded). Raw chunks smaller than TORN_MIN
 * stay unaligned: a torn chunk rewrite leaves acknowledged rows as they were. */
#define TORN_PAGE 4096
#define TORN_MIN 2049

struct bp_run {
    char *dir;            /* as given: for messages about the folder itself */
    char *path;           /* absolute: every file below it is opened through this */
    int dfd;              /* the folder, opened once; -1: none */
    int lock_fd;          /* RUN/.lock, holding a write lock for the run's lifetime; -1: none */
    char *kept;           /* --force: what it left, one line; NULL: nothing */
    const char *hash, *table;
    size_t n_axes;
    char *const *axes;
    char *const *const *params;
    const char *race;     /* sweep.race's decisions (borrowed), or NULL */
};

struct bp_trial_file {
    char *part, *final, *trials_dir;
    hid_t file, epochs, mspace;
    hid_t *dsets;
    size_t n_columns;
    hsize_t rows;          /* rows written to the file (acknowledged once flushed) */
    double *pend;          /* rows appended but not yet written: n_pend x n_columns */
    double *colbuf;        /* one column of the pending rows, gathered for H5Dwrite */
    size_t n_pend, cap_pend;
    double flush_s;        /* flush interval in seconds (BPRUN_FLUSH_MS / 1000, default
                            * BP_FLUSH_MS_DEFAULT): 0 writes and flushes every row */
    double last_flush;     /* CLOCK_MONOTONIC seconds (coarse; creation until the first flush) */
    double created;        /* the same clock when the file was created */
    double first_s;        /* no flush by append before the file is this old: min(flush_s,
                            * BP_FLUSH_FIRST_MS / 1000) */
    int started;           /* the file is first_s old: the doubling and interval rules apply */
};

/* HDF5 prints its error stack by default; only main prints. The setting is per thread in a
 * thread-safe HDF5, so every entry point calls this. */
static void quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static char *fmt_alloc(bp_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *fmt_alloc(bp_err *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        bp_err_set(e, BP_ENOMEM, "cannot format a path");
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) {
        bp_err_set(e, BP_ENOMEM, "out of memory");
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* The innermost HDF5 error, and the operating system's reason when a frame carries one
 * (the sec2 driver writes "... error message = 'No space left on device' ..."). */
static herr_t walk_first(unsigned n, const H5E_error2_t *err, void *data)
{
    char *buf = data;
    if (n == 0 && H5Eget_msg(err->min_num, NULL, buf, 96) <= 0)
        snprintf(buf, 96, "%s", err->desc ? err->desc : "unknown error");
    const char *os = err->desc ? strstr(err->desc, "error message = '") : NULL;
    if (os && !strchr(buf, ':')) {
        os += strlen("error message = '");
        const char *end = strchr(os, '\'');
        size_t used = strlen(buf);
        if (end && used + 3 < 160)
            snprintf(buf + used, 160 - used, ": %.*s", (int)(end - os), os);
    }
    return 0;
}

/* One line for an HDF5 failure: "file#object: what (HDF5: innermost reason)". Call it before
 * any other HDF5 call replaces the error stack. */
static int h5fail(bp_err *e, const char *file, const char *obj, const char *what)
{
    char why[160] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_first, why);
    if (why[0] >= 'A' && why[0] <= 'Z')
        why[0] = (char)(why[0] - 'A' + 'a');
    const char *tail = why[0] ? why : "unknown error";
    if (obj)
        return bp_err_set(e, BP_EIO, "%s#%s: %s (HDF5: %s)", file, obj, what, tail);
    return bp_err_set(e, BP_EIO, "%s: %s (HDF5: %s)", file, what, tail);
}

static void iso_now(char *buf, size_t n)
{
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, n, "unknown");
}

/* ---- attribute writers (replace an attribute of the same name) ---- */

static hid_t vlstr_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0)
        return t;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

static int put_attr(bp_err *e, const char *file, hid_t loc, const char *obj, const char *name,
                    hid_t type, size_t n, int scalar, const void *buf)
{
    hsize_t dim = n;
    hid_t s = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL);
    hid_t a = H5I_INVALID_HID;
    int rc = 0;
    char what[160];
    snprintf(what, sizeof what, "cannot write attribute '%s'", name);
    if (s < 0 || (H5Aexists(loc, name) > 0 && H5Adelete(loc, name) < 0) ||
        (a = H5Acreate2(loc, name, type, s, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Awrite(a, type, buf) < 0)
        rc = h5fail(e, file, obj, what);
    if (a >= 0)
        H5Aclose(a);
    if (s >= 0)
        H5Sclose(s);
    return rc;
}

static int attr_str(bp_err *e, const char *file, hid_t loc, const char *obj, const char *name,
                    const char *val)
{
    hid_t t = vlstr_type();
    if (t < 0)
        return h5fail(e, file, obj, "cannot make a string type");
    const char *v = val ? val : "";
    int rc = put_attr(e, file, loc, obj, name, t, 1, 1, &v);
    H5Tclose(t);
    return rc;
}

static int attr_strs(bp_err *e, const char *file, hid_t loc, const char *obj, const char *name,
                     const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!v[i])
            return bp_err_set(e, BP_EIO, "%s#%s: attribute '%s': item %zu has no name", file,
                              obj, name, i);
    hid_t t = vlstr_type();
    if (t < 0)
        return h5fail(e, file, obj, "cannot make a string type");
    int rc = put_attr(e, file, loc, obj, name, t, n, 0, n ? (const void *)v : (const void *)"");
    H5Tclose(t);
    return rc;
}

static int attr_int(bp_err *e, const char *file, hid_t loc, const char *obj, const char *name,
                    int v)
{
    return put_attr(e, file, loc, obj, name, H5T_NATIVE_INT, 1, 1, &v);
}

static int attr_u64(bp_err *e, const char *file, hid_t loc, const char *obj, const char *name,
                    uint64_t v)
{
    return put_attr(e, file, loc, obj, name, H5T_NATIVE_UINT64, 1, 1, &v);
}

static int attr_dbl(bp_err *e, const char *file, hid_t loc, const char *obj, const char *name,
                    double v)
{
    return put_attr(e, file, loc, obj, name, H5T_NATIVE_DOUBLE, 1, 1, &v);
}

/* The attributes a trial file and the index share. */
static int attr_common(bp_err *e, const char *file, hid_t f, const char *config,
                       const char *resolved, int threads)
{
    char *prov = bp_provenance_text(threads);
    if (!prov)
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    int rc = attr_int(e, file, f, "/", "format_version", BP_FORMAT_VERSION);
    if (!rc)
        rc = attr_str(e, file, f, "/", "bprun_version", PACKAGE_VERSION);
    if (!rc)
        rc = attr_str(e, file, f, "/", "config", config);
    if (!rc)
        rc = attr_str(e, file, f, "/", "resolved_config", resolved);
    if (!rc)
        rc = attr_str(e, file, f, "/", "provenance", prov);
    if (!rc)
        rc = attr_int(e, file, f, "/", "threads", threads);
    free(prov);
    return rc;
}

/* ---- files and folders ---- */

static int fsync_path(bp_err *e, const char *path, int dir)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | (dir ? O_DIRECTORY : 0));
    if (fd < 0)
        return bp_err_set(e, BP_EIO, "%s: cannot open for fsync: %s", path, strerror(errno));
    if (fsync(fd) != 0) {
        int err = errno;
        close(fd);
        return bp_err_set(e, BP_EIO, "%s: fsync failed: %s", path, strerror(err));
    }
    close(fd);
    return 0;
}

/* rename src into place after fsync'ing it, then fsync the folder holding both. */
static int commit_file(bp_err *e, const char *src, const char *dst, const char *dir)
{
    int rc = fsync_path(e, src, 0);
    if (rc)
        return rc;
    if (rename(src, dst) != 0)
        return bp_err_set(e, BP_EIO, "%s: cannot rename to %s: %s", src, dst, strerror(errno));
    return fsync_path(e, dir, 1);
}

static int mkdir_p(bp_err *e, const char *dir)
{
    char *p = bp_xstrdup(dir, e);
    if (!p)
        return BP_ENOMEM;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            int err = errno;
            free(p);
            return bp_err_set(e, BP_EIO, "%s: cannot create run folder: %s", dir, strerror(err));
        }
        *s = '/';
    }
    free(p);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return bp_err_set(e, BP_EIO, "%s: cannot create run folder: %s", dir, strerror(errno));
    struct stat st;
    if (stat(dir, &st) != 0)
        return bp_err_set(e, BP_EIO, "%s: cannot create run folder: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return bp_err_set(e, BP_EEXIST, "%s: exists and is not a folder; use -o to choose another "
                          "folder", dir);
    return 0;
}

/* Take the run folder's lock: a POSIX write lock on RUN/.lock (created if missing, never
 * through a symbolic link), held until bp_run_close. The kernel drops it when the process
 * ends, however it ends, so a killed run never blocks the next one. The file keeps the
 * holder's pid, for people; messages take the pid from the lock itself. */
static int lock_run_wait(bp_err *e, int dfd, const char *dir, int *fd_out, double wait_s)
{
    double t0 = bp_seconds();
    int fd = openat(dfd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0666);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        return bp_err_set(e, BP_EEXIST, "%s/.lock: not a regular file; bprun will not use it "
                          "as its lock: remove it, or use -o to choose another folder", dir);
    }
    if (fd < 0)
        return bp_err_set(e, BP_EIO, "%s: cannot create the lock file .lock: %s", dir,
                          errno == ELOOP ? "it is a symbolic link" : strerror(errno));
    for (int tries = 0;; tries++) {
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        if (fcntl(fd, F_SETLK, &fl) == 0)
            break;
        int err = errno;
        struct flock q = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        if ((err != EACCES && err != EAGAIN) || fcntl(fd, F_GETLK, &q) != 0) {
            close(fd);
            return bp_err_set(e, BP_EIO, "%s: cannot lock %s/.lock: %s", dir, dir,
                              strerror(err));
        }
        if (q.l_type == F_UNLCK && tries < 10)
            continue;   /* the holder exited in between: try again */
        struct timespec nap = { 0, 20000000 };
        if (bp_seconds() - t0 < wait_s) {
            nanosleep(&nap, NULL);   /* a shard or `bprun merge` holds it briefly: wait */
            tries = 0;
            continue;
        }
        close(fd);
        return bp_err_set(e, BP_ERUN, "%s: in use by another bprun (pid %ld); wait for it or "
                          "use -o", dir, (long)q.l_pid);
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || write(fd, pid, (size_t)n) != n) {
        int err = errno;
        close(fd);
        return bp_err_set(e, BP_EIO, "%s/.lock: cannot write: %s", dir, strerror(err));
    }
    *fd_out = fd;
    return 0;
}

static int has_lock_file(int dfd)
{
    struct stat st;
    return fstatat(dfd, ".lock", &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* A file bprun is about to create (truncating what is there) is absent or a regular file:
 * never written through a symbolic link, never a FIFO. */
static int not_a_file(bp_err *e, const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0 || S_ISREG(st.st_mode))
        return 0;
    return bp_err_set(e, BP_EEXIST, "%s: %s; bprun will not write through it", path,
                      S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
}

static const char not_ours_action[] = "bprun neither removes nor writes over it (nothing was "
                                      "removed): move it away, or use -o to choose another "
                                      "folder";

static int refuse_not_empty(bp_err *e, const char *dir)
{
    return bp_err_set(e, BP_EEXIST, "%s: run folder exists and is not empty; use --force to "
                      "replace it, or -o to choose another folder", dir);
}

/* A bp_run for dir (trailing slashes dropped), the folder created when missing and opened.
 * lock_fd >= 0: a lock the caller took (kept, or released on failure). */
static bp_run *run_new(const char *dir, int lock_fd, bp_err *e)
{
    if (!dir || !*dir) {
        bp_err_set(e, BP_EUSAGE, "empty run folder name");
        if (lock_fd >= 0)
            close(lock_fd);
        return NULL;
    }
    bp_run *r = bp_xcalloc(1, sizeof *r, e);
    if (!r) {
        if (lock_fd >= 0)
            close(lock_fd);
        return NULL;
    }
    r->lock_fd = lock_fd;
    r->dfd = -1;
    if (!(r->dir = bp_xstrdup(dir, e)))
        goto fail;
    for (size_t n = strlen(r->dir); n > 1 && r->dir[n - 1] == '/'; n--)
        r->dir[n - 1] = '\0';
    /* the folder's files are opened by absolute paths, so a plugin that calls chdir cannot
     * move them; every trial file's path must fit */
    char cwd[PATH_MAX];
    int rel = r->dir[0] != '/';
    if (rel && !getcwd(cwd, sizeof cwd)) {
        bp_err_set(e, BP_EIO, "%s: cannot tell the current folder: %s", r->dir, strerror(errno));
        goto fail;
    }
    size_t len = (rel ? strlen(cwd) + 1 : 0) + strlen(r->dir);
    if (len + BP_FOLDER_TAIL_MAX >= PATH_MAX) {
        bp_err_set(e, BP_EUSAGE, "%.200s...: run folder path too long (%zu bytes as an absolute "
                   "path; at most %d)", r->dir, len, PATH_MAX - 1 - BP_FOLDER_TAIL_MAX);
        goto fail;
    }
    if (!(r->path = rel ? fmt_alloc(e, "%s/%s", strcmp(cwd, "/") ? cwd : "", r->dir)
                        : bp_xstrdup(r->dir, e)))
        goto fail;
    struct stat st;
    if (stat(r->dir, &st) != 0 && mkdir_p(e, r->dir))
        goto fail;
    if ((r->dfd = bp_folder_open(r->dir, e)) < 0)
        goto fail;
    return r;
fail:
    bp_run_close(r);
    return NULL;
}

/* trials/ as a folder of its own (made when missing, never a symbolic link) */
static int make_trials(bp_run *r, bp_err *e)
{
    struct stat st;
    if (mkdirat(r->dfd, "trials", 0777) != 0 && errno != EEXIST)
        return bp_err_set(e, BP_EIO, "%s/trials: cannot create folder: %s", r->dir,
                          strerror(errno));
    if (fstatat(r->dfd, "trials", &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
        return bp_err_set(e, BP_EEXIST, "%s/trials: exists and is not a folder; %s", r->dir,
                          not_ours_action);
    return 0;
}

/* What may become of the folder: refused (bprun's names on files bprun did not write, a
 * folder bprun does not own), or, with clear, cleared of bprun's files (all of them with
 * force, a killed start's .part files without). `locked`: the second look, under the lock. */
static int check_folder(bp_run *r, int force, int locked, bp_err *e)
{
    bp_folder f;
    int rc = bp_folder_scan(r->dfd, r->dir, force, &f, e);
    if (!rc)
        rc = bp_folder_refuse_bad(&f, r->dir, not_ours_action, e);
    /* a folder that is no run folder is refused before anything (.lock) is written into it;
     * one holding a .lock goes on to the lock, which tells whether a bprun is writing there */
    if (!rc && !f.empty && !force && (locked || !has_lock_file(r->dfd)))
        rc = refuse_not_empty(e, r->dir);
    if (!rc && !f.empty && force && !f.has_index)
        rc = bp_err_set(e, BP_EEXIST, "%s: not a bprun run folder (no index.h5 that bprun "
                        "wrote); --force replaces only a run folder bprun made (nothing was "
                        "removed): use -o to choose another folder", r->dir);
    if (!rc && locked)
        rc = bp_folder_remove_ours(r->dfd, r->dir, &f, !force, e);
    if (!rc && locked && f.n_foreign) {
        char *list = bp_folder_list(r->dir, f.foreign, f.n_foreign, 3);
        free(r->kept);
        r->kept = list ? fmt_alloc(e, "--force left %zu entr%s that bprun did not write: %s",
                                   f.n_foreign, f.n_foreign == 1 ? "y" : "ies", list)
                       : NULL;
        free(list);
    }
    bp_folder_free(&f);
    return rc;
}

/* bp_run_create on a run from run_new */
static bp_run *run_create(bp_run *r, int force, bp_err *e)
{
    if (!r)
        return NULL;
    if (check_folder(r, force, 0, e) ||
        (r->lock_fd < 0 && lock_run_wait(e, r->dfd, r->dir, &r->lock_fd, 0)) ||
        check_folder(r, force, 1, e) || make_trials(r, e)) {
        bp_run_close(r);
        return NULL;
    }
    return r;
}

bp_run *bp_run_create(const char *dir, int force, bp_err *e)
{
    quiet();
    return run_create(run_new(dir, -1, e), force, e);
}

void bp_run_unlock(bp_run *r)
{
    if (r && r->lock_fd >= 0) {
        close(r->lock_fd);
        r->lock_fd = -1;
    }
}

bp_run *bp_run_attach(const char *dir, bp_err *e)
{
    quiet();
    bp_run *r = run_new(dir, -1, e);
    struct stat st;
    if (r && (fstatat(r->dfd, "trials", &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))) {
        bp_err_set(e, BP_EIO, "%s: not a run folder (no trials/ folder); is it on a file system "
                   "every rank sees?", dir);
        bp_run_close(r);
        return NULL;
    }
    return r;
}

const char *bp_run_path(const bp_run *r)
{
    return r->path;
}

const char *bp_run_kept(const bp_run *r)
{
    return r->kept;
}

const char *bp_run_dir(const bp_run *r)
{
    return r->dir;
}

void bp_run_close(bp_run *r)
{
    if (!r)
        return;
    if (r->lock_fd >= 0)
        close(r->lock_fd);   /* releases the lock */
    if (r->dfd >= 0)
        close(r->dfd);
    free(r->dir);
    free(r->path);
    free(r->kept);
    free(r);
}

/* ---- trial files ---- */

static int close_trial(bp_trial_file *t)
{
    int bad = 0;
    for (size_t c = 0; t->dsets && c < t->n_columns; c++)
        if (t->dsets[c] >= 0)
            bad |= H5Dclose(t->dsets[c]) < 0;
    if (t->epochs >= 0)
        bad |= H5Gclose(t->epochs) < 0;
    if (t->mspace >= 0)
        bad |= H5Sclose(t->mspace) < 0;
    if (t->file >= 0)
        bad |= H5Fclose(t->file) < 0;
    t->epochs = t->mspace = t->file = H5I_INVALID_HID;
    return bad ? -1 : 0;
}

static void free_trial(bp_trial_file *t)
{
    free(t->pend);
    free(t->colbuf);
    free(t->dsets);
    free(t->part);
    free(t->final);
    free(t->trials_dir);
    free(t);
}

/* BPRUN_FLUSH_MS: unset or empty is BP_FLUSH_MS_DEFAULT; else an integer 0 .. 60000 (0: flush
 * every row). */
static int flush_interval(double *out, bp_err *e)
{
    const char *v = getenv("BPRUN_FLUSH_MS");
    *out = BP_FLUSH_MS_DEFAULT / 1000.0;
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    long ms = strtol(v, &end, 10);
    if (errno || *end || ms < 0 || ms > 60000)
        return bp_err_set(e, BP_EUSAGE,
                          "BPRUN_FLUSH_MS: expected milliseconds from 0 to 60000 (got '%s')", v);
    *out = (double)ms / 1000.0;
    return 0;
}

/* Write the pending rows to /epochs and flush: they are then acknowledged. */
static int write_pending(bp_trial_file *t, bp_err *e)
{
    if (!t->n_pend)
        return 0;
    hsize_t start = t->rows, k = t->n_pend, n = t->rows + k;
    hid_t ms = k == 1 ? t->mspace : H5Screate_simple(1, &k, NULL);
    if (ms < 0)
        return h5fail(e, t->part, "/epochs", "cannot append a row");
    int rc = 0;
    for (size_t c = 0; c < t->n_columns && !rc; c++) {
        for (size_t i = 0; i < t->n_pend; i++)
            t->colbuf[i] = t->pend[i * t->n_columns + c];
        hid_t fs = H5I_INVALID_HID;
        if (H5Dset_extent(t->dsets[c], &n) < 0 || (fs = H5Dget_space(t->dsets[c])) < 0 ||
            H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &k, NULL) < 0 ||
            H5Dwrite(t->dsets[c], H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, t->colbuf) < 0) {
            char obj[64];
            snprintf(obj, sizeof obj, "/epochs (column %zu)", c);
            rc = h5fail(e, t->part, obj, "cannot append a row");
        }
        if (fs >= 0)
            H5Sclose(fs);
    }
    if (ms != t->mspace)
        H5Sclose(ms);
    if (rc)
        return rc;
    if (H5Fflush(t->file, H5F_SCOPE_LOCAL) < 0)
        return h5fail(e, t->part, NULL, "cannot flush");
    t->rows = n;
    t->n_pend = 0;
    t->last_flush = t->flush_s > 0 ? bp_seconds_coarse() : 0.0;
    return 0;
}

static int good_column(const char *c)
{
    return c && *c && !strchr(c, '/') && strcmp(c, ".") != 0;
}

bp_trial_file *bp_trial_create(bp_run *r, const bp_trial_meta *m, bp_err *e)
{
    quiet();
    bp_trial_file *t = bp_xcalloc(1, sizeof *t, e);
    if (!t)
        return NULL;
    t->file = t->epochs = t->mspace = H5I_INVALID_HID;
    hid_t fapl = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, space = H5I_INVALID_HID;
    if (flush_interval(&t->flush_s, e)) {
        free(t);
        return NULL;
    }
    t->first_s = t->flush_s < BP_FLUSH_FIRST_MS / 1000.0 ? t->flush_s : BP_FLUSH_FIRST_MS / 1000.0;
    t->created = t->last_flush = bp_seconds_coarse();
    if (m->epochs_hint > 0 && m->n_columns) { /* the rows of a short trial, kept until D */
        size_t cap = m->epochs_hint < KEEP_HINT_MAX ? (size_t)m->epochs_hint : KEEP_HINT_MAX;
        cap = cap < 64 ? 64 : cap;
        t->pend = malloc(cap * m->n_columns * sizeof *t->pend);
        t->colbuf = malloc(cap * sizeof *t->colbuf);
        if (!t->pend || !t->colbuf) {
            bp_err_set(e, BP_ENOMEM, "out of memory for the epoch rows");
            free(t->pend);
            free(t->colbuf);
            free(t);
            return NULL;
        }
        t->cap_pend = cap;
    }
    t->trials_dir = fmt_alloc(e, "%s/trials", r->path);
    t->final = fmt_alloc(e, "%s/trials/%04u.h5", r->path, m->trial);
    t->part = fmt_alloc(e, "%s/trials/%04u.h5.part", r->path, m->trial);
    if (!t->trials_dir || !t->final || !t->part)
        goto fail;
    for (size_t c = 0; c < m->n_columns; c++)
        if (!good_column(m->columns[c])) {
            bp_err_set(e, BP_EIO, "%s: bad epoch column name '%s'", t->part,
                       m->columns[c] ? m->columns[c] : "(null)");
            goto fail;
        }
    if (not_a_file(e, t->part))
        goto fail;
    if (!m->replace && access(t->final, F_OK) == 0) {
        bp_err_set(e, BP_EEXIST, "%s: trial file exists; it is never overwritten", t->final);
        goto fail;
    }
    t->n_columns = m->n_columns;
    t->dsets = bp_xcalloc(m->n_columns ? m->n_columns : 1, sizeof *t->dsets, e);
    if (!t->dsets)
        goto fail;
    for (size_t c = 0; c < m->n_columns; c++)
        t->dsets[c] = H5I_INVALID_HID;

    /* No HDF5 file lock: a lock held for the whole trial would stop anyone from reading the
     * history while it trains. Trial files are private to the process that writes them. Page
     * alignment: TORN_PAGE. */
    if ((fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0 || H5Pset_file_locking(fapl, 0, 1) < 0 ||
        H5Pset_alignment(fapl, TORN_MIN, TORN_PAGE) < 0 ||
        (t->file = H5Fcreate(t->part, H5F_ACC_TRUNC, H5P_DEFAULT, fapl)) < 0) {
        h5fail(e, t->part, NULL, "cannot create trial file");
        goto fail;
    }
    char started[32];
    iso_now(started, sizeof started);
    if (attr_common(e, t->part, t->file, m->config_text, m->resolved_config, m->threads) ||
        attr_u64(e, t->part, t->file, "/", "trial", m->trial) ||
        attr_u64(e, t->part, t->file, "/", "seed", m->seed) ||
        attr_str(e, t->part, t->file, "/", "status", "running") ||
        attr_str(e, t->part, t->file, "/", "started", started))
        goto fail;
    if (m->continued_from &&
        (attr_str(e, t->part, t->file, "/", "continued_from", m->continued_from) ||
         attr_int(e, t->part, t->file, "/", "continued_at", m->continued_at)))
        goto fail;
    if ((t->epochs = H5Gcreate2(t->file, "epochs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
        h5fail(e, t->part, "/epochs", "cannot create group");
        goto fail;
    }
    if (attr_strs(e, t->part, t->epochs, "/epochs", "columns", m->columns, m->n_columns))
        goto fail;
    hsize_t zero = 0, unlim = H5S_UNLIMITED, chunk = EPOCH_CHUNK, one = 1;
    while (chunk < EPOCH_CHUNK_MAX && m->epochs_hint > 0 && chunk * 8 < (hsize_t)m->epochs_hint)
        chunk *= 2;
    if ((dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0 || H5Pset_chunk(dcpl, 1, &chunk) < 0 ||
        (space = H5Screate_simple(1, &zero, &unlim)) < 0 ||
        (t->mspace = H5Screate_simple(1, &one, NULL)) < 0) {
        h5fail(e, t->part, "/epochs", "cannot set up datasets");
        goto fail;
    }
    for (size_t c = 0; c < m->n_columns; c++) {
        t->dsets[c] = H5Dcreate2(t->epochs, m->columns[c], H5T_IEEE_F64LE, space, H5P_DEFAULT,
                                 dcpl, H5P_DEFAULT);
        if (t->dsets[c] < 0) {
            char obj[256];
            snprintf(obj, sizeof obj, "/epochs/%s", m->columns[c]);
            h5fail(e, t->part, obj, "cannot create dataset (duplicate column?)");
            goto fail;
        }
    }
    if (H5Fflush(t->file, H5F_SCOPE_LOCAL) < 0) {
        h5fail(e, t->part, NULL, "cannot flush");
        goto fail;
    }
    H5Sclose(space);
    H5Pclose(dcpl);
    H5Pclose(fapl);
    return t;
fail:
    if (space >= 0)
        H5Sclose(space);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (fapl >= 0)
        H5Pclose(fapl);
    close_trial(t);
    free_trial(t);
    return NULL;
}

int bp_trial_append(bp_trial_file *t, const double *row, bp_err *e)
{
    if (t->n_pend == t->cap_pend) {
        size_t cap = t->cap_pend ? 2 * t->cap_pend : 64;
        double *p = realloc(t->pend, cap * (t->n_columns ? t->n_columns : 1) * sizeof *p);
        if (!p)
            return bp_err_set(e, BP_ENOMEM, "%s: out of memory for the epoch rows", t->part);
        t->pend = p;
        double *cb = realloc(t->colbuf, cap * sizeof *cb);
        if (!cb)
            return bp_err_set(e, BP_ENOMEM, "%s: out of memory for the epoch rows", t->part);
        t->colbuf = cb;
        t->cap_pend = cap;
    }
    memcpy(t->pend + t->n_pend * t->n_columns, row, t->n_columns * sizeof *row);
    t->n_pend++;
    if (t->flush_s <= 0)
        goto write;
    /* no row is written before the file is first_s old (first_s <= flush_s: no row is older
     * than flush_s then) */
    if (!t->started) {
        if (bp_seconds_coarse() - t->created < t->first_s)
            return 0;
        t->started = 1;
    }
    /* acknowledged: every row older than flush_s, and at least half of all rows */
    if (t->n_pend >= t->rows || bp_seconds_coarse() - t->last_flush >= t->flush_s)
        goto write;
    return 0;
write:
    quiet(); /* only when HDF5 is called: it takes HDF5's global lock */
    return write_pending(t, e);
}

int bp_trial_flush(bp_trial_file *t, bp_err *e)
{
    quiet();
    return write_pending(t, e);
}

uint64_t bp_trial_rows_acked(const bp_trial_file *t)
{
    return (uint64_t)t->rows;
}

static int write_dataset(bp_err *e, const char *file, hid_t loc, const char *obj,
                         const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims,
                         const void *buf)
{
    hid_t s = H5Screate_simple(rank, dims, NULL), d = H5I_INVALID_HID;
    int rc = 0;
    if (s < 0 || (d = H5Dcreate2(loc, name, ftype, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        rc = h5fail(e, file, obj, "cannot write dataset");
    if (d >= 0)
        H5Dclose(d);
    if (s >= 0)
        H5Sclose(s);
    return rc;
}

static int save_layer(bp_err *e, const char *file, hid_t model, const bp_model *m, size_t l)
{
    const bp_act *a = &m->act[l];
    int out_softmax = m->softmax && l + 1 == m->n_layers;
    const char *name = out_softmax ? "softmax" : a->name;
    char obj[64], gname[32];
    snprintf(gname, sizeof gname, "layer_%zu", l);
    snprintf(obj, sizeof obj, "/model/%s", gname);
    if (!name)
        return bp_err_set(e, BP_EIO, "%s#%s: layer %zu has no activation name", file, obj, l);
    size_t n_hp = out_softmax ? 0 : a->n_hp;
    if (n_hp > BP_MAX_HPARAMS)
        return bp_err_set(e, BP_EIO, "%s#%s: %zu hyperparameters (at most %d)", file, obj, n_hp,
                          BP_MAX_HPARAMS);
    if (n_hp && (!a->fn || a->fn->n_hparams != n_hp))
        return bp_err_set(e, BP_EIO, "%s#%s: activation %s has %zu hyperparameter values but "
                          "declares %u names", file, obj, name, n_hp,
                          a->fn ? (unsigned)a->fn->n_hparams : 0u);
    const char *names[BP_MAX_HPARAMS];
    for (size_t i = 0; i < n_hp; i++)
        names[i] = a->fn->hparams[i].name;
    hid_t g = H5Gcreate2(model, gname, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return h5fail(e, file, obj, "cannot create group");
    int rc = attr_str(e, file, g, obj, "activation", name);
    if (!rc)
        rc = attr_strs(e, file, g, obj, "hp_names", names, n_hp);
    if (!rc)
        rc = put_attr(e, file, g, obj, "hp", H5T_NATIVE_DOUBLE, n_hp, 0, a->hp);
    H5Gclose(g);
    return rc;
}

static int save_optimizer(bp_err *e, const char *file, hid_t model, const bp_model *m,
                          const bp_opt_record *o)
{
    const char *obj = "/model/optimizer";
    hid_t g = H5Gcreate2(model, "optimizer", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return h5fail(e, file, obj, "cannot create group");
    int rc = attr_str(e, file, g, obj, "name", o->name);
    if (!rc)
        rc = attr_u64(e, file, g, obj, "step", o->step);
    if (!rc)
        rc = attr_strs(e, file, g, obj, "hp_names", o->hp_names, o->n_hp);
    if (!rc)
        rc = put_attr(e, file, g, obj, "hp", H5T_NATIVE_DOUBLE, o->n_hp, 0,
                      o->n_hp ? (const void *)o->hp : (const void *)"");
    if (!rc)
        rc = attr_u64(e, file, g, obj, "n_state", o->n_state);
    if (!rc && o->n_state) {
        if (!o->state)
            rc = bp_err_set(e, BP_EIO, "%s#%s: n_state is %zu but no state was given", file, obj,
                            o->n_state);
        else {
            hsize_t dims[2] = { o->n_state, m->n_params };
            rc = write_dataset(e, file, g, "/model/optimizer/state", "state", H5T_IEEE_F32LE,
                               H5T_NATIVE_FLOAT, 2, dims, o->state);
        }
    }
    H5Gclose(g);
    return rc;
}

static int save_schedule(bp_err *e, const char *file, hid_t model, const bp_opt_record *o)
{
    const char *obj = "/model/schedule";
    hid_t g = H5Gcreate2(model, "schedule", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return h5fail(e, file, obj, "cannot create group");
    int rc = attr_str(e, file, g, obj, "name", o->schedule);
    if (!rc)
        rc = attr_strs(e, file, g, obj, "state_names", o->sched_names, o->n_sched);
    if (!rc)
        rc = put_attr(e, file, g, obj, "state", H5T_NATIVE_DOUBLE, o->n_sched, 0,
                      o->n_sched ? (const void *)o->sched_state : (const void *)"");
    H5Gclose(g);
    return rc;
}

int bp_trial_save_model(bp_trial_file *t, const bp_model *m, const bp_opt_record *o, bp_err *e)
{
    quiet();
    const char *file = t->part;
    int rc0 = write_pending(t, e);
    if (rc0)
        return rc0;
    if (H5Lexists(t->file, "model", H5P_DEFAULT) > 0 && H5Ldelete(t->file, "model", H5P_DEFAULT) < 0)
        return h5fail(e, file, "/model", "cannot replace the earlier saved model");
    hid_t g = H5Gcreate2(t->file, "model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return h5fail(e, file, "/model", "cannot create group");
    const char *acts[m->n_layers ? m->n_layers : 1];
    for (size_t l = 0; l < m->n_layers; l++)
        acts[l] = (m->softmax && l + 1 == m->n_layers) ? "softmax" : m->act[l].name;
    const char *loss = (unsigned)m->loss < BP_LOSS_COUNT ? bp_loss_names[m->loss] : NULL;
    int rc = 0;
    if (!loss)
        rc = bp_err_set(e, BP_EIO, "%s#/model: unknown loss %d", file, (int)m->loss);
    if (!rc)
        rc = put_attr(e, file, g, "/model", "sizes", H5T_NATIVE_INT, m->n_layers + 1, 0, m->sizes);
    if (!rc)
        rc = attr_str(e, file, g, "/model", "loss", loss);
    if (!rc)
        rc = attr_str(e, file, g, "/model", "output", acts[m->n_layers - 1]);
    if (!rc)
        rc = attr_strs(e, file, g, "/model", "activations", acts, m->n_layers);
    for (size_t l = 0; !rc && l < m->n_layers; l++)
        rc = save_layer(e, file, g, m, l);
    hsize_t n = m->n_params;
    if (!rc)
        rc = write_dataset(e, file, g, "/model/params", "params", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                           1, &n, m->params);
    if (!rc && o)
        rc = save_optimizer(e, file, g, m, o);
    if (!rc && o && o->schedule)
        rc = save_schedule(e, file, g, o);
    H5Gclose(g);
    if (!rc && H5Fflush(t->file, H5F_SCOPE_LOCAL) < 0)
        rc = h5fail(e, file, NULL, "cannot flush");
    return rc;
}

int bp_trial_save_extras(bp_trial_file *t, const double *mean, const double *std, size_t d,
                         double test_loss, double test_accuracy, bp_err *e)
{
    quiet();
    const char *file = t->part;
    int rc = write_pending(t, e);
    if (!rc && mean) {
        hid_t g = H5Gopen2(t->file, "model", H5P_DEFAULT);
        if (g < 0)
            return h5fail(e, file, "/model", "no saved model to add the standardization to");
        hsize_t n = d;
        rc = write_dataset(e, file, g, "/model/standardize_mean", "standardize_mean",
                           H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, mean);
        if (!rc)
            rc = write_dataset(e, file, g, "/model/standardize_std", "standardize_std",
                               H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, std);
        H5Gclose(g);
    }
    if (!rc && !isnan(test_loss))
        rc = attr_dbl(e, file, t->file, "/", "test_loss", test_loss);
    if (!rc && !isnan(test_accuracy))
        rc = attr_dbl(e, file, t->file, "/", "test_accuracy", test_accuracy);
    if (!rc && H5Fflush(t->file, H5F_SCOPE_LOCAL) < 0)
        rc = h5fail(e, file, NULL, "cannot flush");
    return rc;
}

int bp_trial_set_int(bp_trial_file *t, const char *name, int value, bp_err *e)
{
    quiet();
    int rc = write_pending(t, e);
    return rc ? rc : attr_int(e, t->part, t->file, "/", name, value);
}

int bp_trial_set_double(bp_trial_file *t, const char *name, double value, bp_err *e)
{
    quiet();
    int rc = write_pending(t, e);
    return rc ? rc : attr_dbl(e, t->part, t->file, "/", name, value);
}

int bp_trial_set_str(bp_trial_file *t, const char *name, const char *value, bp_err *e)
{
    quiet();
    int rc = write_pending(t, e);
    return rc ? rc : attr_str(e, t->part, t->file, "/", name, value);
}

int bp_trial_set_group_doubles(bp_trial_file *t, const char *group, const char *const *names,
                               const double *values, size_t n, bp_err *e)
{
    quiet();
    int rc0 = write_pending(t, e);
    if (rc0)
        return rc0;
    htri_t has = H5Lexists(t->file, group, H5P_DEFAULT);
    if (has < 0)
        return h5fail(e, t->part, group, "cannot look up group");
    hid_t g = has ? H5Gopen2(t->file, group, H5P_DEFAULT)
                  : H5Gcreate2(t->file, group, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return h5fail(e, t->part, group, has ? "cannot open group" : "cannot create group");
    int rc = BP_OK;
    for (size_t i = 0; i < n && !rc; i++)
        rc = attr_dbl(e, t->part, g, group, names[i], values[i]);
    H5Gclose(g);
    return rc;
}

int bp_trial_set_group_array(bp_trial_file *t, const char *group, const char *name,
                             const double *values, size_t n, bp_err *e)
{
    quiet();
    htri_t has = H5Lexists(t->file, group, H5P_DEFAULT);
    hid_t g = H5I_INVALID_HID;
    if (has > 0) {
        g = H5Gopen2(t->file, group, H5P_DEFAULT);
    } else if (has == 0) {
        hid_t lp = H5Pcreate(H5P_LINK_CREATE);
        if (lp >= 0 && H5Pset_create_intermediate_group(lp, 1) >= 0)
            g = H5Gcreate2(t->file, group, lp, H5P_DEFAULT, H5P_DEFAULT);
        if (lp >= 0)
            H5Pclose(lp);
    }
    if (g < 0)
        return h5fail(e, t->part, group, "cannot create group");
    hsize_t dim = n;
    int rc = write_dataset(e, t->part, g, group, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &dim,
                           values);
    H5Gclose(g);
    return rc;
}

int bp_trial_finish(bp_trial_file *t, const char *status, const char *message, int epochs_done,
                    double wall_seconds, bp_err *e)
{
    quiet();
    if (!t)
        return bp_err_set(e, BP_EIO, "bp_trial_finish: no trial file");
    char finished[32];
    iso_now(finished, sizeof finished);
    const char *f = t->part;
    int rc = write_pending(t, e);
    if (!rc)
        rc = attr_str(e, f, t->file, "/", "status", status ? status : "unknown");
    if (!rc)
        rc = attr_str(e, f, t->file, "/", "message", message);
    if (!rc)
        rc = attr_int(e, f, t->file, "/", "epochs_done", epochs_done);
    if (!rc)
        rc = attr_dbl(e, f, t->file, "/", "wall_seconds", wall_seconds);
    if (!rc)
        rc = attr_str(e, f, t->file, "/", "finished", finished);
    if (close_trial(t) < 0 && !rc)
        rc = h5fail(e, f, NULL, "cannot close trial file");
    if (!rc)
        rc = commit_file(e, t->part, t->final, t->trials_dir);
    free_trial(t);
    return rc;
}

void bp_trial_abandon(bp_trial_file *t)
{
    if (!t)
        return;
    quiet();
    bp_err e;
    if (t->file >= 0)
        write_pending(t, &e);
    close_trial(t);
    free_trial(t);
}

/* ---- the index ---- */

typedef struct index_row {
    uint32_t trial;
    uint64_t seed;
    char status[STATUS_LEN];
    int32_t epochs;
    double final_loss, final_val_loss, final_accuracy, final_val_accuracy, best_val_loss;
    double wall_seconds, final_test_loss, final_test_accuracy;
    int32_t epochs_to_target;
    char verdict[STATUS_LEN];
    double samples_per_second, peak_rss_bytes, work_bytes;
} index_row;

static hid_t index_row_type(int file)
{
    hid_t st = H5Tcopy(H5T_C_S1), t = H5I_INVALID_HID;
    if (st < 0 || H5Tset_size(st, STATUS_LEN) < 0 || H5Tset_strpad(st, H5T_STR_NULLPAD) < 0)
        goto out;
    if ((t = H5Tcreate(H5T_COMPOUND, sizeof(index_row))) < 0)
        goto out;
    struct { const char *name; size_t off; hid_t mem, disk; } f[] = {
        { "trial", offsetof(index_row, trial), H5T_NATIVE_UINT32, H5T_STD_U32LE },
        { "seed", offsetof(index_row, seed), H5T_NATIVE_UINT64, H5T_STD_U64LE },
        { "status", offsetof(index_row, status), st, st },
        { "epochs", offsetof(index_row, epochs), H5T_NATIVE_INT32, H5T_STD_I32LE },
        { "final_loss", offsetof(index_row, final_loss), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE },
        { "final_val_loss", offsetof(index_row, final_val_loss), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE },
        { "final_accuracy", offsetof(index_row, final_accuracy), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE },
        { "final_val_accuracy", offsetof(index_row, final_val_accuracy), H5T_NATIVE_DOUBLE,
          H5T_IEEE_F64LE },
        { "best_val_loss", offsetof(index_row, best_val_loss), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE },
        { "wall_seconds", offsetof(index_row, wall_seconds), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE },
        { "final_test_loss", offsetof(index_row, final_test_loss), H5T_NATIVE_DOUBLE,
          H5T_IEEE_F64LE },
        { "final_test_accuracy", offsetof(index_row, final_test_accuracy), H5T_NATIVE_DOUBLE,
          H5T_IEEE_F64LE },
        { "epochs_to_target", offsetof(index_row, epochs_to_target), H5T_NATIVE_INT32,
          H5T_STD_I32LE },
        { "samples_per_second", offsetof(index_row, samples_per_second), H5T_NATIVE_DOUBLE,
          H5T_IEEE_F64LE },
        { "peak_rss_bytes", offsetof(index_row, peak_rss_bytes), H5T_NATIVE_DOUBLE,
          H5T_IEEE_F64LE },
        { "work_bytes", offsetof(index_row, work_bytes), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE },
        { "verdict", offsetof(index_row, verdict), st, st },
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (H5Tinsert(t, f[i].name, f[i].off, file ? f[i].disk : f[i].mem) < 0) {
            H5Tclose(t);
            t = H5I_INVALID_HID;
            goto out;
        }
    /* on disk: packed, little-endian, same field names */
    if (file && H5Tpack(t) < 0) {
        H5Tclose(t);
        t = H5I_INVALID_HID;
    }
out:
    if (st >= 0)
        H5Tclose(st);
    return t;
}

static int write_summary(bp_err *e, const char *file, hid_t f, const bp_trial_summary *rows,
                         size_t n)
{
    index_row *buf = bp_xcalloc(n ? n : 1, sizeof *buf, e);
    if (!buf)
        return BP_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const bp_trial_summary *s = &rows[i];
        const char *st = s->status ? s->status : "";
        if (strlen(st) > STATUS_LEN)
            rc = bp_err_set(e, BP_EIO, "%s#/summary: trial %u: status '%s' is longer than %d "
                            "bytes", file, s->trial, st, STATUS_LEN);
        buf[i] = (index_row){ .trial = s->trial, .seed = s->seed, .epochs = s->epochs,
                              .final_loss = s->final_loss, .final_val_loss = s->final_val_loss,
                              .final_accuracy = s->final_accuracy,
                              .final_val_accuracy = s->final_val_accuracy,
                              .best_val_loss = s->best_val_loss,
                              .wall_seconds = s->wall_seconds,
                              .final_test_loss = s->final_test_loss,
                              .final_test_accuracy = s->final_test_accuracy,
                              .epochs_to_target = s->epochs_to_target,
                              .samples_per_second = s->samples_per_second,
                              .peak_rss_bytes = s->peak_rss_bytes,
                              .work_bytes = s->work_bytes };
        memcpy(buf[i].status, st, strlen(st) < STATUS_LEN ? strlen(st) : STATUS_LEN);
        size_t vl = strnlen(s->verdict, sizeof s->verdict);
        memcpy(buf[i].verdict, s->verdict, vl < STATUS_LEN ? vl : STATUS_LEN);
    }
    hid_t mt = H5I_INVALID_HID, ft = H5I_INVALID_HID;
    if (!rc) {
        mt = index_row_type(0);
        ft = index_row_type(1);
        hsize_t dim = n;
        if (mt < 0 || ft < 0)
            rc = h5fail(e, file, "/summary", "cannot make the row type");
        else
            rc = write_dataset(e, file, f, "/summary", "summary", ft, mt, 1, &dim, buf);
    }
    if (mt >= 0)
        H5Tclose(mt);
    if (ft >= 0)
        H5Tclose(ft);
    free(buf);
    return rc;
}

static int write_links(bp_err *e, const char *file, hid_t f, const bp_trial_summary *rows,
                       size_t n)
{
    hid_t g = H5Gcreate2(f, "trials", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return h5fail(e, file, "/trials", "cannot create group");
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char name[32], target[48], obj[48];
        snprintf(name, sizeof name, "%04u", rows[i].trial);
        snprintf(target, sizeof target, "trials/%04u.h5", rows[i].trial);
        snprintf(obj, sizeof obj, "/trials/%s", name);
        if (H5Lcreate_external(target, "/", g, name, H5P_DEFAULT, H5P_DEFAULT) < 0)
            rc = h5fail(e, file, obj, "cannot create link (trial listed twice?)");
    }
    H5Gclose(g);
    return rc;
}

static int write_params(bp_err *e, const char *file, hid_t f, const bp_run *r,
                        const bp_trial_summary *rows, size_t n)
{
    size_t na = r->n_axes;
    const char **buf = bp_xcalloc(n * na > 0 ? n * na : 1, sizeof *buf, e);
    if (!buf)
        return BP_ENOMEM;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < na; j++)
            buf[i * na + j] = r->params[rows[i].trial][j];
    hid_t t = vlstr_type();
    hsize_t dims[2] = { n, na };
    int rc = t < 0 ? h5fail(e, file, "/params", "cannot make string type")
                   : write_dataset(e, file, f, "/params", "params", t, t, 2, dims, buf);
    if (t >= 0)
        H5Tclose(t);
    free(buf);
    return rc;
}

void bp_run_set_race(bp_run *r, const char *text)
{
    r->race = text;
}

void bp_run_set_sweep(bp_run *r, const char *hash, const char *table, size_t n_axes,
                      char *const *axes, char *const *const *params)
{
    r->hash = hash;
    r->table = table;
    r->n_axes = n_axes;
    r->axes = axes;
    r->params = params;
}

/* Added with diagnostics: /minima (docs/FORMAT.md), once every trial has finished and some
 * completed trial has a verdict: the distinct minima of each sweep point (minima.h). */
static int write_minima(bp_err *e, const char *file, hid_t f, const bp_run *r,
                        const bp_trial_summary *rows, size_t n)
{
    size_t m = 0, n1 = n ? n : 1;
    for (size_t i = 0; i < n; i++)
        if (!rows[i].status || !strcmp(rows[i].status, "pending") ||
            !strcmp(rows[i].status, "running"))
            return 0;
    unsigned *ids = bp_xcalloc(n1, sizeof *ids, e);
    size_t *point = bp_xcalloc(n1, sizeof *point, e);
    int *mins = bp_xcalloc(n1, sizeof *mins, e);
    double *loss = bp_xcalloc(n1, sizeof *loss, e);
    int rc = ids && point && mins && loss ? 0 : BP_ENOMEM;
    for (size_t i = 0; i < n && !rc; i++) {
        if (strcmp(rows[i].status, "completed") || !rows[i].verdict[0])
            continue;
        size_t k = 0; /* the point: the first trial with the same swept values */
        while (k < i && r->params && r->n_axes) {
            size_t j = 0;
            while (j < r->n_axes && !strcmp(r->params[rows[k].trial][j], r->params[rows[i].trial][j]))
                j++;
            if (j == r->n_axes)
                break;
            k++;
        }
        ids[m] = rows[i].trial;
        point[m++] = r->params && r->n_axes ? rows[k].trial : rows[0].trial;
    }
    int got = rc ? rc : bp_minima_of_run(r->path, ids, point, m, mins, loss, e);
    if (got < 0)
        rc = got;
    if (!rc && got > 0) {
        size_t q = 0;
        uint32_t *tid = bp_xcalloc((size_t)got, sizeof *tid, e), *pt = bp_xcalloc((size_t)got, sizeof *pt, e);
        int32_t *mn = bp_xcalloc((size_t)got, sizeof *mn, e);
        double *ls = bp_xcalloc((size_t)got, sizeof *ls, e);
        rc = tid && pt && mn && ls ? 0 : BP_ENOMEM;
        for (size_t i = 0; i < m && !rc; i++)
            if (mins[i] >= 0) {
                tid[q] = ids[i];
                pt[q] = (uint32_t)point[i];
                mn[q] = mins[i] + 1;
                ls[q++] = loss[i];
            }
        hid_t g = rc ? H5I_INVALID_HID : H5Gcreate2(f, "/minima", H5P_DEFAULT, H5P_DEFAULT,
                                                   H5P_DEFAULT);
        if (!rc && g < 0)
            rc = h5fail(e, file, "/minima", "cannot create group");
        hsize_t dim = q;
        if (!rc)
            rc = write_dataset(e, file, g, "/minima", "trial", H5T_STD_U32LE, H5T_NATIVE_UINT32, 1,
                               &dim, tid);
        if (!rc)
            rc = write_dataset(e, file, g, "/minima", "point", H5T_STD_U32LE, H5T_NATIVE_UINT32, 1,
                               &dim, pt);
        if (!rc)
            rc = write_dataset(e, file, g, "/minima", "minimum", H5T_STD_I32LE, H5T_NATIVE_INT32, 1,
                               &dim, mn);
        if (!rc)
            rc = write_dataset(e, file, g, "/minima", "loss", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1,
                               &dim, ls);
        if (g >= 0)
            H5Gclose(g);
        free(tid);
        free(pt);
        free(mn);
        free(ls);
    }
    free(ids);
    free(point);
    free(mins);
    free(loss);
    return rc;
}

int bp_run_write_index(bp_run *r, const char *config_text, const char *resolved_config,
                       const bp_trial_summary *rows, size_t n, int threads, bp_err *e)
{
    quiet();
    char *part = fmt_alloc(e, "%s/index.h5.part", r->path);
    char *final = fmt_alloc(e, "%s/index.h5", r->path);
    int rc = (part && final) ? not_a_file(e, part) : BP_ENOMEM;
    hid_t f = H5I_INVALID_HID;
    if (!rc && (f = H5Fcreate(part, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        rc = h5fail(e, part, NULL, "cannot create index file");
    char created[32];
    iso_now(created, sizeof created);
    if (!rc)
        rc = attr_common(e, part, f, config_text, resolved_config, threads);
    if (!rc)
        rc = attr_u64(e, part, f, "/", "n_trials", n);
    if (!rc)
        rc = attr_str(e, part, f, "/", "created", created);
    if (!rc && r->hash)
        rc = attr_str(e, part, f, "/", "sweep_hash", r->hash);
    if (!rc && r->table)
        rc = attr_str(e, part, f, "/", "sweep_table", r->table);
    if (!rc && r->hash)
        rc = attr_strs(e, part, f, "/", "axes", (const char *const *)r->axes, r->n_axes);
    if (!rc && r->race)
        rc = attr_str(e, part, f, "/", "race", r->race);
    if (!rc)
        rc = write_summary(e, part, f, rows, n);
    if (!rc && r->params && r->n_axes)
        rc = write_params(e, part, f, r, rows, n);
    if (!rc)
        rc = write_links(e, part, f, rows, n);
    if (!rc)
        rc = write_minima(e, part, f, r, rows, n);
    if (f >= 0 && H5Fclose(f) < 0 && !rc)
        rc = h5fail(e, part, NULL, "cannot close index file");
    if (!rc)
        rc = commit_file(e, part, final, r->path);
    free(part);
    free(final);
    return rc;
}

/* ---- reading a saved model back ---- */

/* Reads attribute name of loc as n items of memtype (1-D or scalar); *out malloc'd. */
static int get_attr(bp_err *e, const char *where, hid_t loc, const char *name, H5T_class_t cls,
                    hid_t memtype, size_t size, void **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (H5Aexists(loc, name) <= 0)
        return bp_err_set(e, BP_EIO, "%s: attribute '%s' missing", where, name);
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT), t = H5I_INVALID_HID, s = H5I_INVALID_HID;
    int rc = 0;
    H5T_class_t c = H5T_NO_CLASS;
    if (a < 0 || (t = H5Aget_type(a)) < 0 || (s = H5Aget_space(a)) < 0) {
        rc = h5fail(e, where, NULL, "cannot open attribute");
        goto out;
    }
    c = H5Tget_class(t);
    int rank = H5Sget_simple_extent_ndims(s);
    hssize_t np = H5Sget_simple_extent_npoints(s);
    if (c != cls && !(cls == H5T_FLOAT && c == H5T_INTEGER)) {
        rc = bp_err_set(e, BP_EIO, "%s: attribute '%s' has the wrong type", where, name);
        goto out;
    }
    if (rank > 1 || np < 0) {
        rc = bp_err_set(e, BP_EIO, "%s: attribute '%s' is not a list", where, name);
        goto out;
    }
    if (np == 0 || H5Sget_simple_extent_type(s) == H5S_NULL)
        goto out;
    if (!(*out = bp_xcalloc((size_t)np, size, e))) {
        rc = BP_ENOMEM;
        goto out;
    }
    if (H5Aread(a, memtype, *out) < 0) {
        char what[96];
        snprintf(what, sizeof what, "cannot read attribute '%s'", name);
        rc = h5fail(e, where, NULL, what);
        free(*out);
        *out = NULL;
        goto out;
    }
    *n = (size_t)np;
out:
    if (s >= 0)
        H5Sclose(s);
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    return rc;
}

static void free_strs(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* String attributes, variable-length (what bprun writes) or fixed-length. */
static int get_strs(bp_err *e, const char *where, hid_t loc, const char *name, char ***out,
                    size_t *n)
{
    *out = NULL;
    *n = 0;
    if (H5Aexists(loc, name) <= 0)
        return bp_err_set(e, BP_EIO, "%s: attribute '%s' missing", where, name);
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t ft = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID;
    if (ft < 0 || H5Tget_class(ft) != H5T_STRING) {
        if (ft >= 0)
            H5Tclose(ft);
        if (a >= 0)
            H5Aclose(a);
        return bp_err_set(e, BP_EIO, "%s: attribute '%s' is not text", where, name);
    }
    htri_t vl = H5Tis_variable_str(ft);
    size_t fsize = H5Tget_size(ft);
    H5T_cset_t cset = H5Tget_cset(ft);
    H5Tclose(ft);
    H5Aclose(a);
    hid_t mt = H5Tcopy(H5T_C_S1);
    if (mt < 0 || H5Tset_size(mt, vl > 0 ? H5T_VARIABLE : fsize + 1) < 0 ||
        H5Tset_cset(mt, cset) < 0) {
        if (mt >= 0)
            H5Tclose(mt);
        return h5fail(e, where, NULL, "cannot make a string type");
    }
    void *raw = NULL;
    size_t k = 0;
    int rc = get_attr(e, where, loc, name, H5T_STRING, mt, vl > 0 ? sizeof(char *) : fsize + 1,
                      &raw, &k);
    char **v = NULL;
    if (!rc && !(v = bp_xcalloc(k ? k : 1, sizeof *v, e)))
        rc = BP_ENOMEM;
    for (size_t i = 0; !rc && i < k; i++) {
        const char *s = vl > 0 ? ((char **)raw)[i] : (char *)raw + i * (fsize + 1);
        if (!(v[i] = bp_xstrdup(s ? s : "", e)))
            rc = BP_ENOMEM;
    }
    if (raw && vl > 0) {
        hsize_t dim = k;
        hid_t s = H5Screate_simple(1, &dim, NULL);
        H5Dvlen_reclaim(mt, s, H5P_DEFAULT, raw);
        H5Sclose(s);
    }
    free(raw);
    H5Tclose(mt);
    if (rc) {
        free_strs(v, k);
        return rc;
    }
    *out = v;
    *n = k;
    return 0;
}

static int get_str(bp_err *e, const char *where, hid_t loc, const char *name, char **out)
{
    char **v;
    size_t n;
    *out = NULL;
    int rc = get_strs(e, where, loc, name, &v, &n);
    if (rc)
        return rc;
    if (n != 1) {
        free_strs(v, n);
        return bp_err_set(e, BP_EIO, "%s: attribute '%s' should be one string", where, name);
    }
    *out = v[0];
    free(v);
    return 0;
}

void bp_saved_model_free(bp_saved_model *s)
{
    if (!s)
        return;
    size_t nl = s->n_sizes ? s->n_sizes - 1 : 0;
    for (size_t l = 0; l < nl; l++) {
        if (s->act_names)
            free(s->act_names[l]);
        if (s->act_hp)
            free(s->act_hp[l]);
        if (s->act_hp_names)
            free_strs(s->act_hp_names[l], s->act_n_hp ? s->act_n_hp[l] : 0);
    }
    free(s->sizes);
    free(s->act_names);
    free(s->act_hp);
    free(s->act_hp_names);
    free(s->act_n_hp);
    free(s->loss);
    free(s->params);
    free(s->opt_name);
    free_strs(s->opt_hp_names, s->opt_n_hp);
    free(s->opt_hp);
    free(s->opt_state);
    free(s->mean);
    free(s->std);
    free(s->sched_name);
    free_strs(s->sched_names, s->n_sched);
    free(s->sched_state);
    free(s);
}

static int read_hp_pair(bp_err *e, const char *where, hid_t g, char ***names, double **hp,
                        size_t *n)
{
    size_t nn, nv;
    void *v;
    int rc = get_strs(e, where, g, "hp_names", names, &nn);
    if (rc)
        return rc;
    rc = get_attr(e, where, g, "hp", H5T_FLOAT, H5T_NATIVE_DOUBLE, sizeof(double), &v, &nv);
    if (!rc && nv != nn) {
        free(v);
        rc = bp_err_set(e, BP_EIO, "%s: %zu hyperparameter names but %zu values", where, nn, nv);
    }
    if (rc) {
        free_strs(*names, nn);
        *names = NULL;
        return rc;
    }
    *hp = v;
    *n = nn;
    return 0;
}

/* Opens dataset name under loc, checks it is float with the given shape, reads it. */
static int read_floats(bp_err *e, const char *where, hid_t loc, const char *name, int rank,
                       const hsize_t *want, float **out)
{
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT), s = H5I_INVALID_HID, t = H5I_INVALID_HID;
    int rc = 0;
    *out = NULL;
    if (d < 0 || (s = H5Dget_space(d)) < 0 || (t = H5Dget_type(d)) < 0) {
        rc = bp_err_set(e, BP_EIO, "%s/%s: dataset missing or unreadable", where, name);
        goto out;
    }
    hsize_t dims[2] = { 0, 0 };
    if (H5Tget_class(t) != H5T_FLOAT || H5Sget_simple_extent_ndims(s) != rank) {
        rc = bp_err_set(e, BP_EIO, "%s/%s: expected a %d-D float dataset", where, name, rank);
        goto out;
    }
    H5Sget_simple_extent_dims(s, dims, NULL);
    for (int i = 0; i < rank; i++)
        if (dims[i] != want[i]) {
            rc = bp_err_set(e, BP_EIO, "%s/%s: dimension %d is %llu, the model needs %llu", where,
                            name, i, (unsigned long long)dims[i], (unsigned long long)want[i]);
            goto out;
        }
    size_t count = (size_t)want[0] * (rank > 1 ? (size_t)want[1] : 1);
    if (!(*out = bp_xcalloc(count ? count : 1, sizeof(float), e))) {
        rc = BP_ENOMEM;
        goto out;
    }
    if (count && H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0) {
        char obj[64];
        snprintf(obj, sizeof obj, "cannot read dataset '%s'", name);
        rc = h5fail(e, where, NULL, obj);
        free(*out);
        *out = NULL;
    }
out:
    if (t >= 0)
        H5Tclose(t);
    if (s >= 0)
        H5Sclose(s);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

static int read_optimizer(bp_err *e, const char *where, hid_t model, bp_saved_model *s)
{
    char *ow = fmt_alloc(e, "%s/optimizer", where);
    if (!ow)
        return BP_ENOMEM;
    hid_t g = H5Gopen2(model, "optimizer", H5P_DEFAULT);
    if (g < 0) {
        h5fail(e, ow, NULL, "cannot open group");
        free(ow);
        return BP_EIO;
    }
    void *v = NULL;
    size_t n = 0;
    int rc = get_str(e, ow, g, "name", &s->opt_name);
    if (!rc)
        rc = read_hp_pair(e, ow, g, &s->opt_hp_names, &s->opt_hp, &s->opt_n_hp);
    if (!rc && !(rc = get_attr(e, ow, g, "step", H5T_INTEGER, H5T_NATIVE_UINT64, sizeof(uint64_t),
                               &v, &n)) && n == 1)
        s->opt_step = *(uint64_t *)v;
    free(v);
    v = NULL;
    if (!rc && !(rc = get_attr(e, ow, g, "n_state", H5T_INTEGER, H5T_NATIVE_UINT64,
                               sizeof(uint64_t), &v, &n)) && n == 1)
        s->opt_n_state = (size_t)*(uint64_t *)v;
    free(v);
    if (!rc && s->opt_n_state) {
        hsize_t want[2] = { s->opt_n_state, s->n_params };
        rc = read_floats(e, ow, g, "state", 2, want, &s->opt_state);
    }
    H5Gclose(g);
    free(ow);
    return rc;
}

static int read_schedule(bp_err *e, const char *where, hid_t model, bp_saved_model *s)
{
    char *sw = fmt_alloc(e, "%s/schedule", where);
    if (!sw)
        return BP_ENOMEM;
    hid_t g = H5Gopen2(model, "schedule", H5P_DEFAULT);
    if (g < 0) {
        h5fail(e, sw, NULL, "cannot open group");
        free(sw);
        return BP_EIO;
    }
    size_t nn = 0, nv = 0;
    void *v = NULL;
    int rc = get_str(e, sw, g, "name", &s->sched_name);
    if (!rc)
        rc = get_strs(e, sw, g, "state_names", &s->sched_names, &nn);
    s->n_sched = nn;
    if (!rc)
        rc = get_attr(e, sw, g, "state", H5T_FLOAT, H5T_NATIVE_DOUBLE, sizeof(double), &v, &nv);
    if (!rc && nv != nn)
        rc = bp_err_set(e, BP_EIO, "%s: %zu state names but %zu values", sw, nn, nv);
    if (rc)
        free(v);
    else
        s->sched_state = v;
    H5Gclose(g);
    free(sw);
    return rc;
}

static int read_model_group(bp_err *e, const char *where, hid_t g, bp_saved_model *s)
{
    void *v = NULL;
    size_t n = 0;
    int rc = get_attr(e, where, g, "sizes", H5T_INTEGER, H5T_NATIVE_INT, sizeof(int), &v, &n);
    if (rc)
        return rc;
    s->sizes = v;
    s->n_sizes = n;
    if (n < 2)
        return bp_err_set(e, BP_EIO, "%s: 'sizes' has %zu entries; a model needs at least 2",
                          where, n);
    size_t need = 0;
    for (size_t i = 0; i < n; i++) {
        if (s->sizes[i] < 1)
            return bp_err_set(e, BP_EIO, "%s: 'sizes'[%zu] is %d; sizes must be >= 1", where, i,
                              s->sizes[i]);
        if (i)
            need += (size_t)s->sizes[i] * (size_t)s->sizes[i - 1] + (size_t)s->sizes[i];
    }
    size_t nl = n - 1, na = 0;
    if ((rc = get_str(e, where, g, "loss", &s->loss)))
        return rc;
    int known = 0;
    for (int i = 0; i < BP_LOSS_COUNT; i++)
        known |= strcmp(s->loss, bp_loss_names[i]) == 0;
    if (!known)
        return bp_err_set(e, BP_EIO, "%s: unknown loss '%s'", where, s->loss);
    if ((rc = get_strs(e, where, g, "activations", &s->act_names, &na)))
        return rc;
    if (na != nl) {
        free_strs(s->act_names, na);
        s->act_names = NULL;
        return bp_err_set(e, BP_EIO, "%s: %zu activations for %zu layers", where, na, nl);
    }
    char *output = NULL;
    if ((rc = get_str(e, where, g, "output", &output)))
        return rc;
    if (strcmp(output, s->act_names[nl - 1]) != 0)
        rc = bp_err_set(e, BP_EIO, "%s: output '%s' differs from the last activation '%s'", where,
                        output, s->act_names[nl - 1]);
    free(output);
    if (rc)
        return rc;
    s->act_hp = bp_xcalloc(nl, sizeof *s->act_hp, e);
    s->act_hp_names = bp_xcalloc(nl, sizeof *s->act_hp_names, e);
    s->act_n_hp = bp_xcalloc(nl, sizeof *s->act_n_hp, e);
    if (!s->act_hp || !s->act_hp_names || !s->act_n_hp)
        return BP_ENOMEM;
    for (size_t l = 0; l < nl && !rc; l++) {
        char gname[32];
        snprintf(gname, sizeof gname, "layer_%zu", l);
        char *lw = fmt_alloc(e, "%s/%s", where, gname);
        if (!lw)
            return BP_ENOMEM;
        hid_t lg = H5Lexists(g, gname, H5P_DEFAULT) > 0 ? H5Gopen2(g, gname, H5P_DEFAULT)
                                                         : H5I_INVALID_HID;
        if (lg < 0) {
            bp_err_set(e, BP_EIO, "%s: group missing", lw);
            free(lw);
            return BP_EIO;
        }
        char *act = NULL;
        rc = get_str(e, lw, lg, "activation", &act);
        if (!rc && strcmp(act, s->act_names[l]) != 0)
            rc = bp_err_set(e, BP_EIO, "%s: activation '%s' differs from activations[%zu] '%s'",
                            lw, act, l, s->act_names[l]);
        free(act);
        if (!rc)
            rc = read_hp_pair(e, lw, lg, &s->act_hp_names[l], &s->act_hp[l], &s->act_n_hp[l]);
        H5Gclose(lg);
        free(lw);
    }
    if (rc)
        return rc;
    hsize_t want = need;
    s->n_params = need;
    if (H5Lexists(g, "params", H5P_DEFAULT) <= 0)
        return bp_err_set(e, BP_EIO, "%s/params: dataset missing", where);
    {
        hid_t d = H5Dopen2(g, "params", H5P_DEFAULT), sp = d >= 0 ? H5Dget_space(d) : -1;
        hssize_t got = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
        if (sp >= 0)
            H5Sclose(sp);
        if (d >= 0)
            H5Dclose(d);
        if (got >= 0 && (size_t)got != need) {
            char sz[256];
            size_t off = 0;
            for (size_t i = 0; i < s->n_sizes && off < sizeof sz; i++)
                off += (size_t)snprintf(sz + off, sizeof sz - off, "%s%d", i ? ", " : "",
                                        s->sizes[i]);
            return bp_err_set(e, BP_EIO, "%s/params: %lld values, but sizes [%s] need %zu", where,
                              (long long)got, sz, need);
        }
    }
    if ((rc = read_floats(e, where, g, "params", 1, &want, &s->params)))
        return rc;
    if (H5Lexists(g, "optimizer", H5P_DEFAULT) > 0)
        rc = read_optimizer(e, where, g, s);
    if (!rc && H5Lexists(g, "schedule", H5P_DEFAULT) > 0)
        rc = read_schedule(e, where, g, s);
    if (!rc && H5Lexists(g, "standardize_mean", H5P_DEFAULT) > 0) {
        size_t d = (size_t)s->sizes[0];
        s->mean = bp_xcalloc(d, sizeof *s->mean, e);
        s->std = bp_xcalloc(d, sizeof *s->std, e);
        if (!s->mean || !s->std)
            return BP_ENOMEM;
        const char *names[2] = { "standardize_mean", "standardize_std" };
        double *dst[2] = { s->mean, s->std };
        for (int i = 0; i < 2 && !rc; i++) {
            hid_t ds = H5Dopen2(g, names[i], H5P_DEFAULT);
            hid_t sp = ds >= 0 ? H5Dget_space(ds) : H5I_INVALID_HID;
            if (sp < 0 || H5Sget_simple_extent_npoints(sp) != (hssize_t)d ||
                H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst[i]) < 0)
                rc = bp_err_set(e, BP_EIO, "%s/%s: missing, unreadable or not %zu values", where,
                                names[i], d);
            if (sp >= 0)
                H5Sclose(sp);
            if (ds >= 0)
                H5Dclose(ds);
        }
    }
    return rc;
}

static int check_version(bp_err *e, const char *where, hid_t loc)
{
    if (H5Aexists(loc, "format_version") <= 0)
        return bp_err_set(e, BP_EIO, "%s: not a bprun file (no format_version attribute)", where);
    void *v = NULL;
    size_t n = 0;
    int rc = get_attr(e, where, loc, "format_version", H5T_INTEGER, H5T_NATIVE_INT, sizeof(int),
                      &v, &n);
    if (rc)
        return rc;
    int ver = n == 1 ? *(int *)v : -1;
    free(v);
    if (ver != BP_FORMAT_VERSION)
        return bp_err_set(e, BP_EIO, "%s: format_version %d; this bprun reads format_version %d",
                          where, ver, BP_FORMAT_VERSION);
    return 0;
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* Splits "X#ID" (X a run folder or index file that exists) into base and id. */
static int resolve(bp_err *e, const char *path, char **base, long *id)
{
    struct stat st;
    *id = -1;
    if (stat(path, &st) == 0)
        return (*base = bp_xstrdup(path, e)) ? 0 : BP_ENOMEM;
    int err = errno;
    const char *h = strrchr(path, '#');
    if (h && all_digits(h + 1) && strlen(h + 1) <= 9) {
        if (!(*base = bp_xstrdup(path, e)))
            return BP_ENOMEM;
        (*base)[h - path] = '\0';
        *id = strtol(h + 1, NULL, 10);
        if (stat(*base, &st) == 0)
            return 0;
        err = errno;
        bp_err_set(e, BP_EIO, "%s: cannot open: %s", *base, strerror(err));
        free(*base);
        *base = NULL;
        return BP_EIO;
    }
    return bp_err_set(e, BP_EIO, "%s: cannot open: %s", path, strerror(err));
}

/* The trial path names (a trial file, RUN, RUN#ID, INDEX.h5, INDEX.h5#ID), opened: *f the file
 * opened, *root the trial's root (the file's "/" or the linked trial file's), *where how
 * messages name it, *trial_file the trial file's path, *via_index whether it came through an
 * index's link. The caller closes root and f and frees the strings. */
static int open_trial(const char *path, bp_err *e, hid_t *fp, hid_t *rootp, char **wherep,
                      char **trial_file, int *via_index)
{
    char *base = NULL, *file = NULL, *where = NULL, *tf = NULL;
    long id = -1;
    hid_t f = H5I_INVALID_HID, root = H5I_INVALID_HID;
    int rc = BP_EIO;
    *fp = *rootp = H5I_INVALID_HID;
    *wherep = *trial_file = NULL;
    *via_index = 0;
    if ((rc = resolve(e, path, &base, &id)))
        return rc;
    rc = BP_EIO;
    struct stat st;
    if (stat(base, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (!(file = fmt_alloc(e, "%s%strials/%04ld.h5", base,
                               base[strlen(base) - 1] == '/' ? "" : "/", id < 0 ? 0 : id))) {
            rc = BP_ENOMEM;
            goto out;
        }
        id = -1;   /* used up: the file is that trial's */
        if (access(file, F_OK) != 0) {
            int err = errno;
            char *part = fmt_alloc(e, "%s.part", file);
            if (part && access(part, F_OK) == 0)
                bp_err_set(e, BP_EIO, "%s: trial has not finished (only %s exists)", file, part);
            else if (part)
                bp_err_set(e, BP_EIO, "%s: cannot open: %s", file, strerror(err));
            rc = part ? BP_EIO : BP_ENOMEM;
            free(part);
            goto out;
        }
    } else if (!(file = bp_xstrdup(base, e))) {
        rc = BP_ENOMEM;
        goto out;
    }
    if (bp_input_check(file, BP_EIO, NULL, e) < 0)
        goto out;
    htri_t is = H5Fis_hdf5(file);
    if (is <= 0) {
        if (access(file, R_OK) != 0)
            bp_err_set(e, BP_EIO, "%s: cannot open: %s", file, strerror(errno));
        else
            bp_err_set(e, BP_EIO, "%s: not an HDF5 file", file);
        goto out;
    }
    if ((f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
        h5fail(e, file, NULL, "cannot open");
        goto out;
    }
    int index = H5Lexists(f, "trials", H5P_DEFAULT) > 0 && H5Lexists(f, "model", H5P_DEFAULT) <= 0;
    if (index) {
        char link[48];
        snprintf(link, sizeof link, "/trials/%04ld", id < 0 ? 0 : id);
        if (H5Lexists(f, link, H5P_DEFAULT) <= 0) {
            bp_err_set(e, BP_EIO, "%s#%s: no such trial in the index", file, link);
            goto out;
        }
        bp_input_links ln = { .code = BP_EIO };
        hid_t lapl = bp_input_link_access(&ln);
        if (lapl >= 0) {
            root = H5Oopen(f, link, lapl);
            H5Pclose(lapl);
        }
        if (root < 0) {
            if (ln.err.code)
                *e = ln.err;
            else
                h5fail(e, file, link, "cannot open the linked trial file");
            goto out;
        }
        const char *slash = strrchr(file, '/');
        int dlen = slash ? (int)(slash - file) + 1 : 0;
        if (!(where = fmt_alloc(e, "%s#%s", file, link)) ||
            !(tf = fmt_alloc(e, "%.*s%s.h5", dlen, file, link + 1))) {
            rc = BP_ENOMEM;
            goto out;
        }
    } else {
        if (id >= 0) {
            rc = bp_err_set(e, BP_EUSAGE, "%s: '#%ld' selects a trial of a run folder or index "
                            "file, but this is a trial file", file, id);
            goto out;
        }
        if ((root = H5Gopen2(f, "/", H5P_DEFAULT)) < 0) {
            h5fail(e, file, "/", "cannot open");
            goto out;
        }
        if (!(where = bp_xstrdup(file, e)) || !(tf = bp_xstrdup(file, e))) {
            rc = BP_ENOMEM;
            goto out;
        }
    }
    if ((rc = check_version(e, where, root)))
        goto out;
    *fp = f;
    *rootp = root;
    *wherep = where;
    *trial_file = tf;
    *via_index = index;
    free(base);
    free(file);
    return 0;
out:
    if (root >= 0)
        H5Oclose(root);
    if (f >= 0)
        H5Fclose(f);
    free(base);
    free(file);
    free(where);
    free(tf);
    return rc;
}

bp_saved_model *bp_saved_model_read(const char *path, bp_err *e)
{
    quiet();
    char *where = NULL, *tf = NULL;
    int index = 0;
    hid_t f, root, g = H5I_INVALID_HID;
    bp_saved_model *s = NULL;
    if (open_trial(path, e, &f, &root, &where, &tf, &index))
        return NULL;
    if (H5Lexists(root, "model", H5P_DEFAULT) > 0)
        g = H5Gopen2(root, "model", H5P_DEFAULT);
    if (g < 0) {
        bp_err_set(e, BP_EIO, "%s: no saved model (/model missing); the trial may not have "
                   "finished", where);
        goto out;
    }
    char *mw = fmt_alloc(e, index ? "%s/model" : "%s#/model", where);
    if (!mw || !(s = bp_xcalloc(1, sizeof *s, e))) {
        free(mw);
        goto out;
    }
    if (read_model_group(e, mw, g, s)) {
        bp_saved_model_free(s);
        s = NULL;
    }
    free(mw);
out:
    if (g >= 0)
        H5Gclose(g);
    H5Oclose(root);
    H5Fclose(f);
    free(where);
    free(tf);
    return s;
}

void bp_trial_record_free(bp_trial_record *r)
{
    if (!r)
        return;
    free(r->file);
    free(r->where);
    free(r->status);
    free(r->resolved_config);
    free(r->rows);
    free(r);
}

/* Column c (name) of /epochs into r->rows; ew names /epochs in messages, first the column 0. */
static int read_column(bp_err *e, const char *ew, hid_t epochs, const char *name,
                       const char *first, bp_trial_record *r, size_t c)
{
    hid_t d = H5Lexists(epochs, name, H5P_DEFAULT) > 0 ? H5Dopen2(epochs, name, H5P_DEFAULT)
                                                      : H5I_INVALID_HID;
    hid_t sp = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    hid_t t = d >= 0 ? H5Dget_type(d) : H5I_INVALID_HID;
    double *v = NULL;
    int rc = 0;
    if (d < 0 || sp < 0 || t < 0) {
        rc = bp_err_set(e, BP_EIO, "%s/%s: dataset missing or unreadable", ew, name);
        goto out;
    }
    if (H5Tget_class(t) != H5T_FLOAT || H5Sget_simple_extent_ndims(sp) != 1) {
        rc = bp_err_set(e, BP_EIO, "%s/%s: expected a 1-D float dataset", ew, name);
        goto out;
    }
    hsize_t n = 0;
    H5Sget_simple_extent_dims(sp, &n, NULL);
    if (c == 0) {
        r->n_rows = (size_t)n;
        if (!(r->rows = bp_xcalloc(r->n_rows * r->n_columns + 1, sizeof *r->rows, e))) {
            rc = BP_ENOMEM;
            goto out;
        }
    } else if ((size_t)n != r->n_rows) {
        rc = bp_err_set(e, BP_EIO, "%s/%s: %llu values, but %s has %zu", ew, name,
                        (unsigned long long)n, first, r->n_rows);
        goto out;
    }
    if (!(v = bp_xcalloc((size_t)n + 1, sizeof *v, e))) {
        rc = BP_ENOMEM;
        goto out;
    }
    if (n && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
        char what[160];
        snprintf(what, sizeof what, "%s: cannot read dataset", name);
        rc = h5fail(e, ew, NULL, what);
        goto out;
    }
    for (size_t i = 0; i < (size_t)n; i++)
        r->rows[i * r->n_columns + c] = v[i];
out:
    free(v);
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

bp_trial_record *bp_trial_record_read(const char *path, const char *const *columns,
                                      size_t n_columns, bp_err *e)
{
    quiet();
    char *where = NULL, *tf = NULL, *ew = NULL;
    int index = 0;
    hid_t f, root, ep = H5I_INVALID_HID;
    void *v = NULL;
    size_t n = 0;
    if (open_trial(path, e, &f, &root, &where, &tf, &index))
        return NULL;
    bp_trial_record *r = bp_xcalloc(1, sizeof *r, e);
    if (!r)
        goto fail;
    r->file = tf;
    r->where = where;
    tf = where = NULL;
    r->n_columns = n_columns;
    r->epochs_done = -1;
    if (get_attr(e, r->where, root, "trial", H5T_INTEGER, H5T_NATIVE_UINT64, sizeof(uint64_t),
                 &v, &n))
        goto fail;
    r->trial = n == 1 ? (unsigned)*(uint64_t *)v : 0;
    free(v);
    v = NULL;
    if (get_attr(e, r->where, root, "seed", H5T_INTEGER, H5T_NATIVE_UINT64, sizeof(uint64_t), &v,
                 &n))
        goto fail;
    r->seed = n == 1 ? *(uint64_t *)v : 0;
    free(v);
    v = NULL;
    if (get_str(e, r->where, root, "status", &r->status) ||
        get_str(e, r->where, root, "resolved_config", &r->resolved_config))
        goto fail;
    if (H5Aexists(root, "epochs_done") > 0) {
        if (get_attr(e, r->where, root, "epochs_done", H5T_INTEGER, H5T_NATIVE_INT, sizeof(int),
                     &v, &n))
            goto fail;
        r->epochs_done = n == 1 ? *(int *)v : -1;
        free(v);
        v = NULL;
    }
    if (!(ew = fmt_alloc(e, index ? "%s/epochs" : "%s#/epochs", r->where)))
        goto fail;
    if (H5Lexists(root, "epochs", H5P_DEFAULT) <= 0 ||
        (ep = H5Gopen2(root, "epochs", H5P_DEFAULT)) < 0) {
        bp_err_set(e, BP_EIO, "%s: group missing", ew);
        goto fail;
    }
    for (size_t c = 0; c < n_columns; c++)
        if (read_column(e, ew, ep, columns[c], columns[0], r, c))
            goto fail;
    free(ew);
    ew = NULL;
    if (!n_columns && !(r->rows = bp_xcalloc(1, sizeof *r->rows, e)))
        goto fail;
    H5Gclose(ep);
    H5Oclose(root);
    H5Fclose(f);
    return r;
fail:
    free(v);
    free(ew);
    if (ep >= 0)
        H5Gclose(ep);
    H5Oclose(root);
    H5Fclose(f);
    free(where);
    free(tf);
    bp_trial_record_free(r);
    return NULL;
}

/* first line where two texts differ, for "what changed" messages */
static int first_difference(const char *what, const char *a, const char *b, char *out, size_t n)
{
    size_t line = 1;
    for (;;) {
        const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
        size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
        if (la != lb || memcmp(a, b, la) != 0) {
            snprintf(out, n, "%s line %zu was '%.*s', now '%.*s'", what, line,
                     (int)(la > 200 ? 200 : la), a, (int)(lb > 200 ? 200 : lb), b);
            return 1;
        }
        if (!ea || !eb)
            return 0;
        a = ea + 1;
        b = eb + 1;
        line++;
    }
}

/* The folder's index.h5 records the sweep `hash`; else an error naming the first change. */
static int same_sweep(bp_err *e, const char *dir, const char *index, const char *hash,
                      const char *table, const char *resolved)
{
    char *old_hash = NULL, *old_table = NULL, *old_resolved = NULL;
    hid_t f = H5Fopen(index, H5F_ACC_RDONLY, H5P_DEFAULT);
    int rc = f < 0 ? bp_err_set(e, BP_EEXIST, "%s: cannot read the run's index; use --force "
                                "to start over, or -o to choose another folder", index)
                   : get_str(e, index, f, "sweep_hash", &old_hash);
    if (!rc)
        rc = get_str(e, index, f, "sweep_table", &old_table);
    if (!rc)
        rc = get_str(e, index, f, "resolved_config", &old_resolved);
    if (f >= 0)
        H5Fclose(f);
    if (!rc && strcmp(old_hash, hash) != 0) {
        char diff[600] = "the trials' configs differ";
        if (!first_difference("trial table", old_table, table, diff, sizeof diff))
            first_difference("config", old_resolved, resolved, diff, sizeof diff);
        rc = bp_err_set(e, BP_EEXIST, "%s: holds a run of a different config (%s); use "
                        "--force to start over, or -o to choose another folder", dir, diff);
    }
    free(old_hash);
    free(old_table);
    free(old_resolved);
    return rc;
}

/* A run to resume holds its index as a file (not a symbolic link) and trials/ as a folder. */
static int check_resumable(bp_run *r, bp_err *e)
{
    struct stat st;
    if (fstatat(r->dfd, "index.h5", &st, AT_SYMLINK_NOFOLLOW) != 0)
        return bp_err_set(e, BP_EIO, "%s/index.h5: %s", r->dir, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return bp_err_set(e, BP_EEXIST, "%s/index.h5: %s; %s", r->dir, S_ISLNK(st.st_mode)
                          ? "a symbolic link, not a file bprun wrote" : "not a regular file",
                          not_ours_action);
    if (fstatat(r->dfd, "trials", &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
        return bp_err_set(e, BP_EEXIST, "%s/trials: %s; %s", r->dir, S_ISLNK(st.st_mode)
                          ? "a symbolic link, not the folder bprun made" : "not a folder",
                          not_ours_action);
    return 0;
}

/* bp_run_open on a run from run_new */
static bp_run *run_open(bp_run *r, const char *hash, const char *table, const char *resolved,
                        int force, int *resumed, bp_err *e)
{
    *resumed = 0;
    if (!r)
        return NULL;
    struct stat st;
    if (force || fstatat(r->dfd, "index.h5", &st, AT_SYMLINK_NOFOLLOW) != 0)
        return run_create(r, force, e);
    /* looked at before the lock is taken (nothing is written into a folder bprun does not
     * own) and again under it */
    char *index = NULL;
    int rc = check_resumable(r, e);
    if (!rc && r->lock_fd < 0)
        rc = lock_run_wait(e, r->dfd, r->dir, &r->lock_fd, 0);
    if (!rc)
        rc = check_resumable(r, e);
    if (!rc && !(index = fmt_alloc(e, "%s/index.h5", r->path)))
        rc = BP_ENOMEM;
    if (!rc)
        rc = same_sweep(e, r->dir, index, hash, table, resolved);
    if (!rc)
        rc = make_trials(r, e);
    free(index);
    if (rc) {
        bp_run_close(r);
        return NULL;
    }
    *resumed = 1;
    return r;
}

bp_run *bp_run_open(const char *dir, const char *hash, const char *table, const char *resolved,
                    int force, int *resumed, bp_err *e)
{
    quiet();
    return run_open(run_new(dir, -1, e), hash, table, resolved, force, resumed, e);
}

bp_run *bp_run_open_shared(const char *dir, const char *hash, const char *table,
                           const char *resolved, double wait_s, int *resumed, bp_err *e)
{
    quiet();
    *resumed = 0;
    bp_run *r = run_new(dir, -1, e);
    if (!r)
        return NULL;
    /* no lock file is put into a folder that is no run folder */
    bp_folder f;
    int rc = bp_folder_scan(r->dfd, r->dir, 0, &f, e);
    if (!rc)
        rc = bp_folder_refuse_bad(&f, r->dir, not_ours_action, e);
    if (!rc && !f.empty && !has_lock_file(r->dfd))
        rc = refuse_not_empty(e, r->dir);
    bp_folder_free(&f);
    if (!rc)
        rc = lock_run_wait(e, r->dfd, r->dir, &r->lock_fd, wait_s);
    if (rc) {
        bp_run_close(r);
        return NULL;
    }
    return run_open(r, hash, table, resolved, 0, resumed, e);
}

int bp_trial_read_summary(const char *path, bp_trial_summary *s, bp_err *e)
{
    quiet();
    memset(s, 0, sizeof *s);
    s->final_loss = s->final_val_loss = s->final_accuracy = s->final_val_accuracy = NAN;
    s->best_val_loss = s->final_test_loss = s->final_test_accuracy = s->wall_seconds = NAN;
    if (bp_input_check(path, BP_EIO, NULL, e) < 0)
        return BP_EIO;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return h5fail(e, path, NULL, "cannot open trial file");
    char *status = NULL, *message = NULL;
    void *v = NULL;
    size_t n = 0;
    int rc = get_str(e, path, f, "status", &status);
    if (!rc)
        rc = get_str(e, path, f, "message", &message);
    if (!rc && !(rc = get_attr(e, path, f, "trial", H5T_INTEGER, H5T_NATIVE_UINT, sizeof(unsigned), &v, &n)))
        s->trial = *(unsigned *)v;
    free(v);
    v = NULL;
    if (!rc && !(rc = get_attr(e, path, f, "seed", H5T_INTEGER, H5T_NATIVE_UINT64, sizeof(uint64_t), &v, &n)))
        s->seed = *(uint64_t *)v;
    free(v);
    v = NULL;
    if (!rc && !(rc = get_attr(e, path, f, "epochs_done", H5T_INTEGER, H5T_NATIVE_INT, sizeof(int), &v, &n)))
        s->epochs = *(int *)v;
    free(v);
    v = NULL;
    if (!rc && H5Aexists(f, "epochs_to_target") > 0 &&
        !(rc = get_attr(e, path, f, "epochs_to_target", H5T_INTEGER, H5T_NATIVE_INT, sizeof(int),
                        &v, &n)))
        s->epochs_to_target = *(int *)v;
    free(v);
    v = NULL;
    char *verdict = NULL;
    if (!rc && H5Aexists(f, "verdict") > 0 && !(rc = get_str(e, path, f, "verdict", &verdict)))
        snprintf(s->verdict, sizeof s->verdict, "%s", verdict);
    free(verdict);
    const char *dnames[] = { "wall_seconds", "test_loss", "test_accuracy", "samples_per_second",
                             "peak_rss_bytes", "work_bytes" };
    double *dst[] = { &s->wall_seconds, &s->final_test_loss, &s->final_test_accuracy,
                      &s->samples_per_second, &s->peak_rss_bytes, &s->work_bytes };
    for (int i = 0; i < 6 && !rc; i++) {
        if (H5Aexists(f, dnames[i]) <= 0)
            continue;
        if (!(rc = get_attr(e, path, f, dnames[i], H5T_FLOAT, H5T_NATIVE_DOUBLE, sizeof(double), &v, &n)))
            *dst[i] = *(double *)v;
        free(v);
        v = NULL;
    }
    const char *cols[] = { "loss", "accuracy", "val_loss", "val_accuracy" };
    double *last[] = { &s->final_loss, &s->final_accuracy, &s->final_val_loss,
                       &s->final_val_accuracy };
    for (int i = 0; i < 4 && !rc; i++) {
        char name[64];
        snprintf(name, sizeof name, "epochs/%s", cols[i]);
        if (H5Lexists(f, "epochs", H5P_DEFAULT) <= 0 || H5Lexists(f, name, H5P_DEFAULT) <= 0)
            continue;
        hid_t d = H5Dopen2(f, name, H5P_DEFAULT), sp = d >= 0 ? H5Dget_space(d) : -1;
        hssize_t rows = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
        double *buf = rows > 0 ? malloc((size_t)rows * sizeof *buf) : NULL;
        if (rows > 0 && buf && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0) {
            *last[i] = buf[rows - 1];
            if (i == 2)
                for (hssize_t k = 0; k < rows; k++)
                    if (!isnan(buf[k]) && (isnan(s->best_val_loss) || buf[k] < s->best_val_loss))
                        s->best_val_loss = buf[k];
        } else if (rows < 0 || (rows > 0 && !buf)) {
            rc = h5fail(e, path, name, "cannot read epoch column");
        }
        free(buf);
        if (sp >= 0)
            H5Sclose(sp);
        if (d >= 0)
            H5Dclose(d);
    }
    H5Fclose(f);
    if (!rc) {
        static const char *const known[] = { "pending", "running", "completed", "diverged",
                                             "failed", "interrupted", "pruned" };
        s->status = "failed";
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            if (!strcmp(status, known[i]))
                s->status = known[i];
        snprintf(s->message, sizeof s->message, "%s", message);
    }
    free(status);
    free(message);
    return rc;
}

int bp_trial_salvage(bp_run *r, unsigned trial, const char *status, const char *message,
                     bp_err *e)
{
    quiet();
    char *part = fmt_alloc(e, "%s/trials/%04u.h5.part", r->path, trial);
    char *final = fmt_alloc(e, "%s/trials/%04u.h5", r->path, trial);
    char *tdir = fmt_alloc(e, "%s/trials", r->path);
    int rc = part && final && tdir ? 0 : BP_ENOMEM;
    hid_t fapl = H5I_INVALID_HID, f = H5I_INVALID_HID;
    if (!rc && ((fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0 || H5Pset_file_locking(fapl, 0, 1) < 0 ||
                (f = H5Fopen(part, H5F_ACC_RDWR, fapl)) < 0)) {
        rc = bp_err_set(e, BP_EIO, "%s: cannot be opened to record the trial's end", part);
        unlink(part);
    }
    if (!rc) {
        int epochs = 0;
        if (H5Lexists(f, "epochs", H5P_DEFAULT) > 0 && H5Lexists(f, "epochs/epoch", H5P_DEFAULT) > 0) {
            hid_t d = H5Dopen2(f, "epochs/epoch", H5P_DEFAULT), sp = d >= 0 ? H5Dget_space(d) : -1;
            hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : 0;
            epochs = np > 0 ? (int)np : 0;
            if (sp >= 0)
                H5Sclose(sp);
            if (d >= 0)
                H5Dclose(d);
        }
        char finished[32];
        iso_now(finished, sizeof finished);
        rc = attr_str(e, part, f, "/", "status", status);
        if (!rc)
            rc = attr_str(e, part, f, "/", "message", message);
        if (!rc)
            rc = attr_int(e, part, f, "/", "epochs_done", epochs);
        if (!rc)
            rc = attr_dbl(e, part, f, "/", "wall_seconds", NAN);
        if (!rc)
            rc = attr_str(e, part, f, "/", "finished", finished);
        if (H5Fclose(f) < 0 && !rc)
            rc = h5fail(e, part, NULL, "cannot close");
        if (!rc)
            rc = commit_file(e, part, final, tdir);
    }
    if (fapl >= 0)
        H5Pclose(fapl);
    free(part);
    free(final);
    free(tdir);
    return rc;
}

/* ---- rebuilding the index from the trial files (bprun merge) ---- */

static int read_index_rows(bp_err *e, const char *index, hid_t f, index_row **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    hid_t d = H5Dopen2(f, "summary", H5P_DEFAULT), sp = d >= 0 ? H5Dget_space(d) : -1;
    hid_t mt = index_row_type(0);
    hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    int rc = 0;
    if (d < 0 || sp < 0 || mt < 0 || np < 0)
        rc = h5fail(e, index, "/summary", "cannot open the summary table");
    else if (!(*rows = bp_xcalloc(np > 0 ? (size_t)np : 1, sizeof **rows, e)))
        rc = BP_ENOMEM;
    else if (np > 0 && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, *rows) < 0)
        rc = h5fail(e, index, "/summary", "cannot read the summary table");
    else
        *n = (size_t)np;
    if (rc) {
        free(*rows);
        *rows = NULL;
    }
    if (mt >= 0)
        H5Tclose(mt);
    if (sp >= 0)
        H5Sclose(sp);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

/* /params (n x n_axes strings) into out (n * n_axes, malloc'd copies) */
static int read_index_params(bp_err *e, const char *index, hid_t f, size_t n, size_t na,
                             char ***out)
{
    *out = NULL;
    hid_t d = H5Dopen2(f, "params", H5P_DEFAULT), sp = d >= 0 ? H5Dget_space(d) : -1;
    hid_t t = vlstr_type();
    hsize_t dims[2] = { 0, 0 };
    int rc = 0;
    char **buf = NULL;
    if (d < 0 || sp < 0 || t < 0 || H5Sget_simple_extent_ndims(sp) != 2 ||
        H5Sget_simple_extent_dims(sp, dims, NULL) < 0 || dims[0] != n || dims[1] != na) {
        rc = h5fail(e, index, "/params", "cannot read the swept values (not n_trials x n_axes)");
        goto out;
    }
    if (!(buf = bp_xcalloc(n * na, sizeof *buf, e)) || !(*out = bp_xcalloc(n * na, sizeof **out, e))) {
        rc = BP_ENOMEM;
        goto out;
    }
    if (H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        rc = h5fail(e, index, "/params", "cannot read the swept values");
        free(buf);
        buf = NULL;
        goto out;
    }
    for (size_t i = 0; i < n * na && !rc; i++)
        if (!((*out)[i] = bp_xstrdup(buf[i] ? buf[i] : "", e)))
            rc = BP_ENOMEM;
    H5Dvlen_reclaim(t, sp, H5P_DEFAULT, buf);
out:
    free(buf);
    if (rc && *out) {
        free_strs(*out, n * na);
        *out = NULL;
    }
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

/* The entries of trials/ that merge leaves out: not trial files, not bprun's, or trials the
 * index has no row for. Finished or running (.part) trial files of the run are not named. */
static void name_ignored(const bp_folder *fo, const char *dir, size_t n, bp_merge_result *res)
{
    bp_folder_entry *v = calloc(fo->n_foreign + fo->n_bad + fo->n_ours + 1, sizeof *v);
    size_t k = 0;
    if (!v)
        return;
    for (size_t i = 0; i < fo->n_foreign; i++)
        if (!strncmp(fo->foreign[i].name, "trials/", 7))
            v[k++] = fo->foreign[i];
    for (size_t i = 0; i < fo->n_bad; i++)
        v[k++] = fo->bad[i];
    for (size_t i = 0; i < fo->n_ours; i++)
        if (fo->ours[i].trial >= (long long)n)
            v[k++] = fo->ours[i];
    res->n_ignored = k;
    char *list = k ? bp_folder_list(dir, v, k, 3) : NULL;
    snprintf(res->ignored, sizeof res->ignored, "%s", list ? list : "");
    free(list);
    free(v);
}

int bp_run_merge(const char *dir, double wait_s, bp_merge_result *res, bp_err *e)
{
    return bp_run_merge_with(dir, wait_s, NULL, res, e);
}

int bp_run_merge_with(const char *dir, double wait_s, const bp_merge_extra *x,
                      bp_merge_result *res, bp_err *e)
{
    quiet();
    memset(res, 0, sizeof *res);
    struct stat st;
    if (stat(dir, &st) != 0)
        return bp_err_set(e, BP_EUSAGE, "%s: no such run folder", dir);
    if (!S_ISDIR(st.st_mode))
        return bp_err_set(e, BP_EUSAGE, "%s: not a folder", dir);
    bp_folder fo;
    int dfd = bp_folder_open(dir, e);
    if (dfd < 0)
        return e->code;
    int rc = bp_folder_scan(dfd, dir, 0, &fo, e), lock_fd = -1, threads = 1;
    for (size_t i = 0; !rc && i < fo.n_bad; i++)
        if (fo.bad[i].trial < 0)   /* index.h5 or trials/ itself */
            rc = bp_err_set(e, BP_EUSAGE, "%s/%s: %s; not a run folder bprun can merge", dir,
                            fo.bad[i].name, fo.bad[i].why);
    if (!rc && !fo.has_index)
        rc = bp_err_set(e, BP_EUSAGE, "%s: not a bprun run folder (no index.h5)", dir);
    char *index = rc ? NULL : fmt_alloc(e, "%s/index.h5", dir);
    if (!rc && !index)
        rc = BP_ENOMEM;
    if (!rc)
        rc = lock_run_wait(e, dfd, dir, &lock_fd, wait_s);
    char *config = NULL, *resolved = NULL, *hash = NULL, *table = NULL, **axes = NULL;
    char *race = NULL;
    char **params = NULL, ***by_trial = NULL;
    size_t n = 0, na = 0;
    index_row *old = NULL;
    bp_trial_summary *rows = NULL;
    void *v = NULL;
    size_t nv = 0;
    hid_t f = H5I_INVALID_HID;
    if (rc)
        goto out;
    if ((f = H5Fopen(index, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
        rc = h5fail(e, index, NULL, "cannot open the index");
        goto out;
    }
    if ((rc = get_str(e, index, f, "config", &config)) ||
        (rc = get_str(e, index, f, "resolved_config", &resolved)) ||
        (rc = get_attr(e, index, f, "threads", H5T_INTEGER, H5T_NATIVE_INT, sizeof(int), &v, &nv)))
        goto out;
    threads = nv ? *(int *)v : 1;
    if (H5Aexists(f, "sweep_hash") > 0 &&
        ((rc = get_str(e, index, f, "sweep_hash", &hash)) ||
         (rc = get_str(e, index, f, "sweep_table", &table)) ||
         (rc = get_strs(e, index, f, "axes", &axes, &na))))
        goto out;
    if (H5Aexists(f, "race") > 0 && (rc = get_str(e, index, f, "race", &race)))
        goto out;
    if ((rc = read_index_rows(e, index, f, &old, &n)))
        goto out;
    if (na && H5Lexists(f, "params", H5P_DEFAULT) > 0 &&
        (rc = read_index_params(e, index, f, n, na, &params)))
        goto out;
    H5Fclose(f);
    f = H5I_INVALID_HID;
    if (!(rows = bp_xcalloc(n ? n : 1, sizeof *rows, e)) ||
        !(by_trial = bp_xcalloc(n ? n : 1, sizeof *by_trial, e))) {
        rc = BP_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        if (old[i].trial >= n) {
            rc = bp_err_set(e, BP_EIO, "%s#/summary: row %zu names trial %u of %zu", index, i,
                            (unsigned)old[i].trial, n);
            break;
        }
        if (params)
            by_trial[old[i].trial] = &params[i * na];
        char *path = fmt_alloc(e, "%s/trials/%04u.h5", dir, (unsigned)old[i].trial);
        if (!path) {
            rc = BP_ENOMEM;
            break;
        }
        int foreign = 0;   /* a file with the trial's name that bprun did not write */
        for (size_t k = 0; k < fo.n_bad; k++)
            foreign |= fo.bad[k].trial == (long long)old[i].trial && !fo.bad[k].part;
        if (!foreign && access(path, F_OK) == 0) {
            rc = bp_trial_read_summary(path, &rows[i], e);
            res->finished++;
        } else {
            bp_trial_summary *r = &rows[i];
            memset(r, 0, sizeof *r);
            r->trial = old[i].trial;
            r->seed = old[i].seed;
            /* a trial a race did not need stays so; any other is still to run */
            int skip = !strncmp(old[i].status, "skipped", STATUS_LEN) ||
                       (x && x->skipped && old[i].trial < x->n && x->skipped[old[i].trial]);
            r->status = skip ? "skipped" : "pending";
            r->final_loss = r->final_val_loss = r->final_accuracy = r->final_val_accuracy = NAN;
            r->best_val_loss = r->wall_seconds = r->final_test_loss = NAN;
            r->final_test_accuracy = NAN;
            res->missing++;
        }
        free(path);
    }
    if (rc)
        goto out;
    res->n_trials = n;
    name_ignored(&fo, dir, n, res);
    if (!res->finished) {
        rc = bp_err_set(e, BP_EUSAGE, "%s: no finished trial files (trials/NNNN.h5) yet; "
                        "nothing to merge", dir);
        goto out;
    }
    bp_run r = { .dir = (char *)dir, .path = (char *)dir, .dfd = -1, .lock_fd = -1 };
    bp_run_set_sweep(&r, hash, table, na, axes, params ? (char *const *const *)by_trial : NULL);
    bp_run_set_race(&r, x && x->race ? x->race : race);
    rc = bp_run_write_index(&r, config, resolved, rows, n, threads, e);
out:
    if (f >= 0)
        H5Fclose(f);
    if (lock_fd >= 0)
        close(lock_fd);
    close(dfd);
    bp_folder_free(&fo);
    free(index);
    free(config);
    free(resolved);
    free(hash);
    free(table);
    free(race);
    free_strs(axes, na);
    if (params)
        free_strs(params, n * na);
    free(by_trial);
    free(old);
    free(rows);
    free(v);
    return rc;
}
