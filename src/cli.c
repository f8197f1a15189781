/* cli.c - the command line every subcommand shares (cli.h) */
#include "autoconf.h"
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int bp_cli_usage(bp_err *e, const char *fmt, ...)
{
    char m[BP_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    bp_err_set(e, BP_EUSAGE, "%s", m);
    return BP_CLI_USAGE;
}

int bp_cli_fail(const char *cmd, int rc, const bp_err *e)
{
    if (rc != BP_CLI_USAGE) {
        fprintf(stderr, "bprun: %s\n", e->msg);
        return bp_err_exit_status(e->code);
    }
    fprintf(stderr, "bprun%s%s: %s\nTry 'bprun %s%s--help'.\n", cmd ? " " : "", cmd ? cmd : "",
            e->msg, cmd ? cmd : "", cmd ? " " : "");
    return 2;
}

void bp_cli_free(bp_cli *c)
{
    free(c->sweeps);
    free(c->sets);
    free(c->plugin_dirs);
}

static int push(char ***v, size_t *n, char *s, bp_err *e)
{
    char **p = realloc(*v, (*n + 1) * sizeof *p);
    if (!p)
        return bp_cli_usage(e, "%s", "out of memory");
    p[(*n)++] = s;
    *v = p;
    return 0;
}

int bp_cli_threads(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < 1 || v > 4096)
        return -1;
    *out = (int)v;
    return 0;
}

int bp_cli_count(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (s[0] == '-' || s[0] == '+')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || end == s)
        return -1;
    *out = v;
    return 0;
}

int bp_cli_long(const char *s, long min, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < min)
        return -1;
    *out = v;
    return 0;
}

int bp_cli_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int bp_cli_prepare_one(const bp_cli *c, const char *path, bp_sweep **sw, bp_registry **reg,
                       bp_experiment **x, bp_err *e)
{
    if (!(*sw = bp_sweep_load(path, c->sets, c->n_sets, NULL, 0, e)) ||
        !(*reg = bp_registry_new(c->plugin_dirs, c->n_plugin_dirs, e)))
        return e->code;
    return bp_experiment_prepare((*sw)->trials[0].cfg, *reg, x, e);
}

int bp_cli_default_threads(int requested)
{
    return requested > 0 ? requested : omp_get_max_threads();
}

/* --set/--sweep KEY VALUE (a space for '='): the value would be taken for the CONFIG file, so
 * say what happened; BP_CLI_USAGE then, 0 when the option looks fine (a value without '=' and
 * nothing after it is left to the override's own message). */
static int spaced_value(const char *opt, const char *form, const char *val, int argc,
                        char **argv, bp_err *e)
{
    if (strchr(val, '=') || optind >= argc || argv[optind][0] == '-')
        return 0;
    size_t nl = strlen(argv[optind]);   /* the next word is the CONFIG: no space mistake */
    if ((nl > 5 && !strcmp(argv[optind] + nl - 5, ".yaml")) ||
        (nl > 4 && !strcmp(argv[optind] + nl - 4, ".yml")))
        return 0;
    char m[600];
    snprintf(m, sizeof m, "%s: expected %s (got '%.200s'); did you write a space instead of "
             "'=' (%s %.200s=%.100s)?", opt, form, val, opt, val, argv[optind]);
    return bp_cli_usage(e, "%s", m);
}

static const struct option shared_opts[] = {
    { "output", required_argument, NULL, 'o' }, { "set", required_argument, NULL, 's' },
    { "threads", required_argument, NULL, 't' }, { "quiet", no_argument, NULL, 'q' },
    { "force", no_argument, NULL, 'f' }, { "plugin-path", required_argument, NULL, 'P' },
    { "sweep", required_argument, NULL, 'w' }, { "help", no_argument, NULL, 'h' }
};
#define N_SHARED (sizeof shared_opts / sizeof shared_opts[0])

static int shared(const bp_cli_spec *s, int ch, int argc, char **argv, bp_cli *c, bp_err *e)
{
    switch (ch) {
    case 'o':
        c->output = optarg;
        return 0;
    case 's':
        if (!s->set_unchecked && spaced_value("--set", "KEY.PATH=VALUE", optarg, argc, argv, e))
            return BP_CLI_USAGE;
        return push(&c->sets, &c->n_sets, optarg, e);
    case 'w':
        if (spaced_value("--sweep", "KEY.PATH=V1,V2,...", optarg, argc, argv, e))
            return BP_CLI_USAGE;
        return push(&c->sweeps, &c->n_sweeps, optarg, e);
    case 't':
        if (bp_cli_threads(optarg, &c->threads))
            return bp_cli_usage(e, "--threads: expected an integer from 1 to 4096 (got '%s')",
                                optarg);
        return 0;
    case 'q':
        c->quiet = 1;
        return 0;
    case 'f':
        c->force = 1;
        return 0;
    case 'P':
        return push(&c->plugin_dirs, &c->n_plugin_dirs, optarg, e);
    }
    return bp_cli_usage(e, "unknown option '%s'", argv[optind - 1]);
}

int bp_cli_parse(int argc, char **argv, const bp_cli_spec *s, bp_cli *c, FILE *out, bp_err *e)
{
    struct option opts[N_SHARED + 32];
    size_t no = 0;
    if (s->n_own > 32 - 1)
        return bp_cli_usage(e, "%s", "too many options");
    for (size_t k = 0; k < N_SHARED; k++)
        if (shared_opts[k].val == 'h' || strchr(s->shared, shared_opts[k].val))
            opts[no++] = shared_opts[k];
    for (size_t k = 0; k < s->n_own; k++)
        opts[no++] = s->own[k];
    memset(&opts[no], 0, sizeof opts[no]);
    int ch, rc;
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, s->shorts, opts, NULL)) != -1) {
        if (ch == 'h') {
            fputs(s->usage, out);
            return 0;
        }
        if (ch == ':')
            return bp_cli_usage(e, "option '%s' needs a value", argv[optind - 1]);
        if (ch == '?')
            return bp_cli_usage(e, "unknown option '%s'", argv[optind - 1]);
        if (strchr(s->shared, ch))
            rc = shared(s, ch, argc, argv, c, e);
        else if (s->take)
            rc = s->take(s->ud, ch, optarg, e);
        else
            rc = bp_cli_usage(e, "unknown option '%s'", argv[optind - 1]);
        if (rc)
            return rc;
    }
    return optind;
}
