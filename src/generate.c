#include "autoconf.h"
#include "generate.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALID_GENERATORS                                                                     \
    "valid: builtin:xor, builtin:parity:N (N in 1..20), builtin:encoder:N (N in 2..1024), "  \
    "builtin:spirals"

/* Parses the single argument of "name:N"; arg points after the name. */
static int gen_arg(const char *spec, const char *arg, long lo, long hi, long *out, bp_err *e)
{
    if (*arg != ':' || !arg[1])
        return bp_err_set(e, BP_EDATA, "%s: needs an integer argument N in %ld..%ld (%s)", spec,
                          lo, hi, VALID_GENERATORS);
    char *end;
    errno = 0;
    long v = strtol(arg + 1, &end, 10);
    if (errno || *end || !isdigit((unsigned char)arg[1]) || v < lo || v > hi)
        return bp_err_set(e, BP_EDATA, "%s: N must be an integer in %ld..%ld (got '%s')", spec,
                          lo, hi, arg + 1);
    *out = v;
    return 0;
}

static void gen_parity(bp_dataset *d, size_t bits)
{
    for (size_t i = 0; i < d->n; i++) {
        unsigned ones = 0;
        for (size_t j = 0; j < bits; j++) {
            unsigned b = (unsigned)(i >> (bits - 1 - j)) & 1u;
            d->X[i * bits + j] = (float)b;
            ones += b;
        }
        d->Y[i] = (float)(ones & 1u);
    }
}

static void gen_spirals(bp_dataset *d)
{
    const double pi = 3.14159265358979323846;
    for (size_t i = 0; i < 97; i++) {
        double angle = (double)i * pi / 16.0;
        double r = 6.5 * (double)(104 - i) / 104.0;
        double x = r * sin(angle), y = r * cos(angle);
        d->X[4 * i + 0] = (float)x;
        d->X[4 * i + 1] = (float)y;
        d->Y[2 * i] = 1.0f;
        d->X[4 * i + 2] = (float)-x;
        d->X[4 * i + 3] = (float)-y;
        d->Y[2 * i + 1] = 0.0f;
    }
}

bp_dataset *bp_data_generate(const char *spec, bp_err *e)
{
    if (!spec)
        spec = "";
    const char *s = strncmp(spec, "builtin:", 8) == 0 ? spec + 8 : spec;
    char full[BP_ERR_MSG_MAX];
    snprintf(full, sizeof full, "builtin:%s", s);
    bp_dataset *d = NULL;
    long n;
    if (strncmp(s, "xor", 3) == 0 && (s[3] == '\0' || s[3] == ':')) {
        if (s[3])
            goto no_arg;
        if (!(d = bp_data_new(full, 4, 2, BP_TARGET_MATRIX, 1, e)))
            return NULL;
        gen_parity(d, 2);
    } else if (strncmp(s, "parity", 6) == 0 && (s[6] == '\0' || s[6] == ':')) {
        if (gen_arg(full, s + 6, 1, 20, &n, e) < 0)
            return NULL;
        if (!(d = bp_data_new(full, (size_t)1 << n, (size_t)n, BP_TARGET_MATRIX, 1, e)))
            return NULL;
        gen_parity(d, (size_t)n);
    } else if (strncmp(s, "encoder", 7) == 0 && (s[7] == '\0' || s[7] == ':')) {
        if (gen_arg(full, s + 7, 2, 1024, &n, e) < 0)
            return NULL;
        if (!(d = bp_data_new(full, (size_t)n, (size_t)n, BP_TARGET_MATRIX, (size_t)n, e)))
            return NULL;
        for (size_t i = 0; i < (size_t)n; i++)
            d->X[i * (size_t)n + i] = d->Y[i * (size_t)n + i] = 1.0f;
    } else if (strncmp(s, "spirals", 7) == 0 && (s[7] == '\0' || s[7] == ':')) {
        if (s[7])
            goto no_arg;
        if (!(d = bp_data_new(full, 194, 2, BP_TARGET_MATRIX, 1, e)))
            return NULL;
        gen_spirals(d);
    } else {
        bp_err_set(e, BP_EDATA, "%s: unknown generator (%s)", full, VALID_GENERATORS);
        return NULL;
    }
    return d;
no_arg:
    bp_err_set(e, BP_EDATA, "%s: takes no argument (%s)", full, VALID_GENERATORS);
    return NULL;
}
