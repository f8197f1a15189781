#include "autoconf.h"
#include "guard.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_GUARDED 256

static volatile int armed, fail_status = 1, trial_fd = -1;
static const char *phase = "";
static char *plugins[MAX_GUARDED];
static size_t n_plugins;
static char *loading;
static const char *loading_phase = "";
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long page_size;

FILE *bp_guard_stdout(void)
{
    int fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) { /* standard output is closed: bprun's output is lost, as it would be */
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        fd = null >= 0 ? fcntl(null, F_DUPFD_CLOEXEC, 3) : -1;
        if (null >= 0)
            close(null);
    }
    if (fd < 0)
        return stdout;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return stdout;
    }
    /* fd 1 must stay open (a file opened later would get it, and a plugin's printf would
     * write into that file): stderr, or /dev/null when stderr is closed */
    int to = fcntl(STDERR_FILENO, F_GETFD) >= 0 ? STDERR_FILENO : open("/dev/null", O_WRONLY);
    if (to < 0 || dup2(to, STDOUT_FILENO) < 0) {
        if (to > STDERR_FILENO)
            close(to);
        fclose(f);
        return stdout;
    }
    if (to != STDERR_FILENO)
        close(to);
    return f;
}

size_t bp_guard_vsize(void)
{
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[64];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    size_t pages = 0;
    for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
        pages = pages * 10 + (size_t)(buf[i] - '0');
    return pages * (size_t)(page_size > 0 ? page_size : 4096);
}

const char *bp_guard_culprit(void)
{
    if (loading)
        return loading;
    void *frames[64];
    int n = backtrace(frames, 64);
    for (int i = 0; i < n; i++) {
        Dl_info di;
        if (!dladdr(frames[i], &di) || !di.dli_fname)
            continue;
        for (size_t k = 0; k < n_plugins; k++)
            if (!strcmp(di.dli_fname, plugins[k]))
                return plugins[k];
    }
    return NULL;
}

static void on_exit_guard(int status, void *arg)
{
    (void)arg;
    if (!armed)
        return; /* main returned */
    armed = 0;
    const char *who = bp_guard_culprit();
    char line[4200];
    if (trial_fd >= 0) {
        int n = snprintf(line, sizeof line, "V %zu\nX %d %s\n", bp_guard_vsize(), status,
                         who ? who : "");
        if (n > 0 && write(trial_fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1) < 0)
            status = status ? status : 1;
        _exit(status);
    }
    const char *ph = loading ? loading_phase : phase;
    if (who)
        snprintf(line, sizeof line, "bprun: plugin %s called exit(%d)%s%s; bprun stops with a "
                 "failure (plugins must not exit)\n", who, status, *ph ? " " : "", ph);
    else if (status == 0)
        snprintf(line, sizeof line, "bprun: exit(0) called by code outside bprun%s%s (a plugin's "
                 "library?); bprun stops with a failure\n", *ph ? " " : "", ph);
    else
        return; /* a library ending the process with a failing status: its own message stands */
    if (write(STDERR_FILENO, line, strlen(line)) < 0)
        status = 1;
    _exit(loading ? 2 : fail_status);
}

static const int fatal_sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS };
static struct sigaction fatal_old[sizeof fatal_sigs / sizeof fatal_sigs[0]];

/* A crash in bprun's own process: name the plugin it happened in, then let the signal do what
 * it did before (the default, or a sanitizer's report). backtrace, dladdr and snprintf are not
 * async-signal-safe on paper; the process is dying, and backtrace was warmed up. */
static void on_fatal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    size_t k = 0;
    while (k + 1 < sizeof fatal_sigs / sizeof fatal_sigs[0] && fatal_sigs[k] != sig)
        k++;
    const char *who = armed && trial_fd < 0 ? bp_guard_culprit() : NULL;
    if (who) {
        const char *ph = loading ? loading_phase : phase;
        char line[4400];
        int n = snprintf(line, sizeof line, "bprun: plugin %s crashed: signal %d (%s)%s%s%s\n",
                         who, sig, strsignal(sig), *ph ? " " : "", ph,
                         loading ? "" : "; bprun dies with it (with --isolate only its trial "
                                        "would fail)");
        if (n > 0 && write(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1) < 0)
            n = 0;
    }
    sigaction(sig, &fatal_old[k], NULL);
    /* a fault comes back when the instruction runs again; a sent signal (abort) is sent again */
    if (!si || si->si_code <= 0)
        raise(sig);
}

void bp_guard_crashes(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fatal;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    for (size_t k = 0; k < sizeof fatal_sigs / sizeof fatal_sigs[0]; k++)
        sigaction(fatal_sigs[k], &sa, &fatal_old[k]);
}

void bp_guard_arm(int status)
{
    static int registered;
    if (!registered) {
        void *warm[2];
        backtrace(warm, 2); /* loads libgcc now, not in a handler */
        page_size = sysconf(_SC_PAGESIZE);
        if (on_exit(on_exit_guard, NULL) != 0)
            return;
        registered = 1;
    }
    fail_status = status;
    armed = 1;
}

void bp_guard_disarm(void)
{
    armed = 0;
}

void bp_guard_phase(const char *ph)
{
    phase = ph ? ph : "";
}

void bp_guard_loading(const char *path, const char *ph)
{
    pthread_mutex_lock(&mu);
    char *old = loading;
    loading = NULL;
    free(old);
    if (path)
        loading = strdup(path);
    loading_phase = ph ? ph : "";
    pthread_mutex_unlock(&mu);
}

void bp_guard_plugin(const char *path)
{
    pthread_mutex_lock(&mu);
    size_t k = 0;
    while (k < n_plugins && strcmp(plugins[k], path))
        k++;
    if (k == n_plugins && n_plugins < MAX_GUARDED) {
        char *p = strdup(path);
        if (p)
            plugins[n_plugins++] = p;
    }
    pthread_mutex_unlock(&mu);
}

void bp_guard_trial(int fd)
{
    trial_fd = fd;
}
