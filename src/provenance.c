/* bp_provenance_text: where and with what a run was made. */
#include "autoconf.h"
#include "provenance.h"

#include <errno.h>
#include <hdf5.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>
#include <zlib.h>

#include "bp_git.h"
#include "fingerprint.h"
#include "kernels.h"

/* The CPU's model name, read once per process (/proc/cpuinfo is long on a many-core node,
 * and every trial file records it). */
static char cpu_buf[256];
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

static void read_cpu_model(void)
{
    char *buf = cpu_buf;
    size_t n = sizeof cpu_buf;
    snprintf(buf, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0 && strncmp(line, "Hardware", 8) != 0)
            continue;
        char *c = strchr(line, ':');
        if (!c)
            continue;
        for (c++; *c == ' ' || *c == '\t'; c++)
            ;
        c[strcspn(c, "\n")] = '\0';
        snprintf(buf, n, "%s", c);
        break;
    }
    fclose(f);
}

static void cpu_model(char *buf, size_t n)
{
    pthread_once(&cpu_once, read_cpu_model);
    snprintf(buf, n, "%s", cpu_buf);
}

/* Appends "key: value\n" to the growing text; returns -1 when out of memory. */
static int add(char **text, size_t *len, const char *key, const char *value)
{
    size_t k = strlen(key) + strlen(value) + 3;
    char *t = realloc(*text, *len + k + 1);
    if (!t)
        return -1;
    snprintf(t + *len, k + 1, "%s: %s\n", key, value);
    *text = t;
    *len += k;
    return 0;
}

/* The working folder when provenance was first taken (at the start of a run, before any
 * plugin code ran): relative paths of the resolved config are relative to it. */
static char cwd_buf[4096];
static pthread_once_t cwd_once = PTHREAD_ONCE_INIT;

static void take_cwd(void)
{
    if (!getcwd(cwd_buf, sizeof cwd_buf))
        snprintf(cwd_buf, sizeof cwd_buf, "unknown");
}

static const char *start_cwd(void)
{
    pthread_once(&cwd_once, take_cwd);
    return cwd_buf;
}

/* The command line and the inputs, noted before trial files are written, read by the threads
 * that write them. */
typedef struct input {
    const char *kind;          /* "plugin", "data", "changed" */
    char *line;                /* the value of its provenance line */
    char *path;                /* the absolute path of its file; NULL when it has none */
    char sha[BP_SHA256_HEX];
} input;

static pthread_mutex_t in_lock = PTHREAD_MUTEX_INITIALIZER;
static char *command;
static input *inputs;
static size_t n_inputs, cap_inputs;
static int allow_changed;

char *bp_provenance_text(int threads)
{
    char host[256] = "unknown", os[512] = "unknown", cpu[256], cpus[32], hdf5[48], omp[32],
         thr[32], started[32];
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(host, sizeof host, "%s", u.nodename);
        snprintf(os, sizeof os, "%s %s %s", u.sysname, u.release, u.machine);
    }
    cpu_model(cpu, sizeof cpu);
    snprintf(cpus, sizeof cpus, "%ld", sysconf(_SC_NPROCESSORS_ONLN));
    unsigned maj = 0, min = 0, rel = 0;
    H5get_libversion(&maj, &min, &rel);
    snprintf(hdf5, sizeof hdf5, "%u.%u.%u", maj, min, rel);
#ifdef _OPENMP
    snprintf(omp, sizeof omp, "%d", _OPENMP);
#else
    snprintf(omp, sizeof omp, "none");
