#include "autoconf.h"
#include "runlog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "h5io.h"
#include "input.h"
#include "provenance.h"
#include "runfolder.h"

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
    const char *search;   /* sweep.search's settings (borrowed), or NULL */
};

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
int bp_run_lock_wait(bp_err *e, int dfd, const char *dir, int *fd_out, double wait_s)
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
    if (!(r->path = rel ? bp_h5_fmt_alloc(e, "%s/%s", strcmp(cwd, "/") ? cwd : "", r->dir)
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
        r->kept = list ? bp_h5_fmt_alloc(e, "--force left %zu entr%s that bprun did not write: %s",
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
        (r->lock_fd < 0 && bp_run_lock_wait(e, r->dfd, r->dir, &r->lock_fd, 0)) ||
        check_folder(r, force, 1, e) || make_trials(r, e)) {
        bp_run_close(r);
        return NULL;
    }
    return r;
}

bp_run *bp_run_create(const char *dir, int force, bp_err *e)
{
    bp_h5_quiet();
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
    bp_h5_quiet();
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

bp_run_info bp_run_info_of(const bp_run *r)
{
    return (bp_run_info){ .path = r->path, .hash = r->hash, .table = r->table,
                          .n_axes = r->n_axes, .axes = r->axes, .params = r->params,
                          .race = r->race, .search = r->search };
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

void bp_run_set_race(bp_run *r, const char *text)
{
    r->race = text;
}

void bp_run_set_search(bp_run *r, const char *text)
{
    r->search = text;
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

/* The provenance of the first trial file (by name) in path/trials, and that file in *where;
 * NULL when there is none or it cannot be read. */
static char *first_trial_provenance(const char *path, char **where)
{
    bp_err ignored;
    char *dir = bp_h5_fmt_alloc(&ignored, "%s/trials", path), *best = NULL, *prov = NULL;
    DIR *d = dir ? opendir(dir) : NULL;
    for (struct dirent *de; d && (de = readdir(d));) {
        size_t n = strlen(de->d_name);
        if (n > 3 && !strcmp(de->d_name + n - 3, ".h5") && strspn(de->d_name, "0123456789") ==
            n - 3 && (!best || strcmp(de->d_name, best) < 0)) {
            free(best);
            best = strdup(de->d_name);
        }
    }
    if (d)
        closedir(d);
    char *file = best ? bp_h5_fmt_alloc(&ignored, "%s/%s", dir, best) : NULL;
    hid_t f = file && !bp_input_check(file, BP_EIO, NULL, &ignored)
                  ? H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT) : -1;
    if (f >= 0 && H5Aexists(f, "provenance") > 0 &&
        bp_h5_get_str(&ignored, file, f, "provenance", &prov))
        prov = NULL;
    if (f >= 0)
        H5Fclose(f);
    free(dir);
    free(best);
    if (prov)
        *where = file;
    else
        free(file);
    return prov;
}

/* The folder's index.h5 records the sweep `hash`; else an error naming the first change. */
static int same_sweep(bp_err *e, const char *dir, const char *path, const char *index,
                      const char *hash, const char *table, const char *resolved)
{
    char *old_hash = NULL, *old_table = NULL, *old_resolved = NULL, *old_prov = NULL;
    hid_t f = H5Fopen(index, H5F_ACC_RDONLY, H5P_DEFAULT);
    int rc = f < 0 ? bp_err_set(e, BP_EEXIST, "%s: cannot read the run's index; use --force "
                                "to start over, or -o to choose another folder", index)
                   : bp_h5_get_str(e, index, f, "sweep_hash", &old_hash);
    if (!rc)
        rc = bp_h5_get_str(e, index, f, "sweep_table", &old_table);
    if (!rc)
        rc = bp_h5_get_str(e, index, f, "resolved_config", &old_resolved);
    if (!rc && H5Aexists(f, "provenance") > 0)
        rc = bp_h5_get_str(e, index, f, "provenance", &old_prov);
    if (f >= 0)
        H5Fclose(f);
    if (!rc && strcmp(old_hash, hash) != 0) {
        char diff[600] = "the trials' configs differ";
        if (!first_difference("trial table", old_table, table, diff, sizeof diff))
            first_difference("config", old_resolved, resolved, diff, sizeof diff);
        rc = bp_err_set(e, BP_EEXIST, "%s: holds a run of a different config (%s); use "
                        "--force to start over, or -o to choose another folder", dir, diff);
    }
    /* the same trials, made with the same plugin and data files; an index bprun merge
     * rebuilt records none of them: then the run's first trial file tells */
    char *where = NULL;
    if (!rc && (!old_prov || (!strstr(old_prov, "\nplugin: ") && !strstr(old_prov, "\ndata: ")))) {
        free(old_prov);
        old_prov = first_trial_provenance(path, &where);
    }
    if (!rc)
        rc = bp_provenance_check(old_prov, where ? where : index, e);
    free(where);
    free(old_prov);
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
        rc = bp_run_lock_wait(e, r->dfd, r->dir, &r->lock_fd, 0);
    if (!rc)
        rc = check_resumable(r, e);
    if (!rc && !(index = bp_h5_fmt_alloc(e, "%s/index.h5", r->path)))
        rc = BP_ENOMEM;
    if (!rc)
        rc = same_sweep(e, r->dir, r->path, index, hash, table, resolved);
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
    bp_h5_quiet();
    return run_open(run_new(dir, -1, e), hash, table, resolved, force, resumed, e);
}

bp_run *bp_run_open_shared(const char *dir, const char *hash, const char *table,
                           const char *resolved, double wait_s, int *resumed, bp_err *e)
{
    bp_h5_quiet();
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
        rc = bp_run_lock_wait(e, r->dfd, r->dir, &r->lock_fd, wait_s);
    if (rc) {
        bp_run_close(r);
        return NULL;
    }
    return run_open(r, hash, table, resolved, 0, resumed, e);
}
