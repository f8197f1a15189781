/* cli.h - what bprun's subcommands (cmd_*.c) share of the command line: the entry convention,
 * the options several commands take (-o, --set, --sweep, --threads, --quiet, --force,
 * --plugin-path, --help) read by one getopt loop that hands every other option to the command,
 * the number parsers, and the one printer of a command's error.
 */
#ifndef BP_CLI_H
#define BP_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "plugin.h"
#include "sweep.h"
#include "trial.h"

/* A subcommand's entry: argv[0] is the command's name; bprun's own output goes to out. Returns
 * the exit status (>= 0: everything, --help included, is printed), BP_CLI_USAGE with a
 * command-line mistake in e (printed with a pointer to the command's --help, exit 2), or
 * another negative BP_E* code with e set (printed as "bprun: MESSAGE"). An entry MUST NOT print
 * errors itself, except through bp_cli_fail where it must print before it returns. */
typedef int bp_cmd_fn(int argc, char **argv, FILE *out, bp_err *e);

/* The return of a command-line mistake; below every BP_E* code. */
#define BP_CLI_USAGE (-100)

/* Sets e (code BP_EUSAGE) and returns BP_CLI_USAGE. */
int bp_cli_usage(bp_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the error rc (an entry's negative return) of command cmd (NULL: bprun itself) to
 * standard error and returns the exit status: BP_CLI_USAGE as "bprun CMD: MESSAGE" and
 * "Try 'bprun CMD --help'." (2), anything else as "bprun: MESSAGE" (bp_err_exit_status). */
int bp_cli_fail(const char *cmd, int rc, const bp_err *e);

/* The options several commands share. The strings point into argv. */
typedef struct bp_cli {
    const char *output;          /* -o, --output */
    char **sets;                 /* --set K=V, in order */
    size_t n_sets;
    char **sweeps;               /* --sweep K=V1,V2, in order */
    size_t n_sweeps;
    char **plugin_dirs;          /* --plugin-path DIR, in order */
    size_t n_plugin_dirs;
    int threads;                 /* --threads N; 0: not given */
    int quiet, force;            /* --quiet, --force */
} bp_cli;

/* Frees the arrays (not the strings, which are argv's); c may hold nothing. */
void bp_cli_free(bp_cli *c);

/* One command's command line. */
typedef struct bp_cli_spec {
    const char *cmd;             /* "run": the name in messages */
    const char *usage;           /* printed to out by --help */
    const char *shared;          /* letters of the shared options it takes: o s w t q f P */
    const char *shorts;          /* getopt's option string, starting with ':' */
    const struct option *own;    /* its own long options (n_own of them; their val not one of
                                  * the shared letters nor 'h') */
    size_t n_own;
    /* Takes one of its own options (ch: the option's val; arg: optarg, or NULL). Returns 0, or
     * BP_CLI_USAGE with e set. */
    int (*take)(void *ud, int ch, const char *arg, bp_err *e);
    void *ud;
    int set_unchecked;           /* 1: --set without the check for a space written for '=' */
} bp_cli_spec;

/* Reads the options of argv (getopt_long, from argv[1]; opterr off). Returns the index of the
 * first operand, 0 after printing the usage (--help), or BP_CLI_USAGE with e set. c MUST be
 * zeroed (or hold defaults) and be freed with bp_cli_free whatever is returned. */
int bp_cli_parse(int argc, char **argv, const bp_cli_spec *s, bp_cli *c, FILE *out, bp_err *e);

/* --threads and --jobs: an integer from 1 to 4096. 0, or -1 when s is not one. */
int bp_cli_threads(const char *s, int *out);

/* A count, 0 or more, without a sign. 0, or -1 when s is not one. */
int bp_cli_count(const char *s, uint64_t *out);

/* A decimal integer of at least min (strtol). 0, or -1 when s is not one. */
int bp_cli_long(const char *s, long min, long *out);

/* A finite number (strtod). 0, or -1 when s is not one. */
int bp_cli_number(const char *s, double *out);

/* Trial 0 of the config at path with c's --set overrides (no sweep axes), prepared as run
 * prepares it (data loaded, plugins from c's --plugin-path bound): for the commands that look
 * at one trial (trace, lr-find). 0, or a BP_E* code with e set; the caller frees *sw, *reg and
 * *x (each may be set) whatever is returned. */
int bp_cli_prepare_one(const bp_cli *c, const char *path, bp_sweep **sw, bp_registry **reg,
                       bp_experiment **x, bp_err *e);

/* --threads when given, else OpenMP's default (OMP_NUM_THREADS or all cores). */
int bp_cli_default_threads(int requested);

#endif