#endif
    snprintf(thr, sizeof thr, "%d", threads);
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || !strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(started, sizeof started, "unknown");

    const char *kv[][2] = {
        { "bprun", PACKAGE_VERSION },
        { "host", host },
        { "os", os },
        { "cpu", cpu },
        { "cpus", cpus },
        { "compiler", BP_CC_VERSION },
        { "cflags", BP_CONFIGURE_CFLAGS },
        { "hdf5", hdf5 },
        { "libyaml", yaml_get_version_string() },
        { "zlib", zlibVersion() },
        { "openmp", omp },
        { "threads", thr },
        { "kernels", bp_kernels_name() },
        { "started", started },
        { "cwd", start_cwd() },
#ifdef BP_GIT_DESCRIBE
        { "git", BP_GIT_DESCRIBE },
#else
        { "git", "none (release " PACKAGE_VERSION ", built without a git checkout)" },
#endif
    };
    char *text = calloc(1, 1);
    size_t len = 0;
    for (size_t i = 0; text && i < sizeof kv / sizeof kv[0]; i++)
        if (add(&text, &len, kv[i][0], kv[i][1]) < 0) {
            free(text);
            return NULL;
        }
    pthread_mutex_lock(&in_lock);
    if (text && add(&text, &len, "command", command ? command : "unknown") < 0) {
        free(text);
        text = NULL;
    }
    for (size_t i = 0; text && i < n_inputs; i++)
        if (add(&text, &len, inputs[i].kind, inputs[i].line) < 0) {
            free(text);
            text = NULL;
        }
    pthread_mutex_unlock(&in_lock);
    return text;
}

/* ---- the command line and the inputs ---------------------------------------------------- */

char *bp_provenance_quote(const char *arg)
{
    static const char safe[] = "_@%+=:,./-";
    size_t n = strlen(arg), q = 0;
    int plain = n > 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)arg[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr(safe, c)))
            plain = 0;
        q += c == '\'' ? 4 : 1;
    }
    if (plain)
        return strdup(arg);
    char *out = malloc(q + 3), *o = out;
    if (!out)
        return NULL;
    *o++ = '\'';
    for (size_t i = 0; i < n; i++)
        if (arg[i] == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = arg[i];
        }
    *o++ = '\'';
    *o = '\0';
    return out;
}

int bp_provenance_set_command(int argc, char *const *argv)
{
    char *line = calloc(1, 1);
    size_t len = 0;
    for (int i = 0; line && i < argc; i++) {
        char *q = bp_provenance_quote(argv[i]);
        char *l = q ? realloc(line, len + strlen(q) + 2) : NULL;
        if (!l) {
            free(q);
            free(line);
            return BP_ENOMEM;
        }
        line = l;
        len += (size_t)snprintf(line + len, strlen(q) + 2, "%s%s", i ? " " : "", q);
        free(q);
    }
    if (!line)
        return BP_ENOMEM;
    pthread_mutex_lock(&in_lock);
    free(command);
    command = line;
    pthread_mutex_unlock(&in_lock);
    return 0;
}

/* Appends an input line (kind "plugin", "data" or "changed"); path is the absolute path of a
 * file (NULL for an input without one). Once per kind and line. Call with in_lock held. */
static int add_input(const char *kind, const char *path, const char *sha, const char *line)
{
    for (size_t i = 0; i < n_inputs; i++)
        if (!strcmp(inputs[i].kind, kind) && !strcmp(inputs[i].line, line))
            return 0;
    if (n_inputs == cap_inputs) {
        size_t nc = cap_inputs ? 2 * cap_inputs : 8;
        input *ni = realloc(inputs, nc * sizeof *ni);
        if (!ni)
            return BP_ENOMEM;
        inputs = ni;
        cap_inputs = nc;
    }
    input in = { .kind = kind, .line = strdup(line), .path = path ? strdup(path) : NULL };
    if (sha)
        snprintf(in.sha, sizeof in.sha, "%s", sha);
    if (!in.line || (path && !in.path)) {
        free(in.line);
        free(in.path);
        return BP_ENOMEM;
    }
    inputs[n_inputs++] = in;
    return 0;
}

static int add_file(const char *kind, const char *path, bp_err *e)
{
    /* a plugin bound again for the next trial of a sweep: noted already (its path is the
     * registry's resolved one), no realpath or stat per trial */
    int known = 0;
    pthread_mutex_lock(&in_lock);
    for (size_t i = 0; i < n_inputs && !known; i++)
        known = inputs[i].path && !strcmp(inputs[i].kind, kind) && !strcmp(inputs[i].path, path);
    pthread_mutex_unlock(&in_lock);
    if (known)
        return 0;
    char *real = realpath(path, NULL);
    if (!real)
        return bp_err_set(e, BP_EIO, "%s: %s", path, strerror(errno));
    char sha[BP_SHA256_HEX];
    int rc = strchr(real, '\n') ? bp_err_set(e, BP_EUSAGE, "%s: a file name with a line break "
                                              "cannot be recorded in the provenance; rename it",
                                              real)
                                 : bp_sha256_file(real, sha, e);
    char *line = rc ? NULL : malloc(strlen(real) + BP_SHA256_HEX + 1);
    if (!rc && !line)
        rc = bp_err_set(e, BP_ENOMEM, "out of memory");
    if (!rc) {
        snprintf(line, strlen(real) + BP_SHA256_HEX + 1, "%s %s", sha, real);
        pthread_mutex_lock(&in_lock);
        if (add_input(kind, real, sha, line))
            rc = bp_err_set(e, BP_ENOMEM, "out of memory");
        pthread_mutex_unlock(&in_lock);
    }
    free(line);
    free(real);
    return rc;
}

