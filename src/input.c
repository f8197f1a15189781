#include "autoconf.h"
#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *bp_input_kind(unsigned mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a plain file";
}

static int refuse(const char *path, unsigned mode, int code, bp_err *e)
{
    return bp_err_set(e, code, "%s: not a regular file (%s)", path, bp_input_kind(mode));
}

int bp_input_open(const char *path, int code, unsigned long long *size, bp_err *e)
{
    int fd;
    do
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        int err = errno;
        struct stat st;
        /* a socket cannot be opened at all (ENXIO): say what it is */
        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
            return refuse(path, (unsigned)st.st_mode, code, e);
        return bp_err_set(e, code, "%s: cannot open: %s", path, strerror(err));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return bp_err_set(e, code, "%s: cannot open: %s", path, strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return refuse(path, (unsigned)st.st_mode, code, e);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        int err = errno;
        close(fd);
        return bp_err_set(e, code, "%s: cannot open: %s", path, strerror(err));
    }
    if (size)
        *size = (unsigned long long)st.st_size;
    return fd;
}

static int names_fd(const char *path)
{
    static const char *const std[] = { "/dev/stdin", "/dev/stdout", "/dev/stderr" };
    for (size_t i = 0; i < sizeof std / sizeof *std; i++)
        if (strcmp(path, std[i]) == 0)
            return 1;
    if (strncmp(path, "/dev/fd/", 8) == 0)
        return 1;
    if (strncmp(path, "/proc/", 6) == 0) {
        const char *p = strchr(path + 6, '/');
        return p && strncmp(p, "/fd/", 4) == 0;
    }
    return 0;
}

static herr_t elink_regular(const char *parent_file, const char *parent_group,
                            const char *child_file, const char *child_object, unsigned *acc_flags,
                            hid_t fapl, void *op_data)
{
    (void)parent_group;
    (void)child_object;
    (void)acc_flags;
    (void)fapl;
    bp_input_links *l = op_data;
    char path[4096];
    const char *slash = strrchr(parent_file, '/');
    if (child_file[0] == '/' || !slash)
        snprintf(path, sizeof path, "%s", child_file);
    else
        snprintf(path, sizeof path, "%.*s%s", (int)(slash - parent_file) + 1, parent_file,
                 child_file);
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;   /* missing: HDF5's own message */
    return bp_input_check(path, l->code, NULL, &l->err) < 0 ? -1 : 0;
}

hid_t bp_input_link_access(bp_input_links *l)
{
    bp_err_clear(&l->err);
    hid_t lapl = H5Pcreate(H5P_LINK_ACCESS);
    if (lapl >= 0 && H5Pset_elink_cb(lapl, elink_regular, l) < 0) {
        H5Pclose(lapl);
        return H5I_INVALID_HID;
    }
    return lapl;
}

int bp_input_check(const char *path, int code, unsigned long long *size, bp_err *e)
{
    if (names_fd(path))
        return bp_err_set(e, code, "%s: names a file descriptor, not a file; give the file's "
                          "own path", path);
    int fd = bp_input_open(path, code, size, e);
    if (fd < 0)
        return fd;
    close(fd);
    return 0;
}
