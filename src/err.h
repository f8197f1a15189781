/* err.h - one status convention for all of bprun.
 *
 * Every fallible function returns 0 on success or a negative BP_E* code, and fills a
 * caller-owned bp_err with a one-line message naming the place (file:line:col: key.path: ...)
 * or the object (file#group/dataset, plugin path). Only main prints and exits (through
 * bp_cli_fail, cli.h; `bprun run` prints its own before MPI's closing barrier).
 * Codes decide the exit status: usage, config, data and plugin errors exit 2; run-time
 * failures (I/O, memory, a failed trial) exit 1.
 */
#ifndef BP_ERR_H
#define BP_ERR_H

#include <stddef.h>

enum bp_status {
    BP_OK = 0,
    BP_EUSAGE = -1,   /* bad command line */
    BP_ECONFIG = -2,  /* invalid experiment config */
    BP_EDATA = -3,    /* missing or invalid dataset */
    BP_EPLUGIN = -4,  /* plugin cannot be found or is broken */
    BP_EIO = -5,      /* run-time file system or HDF5 failure */
    BP_ENOMEM = -6,   /* allocation failure */
    BP_ERUN = -7,     /* run-time failure (trial failed, diverged, interrupted) */
    BP_EEXIST = -8,   /* output exists and would be overwritten */
};

#define BP_ERR_MSG_MAX 1024

typedef struct bp_err {
    int code;                    /* last BP_E* set, or BP_OK */
    char msg[BP_ERR_MSG_MAX];    /* one line, no trailing newline */
} bp_err;

/* The plural ending of a count's noun: "" for 1, "s" otherwise ("%zu trial%s", n, bp_s(n)). */
static inline const char *bp_s(unsigned long long n)
{
    return n == 1 ? "" : "s";
}

/* Clears e (e may be NULL). */
void bp_err_clear(bp_err *e);

/* Formats the message into e (if e is non-NULL) and returns code, so callers can write
 * `return bp_err_set(e, BP_ECONFIG, "...")`. The message is truncated to BP_ERR_MSG_MAX-1. */
int bp_err_set(bp_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Replaces every control character of s (bytes below 0x20, and 0x7f) with a space, so that
 * text from elsewhere (a plugin's message, a file name, an attribute read back) cannot split a
 * one-line message. bp_err_set and bp_err_prefix apply it to every message. */
void bp_text_oneline(char *s);

/* Prefixes e->msg with "prefix: " (keeps the code); returns e->code. */
int bp_err_prefix(bp_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The process exit status for a code: 0, 1 (run-time) or 2 (usage/config/data/plugin). */
int bp_err_exit_status(int code);

/* A short name of the code ("config error", "I/O error", ...). */
const char *bp_err_name(int code);

/* Checked allocation helpers: return NULL and set BP_ENOMEM in e on failure. */
void *bp_xcalloc(size_t n, size_t size, bp_err *e);
char *bp_xstrdup(const char *s, bp_err *e);

/* Seconds on CLOCK_MONOTONIC, for durations. bp_seconds_coarse reads CLOCK_MONOTONIC_COARSE
 * where there is one (a few ms resolution, a memory read instead of a clock read: for checks
 * made every epoch, such as the flush policy and the per-epoch lines). */
double bp_seconds(void);
double bp_seconds_coarse(void);

#endif