int bp_provenance_add_plugin(const char *path, bp_err *e)
{
    return add_file("plugin", path, e);
}

int bp_provenance_add_data(const char *ref, bp_err *e)
{
    if (!strncmp(ref, "builtin:", 8)) {
        pthread_mutex_lock(&in_lock);
        int rc = add_input("data", NULL, NULL, ref);
        pthread_mutex_unlock(&in_lock);
        return rc ? bp_err_set(e, BP_ENOMEM, "out of memory") : 0;
    }
    const char *hash = strchr(ref, '#');
    char *file = hash ? strndup(ref, (size_t)(hash - ref)) : strdup(ref);
    if (!file)
        return bp_err_set(e, BP_ENOMEM, "out of memory");
    int rc = add_file("data", file, e);
    free(file);
    return rc;
}

void bp_provenance_allow_changed(int allow)
{
    pthread_mutex_lock(&in_lock);
    allow_changed = allow;
    pthread_mutex_unlock(&in_lock);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The recorded SHA-256 (hex, 64 digits) of the input of this kind at path, else of one of
 * this kind with path's file name; NULL when old records neither. */
static const char *recorded(const char *old, const char *kind, const char *path, char *sha)
{
    size_t kl = strlen(kind);
    const char *by_name = NULL;
    for (const char *l = old; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        size_t len = strcspn(l, "\n");
        if (len < kl + 2 + 65 || strncmp(l, kind, kl) || strncmp(l + kl, ": ", 2) ||
            l[kl + 2 + 64] != ' ' || strspn(l + kl + 2, "0123456789abcdef") != 64)
            continue;
        const char *p = l + kl + 2 + 65;
        size_t pl = len - (kl + 2 + 65);
        if (pl == strlen(path) && !memcmp(p, path, pl)) {
            memcpy(sha, l + kl + 2, 64);
            sha[64] = '\0';
            return sha;
        }
        const char *bn = base_name(path);
        if (!by_name && pl >= strlen(bn) && !memcmp(p + pl - strlen(bn), bn, strlen(bn)) &&
            (pl == strlen(bn) || p[pl - strlen(bn) - 1] == '/'))
            by_name = l + kl + 2;
    }
    if (!by_name)
        return NULL;
    memcpy(sha, by_name, 64);
    sha[64] = '\0';
    return sha;
}

int bp_provenance_check(const char *old, const char *where, bp_err *e)
{
    int rc = 0;
    pthread_mutex_lock(&in_lock);
    size_t n = n_inputs;
    for (size_t i = 0; !rc && old && i < n; i++) {
        const input *in = &inputs[i];
        char sha[BP_SHA256_HEX];
        if (!in->path || strcmp(in->kind, "changed") == 0 ||
            !recorded(old, in->kind, in->path, sha) || strcmp(sha, in->sha) == 0)
            continue;
        if (!allow_changed) {
            rc = bp_err_set(e, BP_EEXIST, "%s: changed since %s recorded it (sha256 %.16s..., "
                            "now %.16s...); rebuild or restore it, or use --allow-changed to go "
                            "on and record the change", in->path, where, sha, in->sha);
            break;
        }
        size_t ll = strlen(in->path) + 2 * 64 + 8;
        char *line = malloc(ll);
        if (!line) {
            rc = bp_err_set(e, BP_ENOMEM, "out of memory");
            break;
        }
        snprintf(line, ll, "%s %s -> %s", in->path, sha, in->sha);
        if (add_input("changed", NULL, NULL, line))
            rc = bp_err_set(e, BP_ENOMEM, "out of memory");
        free(line); /* add_input may have moved inputs: in is not used after it */
    }
    pthread_mutex_unlock(&in_lock);
    return rc;
}
