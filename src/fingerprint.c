/* bp_sha256_file: SHA-256 through OpenSSL's libcrypto, cached per process. */
#include "autoconf.h"
#include "fingerprint.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input.h"

typedef struct seen {
    char *path;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    char hex[BP_SHA256_HEX];
} seen;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static seen *cache;
static size_t n_cache, cap_cache;
static unsigned long n_read;

static int same_file(const seen *s, const char *path, const struct stat *st)
{
    return s->dev == st->st_dev && s->ino == st->st_ino && s->size == st->st_size &&
           s->mtime.tv_sec == st->st_mtim.tv_sec && s->mtime.tv_nsec == st->st_mtim.tv_nsec &&
           strcmp(s->path, path) == 0;
}

static int digest_fd(int fd, const char *path, unsigned char *md, bp_err *e)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *buf = malloc(1 << 16);
    int rc = 0;
    if (!ctx || !buf || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        rc = bp_err_set(e, BP_ENOMEM, "%s: cannot start SHA-256", path);
    for (;;) {
        if (rc)
            break;
        ssize_t n = read(fd, buf, 1 << 16);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = bp_err_set(e, BP_EIO, "%s: read failed: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
            rc = bp_err_set(e, BP_EIO, "%s: SHA-256 failed", path);
    }
    unsigned len = 0;
    if (!rc && (EVP_DigestFinal_ex(ctx, md, &len) != 1 || len != 32))
        rc = bp_err_set(e, BP_EIO, "%s: SHA-256 failed", path);
    EVP_MD_CTX_free(ctx);
    free(buf);
    return rc;
}

int bp_sha256_file(const char *path, char hex[BP_SHA256_HEX], bp_err *e)
{
    int fd = bp_input_open(path, BP_EIO, NULL, e);
    if (fd < 0)
        return fd;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return bp_err_set(e, BP_EIO, "%s: %s", path, strerror(err));
    }
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_cache; i++)
        if (same_file(&cache[i], path, &st)) {
            memcpy(hex, cache[i].hex, BP_SHA256_HEX);
            pthread_mutex_unlock(&lock);
            close(fd);
            return 0;
        }
    pthread_mutex_unlock(&lock);
    unsigned char md[32];
    int rc = digest_fd(fd, path, md, e);
    close(fd);
    if (rc)
        return rc;
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    pthread_mutex_lock(&lock);
    n_read++;
    char *p = strdup(path);
    if (p && n_cache == cap_cache) {
        size_t nc = cap_cache ? 2 * cap_cache : 8;
        seen *c = realloc(cache, nc * sizeof *c);
        if (c) {
            cache = c;
            cap_cache = nc;
        }
    }
    if (p && n_cache < cap_cache) {
        seen *s = &cache[n_cache++];
        *s = (seen){ .path = p, .dev = st.st_dev, .ino = st.st_ino, .size = st.st_size,
                     .mtime = st.st_mtim };
        memcpy(s->hex, hex, BP_SHA256_HEX);
    } else {
        free(p); /* not cached: read again next time */
    }
    pthread_mutex_unlock(&lock);
    return 0;
}

unsigned long bp_sha256_files_read(void)
{
    pthread_mutex_lock(&lock);
    unsigned long n = n_read;
    pthread_mutex_unlock(&lock);
    return n;
}
