#include "autoconf.h"
#include "rounds.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int bp_rounds_drive(const bp_rounds_ops *ops, const bp_rounds_exec *x, bp_err *e)
{
    for (size_t k = 0;; k++) {
        bp_round r = { 0 };
        int rc = ops->plan(ops->ud, k, &r, e);
        if (rc <= 0)
            return rc;
        if ((rc = x->exec(x->ud, &r, e)) != 0)
            return rc < 0 ? rc : 0;
        if ((rc = ops->decide(ops->ud, k, &r, x->rows, e)) != 0)
            return rc;
    }
}

int bp_round_reached(const bp_trial_summary *row, int until)
{
    const char *s = row->status;
    if (!s)
        return 0;
    if (!strcmp(s, "completed") || !strcmp(s, "diverged") || !strcmp(s, "failed") ||
        !strcmp(s, "pruned") || !strcmp(s, "skipped"))
        return 1;
    return until > 0 && !strcmp(s, "interrupted") && row->epochs >= until;
}

int bp_rounds_wait_files(const char *dir, const bp_round *r, size_t k, bp_trial_summary *rows,
                         void *lock, volatile sig_atomic_t *stop, int quiet, const char *who)
{
    int told = 0;
    for (;;) {
        size_t missing = 0;
        for (size_t i = 0; i < r->n; i++) {
            size_t id = r->ids[i];
            if (bp_round_reached(&rows[id], r->until))
                continue;
            char path[4096];
            struct stat st;
            bp_trial_summary sum;
            bp_err te;
            if ((size_t)snprintf(path, sizeof path, "%s/trials/%04zu.h5", dir, id) >= sizeof path ||
                lstat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
                bp_trial_read_summary(path, &sum, &te) != 0 || !bp_round_reached(&sum, r->until)) {
                missing++;
                continue;
            }
            if (lock)
                pthread_mutex_lock(lock);
            rows[id] = sum;
            if (lock)
                pthread_mutex_unlock(lock);
        }
        if (!missing)
            return 0;
        if (stop && *stop)
            return 1;
        if (!told && !quiet)
            fprintf(stderr, "bprun: %s: round %zu: waiting for %zu trial%s of the other shards\n",
                    who, k + 1, missing, missing == 1 ? "" : "s");
        told = 1;
        struct timespec nap = { 0, 50000000 };
        nanosleep(&nap, NULL);
    }
}
