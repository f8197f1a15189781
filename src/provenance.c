/* bp_provenance_text: where and with what a run was made. */
#include "autoconf.h"
#include "provenance.h"

#include <hdf5.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>
#include <zlib.h>

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
#endif
    };
    char *text = calloc(1, 1);
    size_t len = 0;
    for (size_t i = 0; text && i < sizeof kv / sizeof kv[0]; i++)
        if (add(&text, &len, kv[i][0], kv[i][1]) < 0) {
            free(text);
            return NULL;
        }
    return text;
}
