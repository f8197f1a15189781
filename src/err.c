#include "autoconf.h"
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void bp_err_clear(bp_err *e)
{
    if (!e)
        return;
    e->code = BP_OK;
    e->msg[0] = '\0';
}

void bp_text_oneline(char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
}

int bp_err_set(bp_err *e, int code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
        bp_text_oneline(e->msg);
        e->code = code;
    }
    return code;
}

int bp_err_prefix(bp_err *e, const char *fmt, ...)
{
    if (!e)
        return BP_ERUN;
    char pre[BP_ERR_MSG_MAX], old[BP_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    /* both parts may be long: the message is cut at BP_ERR_MSG_MAX - 1 */
    size_t n = strlen(pre);
    n = n < sizeof e->msg - 1 ? n : sizeof e->msg - 1;
    memcpy(e->msg, pre, n);
    e->msg[n] = '\0';
    strncat(e->msg, ": ", sizeof e->msg - 1 - n);
    strncat(e->msg, old, sizeof e->msg - 1 - strlen(e->msg));
    bp_text_oneline(e->msg);
    return e->code;
}

int bp_err_exit_status(int code)
{
    switch (code) {
    case BP_OK:
        return 0;
    case BP_EUSAGE:
    case BP_ECONFIG:
    case BP_EDATA:
    case BP_EPLUGIN:
    case BP_EEXIST:
        return 2;
    default:
        return 1;
    }
}

const char *bp_err_name(int code)
{
    switch (code) {
    case BP_OK: return "ok";
    case BP_EUSAGE: return "usage error";
    case BP_ECONFIG: return "config error";
    case BP_EDATA: return "data error";
    case BP_EPLUGIN: return "plugin error";
    case BP_EIO: return "I/O error";
    case BP_ENOMEM: return "out of memory";
    case BP_ERUN: return "run-time error";
    case BP_EEXIST: return "output exists";
    default: return "error";
    }
}

void *bp_xcalloc(size_t n, size_t size, bp_err *e)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        bp_err_set(e, BP_ENOMEM, "out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

char *bp_xstrdup(const char *s, bp_err *e)
{
    char *p = strdup(s ? s : "");
    if (!p)
        bp_err_set(e, BP_ENOMEM, "out of memory");
    return p;
}

double bp_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double bp_seconds_coarse(void)
{
#ifdef CLOCK_MONOTONIC_COARSE
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0)
        return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
#endif
    return bp_seconds();
}
